/* SPDX-License-Identifier: Apache-2.0 */
#include "fake_spdk.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct fake {
	char dir[256];
	char path[300];
	int lfd;
	int stop_pipe[2];
	pthread_t thread;
	fake_handler handler;
	void *arg;
	int requests;
	int tick_ms; /* > 0: call the handler with req NULL after this long without a request */
	pthread_mutex_t lock;
};

static void die(const char *what)
{
	fprintf(stderr, "fake_spdk: %s: %s\n", what, strerror(errno));
	abort();
}

/* Wait for fd; with tick, call the handler with req NULL whenever fd stays quiet for tick_ms. */
static bool wait_readable(struct fake *f, int fd, bool tick)
{
	struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
			      {.fd = f->stop_pipe[0], .events = POLLIN}};

	for (;;) {
		int n = poll(p, 2, tick && f->tick_ms > 0 ? f->tick_ms : -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (p[1].revents)
			return false;
		if (n == 0) {
			f->handler(f, fd, NULL, f->arg);
			continue;
		}
		return true;
	}
}

static void serve_conn(struct fake *f, int fd)
{
	char buf[65536];
	size_t len = 0;

	for (;;) {
		ssize_t n;
		size_t off = 0;

		if (!wait_readable(f, fd, true))
			return;
		n = recv(fd, buf + len, sizeof(buf) - len, 0);
		if (n <= 0)
			return;
		len += (size_t)n;
		for (;;) {
			json_error_t jerr;
			json_t *req;
			enum fake_next next;

			while (off < len && (buf[off] == ' ' || buf[off] == '\n'))
				off++;
			if (off == len)
				break;
			req = json_loadb(buf + off, len - off, JSON_DISABLE_EOF_CHECK, &jerr);
			if (!req)
				break;
			off += (size_t)jerr.position;
			pthread_mutex_lock(&f->lock);
			f->requests++;
			pthread_mutex_unlock(&f->lock);
			next = f->handler(f, fd, req, f->arg);
			json_decref(req);
			if (next == FAKE_CLOSE)
				return;
		}
		memmove(buf, buf + off, len - off);
		len -= off;
	}
}

static void *fake_thread(void *arg)
{
	struct fake *f = arg;

	for (;;) {
		int fd;

		if (!wait_readable(f, f->lfd, false))
			return NULL;
		fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		serve_conn(f, fd);
		close(fd);
	}
}

static struct fake *fake_create(const char *path, fake_handler h, void *arg, int tick_ms)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (!f)
		die("calloc");
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->handler = h;
	f->arg = arg;
	f->tick_ms = tick_ms;
	pthread_mutex_init(&f->lock, NULL);
	if (pipe(f->stop_pipe) < 0)
		die("pipe");
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->lfd < 0)
		die("socket");
	if (strlen(f->path) >= sizeof(sa.sun_path))
		die("socket path too long");
	memcpy(sa.sun_path, f->path, strlen(f->path) + 1);
	unlink(f->path);
	if (bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind");
	if (listen(f->lfd, 64) < 0)
		die("listen");
	if (pthread_create(&f->thread, NULL, fake_thread, f) != 0)
		die("pthread_create");
	return f;
}

struct fake *fake_start_at(const char *path, fake_handler h, void *arg)
{
	return fake_create(path, h, arg, 0);
}

struct fake *fake_start_ticking(fake_handler h, void *arg, int tick_ms)
{
	char dir[] = "/tmp/de-rpc-test.XXXXXX";
	char path[300];
	struct fake *f;

	if (!mkdtemp(dir))
		die("mkdtemp");
	snprintf(path, sizeof(path), "%s/spdk.sock", dir);
	f = fake_create(path, h, arg, tick_ms);
	snprintf(f->dir, sizeof(f->dir), "%s", dir);
	return f;
}

struct fake *fake_start(fake_handler h, void *arg)
{
	return fake_start_ticking(h, arg, 0);
}

void fake_stop(struct fake *f, bool keep_dir)
{
	if (write(f->stop_pipe[1], "x", 1) != 1)
		die("write");
	pthread_join(f->thread, NULL);
	close(f->lfd);
	close(f->stop_pipe[0]);
	close(f->stop_pipe[1]);
	unlink(f->path);
	if (!keep_dir && f->dir[0])
		rmdir(f->dir);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

const char *fake_path(struct fake *f)
{
	return f->path;
}

const char *fake_dir(struct fake *f)
{
	return f->dir;
}

int fake_requests(struct fake *f)
{
	int n;

	pthread_mutex_lock(&f->lock);
	n = f->requests;
	pthread_mutex_unlock(&f->lock);
	return n;
}

void fake_send_split(int fd, const char *text, size_t chunk, int pause_us)
{
	size_t len = strlen(text);

	while (len > 0) {
		size_t n = len < chunk ? len : chunk;
		ssize_t w = send(fd, text, n, MSG_NOSIGNAL);

		if (w <= 0)
			return; /* the client went away; the test notices */
		text += w;
		len -= (size_t)w;
		if (pause_us && len)
			usleep((useconds_t)pause_us);
	}
}

void fake_send(int fd, const char *text)
{
	fake_send_split(fd, text, strlen(text), 0);
}

char *fake_answer_text(json_t *id, json_t *result)
{
	json_t *a = json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", result);
	char *t = json_dumps(a, JSON_COMPACT);

	json_decref(a);
	return t;
}

void fake_answer(int fd, json_t *id, json_t *result)
{
	char *t = fake_answer_text(id, result);

	fake_send(fd, t);
	free(t);
}
