/* SPDX-License-Identifier: Apache-2.0 */
/* `diskengine rpc` as an operator runs it ($DISKENGINE_BIN) against a fake SPDK socket. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_spdk.h"

static enum fake_next h_cli(struct fake *f, int fd, json_t *req, void *arg)
{
	const char *m = json_string_value(json_object_get(req, "method"));
	json_t *id = json_object_get(req, "id");
	json_t *params = json_object_get(req, "params");

	if (strcmp(m, "bdev_nvme_get_controllers") == 0) {
		char *t;
		json_t *a =
			json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id, "error",
				  "code", 22, "message", "Controller nope does not exist");

		t = json_dumps(a, JSON_COMPACT);
		fake_send(fd, t);
		free(t);
		json_decref(a);
		return FAKE_CONTINUE;
	}
	if (strcmp(m, "never") == 0)
		return FAKE_CONTINUE;
	fake_answer(fd, id,
		    json_pack("{s:s, s:O}", "method", m, "params", params ? params : json_null()));
	return FAKE_CONTINUE;
}

struct run {
	int rc;
	char out[8192];
	char err[8192];
};

static void slurp(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
}

/* Run diskengine with args (NULL-terminated), SPDK_RPC_SOCK set to sock (or unset if NULL). */
static void run(struct run *r, const char *sock, ...)
{
	const char *bin = getenv("DISKENGINE_BIN");
	char *argv[16];
	int outp[2], errp[2], n = 0, status;
	va_list ap;
	pid_t pid;

	assert_non_null(bin);
	argv[n++] = (char *)bin;
	va_start(ap, sock);
	while (n < 15 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	assert_int_equal(pipe(outp), 0);
	assert_int_equal(pipe(errp), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(outp[1], 1);
		dup2(errp[1], 2);
		close(outp[0]);
		close(errp[0]);
		if (sock)
			setenv("SPDK_RPC_SOCK", sock, 1);
		else
			unsetenv("SPDK_RPC_SOCK");
		execv(bin, argv);
		_exit(127);
	}
	close(outp[1]);
	close(errp[1]);
	/* Answers are small; reading stdout fully before stderr cannot deadlock here. */
	slurp(outp[0], r->out, sizeof(r->out));
	slurp(errp[0], r->err, sizeof(r->err));
	close(outp[0]);
	close(errp[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	r->rc = WEXITSTATUS(status);
}

static void test_cli_rpc(void **state)
{
	struct fake *f = fake_start(h_cli, NULL);
	const char *sock = fake_path(f);
	struct run r;

	run(&r, NULL, "rpc", "-s", sock, "bdev_get_bdevs", "{\"name\":\"nvme0n1\"}", NULL);
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "\"method\": \"bdev_get_bdevs\""));
	assert_non_null(strstr(r.out, "\"name\": \"nvme0n1\""));
	assert_non_null(strstr(r.out, "\n  ")); /* indented */

	/* The socket from the environment. */
	run(&r, sock, "rpc", "spdk_get_version", NULL);
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "spdk_get_version"));

	/* SPDK's error: code and message on stderr, exit 1. */
	run(&r, sock, "rpc", "bdev_nvme_get_controllers", "{\"name\":\"nope\"}", NULL);
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "bdev_nvme_get_controllers"));
	assert_non_null(strstr(r.err, "Controller nope does not exist"));
	assert_non_null(strstr(r.err, "22"));

	run(&r, sock, "rpc", "-t", "1", "never", NULL);
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.err, "no answer within 1000 ms"));

	/* Usage errors: exit 2 with a reason. */
	run(&r, sock, "rpc", "bdev_get_bdevs", "{\"name\":", NULL);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "not valid JSON"));
	run(&r, sock, "rpc", "bdev_get_bdevs", "\"x\"", NULL);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "object or array"));
	run(&r, sock, "rpc", NULL);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "missing METHOD"));
	run(&r, sock, "rpc", "-t", "zero", "x", NULL);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "invalid timeout 'zero'"));
	run(&r, sock, "rpc", "a", "{}", "extra", NULL);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "unexpected argument 'extra'"));
	run(&r, sock, "rpc", "--help", NULL);
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "usage: diskengine rpc"));

	fake_stop(f, false);

	/* Unreachable socket: exit 5. */
	run(&r, "/nonexistent/spdk.sock", "rpc", "spdk_get_version", NULL);
	assert_int_equal(r.rc, 5);
	assert_non_null(strstr(r.err, "/nonexistent/spdk.sock"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_rpc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
