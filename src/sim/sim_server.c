/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulated SPDK process: one thread, one poll() loop (like an SPDK reactor
 * polling its RPC server), the Unix-socket JSON-RPC listener with its connections,
 * timers and fd watches. Request parsing and dispatch live in sim_rpc.c.
 */
#include "sim/sim_internal.h"

#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct sim_conn {
	int fd;
	bool peer_closed; /* the client shut down its side: read no more */
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_len, out_cap;
	struct sim_conn *next;
};

/* A request in flight, linked so a closing connection can detach it. */
struct sim_req_node {
	struct sim_req req; /* first: a sim_req pointer is a node pointer */
	struct sim_req_node *prev, *next;
};

struct sim_timer {
	uint64_t due_ms;
	uint64_t seq; /* tie-break: equal due times run in the order they were added */
	sim_timer_fn fn;
	void *ctx;
	struct sim_timer *next;
};

struct sim_watch {
	int fd;
	short events;
	sim_fd_fn fn;
	void *ctx;
	bool removed;
};

struct sim_core {
	int listen_fd;
	int lock_fd;
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char lock_path[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	struct sim_conn *conns;
	unsigned nconns;
	struct sim_req_node *reqs;
	struct sim_timer *timers;
	uint64_t timer_seq;
	struct sim_watch *watches;
	size_t nwatches, watches_cap;
	bool stop;
	size_t modules_inited; /* sim_modules[0..n) ran init(): only those get fini() */
};

static volatile sig_atomic_t g_sim_signalled;

uint64_t sim_now_ms(void)
{
	return util_now_ms();
}

/* ---- connections ------------------------------------------------------------------ */

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (!q) {
		fprintf(stderr, "spdk-sim: out of memory\n");
		abort();
	}
	return q;
}

char *sim_conn_inbuf(struct sim_conn *c, size_t *len)
{
	*len = c->in_len;
	return c->in;
}

void sim_conn_consume(struct sim_conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

void sim_conn_send(struct sim_conn *c, const char *data, size_t len)
{
	if (c->out_len + len > c->out_cap) {
		c->out_cap = (c->out_len + len) * 2;
		c->out = xrealloc(c->out, c->out_cap);
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
}

void sim_conn_discard_output(struct sim_conn *c)
{
	c->out_len = 0;
}

static void conn_close(struct sim *s, struct sim_conn *c)
{
	struct sim_core *core = s->core;
	struct sim_conn **pp;

	for (struct sim_req_node *n = core->reqs; n; n = n->next)
		if (n->req.conn == c)
			n->req.conn = NULL;
	for (pp = &core->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	core->nconns--;
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

static void conn_accept(struct sim *s)
{
	struct sim_core *core = s->core;
	struct sim_conn *c;
	int fd;

	/* SPDK accepts only while it has a free connection slot; the rest wait in backlog. */
	if (core->nconns >= SIM_RPC_MAX_CONNS)
		return;
	fd = accept4(core->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->next = core->conns;
	core->conns = c;
	core->nconns++;
}

/* Write what is queued; false when the connection broke. */
static bool conn_flush(struct sim_conn *c)
{
	while (c->out_len > 0) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return true;
			return false;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	return true;
}

/* Read and process input; false when the connection must close. */
static bool conn_read(struct sim *s, struct sim_conn *c)
{
	size_t avail;
	ssize_t n;

	if (c->in_cap < SIM_RPC_RECV_BUF_SIZE) {
		c->in_cap = SIM_RPC_RECV_BUF_SIZE;
		c->in = xrealloc(c->in, c->in_cap);
	}
	avail = SIM_RPC_RECV_BUF_SIZE - c->in_len;
	if (avail == 0) {
		/* SPDK's fixed 32 KiB receive buffer is full of an incomplete request:
		 * its recv() of 0 bytes reads as "peer closed". */
		c->peer_closed = true;
		return true;
	}
	n = recv(c->fd, c->in + c->in_len, avail, 0);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
	if (n == 0) {
		c->peer_closed = true;
		return true;
	}
	c->in_len += (size_t)n;
	if (sim_rpc_feed(s, c) < 0) {
		sim_conn_discard_output(c);
		return false;
	}
	return true;
}

static bool conn_has_outstanding(struct sim *s, struct sim_conn *c)
{
	for (struct sim_req_node *n = s->core->reqs; n; n = n->next)
		if (n->req.conn == c)
			return true;
	return false;
}

/* ---- requests ------------------------------------------------------------------------- */

struct sim_req *sim_req_new(struct sim *s, struct sim_conn *c, json_t *request)
{
	struct sim_req_node *n = calloc(1, sizeof(*n));

	if (!n)
		abort();
	n->req.sim = s;
	n->req.conn = c;
	n->req.request = request;
	n->next = s->core->reqs;
	if (n->next)
		n->next->prev = n;
	s->core->reqs = n;
	return &n->req;
}

void sim_req_free(struct sim_req *req)
{
	struct sim_req_node *n = (struct sim_req_node *)req;
	struct sim_core *core = req->sim->core;

	if (n->prev)
		n->prev->next = n->next;
	else
		core->reqs = n->next;
	if (n->next)
		n->next->prev = n->prev;
	json_decref(req->request);
	free(n);
}

/* ---- timers and fd watches ------------------------------------------------------------- */

struct sim_timer *sim_timer_add(struct sim *s, uint64_t delay_ms, sim_timer_fn fn, void *ctx)
{
	struct sim_core *core = s->core;
	struct sim_timer *t = calloc(1, sizeof(*t)), **pp;

	if (!t)
		abort();
	t->due_ms = sim_now_ms() + delay_ms;
	t->seq = core->timer_seq++;
	t->fn = fn;
	t->ctx = ctx;
	/* keep the list sorted by due time, FIFO among equals */
	for (pp = &core->timers; *pp && (*pp)->due_ms <= t->due_ms; pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
	return t;
}

void sim_timer_cancel(struct sim *s, struct sim_timer *t)
{
	for (struct sim_timer **pp = &s->core->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			free(t);
			return;
		}
	}
}

int sim_fd_watch(struct sim *s, int fd, short events, sim_fd_fn fn, void *ctx)
{
	struct sim_core *core = s->core;

	if (fd < 0 || !fn)
		return -EINVAL;
	for (size_t i = 0; i < core->nwatches; i++)
		if (core->watches[i].fd == fd && !core->watches[i].removed)
			return -EEXIST;
	if (core->nwatches == core->watches_cap) {
		core->watches_cap = core->watches_cap ? core->watches_cap * 2 : 8;
		core->watches = xrealloc(core->watches, core->watches_cap * sizeof(*core->watches));
	}
	core->watches[core->nwatches++] =
		(struct sim_watch){.fd = fd, .events = events, .fn = fn, .ctx = ctx};
	return 0;
}

void sim_fd_unwatch(struct sim *s, int fd)
{
	struct sim_core *core = s->core;

	/* only marked here: the loop may be iterating the array */
	for (size_t i = 0; i < core->nwatches; i++)
		if (core->watches[i].fd == fd)
			core->watches[i].removed = true;
}

static void watches_compact(struct sim_core *core)
{
	size_t j = 0;

	for (size_t i = 0; i < core->nwatches; i++)
		if (!core->watches[i].removed)
			core->watches[j++] = core->watches[i];
	core->nwatches = j;
}

static void timers_run(struct sim *s)
{
	struct sim_core *core = s->core;
	uint64_t now = sim_now_ms();
	/* timers added while this pass runs wait for the next pass, after I/O */
	uint64_t limit = core->timer_seq;

	while (!core->stop) {
		struct sim_timer **pp = &core->timers, *t;

		while (*pp && (*pp)->due_ms <= now && (*pp)->seq >= limit)
			pp = &(*pp)->next;
		if (!*pp || (*pp)->due_ms > now)
			break;
		t = *pp;
		*pp = t->next;
		sim_timer_fn fn = t->fn;
		void *ctx = t->ctx;

		free(t);
		fn(s, ctx);
	}
}

/* ---- lifecycle ------------------------------------------------------------------------- */

void sim_stop(struct sim *s)
{
	s->core->stop = true;
}

void sim_crash(struct sim *s, const char *why)
{
	(void)s;
	fprintf(stderr, "spdk-sim: crash: %s\n", why ? why : "requested");
	fflush(stderr);
	/* exactly what kill -9 does: no cleanup, sockets and files left behind */
	raise(SIGKILL);
	_exit(137);
}

static void on_signal(int sig)
{
	g_sim_signalled = sig;
}

/* Bind the RPC socket the way spdk_rpc_server_listen does (lock file, stale socket). */
static int rpc_listen(struct sim *s, const char *path)
{
	struct sim_core *core = s->core;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	if (util_strlcpy(addr.sun_path, path, sizeof(addr.sun_path)) < 0) {
		fprintf(stderr, "spdk-sim: RPC Listen address Unix socket path too long\n");
		return -ENAMETOOLONG;
	}
	snprintf(core->sock_path, sizeof(core->sock_path), "%s", path);
	snprintf(core->lock_path, sizeof(core->lock_path), "%s.lock", path);
	core->lock_fd = open(core->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (core->lock_fd < 0) {
		fprintf(stderr, "spdk-sim: Cannot open lock file %s: %s\n", core->lock_path,
			strerror(errno));
		return -errno;
	}
	if (flock(core->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		fprintf(stderr, "spdk-sim: RPC Unix domain socket path %s in use. Specify another.\n",
			path);
		close(core->lock_fd);
		core->lock_fd = -1;
		core->lock_path[0] = '\0';
		return -EADDRINUSE;
	}
	/* holding the lock, a leftover socket file is from a dead process */
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 512) < 0) {
		int err = errno;

		fprintf(stderr, "spdk-sim: could not bind JSON-RPC server: %s\n", strerror(err));
		close(fd);
		return -err;
	}
	core->listen_fd = fd;
	return 0;
}

static void server_cleanup(struct sim *s)
{
	struct sim_core *core = s->core;

	sim_control_close(s);
	while (core->conns)
		conn_close(s, core->conns);
	/* reverse order, as SPDK finishes subsystems: users of bdevs before the bdev layer */
	size_t nmod = core->modules_inited;

	while (nmod-- > 0)
		if (sim_modules[nmod]->fini)
			sim_modules[nmod]->fini(s);
	/* requests still deferred (e.g. waiting for init) are never answered */
	while (core->reqs)
		sim_req_free(&core->reqs->req);
	while (core->timers) {
		struct sim_timer *t = core->timers;

		core->timers = t->next;
		free(t);
	}
	free(core->watches);
	if (core->listen_fd >= 0) {
		close(core->listen_fd);
		unlink(core->sock_path);
	}
	if (core->lock_fd >= 0) {
		close(core->lock_fd);
		unlink(core->lock_path);
	}
}

static int poll_timeout(struct sim_core *core)
{
	uint64_t now, due;

	if (!core->timers)
		return -1;
	now = sim_now_ms();
	due = core->timers->due_ms;
	if (due <= now)
		return 0;
	return due - now > 1000 ? 1000 : (int)(due - now);
}

/* One pass: poll everything, serve I/O, run due timers. */
static void server_iterate(struct sim *s, const sigset_t *waitmask)
{
	struct sim_core *core = s->core;
	size_t n = 1 + core->nconns + core->nwatches, k = 0, nconn_fds;
	struct pollfd *pfds = calloc(n, sizeof(*pfds));
	struct timespec ts, *tsp = NULL;
	int timeout;

	if (!pfds)
		abort();
	pfds[k++] = (struct pollfd){.fd = core->listen_fd, .events = POLLIN};
	for (struct sim_conn *c = core->conns; c; c = c->next) {
		short ev = c->peer_closed ? 0 : POLLIN;

		if (c->out_len)
			ev |= POLLOUT;
		/* a closed peer's conn waiting for a deferred answer would report POLLHUP on
		 * every pass: leave it out of the poll set until it has something to send */
		pfds[k++] = (struct pollfd){.fd = ev ? c->fd : -1, .events = ev};
	}
	nconn_fds = k;
	for (size_t i = 0; i < core->nwatches; i++)
		pfds[k++] = (struct pollfd){.fd = core->watches[i].fd, .events = core->watches[i].events};

	timeout = poll_timeout(core);
	if (timeout >= 0) {
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
		tsp = &ts;
	}
	if (ppoll(pfds, k, tsp, waitmask) < 0) {
		free(pfds);
		return;
	}

	/* connections: answers first, then new input (SPDK's send-then-recv order) */
	for (size_t i = 1; i < nconn_fds; i++) {
		struct sim_conn *c;

		if (pfds[i].fd < 0 || !pfds[i].revents)
			continue;
		for (c = core->conns; c && c->fd != pfds[i].fd; c = c->next)
			;
		if (!c)
			continue;
		if ((pfds[i].revents & POLLOUT) && !conn_flush(c)) {
			conn_close(s, c);
			continue;
		}
		if ((pfds[i].revents & (POLLIN | POLLHUP | POLLERR)) && !c->peer_closed &&
		    !conn_read(s, c)) {
			conn_close(s, c);
			continue;
		}
	}
	if (pfds[0].revents & POLLIN)
		conn_accept(s);
	for (size_t i = nconn_fds; i < k && !core->stop; i++) {
		size_t w = i - nconn_fds;

		if (!pfds[i].revents || w >= core->nwatches || core->watches[w].removed)
			continue;
		core->watches[w].fn(s, core->watches[w].fd, pfds[i].revents, core->watches[w].ctx);
	}
	watches_compact(core);
	free(pfds);

	timers_run(s);

	/* Push answers produced by this pass right away; close finished half-closed conns. */
	for (struct sim_conn *c = core->conns, *next; c; c = next) {
		next = c->next;
		if (!conn_flush(c) || (c->peer_closed && !c->out_len && !conn_has_outstanding(s, c)))
			conn_close(s, c);
	}
}

int sim_run(const struct sim_options *opts)
{
	struct sim_core core = {.listen_fd = -1, .lock_fd = -1};
	struct sim s = {.opts = *opts, .core = &core};
	struct sigaction sa = {.sa_handler = on_signal};
	sigset_t block, waitmask;
	int rc = 0;

	if (!s.opts.rpc_socket)
		s.opts.rpc_socket = "/var/tmp/spdk.sock";

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = rpc_listen(&s, s.opts.rpc_socket);
	if (rc < 0)
		goto out;
	for (; sim_modules[core.modules_inited]; core.modules_inited++)
		if (sim_modules[core.modules_inited]->init)
			sim_modules[core.modules_inited]->init(&s);
	if (s.opts.control_socket) {
		rc = sim_control_open(&s, s.opts.control_socket);
		if (rc < 0) {
			fprintf(stderr, "spdk-sim: control socket %s: %s\n", s.opts.control_socket,
				strerror(-rc));
			goto out;
		}
	}
	/* without --wait-for-rpc SPDK initialises the framework by itself */
	if (!s.opts.wait_for_rpc)
		sim_framework_start(&s);
	fprintf(stderr, "spdk-sim: listening on %s%s\n", s.opts.rpc_socket,
		s.opts.wait_for_rpc ? " (waiting for framework_start_init)" : "");

	while (!core.stop && !g_sim_signalled)
		server_iterate(&s, &waitmask);
out:
	server_cleanup(&s);
	return rc < 0 ? 1 : 0;
}
