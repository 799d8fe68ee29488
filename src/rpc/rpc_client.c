/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The connection: one reader thread per socket frames answers and hands each to the caller
 * waiting for its id; callers write their requests under a write lock and sleep on their own
 * condition variable. Ids are never reused, so an answer that arrives after its caller gave up
 * finds nobody and is dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "rpc/rpc_internal.h"

/* How often a missing or refusing socket is retried while SPDK (re)starts. */
#define CONNECT_RETRY_MS 50
/* A pause in the answer stream this long makes the reader look for a complete answer. */
#define IDLE_MS 2

struct rpc_pending {
	uint64_t id;
	struct rpc_conn *conn;
	pthread_cond_t cond;
	bool done;
	int status;	/* 0 or negative errno when the connection failed */
	json_t *answer; /* the whole answer object when status == 0 */
	char why[160];	/* reason when status != 0 */
	struct rpc_pending *next;
};

struct rpc_conn {
	int fd;
	int refs;  /* client + reader + callers writing; under client->lock */
	bool dead; /* the reader stopped; no new calls on this connection */
	pthread_t reader;
	pthread_mutex_t write_lock;
	struct rpc_client *client;
};

struct rpc_client {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	size_t max_answer;
	int timeout_ms;
	pthread_mutex_t lock;
	pthread_cond_t changed; /* connecting finished */
	struct rpc_conn *conn;	/* current connection or NULL */
	bool connecting;
	bool manual_reconnect; /* a lost connection stays lost until rpc_client_reconnect */
	uint64_t next_id;
	uint64_t generation;
	struct rpc_pending *pending;
	int closed_fd; /* eventfd, readable once a connection ended; -1 if none */
};

static rpc_capture_fn capture_fn;
static void *capture_arg;
static rpc_observe_fn observe_fn;
static void *observe_arg;

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void rpc_observe_set(rpc_observe_fn fn, void *arg)
{
	observe_fn = fn;
	observe_arg = arg;
}

void rpc_capture_set(rpc_capture_fn fn, void *arg)
{
	capture_fn = fn;
	capture_arg = arg;
}

int rpc_error_set(struct rpc_error *err, int e, const char *method, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return e;
	err->err = e;
	err->code = 0;
	snprintf(err->method, sizeof(err->method), "%s", method ? method : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return e;
}

int rpc_error_from_code(int code)
{
	switch (code) {
	case -32600: /* invalid request */
	case -32602: /* invalid params */
	case -32603: /* internal error: SPDK's decode failures */
		return -EINVAL;
	case -32601:
		return -ENOSYS;
	case -32700:
		return -EBADMSG;
	default:
		break;
	}
	if (code < 0 && code > -4096)
		return code;
	if (code > 0 && code < 4096)
		return -code;
	return -EIO;
}

const char *rpc_error_str(const struct rpc_error *err, char *buf, size_t size)
{
	if (err->code)
		snprintf(buf, size, "%s: %s (SPDK code %d)", err->method, err->message, err->code);
	else
		snprintf(buf, size, "%s: %s", err->method, err->message);
	return buf;
}

static void cond_init_monotonic(pthread_cond_t *c)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
}

static void deadline_ts(uint64_t deadline_ms, struct timespec *ts)
{
	ts->tv_sec = (time_t)(deadline_ms / 1000);
	ts->tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
}

static uint64_t deadline_of(int timeout_ms)
{
	return util_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
}

/* ---- the reader ---- */

static void conn_unref_locked(struct rpc_conn *conn, int n)
{
	conn->refs -= n;
	if (conn->refs > 0)
		return;
	close(conn->fd);
	pthread_mutex_destroy(&conn->write_lock);
	free(conn);
}

/* Under client->lock: fail every call waiting on conn and mark it dead. */
static void conn_fail_locked(struct rpc_conn *conn, int status, const char *why)
{
	struct rpc_client *c = conn->client;
	struct rpc_pending *p;

	conn->dead = true;
	if (c->closed_fd >= 0) {
		uint64_t one = 1;
		/* a full counter is still readable: nothing to do if the write fails */
		if (write(c->closed_fd, &one, sizeof(one)) < 0)
			log_debug("rpc: close notice for %s: %s", c->path, strerror(errno));
	}
	for (p = c->pending; p; p = p->next) {
		if (p->conn != conn || p->done)
			continue;
		p->done = true;
		p->status = status;
		snprintf(p->why, sizeof(p->why), "%s", why);
		pthread_cond_signal(&p->cond);
	}
}

static void conn_deliver(struct rpc_conn *conn, json_t *answer)
{
	struct rpc_client *c = conn->client;
	json_t *jid = json_object_get(answer, "id");
	struct rpc_pending *p;
	uint64_t id;

	if (!json_is_integer(jid) || json_integer_value(jid) < 0) {
		log_debug("rpc: dropping an answer without a usable id");
		json_decref(answer);
		return;
	}
	id = (uint64_t)json_integer_value(jid);
	pthread_mutex_lock(&c->lock);
	for (p = c->pending; p; p = p->next)
		if (p->id == id && p->conn == conn && !p->done)
			break;
	if (p) {
		p->done = true;
		p->status = 0;
		p->answer = answer;
		pthread_cond_signal(&p->cond);
		answer = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	if (answer) {
		log_debug("rpc: dropping an answer with id %llu: nobody waits for it",
			  (unsigned long long)id);
		json_decref(answer);
	}
}

/* Nothing more to read for IDLE_MS: the sender paused, maybe at the end of an answer. */
static bool socket_idle(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, IDLE_MS) == 0;
}

static void *conn_reader(void *arg)
{
	struct rpc_conn *conn = arg;
	struct rpc_client *c = conn->client;
	struct rpc_frame frame;
	char why[160] = "connection closed by SPDK";
	int status = -ECONNRESET;
	char buf[65536];

	rpc_frame_init(&frame, c->max_answer);
	for (;;) {
		ssize_t n = recv(conn->fd, buf, sizeof(buf), 0);
		json_t *v;
		int r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			/*
			 * SPDK may answer and close at once (an exit, a restart): what it sent
			 * is complete answers waiting only for the end of the stream. Deliver
			 * them before failing the calls that are left.
			 */
			while ((r = rpc_frame_next(&frame, true, &v, why, sizeof(why))) == 1)
				conn_deliver(conn, v);
			if (r == 0 && rpc_frame_partial(&frame))
				snprintf(why, sizeof(why), "SPDK closed the connection mid-answer");
			else if (r == 0)
				snprintf(why, sizeof(why), "connection closed by SPDK");
			break;
		}
		if (n < 0) {
			status = -errno;
			snprintf(why, sizeof(why), "receive failed: %s", strerror(errno));
			break;
		}
		if (rpc_frame_push(&frame, buf, (size_t)n) < 0) {
			status = -ENOMEM;
			snprintf(why, sizeof(why), "out of memory buffering an answer");
			break;
		}
		while ((r = rpc_frame_next(&frame, false, &v, why, sizeof(why))) == 1)
			conn_deliver(conn, v);
		if (r == 0 && rpc_frame_partial(&frame) && socket_idle(conn->fd)) {
			while ((r = rpc_frame_next(&frame, true, &v, why, sizeof(why))) == 1)
				conn_deliver(conn, v);
		}
		if (r < 0) {
			status = r;
			break;
		}
	}
	rpc_frame_fini(&frame);
	/* Make writers fail fast instead of filling a socket nobody reads. */
	shutdown(conn->fd, SHUT_RDWR);
	log_debug("rpc: connection to %s ended: %s", c->path, why);
	pthread_mutex_lock(&c->lock);
	conn_fail_locked(conn, status, why);
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* ---- connecting ---- */

static int connect_once(const char *path, int *fd_out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, r;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	memcpy(sa.sun_path, path, strlen(path));
	/*
	 * Non-blocking, so that a listener with a full backlog gives EAGAIN (retried until the
	 * deadline) instead of blocking past it; a Unix connect otherwise completes at once.
	 */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	do {
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	} while (r < 0 && errno == EINTR);
	if (r == 0)
		r = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (r < 0) {
		r = errno == EWOULDBLOCK ? -EAGAIN : -errno;
		close(fd);
		return r;
	}
	*fd_out = fd;
	return 0;
}

static const char *connect_reason(int e)
{
	switch (e) {
	case -ENOENT:
		return "no such file (is SPDK running?)";
	case -ENOTSOCK:
		return "not a socket";
	case -EACCES:
	case -EPERM:
		return "permission denied";
	case -ECONNREFUSED:
		return "connection refused (nobody listens; SPDK stopped?)";
	case -EAGAIN:
		return "the listen backlog stayed full (SPDK not accepting connections)";
	default:
		return strerror(-e);
	}
}

/* Try to connect until deadline; retries only what goes away when SPDK finishes starting. */
static int connect_until(struct rpc_client *c, uint64_t deadline, int *fd, struct rpc_error *err)
{
	int r;

	for (;;) {
		r = connect_once(c->path, fd);
		if (r == 0)
			return 0;
		if (r != -ENOENT && r != -ECONNREFUSED && r != -EAGAIN)
			break;
		if (util_now_ms() + CONNECT_RETRY_MS > deadline)
			break;
		util_sleep_ms(CONNECT_RETRY_MS);
	}
	return rpc_error_set(err, r, "connect", "cannot connect to SPDK socket %s: %s", c->path,
			     connect_reason(r));
}

static struct rpc_conn *conn_start(struct rpc_client *c, int fd)
{
	struct rpc_conn *conn = calloc(1, sizeof(*conn));

	if (!conn)
		return NULL;
	conn->fd = fd;
	conn->refs = 2; /* the client's and the reader's */
	conn->client = c;
	pthread_mutex_init(&conn->write_lock, NULL);
	if (pthread_create(&conn->reader, NULL, conn_reader, conn) != 0) {
		pthread_mutex_destroy(&conn->write_lock);
		free(conn);
		return NULL;
	}
	return conn;
}

/* Stop a connection's reader and drop the client's and the reader's references. */
static void conn_retire(struct rpc_client *c, struct rpc_conn *conn)
{
	shutdown(conn->fd, SHUT_RDWR);
	pthread_join(conn->reader, NULL);
	pthread_mutex_lock(&c->lock);
	conn_unref_locked(conn, 2); /* the reader's and the client's */
	pthread_mutex_unlock(&c->lock);
}

/*
 * Under c->lock (released while connecting): make sure c->conn is alive; with force, replace it
 * even if it is. Returns 0 or a negative errno (err filled).
 */
static int client_ensure_locked(struct rpc_client *c, bool force, uint64_t deadline,
				struct rpc_error *err)
{
	struct rpc_conn *old, *conn;
	struct timespec ts;
	int fd = -1, r;

	for (;;) {
		if (c->connecting) {
			deadline_ts(deadline, &ts);
			if (pthread_cond_timedwait(&c->changed, &c->lock, &ts) == ETIMEDOUT)
				return rpc_error_set(err, -ETIMEDOUT, "connect",
						     "timed out waiting for the reconnect to %s",
						     c->path);
			continue;
		}
		if (c->conn && !c->conn->dead && !force)
			return 0;
		if (!force && c->manual_reconnect && c->generation > 0)
			return rpc_error_set(err, -ECONNRESET, "connect",
					     "the connection to SPDK at %s was lost (SPDK stopped "
					     "or restarted); not reconnecting by itself",
					     c->path);
		break;
	}
	c->connecting = true;
	old = c->conn;
	c->conn = NULL;
	pthread_mutex_unlock(&c->lock);
	if (old)
		conn_retire(c, old);
	r = connect_until(c, deadline, &fd, err);
	conn = NULL;
	if (r == 0) {
		conn = conn_start(c, fd);
		if (!conn) {
			close(fd);
			r = rpc_error_set(err, -ENOMEM, "connect",
					  "cannot start the reader thread");
		}
	}
	pthread_mutex_lock(&c->lock);
	c->conn = conn;
	if (conn) {
		c->generation++;
		log_debug("rpc: connected to %s (generation %llu)", c->path,
			  (unsigned long long)c->generation);
	}
	c->connecting = false;
	pthread_cond_broadcast(&c->changed);
	return r;
}

int rpc_client_open(const char *path, const struct rpc_client_opts *opts, struct rpc_client **out,
		    struct rpc_error *err)
{
	struct rpc_client *c;
	int r, ct;

	if (strlen(path) >= sizeof(c->path))
		return rpc_error_set(err, -ENAMETOOLONG, "connect", "socket path too long: %s",
				     path);
	c = calloc(1, sizeof(*c));
	if (!c)
		return rpc_error_set(err, -ENOMEM, "connect", "out of memory");
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->max_answer = opts && opts->max_answer ? opts->max_answer : RPC_DEFAULT_MAX_ANSWER;
	c->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : RPC_DEFAULT_TIMEOUT_MS;
	ct = opts && opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : c->timeout_ms;
	c->manual_reconnect = opts && opts->manual_reconnect;
	c->next_id = 1;
	c->closed_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&c->lock, NULL);
	cond_init_monotonic(&c->changed);
	pthread_mutex_lock(&c->lock);
	r = client_ensure_locked(c, false, deadline_of(ct), err);
	pthread_mutex_unlock(&c->lock);
	if (r < 0) {
		rpc_client_close(c);
		return r;
	}
	*out = c;
	return 0;
}

void rpc_client_close(struct rpc_client *c)
{
	if (!c)
		return;
	if (c->conn)
		conn_retire(c, c->conn);
	pthread_cond_destroy(&c->changed);
	pthread_mutex_destroy(&c->lock);
	if (c->closed_fd >= 0)
		close(c->closed_fd);
	free(c);
}

int rpc_client_closed_fd(struct rpc_client *c)
{
	return c->closed_fd;
}

int rpc_client_reconnect(struct rpc_client *c, int timeout_ms, struct rpc_error *err)
{
	int r;

	pthread_mutex_lock(&c->lock);
	r = client_ensure_locked(c, true, deadline_of(timeout_ms), err);
	pthread_mutex_unlock(&c->lock);
	return r;
}

uint64_t rpc_client_generation(struct rpc_client *c)
{
	uint64_t g;

	pthread_mutex_lock(&c->lock);
	g = c->generation;
	pthread_mutex_unlock(&c->lock);
	return g;
}

bool rpc_client_closed(struct rpc_client *c)
{
	bool closed;

	pthread_mutex_lock(&c->lock);
	closed = !c->conn || c->conn->dead;
	pthread_mutex_unlock(&c->lock);
	return closed;
}

uint64_t rpc_client_calls(struct rpc_client *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->lock);
	n = c->next_id - 1;
	pthread_mutex_unlock(&c->lock);
	return n;
}

int rpc_client_timeout_ms(const struct rpc_client *c)
{
	return c->timeout_ms;
}

/* ---- calls ---- */

static int send_all(int fd, const char *data, size_t len, uint64_t deadline)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			uint64_t now = util_now_ms();

			if (now >= deadline)
				return -ETIMEDOUT;
			poll(&pfd, 1, (int)(deadline - now));
			continue;
		}
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static void pending_unlink_locked(struct rpc_client *c, struct rpc_pending *p)
{
	struct rpc_pending **pp;

	for (pp = &c->pending; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			return;
		}
	}
}

int rpc_answer_take(json_t *answer, const char *method, json_t **result, struct rpc_error *err)
{
	json_t *e = json_object_get(answer, "error");
	json_t *res;

	if (e) {
		json_t *code = json_object_get(e, "code");
		json_t *msg = json_object_get(e, "message");
		int icode;

		if (!json_is_integer(code) || json_integer_value(code) == 0 ||
		    json_integer_value(code) < INT32_MIN || json_integer_value(code) > INT32_MAX)
			return rpc_error_set(err, -EBADMSG, method,
					     "malformed error object: no integer code");
		icode = (int)json_integer_value(code);
		if (err) {
			err->err = rpc_error_from_code(icode);
			err->code = icode;
			snprintf(err->method, sizeof(err->method), "%s", method);
			snprintf(err->message, sizeof(err->message), "%s",
				 json_is_string(msg) ? json_string_value(msg) : "(no message)");
		}
		return rpc_error_from_code(icode);
	}
	res = json_object_get(answer, "result");
	if (!res)
		return rpc_error_set(err, -EBADMSG, method,
				     "malformed answer: neither result nor error");
	*result = json_incref(res);
	return 0;
}

/*
 * One attempt. *unsent = the connection was found closed while writing: SPDK cannot have seen
 * this request (it only acts on complete requests, and none of ours got through before the
 * close), so the caller may retry it on a new connection.
 */
static int call_once(struct rpc_client *c, const char *method, json_t *params, uint64_t deadline,
		     int timeout_ms, json_t **result, struct rpc_error *err, bool *unsent)
{
	struct rpc_pending p = {0};
	bool write_failed = false;
	struct rpc_conn *conn;
	struct timespec ts;
	json_t *req;
	char *text;
	int r;

	cond_init_monotonic(&p.cond);
	pthread_mutex_lock(&c->lock);
	r = client_ensure_locked(c, false, deadline, err);
	if (r < 0) {
		pthread_mutex_unlock(&c->lock);
		if (err)
			snprintf(err->method, sizeof(err->method), "%s", method);
		goto out_cond;
	}
	conn = c->conn;
	conn->refs++;
	p.id = c->next_id++;
	p.conn = conn;
	p.next = c->pending;
	c->pending = &p;
	pthread_mutex_unlock(&c->lock);

	req = json_pack("{s:s, s:s, s:I}", "jsonrpc", "2.0", "method", method, "id",
			(json_int_t)p.id);
	if (req && params)
		json_object_set(req, "params", params);
	text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!text) {
		r = rpc_error_set(err, -ENOMEM, method, "cannot build the request");
		goto out_unlink;
	}
	pthread_mutex_lock(&conn->write_lock);
	r = send_all(conn->fd, text, strlen(text), deadline);
	pthread_mutex_unlock(&conn->write_lock);
	free(text);
	if (r < 0) {
		/* A partly written request leaves the stream unusable for everyone. */
		shutdown(conn->fd, SHUT_RDWR);
		write_failed = true;
		*unsent = r == -EPIPE || r == -ECONNRESET;
		r = rpc_error_set(err, r == -ETIMEDOUT ? r : -EPIPE, method,
				  "cannot send the request: %s", strerror(-r));
		goto out_unlink;
	}

	pthread_mutex_lock(&c->lock);
	deadline_ts(deadline, &ts);
	while (!p.done) {
		if (pthread_cond_timedwait(&p.cond, &c->lock, &ts) == ETIMEDOUT && !p.done)
			break;
	}
	pending_unlink_locked(c, &p);
	conn_unref_locked(conn, 1);
	pthread_mutex_unlock(&c->lock);
	if (!p.done) {
		r = rpc_error_set(err, -ETIMEDOUT, method, "no answer within %d ms", timeout_ms);
	} else if (p.status < 0) {
		r = rpc_error_set(err, p.status, method, "%s", p.why);
	} else {
		r = rpc_answer_take(p.answer, method, result, err);
		json_decref(p.answer);
	}
	goto out_cond;

out_unlink:
	pthread_mutex_lock(&c->lock);
	/* After a failed write the next call must not pick this connection before its reader
	 * notices the close. */
	if (write_failed)
		conn->dead = true;
	if (write_failed && c->closed_fd >= 0) {
		uint64_t one = 1;
		if (write(c->closed_fd, &one, sizeof(one)) < 0)
			log_debug("rpc: close notice for %s: %s", c->path, strerror(errno));
	}
	pending_unlink_locked(c, &p);
	conn_unref_locked(conn, 1);
	pthread_mutex_unlock(&c->lock);
	if (p.done && p.answer)
		json_decref(p.answer);
out_cond:
	pthread_cond_destroy(&p.cond);
	return r;
}

int rpc_call_json(struct rpc_client *c, const char *method, json_t *params, int timeout_ms,
		  json_t **result, struct rpc_error *err)
{
	uint64_t deadline = deadline_of(timeout_ms);
	bool unsent = false;
	int r;

	json_t *bad = params ? json_object_get(params, RPC_PAR_INVALID) : NULL;

	if (!method || !util_utf8_valid(method))
		return rpc_error_set(err, -EINVAL, "", "method name is not valid UTF-8; not sent");
	if (bad)
		return rpc_error_set(err, -EINVAL, method,
				     "parameter '%s' is not valid UTF-8; not sent",
				     json_string_value(bad) ? json_string_value(bad) : "?");
	if (capture_fn)
		capture_fn(method, params, capture_arg);
	uint64_t start_us = observe_fn ? mono_us() : 0;
	r = call_once(c, method, params, deadline, timeout_ms, result, err, &unsent);
	/* SPDK closed the socket before the request went out (it restarted): send it again. */
	if (r < 0 && unsent && !c->manual_reconnect && util_now_ms() < deadline) {
		log_debug("rpc: %s: connection closed before the request was sent; retrying",
			  method);
		unsent = false;
		r = call_once(c, method, params, deadline, timeout_ms, result, err, &unsent);
	}
	if (observe_fn)
		observe_fn(method, mono_us() - start_us, r, observe_arg);
	return r;
}

static int params_parse(const char *text, json_t **out, char *why, size_t why_size)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);

	if (!v) {
		snprintf(why, why_size, "params are not valid JSON: %s (line %d, column %d)",
			 jerr.text, jerr.line, jerr.column);
		return -EINVAL;
	}
	if (!json_is_object(v) && !json_is_array(v)) {
		json_decref(v);
		snprintf(why, why_size, "params must be a JSON object or array");
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int rpc_params_check(const char *text, char *why, size_t why_size)
{
	json_t *v = NULL;
	int r = params_parse(text, &v, why, why_size);

	json_decref(v);
	return r;
}

char *rpc_json_pretty(const char *text)
{
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
	char *out;

	if (!v)
		return NULL;
	out = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
	json_decref(v);
	return out;
}

int rpc_call_raw(struct rpc_client *c, const char *method, const char *params_json, int timeout_ms,
		 char **result_json, struct rpc_error *err)
{
	json_t *params = NULL, *result = NULL;
	char why[200];
	char *text;
	int r;

	if (params_json) {
		r = params_parse(params_json, &params, why, sizeof(why));
		if (r < 0)
			return rpc_error_set(err, r, method, "%s", why);
	}
	r = rpc_call_json(c, method, params, timeout_ms, &result, err);
	json_decref(params);
	if (r < 0)
		return r;
	text = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(result);
	if (!text)
		return rpc_error_set(err, -ENOMEM, method, "cannot encode the result");
	*result_json = text;
	return 0;
}
