/* SPDX-License-Identifier: Apache-2.0 */
#include "reconcile/observe_want.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reconcile/plan_internal.h"

struct name_list {
	struct obs_name *v;
	size_t n, cap;
};

static int name_add(struct name_list *l, const char *name)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct obs_name *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	plan_copy(l->v[l->n++].name, sizeof(l->v[0].name), name);
	return 0;
}

/* SPDK rounds IOPS limits up to a multiple of 1000, as plan_qos expects. */
static bool qos_as_wanted(const struct qos_limits *want, const struct qos_limits *seen)
{
	return (want->rw_ios_per_sec + 999) / 1000 * 1000 == seen->rw_ios_per_sec &&
	       want->rw_mbytes_per_sec == seen->rw_mbytes_per_sec &&
	       want->r_mbytes_per_sec == seen->r_mbytes_per_sec &&
	       want->w_mbytes_per_sec == seen->w_mbytes_per_sec;
}

static bool qos_seen_ok(const struct volume *v, const struct obs_qos_seen *qos, size_t n_qos)
{
	for (size_t i = 0; i < n_qos; i++)
		if (qos[i].volume_id == v->id)
			return qos_as_wanted(&v->qos, &qos[i].qos);
	return false;
}

static bool raid_base_configured(const struct obs_raid *r, const char *name)
{
	for (size_t i = 0; i < r->n_bases; i++)
		if (r->bases[i].has_name && r->bases[i].is_configured &&
		    strcmp(r->bases[i].name, name) == 0)
			return true;
	return false;
}

/* Served and whole, with nothing for the planner to change that needs a bdev's fields. */
static bool volume_settled(const struct desired *d, const struct observed *o,
			   const struct volume *v, char bdev[][MODEL_NAME_MAX], const char *raid)
{
	const struct obs_raid *r = obs_raid_find(o, raid);

	if (v->resizing || !r || strcmp(r->state, "online") != 0 || r->has_process ||
	    r->operational < r->n_bases)
		return false;
	for (size_t i = 0; i < v->n_replicas; i++)
		if (v->replicas[i].pending || !raid_base_configured(r, bdev[i]))
			return false;
	for (size_t i = 0; i < d->n_mappings; i++) {
		const struct mapping *m = &d->mappings[i];
		const struct obs_vhost *vh;
		char name[MODEL_NAME_MAX];

		if (m->volume_id != v->id)
			continue;
		if (m->state == MAPPING_ASSIGNED || m->state == MAPPING_INITIALISED)
			return false;
		if (m->state != MAPPING_ATTACHED)
			continue; /* a mapping that leaves needs only its vhost */
		names_vhost(m->id, name, sizeof(name));
		vh = obs_vhost_find(o, name);
		if (!vh || !vh->has_bdev || strcmp(vh->bdev, raid) != 0)
			return false;
	}
	return true;
}

static int volume_want(const struct desired *d, const struct observed *o, const struct volume *v,
		       const struct obs_qos_seen *qos, size_t n_qos, struct name_list *l)
{
	char ctrlr[MODEL_REPLICAS_MAX][MODEL_NAME_MAX];
	char bdev[MODEL_REPLICAS_MAX][MODEL_NAME_MAX];
	bool listed[MODEL_REPLICAS_MAX] = {false};
	char raid[MODEL_NAME_MAX];
	int r = 0;

	if (v->n_replicas > MODEL_REPLICAS_MAX)
		return 0; /* the planner stops it */
	names_raid(v->id, raid, sizeof(raid));
	for (size_t i = 0; i < v->n_replicas; i++) {
		const struct obs_controller *c;

		bdev[i][0] = '\0';
		if (names_ctrlr(&v->replicas[i], ctrlr[i], sizeof(ctrlr[i])) != 0)
			continue;
		names_ns_bdev(ctrlr[i], v->replicas[i].nsid, bdev[i], sizeof(bdev[i]));
		c = obs_ctrlr_find(o, ctrlr[i]);
		if (c && obs_ctrlr_resetting(c))
			return 0; /* frozen for this pass (plan_build changes nothing of it) */
		listed[i] = c != NULL;
	}
	if (volume_settled(d, o, v, bdev, raid)) {
		if (qos_seen_ok(v, qos, n_qos))
			return 0;
		return name_add(l, raid);
	}
	if (obs_raid_find(o, raid))
		r = name_add(l, raid);
	for (size_t i = 0; i < v->n_replicas && r == 0; i++)
		if (listed[i])
			r = name_add(l, bdev[i]);
	return r;
}

int observe_want_bdevs(const struct desired *d, const struct observed *o,
		       const struct obs_qos_seen *qos, size_t n_qos, struct obs_name **out,
		       size_t *n_out)
{
	struct name_list l = {0};

	for (size_t i = 0; i < d->n_volumes; i++) {
		if (!desired_volume_live(d, d->volumes[i].id))
			continue; /* teardown needs no bdev's fields */
		if (volume_want(d, o, &d->volumes[i], qos, n_qos, &l) < 0) {
			free(l.v);
			return -ENOMEM;
		}
	}
	/*
	 * A raid diskengine created (its UUID says so) that nothing claims is an orphan
	 * candidate: whether something else holds its bdev decides whether it may go.
	 */
	for (size_t i = 0; i < o->n_raids; i++) {
		char want[40];
		uint64_t id;

		if (names_classify(o->raids[i].name, &id) != NAME_RAID ||
		    desired_volume_claimed(d, id))
			continue;
		names_raid_uuid(id, want, sizeof(want));
		if (strcasecmp(o->raids[i].uuid, want) != 0)
			continue;
		if (name_add(&l, o->raids[i].name) < 0) {
			free(l.v);
			return -ENOMEM;
		}
	}
	*out = l.v;
	*n_out = l.n;
	return 0;
}

int observe_qos_seen_update(const struct observed *o, const struct obs_qos_seen *old, size_t n_old,
			    struct obs_qos_seen **out, size_t *n_out)
{
	struct obs_qos_seen *v = calloc(o->n_raids + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < o->n_raids; i++) {
		const char *name = o->raids[i].name;
		const struct obs_bdev *b;
		uint64_t id;

		if (names_classify(name, &id) != NAME_RAID)
			continue;
		b = obs_bdev_known(o, name) ? obs_bdev_find(o, name) : NULL;
		if (b) {
			v[n++] = (struct obs_qos_seen){.volume_id = id, .qos = b->qos};
			continue;
		}
		if (obs_bdev_known(o, name))
			continue; /* read and absent */
		for (size_t k = 0; k < n_old; k++)
			if (old[k].volume_id == id)
				v[n++] = old[k];
	}
	*out = v;
	*n_out = n;
	return 0;
}
