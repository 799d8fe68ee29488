/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_RECONCILE_PLAN_INTERNAL_H
#define DISKENGINE_RECONCILE_PLAN_INTERNAL_H

/* Shared state and lookups of the plan stages; not part of the public API. */

#include <stdbool.h>

#include "reconcile/names.h"
#include "reconcile/plan.h"

struct plan_ctx {
	const struct desired *d;
	const struct observed *o;
	const struct host_facts *hf;
	struct plan *out;
	int err; /* first allocation failure; emitting stops */
};

/* One volume's share of the plan. */
struct vol_plan {
	const struct volume *v; /* NULL: a volume the desired state no longer describes */
	uint64_t volume_id;
	char group[PLAN_GROUP_MAX];
	unsigned step; /* step the next action gets */
	char raid[MODEL_NAME_MAX];
	/* per replica index: controller and namespace bdev names ("" if the replica is invalid) */
	char ctrlr[MODEL_REPLICAS_MAX][MODEL_NAME_MAX];
	char bdev[MODEL_REPLICAS_MAX][MODEL_NAME_MAX];
	int member[2];	/* replica index of slot 0/1's member, -1 if none */
	int pending[2]; /* replica index of slot 0/1's pending replacement, -1 if none */
	bool attaching[MODEL_REPLICAS_MAX]; /* this pass's path chain attaches the replica */
	bool ahead; /* the raid serves once the steps emitted so far succeed (same chain) */
	bool stopped;	/* a SET_STATUS/REPORT_CONFLICT stopped this volume for the pass */
	bool dirty;	/* something was emitted at the current step */
};

/* Later actions of vp wait for everything emitted so far. */
void plan_barrier(struct vol_plan *vp);

/* Bounded string copy (truncates; SPDK names we build always fit). */
void plan_copy(char *dst, size_t size, const char *src);

/* Append an action with kind, group and step of vp (vp may be NULL: group/step set by caller). */
struct action *plan_emit(struct plan_ctx *ctx, struct vol_plan *vp, enum action_kind kind);

/* SET_STATUS / REPORT_CONFLICT for a volume, printf-style; marks vp stopped. */
void plan_status(struct plan_ctx *ctx, struct vol_plan *vp, uint64_t mapping_id, const char *fmt,
		 ...) __attribute__((format(printf, 4, 5)));
/*
 * SET_STATUS that does not stop the volume: one part of it waits (a resize) while the rest is
 * kept served (a vhost lost in an SPDK restart must come back even then).
 */
void plan_note(struct plan_ctx *ctx, struct vol_plan *vp, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void plan_conflict(struct plan_ctx *ctx, struct vol_plan *vp, const char *object, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));

const struct obs_controller *obs_ctrlr_find(const struct observed *o, const char *name);
const struct obs_bdev *obs_bdev_find(const struct observed *o, const char *name);
/* Was the bdev read in this pass (found or absent)? obs_bdev_find gives NULL for one not read. */
bool obs_bdev_known(const struct observed *o, const char *name);
const struct obs_flap *obs_flap_find(const struct observed *o, const char *ctrlr);
/* Was the controller given up as raid member (its path keeps flapping)? */
bool obs_ctrlr_given_up(const struct observed *o, const char *ctrlr);
const struct obs_raid *obs_raid_find(const struct observed *o, const char *name);
const struct obs_vhost *obs_vhost_find(const struct observed *o, const char *name);
const struct obs_key *obs_key_find(const struct observed *o, const char *name);
/* Seconds since the object was first seen; -1 if the caller supplied no timestamp. */
int64_t obs_age(const struct observed *o, const char *name);
/* Is name a configured base of the raid (by name)? */
bool obs_raid_has_base(const struct obs_raid *r, const char *name);
/* Does any path of the controller reset? */
bool obs_ctrlr_resetting(const struct obs_controller *c);
/* Is a live (ASSIGNED..ATTACHED) mapping of this volume in the desired state? */
bool desired_volume_live(const struct desired *d, uint64_t volume_id);
/* Does a mapping claim the volume (any state but DETACHED)? */
bool desired_volume_claimed(const struct desired *d, uint64_t volume_id);
const struct volume *desired_volume_find(const struct desired *d, uint64_t id);

/* Fill names and slots of vp; a replica set that is not one member per slot stops the volume. */
void plan_vol_init(struct plan_ctx *ctx, struct vol_plan *vp, const struct volume *v);

/*
 * Stages, in the order of the seed's loops. plan_nvme_attach returns true when every member's
 * bdev is observed; plan_raid_ensure when the raid serves, so the layers above may be planned.
 */
bool plan_nvme_attach(struct plan_ctx *ctx, struct vol_plan *vp);
bool plan_raid_ensure(struct plan_ctx *ctx, struct vol_plan *vp);
/* Only the in-sync flags and generations from what an online raid reports (no SPDK change). */
void plan_raid_sync(struct plan_ctx *ctx, struct vol_plan *vp);
void plan_resize(struct plan_ctx *ctx, struct vol_plan *vp);
/* Does the volume's raid still have to be made from snapshot clones (verify, wipe, create)? */
bool plan_init_needed(const struct volume *v);
/* The clones' checks and wipe, ahead of the raid's creation (raid_ensure emits the create). */
void plan_init_clones(struct plan_ctx *ctx, struct vol_plan *vp);
/* Returns true when the mapping is INITIALISED once the steps emitted so far succeed. */
bool plan_initialise(struct plan_ctx *ctx, struct vol_plan *vp, const struct mapping *m);
/* serving: a mapping of the volume is (or becomes in this chain) INITIALISED or ATTACHED. */
void plan_qos(struct plan_ctx *ctx, struct vol_plan *vp, bool serving);
/* state: the mapping's state once the steps emitted so far succeed. */
void plan_vhost_attach(struct plan_ctx *ctx, struct vol_plan *vp, const struct mapping *m,
		       enum mapping_state state);
/*
 * Returns true when the mapping's vhost controller is absent once the steps emitted so far
 * succeed (observed absent, or deleted by this chain).
 */
bool plan_vhost_detach(struct plan_ctx *ctx, struct vol_plan *vp, const struct mapping *m);
/* Tear the volume's raid and unused controllers down; advance mappings when all is gone. */
void plan_raid_detach(struct plan_ctx *ctx, struct vol_plan *vp, uint64_t volume_id);
void plan_orphans(struct plan_ctx *ctx);

#endif
