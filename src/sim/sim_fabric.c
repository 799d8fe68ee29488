/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fabric's transport: TCP sockets on loopback carrying newline-delimited JSON
 * (see sim_fabric.h for the messages). Both the host and the target side use it.
 */
#include "sim/sim_fabric.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct fab_link {
	int fd;
	char *buf;
	size_t len, cap;
	fab_msg_fn on_msg;
	fab_close_fn on_close;
	void *ctx;
	bool closed;	  /* closed locally while a callback ran: freed by the reader */
	bool in_dispatch; /* a callback of this link is running */
};

static void link_free(struct sim *s, struct fab_link *l)
{
	sim_fd_unwatch(s, l->fd);
	close(l->fd);
	free(l->buf);
	free(l);
}

static void link_on_readable(struct sim *s, int fd, short revents, void *ctx)
{
	struct fab_link *l = ctx;
	char *nl;
	ssize_t n;

	if (l->cap - l->len < 4096) {
		l->cap = l->cap ? l->cap * 2 : 16384;
		l->buf = realloc(l->buf, l->cap);
		if (!l->buf)
			abort();
	}
	n = recv(fd, l->buf + l->len, l->cap - l->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		fab_close_fn cb = l->on_close;
		void *cctx = l->ctx;

		l->in_dispatch = true;
		if (cb)
			cb(s, l, cctx);
		link_free(s, l);
		return;
	}
	l->len += (size_t)n;
	/* a handler may close the link (l->closed) while messages remain buffered */
	while (!l->closed && (nl = memchr(l->buf, '\n', l->len)) != NULL) {
		size_t line = (size_t)(nl - l->buf);
		json_error_t jerr;
		json_t *msg = json_loadb(l->buf, line, 0, &jerr);

		memmove(l->buf, nl + 1, l->len - line - 1);
		l->len -= line + 1;
		if (msg && json_is_object(msg)) {
			l->in_dispatch = true;
			l->on_msg(s, l, msg, l->ctx);
			l->in_dispatch = false;
		}
		json_decref(msg);
	}
	if (l->closed)
		link_free(s, l);
}

struct fab_link *fab_link_new(struct sim *s, int fd, fab_msg_fn on_msg, fab_close_fn on_close,
			      void *ctx)
{
	struct fab_link *l = calloc(1, sizeof(*l));

	if (!l) {
		close(fd);
		return NULL;
	}
	l->fd = fd;
	l->on_msg = on_msg;
	l->on_close = on_close;
	l->ctx = ctx;
	if (sim_fd_watch(s, fd, POLLIN, link_on_readable, l) < 0) {
		close(fd);
		free(l);
		return NULL;
	}
	return l;
}

void fab_link_set_ctx(struct fab_link *l, void *ctx)
{
	l->ctx = ctx;
}

void fab_link_set_handlers(struct fab_link *l, fab_msg_fn on_msg, fab_close_fn on_close)
{
	l->on_msg = on_msg;
	l->on_close = on_close;
}

int fab_link_send(struct fab_link *l, json_t *msg)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	size_t len, off = 0;
	int rc = 0;

	json_decref(msg);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len] = '\n';
	/* messages are small and the peer always reads: wait briefly when the buffer is full */
	while (off < len + 1) {
		ssize_t w = send(l->fd, text + off, len + 1 - off, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				struct pollfd pfd = {.fd = l->fd, .events = POLLOUT};

				if (poll(&pfd, 1, 1000) <= 0) {
					rc = -ETIMEDOUT;
					break;
				}
				continue;
			}
			rc = -errno;
			break;
		}
		off += (size_t)w;
	}
	free(text);
	return rc;
}

void fab_link_poll(struct sim *s, struct fab_link *l)
{
	struct pollfd pfd = {.fd = l->fd, .events = POLLIN};

	if (!l->in_dispatch && poll(&pfd, 1, 0) > 0)
		link_on_readable(s, l->fd, pfd.revents, l);
}

void fab_link_close(struct sim *s, struct fab_link *l)
{
	if (!l)
		return;
	l->on_close = NULL;
	if (l->in_dispatch) {
		/* called from this link's own callback: the reader frees it on return */
		l->closed = true;
		return;
	}
	link_free(s, l);
}

int fab_tcp_connect(const char *traddr, const char *trsvcid, int family, const struct sockaddr *src,
		    socklen_t srclen)
{
	struct addrinfo hints = {.ai_family = family,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	int fd, rc, one = 1;

	if (!traddr || !trsvcid || getaddrinfo(traddr, trsvcid, &hints, &ai) != 0 || !ai)
		return -EINVAL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		freeaddrinfo(ai);
		return rc;
	}
	/* SPDK's sockets all set SO_REUSEADDR, so a fixed source port can be bound again */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (src && bind(fd, src, srclen) < 0) {
		rc = -errno;
		freeaddrinfo(ai);
		close(fd);
		return rc;
	}
	/* loopback connects complete (or are refused) within the call */
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		rc = -errno;
		freeaddrinfo(ai);
		close(fd);
		return rc;
	}
	freeaddrinfo(ai);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

int fab_tcp_listen(const char *traddr, const char *trsvcid)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
	struct addrinfo *ai = NULL;
	int fd, rc, one = 1;

	if (!traddr || !trsvcid || getaddrinfo(traddr, trsvcid, &hints, &ai) != 0 || !ai)
		return -EINVAL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		freeaddrinfo(ai);
		return rc;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		rc = -errno;
		freeaddrinfo(ai);
		close(fd);
		return rc;
	}
	freeaddrinfo(ai);
	return fd;
}

char *fab_hex_encode(const void *buf, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = buf;
	char *out = malloc(len * 2 + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[len * 2] = '\0';
	return out;
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int fab_hex_decode(const char *hex, void **buf, size_t *len)
{
	size_t n = strlen(hex);
	unsigned char *out;

	if (n % 2)
		return -EINVAL;
	out = malloc(n / 2 + 1);
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_val(hex[2 * i]), lo = hex_val(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(out);
			return -EINVAL;
		}
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	*buf = out;
	*len = n / 2;
	return 0;
}
