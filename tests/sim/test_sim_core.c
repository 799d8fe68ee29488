/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Behaviour of spdk-sim's core over its sockets: framing, JSON-RPC edge cases as SPDK
 * answers them, the startup/runtime split, deferred answers, the bdev layer's methods
 * (through the control channel's bdev_add). Each test runs its own spdk-sim process ($SPDK_SIM_BIN)
 * in a scratch directory.
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

#include "core_harness.h"

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
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(v, "result"), "version")),
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
	/* a number, literal or escape cut at the end of a write is completed by the next */
	static const char *const halves[][2] = {
		{"{\"id\":5,\"method\":\"spdk_get_version\",\"params\":{\"x\":1.", "5}}"},
		{"{\"id\":5,\"method\":\"spdk_get_version\",\"params\":{\"x\":-", "1e+3}}"},
		{"{\"id\":5,\"method\":\"spdk_get_version\",\"params\":{\"x\":fa", "lse}}"},
		{"{\"id\":5,\"method\":\"spdk_get_version\",\"params\":{\"x\":\"\\u00", "41\"}}"},
		{"{\"id\":5,\"method\":\"spdk_get_version\",\"params\":{\"x\":\"\\", "n\"}}"},
	};
	for (size_t i = 0; i < sizeof(halves) / sizeof(halves[0]); i++) {
		conn_send(&c, halves[i][0]);
		assert_null(conn_recv(&c, 100, NULL));
		conn_send(&c, halves[i][1]);
		v = conn_recv(&c, 2000, NULL);
		assert_non_null(v);
		assert_int_equal(
			json_integer_value(json_object_get(json_object_get(v, "error"), "code")),
			-32602);
		json_decref(v);
	}
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
	/* SPDK's limits: 64 nesting levels, 1024 JSON values per request */
	char deep[400] = "{\"id\":1,\"method\":\"spdk_get_version\",\"params\":";
	for (int i = 0; i < 64; i++)
		strcat(deep, "[");
	for (int i = 0; i < 64; i++)
		strcat(deep, "]");
	strcat(deep, "}");
	conn_open(&c, t.rpc);
	conn_send(&c, deep);
	assert_null(conn_recv(&c, 2000, &closed));
	assert_true(closed);
	close(c.fd);
	char *many = malloc(8000);
	strcpy(many, "{\"id\":1,\"method\":\"spdk_get_version\",\"params\":[0");
	for (int i = 0; i < 1020; i++)
		strcat(many, ",0");
	strcat(many, "]}");
	conn_open(&c, t.rpc);
	conn_send(&c, many);
	free(many);
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
	/* SPDK's decoders refuse duplicated member names; jansson alone would keep one */
	assert_json(rpc(&c, "{\"id\":9,\"id\":10,\"method\":\"spdk_get_version\"}"), invalid);
	assert_json(rpc(&c, "{\"id\":11,\"method\":\"bdev_get_bdevs\","
			    "\"params\":{\"name\":\"a\",\"name\":\"b\"}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":11,\"error\":{\"code\":-32603,"
		    "\"message\":\"spdk_json_decode_object failed\"}}");
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
	assert_int_equal(
		json_integer_value(json_object_get(
			json_object_get(json_array_get(cfg, 0), "params"), "small_pool_count")),
		4096);
	json_decref(cfg);
	assert_json(rpc(&c, "{\"id\":11,\"method\":\"framework_get_config\","
			    "\"params\":{\"name\":\"nosuch\"}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":11,\"error\":{\"code\":-32602,"
		    "\"message\":\"Subsystem 'nosuch' not found\"}}");
	/* messages carry names of any length */
	char req[3000], want[3000], name[2001];
	memset(name, 'n', 2000);
	name[2000] = '\0';
	snprintf(req, sizeof(req),
		 "{\"id\":13,\"method\":\"framework_get_config\","
		 "\"params\":{\"name\":\"%s\"}}",
		 name);
	snprintf(want, sizeof(want),
		 "{\"jsonrpc\":\"2.0\",\"id\":13,\"error\":{\"code\":-32602,"
		 "\"message\":\"Subsystem '%s' not found\"}}",
		 name);
	assert_json(rpc(&c, req), want);
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

/* framework_set_scheduler before init: a known scheduler is kept for the saved config. */
static void test_set_scheduler(void **state)
{
	struct tsim t;
	struct tconn a;
	json_t *cfg;

	sim_start(&t, true);
	conn_open(&a, t.rpc);
	assert_json(rpc(&a, "{\"id\":1,\"method\":\"framework_set_scheduler\","
			    "\"params\":{\"name\":\"dynamic\",\"period\":100000}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":true}");
	assert_json(rpc(&a, "{\"id\":2,\"method\":\"framework_set_scheduler\","
			    "\"params\":{\"name\":\"nosuch\"}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-32603,"
		    "\"message\":\"No such file or directory\"}}");
	assert_json(rpc(&a, "{\"id\":3,\"method\":\"framework_set_scheduler\","
			    "\"params\":{\"period\":5}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32602,"
		    "\"message\":\"Invalid parameters\"}}");
	assert_json(rpc(&a, "{\"id\":4,\"method\":\"framework_start_init\"}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":true}");
	cfg = rpc(&a, "{\"id\":5,\"method\":\"framework_get_config\","
		      "\"params\":{\"name\":\"scheduler\"}}");
	assert_json(cfg, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":[{\"method\":"
			 "\"framework_set_scheduler\",\"params\":{\"name\":\"dynamic\"}}]}");
	close(a.fd);
	sim_stop_proc(&t);
}

/* CPU ticks (user + system) the process used so far. */
static long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024];
	long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	/* fields 14 and 15, after the ")" that ends the command name */
	assert_int_equal(sscanf(strrchr(buf, ')') + 2,
				"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &ut, &st),
			 2);
	return ut + st;
}

/* A client that shut down its sending side still gets its deferred answer, and the
 * sim does not spin while it waits. */
static void test_deferred_half_closed(void **state)
{
	struct tsim t;
	struct tconn a, b, c;
	long before;

	sim_start(&t, true);
	conn_open(&a, t.rpc);
	conn_open(&b, t.rpc);
	conn_send(&a, "{\"id\":1,\"method\":\"framework_wait_init\"}");
	shutdown(a.fd, SHUT_WR);
	/* a client gone for good, with a deferred request pending */
	conn_open(&c, t.rpc);
	conn_send(&c, "{\"id\":7,\"method\":\"framework_wait_init\"}");
	usleep(100000);
	close(c.fd);
	usleep(100000);
	before = cpu_ticks(t.pid);
	usleep(500000);
	assert_true(cpu_ticks(t.pid) - before < 10);
	json_decref(rpc(&b, "{\"id\":2,\"method\":\"framework_start_init\"}"));
	assert_json(conn_recv(&a, 2000, NULL), "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":true}");
	close(a.fd);
	json_decref(rpc(&b, "{\"id\":3,\"method\":\"spdk_get_version\"}"));
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
	json_t *b = result_of(
		rpc(&c, "{\"id\":1,\"method\":\"bdev_get_bdevs\","
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
	/* uint64 edge values: UINT64_MAX is "not defined"; beyond uint64 fails decoding */
	assert_json(rpc(&c, "{\"id\":20,\"method\":\"bdev_set_qos_limit\",\"params\":{\"name\":"
			    "\"d0\",\"w_mbytes_per_sec\":18446744073709551615}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":20,\"error\":{\"code\":-22,"
		    "\"message\":\"No rate limits specified\"}}");
	assert_json(rpc(&c, "{\"id\":21,\"method\":\"bdev_set_qos_limit\",\"params\":{\"name\":"
			    "\"d0\",\"w_mbytes_per_sec\":18446744073709551616}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":21,\"error\":{\"code\":-32603,"
		    "\"message\":\"spdk_json_decode_object failed\"}}");
	assert_json(rpc(&c, "{\"id\":22,\"method\":\"bdev_get_bdevs\","
			    "\"params\":{\"name\":\"d0\",\"timeout\":18446744073709551615}}"
			    "{\"id\":23,\"method\":\"spdk_get_version\",\"params\":{\"x\":"
			    "99999999999999999999999}}"),
		    "{\"jsonrpc\":\"2.0\",\"id\":23,\"error\":{\"code\":-32602,"
		    "\"message\":\"spdk_get_version method requires no parameters\"}}");
	json_t *big = conn_recv(&c, 2000, NULL);
	assert_int_equal(json_integer_value(json_object_get(big, "id")), 22);
	assert_non_null(json_object_get(big, "result"));
	json_decref(big);
	/* the saved config replays the limit */
	json_t *cfg = result_of(rpc(&c, "{\"id\":7,\"method\":\"framework_get_config\","
					"\"params\":{\"name\":\"bdev\"}}"));
	size_t n = json_array_size(cfg);
	assert_string_equal(json_string_value(json_object_get(json_array_get(cfg, 0), "method")),
			    "bdev_set_options");
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
		cmocka_unit_test(test_set_scheduler),
		cmocka_unit_test(test_deferred_half_closed),
		cmocka_unit_test(test_deferred_get_bdevs),
		cmocka_unit_test(test_bdev_entry_and_qos),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, kill_children);
}
