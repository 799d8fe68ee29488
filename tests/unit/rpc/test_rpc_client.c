/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON-RPC client against a scripted fake SPDK: framing, ordering, timeouts, failures. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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

#include "common/util.h"
#include "fake_spdk.h"
#include "rpc/rpc.h"

static const char *method_of(json_t *req)
{
	return json_string_value(json_object_get(req, "method"));
}

/* Echo: result = {"method": M, "params": P}. */
static enum fake_next h_echo(struct fake *f, int fd, json_t *req, void *arg)
{
	json_t *params = json_object_get(req, "params");

	fake_answer(fd, json_object_get(req, "id"),
		    json_pack("{s:s, s:O}", "method", method_of(req), "params",
			      params ? params : json_null()));
	return FAKE_CONTINUE;
}

static struct rpc_client *open_client(struct fake *f, int timeout_ms, size_t max_answer)
{
	struct rpc_client_opts o = {.timeout_ms = timeout_ms, .max_answer = max_answer};
	struct rpc_client *c = NULL;
	struct rpc_error err;

	assert_int_equal(rpc_client_open(fake_path(f), &o, &c, &err), 0);
	assert_non_null(c);
	return c;
}

static void test_echo_and_params(void **state)
{
	struct fake *f = fake_start(h_echo, NULL);
	struct rpc_client *c = open_client(f, 2000, 0);
	struct rpc_error err;
	char *res = NULL;

	assert_int_equal(rpc_call_raw(c, "bdev_get_bdevs", "{\"name\":\"x\"}", 2000, &res, &err),
			 0);
	assert_string_equal(res, "{\"method\":\"bdev_get_bdevs\",\"params\":{\"name\":\"x\"}}");
	free(res);
	assert_int_equal(rpc_call_raw(c, "spdk_get_version", NULL, 2000, &res, &err), 0);
	assert_string_equal(res, "{\"method\":\"spdk_get_version\",\"params\":null}");
	free(res);
	/* Params that are not JSON never reach the socket. */
	assert_int_equal(rpc_call_raw(c, "x", "{\"name\":", 2000, &res, &err), -EINVAL);
	assert_non_null(strstr(err.message, "not valid JSON"));
	assert_int_equal(rpc_call_raw(c, "x", "42", 2000, &res, &err), -EINVAL);
	assert_non_null(strstr(err.message, "object or array"));
	assert_int_equal(fake_requests(f), 2);
	assert_int_equal(rpc_client_generation(c), 1);
	rpc_client_close(c);
	fake_stop(f, false);
}

static const char *version_result =
	"{\"version\":\"SPDK v25.09 git sha1 a2f2a0b279\",\"fields\":{\"major\":25,\"minor\":9,"
	"\"patch\":0,\"suffix\":\"\",\"commit\":\"a2f2a0b279\"}}";

static enum fake_next h_bytewise(struct fake *f, int fd, json_t *req, void *arg)
{
	char *t = fake_answer_text(json_object_get(req, "id"), json_loads(version_result, 0, NULL));

	fake_send_split(fd, t, 1, 200);
	free(t);
	return FAKE_CONTINUE;
}

static void test_split_byte_by_byte(void **state)
{
	struct fake *f = fake_start(h_bytewise, NULL);
	struct rpc_client *c = open_client(f, 5000, 0);
	struct rpc_error err;
	char *res = NULL;

	assert_int_equal(rpc_call_raw(c, "spdk_get_version", NULL, 5000, &res, &err), 0);
	assert_string_equal(res, version_result);
	free(res);
	rpc_client_close(c);
	fake_stop(f, false);
}

/* Collects N requests, then answers them in reverse order, all in ONE write. */
struct batch {
	int n;
	int seen;
	json_t *ids[64];
	json_t *params[64];
};

static enum fake_next h_reverse_batch(struct fake *f, int fd, json_t *req, void *arg)
{
	struct batch *b = arg;
	size_t cap = 0, len = 0;
	char *all = NULL;

	b->ids[b->seen] = json_incref(json_object_get(req, "id"));
	b->params[b->seen] = json_incref(json_object_get(req, "params"));
	if (++b->seen < b->n)
		return FAKE_CONTINUE;
	for (int i = b->n - 1; i >= 0; i--) {
		char *t = fake_answer_text(b->ids[i], json_incref(b->params[i]));
		size_t tl = strlen(t);

		if (len + tl + 1 > cap) {
			cap = (len + tl + 1) * 2;
			all = realloc(all, cap);
		}
		memcpy(all + len, t, tl + 1);
		len += tl;
		free(t);
		json_decref(b->ids[i]);
		json_decref(b->params[i]);
	}
	fake_send(fd, all);
	free(all);
	b->seen = 0;
	return FAKE_CONTINUE;
}

struct caller {
	struct rpc_client *c;
	int n;
	int r;
	char *res;
};

static void *caller_thread(void *arg)
{
	struct caller *k = arg;
	struct rpc_error err;
	char params[64];

	snprintf(params, sizeof(params), "{\"n\":%d}", k->n);
	k->r = rpc_call_raw(k->c, "bdev_nvme_attach_controller", params, 5000, &k->res, &err);
	return NULL;
}

static void test_concurrent_reverse_order(void **state)
{
	enum { N = 32 };
	struct batch b = {.n = N};
	struct fake *f = fake_start(h_reverse_batch, &b);
	struct rpc_client *c = open_client(f, 5000, 0);
	struct caller k[N];
	pthread_t t[N];

	for (int i = 0; i < N; i++) {
		k[i] = (struct caller){.c = c, .n = i};
		assert_int_equal(pthread_create(&t[i], NULL, caller_thread, &k[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		char want[64];

		pthread_join(t[i], NULL);
		assert_int_equal(k[i].r, 0);
		snprintf(want, sizeof(want), "{\"n\":%d}", i);
		assert_string_equal(k[i].res, want);
		free(k[i].res);
	}
	assert_int_equal(fake_requests(f), N);
	rpc_client_close(c);
	fake_stop(f, false);
}

/* Answers with an id nobody asked for, then behaves. */
static enum fake_next h_wrong_id(struct fake *f, int fd, json_t *req, void *arg)
{
	if (strcmp(method_of(req), "wrong") == 0) {
		json_t *id = json_integer(json_integer_value(json_object_get(req, "id")) + 1000);

		fake_answer(fd, id, json_true());
		json_decref(id);
		return FAKE_CONTINUE;
	}
	return h_echo(f, fd, req, arg);
}

static void test_wrong_id_times_out(void **state)
{
	struct fake *f = fake_start(h_wrong_id, NULL);
	struct rpc_client *c = open_client(f, 5000, 0);
	struct rpc_error err;
	char *res = NULL;

	assert_int_equal(rpc_call_raw(c, "wrong", NULL, 200, &res, &err), -ETIMEDOUT);
	assert_int_equal(err.err, -ETIMEDOUT);
	assert_int_equal(err.code, 0);
	assert_string_equal(err.method, "wrong");
	/* The connection is still usable. */
	assert_int_equal(rpc_call_raw(c, "right", NULL, 2000, &res, &err), 0);
	free(res);
	assert_int_equal(rpc_client_generation(c), 1);
	rpc_client_close(c);
	fake_stop(f, false);
}

/* "slow" is answered after 300 ms; every other method at once. */
static enum fake_next h_late(struct fake *f, int fd, json_t *req, void *arg)
{
	if (strcmp(method_of(req), "slow") == 0) {
		usleep(300000);
		fake_answer(fd, json_object_get(req, "id"), json_string("slow"));
		return FAKE_CONTINUE;
	}
	if (strcmp(method_of(req), "never") == 0)
		return FAKE_CONTINUE;
	fake_answer(fd, json_object_get(req, "id"), json_string(method_of(req)));
	return FAKE_CONTINUE;
}

static void test_late_answer_not_delivered_to_others(void **state)
{
	struct fake *f = fake_start(h_late, NULL);
	struct rpc_client *c = open_client(f, 5000, 0);
	struct rpc_error err;
	char *res = NULL;

	assert_int_equal(rpc_call_raw(c, "never", NULL, 100, &res, &err), -ETIMEDOUT);
	assert_non_null(strstr(err.message, "no answer within 100 ms"));
	assert_int_equal(rpc_call_raw(c, "slow", NULL, 100, &res, &err), -ETIMEDOUT);
	/* The late "slow" answer arrives while this call waits: it must get its own. */
	assert_int_equal(rpc_call_raw(c, "fast", NULL, 2000, &res, &err), 0);
	assert_string_equal(res, "\"fast\"");
	free(res);
	rpc_client_close(c);
	fake_stop(f, false);
}

static enum fake_next h_close_mid(struct fake *f, int fd, json_t *req, void *arg)
{
	char *t;

	if (strcmp(method_of(req), "cut") != 0)
		return h_echo(f, fd, req, arg);
	t = fake_answer_text(json_object_get(req, "id"), json_loads(version_result, 0, NULL));
	t[strlen(t) / 2] = '\0';
	fake_send(fd, t);
	free(t);
	return FAKE_CLOSE;
}

static void test_close_mid_answer_then_reconnect(void **state)
{
	struct fake *f = fake_start(h_close_mid, NULL);
	struct rpc_client *c = open_client(f, 5000, 0);
	struct rpc_error err;
	char *res = NULL;

	assert_int_equal(rpc_call_raw(c, "cut", NULL, 2000, &res, &err), -ECONNRESET);
	assert_non_null(strstr(err.message, "mid-answer"));
	assert_string_equal(err.method, "cut");
	/* The next call reconnects by itself; the generation tells a restart may have happened. */
	assert_int_equal(rpc_call_raw(c, "again", NULL, 2000, &res, &err), 0);
	free(res);
	assert_int_equal(rpc_client_generation(c), 2);
	rpc_client_close(c);
	fake_stop(f, false);
}

/* A large answer, then the socket closed at once (SPDK answering, then exiting). */
static enum fake_next h_big_then_close(struct fake *f, int fd, json_t *req, void *arg)
{
	json_t *arr = json_array();

	for (int i = 0; i < 4000; i++)
		json_array_append_new(arr, json_pack("{s:s, s:i}", "name", "Nvme0n1_padding_bdev",
						     "num_blocks", i));
	fake_answer(fd, json_object_get(req, "id"), arr);
	return FAKE_CLOSE;
}

static void test_answer_then_close_delivered(void **state)
{
	struct fake *f = fake_start(h_big_then_close, NULL);
	struct rpc_client *c = open_client(f, 5000, 0);
	struct rpc_error err;
	char *res = NULL;

	for (int round = 0; round < 20; round++) {
		assert_int_equal(rpc_call_raw(c, "bdev_get_bdevs", NULL, 5000, &res, &err), 0);
		assert_true(strlen(res) > 65536);
		json_t *v = json_loads(res, 0, NULL);
		assert_non_null(v);
		assert_int_equal(json_array_size(v), 4000);
		json_decref(v);
		free(res);
	}
	rpc_client_close(c);
	fake_stop(f, false);
}

static enum fake_next h_garbage(struct fake *f, int fd, json_t *req, void *arg)
{
	if (strcmp(method_of(req), "garbage") == 0) {
		fake_send(fd, "hello, this is not JSON\n");
		return FAKE_CONTINUE;
	}
	if (strcmp(method_of(req), "garbage2") == 0) {
		fake_send(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[1,2,,3]} more text "
			      "follows here");
		return FAKE_CONTINUE;
	}
	return h_echo(f, fd, req, arg);
}

static void test_not_json_resets(void **state)
{
	struct fake *f = fake_start(h_garbage, NULL);
	struct rpc_client *c = open_client(f, 5000, 0);
	struct rpc_error err;
	char *res = NULL;

	assert_int_equal(rpc_call_raw(c, "garbage", NULL, 2000, &res, &err), -EBADMSG);
	assert_non_null(strstr(err.message, "not a JSON object"));
	assert_int_equal(rpc_call_raw(c, "ok", NULL, 2000, &res, &err), 0);
	free(res);
	assert_int_equal(rpc_client_generation(c), 2);
	assert_int_equal(rpc_call_raw(c, "garbage2", NULL, 2000, &res, &err), -EBADMSG);
	assert_non_null(strstr(err.message, "not valid JSON"));
	assert_int_equal(rpc_call_raw(c, "ok", NULL, 2000, &res, &err), 0);
	free(res);
	assert_int_equal(rpc_client_generation(c), 3);
	rpc_client_close(c);
	fake_stop(f, false);
}

/* "big" answers with a string of params.size bytes. */
static enum fake_next h_big(struct fake *f, int fd, json_t *req, void *arg)
{
	json_int_t size =
		json_integer_value(json_object_get(json_object_get(req, "params"), "size"));
	char *s = malloc((size_t)size + 1);
	char *t;

	memset(s, 'a', (size_t)size);
	s[size] = '\0';
	t = fake_answer_text(json_object_get(req, "id"), json_string(s));
	fake_send_split(fd, t, size > 100000 ? 65536 : 1000, 0);
	free(t);
	free(s);
	return FAKE_CONTINUE;
}

static void test_answer_size_cap(void **state)
{
	struct fake *f = fake_start(h_big, NULL);
	struct rpc_client *c = open_client(f, 5000, 4096);
	struct rpc_error err;
	char *res = NULL;

	assert_int_equal(rpc_call_raw(c, "big", "{\"size\":3000}", 2000, &res, &err), 0);
	assert_int_equal(strlen(res), 3002);
	free(res);
	assert_int_equal(rpc_call_raw(c, "big", "{\"size\":100000}", 2000, &res, &err), -EMSGSIZE);
	assert_non_null(strstr(err.message, "4096"));
	assert_int_equal(rpc_call_raw(c, "big", "{\"size\":10}", 2000, &res, &err), 0);
	free(res);
	rpc_client_close(c);

	/*
	 * A 32 MB answer (a large saved config) under the default cap, arriving in many reads:
	 * framing must stay linear, or this takes minutes instead of well under a second.
	 */
	c = open_client(f, 20000, 0);
	assert_int_equal(rpc_call_raw(c, "big", "{\"size\":32000000}", 20000, &res, &err), 0);
	assert_int_equal(strlen(res), 32000002);
	free(res);
	rpc_client_close(c);
	fake_stop(f, false);
}

/* Errors exactly as SPDK v25.09 sent them (README's table). */
static enum fake_next h_errors(struct fake *f, int fd, json_t *req, void *arg)
{
	json_t *p = json_object_get(req, "params");
	json_t *a = json_pack("{s:s, s:O, s:{s:O, s:O}}", "jsonrpc", "2.0", "id",
			      json_object_get(req, "id"), "error", "code",
			      json_object_get(p, "code"), "message", json_object_get(p, "message"));
	char *t = json_dumps(a, JSON_COMPACT);

	fake_send(fd, t);
	free(t);
	json_decref(a);
	return FAKE_CONTINUE;
}

static void expect_error(struct rpc_client *c, int code, const char *msg, int want_err)
{
	char params[256], line[512];
	struct rpc_error err;
	char *res = NULL;

	snprintf(params, sizeof(params), "{\"code\":%d,\"message\":\"%s\"}", code, msg);
	assert_int_equal(rpc_call_raw(c, "bdev_nvme_get_controllers", params, 2000, &res, &err),
			 want_err);
	assert_null(res);
	assert_int_equal(err.err, want_err);
	assert_int_equal(err.code, code);
	assert_string_equal(err.message, msg);
	assert_string_equal(err.method, "bdev_nvme_get_controllers");
	rpc_error_str(&err, line, sizeof(line));
	assert_non_null(strstr(line, "bdev_nvme_get_controllers: "));
	assert_non_null(strstr(line, msg));
}

static void test_spdk_error_objects(void **state)
{
	struct fake *f = fake_start(h_errors, NULL);
	struct rpc_client *c = open_client(f, 5000, 0);

	expect_error(c, -19, "No such device", -ENODEV);
	expect_error(c, 22, "Controller nope does not exist", -EINVAL);
	expect_error(c, -114, "A controller named nvme0 already exists", -EALREADY);
	expect_error(c, -32601, "Method not found", -ENOSYS);
	expect_error(c, -32602, "File exists", -EINVAL);
	expect_error(c, -32603, "spdk_json_decode_object failed", -EINVAL);
	expect_error(c, -32700, "spdk_json_decode_object failed", -EBADMSG);
	expect_error(c, -1, "Operation not permitted", -EPERM);
	rpc_client_close(c);
	fake_stop(f, false);
	assert_int_equal(rpc_error_from_code(-100000), -EIO);
}

static void test_connect_errors(void **state)
{
	char dir[] = "/tmp/de-rpc-conn.XXXXXX", path[300];
	struct rpc_client_opts o = {.timeout_ms = 1000, .connect_timeout_ms = 150};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct rpc_client *c = NULL;
	struct rpc_error err;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/missing.sock", dir);
	assert_int_equal(rpc_client_open(path, &o, &c, &err), -ENOENT);
	assert_non_null(strstr(err.message, path));
	assert_non_null(strstr(err.message, "no such file"));
	assert_null(c);

	snprintf(path, sizeof(path), "%s/regular", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(rpc_client_open(path, &o, &c, &err), -ENOTSOCK);
	assert_non_null(strstr(err.message, "not a socket"));
	unlink(path);

	/* A socket file nobody listens on any more: refused. */
	snprintf(path, sizeof(path), "%s/dead.sock", dir);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(rpc_client_open(path, &o, &c, &err), -ECONNREFUSED);
	assert_non_null(strstr(err.message, "refused"));
	unlink(path);

	/* A listener that never accepts: once its backlog is full, connect gives up in time. */
	{
		struct rpc_client *held[8] = {0};
		int lfd = socket(AF_UNIX, SOCK_STREAM, 0), r = 0, i;

		assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		assert_int_equal(listen(lfd, 0), 0);
		for (i = 0; i < 8; i++) {
			r = rpc_client_open(path, &o, &held[i], &err);
			if (r < 0)
				break;
		}
		assert_int_equal(r, -EAGAIN);
		assert_non_null(strstr(err.message, "backlog"));
		assert_true(i >= 1);
		for (i = 0; i < 8; i++)
			rpc_client_close(held[i]);
		close(lfd);
		unlink(path);
	}
	rmdir(dir);
}

/*
 * Permission denied: root passes every file-mode check, so as root the attempt is made by a
 * child that dropped to uid/gid 65534 (nobody); the socket is mode 0600, owned by root.
 */
static void test_connect_eacces(void **state)
{
	struct fake *f = fake_start(h_echo, NULL);
	struct rpc_client_opts o = {.timeout_ms = 1000, .connect_timeout_ms = 150};
	pid_t pid;
	int status;

	assert_int_equal(chmod(fake_path(f), 0600), 0);
	assert_int_equal(chmod(fake_dir(f), 0755), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rpc_client *c = NULL;
		struct rpc_error err;
		int r;

		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(100);
		if (geteuid() != 0 && getuid() == 0)
			_exit(101);
		r = rpc_client_open(fake_path(f), &o, &c, &err);
		if (r == -EACCES && strstr(err.message, "permission denied"))
			_exit(0);
		if (r == 0 && geteuid() != 0 && access(fake_path(f), W_OK) == 0)
			_exit(102); /* we own the socket ourselves: cannot test */
		_exit(1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 100 || WEXITSTATUS(status) == 102) {
		fprintf(stderr, "EACCES check skipped: cannot become an unprivileged user here\n");
	} else {
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	fake_stop(f, false);
}

static void test_restart_reconnects(void **state)
{
	struct fake *f = fake_start(h_echo, NULL);
	struct rpc_client *c = open_client(f, 3000, 0);
	struct rpc_error err;
	char path[300], dir[256];
	char *res = NULL;

	snprintf(path, sizeof(path), "%s", fake_path(f));
	snprintf(dir, sizeof(dir), "%s", fake_dir(f));
	assert_int_equal(rpc_call_raw(c, "a", NULL, 1000, &res, &err), 0);
	free(res);
	fake_stop(f, true);
	/* SPDK is gone: a call fails within its timeout. */
	assert_true(rpc_call_raw(c, "b", NULL, 300, &res, &err) < 0);
	assert_int_equal(rpc_client_generation(c), 1);
	f = fake_start_at(path, h_echo, NULL);
	assert_int_equal(rpc_call_raw(c, "c", NULL, 2000, &res, &err), 0);
	free(res);
	assert_int_equal(rpc_client_generation(c), 2);
	/* An explicit reconnect replaces a live connection, too. */
	assert_int_equal(rpc_client_reconnect(c, 1000, &err), 0);
	assert_int_equal(rpc_client_generation(c), 3);
	assert_int_equal(rpc_call_raw(c, "d", NULL, 2000, &res, &err), 0);
	free(res);
	rpc_client_close(c);
	fake_stop(f, true);
	rmdir(dir);
}

/* Echo, and close the connection after answering "bye" (SPDK going away between calls). */
static enum fake_next h_echo_bye(struct fake *f, int fd, json_t *req, void *arg)
{
	h_echo(f, fd, req, arg);
	return strcmp(method_of(req), "bye") == 0 ? FAKE_CLOSE : FAKE_CONTINUE;
}

/*
 * manual_reconnect: the close is noticed with no call in flight, and later calls fail instead
 * of reaching the (new) SPDK behind the same path until the caller reconnects.
 */
static void test_manual_reconnect(void **state)
{
	struct fake *f = fake_start(h_echo_bye, NULL);
	struct rpc_client_opts o = {.timeout_ms = 2000, .manual_reconnect = true};
	struct rpc_client *c = NULL;
	struct rpc_error err;
	char *res = NULL;
	uint64_t end;

	assert_int_equal(rpc_client_open(fake_path(f), &o, &c, &err), 0);
	assert_false(rpc_client_closed(c));
	assert_int_equal(rpc_client_calls(c), 0);
	assert_int_equal(rpc_call_raw(c, "a", NULL, 1000, &res, &err), 0);
	free(res);
	assert_int_equal(rpc_call_raw(c, "bye", NULL, 1000, &res, &err), 0);
	free(res);
	assert_int_equal(rpc_client_calls(c), 2);
	/* nobody calls: the reader alone sees the close */
	end = util_now_ms() + 2000;
	while (!rpc_client_closed(c) && util_now_ms() < end)
		util_sleep_ms(5);
	assert_true(rpc_client_closed(c));
	/* the server accepts again, but the client does not go there by itself */
	assert_int_equal(rpc_call_raw(c, "b", NULL, 1000, &res, &err), -ECONNRESET);
	assert_string_equal(err.method, "b");
	assert_non_null(strstr(err.message, "lost"));
	assert_int_equal(rpc_client_generation(c), 1);
	assert_int_equal(rpc_client_reconnect(c, 1000, &err), 0);
	assert_int_equal(rpc_client_generation(c), 2);
	assert_false(rpc_client_closed(c));
	assert_int_equal(rpc_call_raw(c, "c", NULL, 1000, &res, &err), 0);
	assert_non_null(strstr(res, "\"c\""));
	free(res);
	rpc_client_close(c);
	fake_stop(f, false);
}

/* Calls in flight when the connection drops all fail; none hangs. */
static enum fake_next h_hold_then_close(struct fake *f, int fd, json_t *req, void *arg)
{
	int *seen = arg;

	return ++*seen == 8 ? FAKE_CLOSE : FAKE_CONTINUE;
}

static void test_inflight_fail_on_close(void **state)
{
	enum { N = 8 };
	int seen = 0;
	struct fake *f = fake_start(h_hold_then_close, &seen);
	struct rpc_client *c = open_client(f, 5000, 0);
	struct caller k[N];
	pthread_t t[N];

	for (int i = 0; i < N; i++) {
		k[i] = (struct caller){.c = c, .n = i};
		assert_int_equal(pthread_create(&t[i], NULL, caller_thread, &k[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(k[i].r, -ECONNRESET);
	}
	rpc_client_close(c);
	fake_stop(f, false);
}

/*
 * Stress: several threads share one connection; the server answers some at once, holds some
 * back and answers them in reverse order (several per write), never answers some, and answers
 * some after their caller gave up. Every caller must get exactly its own answer or -ETIMEDOUT.
 */
enum { STRESS_THREADS = 8, STRESS_CALLS = 150 };

struct held {
	json_t *id;
	json_t *params;
	uint64_t due_ms;
};

struct stress {
	struct held h[STRESS_THREADS * STRESS_CALLS];
	int n;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void stress_flush(struct stress *s, int fd, bool tick)
{
	uint64_t now = now_ms();
	char *all = NULL;
	size_t len = 0;
	int due = 0;

	for (int i = 0; i < s->n; i++)
		due += s->h[i].due_ms <= now;
	if (due == 0 || (!tick && due < 3))
		return;
	for (int i = s->n - 1; i >= 0; i--) {
		char *t;
		size_t tl;

		if (s->h[i].due_ms > now)
			continue;
		t = fake_answer_text(s->h[i].id, s->h[i].params);
		tl = strlen(t);
		all = realloc(all, len + tl + 1);
		memcpy(all + len, t, tl + 1);
		len += tl;
		free(t);
		json_decref(s->h[i].id);
		s->h[i] = s->h[--s->n];
	}
	fake_send(fd, all);
	free(all);
}

static enum fake_next h_stress(struct fake *f, int fd, json_t *req, void *arg)
{
	struct stress *s = arg;
	json_t *params, *id;
	int mode;

	if (!req) {
		stress_flush(s, fd, true);
		return FAKE_CONTINUE;
	}
	params = json_object_get(req, "params");
	id = json_object_get(req, "id");
	mode = (int)json_integer_value(json_object_get(params, "mode"));
	if (mode == 0) {
		fake_answer(fd, id, json_incref(params));
	} else if (mode == 1 || mode == 3) {
		s->h[s->n++] = (struct held){json_incref(id), json_incref(params),
					     now_ms() + (mode == 3 ? 80 : 0)};
	}
	stress_flush(s, fd, false);
	return FAKE_CONTINUE;
}

struct stress_caller {
	struct rpc_client *c;
	int t;
	int ok, timed_out, wrong;
};

static void *stress_thread(void *arg)
{
	struct stress_caller *k = arg;

	for (int i = 0; i < STRESS_CALLS; i++) {
		int sel = (k->t * 7 + i * 13) % 10;
		int mode = sel < 6 ? 0 : sel < 8 ? 1 : sel == 8 ? 2 : 3;
		char params[128], *res = NULL;
		struct rpc_error err;
		int r;

		snprintf(params, sizeof(params), "{\"t\":%d,\"i\":%d,\"mode\":%d}", k->t, i, mode);
		r = rpc_call_raw(k->c, "stress", params, mode >= 2 ? 30 : 5000, &res, &err);
		if (mode >= 2) {
			k->timed_out += r == -ETIMEDOUT;
			k->wrong += r != -ETIMEDOUT;
		} else if (r == 0 && strcmp(res, params) == 0) {
			k->ok++;
		} else {
			k->wrong++;
		}
		free(res);
	}
	return NULL;
}

static void test_stress_mixed(void **state)
{
	static struct stress s;
	struct fake *f = fake_start_ticking(h_stress, &s, 5);
	struct rpc_client *c = open_client(f, 5000, 0);
	struct stress_caller k[STRESS_THREADS];
	pthread_t t[STRESS_THREADS];
	int ok = 0, timed_out = 0, wrong = 0;

	for (int i = 0; i < STRESS_THREADS; i++) {
		k[i] = (struct stress_caller){.c = c, .t = i};
		assert_int_equal(pthread_create(&t[i], NULL, stress_thread, &k[i]), 0);
	}
	for (int i = 0; i < STRESS_THREADS; i++) {
		pthread_join(t[i], NULL);
		ok += k[i].ok;
		timed_out += k[i].timed_out;
		wrong += k[i].wrong;
	}
	assert_int_equal(wrong, 0);
	assert_int_equal(ok + timed_out, STRESS_THREADS * STRESS_CALLS);
	assert_true(timed_out > 0);
	assert_int_equal(rpc_client_generation(c), 1);
	rpc_client_close(c);
	fake_stop(f, false);
	for (int i = 0; i < s.n; i++)
		json_decref(s.h[i].id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_and_params),
		cmocka_unit_test(test_split_byte_by_byte),
		cmocka_unit_test(test_concurrent_reverse_order),
		cmocka_unit_test(test_wrong_id_times_out),
		cmocka_unit_test(test_late_answer_not_delivered_to_others),
		cmocka_unit_test(test_close_mid_answer_then_reconnect),
		cmocka_unit_test(test_answer_then_close_delivered),
		cmocka_unit_test(test_not_json_resets),
		cmocka_unit_test(test_answer_size_cap),
		cmocka_unit_test(test_spdk_error_objects),
		cmocka_unit_test(test_connect_errors),
		cmocka_unit_test(test_connect_eacces),
		cmocka_unit_test(test_restart_reconnects),
		cmocka_unit_test(test_manual_reconnect),
		cmocka_unit_test(test_inflight_fail_on_close),
		cmocka_unit_test(test_stress_mixed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
