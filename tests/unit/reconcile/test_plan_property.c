/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Property tests: random desired/observed graphs from a seeded PRNG; every plan must keep the
 * invariants whatever the world looks like, and from an empty host repeated passes must converge.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "reconcile/plan_internal.h"

#define CASES 3000

static struct fx F;
static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible across platforms */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static unsigned pick(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static const struct volume *vol_of(uint64_t id)
{
	for (size_t i = 0; i < F.nv; i++)
		if (F.vols[i].id == id)
			return &F.vols[i];
	return NULL;
}

static void random_volume(uint64_t id)
{
	struct volume *v = fx_volume(&F, id);
	char raid[MODEL_NAME_MAX];
	unsigned nmap = 1 + pick(2);

	v->qos.rw_ios_per_sec = pick(3) * 1500;
	v->has_snapshot_source = pick(8) == 0;
	v->raid_created = pick(3) == 0;
	for (unsigned s = 0; s < 2; s++) {
		v->replicas[s].in_sync = pick(5) != 0;
		if (pick(6) == 0)
			v->replicas[s].transport = TRANSPORT_TCP;
	}
	if (pick(5) == 0) { /* a resize in progress */
		v->replicas[2] = v->replicas[pick(2)];
		v->replicas[2].pending = true;
		snprintf(v->replicas[2].nqn, MODEL_NQN_MAX, "nqn.2024-01.io.test:vol%llu-grown",
			 (unsigned long long)id);
		v->n_replicas = 3;
	}
	for (unsigned m = 0; m < nmap; m++)
		fx_mapping(&F, id * 10 + m, id, (enum mapping_state)pick(5));

	/* Observed: any subset of the chain, in any state. */
	for (size_t i = 0; i < v->n_replicas; i++) {
		struct obs_bdev *b;

		if (pick(4) == 0)
			continue;
		b = fx_obs_replica(&F, v, i);
		if (pick(12) == 0)
			b->block_size = 4096;
		if (pick(12) == 0)
			b->num_blocks /= 2;
		if (pick(8) == 0)
			F.paths[F.nc - 1][0].state = (enum ctrlr_state)pick(3);
		if (pick(10) == 0)
			fx_remove_bdev(&F, b->name);
	}
	names_raid(id, raid, sizeof(raid));
	if (pick(2) == 0) {
		struct obs_raid *r = fx_obs_raid(&F, v);
		unsigned what = pick(6);

		if (what == 0) {
			F.rbases[F.nr - 1][1].has_name = false;
			F.rbases[F.nr - 1][1].is_configured = false;
			r->operational = r->discovered = 1;
		} else if (what == 1) {
			snprintf(r->state, MODEL_STATE_MAX, "configuring");
			fx_remove_bdev(&F, raid);
		} else if (what == 2) {
			r->has_process = true;
		}
	}
	for (unsigned m = 0; m < nmap; m++) {
		unsigned what = pick(4);

		if (what == 1)
			fx_obs_vhost(&F, id * 10 + m, raid);
		else if (what == 2)
			fx_obs_vhost(&F, id * 10 + m, NULL);
		if ((what == 1 || what == 2) && pick(3) == 0)
			F.vhosts[F.nvh - 1].sessions = 1;
	}
}

static void random_world(void)
{
	unsigned nvol = 1 + pick(4);

	fx_init(&F);
	F.d.config.orphan_grace_s = 60;
	F.o.bdevs_listed = pick(10) != 0;
	for (unsigned i = 0; i < nvol; i++)
		random_volume(100 + i);
	/* Foreign objects and orphans. */
	if (pick(2)) {
		fx_obs_ctrlr(&F, "Nvme0", TRANSPORT_TCP, "10.9.9.9", "4420", "nqn.x:foreign");
		fx_obs_vhost(&F, 1, "Nvme0n1");
		fx_copy(F.vhosts[F.nvh - 1].name, MODEL_NAME_MAX, "vhost_operator");
	}
	if (pick(2)) {
		struct volume tmp = {.id = 900, .size_bytes = 1 << 20, .n_replicas = 2};

		for (unsigned s = 0; s < 2; s++) {
			tmp.replicas[s].slot = s;
			snprintf(tmp.replicas[s].nqn, MODEL_NQN_MAX, "nqn.orphan:%u", s);
			snprintf(tmp.replicas[s].addr, MODEL_ADDR_MAX, "10.0.7.%u", s);
			tmp.replicas[s].port = 4420;
			if (pick(2))
				fx_obs_replica(&F, &tmp, s);
		}
		if (pick(2))
			fx_obs_raid(&F, &tmp);
		if (pick(2))
			fx_obs_vhost(&F, 9000, "raid_900");
	}
	for (size_t i = 0; i < F.nc; i++)
		fx_seen(&F, F.ctrls[i].name, F.o.now_s - (int64_t)pick(200));
	for (size_t i = 0; i < F.nr; i++)
		fx_seen(&F, F.raids[i].name, F.o.now_s - (int64_t)pick(200));
	for (size_t i = 0; i < F.nvh; i++)
		fx_seen(&F, F.vhosts[i].name, F.o.now_s - (int64_t)pick(200));
	for (size_t i = 0; i < F.nb; i++)
		fx_seen(&F, F.bdevs[i].name, F.o.now_s - (int64_t)pick(20));
}

static bool vhost_serves(const char *raid)
{
	for (size_t i = 0; i < F.nvh; i++)
		if (F.vhosts[i].has_bdev && strcmp(F.vhosts[i].bdev, raid) == 0)
			return true;
	return false;
}

static bool observed_vhost(uint64_t mapping_id)
{
	char n[MODEL_NAME_MAX];

	names_vhost(mapping_id, n, sizeof(n));
	for (size_t i = 0; i < F.nvh; i++)
		if (strcmp(F.vhosts[i].name, n) == 0)
			return true;
	return false;
}

static const struct obs_controller *ctrlr(const char *name)
{
	for (size_t i = 0; i < F.nc; i++)
		if (strcmp(F.ctrls[i].name, name) == 0)
			return &F.ctrls[i];
	return NULL;
}

static bool resetting(const char *name)
{
	const struct obs_controller *c = ctrlr(name);

	for (size_t i = 0; c && i < c->n_paths; i++)
		if (c->paths[i].state == CTRLR_RESETTING)
			return true;
	return false;
}

static bool bdev_seen(const char *name)
{
	for (size_t i = 0; i < F.nb; i++)
		if (strcmp(F.bdevs[i].name, name) == 0)
			return true;
	return false;
}

static const struct obs_raid *raid_seen(const char *name)
{
	for (size_t i = 0; i < F.nr; i++)
		if (strcmp(F.raids[i].name, name) == 0)
			return &F.raids[i];
	return NULL;
}

/* Actions that change only the store, not SPDK. */
static bool store_kind(enum action_kind k)
{
	return k == ACTION_SET_STATUS || k == ACTION_MAPPING_ADVANCE ||
	       k == ACTION_REPLICA_PROMOTE || k == ACTION_REPLICA_SET_SYNC ||
	       k == ACTION_RESIZE_FINISH || k == ACTION_REPORT_CONFLICT ||
	       k == ACTION_SET_CLEAN_STOP;
}

static void fail_case(unsigned n, const struct action *a, const char *why)
{
	char buf[1024];

	plan_action_describe(a, buf, sizeof(buf));
	fprintf(stderr, "case %u: %s: %s\n", n, why, buf);
	fx_dump(&F.p);
	fail();
}

/*
 * Is raid created, or waited for, by an earlier step of a's chain? Then it serves when a runs:
 * the chain goes on only after that step succeeded.
 */
static bool made_earlier(const struct plan *p, size_t idx, const char *raid)
{
	const struct action *a = &p->actions[idx];

	for (size_t k = 0; k < idx; k++) {
		const struct action *b = &p->actions[k];

		if (strcmp(b->group, a->group) == 0 && b->step < a->step &&
		    strcmp(b->object, raid) == 0 &&
		    (b->kind == ACTION_CREATE_RAID ||
		     (b->kind == ACTION_WAIT_RAID_ASSEMBLY && b->raid.strict)))
			return true;
	}
	return false;
}

/* Does an earlier step of a's chain act with kind on object? (It succeeded when a runs.) */
static bool earlier(const struct plan *p, size_t idx, enum action_kind kind, const char *object)
{
	const struct action *a = &p->actions[idx];

	for (size_t k = 0; k < idx; k++)
		if (p->actions[k].kind == kind && strcmp(p->actions[k].group, a->group) == 0 &&
		    p->actions[k].step < a->step && strcmp(p->actions[k].object, object) == 0)
			return true;
	return false;
}

/* Does a vhost serve raid once a's chain has deleted what it deletes before a? */
static bool vhost_serves_at(const struct plan *p, size_t idx, const char *raid)
{
	for (size_t i = 0; i < F.nvh; i++)
		if (F.vhosts[i].has_bdev && strcmp(F.vhosts[i].bdev, raid) == 0 &&
		    !earlier(p, idx, ACTION_DELETE_VHOST, F.vhosts[i].name))
			return true;
	return false;
}

/* Did an earlier step of a's chain read its members (CHECK_MEMBERS)? */
static bool checked_earlier(const struct plan *p, size_t idx)
{
	const struct action *a = &p->actions[idx];

	for (size_t k = 0; k < idx; k++)
		if (p->actions[k].kind == ACTION_CHECK_MEMBERS &&
		    strcmp(p->actions[k].group, a->group) == 0 && p->actions[k].step < a->step)
			return true;
	return false;
}

static void check_action(unsigned n, const struct plan *p, size_t idx)
{
	const struct action *a = &p->actions[idx];
	const struct volume *v = vol_of(a->volume_id);
	char raid[MODEL_NAME_MAX];

	names_raid(a->volume_id, raid, sizeof(raid));
	switch (a->kind) {
	case ACTION_DELETE_RAID:
		if (vhost_serves_at(p, idx, a->object))
			fail_case(n, a, "raid deleted under a vhost controller");
		break;
	case ACTION_CREATE_VHOST:
		if ((!bdev_seen(a->vhost.bdev) || !raid_seen(a->vhost.bdev)) &&
		    !made_earlier(p, idx, a->vhost.bdev))
			fail_case(n, a, "vhost created before its raid exists");
		break;
	case ACTION_CREATE_RAID:
		if (!a->raid.superblock || raid_seen(a->object) ||
		    (!F.o.bdevs_listed && !checked_earlier(p, idx)))
			fail_case(n, a, "raid create without superblock / over a raid / blind");
		for (size_t r = 0; v && r < v->n_replicas; r++) {
			char b[MODEL_NAME_MAX];

			fx_bdev_name(v, r, b, sizeof(b));
			for (size_t k = 0; k < a->raid.n_bases; k++)
				if (strcmp(a->raid.bases[k], b) == 0 && !v->replicas[r].in_sync)
					fail_case(n, a,
						  "replica that missed writes listed at create");
		}
		break;
	case ACTION_REMOVE_RAID_BASE: {
		const struct obs_raid *r = raid_seen(a->object);

		if (!r || r->operational < 2)
			fail_case(n, a, "member removed from a degraded raid");
		break;
	}
	case ACTION_ATTACH_PATH:
		if (a->path.multipath != (strcmp(a->path.trtype, "PCIe") != 0))
			fail_case(n, a, "multipath on PCIe or missing on fabrics");
		break;
	case ACTION_MAPPING_ADVANCE:
		if (a->to == MAPPING_DETACHED) {
			char vh[MODEL_NAME_MAX];

			names_vhost(a->mapping_id, vh, sizeof(vh));
			if (observed_vhost(a->mapping_id) && !earlier(p, idx, ACTION_DELETE_VHOST, vh))
				fail_case(n, a, "DETACHED while its vhost exists");
			if (v && !desired_volume_live(&F.d, v->id)) {
				if (raid_seen(raid) && !earlier(p, idx, ACTION_DELETE_RAID, raid))
					fail_case(n, a, "DETACHED while its raid exists");
				for (size_t r = 0; r < v->n_replicas; r++) {
					char c[MODEL_NAME_MAX];
					bool shared = false;

					fx_ctrlr_name(v, r, c, sizeof(c));
					for (size_t o = 0; o < F.nv; o++)
						for (size_t q = 0; q < F.vols[o].n_replicas; q++) {
							char c2[MODEL_NAME_MAX];

							fx_ctrlr_name(&F.vols[o], q, c2,
								      sizeof(c2));
							shared |= F.vols[o].id != v->id &&
								  desired_volume_live(
									  &F.d, F.vols[o].id) &&
								  strcmp(c, c2) == 0;
						}
					if (ctrlr(c) && !shared &&
					    !earlier(p, idx, ACTION_DETACH_CONTROLLER, c))
						fail_case(n, a,
							  "DETACHED while a controller remains");
				}
			}
		}
		if (a->to == MAPPING_ATTACHED && fx_index(p, ACTION_CREATE_VHOST, NULL) < 0 &&
		    !vhost_serves(raid))
			fail_case(n, a, "ATTACHED without a vhost controller");
		if (a->to == MAPPING_INITIALISED && (!raid_seen(raid) || !bdev_seen(raid)) &&
		    !made_earlier(p, idx, raid))
			fail_case(n, a, "INITIALISED without a raid");
		break;
	default:
		break;
	}
	/* Foreign objects are never changed. */
	if (a->kind != ACTION_REPORT_CONFLICT && a->kind != ACTION_SET_STATUS &&
	    a->kind != ACTION_AWAIT_PATH && a->object[0] &&
	    names_classify(a->object, NULL) == NAME_FOREIGN && a->kind != ACTION_REPLICA_PROMOTE &&
	    a->kind != ACTION_REPLICA_SET_SYNC && a->kind != ACTION_RESIZE_FINISH &&
	    a->kind != ACTION_SET_CLEAN_STOP)
		fail_case(n, a, "action on a foreign object");
	/* Nothing on a resetting controller's volume, no detach of a resetting controller. */
	if (a->kind == ACTION_DETACH_CONTROLLER && resetting(a->object))
		fail_case(n, a, "controller detached while resetting");
	for (size_t r = 0; v && r < v->n_replicas; r++) {
		char c[MODEL_NAME_MAX];

		fx_ctrlr_name(v, r, c, sizeof(c));
		if (resetting(c) && strncmp(a->group, "volume:", 7) == 0 && !store_kind(a->kind))
			fail_case(n, a, "graph change on a volume whose controller resets");
	}
	if (!F.o.bdevs_listed &&
	    (a->kind == ACTION_ADD_RAID_BASE ||
	     (a->kind == ACTION_CREATE_VHOST && !made_earlier(p, idx, a->vhost.bdev))))
		fail_case(n, a, "bdev-dependent action without a bdev listing");
	/* Store changes wait for every RPC before them in their group. */
	if (a->kind == ACTION_MAPPING_ADVANCE || a->kind == ACTION_REPLICA_PROMOTE ||
	    a->kind == ACTION_RESIZE_FINISH || a->kind == ACTION_SET_CLEAN_STOP)
		for (size_t k = 0; k < idx; k++)
			if (strcmp(p->actions[k].group, a->group) == 0 &&
			    !store_kind(p->actions[k].kind) && p->actions[k].step >= a->step)
				fail_case(n, a, "store change in the same step as an RPC");
}

static void test_property_random_worlds(void **state)
{
	size_t total = 0;

	rng_state = 0x9e3779b97f4a7c15ULL;
	for (unsigned n = 0; n < CASES; n++) {
		const struct plan *p;

		random_world();
		p = fx_plan(&F);
		total += p->n_actions;
		/* Same input, same plan: nothing depends on memory layout or hidden state. */
		{
			struct plan again;

			assert_int_equal(plan_build(&F.d, &F.o, &F.hf, &again), 0);
			assert_int_equal(again.n_actions, p->n_actions);
			for (size_t i = 0; i < p->n_actions; i++) {
				char x[1024], y[1024];

				plan_action_describe(&p->actions[i], x, sizeof(x));
				plan_action_describe(&again.actions[i], y, sizeof(y));
				assert_string_equal(x, y);
			}
			plan_free(&again);
		}
		for (size_t i = 0; i < p->n_actions; i++)
			check_action(n, p, i);
		fx_done(&F);
	}
	/* The generator must produce worlds that need work, or the checks prove nothing. */
	assert_true(total > CASES);
}

/* From an empty host, every live mapping ends ATTACHED and every leaving one DETACHED. */
static void test_property_converges(void **state)
{
	rng_state = 12345;
	for (unsigned n = 0; n < 300; n++) {
		unsigned nvol = 1 + pick(5);
		int pass;

		fx_init(&F);
		for (unsigned i = 0; i < nvol; i++) {
			fx_volume(&F, 1 + i)->qos.r_mbytes_per_sec = pick(2) * 10;
			fx_mapping(&F, 10 + i, 1 + i,
				   pick(4) ? MAPPING_ASSIGNED : MAPPING_INITIALISED);
		}
		for (pass = 0; pass < 12 && fx_plan(&F)->n_actions; pass++) {
			for (size_t i = 0; i < F.p.n_actions; i++)
				check_action(n, &F.p, i);
			fx_apply(&F, &F.p, ACTION_KIND_COUNT);
		}
		assert_true(pass < 12);
		for (size_t i = 0; i < F.nm; i++)
			assert_int_equal(F.maps[i].state, MAPPING_ATTACHED);
		assert_int_equal(F.nvh, nvol);
		assert_int_equal(F.nr, nvol);

		/* Now half of them leave. */
		for (size_t i = 0; i < F.nm; i += 2)
			F.maps[i].state = MAPPING_DETACH_REQUESTED;
		for (pass = 0; pass < 12 && fx_plan(&F)->n_actions; pass++) {
			for (size_t i = 0; i < F.p.n_actions; i++)
				check_action(n, &F.p, i);
			fx_apply(&F, &F.p, ACTION_KIND_COUNT);
		}
		assert_true(pass < 12);
		for (size_t i = 0; i < F.nm; i++)
			assert_int_equal(F.maps[i].state,
					 i % 2 ? MAPPING_ATTACHED : MAPPING_DETACHED);
		assert_int_equal(F.nr, nvol / 2);
		assert_int_equal(F.nc, 2 * (nvol / 2));
		fx_done(&F);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_property_random_worlds),
		cmocka_unit_test(test_property_converges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
