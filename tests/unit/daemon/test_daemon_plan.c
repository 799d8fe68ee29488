/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's planning pipeline without SPDK or a database: a store_desired and SPDK-shaped
 * list answers -> desired_from_store + observed_from_raw -> plan_build -> executor chains.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "answer_fill.h"
#include "common/util.h"
#include "daemon/daemon_config.h"
#include "daemon/daemon_plan.h"
#include "reconcile/desired.h"
#include "reconcile/names.h"
#include "reconcile/observe_model.h"
#include "store/store.h"

static struct store_replica reps[2];
static struct store_desired_mapping dm;
static struct store_desired sd;
static struct daemon_config cfg;

static int setup(void **state)
{
	memset(reps, 0, sizeof(reps));
	for (int i = 0; i < 2; i++) {
		reps[i].id = 10 + i;
		reps[i].transport = STORE_TRANSPORT_TCP;
		reps[i].in_sync = true;
		util_strlcpy(reps[i].address, "127.0.0.1", sizeof(reps[i].address));
		reps[i].port = (uint16_t)(4420 + i);
		snprintf(reps[i].nqn, sizeof(reps[i].nqn), "nqn.2016-06.io.spdk:vol1%c", 'a' + i);
	}
	memset(&dm, 0, sizeof(dm));
	dm.mapping.id = 7;
	dm.mapping.volume_id = 1;
	dm.mapping.state = STORE_MAPPING_ASSIGNED;
	util_strlcpy(dm.mapping.vm_id, "vm1", sizeof(dm.mapping.vm_id));
	dm.volume.id = 1;
	dm.volume.size_bytes = 4 << 20;
	dm.volume.block_size = 512;
	dm.replicas = reps;
	dm.n_replicas = 2;
	memset(&sd, 0, sizeof(sd));
	util_strlcpy(sd.host.name, "h1", sizeof(sd.host.name));
	sd.mappings = &dm;
	sd.n_mappings = 1;
	daemon_config_defaults(&cfg);
	util_strlcpy(cfg.host, "h1", sizeof(cfg.host));
	util_strlcpy(cfg.vhost_dir, "/var/tmp/vhost", sizeof(cfg.vhost_dir));
	return 0;
}

/* raw() was given a bdev listing: the planner sees it as the whole set of bdevs */
static bool g_listed;

static struct observe_raw raw(const char *ctrls, const char *raids, const char *vhosts,
			      const char *bdevs)
{
	struct observe_raw o = {0};
	fill_controllers(ctrls, &o.controllers);
	fill_raids(raids, &o.raids);
	fill_vhosts(vhosts, &o.vhosts);
	fill_keys("[{\"name\":\"de_key_n1\",\"path\":\"/k/n1\",\"removed\":true}]", &o.keys);
	if (bdevs)
		fill_bdevs(bdevs, &o.bdevs);
	g_listed = bdevs != NULL;
	return o;
}

/* The whole pipeline; chains in *out. */
static void pipeline(const struct observe_raw *o, struct daemon_plan *out)
{
	struct desired_model m;
	struct observed_model om;
	struct plan p = {0};

	assert_int_equal(desired_from_store(&sd, &cfg, &m), 0);
	assert_int_equal(observed_from_raw(o, NULL, 0, 1000, &om), 0);
	om.o.bdevs_listed = g_listed;
	assert_int_equal(plan_build(&m.d, &om.o, NULL, &p), 0);
	assert_int_equal(daemon_plan_from_actions(&p, &sd, out), 0);
	plan_free(&p);
	observed_model_free(&om);
	desired_model_free(&m);
}

static void test_desired_adapter(void **state)
{
	struct desired_model m;

	reps[1].pending = false;
	dm.mapping.state = STORE_MAPPING_ATTACHED;
	util_strlcpy(dm.volume.snapshot_source, "golden", sizeof(dm.volume.snapshot_source));
	assert_int_equal(desired_from_store(&sd, &cfg, &m), 0);
	assert_int_equal(m.d.n_mappings, 1);
	assert_int_equal(m.d.mappings[0].state, MAPPING_ATTACHED);
	assert_int_equal(m.d.mappings[0].volume_id, 1);
	assert_true(m.d.volumes[0].raid_created); /* it got past ASSIGNED */
	assert_true(m.d.volumes[0].has_snapshot_source);
	assert_int_equal(m.d.volumes[0].n_replicas, 2);
	assert_int_equal(m.d.volumes[0].replicas[1].slot, 1);
	assert_int_equal(m.d.volumes[0].replicas[1].port, 4421);
	assert_int_equal(m.d.volumes[0].replicas[0].transport, TRANSPORT_TCP);
	assert_string_equal(m.d.config.hostnqn, cfg.hostnqn);
	assert_int_equal(m.d.config.ctrlr_loss_s, 10);
	desired_model_free(&m);
}

static void test_observed_decoder(void **state)
{
	struct observe_raw o =
		raw("[{\"name\":\"c1\",\"ctrlrs\":[{\"state\":\"resetting\",\"trid\":{\"trtype\":"
		    "\"TCP\","
		    "\"traddr\":\"127.0.0.1\",\"trsvcid\":\"4420\",\"subnqn\":\"nqn.x\"}},"
		    "{\"state\":\"reconnect_is_delayed\",\"trid\":{\"trtype\":\"RDMA\"}}]}]",
		    "[{\"name\":\"raid_1\",\"state\":\"online\",\"superblock\":true,"
		    "\"num_base_bdevs_operational\":1,\"process\":{\"type\":\"rebuild\",\"target\":"
		    "\"b\",\"progress\":{\"blocks\":64,\"percent\":37}},\"base_bdevs_list\":[{"
		    "\"name\":\"a\","
		    "\"is_configured\":true,\"data_offset\":2048},{\"name\":null,\"is_configured\":"
		    "false}]}]",
		    "[{\"ctrlr\":\"vhost.0\",\"backend_specific\":{\"scsi\":[]}},"
		    "{\"ctrlr\":\"vhost7\",\"backend_specific\":{\"block\":{\"bdev\":null}},"
		    "\"sessions\":[]}]",
		    NULL);
	struct observed_model om;

	assert_int_equal(observed_from_raw(&o, NULL, 0, 5, &om), 0);
	assert_int_equal(om.o.n_ctrlrs, 1);
	assert_int_equal(om.o.ctrlrs[0].n_paths, 2);
	assert_int_equal(om.o.ctrlrs[0].paths[0].state, CTRLR_RESETTING);
	assert_int_equal(om.o.ctrlrs[0].paths[1].state, CTRLR_RECONNECT_DELAYED);
	assert_int_equal(om.o.ctrlrs[0].paths[1].transport, TRANSPORT_RDMA);
	assert_string_equal(om.o.ctrlrs[0].paths[0].subnqn, "nqn.x");
	assert_false(om.o.bdevs_listed);
	assert_int_equal(om.o.n_raids, 1);
	assert_true(om.o.raids[0].superblock);
	assert_true(om.o.raids[0].has_process);
	assert_int_equal(om.o.raids[0].process_percent, 37);
	assert_int_equal(om.o.raids[0].n_bases, 2);
	assert_true(om.o.raids[0].bases[0].has_name);
	assert_int_equal(om.o.raids[0].bases[0].data_offset, 2048);
	assert_false(om.o.raids[0].bases[1].has_name);
	/* the vhost-scsi controller is someone else's: not in the graph at all */
	assert_int_equal(om.o.n_vhosts, 1);
	assert_string_equal(om.o.vhosts[0].name, "vhost7");
	assert_false(om.o.vhosts[0].has_bdev);
	assert_int_equal(om.o.now_s, 5);
	assert_int_equal(om.o.n_keys, 1);
	assert_string_equal(om.o.keys[0].path, "/k/n1");
	assert_true(om.o.keys[0].removed);
	observed_model_free(&om);
	observe_raw_clear(&o);
}

static const struct daemon_plan_chain *chain_by_key(const struct daemon_plan *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->chains[i].key, key) == 0)
			return &p->chains[i];
	return NULL;
}

/*
 * Each replica's attach is a chain of its own: both are in flight together, and one that
 * fails never holds back the volume's chain (design: the attach of a replica that is not
 * there must never hold back serving the one that is).
 */
static void test_new_mapping_attaches_both_paths_together(void **state)
{
	struct observe_raw o = raw("[]", "[]", "[]", "[]");
	struct daemon_plan p;
	char c[2][MODEL_NAME_MAX], key[MODEL_NAME_MAX + 8];

	for (int i = 0; i < 2; i++) {
		struct replica r = {.transport = TRANSPORT_TCP};

		util_strlcpy(r.nqn, reps[i].nqn, sizeof(r.nqn));
		assert_int_equal(names_ctrlr(&r, c[i], sizeof(c[i])), 0);
	}
	pipeline(&o, &p);
	assert_int_equal(p.n, 3);
	const struct daemon_plan_chain *vc = chain_by_key(&p, "volume 1");
	assert_non_null(vc);
	assert_int_equal(vc->mapping_id, 7);
	for (size_t i = 0; i < vc->n; i++)
		assert_int_not_equal(vc->ops[i].kind, EXEC_OP_ATTACH_PATH);
	for (int i = 0; i < 2; i++) {
		snprintf(key, sizeof(key), "path %s", c[i]);
		const struct daemon_plan_chain *pc = chain_by_key(&p, key);
		assert_non_null(pc);
		assert_int_equal(pc->mapping_id, 0);
		assert_int_equal(pc->volume_id, 1);
		assert_int_equal(pc->n, 1);
		assert_int_equal(pc->ops[0].kind, EXEC_OP_ATTACH_PATH);
		assert_string_equal(pc->ops[0].name, c[i]);
		assert_string_equal(pc->ops[0].subnqn, reps[i].nqn);
		assert_true(pc->ops[0].multipath);
		if (i == 0) {
			assert_string_equal(pc->ops[0].traddr, "127.0.0.1");
			assert_string_equal(pc->ops[0].trsvcid, "4420");
		}
	}
	daemon_plan_free(&p);
	observe_raw_clear(&o);
}

static void test_every_mapping_has_a_chain_and_conflicts_become_notes(void **state)
{
	struct observe_raw o = raw("[]",
				   "[{\"name\":\"raid_1\",\"state\":\"online\",\"raid_level\":"
				   "\"raid1\",\"base_bdevs_list\":[{\"name\":\"Malloc0\","
				   "\"is_configured\":true},{\"name\":\"Malloc1\","
				   "\"is_configured\":true}]}]",
				   "[]",
				   "[{\"name\":\"Malloc0\",\"block_size\":512,\"num_blocks\":100},"
				   "{\"name\":\"Malloc1\",\"block_size\":512,\"num_blocks\":100},"
				   "{\"name\":\"raid_1\",\"block_size\":512,\"num_blocks\":100}]");
	struct daemon_plan p;

	pipeline(&o, &p);
	const struct daemon_plan_chain *vc = chain_by_key(&p, "volume 1");
	assert_non_null(vc);
	assert_true(vc->blocked);
	assert_non_null(strstr(vc->note, "conflict: "));
	assert_non_null(strstr(vc->note, "Malloc0"));
	for (size_t k = 0; k < p.n; k++) {
		for (size_t i = 0; i < p.chains[k].n; i++) {
			assert_int_not_equal(p.chains[k].ops[i].kind, EXEC_OP_DELETE_RAID);
			assert_int_not_equal(p.chains[k].ops[i].kind, EXEC_OP_CREATE_RAID);
		}
	}
	daemon_plan_free(&p);
	observe_raw_clear(&o);
}

/* The namespace bdev the planner names for a store replica. */
static void bdev_of(const struct store_replica *r, char *out, size_t size)
{
	struct replica m = {.transport = TRANSPORT_TCP};
	char c[MODEL_NAME_MAX];

	util_strlcpy(m.nqn, r->nqn, sizeof(m.nqn));
	assert_int_equal(names_ctrlr(&m, c, sizeof(c)), 0);
	names_ns_bdev(c, 1, out, size);
}

/*
 * An attached volume in a replica-swapping resize: replicas[0..n) in id order, raid_1 over the
 * two bdevs in_raid (configured, no rebuild running), every replica's controller and bdev there.
 * Returns the chain's REPLICA_PROMOTE op (NULL if none) and leaves the plan in *p.
 */
static const struct exec_op *promote_op(struct store_replica *r, size_t n, const int in_raid[2],
					struct daemon_plan *p)
{
	char ctrls[4096] = "[", bdevs[4096] = "[", raids[1024], bdev[MODEL_NAME_MAX];
	char b0[MODEL_NAME_MAX], b1[MODEL_NAME_MAX];
	size_t lc = 1, lb = 1;
	struct observe_raw o;

	dm.replicas = r;
	dm.n_replicas = n;
	dm.mapping.state = STORE_MAPPING_ATTACHED;
	dm.volume.state = STORE_VOLUME_RESIZING;
	for (size_t i = 0; i < n; i++) {
		bdev_of(&r[i], bdev, sizeof(bdev));
		/* "<ctrlr>n1": the controller is the bdev name without the namespace suffix */
		lc += (size_t)snprintf(ctrls + lc, sizeof(ctrls) - lc,
				       "%s{\"name\":\"%.*s\",\"ctrlrs\":[{\"state\":\"enabled\","
				       "\"trid\":{\"trtype\":\"TCP\",\"traddr\":\"127.0.0.1\","
				       "\"trsvcid\":\"%u\",\"subnqn\":\"%s\"}}]}",
				       i ? "," : "", (int)strlen(bdev) - 2, bdev, r[i].port,
				       r[i].nqn);
		/* pending namespaces are larger (the resize) */
		lb += (size_t)snprintf(bdevs + lb, sizeof(bdevs) - lb,
				       "%s{\"name\":\"%s\",\"block_size\":512,\"num_blocks\":%d,"
				       "\"claimed\":true}",
				       i ? "," : "", bdev, r[i].pending ? 65536 : 16384);
	}
	bdev_of(&r[in_raid[0]], b0, sizeof(b0));
	bdev_of(&r[in_raid[1]], b1, sizeof(b1));
	snprintf(raids, sizeof(raids),
		 "[{\"name\":\"raid_1\",\"state\":\"online\",\"superblock\":true,"
		 "\"num_base_bdevs\":2,\"num_base_bdevs_discovered\":2,"
		 "\"num_base_bdevs_operational\":2,\"base_bdevs_list\":["
		 "{\"name\":\"%s\",\"is_configured\":true,\"data_offset\":2048},"
		 "{\"name\":\"%s\",\"is_configured\":true,\"data_offset\":2048}]}]",
		 b0, b1);
	lb += (size_t)snprintf(bdevs + lb, sizeof(bdevs) - lb,
			       ",{\"name\":\"raid_1\",\"block_size\":512,\"num_blocks\":8192,"
			       "\"claimed\":true}]");
	snprintf(ctrls + lc, sizeof(ctrls) - lc, "]");
	o = raw(ctrls, raids,
		"[{\"ctrlr\":\"vhost7\",\"backend_specific\":{\"block\":{\"bdev\":"
		"\"raid_1\"}},\"sessions\":[]}]",
		bdevs);
	pipeline(&o, p);
	observe_raw_clear(&o);
	assert_int_equal(p->n, 1);
	for (size_t i = 0; i < p->chains[0].n; i++)
		if (p->chains[0].ops[i].kind == EXEC_OP_REPLICA_PROMOTE)
			return &p->chains[0].ops[i];
	return NULL;
}

static void test_resize_promotes_by_replica_ids(void **state)
{
	struct store_replica r[4];
	const int slot0_swapped[2] = {2, 1}, slot1_swapped[2] = {1, 2};
	const struct exec_op *op;
	struct daemon_plan p;
	char want[MODEL_NAME_MAX], what[512];

	/* members 10, 11; pending 12 (replaces 10) and 13 (replaces 11) */
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 4; i++) {
		r[i] = reps[i % 2];
		r[i].id = 10 + i;
		r[i].pending = i >= 2;
		r[i].in_sync = i < 2;
		snprintf(r[i].nqn, sizeof(r[i].nqn), "nqn.2016-06.io.spdk:vol1%c", 'a' + i);
	}
	/* slot 0 rebuilt: 12 sits where 10 was */
	op = promote_op(r, 4, slot0_swapped, &p);
	assert_non_null(op);
	assert_false(p.chains[0].blocked);
	assert_int_equal(op->volume_id, 1);
	assert_int_equal(op->replica_id, 10);
	assert_int_equal(op->pending_id, 12);
	bdev_of(&r[2], want, sizeof(want));
	assert_string_equal(op->name, want);
	exec_op_describe(op, what, sizeof(what));
	assert_non_null(strstr(what, "promote replica 12"));
	assert_non_null(strstr(what, "replica 10"));
	daemon_plan_free(&p);

	/*
	 * The store promoted 12: members are now 11 and 12, pending 13. Slots renumber (11 is
	 * slot 0 now), yet the promotion of 13 must name 11, never 12.
	 */
	r[2].pending = false;
	r[2].in_sync = true;
	memmove(&r[0], &r[1], 3 * sizeof(r[0]));
	op = promote_op(r, 3, slot1_swapped, &p);
	assert_non_null(op);
	assert_int_equal(op->replica_id, 11);
	assert_int_equal(op->pending_id, 13);
	bdev_of(&r[2], want, sizeof(want));
	assert_string_equal(op->name, want);
	daemon_plan_free(&p);

	daemon_plan_free(&p);

	/*
	 * A promotion naming a bdev that is not the slot's pending replica (the database changed
	 * under the plan), or a slot without one, is not run: it becomes the chain's note.
	 */
	struct action a = {.kind = ACTION_REPLICA_PROMOTE, .volume_id = 1, .slot = 0};
	struct plan pl = {.actions = &a, .n_actions = 1};

	util_strlcpy(a.group, "volume:1", sizeof(a.group));
	bdev_of(&r[1], a.object, sizeof(a.object)); /* 12: a member by now */
	assert_int_equal(daemon_plan_from_actions(&pl, &sd, &p), 0);
	assert_int_equal(p.chains[0].n, 0);
	assert_true(p.chains[0].blocked);
	assert_non_null(strstr(p.chains[0].note, a.object));
	daemon_plan_free(&p);
	a.slot = 1;
	bdev_of(&r[2], a.object, sizeof(a.object));
	assert_int_equal(daemon_plan_from_actions(&pl, &sd, &p), 0);
	assert_int_equal(p.chains[0].n, 0);
	assert_true(p.chains[0].blocked);
	daemon_plan_free(&p);
	a.slot = 0;
	assert_int_equal(daemon_plan_from_actions(&pl, &sd, &p), 0);
	assert_int_equal(p.chains[0].n, 1);
	assert_int_equal(p.chains[0].ops[0].kind, EXEC_OP_REPLICA_PROMOTE);
	assert_false(p.chains[0].blocked);
	daemon_plan_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_desired_adapter, setup),
		cmocka_unit_test_setup(test_observed_decoder, setup),
		cmocka_unit_test_setup(test_new_mapping_attaches_both_paths_together, setup),
		cmocka_unit_test_setup(test_every_mapping_has_a_chain_and_conflicts_become_notes,
				       setup),
		cmocka_unit_test_setup(test_resize_promotes_by_replica_ids, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
