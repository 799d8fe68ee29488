/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Behaviour of spdk-sim's core over its sockets: framing, JSON-RPC edge cases as SPDK
 * answers them, the startup/runtime split, deferred answers, the bdev layer's methods
 * (through the control channel's bdev_add), the control channel and the command line.
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

#include "sim/sim_internal.h"

struct tsim {
	char dir[64], rpc[128], ctl[128];
	pid_t pid;
};

struct tconn {
	int fd;
	char buf[1 << 16];
	size_t len;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int sock_connect(const char *path)
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

static pid_t spawn(const char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static void sim_start(struct tsim *t, bool wait_for_rpc)
{
	const char *bin = getenv("SPDK_SIM_BIN");
	uint64_t deadline;

	assert_non_null(bin);
	snprintf(t->dir, sizeof(t->dir), "/tmp/simcore.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->rpc, sizeof(t->rpc), "%s/rpc.sock", t->dir);
	snprintf(t->ctl, sizeof(t->ctl), "%s/ctl.sock", t->dir);
	const char *argv[] = {bin, "-r", t->rpc, "--control", t->ctl,
			      wait_for_rpc ? "--wait-for-rpc" : NULL, NULL};
	t->pid = spawn(argv);
	assert_true(t->pid > 0);
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
static int sim_stop_proc(struct tsim *t)
{
	int status = 0;

	if (t->pid > 0) {
		kill(t->pid, SIGTERM);
		waitpid(t->pid, &status, 0);
		t->pid = 0;
	}
	unlink(t->rpc);
	unlink(t->ctl);
	char lock[160];

	snprintf(lock, sizeof(lock), "%s.lock", t->rpc);
	unlink(lock);
	rmdir(t->dir);
	return status;
}

static void conn_open(struct tconn *c, const char *path)
{
	c->fd = sock_connect(path);
	c->len = 0;
	assert_true(c->fd >= 0);
}

static void conn_send(struct tconn *c, const char *s)
{
	assert_int_equal(send(c->fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Next JSON value from c within timeout_ms; NULL on timeout. *closed set on EOF. */
static json_t *conn_recv(struct tconn *c, int timeout_ms, bool *closed)
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

static json_t *rpc(struct tconn *c, const char *request)
{
	json_t *v;

	conn_send(c, request);
	v = conn_recv(c, 3000, NULL);
	assert_non_null(v);
	return v;
}

static json_t *ctl(struct tsim *t, const char *cmd)
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

static void assert_json(json_t *got, const char *want_text)
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

static json_t *result_of(json_t *ans)
{
	json_t *r = json_incref(json_object_get(ans, "result"));

	json_decref(ans);
	return r;
}

/* ---- framing --------------------------------------------------------------------------- */

static void test_framing_split_and_pipelined(void **state)
{
	struct tsim t;
	struct tconn c;

	sim_start(&t, false);
	conn_open(&c, t.rpc);
	/* one request in three writes: answered once, when complete */
	conn_send(&c, "{\"jsonrpc\":\"2.0\",");
	assert_null(conn_recv(&c, 200, NULL));
	conn_send(&c, "\"id\":1,\"method\":\"spdk_get");
	assert_null(conn_recv(&c, 200, NULL));
	conn_send(&c, "_version\"}");
	json_t *v = conn_recv(&c, 2000, NULL);
	assert_int_equal(json_integer_value(json_object_get(v, "id")), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(v, "result"),
								"version")),
			    "SPDK v25.09 git sha1 a2f2a0b279");
	json_decref(v);
	/* two in one write: two answers */
	conn_send(&c, "{\"id\":2,\"method\":\"spdk_get_version\"} {\"id\":3,\"method\":\"x\"}");
	v = conn_recv(&c, 2000, NULL);
	assert_int_equal(json_integer_value(json_object_get(v, "id")), 2);
	json_decref(v);
	assert_json(conn_recv(&c, 2000, NULL),
		    "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32601,"
		    "\"message\":\"Method not found\"}}");
	/* truncated JSON: no answer, the connection stays open */
	conn_send(&c, "{\"id\":4,\"method\":\"spdk_get_version\"");
	assert_null(conn_recv(&c, 300, NULL));
	close(c.fd);
	sim_stop_proc(&t);
}

static void test_framing_parse_error_closes(void **state)
{
	struct tsim t;
	struct tconn c;
	bool closed;

	sim_start(&t, false);
	conn_open(&c, t.rpc);
	/* SPDK cannot resync a broken stream: it closes without answering */
	conn_send(&c, "{\"id\":1,\"method\":\"spdk_get_version\"}{oops}");
	assert_null(conn_recv(&c, 2000, &closed));
	assert_true(closed);
	close(c.fd);
	/* the server itself is fine */
	conn_open(&c, t.rpc);
	json_decref(rpc(&c, "{\"id\":2,\"method\":\"spdk_get_version\"}"));
	close(c.fd);
	sim_stop_proc(&t);
}

/* ---- protocol edge cases --------------------------------------------------------------- */

static void test_protocol_invalid_requests(void **state)
{
	static const char invalid[] = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
				      "\"message\":\"Invalid request\"}}";
	struct tsim t;
	struct tconn c;

	sim_start(&t, false);
	conn_open(&c, t.rpc);
	assert_json(rpc(&c, "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"spdk_get_version\"}"),
		    invalid);
	assert_json(rpc(&c, "{\"jsonrpc\":\"2.0\",\"id\":2}"), invalid);
	assert_json(rpc(&c, "[{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"spdk_get_version\"}]"),
		    invalid);
	assert_json(rpc(&c, "{\"id\":4,\"method\":\"spdk_get_version\",\"extra\":1}"), invalid);
	assert_json(rpc(&c, "{\"id\":5,\"method\":\"spdk_get_version\",\"params\":7}"), invalid);
	assert_json(rpc(&c, "{\"id\":[6],\"method\":\"spdk_get_version\"}"), invalid);
	assert_json(rpc(&c, "{\"id\":7,\"method\":5}"), invalid);
	assert_json(rpc(&c, "42"), invalid);
	/* a string id is echoed; "params": null counts as no params */
	json_t *v = rpc(&c, "{\"id\":\"abc\",\"method\":\"spdk_get_version\",\"params\":null}");
	assert_string_equal(json_string_value(json_object_get(v, "id")), "abc");
	assert_non_null(json_object_get(v, "result"));
	json_decref(v);
	assert_json(rpc(&c, "{\"id\":8,\"method\":\"spdk_get_version\",\"params\":{}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":8,\"error\":{\"code\":-32602,\"message\":"
		    "\"spdk_get_version method requires no parameters\"}}");
	close(c.fd);
	sim_stop_proc(&t);
}

static void test_protocol_notifications(void **state)
{
	struct tsim t;
	struct tconn c;

	sim_start(&t, false);
	conn_open(&c, t.rpc);
	/* a successful notification gets no answer ... */
	conn_send(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"spdk_get_version\"}");
	assert_null(conn_recv(&c, 300, NULL));
	conn_send(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"spdk_get_version\",\"id\":null}");
	assert_null(conn_recv(&c, 300, NULL));
	/* ... but SPDK sends errors even then, with id null */
	assert_json(rpc(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32601,"
		    "\"message\":\"Method not found\"}}");
	close(c.fd);
	sim_stop_proc(&t);
}

static void test_protocol_state_split(void **state)
{
	struct tsim t;
	struct tconn c;

	sim_start(&t, true);
	conn_open(&c, t.rpc);
	assert_json(rpc(&c, "{\"id\":1,\"method\":\"bdev_get_bdevs\"}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-1,\"message\":\"Method may "
		    "only be called after framework is initialized using framework_start_init "
		    "RPC.\"}}");
	json_t *methods = result_of(rpc(&c, "{\"id\":2,\"method\":\"rpc_get_methods\","
					    "\"params\":{\"current\":true}}"));
	assert_int_equal(json_array_size(methods), 40);
	json_decref(methods);
	assert_json(rpc(&c, "{\"id\":3,\"method\":\"iobuf_set_options\","
			    "\"params\":{\"small_pool_count\":10}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-22,"
		    "\"message\":\"Invalid argument\"}}");
	assert_json(rpc(&c, "{\"id\":4,\"method\":\"iobuf_set_options\","
			    "\"params\":{\"small_pool_count\":4096}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":true}");
	assert_json(rpc(&c, "{\"id\":5,\"method\":\"framework_start_init\"}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":true}");
	assert_json(rpc(&c, "{\"id\":6,\"method\":\"iobuf_set_options\","
			    "\"params\":{\"small_pool_count\":8192}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":6,\"error\":{\"code\":-1,\"message\":\"Method may "
		    "only be called before framework is initialized. Use --wait-for-rpc command "
		    "line parameter and then issue this RPC before the framework_start_init "
		    "RPC.\"}}");
	methods = result_of(rpc(&c, "{\"id\":7,\"method\":\"rpc_get_methods\","
				    "\"params\":{\"current\":true}}"));
	assert_int_equal(json_array_size(methods), 222);
	json_decref(methods);
	methods = result_of(rpc(&c, "{\"id\":8,\"method\":\"rpc_get_methods\"}"));
	assert_int_equal(json_array_size(methods), 238);
	json_decref(methods);
	methods = result_of(rpc(&c, "{\"id\":9,\"method\":\"rpc_get_methods\","
				    "\"params\":{\"include_aliases\":true}}"));
	assert_int_equal(json_array_size(methods), 242);
	json_decref(methods);
	/* the saved iobuf config reflects the pre-init change */
	json_t *cfg = result_of(rpc(&c, "{\"id\":10,\"method\":\"framework_get_config\","
					"\"params\":{\"name\":\"iobuf\"}}"));
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_array_get(cfg, 0), "params"), "small_pool_count")),
			 4096);
	json_decref(cfg);
	assert_json(rpc(&c, "{\"id\":11,\"method\":\"framework_get_config\","
			    "\"params\":{\"name\":\"nosuch\"}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":11,\"error\":{\"code\":-32602,"
		    "\"message\":\"Subsystem 'nosuch' not found\"}}");
	assert_json(rpc(&c, "{\"id\":12,\"method\":\"framework_get_config\","
			    "\"params\":{\"name\":\"scsi\"}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":12,\"result\":null}");
	close(c.fd);
	sim_stop_proc(&t);
}

/* Every method a module implements is one SPDK registers, with SPDK's state mask. */
static void test_registry_matches_modules(void **state)
{
	for (const struct sim_module *const *m = sim_modules; *m; m++) {
		if (!(*m)->methods)
			continue;
		for (const struct sim_method *sm = (*m)->methods; sm->name; sm++) {
			const struct sim_method_info *info = sim_method_info_find(sm->name);

			if (!info)
				fail_msg("%s: %s is not an SPDK method", (*m)->name, sm->name);
			if (info->state_mask != sm->state_mask)
				fail_msg("%s: %s has state mask %u, SPDK %u", (*m)->name, sm->name,
					 sm->state_mask, info->state_mask);
		}
	}
}

/* ---- deferred answers ------------------------------------------------------------------ */

static void test_deferred_wait_init(void **state)
{
	struct tsim t;
	struct tconn a, b;

	sim_start(&t, true);
	conn_open(&a, t.rpc);
	conn_open(&b, t.rpc);
	conn_send(&b, "{\"id\":1000,\"method\":\"framework_wait_init\"}");
	assert_null(conn_recv(&b, 300, NULL));
	assert_json(rpc(&a, "{\"id\":1,\"method\":\"framework_start_init\"}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":true}");
	assert_json(conn_recv(&b, 2000, NULL), "{\"jsonrpc\":\"2.0\",\"id\":1000,\"result\":true}");
	assert_json(rpc(&b, "{\"id\":1001,\"method\":\"framework_wait_init\"}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":1001,\"result\":true}");
	close(a.fd);
	close(b.fd);
	sim_stop_proc(&t);
}

static void test_deferred_get_bdevs(void **state)
{
	struct tsim t;
	struct tconn c;
	uint64_t t0;

	sim_start(&t, false);
	conn_open(&c, t.rpc);
	/* by name: answered after what was already queued behind it */
	conn_send(&c, "{\"id\":1,\"method\":\"bdev_get_bdevs\",\"params\":{\"name\":\"nope\"}}"
		      "{\"id\":2,\"method\":\"spdk_get_version\"}");
	json_t *v = conn_recv(&c, 2000, NULL);
	assert_int_equal(json_integer_value(json_object_get(v, "id")), 2);
	json_decref(v);
	assert_json(conn_recv(&c, 2000, NULL),
		    "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-19,"
		    "\"message\":\"No such device\"}}");
	/* with a timeout: -110 after it */
	t0 = now_ms();
	assert_json(rpc(&c, "{\"id\":3,\"method\":\"bdev_get_bdevs\","
			    "\"params\":{\"name\":\"nope\",\"timeout\":300}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-110,"
		    "\"message\":\"Connection timed out\"}}");
	assert_true(now_ms() - t0 >= 290);
	/* a bdev that appears during the wait answers it at once */
	conn_send(&c, "{\"id\":4,\"method\":\"bdev_get_bdevs\","
		      "\"params\":{\"name\":\"late\",\"timeout\":5000}}");
	assert_null(conn_recv(&c, 200, NULL));
	json_decref(ctl(&t, "{\"cmd\":\"bdev_add\",\"name\":\"late\",\"num_blocks\":64}"));
	v = conn_recv(&c, 2000, NULL);
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(v, "result"), 0), "name")),
			    "late");
	json_decref(v);
	assert_json(rpc(&c, "{\"id\":5,\"method\":\"bdev_get_bdevs\",\"params\":{\"name\":5}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":5,\"error\":{\"code\":-32603,"
		    "\"message\":\"spdk_json_decode_object failed\"}}");
	close(c.fd);
	sim_stop_proc(&t);
}

/* ---- bdev layer ------------------------------------------------------------------------ */

static void test_bdev_entry_and_qos(void **state)
{
	struct tsim t;
	struct tconn c;

	sim_start(&t, false);
	conn_open(&c, t.rpc);
	json_decref(ctl(&t, "{\"cmd\":\"bdev_add\",\"name\":\"d0\",\"num_blocks\":2048,"
			    "\"uuid\":\"0b8c6e3c-1f7b-4a64-9a55-2f3a0e6b7c11\"}"));
	json_t *b = result_of(rpc(&c, "{\"id\":1,\"method\":\"bdev_get_bdevs\","
				      "\"params\":{\"name\":\"0b8c6e3c-1f7b-4a64-9a55-2f3a0e6b7c11\"}}"));
	json_t *e = json_array_get(b, 0);
	assert_string_equal(json_string_value(json_object_get(e, "name")), "d0");
	assert_json(json_incref(json_object_get(e, "aliases")),
		    "[\"0b8c6e3c-1f7b-4a64-9a55-2f3a0e6b7c11\"]");
	assert_int_equal(json_integer_value(json_object_get(e, "num_blocks")), 2048);
	assert_true(json_is_false(json_object_get(e, "claimed")));
	assert_null(json_object_get(e, "claim_type"));
	json_decref(b);

	assert_json(rpc(&c, "{\"id\":2,\"method\":\"bdev_set_qos_limit\","
			    "\"params\":{\"name\":\"nope\",\"rw_ios_per_sec\":1}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-19,"
		    "\"message\":\"No such device\"}}");
	assert_json(rpc(&c, "{\"id\":3,\"method\":\"bdev_set_qos_limit\","
			    "\"params\":{\"name\":\"d0\"}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-22,"
		    "\"message\":\"No rate limits specified\"}}");
	assert_json(rpc(&c, "{\"id\":4,\"method\":\"bdev_set_qos_limit\","
			    "\"params\":{\"name\":\"d0\",\"rw_ios_per_sec\":-1}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":-32603,"
		    "\"message\":\"spdk_json_decode_object failed\"}}");
	assert_json(rpc(&c, "{\"id\":5,\"method\":\"bdev_set_qos_limit\",\"params\":{\"name\":"
			    "\"d0\",\"rw_ios_per_sec\":1500,\"r_mbytes_per_sec\":50}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":true}");
	b = result_of(rpc(&c, "{\"id\":6,\"method\":\"bdev_get_bdevs\","
			      "\"params\":{\"name\":\"d0\"}}"));
	assert_json(json_incref(json_object_get(json_array_get(b, 0), "assigned_rate_limits")),
		    "{\"rw_ios_per_sec\":2000,\"rw_mbytes_per_sec\":0,\"r_mbytes_per_sec\":50,"
		    "\"w_mbytes_per_sec\":0}");
	json_decref(b);
	/* the saved config replays the limit */
	json_t *cfg = result_of(rpc(&c, "{\"id\":7,\"method\":\"framework_get_config\","
					"\"params\":{\"name\":\"bdev\"}}"));
	size_t n = json_array_size(cfg);
	assert_json(json_incref(json_array_get(cfg, n - 2)),
		    "{\"method\":\"bdev_set_qos_limit\",\"params\":{\"name\":\"d0\","
		    "\"rw_ios_per_sec\":2000,\"r_mbytes_per_sec\":50}}");
	assert_json(json_incref(json_array_get(cfg, n - 1)),
		    "{\"method\":\"bdev_wait_for_examine\"}");
	json_decref(cfg);
	/* iostat: one / unknown / per_channel without name */
	json_t *st = result_of(rpc(&c, "{\"id\":8,\"method\":\"bdev_get_iostat\","
				       "\"params\":{\"name\":\"d0\"}}"));
	assert_int_equal(json_array_size(json_object_get(st, "bdevs")), 1);
	assert_non_null(json_object_get(st, "tick_rate"));
	json_decref(st);
	assert_json(rpc(&c, "{\"id\":9,\"method\":\"bdev_get_iostat\","
			    "\"params\":{\"name\":\"nope\"}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":9,\"error\":{\"code\":-19,"
		    "\"message\":\"No such device\"}}");
	assert_json(rpc(&c, "{\"id\":10,\"method\":\"bdev_get_iostat\","
			    "\"params\":{\"per_channel\":true}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":10,\"error\":{\"code\":-22,"
		    "\"message\":\"Invalid argument\"}}");
	/* a duplicate name is refused */
	json_t *dup = ctl(&t, "{\"cmd\":\"bdev_add\",\"name\":\"d0\",\"num_blocks\":8}");
	assert_true(json_is_false(json_object_get(dup, "ok")));
	json_decref(dup);
	close(c.fd);
	sim_stop_proc(&t);
}

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

	json_decref(ctl(&t, "{\"cmd\":\"delay\",\"method\":\"bdev_get_bdevs\",\"ms\":300}"));
	t0 = now_ms();
	json_decref(rpc(&c, "{\"id\":4,\"method\":\"bdev_get_bdevs\"}"));
	assert_true(now_ms() - t0 >= 290);
	t0 = now_ms();
	json_decref(rpc(&c, "{\"id\":5,\"method\":\"bdev_get_bdevs\"}"));
	assert_true(now_ms() - t0 < 290);

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
	int status;

	sim_start(&t, false);
	conn_open(&c, t.rpc);
	/* an unfiltered bdev_get_bdevs inside a reset window kills the process */
	json_decref(ctl(&t, "{\"cmd\":\"reset_window\",\"ms\":5000}"));
	json_decref(rpc(&c, "{\"id\":1,\"method\":\"bdev_get_bdevs\","
			    "\"params\":{\"name\":\"x\"}}"));
	conn_send(&c, "{\"id\":2,\"method\":\"bdev_get_bdevs\"}");
	assert_null(conn_recv(&c, 2000, NULL));
	waitpid(t.pid, &status, 0);
	t.pid = 0;
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* like kill -9: the socket file is left behind */
	assert_int_equal(access(t.rpc, F_OK), 0);
	close(c.fd);
	sim_stop_proc(&t);

	sim_start(&t, false);
	assert_json(ctl(&t, "{\"cmd\":\"crash\"}"), "{\"ok\":true,\"result\":null}");
	waitpid(t.pid, &status, 0);
	t.pid = 0;
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	sim_stop_proc(&t);
}

/* ---- command line ----------------------------------------------------------------------- */

static int run_status(const char *const argv[])
{
	int status;
	pid_t pid = spawn(argv);

	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_cli(void **state)
{
	const char *bin = getenv("SPDK_SIM_BIN");
	struct tsim t;

	const char *help[] = {bin, "--help", NULL};
	assert_int_equal(run_status(help), 0);
	const char *badmask[] = {bin, "-m", "zz", NULL};
	assert_int_equal(run_status(badmask), 1);
	const char *badopt[] = {bin, "--frob", NULL};
	assert_int_equal(run_status(badopt), 1);

	sim_start(&t, false);
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
	waitpid(t.pid, &status, 0);
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
	waitpid(t.pid, NULL, 0);
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
		cmocka_unit_test(test_framing_split_and_pipelined),
		cmocka_unit_test(test_framing_parse_error_closes),
		cmocka_unit_test(test_protocol_invalid_requests),
		cmocka_unit_test(test_protocol_notifications),
		cmocka_unit_test(test_protocol_state_split),
		cmocka_unit_test(test_registry_matches_modules),
		cmocka_unit_test(test_deferred_wait_init),
		cmocka_unit_test(test_deferred_get_bdevs),
		cmocka_unit_test(test_bdev_entry_and_qos),
		cmocka_unit_test(test_control_fail_delay_stats),
		cmocka_unit_test(test_control_crash_and_reset_window),
		cmocka_unit_test(test_cli),
		cmocka_unit_test(test_stale_socket_replaced),
		cmocka_unit_test(test_kill_instance),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
