/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_RECONCILE_OBSERVE_MODEL_H
#define DISKENGINE_RECONCILE_OBSERVE_MODEL_H

/*
 * SPDK's list answers (struct observe_raw, already checked by the typed decoders) turned into
 * the planner's observed graph (reconcile/model.h): fixed-size names, unsigned sizes, states as
 * enums. The arrays are owned by struct observed_model.
 */

#include "reconcile/model.h"
#include "reconcile/observe.h"

struct observed_model {
	struct observed o; /* points into the arrays below */
	struct obs_controller *ctrlrs;
	struct obs_path *paths;
	struct obs_bdev *bdevs;
	struct obs_raid *raids;
	struct obs_raid_base *bases;
	struct obs_vhost *vhosts;
	struct obs_key *keys;
	struct obs_first_seen *first_seen;
	struct obs_name *bdevs_read;
};

/* Decode raw; first_seen/n_first_seen (copied) and now_s come from the daemon's clock. */
int observed_from_raw(const struct observe_raw *raw, const struct obs_first_seen *first_seen,
		      size_t n_first_seen, int64_t now_s, struct observed_model *out);
void observed_model_free(struct observed_model *m);

/* "enabled" -> CTRLR_ENABLED, ... */
enum ctrlr_state observe_ctrlr_state(const char *s);

#endif
