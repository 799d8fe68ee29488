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

#include "reconcile/plan_internal.h"

/*
 * Room SPDK reserves for the raid superblock at the start of every base (data_offset): 1 MiB
 * (RAID_BDEV_MIN_DATA_OFFSET_SIZE; 2048 blocks of 512 bytes in the recordings). The guest sees
 * exactly the volume's size, so each replica must hold the size plus this.
 */
#define PLAN_RAID_SB_BYTES (1024ULL * 1024)

/* Block size, metadata size and size of the two members must be equal for raid1. */
static bool geometry_equal(struct plan_ctx *ctx, struct vol_plan *vp, const struct obs_bdev *a,
			   const struct obs_bdev *b)
{
	const struct volume *v = vp->v;

	if (a->block_size != b->block_size || a->md_size != b->md_size ||
	    a->num_blocks != b->num_blocks) {
		plan_status(ctx, vp, 0,
			    "volume %" PRIu64 ": replica geometry differs: %s has %u-byte blocks, "
			    "md %u, %" PRIu64 " blocks; %s has %u-byte blocks, md %u, %" PRIu64
			    " blocks; raid not created",
			    v->id, a->name, a->block_size, a->md_size, a->num_blocks, b->name,
			    b->block_size, b->md_size, b->num_blocks);
		return false;
	}
	if (v->block_size && a->block_size != v->block_size) {
		plan_status(ctx, vp, 0,
			    "volume %" PRIu64
			    ": replicas have %u-byte blocks, the volume wants %u; "
			    "raid not created",
			    v->id, a->block_size, v->block_size);
		return false;
	}
	if (a->num_blocks * (uint64_t)a->block_size < v->size_bytes + PLAN_RAID_SB_BYTES) {
		plan_status(ctx, vp, 0,
			    "volume %" PRIu64 ": replicas hold %" PRIu64
			    " bytes, the volume needs %" PRIu64
			    " plus %llu for the raid superblock; raid not created",
			    v->id, a->num_blocks * (uint64_t)a->block_size, v->size_bytes,
			    PLAN_RAID_SB_BYTES);
		return false;
	}
	return true;
}

/* No raid yet: create it, wait for superblock re-assembly, or stop and ask. */
static void raid_absent(struct plan_ctx *ctx, struct vol_plan *vp)
{
	const struct volume *v = vp->v;
	const struct obs_bdev *b[2];
	struct action *a;

	for (int s = 0; s < 2; s++) {
		b[s] = obs_bdev_find(ctx->o, vp->bdev[vp->member[s]]);
		if (!b[s])
			return; /* the attach stage brings it */
	}
	if (v->raid_created) {
		int64_t age0 = obs_age(ctx->o, b[0]->name), age1 = obs_age(ctx->o, b[1]->name);
		int64_t age = age0 > age1 ? age0 : age1;

		/* SPDK assembles it from the newest superblock when the members appear. */
		if (age < 0 || age < ctx->d->config.assembly_wait_s) {
			a = plan_emit(ctx, vp, ACTION_WAIT_RAID_ASSEMBLY);
			if (a) {
				plan_copy(a->object, sizeof(a->object), vp->raid);
				a->raid.timeout_ms = ctx->d->config.assembly_wait_s * 1000;
			}
			plan_barrier(vp);
			return;
		}
		plan_status(
			ctx, vp, 0,
			"volume %" PRIu64 ": %s did not reassemble from the superblocks of %s and "
			"%s within %d s; superblocks unreadable or disagreeing: operator decision "
			"needed",
			v->id, vp->raid, b[0]->name, b[1]->name, ctx->d->config.assembly_wait_s);
		return;
	}
	for (int s = 0; s < 2; s++) {
		if (b[s]->claimed) {
			plan_conflict(ctx, vp, b[s]->name,
				      "bdev %s of volume %" PRIu64 " is claimed by something other "
				      "than %s",
				      b[s]->name, v->id, vp->raid);
			return;
		}
	}
	if (!geometry_equal(ctx, vp, b[0], b[1]))
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
	a = plan_emit(ctx, vp, ACTION_CREATE_RAID);
	if (!a)
		return;
	plan_copy(a->object, sizeof(a->object), vp->raid);
	for (int s = 0; s < 2; s++)
		plan_copy(a->raid.bases[s], sizeof(a->raid.bases[s]), b[s]->name);
	a->raid.n_bases = 2;
	a->raid.superblock = true;
	plan_barrier(vp);
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

/*
 * Mirror the raid's view of its members in the store: a member out of the raid misses writes
 * from now on; one configured while no rebuild runs holds the data again. The store needs this
 * when the raid must be created anew (invariant 5) and for status.
 */
static void sync_flags(struct plan_ctx *ctx, struct vol_plan *vp, const struct obs_raid *r)
{
	for (int s = 0; s < 2; s++) {
		const struct replica *rep = &vp->v->replicas[vp->member[s]];
		const char *name = vp->bdev[vp->member[s]];
		bool configured = false, in_sync;
		struct action *a;

		if (vp->pending[s] >= 0)
			continue; /* resize owns this slot */
		for (size_t i = 0; i < r->n_bases; i++)
			if (r->bases[i].has_name && strcmp(r->bases[i].name, name) == 0)
				configured = r->bases[i].is_configured;
		in_sync = configured && !(r->has_process && strcmp(r->process_target, name) == 0);
		if (in_sync == rep->in_sync)
			continue;
		/* "in sync" only when the whole raid is healthy again: no process, all members. */
		if (in_sync && (r->has_process || r->operational < r->n_bases))
			continue;
		a = plan_emit(ctx, vp, ACTION_REPLICA_SET_SYNC);
		if (!a)
			return;
		plan_copy(a->object, sizeof(a->object), name);
		a->slot = (unsigned)s;
		a->in_sync = in_sync;
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

		if (slot_filled(vp, r, s) || vp->pending[s] >= 0 || !b)
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

bool plan_raid_ensure(struct plan_ctx *ctx, struct vol_plan *vp)
{
	const struct obs_raid *r = obs_raid_find(ctx->o, vp->raid);

	if (!ctx->o->bdevs_listed)
		return false; /* geometry and presence unknown while a reset runs */
	if (!r) {
		raid_absent(ctx, vp);
		return false;
	}
	if (!bases_ours(ctx, vp, r))
		return false;
	if (strcmp(r->state, "online") == 0) {
		sync_flags(ctx, vp, r);
		readd_members(ctx, vp, r);
		/* The raid serves even while degraded; the layers above may go on. */
		return obs_bdev_find(ctx->o, r->name) != NULL;
	}
	if (strcmp(r->state, "configuring") == 0) {
		bool all_present = true;
		int64_t age = obs_age(ctx->o, r->name);
		struct action *a;

		for (int s = 0; s < 2; s++)
			if (!obs_bdev_find(ctx->o, vp->bdev[vp->member[s]]))
				all_present = false;
		if (!all_present)
			return false; /* waits for a member's bdev; the attach stage brings it */
		if (age >= 0 && age >= ctx->d->config.assembly_wait_s) {
			plan_status(
				ctx, vp, 0,
				"volume %" PRIu64 ": %s stays configuring (%u of %zu bases) for "
				"%" PRId64 " s with every member present: operator decision needed",
				vp->v->id, r->name, r->discovered, r->n_bases, age);
			return false;
		}
		a = plan_emit(ctx, vp, ACTION_WAIT_RAID_ASSEMBLY);
		if (a) {
			plan_copy(a->object, sizeof(a->object), r->name);
			a->raid.timeout_ms = ctx->d->config.assembly_wait_s * 1000;
		}
		plan_barrier(vp);
		return false;
	}
	plan_status(ctx, vp, 0, "volume %" PRIu64 ": %s is %s (%u of %zu bases operational)",
		    vp->v->id, r->name, r->state, r->operational, r->n_bases);
	return false;
}
