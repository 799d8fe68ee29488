/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RAID ensure (the seed's startRaidEnsureLoop): raid_<volume> exists as a raid1 with superblock
 * over the two members, is online, and gets a lost member back when its bdev returns. Never
 * trusts the raid's state string alone: "online" with operational < 2 is degraded, and every
 * base is cross-checked against the bdevs that exist.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "reconcile/geometry.h"
#include "reconcile/plan_internal.h"

/* Block size, metadata size and size of the two members must be equal for raid1. */
static bool geometry_equal(struct plan_ctx *ctx, struct vol_plan *vp, const struct obs_bdev *a,
			   const struct obs_bdev *b)
{
	const struct geometry_member ga = {a->name, a->block_size, a->md_size, a->num_blocks};
	const struct geometry_member gb = {b->name, b->block_size, b->md_size, b->num_blocks};
	char msg[PLAN_MSG_MAX];

	if (geometry_check(vp->v->id, vp->v->block_size, vp->v->size_bytes, &ga, &gb, msg,
			   sizeof(msg)) == 0)
		return true;
	plan_status(ctx, vp, 0, "%s", msg);
	return false;
}

/* The volume's chain starts after this pass's attach of slot s's member. */
static void await_path(struct plan_ctx *ctx, struct vol_plan *vp, int s)
{
	struct action *a = plan_emit(ctx, vp, ACTION_AWAIT_PATH);

	if (a)
		snprintf(a->object, sizeof(a->object), "path:%s", vp->ctrlr[vp->member[s]]);
}

/* Wait for the superblock raid; the layers above follow in the chain once it is back. */
static void wait_assembly(struct plan_ctx *ctx, struct vol_plan *vp)
{
	struct action *a = plan_emit(ctx, vp, ACTION_WAIT_RAID_ASSEMBLY);

	if (!a)
		return;
	plan_copy(a->object, sizeof(a->object), vp->raid);
	a->raid.timeout_ms = ctx->d->config.assembly_wait_s * 1000;
	a->raid.strict = true;
	plan_barrier(vp);
	vp->ahead = true;
}

/*
 * May the chain go past the raid in this pass, on members this pass attaches? Only for a plain
 * volume (a snapshot's initialisation works on what it observes) whose every member is there
 * or attached now.
 */
static bool members_coming(const struct vol_plan *vp, const struct obs_bdev *b[2])
{
	bool attaching = false;

	if (vp->v->has_snapshot_source)
		return false;
	for (int s = 0; s < 2; s++) {
		if (b[s])
			continue;
		if (!vp->attaching[vp->member[s]])
			return false;
		attaching = true;
	}
	return attaching;
}

/*
 * The raid was created once, so its members carry SPDK's superblock: SPDK assembles it by
 * itself from the newest record as the members' bdevs appear (examine), online at once when
 * that record lists only the members present. diskengine waits for that, never re-creates it:
 * bdev_raid_create would write a new superblock and trust whatever it lists.
 */
static void raid_reassemble(struct plan_ctx *ctx, struct vol_plan *vp, const struct obs_bdev *b[2])
{
	const struct volume *v = vp->v;
	int64_t age = -1;
	bool any = false;

	for (int s = 0; s < 2; s++) {
		int64_t a_s;

		if (!b[s])
			continue;
		any = true;
		a_s = obs_age(ctx->o, b[s]->name);
		if (a_s > age)
			age = a_s;
	}
	if (!any) {
		/*
		 * SPDK restarted: both members come back in this pass. Once both attaches
		 * answered, SPDK has examined them; wait for the raid and go on. A member that
		 * is not attached now (held back, or failing) leaves it to the next pass, which
		 * serves whichever member is there.
		 */
		if (members_coming(vp, b)) {
			for (int s = 0; s < 2; s++)
				await_path(ctx, vp, s);
			wait_assembly(ctx, vp);
		}
		return; /* the attach stage brings them; its chains report failures */
	}
	if (age < 0 || age < ctx->d->config.assembly_wait_s) {
		wait_assembly(ctx, vp);
		return;
	}
	if (b[0] && b[1])
		plan_status(ctx, vp, 0,
			    "volume %" PRIu64 ": %s did not reassemble from the superblocks of %s "
			    "and %s within %d s; superblocks unreadable or disagreeing: operator "
			    "decision needed",
			    v->id, vp->raid, b[0]->name, b[1]->name,
			    ctx->d->config.assembly_wait_s);
	else
		plan_status(ctx, vp, 0,
			    "volume %" PRIu64 ": %s did not reassemble from the superblock of %s "
			    "within %d s; superblock unreadable or wiped: operator decision needed",
			    v->id, vp->raid, b[0] ? b[0]->name : b[1]->name,
			    ctx->d->config.assembly_wait_s);
}

/*
 * The one case where a raid that was created once is created again: both members are there,
 * no superblock assembled it within the wait (unreadable or wiped), and the database knows the
 * raid was stopped in order with both members in sync, so both hold the same data and a new
 * superblock over them loses nothing. Without that knowledge an operator decides.
 */
static bool clean_recreate(struct plan_ctx *ctx, struct vol_plan *vp, const struct obs_bdev *b[2])
{
	const struct volume *v = vp->v;
	int64_t a0, a1;

	if (!v->clean_stop || !b[0] || !b[1] || !v->replicas[vp->member[0]].in_sync ||
	    !v->replicas[vp->member[1]].in_sync)
		return false;
	a0 = obs_age(ctx->o, b[0]->name);
	a1 = obs_age(ctx->o, b[1]->name);
	return a0 >= ctx->d->config.assembly_wait_s && a1 >= ctx->d->config.assembly_wait_s;
}

/* A member's bdev claimed by something else (an lvstore, an export): say so and stop. */
static bool member_claimed(struct plan_ctx *ctx, struct vol_plan *vp, const struct obs_bdev *b[2])
{
	for (int s = 0; s < 2; s++) {
		if (b[s] && b[s]->claimed) {
			plan_conflict(ctx, vp, b[s]->name,
				      "bdev %s of volume %" PRIu64 " is claimed by something other "
				      "than %s",
				      b[s]->name, vp->v->id, vp->raid);
			return true;
		}
	}
	return false;
}

/* CHECK_MEMBERS or CREATE_RAID over the volume's two members, as a step of its own. */
static void raid_step(struct plan_ctx *ctx, struct vol_plan *vp, enum action_kind kind)
{
	struct action *a = plan_emit(ctx, vp, kind);

	if (!a)
		return;
	plan_copy(a->object, sizeof(a->object), vp->raid);
	for (int s = 0; s < 2; s++)
		plan_copy(a->raid.bases[s], sizeof(a->raid.bases[s]), vp->bdev[vp->member[s]]);
	a->raid.n_bases = 2;
	if (kind == ACTION_CHECK_MEMBERS) {
		a->raid.block_size = vp->v->block_size;
		a->raid.size_bytes = vp->v->size_bytes;
	} else {
		a->raid.superblock = true;
		names_raid_uuid(vp->v->id, a->raid.uuid, sizeof(a->raid.uuid));
		if (vp->v->has_snapshot_source && !vp->v->ever_attached)
			a->init.data_offset = vp->v->source_data_offset; /* the create checks it */
		vp->ahead = true;
	}
	plan_barrier(vp);
}

/*
 * A new volume whose members this pass attaches: the raid is created as soon as both attaches
 * answered, after the checks the planner makes on observed bdevs (CHECK_MEMBERS makes them on
 * the bdevs SPDK has then), instead of a pass later.
 */
static void create_after_attach(struct plan_ctx *ctx, struct vol_plan *vp,
				const struct obs_bdev *b[2])
{
	if (member_claimed(ctx, vp, b))
		return;
	for (int s = 0; s < 2; s++)
		if (!b[s])
			await_path(ctx, vp, s);
	raid_step(ctx, vp, ACTION_CHECK_MEMBERS);
	raid_step(ctx, vp, ACTION_CREATE_RAID);
}

/* No raid yet: create it, wait for superblock re-assembly, or stop and ask. */
static void raid_absent(struct plan_ctx *ctx, struct vol_plan *vp)
{
	const struct volume *v = vp->v;
	const struct obs_bdev *b[2];

	for (int s = 0; s < 2; s++)
		b[s] = obs_bdev_find(ctx->o, vp->bdev[vp->member[s]]);
	if (v->raid_created && !clean_recreate(ctx, vp, b)) {
		raid_reassemble(ctx, vp, b);
		return;
	}
	if ((!b[0] || !b[1]) && members_coming(vp, b) && v->replicas[vp->member[0]].in_sync &&
	    v->replicas[vp->member[1]].in_sync) {
		create_after_attach(ctx, vp, b);
		return;
	}
	for (int s = 0; s < 2; s++)
		if (!b[s])
			return; /* the attach stage brings it; its chain reports a failure */
	if (member_claimed(ctx, vp, b) || !geometry_equal(ctx, vp, b[0], b[1]))
		return;
	for (int s = 0; s < 2; s++) {
		const struct replica *r = &v->replicas[vp->member[s]];

		/*
		 * bdev_raid_create has no degraded create: listing a replica that missed writes
		 * would make SPDK trust stale data. Without a superblock raid to rejoin, stop.
		 */
		if (!r->in_sync) {
			plan_status(ctx, vp, 0,
				    "volume %" PRIu64 ": replica %s (slot %d) missed writes and no "
				    "raid exists to rebuild it into; operator decision needed",
				    v->id, b[s]->name, s);
			return;
		}
	}
	if (plan_init_needed(v)) {
		plan_init_clones(ctx, vp);
		if (vp->stopped)
			return;
	}
	raid_step(ctx, vp, ACTION_CREATE_RAID);
}

/* Is the slot's member or its pending replacement a base of the raid? */
static bool slot_filled(const struct vol_plan *vp, const struct obs_raid *r, int s)
{
	if (obs_raid_has_base(r, vp->bdev[vp->member[s]]))
		return true;
	return vp->pending[s] >= 0 && obs_raid_has_base(r, vp->bdev[vp->pending[s]]);
}

/* Bases that are neither a member nor a pending replica: somebody else's raid. */
static bool bases_ours(struct plan_ctx *ctx, struct vol_plan *vp, const struct obs_raid *r)
{
	for (size_t i = 0; i < r->n_bases; i++) {
		bool ours = false;

		if (!r->bases[i].has_name)
			continue;
		for (size_t k = 0; k < vp->v->n_replicas; k++)
			if (strcmp(r->bases[i].name, vp->bdev[k]) == 0)
				ours = true;
		if (!ours) {
			plan_conflict(
				ctx, vp, r->name,
				"%s exists with base %s, which is no replica of volume %" PRIu64,
				r->name, r->bases[i].name, vp->v->id);
			return false;
		}
	}
	return true;
}

static void emit_sync(struct plan_ctx *ctx, struct vol_plan *vp, int s, bool in_sync,
		      uint64_t generation)
{
	struct action *a = plan_emit(ctx, vp, ACTION_REPLICA_SET_SYNC);

	if (!a)
		return;
	plan_copy(a->object, sizeof(a->object), vp->bdev[vp->member[s]]);
	a->slot = (unsigned)s;
	a->in_sync = in_sync;
	a->generation = generation;
}

/*
 * Mirror the raid's view of its members in the store, at once and whatever the paths do: a
 * member that is not a configured base misses writes from now on; one configured while no
 * rebuild runs and every slot is filled holds the data again. Generations follow SPDK's
 * superblock sequence: when a member leaves, SPDK records the loss with a higher sequence on
 * the survivors, so a survivor's generation goes above the lost member's; when a rebuild
 * finishes, both members share a new generation. The rules are on the stored values, so a
 * repeated pass or a crash between two writes converges to the same state.
 */
static void sync_flags(struct plan_ctx *ctx, struct vol_plan *vp, const struct obs_raid *r)
{
	bool in_raid[2] = {false, false};
	uint64_t gen[2], top;
	bool healthy = !r->has_process && r->operational >= r->n_bases;

	for (int s = 0; s < 2; s++) {
		const char *name = vp->bdev[vp->member[s]];

		gen[s] = vp->v->replicas[vp->member[s]].generation;
		for (size_t i = 0; i < r->n_bases; i++)
			if (r->bases[i].has_name && strcmp(r->bases[i].name, name) == 0)
				in_raid[s] =
					r->bases[i].is_configured &&
					!(r->has_process && strcmp(r->process_target, name) == 0);
	}
	top = gen[0] > gen[1] ? gen[0] : gen[1];
	if (vp->pending[0] >= 0 || vp->pending[1] >= 0)
		return; /* resize owns the slots' membership */
	if (!in_raid[0] && !in_raid[1])
		return; /* nothing serves: the last member keeps the newest record */
	for (int s = 0; s < 2; s++) {
		const struct replica *rep = &vp->v->replicas[vp->member[s]];
		int o = 1 - s;

		if (in_raid[s] || !in_raid[o])
			continue;
		/* s is out, o serves alone */
		if (!vp->v->replicas[vp->member[o]].in_sync && rep->in_sync) {
			/*
			 * SPDK serves from the member the database says missed writes, while the
			 * one it says is current is out: the superblocks and the database tell
			 * two stories. Which data is newer cannot be known from here.
			 */
			plan_status(ctx, vp, 0,
				    "volume %" PRIu64 ": %s serves from %s, which the database "
				    "records as missing writes (generation %" PRIu64 "), while "
				    "%s (generation %" PRIu64 ") is out: superblocks and database "
				    "disagree; operator decision needed",
				    vp->v->id, r->name, vp->bdev[vp->member[o]], gen[o],
				    vp->bdev[vp->member[s]], gen[s]);
			return;
		}
		if (rep->in_sync)
			emit_sync(ctx, vp, s, false, gen[s]);
		if (gen[o] <= gen[s])
			emit_sync(ctx, vp, o, true, gen[s] + 1);
		return;
	}
	/* both in the raid */
	if (!healthy)
		return;
	for (int s = 0; s < 2; s++) {
		if (!vp->v->replicas[vp->member[s]].in_sync) {
			/* a rebuild finished: SPDK wrote a new record on both */
			emit_sync(ctx, vp, 0, true, top + 1);
			emit_sync(ctx, vp, 1, true, top + 1);
			return;
		}
	}
}

/* A raid1 with a lost member still says "online": say which member is missing and why. */
static void degraded_note(struct plan_ctx *ctx, struct vol_plan *vp, const struct obs_raid *r)
{
	if (r->operational >= r->n_bases || r->has_process)
		return;
	for (int s = 0; s < 2; s++) {
		const char *name = vp->bdev[vp->member[s]];

		if (obs_raid_has_base(r, name))
			continue;
		const struct obs_flap *f = obs_flap_find(ctx->o, vp->ctrlr[vp->member[s]]);
		if (f && f->given_up) {
			plan_note(ctx, vp,
				  "volume %" PRIu64 ": %s degraded (%u of %zu members), serving "
				  "from the other; %s (slot %d) given up: its path keeps resetting "
				  "(%u resets, %u failed reconnects); taken back after %d s "
				  "without a reset",
				  vp->v->id, r->name, r->operational, r->n_bases, name, s,
				  f->resets, f->failed, ctx->o->flap_window_s);
			return;
		}
		plan_note(
			ctx, vp,
			"volume %" PRIu64 ": %s degraded (%u of %zu members), serving from the "
			"other; %s (slot %d) %s",
			vp->v->id, r->name, r->operational, r->n_bases, name, s,
			obs_ctrlr_find(ctx->o, vp->ctrlr[vp->member[s]])
				? "is attached but not yet back in the raid"
			: vp->v->replicas[vp->member[s]].transport == TRANSPORT_PCIE
				? "is not attached (the local drive is gone: hot-removed or failed)"
				: "is not attached (its path is down or its node away)");
		return;
	}
}

/* Put a lost member back into its empty slot; SPDK rebuilds it (full copy). */
static void readd_members(struct plan_ctx *ctx, struct vol_plan *vp, const struct obs_raid *r)
{
	bool empty_slot = false;

	for (size_t i = 0; i < r->n_bases; i++)
		if (!r->bases[i].has_name)
			empty_slot = true;
	if (!empty_slot || r->has_process || r->operational >= 2)
		return;
	for (int s = 0; s < 2; s++) {
		const struct obs_bdev *b = obs_bdev_find(ctx->o, vp->bdev[vp->member[s]]);
		const struct obs_raid_base *ref = NULL;
		struct action *a;

		if (slot_filled(vp, r, s) || vp->pending[s] >= 0 || !b ||
		    obs_ctrlr_given_up(ctx->o, vp->ctrlr[vp->member[s]]))
			continue;
		for (size_t i = 0; i < r->n_bases; i++)
			if (r->bases[i].has_name && r->bases[i].is_configured)
				ref = &r->bases[i];
		if (b->claimed) {
			plan_conflict(ctx, vp, b->name,
				      "bdev %s of volume %" PRIu64
				      " is claimed but not a base of %s",
				      b->name, vp->v->id, r->name);
			return;
		}
		if (ref && b->num_blocks < ref->data_offset + ref->data_size) {
			plan_status(ctx, vp, 0,
				    "volume %" PRIu64 ": %s has %" PRIu64
				    " blocks, %s needs %" PRIu64 " (offset %" PRIu64
				    " + size %" PRIu64 "); not re-added",
				    vp->v->id, b->name, b->num_blocks, r->name,
				    ref->data_offset + ref->data_size, ref->data_offset,
				    ref->data_size);
			return;
		}
		a = plan_emit(ctx, vp, ACTION_ADD_RAID_BASE);
		if (!a)
			return;
		plan_copy(a->object, sizeof(a->object), r->name);
		plan_copy(a->raid.base, sizeof(a->raid.base), b->name);
		plan_barrier(vp);
		return; /* one rebuild at a time: SPDK runs one process per raid */
	}
}

/*
 * A member whose path keeps flapping is taken out of the raid while the other member serves
 * alone: each reconnect would otherwise stall the raid's I/O on it. Never the last one in sync.
 */
static void giveup_members(struct plan_ctx *ctx, struct vol_plan *vp, const struct obs_raid *r)
{
	for (int s = 0; s < 2; s++) {
		const char *name = vp->bdev[vp->member[s]];
		const char *other = vp->bdev[vp->member[1 - s]];
		bool other_serves = false;
		struct action *a;

		if (!obs_ctrlr_given_up(ctx->o, vp->ctrlr[vp->member[s]]) ||
		    !obs_raid_has_base(r, name) || vp->pending[0] >= 0 || vp->pending[1] >= 0)
			continue;
		for (size_t i = 0; i < r->n_bases; i++)
			if (r->bases[i].has_name && strcmp(r->bases[i].name, other) == 0)
				other_serves =
					r->bases[i].is_configured &&
					!(r->has_process && strcmp(r->process_target, other) == 0);
		if (!other_serves || obs_ctrlr_given_up(ctx->o, vp->ctrlr[vp->member[1 - s]]))
			continue; /* the only member that serves stays, flapping or not */
		a = plan_emit(ctx, vp, ACTION_REMOVE_RAID_BASE);
		if (!a)
			return;
		plan_copy(a->object, sizeof(a->object), r->name);
		plan_copy(a->raid.base, sizeof(a->raid.base), name);
		plan_barrier(vp);
		return;
	}
}

/*
 * The chain creates or waits for the raid: once that step succeeded it serves, so the clean-stop
 * mark goes (as for an observed online raid) and the layers above follow in the same chain.
 */
static bool ahead_serves(struct plan_ctx *ctx, struct vol_plan *vp)
{
	struct action *a;

	if (!vp->ahead || vp->stopped)
		return false;
	if (vp->v->clean_stop) {
		a = plan_emit(ctx, vp, ACTION_SET_CLEAN_STOP);
		if (a) {
			plan_copy(a->object, sizeof(a->object), vp->raid);
			a->clean_stop = false;
		}
	}
	return true;
}

void plan_raid_sync(struct plan_ctx *ctx, struct vol_plan *vp)
{
	const struct obs_raid *r = obs_raid_find(ctx->o, vp->raid);

	if (r && strcmp(r->state, "online") == 0 && bases_ours(ctx, vp, r))
		sync_flags(ctx, vp, r);
}

bool plan_raid_ensure(struct plan_ctx *ctx, struct vol_plan *vp)
{
	const struct obs_raid *r = obs_raid_find(ctx->o, vp->raid);

	if (!r) {
		raid_absent(ctx, vp);
		return ahead_serves(ctx, vp);
	}
	if (!bases_ours(ctx, vp, r))
		return false;
	if (strcmp(r->state, "online") == 0) {
		struct action *a;

		sync_flags(ctx, vp, r);
		if (vp->stopped)
			return false;
		if (vp->v->clean_stop) {
			/* assembled: from now on a crash is not a clean stop */
			a = plan_emit(ctx, vp, ACTION_SET_CLEAN_STOP);
			if (a) {
				plan_copy(a->object, sizeof(a->object), r->name);
				a->clean_stop = false;
			}
		}
		giveup_members(ctx, vp, r);
		degraded_note(ctx, vp, r);
		readd_members(ctx, vp, r);
		/*
		 * The raid serves even while degraded; the layers above may go on once its bdev
		 * was read (a volume whose layers above are whole has it not read: nothing to do).
		 */
		return obs_bdev_find(ctx->o, r->name) != NULL;
	}
	if (strcmp(r->state, "configuring") == 0) {
		bool all_present = true;
		int64_t age = obs_age(ctx->o, r->name);

		for (int s = 0; s < 2; s++)
			if (!obs_bdev_find(ctx->o, vp->bdev[vp->member[s]]))
				all_present = false;
		if (!all_present) {
			/* waits for a member's bdev; the attach stage brings it */
			plan_note(ctx, vp,
				  "volume %" PRIu64 ": %s is configuring (%u of %zu bases): SPDK "
				  "starts it when every member its newest superblock lists is "
				  "present",
				  vp->v->id, r->name, r->discovered, r->n_bases);
			return false;
		}
		if (age >= 0 && age >= ctx->d->config.assembly_wait_s) {
			plan_status(
				ctx, vp, 0,
				"volume %" PRIu64 ": %s stays configuring (%u of %zu bases) for "
				"%" PRId64 " s with every member present: operator decision needed",
				vp->v->id, r->name, r->discovered, r->n_bases, age);
			return false;
		}
		wait_assembly(ctx, vp);
		return ahead_serves(ctx, vp);
	}
	plan_status(ctx, vp, 0, "volume %" PRIu64 ": %s is %s (%u of %zu bases operational)",
		    vp->v->id, r->name, r->state, r->operational, r->n_bases);
	return false;
}
