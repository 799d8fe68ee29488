/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vhost detach (the seed's startVhostDetachLoop): a DETACH_REQUESTED mapping loses its vhost
 * controller first. Unlike the seed's detachVhost, nothing below is touched here: a controller
 * with zero sessions still blocks the teardown because QEMU can reconnect to its socket, so the
 * caller gates on the controller being absent: observed so, or deleted by an earlier step of the
 * same chain (vhost_delete_controller answers success only once the controller is gone; it
 * refuses while a session is connected).
 */
#include <stdio.h>

#include "reconcile/plan_internal.h"

bool plan_vhost_detach(struct plan_ctx *ctx, struct vol_plan *vp, const struct mapping *m)
{
	char name[MODEL_NAME_MAX];
	struct action *a;

	names_vhost(m->id, name, sizeof(name));
	if (!obs_vhost_find(ctx->o, name))
		return true;
	a = plan_emit(ctx, vp, ACTION_DELETE_VHOST);
	if (!a)
		return false;
	a->mapping_id = m->id;
	plan_copy(a->object, sizeof(a->object), name);
	plan_barrier(vp);
	return true;
}
