/* SPDX-License-Identifier: Apache-2.0 */
/* A toy SPDK + store for the planner tests: what each action does when it succeeds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

void fx_remove_ctrlr(struct fx *f, const char *name)
{
	for (size_t i = 0; i < f->nc; i++) {
		if (strcmp(f->ctrls[i].name, name) != 0)
			continue;
		for (size_t k = i; k + 1 < f->nc; k++) {
			f->ctrls[k] = f->ctrls[k + 1];
			memcpy(f->paths[k], f->paths[k + 1], sizeof(f->paths[k]));
			f->ctrls[k].paths = f->paths[k];
		}
		f->nc--;
		f->o.n_ctrlrs = f->nc;
		return;
	}
}

void fx_remove_bdev(struct fx *f, const char *name)
{
	for (size_t i = 0; i < f->nb; i++) {
		if (strcmp(f->bdevs[i].name, name) != 0)
			continue;
		memmove(&f->bdevs[i], &f->bdevs[i + 1], (f->nb - i - 1) * sizeof(f->bdevs[0]));
		f->nb--;
		f->o.n_bdevs = f->nb;
		return;
	}
}

void fx_remove_raid(struct fx *f, const char *name)
{
	for (size_t i = 0; i < f->nr; i++) {
		if (strcmp(f->raids[i].name, name) != 0)
			continue;
		for (size_t b = 0; b < f->raids[i].n_bases; b++)
			for (size_t k = 0; k < f->nb; k++)
				if (f->rbases[i][b].has_name &&
				    strcmp(f->bdevs[k].name, f->rbases[i][b].name) == 0)
					f->bdevs[k].claimed = false;
		for (size_t k = i; k + 1 < f->nr; k++) {
			f->raids[k] = f->raids[k + 1];
			memcpy(f->rbases[k], f->rbases[k + 1], sizeof(f->rbases[k]));
			f->raids[k].bases = f->rbases[k];
		}
		f->nr--;
		f->o.n_raids = f->nr;
		fx_remove_bdev(f, name);
		/* SPDK keeps the vhost controller, serving nothing. */
		for (size_t k = 0; k < f->nvh; k++)
			if (f->vhosts[k].has_bdev && strcmp(f->vhosts[k].bdev, name) == 0)
				f->vhosts[k].has_bdev = false;
		return;
	}
}

void fx_remove_vhost(struct fx *f, const char *name)
{
	for (size_t i = 0; i < f->nvh; i++) {
		if (strcmp(f->vhosts[i].name, name) != 0)
			continue;
		memmove(&f->vhosts[i], &f->vhosts[i + 1], (f->nvh - i - 1) * sizeof(f->vhosts[0]));
		f->nvh--;
		f->o.n_vhosts = f->nvh;
		return;
	}
}

static struct volume *vol_by_id(struct fx *f, uint64_t id)
{
	for (size_t i = 0; i < f->nv; i++)
		if (f->vols[i].id == id)
			return &f->vols[i];
	return NULL;
}

static void attach(struct fx *f, const struct action *a)
{
	for (size_t i = 0; i < f->nv; i++) {
		for (size_t r = 0; r < f->vols[i].n_replicas; r++) {
			char name[MODEL_NAME_MAX];

			fx_ctrlr_name(&f->vols[i], r, name, sizeof(name));
			if (strcmp(name, a->object) != 0)
				continue;
			fx_remove_ctrlr(f, name); /* adding a path replaces the stale view */
			{
				char bdev[MODEL_NAME_MAX];

				names_ns_bdev(name, 1, bdev, sizeof(bdev));
				fx_remove_bdev(f, bdev);
			}
			fx_obs_replica(f, &f->vols[i], r);
			return;
		}
	}
}

static void add_base(struct fx *f, const struct action *a)
{
	for (size_t i = 0; i < f->nr; i++) {
		if (strcmp(f->raids[i].name, a->object) != 0)
			continue;
		for (size_t b = 0; b < f->raids[i].n_bases; b++) {
			struct obs_raid_base *rb = &f->rbases[i][b];

			if (rb->has_name)
				continue;
			rb->has_name = rb->is_configured = true;
			fx_copy(rb->name, sizeof(rb->name), a->raid.base);
			f->raids[i].operational++;
			f->raids[i].discovered++;
			for (size_t k = 0; k < f->nb; k++)
				if (strcmp(f->bdevs[k].name, a->raid.base) == 0)
					f->bdevs[k].claimed = true;
			return;
		}
	}
}

static void remove_base(struct fx *f, const struct action *a)
{
	for (size_t i = 0; i < f->nr; i++)
		for (size_t b = 0; b < f->raids[i].n_bases; b++) {
			struct obs_raid_base *rb = &f->rbases[i][b];

			if (!rb->has_name || strcmp(rb->name, a->raid.base) != 0)
				continue;
			rb->has_name = rb->is_configured = false;
			f->raids[i].operational--;
			f->raids[i].discovered--;
			for (size_t k = 0; k < f->nb; k++)
				if (strcmp(f->bdevs[k].name, a->raid.base) == 0)
					f->bdevs[k].claimed = false;
		}
}

static void apply_one(struct fx *f, const struct action *a)
{
	struct volume *v = vol_by_id(f, a->volume_id);

	switch (a->kind) {
	case ACTION_ADD_KEY:
		fx_copy(f->keys[f->nk].name, MODEL_KEY_MAX, a->object);
		fx_copy(f->keys[f->nk].path, MODEL_PATH_MAX, a->key.path);
		f->nk++;
		break;
	case ACTION_REMOVE_KEY:
		for (size_t k = 0; k < f->nk; k++)
			if (strcmp(f->keys[k].name, a->object) == 0) {
				memmove(&f->keys[k], &f->keys[k + 1],
					(f->nk - k - 1) * sizeof(f->keys[0]));
				f->nk--;
				break;
			}
		f->o.n_keys = f->nk;
		break;
	case ACTION_ATTACH_PATH:
		attach(f, a);
		break;
	case ACTION_DETACH_CONTROLLER: {
		char bdev[MODEL_NAME_MAX];

		names_ns_bdev(a->object, 1, bdev, sizeof(bdev));
		fx_remove_ctrlr(f, a->object);
		fx_remove_bdev(f, bdev);
		break;
	}
	case ACTION_CREATE_RAID:
		if (v) {
			fx_obs_raid(f, v);
			v->raid_created = true;
			/* a new raid bdev has no limits yet */
			memset(&f->bdevs[f->nb - 1].qos, 0, sizeof(f->bdevs[0].qos));
		}
		break;
	case ACTION_ADD_RAID_BASE:
		add_base(f, a);
		break;
	case ACTION_REMOVE_RAID_BASE:
		remove_base(f, a);
		break;
	case ACTION_DELETE_RAID:
		fx_remove_raid(f, a->object);
		break;
	case ACTION_SET_QOS:
		for (size_t k = 0; k < f->nb; k++)
			if (strcmp(f->bdevs[k].name, a->object) == 0) {
				f->bdevs[k].qos = a->qos;
				f->bdevs[k].qos.rw_ios_per_sec =
					(a->qos.rw_ios_per_sec + 999) / 1000 * 1000;
			}
		break;
	case ACTION_CREATE_VHOST:
		fx_obs_vhost(f, a->mapping_id, a->vhost.bdev);
		break;
	case ACTION_DELETE_VHOST:
		fx_remove_vhost(f, a->object);
		break;
	case ACTION_REPLICA_SET_SYNC:
		for (size_t r = 0; v && r < v->n_replicas; r++)
			if (v->replicas[r].slot == a->slot && !v->replicas[r].pending) {
				v->replicas[r].in_sync = a->in_sync;
				/* as the store: a generation never goes back */
				if (a->generation > v->replicas[r].generation)
					v->replicas[r].generation = a->generation;
			}
		break;
	case ACTION_MAPPING_ADVANCE:
		for (size_t k = 0; k < f->nm; k++)
			if (f->maps[k].id == a->mapping_id && f->maps[k].state == a->from)
				f->maps[k].state = a->to;
		break;
	default:
		break;
	}
}

/* Groups that failed in this application, and from which step (the executor's bookkeeping). */
struct fx_failed {
	char group[64][PLAN_GROUP_MAX];
	unsigned step[64];
	size_t n;
};

static bool group_failed(const struct fx_failed *ff, const char *group, unsigned step)
{
	for (size_t k = 0; k < ff->n; k++)
		if (strcmp(ff->group[k], group) == 0 && step >= ff->step[k])
			return true;
	return false;
}

static bool group_any_failed(const struct fx_failed *ff, const char *group)
{
	for (size_t k = 0; k < ff->n; k++)
		if (strcmp(ff->group[k], group) == 0)
			return true;
	return false;
}

static void group_fail(struct fx_failed *ff, const char *group, unsigned step)
{
	if (ff->n < 64) {
		fx_copy(ff->group[ff->n], PLAN_GROUP_MAX, group);
		ff->step[ff->n++] = step;
	}
}

/* CHECK_MEMBERS as the executor makes it: both bdevs there now, unclaimed. */
static bool members_ok(const struct fx *f, const struct action *a)
{
	for (size_t k = 0; k < a->raid.n_bases; k++) {
		const struct obs_bdev *b = NULL;

		for (size_t i = 0; i < f->nb; i++)
			if (strcmp(f->bdevs[i].name, a->raid.bases[k]) == 0)
				b = &f->bdevs[i];
		if (!b || b->claimed)
			return false;
	}
	return true;
}

size_t fx_apply(struct fx *f, const struct plan *p, enum action_kind skip_kind)
{
	struct fx_failed *ff = calloc(1, sizeof(*ff));
	size_t n = 0;

	assert_non_null(ff);
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct action *a = &p->actions[i];

		/* The executor's rule: a failure stops the group's later steps; a group that
		 * awaits another one that failed does not start. */
		if (group_failed(ff, a->group, a->step))
			continue;
		if (a->kind == ACTION_AWAIT_PATH && group_any_failed(ff, a->object)) {
			group_fail(ff, a->group, 0);
			continue;
		}
		if (a->kind == skip_kind ||
		    (a->kind == ACTION_CHECK_MEMBERS && !members_ok(f, a))) {
			group_fail(ff, a->group, a->step + 1);
			continue;
		}
		apply_one(f, a);
		n++;
	}
	free(ff);
	return n;
}
