/* SPDX-License-Identifier: Apache-2.0 */
/*
 * drift's view of the models: evidence as JSON excerpts of what SPDK's list calls and the
 * database said, the names the database claims, and a copy of the observed graph the orphan
 * rounds take objects out of.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/drift_internal.h"
#include "reconcile/names.h"

const struct volume *drift_volume(const struct desired *d, uint64_t id)
{
	for (size_t i = 0; i < d->n_volumes; i++)
		if (d->volumes[i].id == id)
			return &d->volumes[i];
	return NULL;
}

const char *drift_state_name(enum mapping_state s)
{
	static const char *const n[] = {"ASSIGNED", "INITIALISED", "ATTACHED", "DETACH_REQUESTED",
					"DETACHED"};

	return (unsigned)s < 5 ? n[s] : "?";
}

static const char *path_state(enum ctrlr_state s)
{
	static const char *const n[] = {"enabled", "resetting", "reconnect_is_delayed",
					"failed",  "deleting",	"other"};

	return (unsigned)s <= CTRLR_OTHER ? n[s] : "other";
}

static json_t *ctrlr_json(const struct obs_controller *c)
{
	json_t *paths = json_array();

	for (size_t i = 0; i < c->n_paths; i++) {
		const struct obs_path *p = &c->paths[i];

		json_array_append_new(paths, json_pack("{s:s, s:s, s:s, s:s}", "traddr", p->traddr,
						       "trsvcid", p->trsvcid, "subnqn", p->subnqn,
						       "state", path_state(p->state)));
	}
	return json_pack("{s:s, s:s, s:o}", "method", "bdev_nvme_get_controllers", "name", c->name,
			 "paths", paths);
}

static json_t *raid_json(const struct obs_raid *r)
{
	json_t *bases = json_array();

	for (size_t i = 0; i < r->n_bases; i++)
		json_array_append_new(bases, r->bases[i].has_name ? json_string(r->bases[i].name)
								  : json_null());
	return json_pack("{s:s, s:s, s:s, s:s, s:b, s:i, s:o}", "method", "bdev_raid_get_bdevs",
			 "name", r->name, "uuid", r->uuid, "state", r->state, "superblock",
			 r->superblock, "num_base_bdevs_operational", (int)r->operational,
			 "base_bdevs", bases);
}

static json_t *bdev_json(const struct obs_bdev *b)
{
	return json_pack("{s:s, s:s, s:b, s:I, s:{s:I, s:I, s:I, s:I}}", "method", "bdev_get_bdevs",
			 "name", b->name, "claimed", b->claimed, "num_blocks",
			 (json_int_t)b->num_blocks, "assigned_rate_limits", "rw_ios_per_sec",
			 (json_int_t)b->qos.rw_ios_per_sec, "rw_mbytes_per_sec",
			 (json_int_t)b->qos.rw_mbytes_per_sec, "r_mbytes_per_sec",
			 (json_int_t)b->qos.r_mbytes_per_sec, "w_mbytes_per_sec",
			 (json_int_t)b->qos.w_mbytes_per_sec);
}

json_t *drift_live_json(const struct observed *o, const char *kind, const char *object)
{
	const struct obs_controller *c;
	const struct obs_raid *r;
	const struct obs_vhost *v;
	const struct obs_key *k;
	const struct obs_bdev *b;

	if ((!strcmp(kind, "controller") || !strcmp(kind, "path")) &&
	    (c = obs_ctrlr_find(o, object)))
		return ctrlr_json(c);
	if (!strcmp(kind, "raid") && (r = obs_raid_find(o, object)))
		return raid_json(r);
	if (!strcmp(kind, "vhost") && (v = obs_vhost_find(o, object)))
		return json_pack("{s:s, s:s, s:o, s:i}", "method", "vhost_get_controllers", "ctrlr",
				 v->name, "bdev", v->has_bdev ? json_string(v->bdev) : json_null(),
				 "sessions", (int)v->sessions);
	if (!strcmp(kind, "key") && (k = obs_key_find(o, object)))
		return json_pack("{s:s, s:s, s:s}", "method", "keyring_get_keys", "name", k->name,
				 "path", k->path);
	if ((!strcmp(kind, "member") || !strcmp(kind, "qos") || !strcmp(kind, "bdev")) &&
	    (b = obs_bdev_find(o, object)))
		return bdev_json(b);
	return json_null();
}

static const char *transport_name(enum transport_type t)
{
	return t == TRANSPORT_RDMA ? "RDMA" : t == TRANSPORT_TCP ? "TCP" : "PCIe";
}

json_t *drift_db_json(const struct desired *d, uint64_t volume_id, uint64_t mapping_id)
{
	const struct volume *v = volume_id ? drift_volume(d, volume_id) : NULL;
	json_t *maps, *reps;

	if (!v)
		return json_null();
	maps = json_array();
	for (size_t i = 0; i < d->n_mappings; i++) {
		const struct mapping *m = &d->mappings[i];

		if (m->volume_id == v->id && (!mapping_id || m->id == mapping_id))
			json_array_append_new(maps, json_pack("{s:I, s:s, s:s}", "id",
							      (json_int_t)m->id, "vm", m->vm,
							      "state", drift_state_name(m->state)));
	}
	reps = json_array();
	for (size_t i = 0; i < v->n_replicas; i++) {
		const struct replica *r = &v->replicas[i];

		json_array_append_new(reps, json_pack("{s:i, s:s, s:s, s:i, s:s, s:i, s:b, s:b}",
						      "slot", (int)r->slot, "transport",
						      transport_name(r->transport), "addr", r->addr,
						      "port", (int)r->port, "nqn", r->nqn, "nsid",
						      (int)(r->nsid ? r->nsid : 1), "pending",
						      r->pending, "in_sync", r->in_sync));
	}
	return json_pack("{s:I, s:I, s:o, s:o}", "volume", (json_int_t)v->id, "size_bytes",
			 (json_int_t)v->size_bytes, "mappings", maps, "replicas", reps);
}

bool drift_live_has(const struct observed *o, const char *name)
{
	return obs_ctrlr_find(o, name) || obs_raid_find(o, name) || obs_vhost_find(o, name) ||
	       obs_key_find(o, name);
}

size_t drift_live_count(const struct observed *o)
{
	return o->n_vhosts + o->n_raids + o->n_ctrlrs + o->n_keys;
}

const char *drift_live_name(const struct observed *o, size_t i)
{
	if (i < o->n_vhosts)
		return o->vhosts[i].name;
	i -= o->n_vhosts;
	if (i < o->n_raids)
		return o->raids[i].name;
	i -= o->n_raids;
	if (i < o->n_ctrlrs)
		return o->ctrlrs[i].name;
	return o->keys[i - o->n_ctrlrs].name;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int names_push(struct drift_names *s, size_t *cap, const char *name)
{
	if (s->n == *cap) {
		size_t c = *cap ? 2 * *cap : 32;
		void *v = realloc(s->v, c * sizeof(*s->v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		*cap = c;
	}
	snprintf(s->v[s->n++], MODEL_NAME_MAX, "%s", name);
	return 0;
}

int drift_claims(const struct desired *d, struct drift_names *out)
{
	struct drift_names s = {0};
	size_t cap = 0;
	char n[MODEL_NAME_MAX];
	int r = 0;

	for (size_t i = 0; i < d->n_mappings && r == 0; i++) {
		const struct mapping *m = &d->mappings[i];
		const struct volume *v = drift_volume(d, m->volume_id);

		if (m->state == MAPPING_DETACHED)
			continue;
		names_vhost(m->id, n, sizeof(n));
		r = names_push(&s, &cap, n);
		if (!v || r)
			continue;
		names_raid(v->id, n, sizeof(n));
		r = names_push(&s, &cap, n);
		for (size_t k = 0; k < v->n_replicas && r == 0; k++) {
			if (names_ctrlr(&v->replicas[k], n, sizeof(n)) == 0)
				r = names_push(&s, &cap, n);
			if (r == 0 && names_key(v->replicas[k].key_name, n, sizeof(n)) == 0)
				r = names_push(&s, &cap, n);
		}
	}
	if (r < 0) {
		free(s.v);
		return r;
	}
	if (s.n)
		qsort(s.v, s.n, sizeof(*s.v), cmp_name);
	*out = s;
	return 0;
}

bool drift_names_has(const struct drift_names *s, const char *name)
{
	return s->n && bsearch(name, s->v, s->n, sizeof(*s->v), cmp_name) != NULL;
}

void drift_names_free(struct drift_names *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void *dup_array(const void *src, size_t n, size_t sz)
{
	void *p = malloc((n ? n : 1) * sz);

	if (p && n)
		memcpy(p, src, n * sz);
	return p;
}

static int cmp_first_seen(const void *a, const void *b)
{
	return strcmp(((const struct obs_first_seen *)a)->name,
		      ((const struct obs_first_seen *)b)->name);
}

int drift_world_init(struct drift_world *w, const struct observed *o, int grace_s)
{
	size_t n = drift_live_count(o) + o->n_bdevs, k = 0;

	memset(w, 0, sizeof(*w));
	w->o = *o;
	w->ctrlrs = dup_array(o->ctrlrs, o->n_ctrlrs, sizeof(*o->ctrlrs));
	w->raids = dup_array(o->raids, o->n_raids, sizeof(*o->raids));
	w->vhosts = dup_array(o->vhosts, o->n_vhosts, sizeof(*o->vhosts));
	w->keys = dup_array(o->keys, o->n_keys, sizeof(*o->keys));
	w->bdevs = dup_array(o->bdevs, o->n_bdevs, sizeof(*o->bdevs));
	w->first_seen = calloc(n ? n : 1, sizeof(*w->first_seen));
	if (!w->ctrlrs || !w->raids || !w->vhosts || !w->keys || !w->bdevs || !w->first_seen) {
		drift_world_free(w);
		return -ENOMEM;
	}
	for (size_t i = 0; i < drift_live_count(o); i++)
		snprintf(w->first_seen[k++].name, MODEL_NAME_MAX, "%s", drift_live_name(o, i));
	for (size_t i = 0; i < o->n_bdevs; i++)
		snprintf(w->first_seen[k++].name, MODEL_NAME_MAX, "%s", o->bdevs[i].name);
	/* older than the grace by a second, whatever the pass's time */
	for (size_t i = 0; i < k; i++)
		w->first_seen[i].first_seen_s = o->now_s - grace_s - 1;
	qsort(w->first_seen, k, sizeof(*w->first_seen), cmp_first_seen);
	w->o.ctrlrs = w->ctrlrs;
	w->o.raids = w->raids;
	w->o.vhosts = w->vhosts;
	w->o.keys = w->keys;
	w->o.bdevs = w->bdevs;
	w->o.first_seen = w->first_seen;
	w->o.n_first_seen = k;
	return 0;
}

/* Take the element named name out of an array of n elements of size sz (name first). */
static size_t drop(void *base, size_t n, size_t sz, const char *name)
{
	char *p = base;

	for (size_t i = 0; i < n; i++)
		if (!strcmp(p + i * sz, name)) {
			memmove(p + i * sz, p + (i + 1) * sz, (n - i - 1) * sz);
			return n - 1;
		}
	return n;
}

void drift_world_remove(struct drift_world *w, const char *name)
{
	const struct obs_raid *r = obs_raid_find(&w->o, name);

	/* a deleted raid releases its members */
	for (size_t i = 0; r && i < r->n_bases; i++)
		for (size_t b = 0; b < w->o.n_bdevs; b++)
			if (r->bases[i].has_name && !strcmp(w->bdevs[b].name, r->bases[i].name))
				w->bdevs[b].claimed = false;
	w->o.n_vhosts = drop(w->vhosts, w->o.n_vhosts, sizeof(*w->vhosts), name);
	w->o.n_raids = drop(w->raids, w->o.n_raids, sizeof(*w->raids), name);
	w->o.n_ctrlrs = drop(w->ctrlrs, w->o.n_ctrlrs, sizeof(*w->ctrlrs), name);
	w->o.n_keys = drop(w->keys, w->o.n_keys, sizeof(*w->keys), name);
}

void drift_world_free(struct drift_world *w)
{
	free(w->ctrlrs);
	free(w->raids);
	free(w->vhosts);
	free(w->keys);
	free(w->bdevs);
	free(w->first_seen);
	memset(w, 0, sizeof(*w));
}
