/* SPDX-License-Identifier: Apache-2.0 */
#include "sim_test_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
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

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

int simproc_start(struct simproc *p)
{
	const char *bin = getenv("SPDK_SIM_BIN");
	char rpc[300], ctl[300];
	int fd = -1;

	memset(p, 0, sizeof(*p));
	p->rpc_fd = p->ctl_fd = -1;
	if (!bin)
		return -ENOENT;
	snprintf(p->dir, sizeof(p->dir), "/tmp/simtest.XXXXXX");
	if (!mkdtemp(p->dir))
		return -errno;
	snprintf(p->vhost_dir, sizeof(p->vhost_dir), "%s/vhost", p->dir);
	if (mkdir(p->vhost_dir, 0700) != 0)
		return -errno;
	snprintf(rpc, sizeof(rpc), "%s/rpc.sock", p->dir);
	snprintf(ctl, sizeof(ctl), "%s/ctl.sock", p->dir);
	p->pid = fork();
	if (p->pid < 0)
		return -errno;
	if (p->pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		if (devnull >= 0)
			dup2(devnull, STDOUT_FILENO);
		execl(bin, bin, "-r", rpc, "--control", ctl, "-S", p->vhost_dir, "-m", "0x2",
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && (p->rpc_fd < 0 || fd < 0); i++) {
		if (p->rpc_fd < 0)
			p->rpc_fd = connect_unix(rpc);
		if (fd < 0)
			fd = connect_unix(ctl);
		if (p->rpc_fd < 0 || fd < 0)
			usleep(20000);
	}
	p->ctl_fd = fd;
	if (p->rpc_fd < 0 || p->ctl_fd < 0) {
		simproc_stop(p);
		return -ETIMEDOUT;
	}
	return 0;
}

static void rm_tree(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

int simproc_stop(struct simproc *p)
{
	int status = 0, rc = 0;

	if (p->rpc_fd >= 0)
		close(p->rpc_fd);
	if (p->ctl_fd >= 0)
		close(p->ctl_fd);
	p->rpc_fd = p->ctl_fd = -1;
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		if (waitpid(p->pid, &status, 0) != p->pid)
			rc = -errno;
		else if (WIFEXITED(status))
			rc = WEXITSTATUS(status);
		else
			rc = 128 + WTERMSIG(status);
		p->pid = 0;
	}
	free(p->buf);
	p->buf = NULL;
	p->len = 0;
	if (p->dir[0])
		rm_tree(p->dir);
	return rc;
}

static int send_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

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

int sim_rpc_send(struct simproc *p, const char *method, json_t *params)
{
	json_t *req = json_pack("{s:s, s:s, s:i}", "jsonrpc", "2.0", "method", method, "id",
				++p->next_id);
	char *txt;

	if (params)
		json_object_set(req, "params", params);
	txt = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!txt || send_all(p->rpc_fd, txt, strlen(txt)) != 0) {
		free(txt);
		return -1;
	}
	free(txt);
	return p->next_id;
}

/* One complete JSON value from the buffer, or NULL when more bytes are needed. */
static json_t *take_value(struct simproc *p)
{
	json_error_t err;
	json_t *v;
	size_t skip = 0;

	while (skip < p->len && (p->buf[skip] == ' ' || p->buf[skip] == '\n' ||
				 p->buf[skip] == '\r' || p->buf[skip] == '\t'))
		skip++;
	if (skip == p->len)
		return NULL;
	v = json_loadb(p->buf + skip, p->len - skip, JSON_DISABLE_EOF_CHECK, &err);
	if (!v)
		return NULL;
	skip += (size_t)err.position;
	memmove(p->buf, p->buf + skip, p->len - skip);
	p->len -= skip;
	return v;
}

json_t *sim_rpc_wait(struct simproc *p, int id, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		json_t *v = take_value(p);
		struct pollfd pfd = {.fd = p->rpc_fd, .events = POLLIN};
		char chunk[65536];
		ssize_t n;
		uint64_t now;

		if (v) {
			if (json_integer_value(json_object_get(v, "id")) == id)
				return v;
			json_decref(v);
			continue;
		}
		now = now_ms();
		if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0)
			return NULL;
		n = recv(p->rpc_fd, chunk, sizeof(chunk), 0);
		if (n <= 0)
			return NULL;
		p->buf = realloc(p->buf, p->len + (size_t)n);
		if (!p->buf)
			abort();
		memcpy(p->buf + p->len, chunk, (size_t)n);
		p->len += (size_t)n;
	}
}

json_t *sim_rpc(struct simproc *p, const char *method, json_t *params)
{
	int id = sim_rpc_send(p, method, params);

	json_decref(params);
	return id < 0 ? NULL : sim_rpc_wait(p, id, 5000);
}

json_t *sim_result(json_t *ans)
{
	return json_object_get(ans, "result");
}

int sim_error_code(json_t *ans)
{
	return (int)json_integer_value(json_object_get(json_object_get(ans, "error"), "code"));
}

const char *sim_error_message(json_t *ans)
{
	const char *m =
		json_string_value(json_object_get(json_object_get(ans, "error"), "message"));

	return m ? m : "";
}

json_t *sim_ctl(struct simproc *p, const char *cmd, json_t *args)
{
	char *txt, line[65536];
	size_t len = 0;

	if (!args)
		args = json_object();
	json_object_set_new(args, "cmd", json_string(cmd));
	txt = json_dumps(args, JSON_COMPACT);
	json_decref(args);
	if (!txt)
		return NULL;
	if (send_all(p->ctl_fd, txt, strlen(txt)) != 0 || send_all(p->ctl_fd, "\n", 1) != 0) {
		free(txt);
		return NULL;
	}
	free(txt);
	while (len < sizeof(line) - 1) {
		ssize_t n = recv(p->ctl_fd, line + len, 1, 0);

		if (n <= 0)
			return NULL;
		if (line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	return json_loads(line, 0, NULL);
}

json_t *sim_raid_get(struct simproc *p, const char *name)
{
	json_t *ans = sim_rpc(p, "bdev_raid_get_bdevs", json_pack("{s:s}", "category", "all"));
	json_t *r, *found = NULL;
	size_t i;

	json_array_foreach(sim_result(ans), i, r)
	{
		if (strcmp(json_string_value(json_object_get(r, "name")), name) == 0) {
			found = json_incref(r);
			break;
		}
	}
	json_decref(ans);
	return found;
}

char *sim_io_paths(struct simproc *p)
{
	json_t *ans = sim_rpc(p, "bdev_nvme_get_io_paths", NULL), *g, *path;
	size_t i, j, len = 0;
	char *out = calloc(1, 4096);

	if (!out)
		abort();
	json_array_foreach(json_object_get(sim_result(ans), "poll_groups"), i, g)
	{
		len += (size_t)snprintf(out + len, 4096 - len, "%s%s:", i ? ";" : "",
					json_string_value(json_object_get(g, "thread")));
		json_array_foreach(json_object_get(g, "io_paths"), j, path)
		{
			len += (size_t)snprintf(
				out + len, 4096 - len, "%s%s%s", j ? "," : "",
				json_string_value(json_object_get(path, "bdev_name")),
				json_is_true(json_object_get(path, "current")) ? "*" : "");
			if (len >= 4096)
				abort();
		}
	}
	json_decref(ans);
	return out;
}

int sim_nvme_local_drive(struct simproc *p, const char *name, const char *traddr, int blocks)
{
	json_t *ans = sim_ctl(p, "pcie_add", json_pack("{s:s, s:i}", "traddr", traddr,
						       "num_blocks", blocks));
	int rc = json_is_true(json_object_get(ans, "ok")) ? 0 : -EIO;

	json_decref(ans);
	if (rc)
		return rc;
	ans = sim_rpc(p, "bdev_nvme_attach_controller",
		      json_pack("{s:s, s:s, s:s}", "name", name, "trtype", "PCIe", "traddr",
				traddr));
	rc = json_is_array(sim_result(ans)) ? 0 : -EIO;
	json_decref(ans);
	return rc;
}
