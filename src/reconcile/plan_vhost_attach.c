/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vhost attach (the seed's startAttachLoop): for INITIALISED and ATTACHED mappings (or one whose
 * INITIALISED an earlier step of the same chain records), QoS on the raid, then vhost<mapping>
 * serving raid_<volume>, then the mapping ATTACHED. A controller left
 * with "bdev": null (its raid was deleted under it) is deleted and created again now that the
 * raid is back; QEMU reconnects to the socket by itself.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "reconcile/plan_internal.h"

/* SPDK rounds IOPS limits up to a multiple of 1000 (1500 is reported as 2000). */
static uint64_t round_iops(uint64_t v)
{
	return (v + 999) / 1000 * 1000;
}

void plan_qos(struct plan_ctx *ctx, struct vol_plan *vp, bool serving)
{
	const struct qos_limits *want = &vp->v->qos;
	/* a raid created or reassembled in this chain starts without limits */
	static const struct qos_limits none;
	const struct obs_bdev *b = vp->ahead ? NULL : obs_bdev_find(ctx->o, vp->raid);
	const struct qos_limits *have = b ? &b->qos : vp->ahead ? &none : NULL;
	struct action *a;

	if (!serving || !have)
		return;
	if (round_iops(want->rw_ios_per_sec) == have->rw_ios_per_sec &&
	    want->rw_mbytes_per_sec == have->rw_mbytes_per_sec &&
	    want->r_mbytes_per_sec == have->r_mbytes_per_sec &&
	    want->w_mbytes_per_sec == have->w_mbytes_per_sec)
		return;
	a = plan_emit(ctx, vp, ACTION_SET_QOS);
	if (!a)
		return;
	plan_copy(a->object, sizeof(a->object), vp->raid);
	a->qos = *want;
	plan_barrier(vp);
}

static void create_vhost(struct plan_ctx *ctx, struct vol_plan *vp, const struct mapping *m,
			 const char *name)
{
	struct action *a = plan_emit(ctx, vp, ACTION_CREATE_VHOST);

	if (!a)
		return;
	a->mapping_id = m->id;
	plan_copy(a->object, sizeof(a->object), name);
	plan_copy(a->vhost.bdev, sizeof(a->vhost.bdev), vp->raid);
	plan_copy(a->vhost.cpumask, sizeof(a->vhost.cpumask), ctx->d->config.cpumask);
	plan_barrier(vp);
}

void plan_vhost_attach(struct plan_ctx *ctx, struct vol_plan *vp, const struct mapping *m,
		       enum mapping_state state)
{
	char name[MODEL_NAME_MAX];
	const struct obs_vhost *vh;
	struct action *a;

	names_vhost(m->id, name, sizeof(name));
	vh = obs_vhost_find(ctx->o, name);
	if (vh && vh->has_bdev && strcmp(vh->bdev, vp->raid) != 0) {
		plan_conflict(ctx, vp, name, "%s exists serving %s, wanted %s for mapping %" PRIu64,
			      name, vh->bdev, vp->raid, m->id);
		return;
	}
	if (vh && !vh->has_bdev) {
		a = plan_emit(ctx, vp, ACTION_DELETE_VHOST);
		if (!a)
			return;
		a->mapping_id = m->id;
		plan_copy(a->object, sizeof(a->object), name);
		plan_barrier(vp);
		vh = NULL;
	}
	if (!vh)
		create_vhost(ctx, vp, m, name);
	if (state == MAPPING_INITIALISED) {
		a = plan_emit(ctx, vp, ACTION_MAPPING_ADVANCE);
		if (!a)
			return;
		a->mapping_id = m->id;
		a->from = MAPPING_INITIALISED;
		a->to = MAPPING_ATTACHED;
		plan_barrier(vp);
	}
}
