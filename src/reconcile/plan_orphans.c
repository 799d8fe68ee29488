/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Orphans: objects diskengine can show it created that no desired state claims, e.g. left by a
 * crash between a database change and the RPCs. A name that merely looks like ours is no proof
 * (an operator's vhost0 or raid_3 on a shared host is somebody's VM disk), so each kind needs
 * its proof: a raid carries the UUID diskengine derives from its volume id (names_raid_uuid,
 * kept by SPDK in the superblock); a vhost controller serves such a raid; a controller's name is
 * the one derived from the subsystem NQN (or BDF) it is connected to; a key's file is the one a
 * replica in the database names. After the grace period (first-seen timestamps come from the
 * caller) they go through the same ordered teardown: vhost, raid once nothing serves it and
 * nothing else claims its bdev, controller once no raid uses its bdev, key once no unclaimed
 * controller is left. Everything else is never touched.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

/* Is this raid one diskengine created? Its UUID is the one derived from its volume id. */
static bool raid_ours(const struct obs_raid *r)
{
	char want[40];
	uint64_t id;

	if (names_classify(r->name, &id) != NAME_RAID || !r->uuid[0])
		return false;
	names_raid_uuid(id, want, sizeof(want));
	return strcasecmp(r->uuid, want) == 0;
}

/* A vhost controller is ours when it serves a raid of ours; one left without a bdev is not
 * provably anybody's and stays. */
static bool vhost_ours(const struct observed *o, const struct obs_vhost *v)
{
	const struct obs_raid *r;

	if (names_classify(v->name, NULL) != NAME_VHOST || !v->has_bdev)
		return false;
	r = obs_raid_find(o, v->bdev);
	return r && raid_ours(r);
}

/* A controller is ours when its name is the one derived from what it is connected to. */
static bool ctrlr_ours(const struct obs_controller *c)
{
	enum name_kind k = names_classify(c->name, NULL);
	char want[MODEL_NAME_MAX];

	if ((k != NAME_CTRLR_FABRIC && k != NAME_CTRLR_PCIE) || c->n_paths == 0)
		return false;
	for (size_t j = 0; j < c->n_paths; j++) {
		struct replica r = {.transport = c->paths[j].transport};

		if (r.transport == TRANSPORT_PCIE)
			plan_copy(r.addr, sizeof(r.addr), c->paths[j].traddr);
		else
			plan_copy(r.nqn, sizeof(r.nqn), c->paths[j].subnqn);
		if (names_ctrlr(&r, want, sizeof(want)) != 0 || strcmp(want, c->name) != 0)
			return false;
	}
	return true;
}

/* A key is ours when a replica in the database names its file (and so its name). */
static bool key_ours(const struct desired *d, const struct obs_key *k)
{
	for (size_t i = 0; i < d->n_volumes; i++) {
		const struct volume *v = &d->volumes[i];

		for (size_t r = 0; r < v->n_replicas; r++) {
			char n[MODEL_NAME_MAX];

			if (names_key(v->replicas[r].key_name, n, sizeof(n)) == 0 &&
			    strcmp(n, k->name) == 0 && strcmp(v->replicas[r].key_path, k->path) == 0)
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

/* bdev is one of ctrlr's namespace bdevs, "<ctrlr>n<nsid>" (names_ns_bdev), any nsid. */
static bool is_ns_bdev_of(const char *ctrlr, const char *bdev)
{
	size_t n = strlen(ctrlr);

	if (strncmp(bdev, ctrlr, n) != 0 || bdev[n] != 'n' || !bdev[n + 1])
		return false;
	return strspn(bdev + n + 1, "0123456789") == strlen(bdev + n + 1);
}

/*
 * A raid or vhost still uses a namespace of the controller. Every namespace counts, not
 * just n1: a local drive's replica may be any namespace id of it.
 */
static bool ctrlr_in_use(const struct observed *o, const char *ctrlr)
{
	for (size_t i = 0; i < o->n_raids; i++)
		for (size_t k = 0; k < o->raids[i].n_bases; k++)
			if (o->raids[i].bases[k].has_name &&
			    is_ns_bdev_of(ctrlr, o->raids[i].bases[k].name))
				return true;
	for (size_t i = 0; i < o->n_vhosts; i++)
		if (o->vhosts[i].has_bdev && is_ns_bdev_of(ctrlr, o->vhosts[i].bdev))
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
		    !has_u64(cl.mappings, cl.n_mappings, id) && vhost_ours(o, &o->vhosts[i]) &&
		    old_enough(ctx, name))
			emit_orphan(ctx, ACTION_DELETE_VHOST, name);
	}
	for (size_t i = 0; i < o->n_raids; i++) {
		const char *name = o->raids[i].name;

		const struct obs_bdev *b = obs_bdev_find(o, name);

		if (names_classify(name, &id) != NAME_RAID || has_u64(cl.volumes, cl.n_volumes, id) ||
		    !raid_ours(&o->raids[i]))
			continue;
		/* something else (an lvstore, an NVMe-oF namespace) holds it: never; and while
		 * its bdev was not read, whether it is held is not known */
		if (!b || b->claimed)
			continue;
		if (!any_vhost_serves(o, name) && old_enough(ctx, name))
			emit_orphan(ctx, ACTION_DELETE_RAID, name);
	}
	for (size_t i = 0; i < o->n_ctrlrs; i++) {
		const struct obs_controller *c = &o->ctrlrs[i];
		enum name_kind k = names_classify(c->name, NULL);

		if ((k != NAME_CTRLR_FABRIC && k != NAME_CTRLR_PCIE) ||
		    has_str(cl.ctrlrs, cl.n_ctrlrs, c->name) || !ctrlr_ours(c))
			continue;
		ctrlr_orphans = true;
		/* No graph change on a resetting controller; none under a raid still using it. */
		if (obs_ctrlr_resetting(c) || ctrlr_in_use(o, c->name))
			continue;
		if (old_enough(ctx, c->name))
			emit_orphan(ctx, ACTION_DETACH_CONTROLLER, c->name);
	}
	/* keys last: an orphan controller may still authenticate with one */
	for (size_t i = 0; i < o->n_keys && !ctrlr_orphans; i++) {
		const char *name = o->keys[i].name;

		if (names_classify(name, NULL) == NAME_KEY && !o->keys[i].removed &&
		    !has_str(cl.keys, cl.n_keys, name) && key_ours(d, &o->keys[i]) &&
		    old_enough(ctx, name))
			emit_orphan(ctx, ACTION_REMOVE_KEY, name);
	}
	claims_free(&cl);
}
