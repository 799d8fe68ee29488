/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Resize (the seed's startResizeLoop): a resize brings a larger pending namespace per slot. The
 * attach stage connects them first; here every pending bdev is checked (block size, metadata
 * size, room for data offset + size) before any membership changes, then one slot at a time
 * the old member leaves and the pending one joins and is rebuilt; once rebuilt it is promoted in
 * the store. A mismatch stops the volume with a status; nothing is removed.
 *
 * The resize is over when the raid serves the new size. SPDK v25.09 grows a raid1 only when a
 * member's bdev reports a size change (raid1_resize takes the smallest member then): replicas
 * grown in place get there by themselves; members swapped in at their final size do not until
 * one of them is grown, which the status says.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "reconcile/plan_internal.h"

static const struct obs_raid_base *raid_base(const struct obs_raid *r, const char *name)
{
	for (size_t i = 0; i < r->n_bases; i++)
		if (r->bases[i].has_name && strcmp(r->bases[i].name, name) == 0)
			return &r->bases[i];
	return NULL;
}

/* A configured base of the raid, for data offset and block size of the raid's members. */
static const struct obs_raid_base *any_configured(const struct obs_raid *r)
{
	for (size_t i = 0; i < r->n_bases; i++)
		if (r->bases[i].has_name && r->bases[i].is_configured)
			return &r->bases[i];
	return NULL;
}

static bool pending_fits(struct plan_ctx *ctx, struct vol_plan *vp, const struct obs_raid *r, int s)
{
	const struct obs_bdev *pb = obs_bdev_find(ctx->o, vp->bdev[vp->pending[s]]);
	const struct obs_raid_base *ref = any_configured(r);
	const struct obs_bdev *rb = ref ? obs_bdev_find(ctx->o, ref->name) : NULL;
	uint64_t offset = ref ? ref->data_offset : 0;
	const struct volume *v = vp->v;

	if (!rb) {
		plan_note(ctx, vp,
			  "volume %" PRIu64 ": resize waits: %s has no configured base to compare "
			  "%s with",
			  v->id, r->name, pb->name);
		return false;
	}
	if (pb->block_size != rb->block_size || pb->md_size != rb->md_size) {
		plan_note(ctx, vp,
			  "volume %" PRIu64 ": resize stopped: pending %s has %u-byte blocks, md "
			  "%u; %s has %u-byte blocks, md %u",
			  v->id, pb->name, pb->block_size, pb->md_size, rb->name, rb->block_size,
			  rb->md_size);
		return false;
	}
	if ((pb->num_blocks - (pb->num_blocks < offset ? pb->num_blocks : offset)) *
		    (uint64_t)pb->block_size <
	    v->size_bytes) {
		plan_note(ctx, vp,
			  "volume %" PRIu64 ": resize stopped: pending %s has %" PRIu64
			  " blocks; data offset %" PRIu64 " + %" PRIu64 " bytes do not fit",
			  v->id, pb->name, pb->num_blocks, offset, v->size_bytes);
		return false;
	}
	return true;
}

/* No pending replica left: finish once the raid's bdev serves the volume's size. */
static void resize_finish(struct plan_ctx *ctx, struct vol_plan *vp, const struct obs_raid *r)
{
	const struct obs_bdev *rb = obs_bdev_find(ctx->o, r->name);
	const struct volume *v = vp->v;
	uint64_t have;
	struct action *a;

	if (!rb || r->has_process || strcmp(r->state, "online") != 0)
		return; /* no geometry this pass, or still rebuilding: look again */
	have = rb->num_blocks * (uint64_t)rb->block_size;
	if (have < v->size_bytes) {
		plan_note(ctx, vp,
			  "volume %" PRIu64 ": resize waits: %s serves %" PRIu64 " of %" PRIu64
			  " bytes; SPDK grows a raid1 when a member's namespace grows (grow the "
			  "replicas' namespaces to finish)",
			  v->id, r->name, have, v->size_bytes);
		return;
	}
	a = plan_emit(ctx, vp, ACTION_RESIZE_FINISH);
	if (a)
		plan_copy(a->object, sizeof(a->object), r->name);
	plan_barrier(vp);
}

void plan_resize(struct plan_ctx *ctx, struct vol_plan *vp)
{
	const struct obs_raid *r = obs_raid_find(ctx->o, vp->raid);
	struct action *a;

	if (!r)
		return;
	if (vp->pending[0] < 0 && vp->pending[1] < 0) {
		if (vp->v->resizing)
			resize_finish(ctx, vp, r);
		return;
	}
	/* Every pending namespace connected and checked before the first membership change. */
	for (int s = 0; s < 2; s++)
		if (vp->pending[s] >= 0 && !obs_bdev_find(ctx->o, vp->bdev[vp->pending[s]]))
			return;
	for (int s = 0; s < 2; s++)
		if (vp->pending[s] >= 0 && !pending_fits(ctx, vp, r, s))
			return;
	for (int s = 0; s < 2; s++) {
		const char *member, *pend;
		const struct obs_raid_base *pbase;

		if (vp->pending[s] < 0)
			continue;
		member = vp->bdev[vp->member[s]];
		pend = vp->bdev[vp->pending[s]];
		pbase = raid_base(r, pend);
		if (pbase) {
			if (r->has_process || !pbase->is_configured)
				return; /* rebuild of the new base still runs */
			a = plan_emit(ctx, vp, ACTION_REPLICA_PROMOTE);
			if (a) {
				plan_copy(a->object, sizeof(a->object), pend);
				a->slot = (unsigned)s;
			}
			plan_barrier(vp);
			return;
		}
		if (r->has_process)
			return;
		if (raid_base(r, member)) {
			/* Never take a member out of a raid that has no other healthy one. */
			if (r->operational < 2)
				return;
			a = plan_emit(ctx, vp, ACTION_REMOVE_RAID_BASE);
			if (!a)
				return;
			plan_copy(a->object, sizeof(a->object), r->name);
			plan_copy(a->raid.base, sizeof(a->raid.base), member);
			plan_barrier(vp);
		}
		a = plan_emit(ctx, vp, ACTION_ADD_RAID_BASE);
		if (!a)
			return;
		plan_copy(a->object, sizeof(a->object), r->name);
		plan_copy(a->raid.base, sizeof(a->raid.base), pend);
		plan_barrier(vp);
		return;
	}
}
