/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers of the spdk-sim core tests (core_harness.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core_harness.h"

/* Scratch directories of sims a failed test did not stop (removed by the teardown). */
static char g_dirs[16][64];

static void dir_track(const char *dir, bool add)
{
	for (size_t i = 0; i < sizeof(g_dirs) / sizeof(g_dirs[0]); i++) {
		if (add && !g_dirs[i][0]) {
			snprintf(g_dirs[i], sizeof(g_dirs[i]), "%s", dir);
			return;
		}
		if (!add && strcmp(g_dirs[i], dir) == 0) {
			g_dirs[i][0] = '\0';
			return;
		}
	}
}

static void dir_remove(const char *dir)
{
	static const char *const files[] = {"rpc.sock", "rpc.sock.lock", "ctl.sock"};
	char path[1100];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int sock_connect(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Children still alive when a test fails: killed by the group teardown. */
pid_t g_children[64];
size_t g_nchildren;

pid_t spawn(const char *const argv[])
{
	pid_t pid = fork();

	if (pid > 0 && g_nchildren < sizeof(g_children) / sizeof(g_children[0]))
		g_children[g_nchildren++] = pid;
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		/* keep the test runner's pipes free of a sim that outlives a failed test */
		dup2(devnull, 1);
		dup2(devnull, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* waitpid and forget the child, so the teardown never signals a recycled pid. */
void reap(pid_t pid, int *status)
{
	waitpid(pid, status, 0);
	for (size_t i = 0; i < g_nchildren; i++)
		if (g_children[i] == pid)
			g_children[i] = g_children[--g_nchildren];
}

void sim_start(struct tsim *t, bool wait_for_rpc)
{
	sim_start_args(t, wait_for_rpc, "0x1");
}

void sim_start_args(struct tsim *t, bool wait_for_rpc, const char *mask)
{
	const char *bin = getenv("SPDK_SIM_BIN");
	uint64_t deadline;

	assert_non_null(bin);
	snprintf(t->dir, sizeof(t->dir), "/tmp/simcore.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->rpc, sizeof(t->rpc), "%s/rpc.sock", t->dir);
	snprintf(t->ctl, sizeof(t->ctl), "%s/ctl.sock", t->dir);
	const char *argv[] = {bin, "-m", mask, "-r", t->rpc, "--control", t->ctl,
			      wait_for_rpc ? "--wait-for-rpc" : NULL, NULL};
	t->pid = spawn(argv);
	assert_true(t->pid > 0);
	dir_track(t->dir, true);
	for (deadline = now_ms() + 5000; now_ms() < deadline; usleep(5000)) {
		int a = sock_connect(t->rpc), b = sock_connect(t->ctl);

		if (a >= 0)
			close(a);
		if (b >= 0)
			close(b);
		if (a >= 0 && b >= 0)
			return;
	}
	fail_msg("spdk-sim did not come up");
}

/* Stop with SIGTERM; returns the wait status. */
int sim_stop_proc(struct tsim *t)
{
	int status = 0;

	if (t->pid > 0) {
		kill(t->pid, SIGTERM);
		reap(t->pid, &status);
		t->pid = 0;
	}
	dir_remove(t->dir);
	dir_track(t->dir, false);
	return status;
}

void conn_open(struct tconn *c, const char *path)
{
	c->fd = sock_connect(path);
	c->len = 0;
	assert_true(c->fd >= 0);
}

void conn_send(struct tconn *c, const char *s)
{
	assert_int_equal(send(c->fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Next JSON value from c within timeout_ms; NULL on timeout. *closed set on EOF. */
json_t *conn_recv(struct tconn *c, int timeout_ms, bool *closed)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	if (closed)
		*closed = false;
	for (;;) {
		json_error_t err;
		size_t skip = 0;

		while (skip < c->len && strchr(" \r\n", c->buf[skip]))
			skip++;
		if (skip < c->len) {
			json_t *v = json_loadb(c->buf + skip, c->len - skip, JSON_DISABLE_EOF_CHECK,
					       &err);

			if (v) {
				skip += (size_t)err.position;
				memmove(c->buf, c->buf + skip, c->len - skip);
				c->len -= skip;
				return v;
			}
		}
		uint64_t now = now_ms();

		if (now >= deadline)
			return NULL;
		struct pollfd p = {.fd = c->fd, .events = POLLIN};

		if (poll(&p, 1, (int)(deadline - now)) <= 0)
			continue;
		ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);

		if (n <= 0) {
			if (closed)
				*closed = true;
			return NULL;
		}
		c->len += (size_t)n;
	}
}

json_t *rpc(struct tconn *c, const char *request)
{
	json_t *v;

	conn_send(c, request);
	v = conn_recv(c, 3000, NULL);
	assert_non_null(v);
	return v;
}

json_t *ctl(struct tsim *t, const char *cmd)
{
	struct tconn c;
	json_t *v;

	conn_open(&c, t->ctl);
	conn_send(&c, cmd);
	conn_send(&c, "\n");
	v = conn_recv(&c, 3000, NULL);
	close(c.fd);
	assert_non_null(v);
	return v;
}

void assert_json(json_t *got, const char *want_text)
{
	json_t *want = json_loads(want_text, 0, NULL);

	assert_non_null(want);
	if (!json_equal(want, got)) {
		char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);

		fail_msg("want %s\n got %s", want_text, g);
	}
	json_decref(want);
	json_decref(got);
}

json_t *result_of(json_t *ans)
{
	json_t *r = json_incref(json_object_get(ans, "result"));

	json_decref(ans);
	return r;
}

int kill_children(void **state)
{
	/* only children not reaped yet: their pids cannot have been reused */
	for (size_t i = 0; i < g_nchildren; i++)
		if (kill(g_children[i], SIGKILL) == 0)
			waitpid(g_children[i], NULL, 0);
	g_nchildren = 0;
	for (size_t i = 0; i < sizeof(g_dirs) / sizeof(g_dirs[0]); i++) {
		if (g_dirs[i][0])
			dir_remove(g_dirs[i]);
		g_dirs[i][0] = '\0';
	}
	return 0;
}
