/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Orphans: objects carrying diskengine's names (vhost<id>, raid_<id>, de_* controllers, de_key_*
 * keys) that no desired state claims, e.g. left by a crash between a database change and the
 * RPCs. After the grace period (first-seen timestamps come from the caller) they go through the
 * same ordered teardown: vhost, raid once nothing serves it, controller once no raid uses its
 * bdev, key once no unclaimed controller is left. Objects with any other name are never touched.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "reconcile/plan_internal.h"

static bool mapping_claimed(const struct desired *d, uint64_t id)
{
	for (size_t i = 0; i < d->n_mappings; i++)
		if (d->mappings[i].id == id && d->mappings[i].state != MAPPING_DETACHED)
			return true;
	return false;
}

/* Controller or key name used by a replica of a volume some mapping still claims. */
static bool replica_name_claimed(const struct desired *d, const char *name, bool key)
{
	for (size_t i = 0; i < d->n_volumes; i++) {
		const struct volume *v = &d->volumes[i];

		if (!desired_volume_claimed(d, v->id))
			continue;
		for (size_t k = 0; k < v->n_replicas; k++) {
			char n[MODEL_NAME_MAX];
			int rc = key ? names_key(v->replicas[k].key_name, n, sizeof(n))
				     : names_ctrlr(&v->replicas[k], n, sizeof(n));

			if (rc == 0 && strcmp(n, name) == 0)
				return true;
		}
	}
	return false;
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
	uint64_t id;

	for (size_t i = 0; i < o->n_vhosts; i++) {
		const char *name = o->vhosts[i].name;

		if (names_classify(name, &id) == NAME_VHOST && !mapping_claimed(d, id) &&
		    old_enough(ctx, name))
			emit_orphan(ctx, ACTION_DELETE_VHOST, name);
	}
	for (size_t i = 0; i < o->n_raids; i++) {
		const char *name = o->raids[i].name;

		if (names_classify(name, &id) != NAME_RAID || desired_volume_claimed(d, id))
			continue;
		if (!any_vhost_serves(o, name) && old_enough(ctx, name))
			emit_orphan(ctx, ACTION_DELETE_RAID, name);
	}
	for (size_t i = 0; i < o->n_ctrlrs; i++) {
		const struct obs_controller *c = &o->ctrlrs[i];
		enum name_kind k = names_classify(c->name, NULL);
		char bdev[MODEL_NAME_MAX];

		if ((k != NAME_CTRLR_FABRIC && k != NAME_CTRLR_PCIE) ||
		    replica_name_claimed(d, c->name, false))
			continue;
		ctrlr_orphans = true;
		names_ns_bdev(c->name, bdev, sizeof(bdev));
		/* No graph change on a resetting controller; none under a raid still using it. */
		if (obs_ctrlr_resetting(c) || any_raid_uses(o, bdev) || any_vhost_serves(o, bdev))
			continue;
		if (old_enough(ctx, c->name))
			emit_orphan(ctx, ACTION_DETACH_CONTROLLER, c->name);
	}
	if (ctrlr_orphans)
		return; /* keys last: an orphan controller may still authenticate with one */
	for (size_t i = 0; i < o->n_keys; i++) {
		const char *name = o->keys[i].name;

		if (names_classify(name, NULL) == NAME_KEY && !o->keys[i].removed &&
		    !replica_name_claimed(d, name, true) && old_enough(ctx, name))
			emit_orphan(ctx, ACTION_REMOVE_KEY, name);
	}
}
