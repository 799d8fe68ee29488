/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_RECONCILE_DRIFT_INTERNAL_H
#define DISKENGINE_RECONCILE_DRIFT_INTERNAL_H

/* Shared by drift.c, drift_model.c and drift_saved.c only. */

#include "reconcile/drift.h"
#include "reconcile/plan_internal.h"

struct drift_ctx {
	const struct desired *d;
	const struct observed *o;
	struct drift_report *out;
	int err; /* the first error (-ENOMEM) */
};

void drift_text(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

const struct volume *drift_volume(const struct desired *d, uint64_t id);
const char *drift_state_name(enum mapping_state s);

/* Evidence: what SPDK's list answers say of an object (null: absent), what the database says. */
json_t *drift_live_json(const struct observed *o, const char *kind, const char *object);
json_t *drift_db_json(const struct desired *d, uint64_t volume_id, uint64_t mapping_id);
/* Is there a controller, raid, vhost or key of that name? */
bool drift_live_has(const struct observed *o, const char *name);
/* The vhosts, raids, controllers and keys of o, one index space. */
size_t drift_live_count(const struct observed *o);
const char *drift_live_name(const struct observed *o, size_t i);

/* A sorted set of names. */
struct drift_names {
	char (*v)[MODEL_NAME_MAX];
	size_t n;
};
/* The names every mapping that is not DETACHED claims (its vhost, raid, controllers, keys). */
int drift_claims(const struct desired *d, struct drift_names *out);
bool drift_names_has(const struct drift_names *s, const char *name);
void drift_names_free(struct drift_names *s);

/*
 * A copy of the observed graph in which every object is older than the orphan grace and
 * objects can be taken away, to let the planner show the next orphan of the teardown order.
 */
struct drift_world {
	struct observed o;
	struct obs_controller *ctrlrs;
	struct obs_raid *raids;
	struct obs_vhost *vhosts;
	struct obs_key *keys;
	struct obs_bdev *bdevs;
	struct obs_first_seen *first_seen;
};
int drift_world_init(struct drift_world *w, const struct observed *o, int grace_s);
void drift_world_remove(struct drift_world *w, const char *name);
void drift_world_free(struct drift_world *w);

#endif
