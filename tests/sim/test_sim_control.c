/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim's control channel (fail, delay, stats, crash, reset window) and its command
 * line (options, lock file, stale socket, ctl mode, SIGTERM, spdk_kill_instance).
 * Each test runs its own spdk-sim process ($SPDK_SIM_BIN) in a scratch directory.
 */
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
#include <jansson.h>

#include "core_harness.h"

/* ---- control channel -------------------------------------------------------------------- */

static void test_control_fail_delay_stats(void **state)
{
	struct tsim t;
	struct tconn c;
	uint64_t t0;

	sim_start(&t, false);
	conn_open(&c, t.rpc);
	assert_json(ctl(&t, "{\"cmd\":\"ping\"}"), "{\"ok\":true,\"result\":\"pong\"}");
	assert_json(ctl(&t, "{\"cmd\":\"fail\",\"method\":\"spdk_get_version\",\"count\":2,"
			    "\"code\":-5}"),
		    "{\"ok\":true,\"result\":null}");
	for (int i = 1; i <= 2; i++) {
		char req[96];

		snprintf(req, sizeof(req), "{\"id\":%d,\"method\":\"spdk_get_version\"}", i);
		json_t *v = rpc(&c, req);
		assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "error"),
								    "code")),
				 -5);
		assert_string_equal(json_string_value(json_object_get(json_object_get(v, "error"),
									"message")),
				    "Input/output error");
		json_decref(v);
	}
	json_t *v = rpc(&c, "{\"id\":3,\"method\":\"spdk_get_version\"}");
	assert_non_null(json_object_get(v, "result"));
	json_decref(v);

	json_decref(ctl(&t, "{\"cmd\":\"delay\",\"method\":\"bdev_get_bdevs\",\"ms\":600}"));
	t0 = now_ms();
	json_decref(rpc(&c, "{\"id\":4,\"method\":\"bdev_get_bdevs\"}"));
	assert_true(now_ms() - t0 >= 590);
	t0 = now_ms();
	json_decref(rpc(&c, "{\"id\":5,\"method\":\"bdev_get_bdevs\"}"));
	/* the rule was for one call only (a generous bound: the machine may be busy) */
	assert_true(now_ms() - t0 < 450);

	v = ctl(&t, "{\"cmd\":\"stats\"}");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "result"),
							    "spdk_get_version")),
			 3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "result"),
							    "bdev_get_bdevs")),
			 2);
	json_decref(v);
	json_decref(ctl(&t, "{\"cmd\":\"stats_reset\"}"));
	assert_json(ctl(&t, "{\"cmd\":\"stats\"}"), "{\"ok\":true,\"result\":{}}");

	/* bad input names what was wrong */
	v = ctl(&t, "{\"cmd\":\"fail\",\"method\":\"x\"}");
	assert_true(json_is_false(json_object_get(v, "ok")));
	assert_non_null(strstr(json_string_value(json_object_get(v, "error")), "'code'"));
	json_decref(v);
	v = ctl(&t, "{\"cmd\":\"delay\",\"method\":\"x\",\"ms\":-1}");
	assert_non_null(strstr(json_string_value(json_object_get(v, "error")), "'ms'"));
	json_decref(v);
	v = ctl(&t, "{\"cmd\":\"frobnicate\"}");
	assert_string_equal(json_string_value(json_object_get(v, "error")),
			    "unknown command: frobnicate");
	json_decref(v);
	v = ctl(&t, "not json");
	assert_true(json_is_false(json_object_get(v, "ok")));
	json_decref(v);
	close(c.fd);
	sim_stop_proc(&t);
}

static void test_control_crash_and_reset_window(void **state)
{
	struct tsim t;
	struct tconn c;
	json_t *v;
	int status;

	sim_start(&t, false);
	conn_open(&c, t.rpc);
	assert_json(ctl(&t, "{\"cmd\":\"tripwires\"}"),
		    "{\"ok\":true,\"result\":{\"unfiltered_bdev_get_bdevs_during_reset\":0,"
		    "\"unfiltered_bdev_get_iostat\":0}}");
	/* outside a reset an unfiltered bdev_get_bdevs is not counted */
	json_decref(rpc(&c, "{\"id\":1,\"method\":\"bdev_get_bdevs\"}"));
	/* inside a reset window it is answered as SPDK v25.09 does, and counted */
	json_decref(ctl(&t, "{\"cmd\":\"reset_window\",\"ms\":5000}"));
	json_decref(rpc(&c, "{\"id\":2,\"method\":\"bdev_get_bdevs\","
			    "\"params\":{\"name\":\"x\"}}"));
	v = rpc(&c, "{\"id\":3,\"method\":\"bdev_get_bdevs\"}");
	assert_non_null(v);
	assert_true(json_is_array(json_object_get(v, "result")));
	json_decref(v);
	assert_json(ctl(&t, "{\"cmd\":\"tripwires\"}"),
		    "{\"ok\":true,\"result\":{\"unfiltered_bdev_get_bdevs_during_reset\":1,"
		    "\"unfiltered_bdev_get_iostat\":0}}");
	json_decref(ctl(&t, "{\"cmd\":\"reset_window\",\"ms\":0}"));
	json_decref(rpc(&c, "{\"id\":4,\"method\":\"bdev_get_bdevs\"}"));
	assert_json(ctl(&t, "{\"cmd\":\"tripwires\"}"),
		    "{\"ok\":true,\"result\":{\"unfiltered_bdev_get_bdevs_during_reset\":1,"
		    "\"unfiltered_bdev_get_iostat\":0}}");
	close(c.fd);
	sim_stop_proc(&t);

	sim_start(&t, false);
	assert_json(ctl(&t, "{\"cmd\":\"crash\"}"), "{\"ok\":true,\"result\":null}");
	reap(t.pid, &status);
	t.pid = 0;
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	sim_stop_proc(&t);
}

/* ---- command line ----------------------------------------------------------------------- */

static int run_status(const char *const argv[])
{
	int status;
	pid_t pid = spawn(argv);

	reap(pid, &status);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* bdev_get_iostat field of the single bdev asked for by name */
static json_int_t iostat_field(struct tconn *c, const char *field)
{
	json_t *v = rpc(c, "{\"id\":9,\"method\":\"bdev_get_iostat\","
			   "\"params\":{\"name\":\"d0\"}}");
	json_t *b = json_array_get(json_object_get(json_object_get(v, "result"), "bdevs"), 0);
	json_int_t x;

	assert_non_null(b);
	assert_true(json_is_integer(json_object_get(b, field)));
	x = json_integer_value(json_object_get(b, field));
	json_decref(v);
	return x;
}

/* The io control: a guest's reads and writes as bdev_get_iostat reports them. */
static void test_control_io(void **state)
{
	struct tsim t;
	struct tconn c;
	json_int_t r0, b0, w0, bw0;

	sim_start(&t, false);
	conn_open(&c, t.rpc);
	json_decref(ctl(&t, "{\"cmd\":\"bdev_add\",\"name\":\"d0\",\"num_blocks\":2048}"));
	/* no I/O yet: every latency 0, min included (SPDK writes 0 for its UINT64_MAX) */
	assert_int_equal(iostat_field(&c, "min_write_latency_ticks"), 0);
	assert_int_equal(iostat_field(&c, "write_latency_ticks"), 0);
	r0 = iostat_field(&c, "num_read_ops");
	b0 = iostat_field(&c, "bytes_read");
	w0 = iostat_field(&c, "num_write_ops");
	bw0 = iostat_field(&c, "bytes_written");
	assert_json(ctl(&t, "{\"cmd\":\"io\",\"name\":\"d0\",\"reads\":10,\"writes\":4,"
			    "\"io_size\":4096,\"latency_us\":100}"),
		    "{\"ok\":true,\"result\":null}");
	json_decref(ctl(&t, "{\"cmd\":\"io\",\"name\":\"d0\",\"writes\":1,\"latency_us\":300}"));
	assert_int_equal(iostat_field(&c, "num_read_ops"), r0 + 10);
	assert_int_equal(iostat_field(&c, "bytes_read"), b0 + 10 * 4096);
	assert_int_equal(iostat_field(&c, "num_write_ops"), w0 + 5);
	/* io_size defaults to one block */
	assert_int_equal(iostat_field(&c, "bytes_written"), bw0 + 4 * 4096 + 512);
	/* 2.1 GHz ticks: 100 us = 210,000 */
	assert_int_equal(iostat_field(&c, "read_latency_ticks"), 10 * 210000);
	assert_int_equal(iostat_field(&c, "write_latency_ticks"), 4 * 210000 + 630000);
	assert_int_equal(iostat_field(&c, "max_write_latency_ticks"), 630000);
	assert_int_equal(iostat_field(&c, "min_write_latency_ticks"), 210000);
	assert_json(ctl(&t, "{\"cmd\":\"io\",\"name\":\"nope\",\"reads\":1}"),
		    "{\"ok\":false,\"error\":\"no bdev with that 'name'\"}");
	/* the call without a name walks every bdev: answered, and counted */
	json_decref(rpc(&c, "{\"id\":10,\"method\":\"bdev_get_iostat\"}"));
	assert_json(ctl(&t, "{\"cmd\":\"tripwires\"}"),
		    "{\"ok\":true,\"result\":{\"unfiltered_bdev_get_bdevs_during_reset\":0,"
		    "\"unfiltered_bdev_get_iostat\":1}}");
	close(c.fd);
	sim_stop_proc(&t);
}

static void test_cli(void **state)
{
	const char *bin = getenv("SPDK_SIM_BIN");
	struct tsim t;

	const char *help[] = {bin, "--help", NULL};
	assert_int_equal(run_status(help), 0);
	const char *badmask[] = {bin, "-m", "zz", NULL};
	assert_int_equal(run_status(badmask), 1);
	const char *badlist[] = {bin, "-m", "[0,x]", NULL};
	assert_int_equal(run_status(badlist), 1);
	const char *badmem[] = {bin, "-s", "lots", NULL};
	assert_int_equal(run_status(badmem), 1);
	const char *extra[] = {bin, "stray", NULL};
	assert_int_equal(run_status(extra), 1);
	const char *badopt[] = {bin, "--frob", NULL};
	assert_int_equal(run_status(badopt), 1);

	sim_start_args(&t, false, "[1,3-4]");
	json_t *st = result_of(ctl(&t, "{\"cmd\":\"state\"}"));
	assert_string_equal(json_string_value(json_object_get(st, "core_mask")), "0x1a");
	/* without --wait-for-rpc the framework initialises by itself */
	assert_true(json_is_true(json_object_get(st, "initialized")));
	json_decref(st);
	/* a second process on the same socket is refused (SPDK's lock file) */
	const char *second[] = {bin, "-r", t.rpc, NULL};
	assert_int_equal(run_status(second), 1);
	/* ctl mode: exit 0 when ok, 1 when not */
	const char *ok[] = {bin, "ctl", t.ctl, "{\"cmd\":\"ping\"}", NULL};
	assert_int_equal(run_status(ok), 0);
	const char *notok[] = {bin, "ctl", t.ctl, "{\"cmd\":\"nope\"}", NULL};
	assert_int_equal(run_status(notok), 1);
	/* SIGTERM: clean exit, socket removed */
	int status = sim_stop_proc(&t);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_kill_instance(void **state)
{
	struct tsim t;
	struct tconn c;
	int status;

	sim_start(&t, false);
	conn_open(&c, t.rpc);
	assert_json(rpc(&c, "{\"id\":1,\"method\":\"spdk_kill_instance\","
			    "\"params\":{\"sig_name\":\"SIGFOO\"}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32602,"
		    "\"message\":\"Invalid parameters\"}}");
	assert_json(rpc(&c, "{\"id\":2,\"method\":\"spdk_kill_instance\","
			    "\"params\":{\"sig_name\":\"15\"}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":true}");
	reap(t.pid, &status);
	t.pid = 0;
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* an orderly shutdown removes the socket */
	assert_int_equal(access(t.rpc, F_OK), -1);
	close(c.fd);
	sim_stop_proc(&t);
}

/* A stale socket file from a killed process is replaced at start-up. */
static void test_stale_socket_replaced(void **state)
{
	struct tsim t;
	struct tconn c;

	sim_start(&t, false);
	kill(t.pid, SIGKILL);
	reap(t.pid, NULL);
	assert_int_equal(access(t.rpc, F_OK), 0);
	const char *bin = getenv("SPDK_SIM_BIN");
	const char *argv[] = {bin, "-r", t.rpc, "--control", t.ctl, NULL};
	t.pid = spawn(argv);
	for (int i = 0; i < 500; i++) {
		c.fd = sock_connect(t.rpc);
		if (c.fd >= 0)
			break;
		usleep(10000);
	}
	assert_true(c.fd >= 0);
	c.len = 0;
	json_decref(rpc(&c, "{\"id\":1,\"method\":\"spdk_get_version\"}"));
	close(c.fd);
	sim_stop_proc(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_fail_delay_stats),
		cmocka_unit_test(test_control_crash_and_reset_window),
		cmocka_unit_test(test_control_io),
		cmocka_unit_test(test_cli),
		cmocka_unit_test(test_kill_instance),
		cmocka_unit_test(test_stale_socket_replaced),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, kill_children);
}
