/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One test per design invariant (docs/plan.md lists them). Most drive the planner through
 * several passes against the toy SPDK of fixture_apply.c, as the daemon would, and check the
 * order in which things happened.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#define LOG_MAX 256

struct event {
	enum action_kind kind;
	enum mapping_state to;
	char object[MODEL_NAME_MAX];
	int pass;
};

static struct fx F;
static struct event LOG[LOG_MAX];
static size_t NLOG;

/* Plan and apply until a pass plans nothing; returns the number of passes. */
static int converge(struct fx *f, int max_passes)
{
	NLOG = 0;
	for (int pass = 0; pass < max_passes; pass++) {
		const struct plan *p = fx_plan(f);

		if (p->n_actions == 0)
			return pass;
		for (size_t i = 0; i < p->n_actions && NLOG < LOG_MAX; i++) {
			LOG[NLOG].kind = p->actions[i].kind;
			LOG[NLOG].to = p->actions[i].to;
			fx_copy(LOG[NLOG].object, MODEL_NAME_MAX, p->actions[i].object);
			LOG[NLOG].pass = pass;
			NLOG++;
		}
		fx_apply(f, p, ACTION_KIND_COUNT);
	}
	fx_dump(&f->p);
	fail_msg("no convergence after %d passes", max_passes);
	return -1;
}

/* Position in the log of the first (last if !first) event of a kind; -1 if none. */
static int log_pos(enum action_kind k, int to, bool first)
{
	int pos = -1;

	for (size_t i = 0; i < NLOG; i++) {
		if (LOG[i].kind != k || (to >= 0 && LOG[i].to != (enum mapping_state)to))
			continue;
		pos = (int)i;
		if (first)
			break;
	}
	return pos;
}

static void test_invariant_1_create_order(void **state)
{
	int attach, raid, init, qos, vhost, attached;

	fx_init(&F);
	fx_volume(&F, 1)->qos.rw_mbytes_per_sec = 200;
	fx_mapping(&F, 7, 1, MAPPING_ASSIGNED);
	assert_true(converge(&F, 10) > 0);
	attach = log_pos(ACTION_ATTACH_PATH, -1, false);
	raid = log_pos(ACTION_CREATE_RAID, -1, true);
	init = log_pos(ACTION_MAPPING_ADVANCE, MAPPING_INITIALISED, true);
	qos = log_pos(ACTION_SET_QOS, -1, true);
	vhost = log_pos(ACTION_CREATE_VHOST, -1, true);
	attached = log_pos(ACTION_MAPPING_ADVANCE, MAPPING_ATTACHED, true);
	assert_true(attach >= 0 && raid > attach);
	assert_true(init > raid);
	assert_true(qos > init);
	assert_true(vhost > qos);
	assert_true(attached > vhost);
	assert_int_equal(F.maps[0].state, MAPPING_ATTACHED);
	/*
	 * A fresh volume's chain goes on as SPDK answers: the raid after both attaches, the
	 * vhost after INITIALISED is recorded, all in the pass that attached.
	 */
	assert_int_equal(LOG[raid].pass, LOG[attach].pass);
	assert_int_equal(LOG[init].pass, LOG[raid].pass);
	assert_int_equal(LOG[attached].pass, LOG[raid].pass);

	/* A vhost is never created for a mapping whose raid is missing, only after the step
	 * of its chain that creates the raid. */
	fx_remove_raid(&F, "raid_1");
	fx_remove_vhost(&F, "vhost7");
	F.vols[0].raid_created = false;
	for (size_t i = 0; i < F.nb; i++)
		F.bdevs[i].claimed = false;
	fx_plan(&F);
	assert_int_equal(fx_count(&F.p, ACTION_CREATE_RAID), 1);
	assert_int_equal(fx_count(&F.p, ACTION_CREATE_VHOST), 1);
	assert_string_equal(fx_find(&F.p, ACTION_CREATE_VHOST, NULL)->group,
			    fx_find(&F.p, ACTION_CREATE_RAID, NULL)->group);
	assert_true(fx_find(&F.p, ACTION_CREATE_VHOST, NULL)->step >
		    fx_find(&F.p, ACTION_CREATE_RAID, NULL)->step);
	/* ... and none while the raid cannot be created (a member is claimed) */
	F.bdevs[0].claimed = true;
	assert_int_equal(fx_count(fx_plan(&F), ACTION_CREATE_VHOST), 0);
	fx_done(&F);
}

static void test_invariant_2_teardown_order(void **state)
{
	int vh, raid, ctrl, detached;

	fx_init(&F);
	fx_attached(&F, 1, 7);
	F.maps[0].state = MAPPING_DETACH_REQUESTED;
	F.vhosts[0].sessions = 0; /* zero sessions still blocks: QEMU can reconnect */

	/* While the vhost controller is there, everything below it waits for its delete (a later
	 * step of the same chain). */
	fx_plan(&F);
	assert_int_equal(F.p.actions[0].kind, ACTION_DELETE_VHOST);
	for (size_t i = 1; i < F.p.n_actions; i++)
		assert_true(F.p.actions[i].step > F.p.actions[0].step);
	/* The delete failed: nothing below ran, the mapping stays; the next pass retries it. */
	fx_apply(&F, &F.p, ACTION_DELETE_VHOST);
	assert_int_equal(F.nr, 1);
	assert_int_equal(F.maps[0].state, MAPPING_DETACH_REQUESTED);
	fx_plan(&F);
	assert_int_equal(F.p.actions[0].kind, ACTION_DELETE_VHOST);

	assert_true(converge(&F, 10) > 0);
	vh = log_pos(ACTION_DELETE_VHOST, -1, true);
	raid = log_pos(ACTION_DELETE_RAID, -1, true);
	ctrl = log_pos(ACTION_DETACH_CONTROLLER, -1, true);
	detached = log_pos(ACTION_MAPPING_ADVANCE, MAPPING_DETACHED, true);
	assert_true(vh >= 0 && raid > vh && ctrl > raid && detached > ctrl);
	/* in order, in one pass: each layer after the one above answered */
	assert_int_equal(LOG[raid].pass, LOG[vh].pass);
	assert_int_equal(LOG[ctrl].pass, LOG[raid].pass);
	assert_int_equal(LOG[detached].pass, LOG[ctrl].pass);
	assert_int_equal(F.maps[0].state, MAPPING_DETACHED);
	assert_int_equal(F.nc + F.nr + F.nvh, 0);
	fx_done(&F);

	/* A controller another live volume uses stays. */
	fx_init(&F);
	fx_attached(&F, 1, 7);
	{
		struct volume *v2 = fx_volume(&F, 2);

		v2->replicas[1] = F.vols[0].replicas[1]; /* same subsystem, same controller */
		fx_mapping(&F, 8, 2, MAPPING_ATTACHED);
		fx_obs_replica(&F, v2, 0);
		fx_obs_raid(&F, v2);
		fx_obs_vhost(&F, 8, "raid_2");
	}
	F.maps[0].state = MAPPING_DETACH_REQUESTED;
	assert_true(converge(&F, 10) > 0);
	assert_int_equal(F.maps[0].state, MAPPING_DETACHED);
	assert_int_equal(log_pos(ACTION_DETACH_CONTROLLER, -1, false),
			 log_pos(ACTION_DETACH_CONTROLLER, -1, true)); /* exactly one */
	fx_done(&F);
}

/* MAPPING_ADVANCE always waits for every RPC planned before it in its group. */
static void check_advances_last(const struct plan *p)
{
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct action *a = &p->actions[i];

		if (a->kind != ACTION_MAPPING_ADVANCE && a->kind != ACTION_REPLICA_PROMOTE)
			continue;
		for (size_t k = 0; k < i; k++) {
			const struct action *b = &p->actions[k];

			if (strcmp(b->group, a->group) == 0 && b->kind != ACTION_SET_STATUS &&
			    b->kind != ACTION_MAPPING_ADVANCE && b->kind != ACTION_REPLICA_SET_SYNC)
				assert_true(b->step < a->step);
		}
	}
}

static void test_invariant_3_no_advance_after_failed_rpc(void **state)
{
	enum action_kind kinds[] = {ACTION_ATTACH_PATH, ACTION_CREATE_RAID, ACTION_SET_QOS,
				    ACTION_CREATE_VHOST};

	/* Whichever RPC of the create chain fails, the mapping never reaches ATTACHED. */
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		fx_init(&F);
		fx_volume(&F, 1)->qos.rw_ios_per_sec = 1000;
		fx_mapping(&F, 7, 1, MAPPING_ASSIGNED);
		for (int pass = 0; pass < 8; pass++) {
			fx_plan(&F);
			check_advances_last(&F.p);
			fx_apply(&F, &F.p, kinds[k]);
		}
		assert_int_not_equal(F.maps[0].state, MAPPING_ATTACHED);
		fx_done(&F);
	}
	/* Same for teardown: a failing delete keeps the mapping DETACH_REQUESTED. */
	enum action_kind down[] = {ACTION_DELETE_VHOST, ACTION_DELETE_RAID,
				   ACTION_DETACH_CONTROLLER};

	for (size_t k = 0; k < sizeof(down) / sizeof(down[0]); k++) {
		fx_init(&F);
		fx_attached(&F, 1, 7);
		F.maps[0].state = MAPPING_DETACH_REQUESTED;
		for (int pass = 0; pass < 8; pass++) {
			fx_plan(&F);
			check_advances_last(&F.p);
			fx_apply(&F, &F.p, down[k]);
		}
		assert_int_equal(F.maps[0].state, MAPPING_DETACH_REQUESTED);
		fx_done(&F);
	}
}

static void test_invariant_4_no_listing_during_reset(void **state)
{
	const struct action *check, *create;
	char c0[MODEL_NAME_MAX];

	fx_init(&F);
	fx_attached(&F, 1, 7)->qos.rw_mbytes_per_sec = 10; /* would need SET_QOS */
	F.vhosts[0].has_bdev = false;			   /* would need a new vhost */
	fx_ctrlr_name(&F.vols[0], 0, c0, sizeof(c0));
	F.paths[0][0].state = CTRLR_RESETTING;
	fx_volume(&F, 2);
	fx_mapping(&F, 9, 2, MAPPING_ASSIGNED);
	assert_false(plan_bdev_listing_safe(F.ctrls, F.nc));
	assert_true(plan_bdev_listing_safe(F.ctrls + 1, F.nc - 1));
	fx_plan(&F);
	assert_true(F.p.reset_in_progress);
	for (size_t i = 0; i < F.p.n_actions; i++)
		assert_int_not_equal(F.p.actions[i].volume_id,
				     1);			 /* nothing on the resetting one */
	assert_int_equal(fx_count(&F.p, ACTION_ATTACH_PATH), 2); /* volume 2 goes on */

	/*
	 * No bdev was read: nothing that depends on volume 1's bdevs is planned (unknown is not
	 * absent). Volume 2's raid follows its attaches in the same chain, after CHECK_MEMBERS
	 * has read the bdevs those attaches made.
	 */
	F.paths[0][0].state = CTRLR_ENABLED;
	F.o.bdevs_listed = false;
	fx_remove_raid(&F, "raid_1");
	F.vols[0].raid_created = false;
	fx_plan(&F);
	assert_false(F.p.reset_in_progress);
	for (size_t i = 0; i < F.p.n_actions; i++) {
		const struct action *a = &F.p.actions[i];

		if (a->volume_id != 1)
			continue;
		assert_int_not_equal(a->kind, ACTION_CREATE_RAID);
		assert_int_not_equal(a->kind, ACTION_CREATE_VHOST);
		assert_int_not_equal(a->kind, ACTION_DELETE_VHOST);
	}
	check = fx_find(&F.p, ACTION_CHECK_MEMBERS, "raid_2");
	create = fx_find(&F.p, ACTION_CREATE_RAID, "raid_2");
	assert_non_null(check);
	assert_non_null(create);
	assert_string_equal(check->group, create->group);
	assert_true(check->step < create->step);
	fx_done(&F);
}

static void test_invariant_5_missed_writes_rebuilt(void **state)
{
	char b1[MODEL_NAME_MAX];
	const struct action *a;

	/* No raid and a replica that missed writes: never created with it as a base. */
	fx_init(&F);
	fx_volume(&F, 1)->replicas[1].in_sync = false;
	fx_mapping(&F, 7, 1, MAPPING_ASSIGNED);
	for (int pass = 0; pass < 5; pass++) {
		fx_plan(&F);
		assert_int_equal(fx_count(&F.p, ACTION_CREATE_RAID), 0);
		fx_apply(&F, &F.p, ACTION_KIND_COUNT);
	}
	fx_done(&F);

	/* The raid lives on degraded; the stale replica comes back: added, so SPDK rebuilds. */
	fx_init(&F);
	fx_attached(&F, 1, 7);
	F.vols[0].replicas[1].in_sync = false;
	fx_bdev_name(&F.vols[0], 1, b1, sizeof(b1));
	F.rbases[0][1].has_name = false;
	F.rbases[0][1].is_configured = false;
	F.raids[0].operational = 1;
	F.bdevs[1].claimed = false;
	a = fx_find(fx_plan(&F), ACTION_ADD_RAID_BASE, "raid_1");
	assert_non_null(a);
	assert_string_equal(a->raid.base, b1);
	assert_int_equal(fx_count(&F.p, ACTION_CREATE_RAID), 0);
	fx_done(&F);

	/* The whole cycle: a member is lost, marked out of sync, comes back, is rebuilt. */
	fx_init(&F);
	fx_attached(&F, 1, 7);
	{
		char c1[MODEL_NAME_MAX];

		fx_ctrlr_name(&F.vols[0], 1, c1, sizeof(c1));
		fx_remove_ctrlr(&F, c1);
		fx_remove_bdev(&F, b1);
	}
	F.rbases[0][1].has_name = false;
	F.rbases[0][1].is_configured = false;
	F.raids[0].operational = 1;
	fx_plan(&F);
	/* out of sync at once; the survivor's generation goes above the lost member's */
	assert_int_equal(fx_count(&F.p, ACTION_REPLICA_SET_SYNC), 2);
	assert_false(F.p.actions[fx_index(&F.p, ACTION_REPLICA_SET_SYNC, b1)].in_sync);
	fx_apply(&F, &F.p, ACTION_KIND_COUNT); /* re-attached, marked */
	assert_false(F.vols[0].replicas[1].in_sync);
	assert_true(F.vols[0].replicas[0].generation > F.vols[0].replicas[1].generation);
	assert_int_equal(fx_count(fx_plan(&F), ACTION_REPLICA_SET_SYNC), 0);
	a = fx_find(fx_plan(&F), ACTION_ADD_RAID_BASE, "raid_1");
	assert_non_null(a);
	assert_string_equal(a->raid.base, b1);
	fx_apply(&F, &F.p, ACTION_KIND_COUNT); /* added: the toy rebuild is instant */
	fx_plan(&F);
	assert_int_equal(fx_count(&F.p, ACTION_REPLICA_SET_SYNC), 2);
	fx_apply(&F, &F.p, ACTION_KIND_COUNT);
	assert_true(F.vols[0].replicas[1].in_sync);
	assert_int_equal(F.vols[0].replicas[0].generation, F.vols[0].replicas[1].generation);
	assert_int_equal(fx_count(fx_plan(&F), ACTION_REPLICA_SET_SYNC), 0);
	assert_int_equal(fx_plan(&F)->n_actions, 0);
	fx_done(&F);

	/* Every raid is created with a superblock. */
	fx_init(&F);
	fx_volume(&F, 1);
	fx_mapping(&F, 7, 1, MAPPING_ASSIGNED);
	fx_obs_paths(&F, &F.vols[0]);
	a = fx_find(fx_plan(&F), ACTION_CREATE_RAID, NULL);
	assert_non_null(a);
	assert_true(a->raid.superblock);
	fx_done(&F);
}

static void test_invariant_6_multipath_fabrics_only(void **state)
{
	struct replica *r;

	fx_init(&F);
	r = &fx_volume(&F, 1)->replicas[0];
	r->transport = TRANSPORT_PCIE;
	fx_copy(r->addr, sizeof(r->addr), "0000:82:00.0");
	r->nqn[0] = '\0';
	fx_copy(F.devs[0].bdf, sizeof(F.devs[0].bdf), "0000:82:00.0");
	F.nd = 1;
	fx_copy(F.pci[0].bdf, sizeof(F.pci[0].bdf), "0000:82:00.0");
	fx_copy(F.pci[0].driver, sizeof(F.pci[0].driver), "vfio-pci");
	F.hf.n_pci = 1;
	F.vols[0].replicas[1].transport = TRANSPORT_TCP;
	fx_mapping(&F, 7, 1, MAPPING_ASSIGNED);
	fx_plan(&F);
	assert_int_equal(fx_count(&F.p, ACTION_ATTACH_PATH), 2);
	for (size_t i = 0; i < F.p.n_actions; i++) {
		const struct action *a = &F.p.actions[i];

		if (a->kind == ACTION_ATTACH_PATH)
			assert_int_equal(a->path.multipath, strcmp(a->path.trtype, "PCIe") != 0);
	}
	fx_done(&F);
}

/* The store's side of REPLICA_PROMOTE: the slot's pending replica replaces its member. */
static void promote(struct volume *v, unsigned slot)
{
	size_t member = SIZE_MAX, pend = SIZE_MAX;

	for (size_t i = 0; i < v->n_replicas; i++) {
		if (v->replicas[i].slot != slot)
			continue;
		if (v->replicas[i].pending)
			pend = i;
		else
			member = i;
	}
	assert_true(member != SIZE_MAX && pend != SIZE_MAX);
	v->replicas[member] = v->replicas[pend];
	v->replicas[member].pending = false;
	memmove(&v->replicas[pend], &v->replicas[pend + 1],
		(v->n_replicas - pend - 1) * sizeof(v->replicas[0]));
	v->n_replicas--;
}

static void test_invariant_7_resize_checked_first(void **state)
{
	struct volume *v;
	struct obs_bdev *b;

	/* Two pending namespaces; one is there and fits, the other is not attached yet. */
	fx_init(&F);
	v = fx_attached(&F, 1, 7);
	v->replicas[2] = v->replicas[0];
	v->replicas[3] = v->replicas[1];
	v->replicas[2].pending = v->replicas[3].pending = true;
	fx_copy(v->replicas[2].nqn, MODEL_NQN_MAX, "nqn.2024-01.io.test:g0");
	fx_copy(v->replicas[3].nqn, MODEL_NQN_MAX, "nqn.2024-01.io.test:g1");
	v->n_replicas = 4;
	fx_obs_replica(&F, v, 2);
	fx_plan(&F);
	assert_int_equal(fx_count(&F.p, ACTION_ATTACH_PATH), 1);
	assert_int_equal(fx_count(&F.p, ACTION_REMOVE_RAID_BASE), 0);
	assert_int_equal(fx_count(&F.p, ACTION_ADD_RAID_BASE), 0);

	/* Both there, but the second has another metadata size: stop, nothing removed. */
	b = fx_obs_replica(&F, v, 3);
	b->md_size = 16;
	fx_plan(&F);
	assert_int_equal(fx_count(&F.p, ACTION_REMOVE_RAID_BASE), 0);
	assert_int_equal(fx_count(&F.p, ACTION_ADD_RAID_BASE), 0);
	assert_int_equal(fx_count(&F.p, ACTION_SET_STATUS), 1);
	assert_non_null(strstr(F.p.actions[F.p.n_actions - 1].message, "md 16"));

	/* Fixed: the swap runs one slot at a time and ends with both promoted. */
	b->md_size = 0;
	for (int pass = 0; pass < 12; pass++) {
		fx_plan(&F);
		assert_true(fx_count(&F.p, ACTION_REMOVE_RAID_BASE) <= 1);
		for (size_t i = 0; i < F.p.n_actions; i++)
			if (F.p.actions[i].kind == ACTION_REPLICA_PROMOTE)
				promote(v, F.p.actions[i].slot);
		fx_apply(&F, &F.p, ACTION_KIND_COUNT);
	}
	assert_int_equal(v->n_replicas, 2);
	assert_string_equal(v->replicas[0].nqn, "nqn.2024-01.io.test:g0");
	assert_string_equal(v->replicas[1].nqn, "nqn.2024-01.io.test:g1");
	fx_done(&F);
}

static void test_invariant_8_no_reset_storm(void **state)
{
	/* The planner owns no resets: no action kind resets, and a resetting controller's volume
	 * is left alone however long the reset lasts, pass after pass. */
	fx_init(&F);
	fx_attached(&F, 1, 7);
	F.rbases[0][1].has_name = false;
	F.raids[0].operational = 1;
	F.bdevs[1].claimed = false;
	F.paths[1][0].state = CTRLR_RESETTING;
	for (int pass = 0; pass < 5; pass++) {
		fx_plan(&F);
		/* only the store learns what the raid reports; SPDK is left alone */
		for (size_t i = 0; i < F.p.n_actions; i++)
			assert_int_equal(F.p.actions[i].kind, ACTION_REPLICA_SET_SYNC);
		fx_apply(&F, &F.p, ACTION_KIND_COUNT);
	}
	assert_false(F.vols[0].replicas[1].in_sync);
	assert_int_equal(fx_plan(&F)->n_actions, 0);
	F.paths[1][0].state = CTRLR_ENABLED;
	assert_int_equal(fx_count(fx_plan(&F), ACTION_ADD_RAID_BASE), 1);
	for (int k = 0; k < ACTION_KIND_COUNT; k++)
		assert_null(strstr(plan_action_kind_name((enum action_kind)k), "RESET"));
	fx_done(&F);
}

static void test_invariant_9_timers_consistent(void **state)
{
	struct plan_config c;
	char err[256];
	const struct action *a;

	plan_config_defaults(&c);
	assert_int_equal(plan_config_check(&c, err, sizeof(err)), 0);
	assert_true(c.fast_io_fail_s < c.ctrlr_loss_s);
	assert_true(c.ctrlr_loss_s < c.member_giveup_s);
	assert_true(c.member_giveup_s < c.guest_io_timeout_s);
	c.guest_io_timeout_s = c.member_giveup_s;
	assert_int_equal(plan_config_check(&c, err, sizeof(err)), -EINVAL);
	plan_config_defaults(&c);
	c.member_giveup_s = c.ctrlr_loss_s;
	assert_int_equal(plan_config_check(&c, err, sizeof(err)), -EINVAL);
	plan_config_defaults(&c);
	c.fast_io_fail_s = c.ctrlr_loss_s;
	assert_int_equal(plan_config_check(&c, err, sizeof(err)), -EINVAL);

	/* The attach carries the checked timers. */
	fx_init(&F);
	F.d.config.ctrlr_loss_s = 20;
	F.d.config.reconnect_delay_s = 2;
	F.d.config.fast_io_fail_s = 5;
	fx_volume(&F, 1);
	fx_mapping(&F, 7, 1, MAPPING_ASSIGNED);
	a = fx_find(fx_plan(&F), ACTION_ATTACH_PATH, NULL);
	assert_int_equal(a->path.ctrlr_loss_s, 20);
	assert_int_equal(a->path.reconnect_delay_s, 2);
	assert_int_equal(a->path.fast_io_fail_s, 5);
	fx_done(&F);
}

static void test_invariant_10_orphans(void **state)
{
	struct volume *v;
	int vh, raid, ctrl;

	fx_init(&F);
	F.d.config.orphan_grace_s = 60;
	/* Volume 5 / mapping 50 were built, then vanished from the database. */
	v = fx_attached(&F, 5, 50);
	fx_obs_ctrlr(&F, "Nvme0", TRANSPORT_TCP, "10.9.9.9", "4420", "nqn.x:foreign");
	fx_obs_bdev(&F, "Nvme0n1", 100);
	fx_obs_vhost(&F, 99, NULL)->name[0] = '\0';
	fx_copy(F.vhosts[F.nvh - 1].name, MODEL_NAME_MAX, "vhost_stale");
	fx_copy(F.keys[0].name, MODEL_KEY_MAX, "de_key_node0");
	fx_copy(F.keys[0].path, MODEL_PATH_MAX, "/etc/de/keys/node0");
	fx_copy(F.keys[1].name, MODEL_KEY_MAX, "operator_key");
	fx_copy(F.keys[2].name, MODEL_KEY_MAX, "de_key_operator");
	F.nk = 3;
	/* the volume's row is still there (its key file names the key), no mapping claims it */
	fx_copy(v->replicas[0].key_name, MODEL_KEY_MAX, "node0");
	fx_copy(v->replicas[0].key_path, MODEL_PATH_MAX, "/etc/de/keys/node0");
	F.nm = 0;
	/* An operator's raid_77 (another UUID) served by an operator's vhost77: names like ours,
	 * no proof, never touched. */
	{
		struct volume op = *v;
		struct obs_raid *r;

		op.id = 77;
		r = fx_obs_raid(&F, &op);
		fx_copy(r->uuid, sizeof(r->uuid), "0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
		for (size_t k = 0; k < r->n_bases; k++)
			snprintf(F.rbases[F.nr - 1][k].name, MODEL_NAME_MAX, "Malloc%zu", k);
		fx_obs_vhost(&F, 77, r->name);
	}

	/* Seen just now: inside the grace period nothing is touched. */
	for (size_t i = 0; i < F.nvh; i++)
		fx_seen(&F, F.vhosts[i].name, F.o.now_s - 10);
	for (size_t i = 0; i < F.nr; i++)
		fx_seen(&F, F.raids[i].name, F.o.now_s - 10);
	for (size_t i = 0; i < F.nc; i++)
		fx_seen(&F, F.ctrls[i].name, F.o.now_s - 10);
	fx_seen(&F, "de_key_node0", F.o.now_s - 10);
	fx_seen(&F, "operator_key", F.o.now_s - 10);
	fx_seen(&F, "de_key_operator", F.o.now_s - 10);
	assert_int_equal(fx_plan(&F)->n_actions, 0);

	/* After the grace period: the ordered teardown, and only for diskengine's names. */
	F.o.now_s += 100;
	assert_true(converge(&F, 10) > 0);
	vh = log_pos(ACTION_DELETE_VHOST, -1, true);
	raid = log_pos(ACTION_DELETE_RAID, -1, true);
	ctrl = log_pos(ACTION_DETACH_CONTROLLER, -1, true);
	assert_true(vh >= 0 && raid > vh && ctrl > raid);
	assert_true(LOG[raid].pass > LOG[vh].pass && LOG[ctrl].pass > LOG[raid].pass);
	assert_true(log_pos(ACTION_REMOVE_KEY, -1, true) > ctrl);
	for (size_t i = 0; i < NLOG; i++) {
		assert_string_not_equal(LOG[i].object, "Nvme0");
		assert_string_not_equal(LOG[i].object, "vhost_stale");
		assert_string_not_equal(LOG[i].object, "operator_key");
		assert_string_not_equal(LOG[i].object, "de_key_operator");
		assert_string_not_equal(LOG[i].object, "raid_77");
		assert_string_not_equal(LOG[i].object, "vhost77");
	}
	assert_int_equal(F.nc, 1);  /* Nvme0 */
	assert_int_equal(F.nvh, 2); /* vhost_stale, vhost77 */
	assert_int_equal(F.nr, 1);  /* raid_77 */
	fx_done(&F);

	/* No timestamp from the caller: never old enough. */
	fx_init(&F);
	fx_attached(&F, 5, 50);
	F.nv = 0;
	F.nm = 0;
	assert_int_equal(fx_plan(&F)->n_actions, 0);
	fx_done(&F);
}

/*
 * A vanished volume whose replicas are namespace 2 of their controllers: while its raid still
 * holds those namespaces the controllers stay; they go only after the raid is deleted.
 */
static void test_invariant_10_orphan_ctrlr_other_nsid(void **state)
{
	struct volume *v;
	char c0[MODEL_NAME_MAX], c1[MODEL_NAME_MAX], raid[MODEL_NAME_MAX];
	int del, ctrl;

	(void)state;
	fx_init(&F);
	F.d.config.orphan_grace_s = 1;
	v = fx_volume(&F, 5);
	for (size_t i = 0; i < v->n_replicas; i++)
		v->replicas[i].nsid = 2;
	fx_mapping(&F, 50, 5, MAPPING_ATTACHED);
	fx_obs_paths(&F, v);
	fx_obs_raid(&F, v);
	names_raid(5, raid, sizeof(raid));
	fx_ctrlr_name(v, 0, c0, sizeof(c0));
	fx_ctrlr_name(v, 1, c1, sizeof(c1));
	/* no vhost: the raid is what still holds the namespaces */
	F.nv = 0;
	F.nm = 0;
	for (size_t i = 0; i < F.nr; i++)
		fx_seen(&F, F.raids[i].name, F.o.now_s - 100);
	for (size_t i = 0; i < F.nc; i++)
		fx_seen(&F, F.ctrls[i].name, F.o.now_s - 100);

	fx_plan(&F);
	assert_non_null(fx_find(&F.p, ACTION_DELETE_RAID, raid));
	assert_null(fx_find(&F.p, ACTION_DETACH_CONTROLLER, c0));
	assert_null(fx_find(&F.p, ACTION_DETACH_CONTROLLER, c1));

	assert_true(converge(&F, 10) > 0);
	del = log_pos(ACTION_DELETE_RAID, -1, true);
	ctrl = log_pos(ACTION_DETACH_CONTROLLER, -1, true);
	assert_true(del >= 0 && ctrl > del && LOG[ctrl].pass > LOG[del].pass);
	assert_int_equal(F.nc, 0);
	fx_done(&F);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invariant_1_create_order),
		cmocka_unit_test(test_invariant_2_teardown_order),
		cmocka_unit_test(test_invariant_3_no_advance_after_failed_rpc),
		cmocka_unit_test(test_invariant_4_no_listing_during_reset),
		cmocka_unit_test(test_invariant_5_missed_writes_rebuilt),
		cmocka_unit_test(test_invariant_6_multipath_fabrics_only),
		cmocka_unit_test(test_invariant_7_resize_checked_first),
		cmocka_unit_test(test_invariant_8_no_reset_storm),
		cmocka_unit_test(test_invariant_9_timers_consistent),
		cmocka_unit_test(test_invariant_10_orphans),
		cmocka_unit_test(test_invariant_10_orphan_ctrlr_other_nsid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
