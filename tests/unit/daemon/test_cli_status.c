/* SPDX-License-Identifier: Apache-2.0 */
/* `diskengine status`: table and --json from what the store holds; errors named. */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "store/store.h"

static char dir[64], db[128];
static int64_t map_id, map2_id;

#define OK(call)                                                                                   \
	do {                                                                                       \
		struct store_error e_ = {0};                                                       \
		(void)e_;                                                                          \
		int r_ = (call);                                                                   \
		if (r_ != 0)                                                                       \
			fail_msg("%s: %d %s", #call, r_, e_.message);                              \
	} while (0)

/* Run diskengine with args; returns the exit code, *out gets stdout+stderr. */
static int run(char *out, size_t len, const char *args)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "%s %s --db %s 2>&1", getenv("DISKENGINE_BIN"), args, db);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int setup(void **state)
{
	struct store *s;
	struct store_error err = {0};
	struct store_host h = {0};
	struct store_node n1 = {.transport = STORE_TRANSPORT_TCP, .port = 4420};
	struct store_node n2 = n1;
	struct store_volume v = {.size_bytes = 4 << 20, .block_size = 512};
	struct store_replica rep[2] = {0};
	int64_t vid;

	snprintf(dir, sizeof(dir), "/tmp/de-status-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/db.sqlite", dir);
	assert_int_equal(store_open(db, &s, &err), 0);
	snprintf(h.name, sizeof(h.name), "h1");
	OK(store_host_add(s, &h, NULL, &e_));
	snprintf(n1.name, sizeof(n1.name), "n1");
	snprintf(n1.address, sizeof(n1.address), "127.0.0.1");
	snprintf(n2.name, sizeof(n2.name), "n2");
	snprintf(n2.address, sizeof(n2.address), "127.0.0.2");
	OK(store_node_add(s, &n1, NULL, &e_));
	OK(store_node_add(s, &n2, NULL, &e_));
	snprintf(v.name, sizeof(v.name), "v1");
	snprintf(rep[0].node_name, sizeof(rep[0].node_name), "n1");
	snprintf(rep[1].node_name, sizeof(rep[1].node_name), "n2");
	snprintf(rep[0].nqn, sizeof(rep[0].nqn), "nqn.2016-06.io.spdk:v1-a");
	snprintf(rep[1].nqn, sizeof(rep[1].nqn), "nqn.2016-06.io.spdk:v1-b");
	OK(store_volume_create(s, &v, rep, 2, &vid, &e_));
	OK(store_volume_attach(s, "v1", "h1", "vm1", &map_id, &e_));
	struct store_observation obs = {.mapping_id = map_id, .rebuild_percent = 42};
	snprintf(obs.raid_state, sizeof(obs.raid_state), "degraded");
	snprintf(obs.members, sizeof(obs.members), "nvme_v1_a_1n1:ok,nvme_v1_b_2n1:rebuilding");
	snprintf(obs.last_error, sizeof(obs.last_error), "volume 1: attach failed");
	obs.last_error_at = 1700000000;
	OK(store_observation_put(s, &obs, &e_));
	/* a second mapping whose host saw no error */
	snprintf(v.name, sizeof(v.name), "v2");
	snprintf(rep[0].nqn, sizeof(rep[0].nqn), "nqn.2016-06.io.spdk:v2-a");
	snprintf(rep[1].nqn, sizeof(rep[1].nqn), "nqn.2016-06.io.spdk:v2-b");
	OK(store_volume_create(s, &v, rep, 2, &vid, &e_));
	OK(store_volume_attach(s, "v2", "h1", "vm2", &map2_id, &e_));
	struct store_observation ok = {.mapping_id = map2_id, .rebuild_percent = -1};
	snprintf(ok.raid_state, sizeof(ok.raid_state), "online");
	OK(store_observation_put(s, &ok, &e_));
	store_close(s);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_json(void **state)
{
	char out[8192];
	assert_int_equal(run(out, sizeof(out), "status --json"), 0);
	json_t *doc = json_loads(out, 0, NULL);
	assert_non_null(doc);
	json_t *m = json_array_get(json_object_get(doc, "mappings"), 0);
	assert_int_equal(json_integer_value(json_object_get(m, "mapping")), map_id);
	assert_string_equal(json_string_value(json_object_get(m, "state")), "ASSIGNED");
	assert_string_equal(json_string_value(json_object_get(m, "raid_state")), "degraded");
	assert_int_equal(json_integer_value(json_object_get(m, "rebuild_percent")), 42);
	/* members as objects, not the daemon's joined string */
	json_t *mem = json_object_get(m, "members");
	assert_true(json_is_array(mem));
	assert_int_equal(json_array_size(mem), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(mem, 0), "name")),
			    "nvme_v1_a_1n1");
	assert_string_equal(json_string_value(json_object_get(json_array_get(mem, 0), "state")),
			    "ok");
	assert_string_equal(json_string_value(json_object_get(json_array_get(mem, 1), "name")),
			    "nvme_v1_b_2n1");
	assert_string_equal(json_string_value(json_object_get(json_array_get(mem, 1), "state")),
			    "rebuilding");
	assert_int_equal(json_integer_value(json_object_get(m, "last_error_at")), 1700000000);
	assert_string_equal(json_string_value(json_object_get(m, "last_error")),
			    "volume 1: attach failed");
	assert_string_equal(json_string_value(json_object_get(m, "vm")), "vm1");
	/* no error: null, not 0 (1970) */
	m = json_array_get(json_object_get(doc, "mappings"), 1);
	assert_int_equal(json_integer_value(json_object_get(m, "mapping")), map2_id);
	assert_true(json_is_null(json_object_get(m, "last_error")));
	assert_true(json_is_null(json_object_get(m, "last_error_at")));
	assert_int_equal(json_array_size(json_object_get(m, "members")), 0);
	json_decref(doc);
}

static void test_table_and_filters(void **state)
{
	char out[8192];
	assert_int_equal(run(out, sizeof(out), "status"), 0);
	assert_non_null(strstr(out, "MAPPING"));
	assert_non_null(strstr(out, "ASSIGNED"));
	assert_non_null(strstr(out, "degraded"));
	assert_non_null(strstr(out, "42%"));
	assert_non_null(strstr(out, "attach failed"));
	assert_int_equal(run(out, sizeof(out), "status --volume v1 --host h1 --json"), 0);
	assert_non_null(strstr(out, "\"vm1\""));
}

static void test_errors_are_named(void **state)
{
	char out[8192];
	assert_int_equal(run(out, sizeof(out), "status --host nosuch"), 3);
	assert_non_null(strstr(out, "nosuch"));
	assert_int_equal(run(out, sizeof(out), "status --bogus"), 2);
	assert_non_null(strstr(out, "--bogus"));
	assert_int_equal(run(out, sizeof(out), "status extra"), 2);
	assert_non_null(strstr(out, "extra"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_table_and_filters),
		cmocka_unit_test(test_errors_are_named),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
