/* SPDX-License-Identifier: Apache-2.0 */
/* spdk-sim processes and JSON-RPC client connections of the conformance replay. */
#include "replay.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *replay_node_sock(struct replay_env *e, enum replay_node n, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", e->dir, n == NODE_STORAGE ? "storage.sock" : "host.sock");
	return buf;
}

int replay_target_index(const char *target)
{
	if (!target)
		return -1;
	if (strcmp(target, "storage") == 0)
		return 0;
	if (strcmp(target, "host") == 0)
		return 1;
	if (strcmp(target, "host#2") == 0)
		return 2;
	return -1;
}

enum replay_node replay_target_node(int idx)
{
	return idx == 0 ? NODE_STORAGE : NODE_HOST;
}

static int sock_connect(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int replay_node_start(struct replay_env *e, enum replay_node n)
{
	char sock[512], mem[] = "256";
	pid_t pid;
	uint64_t deadline;

	replay_node_sock(e, n, sock, sizeof(sock));
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (n == NODE_STORAGE)
			execl(e->sim_bin, e->sim_bin, "-u", "--disable-cpumask-locks", "-s", mem,
			      "-m", "0x1", "-r", sock, (char *)NULL);
		else
			execl(e->sim_bin, e->sim_bin, "-u", "--disable-cpumask-locks", "-s", mem,
			      "-m", "0x2", "-r", sock, "--wait-for-rpc", "-S", e->vhost_dir,
			      (char *)NULL);
		_exit(127);
	}
	e->pid[n] = pid;
	deadline = now_ms() + 10000;
	while (now_ms() < deadline) {
		int fd = sock_connect(sock);

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			e->pid[n] = 0;
			return -ECHILD;
		}
		usleep(10000);
	}
	return -ETIMEDOUT;
}

void replay_node_stop(struct replay_env *e, enum replay_node n, bool kill9)
{
	pid_t pid = e->pid[n];
	uint64_t deadline;

	for (int i = 0; i < 3; i++)
		if (replay_target_node(i) == n)
			replay_conn_close(&e->conn[i]);
	if (pid <= 0)
		return;
	kill(pid, kill9 ? SIGKILL : SIGTERM);
	deadline = now_ms() + 5000;
	while (waitpid(pid, NULL, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			break;
		}
		usleep(10000);
	}
	e->pid[n] = 0;
}

void replay_conn_close(struct replay_conn *c)
{
	if (c->fd > 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
	json_decref(c->pending);
	c->pending = NULL;
}

int replay_conn_ensure(struct replay_env *e, int idx)
{
	struct replay_conn *c = &e->conn[idx];
	char sock[512];
	int fd;

	if (c->fd > 0)
		return 0;
	fd = sock_connect(replay_node_sock(e, replay_target_node(idx), sock, sizeof(sock)));
	if (fd < 0)
		return fd;
	c->fd = fd;
	c->pending = json_array();
	return 0;
}

int replay_conn_send(struct replay_conn *c, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Parse what arrived into c->pending; false when the peer closed. */
static bool conn_pump(struct replay_conn *c, int timeout_ms)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return true;
	if (c->cap - c->len < 65536) {
		c->cap = c->cap ? c->cap * 2 : 131072;
		c->buf = realloc(c->buf, c->cap);
		if (!c->buf)
			abort();
	}
	n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
	if (n <= 0)
		return false;
	c->len += (size_t)n;
	for (;;) {
		json_error_t err;
		json_t *v;
		size_t skip = 0;

		while (skip < c->len && strchr(" \t\r\n", c->buf[skip]))
			skip++;
		if (skip == c->len) {
			c->len = 0;
			break;
		}
		v = json_loadb(c->buf + skip, c->len - skip, JSON_DISABLE_EOF_CHECK, &err);
		if (!v)
			break; /* incomplete: wait for more */
		json_array_append_new(c->pending, v);
		skip += (size_t)err.position;
		memmove(c->buf, c->buf + skip, c->len - skip);
		c->len -= skip;
	}
	return true;
}

static json_t *pending_take(struct replay_conn *c, const json_t *id, bool any)
{
	size_t i;
	json_t *v;

	json_array_foreach(c->pending, i, v) {
		json_t *vid = json_object_get(v, "id");

		if (any || (id ? vid && json_equal(vid, id) : json_is_null(vid))) {
			json_incref(v);
			json_array_remove(c->pending, i);
			return v;
		}
	}
	return NULL;
}

static json_t *conn_wait(struct replay_conn *c, const json_t *id, bool any, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	json_t *v;

	if (c->fd <= 0)
		return NULL;
	for (;;) {
		uint64_t now = now_ms();

		v = pending_take(c, id, any);
		if (v || now >= deadline)
			return v;
		if (!conn_pump(c, (int)(deadline - now)))
			return pending_take(c, id, any);
	}
}

json_t *replay_conn_wait_id(struct replay_conn *c, const json_t *id, int timeout_ms)
{
	return conn_wait(c, id, false, timeout_ms);
}

json_t *replay_conn_wait_any(struct replay_conn *c, int timeout_ms)
{
	return conn_wait(c, NULL, true, timeout_ms);
}

json_t *replay_call(struct replay_env *e, enum replay_node n, const char *method,
		    json_t *params, int timeout_ms)
{
	struct replay_conn c = {.fd = -1};
	char sock[512], *text;
	json_t *req, *id = json_integer(999999), *ans = NULL;
	int fd = sock_connect(replay_node_sock(e, n, sock, sizeof(sock)));

	if (fd < 0) {
		json_decref(id);
		json_decref(params);
		return NULL;
	}
	c.fd = fd;
	c.pending = json_array();
	req = json_pack("{s:s,s:s,s:O}", "jsonrpc", "2.0", "method", method, "id", id);
	if (params)
		json_object_set_new(req, "params", params);
	text = json_dumps(req, JSON_COMPACT);
	if (text && replay_conn_send(&c, text, strlen(text)) == 0)
		ans = replay_conn_wait_id(&c, id, timeout_ms);
	free(text);
	json_decref(req);
	json_decref(id);
	replay_conn_close(&c);
	return ans;
}
