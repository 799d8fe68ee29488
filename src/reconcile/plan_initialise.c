/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Initialise (the seed's startInitialiseLoop): a mapping becomes INITIALISED once its raid exists
 * and its content is ready. A blank volume is ready at once; copying a snapshot into the raid is
 * not implemented yet, so such a mapping waits with a status saying so.
 */
#include <inttypes.h>
#include <stdio.h>

#include "reconcile/plan_internal.h"

bool plan_initialise(struct plan_ctx *ctx, struct vol_plan *vp, const struct mapping *m)
{
	struct action *a;

	if (vp->v->has_snapshot_source) {
		a = plan_emit(ctx, vp, ACTION_SET_STATUS);
		if (a) {
			a->mapping_id = m->id;
			snprintf(a->message, sizeof(a->message),
				 "volume %" PRIu64 ": snapshot initialisation not supported yet "
				 "(snapshot %" PRIu64 "); mapping %" PRIu64 " waits",
				 vp->v->id, vp->v->snapshot_id, m->id);
		}
		return false;
	}
	a = plan_emit(ctx, vp, ACTION_MAPPING_ADVANCE);
	if (!a)
		return false;
	a->mapping_id = m->id;
	a->from = MAPPING_ASSIGNED;
	a->to = MAPPING_INITIALISED;
	return true;
}
