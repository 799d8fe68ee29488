/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Orphans: objects carrying diskengine's names (vhost<id>, raid_<id>, de_* controllers, de_key_*
 * keys) that no desired state claims, e.g. left by a crash between a database change and the
 * RPCs. After the grace period (first-seen timestamps come from the caller) they go through the
 * same ordered teardown: vhost, raid once nothing serves it, controller once no raid uses its
 * bdev, key once no unclaimed controller is left. Objects with any other name are never touched.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "reconcile/plan_internal.h"

/*
 * What the desired state claims, sorted once per plan: the orphan checks look up every observed
 * object, and scanning the desired state for each would make a pass quadratic (cubic for
 * controllers) in the number of volumes.
 */
struct claims {
	uint64_t *mappings; /* ids of mappings not DETACHED */
	size_t n_mappings;
	uint64_t *volumes; /* ids of volumes such a mapping names */
	size_t n_volumes;
	char **ctrlrs; /* controller names of those volumes' replicas */
	size_t n_ctrlrs;
	char **keys; /* key names of those volumes' replicas */
	size_t n_keys;
	char *names; /* storage of ctrlrs and keys */
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_u64(const uint64_t *v, size_t n, uint64_t id)
{
	return bsearch(&id, v, n, sizeof(*v), cmp_u64) != NULL;
}

static bool has_str(char **v, size_t n, const char *name)
{
	return bsearch(&name, v, n, sizeof(*v), cmp_str) != NULL;
}

static void claims_free(struct claims *c)
{
	free(c->mappings);
	free(c->volumes);
	free(c->ctrlrs);
	free(c->keys);
	free(c->names);
}

static int claims_build(const struct desired *d, struct claims *c)
{
	size_t nrep = 0, used = 0;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < d->n_volumes; i++)
		nrep += d->volumes[i].n_replicas;
	c->mappings = calloc(d->n_mappings + 1, sizeof(*c->mappings));
	c->volumes = calloc(d->n_mappings + 1, sizeof(*c->volumes));
	c->ctrlrs = calloc(nrep + 1, sizeof(*c->ctrlrs));
	c->keys = calloc(nrep + 1, sizeof(*c->keys));
	c->names = malloc((2 * nrep + 1) * MODEL_NAME_MAX);
	if (!c->mappings || !c->volumes || !c->ctrlrs || !c->keys || !c->names) {
		claims_free(c);
		return -ENOMEM;
	}
	for (size_t i = 0; i < d->n_mappings; i++) {
		if (d->mappings[i].state == MAPPING_DETACHED)
			continue;
		c->mappings[c->n_mappings++] = d->mappings[i].id;
		c->volumes[c->n_volumes++] = d->mappings[i].volume_id;
	}
	qsort(c->mappings, c->n_mappings, sizeof(*c->mappings), cmp_u64);
	qsort(c->volumes, c->n_volumes, sizeof(*c->volumes), cmp_u64);
	for (size_t i = 0; i < d->n_volumes; i++) {
		const struct volume *v = &d->volumes[i];

		if (!has_u64(c->volumes, c->n_volumes, v->id))
			continue;
		for (size_t k = 0; k < v->n_replicas; k++) {
			char *n = c->names + used * MODEL_NAME_MAX;

			if (names_ctrlr(&v->replicas[k], n, MODEL_NAME_MAX) == 0) {
				c->ctrlrs[c->n_ctrlrs++] = n;
				used++;
			}
			n = c->names + used * MODEL_NAME_MAX;
			if (names_key(v->replicas[k].key_name, n, MODEL_NAME_MAX) == 0) {
				c->keys[c->n_keys++] = n;
				used++;
			}
		}
	}
	qsort(c->ctrlrs, c->n_ctrlrs, sizeof(*c->ctrlrs), cmp_str);
	qsort(c->keys, c->n_keys, sizeof(*c->keys), cmp_str);
	return 0;
}

static bool old_enough(struct plan_ctx *ctx, const char *name)
{
	int64_t age = obs_age(ctx->o, name);

	return age >= 0 && age >= ctx->d->config.orphan_grace_s;
}

static void emit_orphan(struct plan_ctx *ctx, enum action_kind kind, const char *name)
{
	struct action *a = plan_emit(ctx, NULL, kind);

	if (!a)
		return;
	snprintf(a->group, sizeof(a->group), "orphan:%s", name);
	plan_copy(a->object, sizeof(a->object), name);
}

static bool any_vhost_serves(const struct observed *o, const char *bdev)
{
	for (size_t i = 0; i < o->n_vhosts; i++)
		if (o->vhosts[i].has_bdev && strcmp(o->vhosts[i].bdev, bdev) == 0)
			return true;
	return false;
}

static bool any_raid_uses(const struct observed *o, const char *bdev)
{
	for (size_t i = 0; i < o->n_raids; i++)
		if (obs_raid_has_base(&o->raids[i], bdev))
			return true;
	return false;
}

void plan_orphans(struct plan_ctx *ctx)
{
	const struct desired *d = ctx->d;
	const struct observed *o = ctx->o;
	bool ctrlr_orphans = false;
	struct claims cl;
	uint64_t id;

	if (claims_build(d, &cl) < 0) {
		ctx->err = -ENOMEM;
		return;
	}

	for (size_t i = 0; i < o->n_vhosts; i++) {
		const char *name = o->vhosts[i].name;

		if (names_classify(name, &id) == NAME_VHOST &&
		    !has_u64(cl.mappings, cl.n_mappings, id) && old_enough(ctx, name))
			emit_orphan(ctx, ACTION_DELETE_VHOST, name);
	}
	for (size_t i = 0; i < o->n_raids; i++) {
		const char *name = o->raids[i].name;

		if (names_classify(name, &id) != NAME_RAID || has_u64(cl.volumes, cl.n_volumes, id))
			continue;
		if (!any_vhost_serves(o, name) && old_enough(ctx, name))
			emit_orphan(ctx, ACTION_DELETE_RAID, name);
	}
	for (size_t i = 0; i < o->n_ctrlrs; i++) {
		const struct obs_controller *c = &o->ctrlrs[i];
		enum name_kind k = names_classify(c->name, NULL);
		char bdev[MODEL_NAME_MAX];

		if ((k != NAME_CTRLR_FABRIC && k != NAME_CTRLR_PCIE) ||
		    has_str(cl.ctrlrs, cl.n_ctrlrs, c->name))
			continue;
		ctrlr_orphans = true;
		names_ns_bdev(c->name, bdev, sizeof(bdev));
		/* No graph change on a resetting controller; none under a raid still using it. */
		if (obs_ctrlr_resetting(c) || any_raid_uses(o, bdev) || any_vhost_serves(o, bdev))
			continue;
		if (old_enough(ctx, c->name))
			emit_orphan(ctx, ACTION_DETACH_CONTROLLER, c->name);
	}
	/* keys last: an orphan controller may still authenticate with one */
	for (size_t i = 0; i < o->n_keys && !ctrlr_orphans; i++) {
		const char *name = o->keys[i].name;

		if (names_classify(name, NULL) == NAME_KEY && !o->keys[i].removed &&
		    !has_str(cl.keys, cl.n_keys, name) && old_enough(ctx, name))
			emit_orphan(ctx, ACTION_REMOVE_KEY, name);
	}
	claims_free(&cl);
}
