/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RAID detach (the seed's startRaidDetachLoop): runs only once every vhost controller of the
 * volume is absent (observed, or deleted earlier in the chain). Then raid_<volume> is deleted,
 * then the controllers no other live volume uses, and only when all of it is gone do the mappings
 * become DETACHED. Each layer goes after the one above in the same chain: SPDK v25.09 answers
 * bdev_raid_delete once the raid is unregistered and bdev_nvme_detach_controller once the
 * controller is deleted (it polls for that before answering), so a success means gone, and a
 * failure stops the chain before anything below.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "reconcile/plan_internal.h"

/* Does a replica of another live volume sit behind this controller? */
static bool ctrlr_used_elsewhere(const struct desired *d, uint64_t volume_id, const char *ctrlr)
{
	for (size_t i = 0; i < d->n_volumes; i++) {
		const struct volume *v = &d->volumes[i];

		if (v->id == volume_id || !desired_volume_live(d, v->id))
			continue;
		for (size_t k = 0; k < v->n_replicas; k++) {
			char name[MODEL_NAME_MAX];

			if (names_ctrlr(&v->replicas[k], name, sizeof(name)) == 0 &&
			    strcmp(name, ctrlr) == 0)
				return true;
		}
	}
	return false;
}

/* Is name the vhost controller of one of the volume's leaving mappings (deleted before)? */
static bool vhost_leaving(const struct desired *d, uint64_t volume_id, const char *name)
{
	for (size_t i = 0; i < d->n_mappings; i++) {
		char own[MODEL_NAME_MAX];

		if (d->mappings[i].volume_id != volume_id ||
		    d->mappings[i].state != MAPPING_DETACH_REQUESTED)
			continue;
		names_vhost(d->mappings[i].id, own, sizeof(own));
		if (strcmp(own, name) == 0)
			return true;
	}
	return false;
}

/* An orderly stop: the raid is whole, no rebuild runs, the store has both members in sync. */
static bool stopping_clean(const struct vol_plan *vp, const struct obs_raid *r)
{
	if (!vp->v || vp->member[0] < 0 || vp->member[1] < 0 || vp->v->clean_stop)
		return false;
	if (strcmp(r->state, "online") != 0 || r->has_process || r->operational < 2 ||
	    r->operational < r->n_bases)
		return false;
	return vp->v->replicas[vp->member[0]].in_sync && vp->v->replicas[vp->member[1]].in_sync;
}

void plan_raid_detach(struct plan_ctx *ctx, struct vol_plan *vp, uint64_t volume_id)
{
	const struct observed *o = ctx->o;
	bool remaining = false;
	struct action *a;

	/*
	 * Any controller still serving the raid (even one not ours) would be stranded; the
	 * volume's own leaving mappings' controllers are deleted by the steps before this one.
	 */
	for (size_t i = 0; i < o->n_vhosts; i++) {
		if (o->vhosts[i].has_bdev && strcmp(o->vhosts[i].bdev, vp->raid) == 0 &&
		    !vhost_leaving(ctx->d, volume_id, o->vhosts[i].name)) {
			plan_status(ctx, vp, 0,
				    "volume %" PRIu64 ": teardown waits: %s still serves %s",
				    volume_id, o->vhosts[i].name, vp->raid);
			return;
		}
	}
	const struct obs_raid *r = obs_raid_find(o, vp->raid);

	if (r) {
		a = plan_emit(ctx, vp, ACTION_DELETE_RAID);
		if (a)
			plan_copy(a->object, sizeof(a->object), vp->raid);
		plan_barrier(vp);
		if (stopping_clean(vp, r)) {
			a = plan_emit(ctx, vp, ACTION_SET_CLEAN_STOP);
			if (a) {
				plan_copy(a->object, sizeof(a->object), vp->raid);
				a->clean_stop = true;
			}
			plan_barrier(vp);
		}
	}
	for (size_t i = 0; vp->v && i < vp->v->n_replicas; i++) {
		if (!vp->ctrlr[i][0] || !obs_ctrlr_find(o, vp->ctrlr[i]))
			continue;
		if (ctrlr_used_elsewhere(ctx->d, volume_id, vp->ctrlr[i]))
			continue;
		/* Two replicas behind one controller: detach it once. */
		bool dup = false;

		for (size_t k = 0; k < i; k++)
			if (strcmp(vp->ctrlr[k], vp->ctrlr[i]) == 0)
				dup = true;
		if (dup)
			continue;
		a = plan_emit(ctx, vp, ACTION_DETACH_CONTROLLER);
		if (a)
			plan_copy(a->object, sizeof(a->object), vp->ctrlr[i]);
		remaining = true;
	}
	if (remaining)
		plan_barrier(vp);
	for (size_t i = 0; i < ctx->d->n_mappings; i++) {
		const struct mapping *m = &ctx->d->mappings[i];

		if (m->volume_id != volume_id || m->state != MAPPING_DETACH_REQUESTED)
			continue;
		a = plan_emit(ctx, vp, ACTION_MAPPING_ADVANCE);
		if (!a)
			return;
		a->mapping_id = m->id;
		a->from = MAPPING_DETACH_REQUESTED;
		a->to = MAPPING_DETACHED;
	}
	plan_barrier(vp);
}
