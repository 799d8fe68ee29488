/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Initialise (the seed's startInitialiseLoop): a mapping becomes INITIALISED once its raid exists
 * and its content is ready. A blank volume is ready at once.
 *
 * A volume filled from a snapshot has clones for replicas: thin clones of one snapshot of a
 * replica of the source volume. Each starts with the source raid's superblock, which SPDK will
 * not have twice: examine leaves the clone alone, and bdev_raid_create refuses it (-17). So the
 * chain reads each clone's first blocks and proceeds only if they hold exactly the source raid's
 * superblock, zeroes that region (Write Zeroes over data_offset blocks, on the controller), then
 * creates the raid: its data region starts where the source's did, so the guest sees the
 * snapshot's bytes. The raid's data_offset is checked against the source's before INITIALISED.
 *
 * What makes this safe to repeat after a crash: the wipe is marked in the database before the
 * first Write Zeroes, so zeroes found later are this volume's own; a clone carrying this
 * volume's own superblock means the raid was created (never wiped again); and a volume that was
 * ever ATTACHED holds a VM's data, so none of this applies to it.
 */
#include <inttypes.h>
#include <stdio.h>

#include "reconcile/plan_internal.h"

bool plan_init_needed(const struct volume *v)
{
	return v->has_snapshot_source && !v->raid_created && !v->raid_recorded && !v->ever_attached;
}

static void init_params(const struct vol_plan *vp, struct action *a)
{
	plan_copy(a->init.source_uuid, sizeof(a->init.source_uuid), vp->v->source_raid_uuid);
	a->init.data_offset = vp->v->source_data_offset;
	a->init.block_size = vp->v->block_size;
	a->init.size_bytes = vp->v->size_bytes;
	a->init.wiped = vp->v->init_wiped;
	names_raid_uuid(vp->v->id, a->raid.uuid, sizeof(a->raid.uuid));
}

void plan_init_clones(struct plan_ctx *ctx, struct vol_plan *vp)
{
	struct action *a;

	if (!vp->v->source_raid_uuid[0] || !vp->v->source_data_offset) {
		plan_status(ctx, vp, 0,
			    "volume %" PRIu64
			    ": filled from a snapshot, but the source's raid uuid "
			    "and data_offset are not recorded; nothing done",
			    vp->v->id);
		return;
	}
	for (int s = 0; s < 2; s++) {
		a = plan_emit(ctx, vp, ACTION_INIT_VERIFY);
		if (!a)
			return;
		plan_copy(a->object, sizeof(a->object), vp->ctrlr[vp->member[s]]);
		plan_copy(a->init.bdev, sizeof(a->init.bdev), vp->bdev[vp->member[s]]);
		init_params(vp, a);
	}
	plan_barrier(vp);
	if (!vp->v->init_wiped) {
		a = plan_emit(ctx, vp, ACTION_INIT_MARK_WIPED);
		if (!a)
			return;
		plan_copy(a->object, sizeof(a->object), vp->raid);
		plan_barrier(vp);
	}
	for (int s = 0; s < 2; s++) {
		a = plan_emit(ctx, vp, ACTION_INIT_WIPE);
		if (!a)
			return;
		plan_copy(a->object, sizeof(a->object), vp->ctrlr[vp->member[s]]);
		plan_copy(a->init.bdev, sizeof(a->init.bdev), vp->bdev[vp->member[s]]);
		init_params(vp, a);
	}
	plan_barrier(vp);
}

bool plan_initialise(struct plan_ctx *ctx, struct vol_plan *vp, const struct mapping *m)
{
	const struct volume *v = vp->v;
	struct action *a;

	/*
	 * A raid created in this chain was checked and recorded by its create; one found in
	 * SPDK (a crash between the create and INITIALISED) is checked here first.
	 */
	if (v->has_snapshot_source && !v->ever_attached && !v->raid_recorded && !vp->ahead) {
		a = plan_emit(ctx, vp, ACTION_INIT_CHECK_RAID);
		if (!a)
			return false;
		plan_copy(a->object, sizeof(a->object), vp->raid);
		init_params(vp, a);
		plan_barrier(vp);
	}
	a = plan_emit(ctx, vp, ACTION_MAPPING_ADVANCE);
	if (!a)
		return false;
	a->mapping_id = m->id;
	a->from = MAPPING_ASSIGNED;
	a->to = MAPPING_INITIALISED;
	return true;
}
