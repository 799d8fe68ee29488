/* SPDX-License-Identifier: Apache-2.0 */
#include "daemon/spdk_conn.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

/* One call waiting for its answer. */
struct pending {
	int64_t id;
	bool done;
	json_t *answer; /* the whole response object */
	struct pending *next;
};

struct spdk_conn {
	int fd;
	pthread_t reader;
	pthread_mutex_t lock; /* pending list, closed, next_id */
	pthread_cond_t cond;  /* CLOCK_MONOTONIC */
	pthread_mutex_t wlock; /* one request written at a time */
	struct pending *pending;
	bool closed;
	int64_t next_id;
	uint64_t calls;
};

static void fail_all_locked(struct spdk_conn *c)
{
	c->closed = true;
	pthread_cond_broadcast(&c->cond);
}

static void deliver(struct spdk_conn *c, json_t *answer)
{
	json_t *id = json_object_get(answer, "id");

	if (!json_is_integer(id)) {
		log_debug("spdk: answer without a usable id dropped");
		json_decref(answer);
		return;
	}
	pthread_mutex_lock(&c->lock);
	for (struct pending *p = c->pending; p; p = p->next) {
		if (p->id == json_integer_value(id) && !p->done) {
			p->done = true;
			p->answer = answer;
			answer = NULL;
			break;
		}
	}
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	json_decref(answer); /* a late answer of a call that timed out */
}

static void *reader_main(void *arg)
{
	struct spdk_conn *c = arg;
	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap);

	while (buf) {
		if (len == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(c->fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		/* SPDK sends JSON values back to back; take every complete one. */
		for (;;) {
			size_t skip = 0;
			while (skip < len && (buf[skip] == ' ' || buf[skip] == '\n' ||
					      buf[skip] == '\r' || buf[skip] == '\t'))
				skip++;
			if (skip == len) {
				len = 0;
				break;
			}
			json_error_t jerr;
			json_t *v = json_loadb(buf + skip, len - skip, JSON_DISABLE_EOF_CHECK, &jerr);
			if (!v) {
				/* an error at the very end means the value is not complete yet */
				if ((size_t)jerr.position >= len - skip)
					break;
				log_debug("spdk: unparseable answer: %s", jerr.text);
				goto out;
			}
			size_t used = skip + (size_t)jerr.position;
			memmove(buf, buf + used, len - used);
			len -= used;
			deliver(c, v);
		}
	}
out:
	free(buf);
	pthread_mutex_lock(&c->lock);
	fail_all_locked(c);
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int spdk_conn_open(const char *path, struct spdk_conn **out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct spdk_conn *c;
	int fd, r;

	if (util_strlcpy(sa.sun_path, path, sizeof(sa.sun_path)) < 0)
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->next_id = 1;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->wlock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);
	r = pthread_create(&c->reader, NULL, reader_main, c);
	if (r != 0) {
		close(fd);
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->lock);
		pthread_mutex_destroy(&c->wlock);
		free(c);
		return -r;
	}
	*out = c;
	return 0;
}

void spdk_conn_close(struct spdk_conn *c)
{
	if (!c)
		return;
	shutdown(c->fd, SHUT_RDWR);
	pthread_join(c->reader, NULL);
	close(c->fd);
	/* Callers are gone by now: the daemon closes only after its workers joined. */
	while (c->pending) {
		struct pending *p = c->pending;
		c->pending = p->next;
		json_decref(p->answer);
		free(p);
	}
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->wlock);
	free(c);
}

bool spdk_conn_closed(struct spdk_conn *c)
{
	bool closed;

	pthread_mutex_lock(&c->lock);
	closed = c->closed;
	pthread_mutex_unlock(&c->lock);
	return closed;
}

uint64_t spdk_conn_calls(struct spdk_conn *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->lock);
	n = c->calls;
	pthread_mutex_unlock(&c->lock);
	return n;
}

static void unlink_pending(struct spdk_conn *c, struct pending *p)
{
	for (struct pending **pp = &c->pending; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			return;
		}
	}
}

static int write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -ECONNRESET;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

int spdk_conn_call(struct spdk_conn *c, const char *method, json_t *params, uint32_t timeout_ms,
		   json_t **result, struct spdk_conn_error *err)
{
	struct pending *p = calloc(1, sizeof(*p));
	json_t *req = NULL;
	char *text = NULL;
	int r;

	if (!p) {
		json_decref(params);
		return -ENOMEM;
	}
	pthread_mutex_lock(&c->lock);
	if (c->closed) {
		pthread_mutex_unlock(&c->lock);
		json_decref(params);
		free(p);
		return -ECONNRESET;
	}
	p->id = c->next_id++;
	c->calls++;
	p->next = c->pending;
	c->pending = p;
	pthread_mutex_unlock(&c->lock);

	req = json_pack("{s:s, s:I, s:s}", "jsonrpc", "2.0", "id", (json_int_t)p->id, "method",
			method);
	if (req && params)
		json_object_set(req, "params", params);
	json_decref(params);
	text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	pthread_mutex_lock(&c->wlock);
	r = write_all(c->fd, text, strlen(text));
	pthread_mutex_unlock(&c->wlock);
	free(text);
	if (r < 0)
		goto out;

	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->lock);
	while (!p->done && !c->closed) {
		if (pthread_cond_timedwait(&c->cond, &c->lock, &until) == ETIMEDOUT)
			break;
	}
	json_t *answer = p->answer;
	p->answer = NULL;
	if (answer)
		r = 0;
	else
		r = c->closed ? -ECONNRESET : -ETIMEDOUT;
	unlink_pending(c, p);
	pthread_mutex_unlock(&c->lock);
	free(p);
	p = NULL;
	if (r < 0)
		return r;

	json_t *e = json_object_get(answer, "error");
	if (e) {
		if (err) {
			err->code = (int)json_integer_value(json_object_get(e, "code"));
			const char *m = json_string_value(json_object_get(e, "message"));
			util_strlcpy(err->message, m ? m : "", sizeof(err->message));
		}
		json_decref(answer);
		return -EREMOTEIO;
	}
	if (result) {
		*result = json_incref(json_object_get(answer, "result"));
		if (!*result)
			*result = json_null();
	}
	json_decref(answer);
	return 0;
out:
	pthread_mutex_lock(&c->lock);
	unlink_pending(c, p);
	pthread_mutex_unlock(&c->lock);
	free(p);
	return r;
}
