/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's planning step: (desired, observed) -> ordered operations, as tables. */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/util.h"
#include "daemon/daemon_names.h"
#include "daemon/daemon_orphan.h"
#include "daemon/daemon_plan.h"
#include "store/store.h"

#define NQN_A "nqn.2016-06.io.spdk:vol1a"
#define NQN_B "nqn.2016-06.io.spdk:vol1b"

static struct store_replica reps[2];
static struct store_desired_mapping dms[2];
static struct store_desired desired;
static char ca[64], cb[64];

static void mapping(int i, int64_t map_id, int64_t vol_id, enum store_mapping_state st)
{
	memset(&dms[i], 0, sizeof(dms[i]));
	dms[i].mapping.id = map_id;
	dms[i].mapping.volume_id = vol_id;
	dms[i].mapping.state = st;
	dms[i].volume.id = vol_id;
	dms[i].replicas = reps;
	dms[i].n_replicas = 2;
}

static int setup(void **state)
{
	memset(reps, 0, sizeof(reps));
	for (int i = 0; i < 2; i++) {
		reps[i].transport = STORE_TRANSPORT_TCP;
		util_strlcpy(reps[i].address, "127.0.0.1", sizeof(reps[i].address));
		reps[i].port = (uint16_t)(4420 + i);
	}
	util_strlcpy(reps[0].nqn, NQN_A, sizeof(reps[0].nqn));
	util_strlcpy(reps[1].nqn, NQN_B, sizeof(reps[1].nqn));
	daemon_name_ctrlr_for_nqn(NQN_A, ca, sizeof(ca));
	daemon_name_ctrlr_for_nqn(NQN_B, cb, sizeof(cb));
	mapping(0, 7, 1, STORE_MAPPING_ASSIGNED);
	memset(&desired, 0, sizeof(desired));
	desired.mappings = dms;
	desired.n_mappings = 1;
	return 0;
}

/* observed graph built from printf-style JSON */
static struct observe_raw obs(const char *ctrls, const char *raids, const char *vhosts,
			      const char *bdevs)
{
	struct observe_raw o = {0};
	o.controllers = json_loads(ctrls, 0, NULL);
	o.raids = json_loads(raids, 0, NULL);
	o.vhosts = json_loads(vhosts, 0, NULL);
	o.bdevs = bdevs ? json_loads(bdevs, 0, NULL) : NULL;
	o.bdevs_skipped = !bdevs;
	assert_non_null(o.controllers);
	assert_non_null(o.raids);
	assert_non_null(o.vhosts);
	return o;
}

static char ctrl_json[1024], bdev_json[1024];

/* both controllers with their paths, and their namespace bdevs */
static void full_paths(void)
{
	snprintf(ctrl_json, sizeof(ctrl_json),
		 "[{\"name\":\"%s\",\"ctrlrs\":[{\"state\":\"enabled\",\"trid\":{\"traddr\":"
		 "\"127.0.0.1\",\"trsvcid\":\"4420\",\"subnqn\":\"%s\"}}]},"
		 "{\"name\":\"%s\",\"ctrlrs\":[{\"state\":\"enabled\",\"trid\":{\"traddr\":"
		 "\"127.0.0.1\",\"trsvcid\":\"4421\",\"subnqn\":\"%s\"}}]}]",
		 ca, NQN_A, cb, NQN_B);
	snprintf(bdev_json, sizeof(bdev_json),
		 "[{\"name\":\"%sn1\",\"block_size\":512,\"num_blocks\":100},"
		 "{\"name\":\"%sn1\",\"block_size\":512,\"num_blocks\":100},"
		 "{\"name\":\"raid_1\",\"block_size\":512,\"num_blocks\":90}]",
		 ca, cb);
}

static char raid_json[1024];
static void raid_ok(void)
{
	snprintf(raid_json, sizeof(raid_json),
		 "[{\"name\":\"raid_1\",\"state\":\"online\",\"raid_level\":\"raid1\","
		 "\"num_base_bdevs\":2,\"num_base_bdevs_operational\":2,\"base_bdevs_list\":["
		 "{\"name\":\"%sn1\",\"is_configured\":true},{\"name\":\"%sn1\",\"is_configured\":"
		 "true}]}]",
		 ca, cb);
}

/* "k0 k1 | k2 ..." : op kinds with '|' between stages */
static void expect(const struct daemon_plan_chain *c, const char *want)
{
	static const char *names[] = {"attach", "detach", "create_raid", "wait", "add_base",
				      "delete_raid", "qos", "create_vhost", "delete_vhost",
				      "advance"};
	char got[512] = "";
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++) {
		if (i && c->steps[i].stage != c->steps[i - 1].stage)
			n += (size_t)snprintf(got + n, sizeof(got) - n, " |");
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s", n ? " " : "",
				      names[c->ops[i].kind]);
	}
	if (strcmp(got, want) != 0)
		fail_msg("chain %s: got '%s', want '%s' (note: %s)", c->key, got, want, c->note);
}

static void run(struct observe_raw *o, struct daemon_plan *p, struct orphan_clock *clk,
		int64_t now)
{
	struct orphan_clock *own = clk ? NULL : orphan_clock_new();
	struct daemon_plan_input in = {.desired = &desired, .observed = o,
				       .orphans = clk ? clk : own, .now_s = now,
				       .orphan_grace_s = 60, .raid_wait_ms = 1000};
	assert_int_equal(daemon_plan_build(&in, p), 0);
	orphan_clock_free(own);
}

static void test_new_mapping_builds_in_order(void **state)
{
	struct observe_raw o = obs("[]", "[]", "[]", "[]");
	struct daemon_plan p;

	run(&o, &p, NULL, 0);
	assert_int_equal(p.n, 1);
	expect(&p.chains[0], "attach attach | create_raid | advance | create_vhost | advance");
	assert_int_equal(p.chains[0].ops[5].from, STORE_MAPPING_INITIALISED);
	assert_int_equal(p.chains[0].ops[5].to, STORE_MAPPING_ATTACHED);
	assert_string_equal(p.chains[0].ops[4].bdev, "raid_1");
	assert_string_equal(p.chains[0].ops[4].name, "vhost7");
	assert_true(p.chains[0].ops[0].multipath);
	daemon_plan_free(&p);
	observe_raw_clear(&o);
}

static void test_attached_and_present_needs_nothing(void **state)
{
	full_paths();
	raid_ok();
	struct observe_raw o = obs(ctrl_json, raid_json,
				   "[{\"ctrlr\":\"vhost7\",\"backend_specific\":{\"block\":"
				   "{\"bdev\":\"raid_1\"}}}]",
				   bdev_json);
	struct daemon_plan p;

	dms[0].mapping.state = STORE_MAPPING_ATTACHED;
	run(&o, &p, NULL, 0);
	expect(&p.chains[0], "");
	assert_false(p.chains[0].blocked);
	daemon_plan_free(&p);
	observe_raw_clear(&o);
}

static void test_after_spdk_restart_waits_for_reassembly(void **state)
{
	struct observe_raw o = obs("[]", "[]", "[]", "[]");
	struct daemon_plan p;

	dms[0].mapping.state = STORE_MAPPING_ATTACHED;
	run(&o, &p, NULL, 0);
	/* same names; no database transition (it is ATTACHED already) */
	expect(&p.chains[0], "attach attach | wait | create_raid | create_vhost");
	daemon_plan_free(&p);
	observe_raw_clear(&o);
}

static void test_teardown_order(void **state)
{
	full_paths();
	raid_ok();
	struct observe_raw o = obs(ctrl_json, raid_json,
				   "[{\"ctrlr\":\"vhost7\",\"backend_specific\":{\"block\":"
				   "{\"bdev\":\"raid_1\"}}}]",
				   bdev_json);
	struct daemon_plan p;

	dms[0].mapping.state = STORE_MAPPING_DETACH_REQUESTED;
	run(&o, &p, NULL, 0);
	expect(&p.chains[0], "delete_vhost | delete_raid | detach detach | advance");
	assert_int_equal(p.chains[0].ops[4].to, STORE_MAPPING_DETACHED);
	daemon_plan_free(&p);

	/* a controller another live mapping uses stays */
	mapping(1, 8, 2, STORE_MAPPING_ATTACHED);
	desired.n_mappings = 2;
	run(&o, &p, NULL, 0);
	expect(&p.chains[0], "delete_vhost | delete_raid | advance");
	daemon_plan_free(&p);
	observe_raw_clear(&o);
}

static void test_vhost_without_bdev_is_recreated(void **state)
{
	full_paths();
	raid_ok();
	struct observe_raw o = obs(ctrl_json, raid_json,
				   "[{\"ctrlr\":\"vhost7\",\"backend_specific\":{\"block\":"
				   "{\"bdev\":null}}}]",
				   bdev_json);
	struct daemon_plan p;

	dms[0].mapping.state = STORE_MAPPING_ATTACHED;
	run(&o, &p, NULL, 0);
	expect(&p.chains[0], "delete_vhost | create_vhost");
	daemon_plan_free(&p);
	observe_raw_clear(&o);
}

static void test_conflicts_are_reported_not_touched(void **state)
{
	full_paths();
	struct observe_raw o = obs(ctrl_json,
				   "[{\"name\":\"raid_1\",\"state\":\"online\",\"raid_level\":"
				   "\"raid1\",\"base_bdevs_list\":[{\"name\":\"Malloc0\"},"
				   "{\"name\":\"Malloc1\"}]}]",
				   "[]", bdev_json);
	struct daemon_plan p;

	run(&o, &p, NULL, 0);
	expect(&p.chains[0], "");
	assert_true(p.chains[0].blocked);
	assert_non_null(strstr(p.chains[0].note, "conflict"));
	assert_non_null(strstr(p.chains[0].note, "Malloc0"));
	daemon_plan_free(&p);
	observe_raw_clear(&o);

	raid_ok();
	o = obs(ctrl_json, raid_json,
		"[{\"ctrlr\":\"vhost7\",\"backend_specific\":{\"block\":{\"bdev\":\"Malloc9\"}}}]",
		bdev_json);
	dms[0].mapping.state = STORE_MAPPING_ATTACHED;
	run(&o, &p, NULL, 0);
	expect(&p.chains[0], "");
	assert_non_null(strstr(p.chains[0].note, "Malloc9"));
	daemon_plan_free(&p);
	observe_raw_clear(&o);
}

static void test_snapshot_source_waits_before_initialised(void **state)
{
	struct observe_raw o = obs("[]", "[]", "[]", "[]");
	struct daemon_plan p;

	util_strlcpy(dms[0].volume.snapshot_source, "golden", sizeof(dms[0].volume.snapshot_source));
	run(&o, &p, NULL, 0);
	expect(&p.chains[0], "attach attach | create_raid");
	assert_true(p.chains[0].blocked);
	assert_non_null(strstr(p.chains[0].note, "golden"));
	daemon_plan_free(&p);
	observe_raw_clear(&o);
}

static void test_resetting_controller_defers_raid(void **state)
{
	full_paths();
	struct observe_raw o = obs(ctrl_json, "[]", "[]", NULL); /* bdev_get_bdevs skipped */
	struct daemon_plan p;

	run(&o, &p, NULL, 0);
	expect(&p.chains[0], "");
	assert_non_null(strstr(p.chains[0].note, "resetting"));
	daemon_plan_free(&p);
	observe_raw_clear(&o);
}

static void test_degraded_raid_gets_member_back(void **state)
{
	full_paths();
	snprintf(raid_json, sizeof(raid_json),
		 "[{\"name\":\"raid_1\",\"state\":\"online\",\"raid_level\":\"raid1\","
		 "\"base_bdevs_list\":[{\"name\":\"%sn1\",\"is_configured\":true},{\"name\":null,"
		 "\"is_configured\":false}]}]",
		 ca);
	struct observe_raw o = obs(ctrl_json, raid_json,
				   "[{\"ctrlr\":\"vhost7\",\"backend_specific\":{\"block\":"
				   "{\"bdev\":\"raid_1\"}}}]",
				   bdev_json);
	struct daemon_plan p;

	dms[0].mapping.state = STORE_MAPPING_ATTACHED;
	run(&o, &p, NULL, 0);
	expect(&p.chains[0], "add_base");
	char want[80];
	snprintf(want, sizeof(want), "%sn1", cb);
	assert_string_equal(p.chains[0].ops[0].bases[0], want);
	daemon_plan_free(&p);
	observe_raw_clear(&o);
}

static void test_orphans_after_grace_foreign_never(void **state)
{
	struct orphan_clock *clk = orphan_clock_new();
	struct observe_raw o = obs(
		"[{\"name\":\"nvme_gone_0badc0de\",\"ctrlrs\":[]},{\"name\":\"Nvme0\",\"ctrlrs\":[]}]",
		"[{\"name\":\"raid_99\",\"base_bdevs_list\":[{\"name\":\"nvme_gone_0badc0den1\"}]},"
		"{\"name\":\"myraid\",\"base_bdevs_list\":[]}]",
		"[{\"ctrlr\":\"vhost99\",\"backend_specific\":{\"block\":{\"bdev\":\"raid_99\"}}},"
		"{\"ctrlr\":\"vm-disk\",\"backend_specific\":{\"block\":{\"bdev\":\"myraid\"}}}]",
		"[]");
	struct daemon_plan p;

	desired.n_mappings = 0;
	run(&o, &p, clk, 1000);
	assert_int_equal(p.n, 0); /* first seen: grace starts */
	daemon_plan_free(&p);
	run(&o, &p, clk, 1059);
	assert_int_equal(p.n, 0);
	daemon_plan_free(&p);
	run(&o, &p, clk, 1060);
	assert_int_equal(p.n, 1);
	expect(&p.chains[0], "delete_vhost | delete_raid | detach");
	assert_string_equal(p.chains[0].ops[0].name, "vhost99");
	assert_string_equal(p.chains[0].ops[1].name, "raid_99");
	assert_string_equal(p.chains[0].ops[2].name, "nvme_gone_0badc0de");
	daemon_plan_free(&p);
	orphan_clock_free(clk);
	observe_raw_clear(&o);
}

static void test_names(void **state)
{
	char n[64];
	int64_t id;

	daemon_name_ctrlr_for_nqn(NQN_A, n, sizeof(n));
	assert_true(daemon_name_is_ctrlr(n));
	assert_int_equal(strncmp(n, "nvme_vol1a_", 11), 0);
	daemon_name_ctrlr_for_nqn(NQN_B, ca, sizeof(ca));
	assert_string_not_equal(n, ca);
	assert_false(daemon_name_is_ctrlr("Nvme0"));
	assert_false(daemon_name_is_ctrlr("nvme_x_ZZZZZZZZ"));
	assert_true(daemon_name_is_raid("raid_42", &id));
	assert_int_equal(id, 42);
	assert_false(daemon_name_is_raid("raid_042", NULL));
	assert_false(daemon_name_is_raid("raid_4x", NULL));
	assert_false(daemon_name_is_raid("myraid", NULL));
	assert_true(daemon_name_is_vhost("vhost7", &id));
	assert_false(daemon_name_is_vhost("vhost_stale", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_new_mapping_builds_in_order, setup),
		cmocka_unit_test_setup(test_attached_and_present_needs_nothing, setup),
		cmocka_unit_test_setup(test_after_spdk_restart_waits_for_reassembly, setup),
		cmocka_unit_test_setup(test_teardown_order, setup),
		cmocka_unit_test_setup(test_vhost_without_bdev_is_recreated, setup),
		cmocka_unit_test_setup(test_conflicts_are_reported_not_touched, setup),
		cmocka_unit_test_setup(test_snapshot_source_waits_before_initialised, setup),
		cmocka_unit_test_setup(test_resetting_controller_defers_raid, setup),
		cmocka_unit_test_setup(test_degraded_raid_gets_member_back, setup),
		cmocka_unit_test_setup(test_orphans_after_grace_foreign_never, setup),
		cmocka_unit_test_setup(test_names, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
