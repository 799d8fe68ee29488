/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_RECONCILE_DESIRED_H
#define DISKENGINE_RECONCILE_DESIRED_H

/*
 * The store -> model adapter: one host's desired state as the store returns it, converted into
 * the planner's input (reconcile/model.h). The arrays are owned by struct desired_model.
 */

#include "reconcile/model.h"

struct store_desired;
struct daemon_config;

struct desired_model {
	struct desired d;          /* points into the arrays below */
	struct mapping *mappings;
	struct volume *volumes;
	struct local_device *devices;
};

/* Convert. 0, -ENOMEM, or -E2BIG when a volume has more replicas than the model holds. */
int desired_from_store(const struct store_desired *sd, const struct daemon_config *cfg,
		       struct desired_model *out);
void desired_model_free(struct desired_model *m);

#endif
