/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plan_build: runs the stages for every volume in the order of the seed's loops (NVMe attach,
 * RAID ensure, resize, initialise, vhost attach; vhost detach, RAID detach) and then the orphan
 * sweep. Each stage plans only what the observed state allows now.
 */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/plan_internal.h"

void plan_copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

struct action *plan_emit(struct plan_ctx *ctx, struct vol_plan *vp, enum action_kind kind)
{
	struct plan *p = ctx->out;
	struct action *a;

	if (ctx->err)
		return NULL;
	if (p->n_actions == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct action *n = realloc(p->actions, cap * sizeof(*n));

		if (!n) {
			ctx->err = -ENOMEM;
			return NULL;
		}
		p->actions = n;
		p->cap = cap;
	}
	a = &p->actions[p->n_actions++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	if (vp) {
		plan_copy(a->group, sizeof(a->group), vp->group);
		a->step = vp->step;
		a->volume_id = vp->v ? vp->v->id : vp->volume_id;
		vp->dirty = true;
	}
	return a;
}

void plan_barrier(struct vol_plan *vp)
{
	if (vp->dirty) {
		vp->step++;
		vp->dirty = false;
	}
}

static void vmessage(struct action *a, const char *fmt, va_list ap)
{
	vsnprintf(a->message, sizeof(a->message), fmt, ap);
}

void plan_status(struct plan_ctx *ctx, struct vol_plan *vp, uint64_t mapping_id, const char *fmt,
		 ...)
{
	struct action *a = plan_emit(ctx, vp, ACTION_SET_STATUS);
	va_list ap;

	vp->stopped = true;
	if (!a)
		return;
	a->mapping_id = mapping_id;
	va_start(ap, fmt);
	vmessage(a, fmt, ap);
	va_end(ap);
}

void plan_note(struct plan_ctx *ctx, struct vol_plan *vp, const char *fmt, ...)
{
	struct action *a = plan_emit(ctx, vp, ACTION_SET_STATUS);
	va_list ap;

	if (!a)
		return;
	va_start(ap, fmt);
	vmessage(a, fmt, ap);
	va_end(ap);
}

void plan_conflict(struct plan_ctx *ctx, struct vol_plan *vp, const char *object, const char *fmt,
		   ...)
{
	struct action *a = plan_emit(ctx, vp, ACTION_REPORT_CONFLICT);
	va_list ap;

	vp->stopped = true;
	if (!a)
		return;
	plan_copy(a->object, sizeof(a->object), object);
	va_start(ap, fmt);
	vmessage(a, fmt, ap);
	va_end(ap);
}

/*
 * Find name in an array of n elements of size sz whose name is at offset 0 of each element:
 * bisect when the observer sorted the arrays, scan otherwise.
 */
static const void *find_named(const void *base, size_t n, size_t sz, bool sorted, const char *name)
{
	const char *p = base;

	if (!sorted) {
		for (size_t i = 0; i < n; i++)
			if (strcmp(p + i * sz, name) == 0)
				return p + i * sz;
		return NULL;
	}
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(p + mid * sz, name);
		if (c == 0)
			return p + mid * sz;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The name must be each struct's first member for find_named. */
_Static_assert(offsetof(struct obs_controller, name) == 0, "name first");
_Static_assert(offsetof(struct obs_bdev, name) == 0, "name first");
_Static_assert(offsetof(struct obs_raid, name) == 0, "name first");
_Static_assert(offsetof(struct obs_vhost, name) == 0, "name first");
_Static_assert(offsetof(struct obs_key, name) == 0, "name first");
_Static_assert(offsetof(struct obs_first_seen, name) == 0, "name first");
_Static_assert(offsetof(struct obs_flap, ctrlr) == 0, "name first");

const struct obs_controller *obs_ctrlr_find(const struct observed *o, const char *name)
{
	return find_named(o->ctrlrs, o->n_ctrlrs, sizeof(*o->ctrlrs), o->sorted, name);
}

bool obs_bdev_known(const struct observed *o, const char *name)
{
	if (o->bdevs_listed)
		return true;
	for (size_t i = 0; i < o->n_bdevs_read; i++)
		if (strcmp(o->bdevs_read[i].name, name) == 0)
			return true;
	return false;
}

const struct obs_bdev *obs_bdev_find(const struct observed *o, const char *name)
{
	if (!obs_bdev_known(o, name))
		return NULL; /* not read this pass: the callers wait, none takes it as absent */
	return find_named(o->bdevs, o->n_bdevs, sizeof(*o->bdevs), o->sorted, name);
}

const struct obs_flap *obs_flap_find(const struct observed *o, const char *ctrlr)
{
	return find_named(o->flaps, o->n_flaps, sizeof(*o->flaps), o->sorted, ctrlr);
}

bool obs_ctrlr_given_up(const struct observed *o, const char *ctrlr)
{
	const struct obs_flap *f = obs_flap_find(o, ctrlr);

	return f && f->given_up;
}

const struct obs_raid *obs_raid_find(const struct observed *o, const char *name)
{
	return find_named(o->raids, o->n_raids, sizeof(*o->raids), o->sorted, name);
}

const struct obs_vhost *obs_vhost_find(const struct observed *o, const char *name)
{
	return find_named(o->vhosts, o->n_vhosts, sizeof(*o->vhosts), o->sorted, name);
}

const struct obs_key *obs_key_find(const struct observed *o, const char *name)
{
	return find_named(o->keys, o->n_keys, sizeof(*o->keys), o->sorted, name);
}

int64_t obs_age(const struct observed *o, const char *name)
{
	const struct obs_first_seen *f =
		find_named(o->first_seen, o->n_first_seen, sizeof(*o->first_seen), o->sorted, name);

	return f ? o->now_s - f->first_seen_s : -1;
}

bool obs_raid_has_base(const struct obs_raid *r, const char *name)
{
	for (size_t i = 0; i < r->n_bases; i++)
		if (r->bases[i].has_name && strcmp(r->bases[i].name, name) == 0)
			return true;
	return false;
}

bool obs_ctrlr_resetting(const struct obs_controller *c)
{
	for (size_t i = 0; i < c->n_paths; i++)
		if (c->paths[i].state == CTRLR_RESETTING)
			return true;
	return false;
}

static bool state_live(enum mapping_state s)
{
	return s == MAPPING_ASSIGNED || s == MAPPING_INITIALISED || s == MAPPING_ATTACHED;
}

bool desired_volume_live(const struct desired *d, uint64_t volume_id)
{
	for (size_t i = 0; i < d->n_mappings; i++)
		if (d->mappings[i].volume_id == volume_id && state_live(d->mappings[i].state))
			return true;
	return false;
}

bool desired_volume_claimed(const struct desired *d, uint64_t volume_id)
{
	for (size_t i = 0; i < d->n_mappings; i++)
		if (d->mappings[i].volume_id == volume_id &&
		    d->mappings[i].state != MAPPING_DETACHED)
			return true;
	return false;
}

const struct volume *desired_volume_find(const struct desired *d, uint64_t id)
{
	for (size_t i = 0; i < d->n_volumes; i++)
		if (d->volumes[i].id == id)
			return &d->volumes[i];
	return NULL;
}

void plan_vol_init(struct plan_ctx *ctx, struct vol_plan *vp, const struct volume *v)
{
	memset(vp, 0, sizeof(*vp));
	vp->v = v;
	vp->volume_id = v->id;
	vp->member[0] = vp->member[1] = vp->pending[0] = vp->pending[1] = -1;
	snprintf(vp->group, sizeof(vp->group), "volume:%" PRIu64, v->id);
	names_raid(v->id, vp->raid, sizeof(vp->raid));
	if (v->n_replicas > MODEL_REPLICAS_MAX) {
		plan_status(ctx, vp, 0, "volume %" PRIu64 " has %zu replicas, at most %d supported",
			    v->id, v->n_replicas, MODEL_REPLICAS_MAX);
		return;
	}
	for (size_t i = 0; i < v->n_replicas; i++) {
		const struct replica *r = &v->replicas[i];
		int *slot_ref;

		if (names_ctrlr(r, vp->ctrlr[i], sizeof(vp->ctrlr[i])) != 0) {
			plan_status(ctx, vp, 0, "volume %" PRIu64 " replica %zu: %s", v->id, i,
				    r->transport == TRANSPORT_PCIE
					    ? "PCI address is not of the form DDDD:BB:DD.F"
					    : "subsystem NQN is empty");
			return;
		}
		names_ns_bdev(vp->ctrlr[i], r->nsid, vp->bdev[i], sizeof(vp->bdev[i]));
		if (r->slot > 1) {
			plan_status(ctx, vp, 0,
				    "volume %" PRIu64 " replica %zu: slot %u (want 0 or 1)", v->id,
				    i, r->slot);
			return;
		}
		slot_ref = r->pending ? &vp->pending[r->slot] : &vp->member[r->slot];
		if (*slot_ref >= 0) {
			plan_status(ctx, vp, 0, "volume %" PRIu64 " has two %s replicas in slot %u",
				    v->id, r->pending ? "pending" : "member", r->slot);
			return;
		}
		*slot_ref = (int)i;
	}
	if (vp->member[0] < 0 || vp->member[1] < 0)
		plan_status(ctx, vp, 0,
			    "volume %" PRIu64 " needs one member replica in each of slots 0 and 1",
			    v->id);
}

/* Does any controller of the volume reset? Then nothing of it changes in this pass. */
static bool vol_resetting(struct plan_ctx *ctx, const struct vol_plan *vp)
{
	for (size_t i = 0; i < vp->v->n_replicas; i++) {
		const struct obs_controller *c = obs_ctrlr_find(ctx->o, vp->ctrlr[i]);

		if (c && obs_ctrlr_resetting(c))
			return true;
	}
	return false;
}

/*
 * Design invariant 4a: a mapping never reads ATTACHED while its vhost controller is missing
 * without its status saying so. Called when the raid does not serve, so nothing re-creates it
 * in this pass.
 */
static void vhosts_missing_note(struct plan_ctx *ctx, struct vol_plan *vp)
{
	const struct desired *d = ctx->d;

	for (size_t i = 0; i < d->n_mappings; i++) {
		const struct mapping *m = &d->mappings[i];
		const struct obs_vhost *vh;
		char name[MODEL_NAME_MAX];

		if (m->volume_id != vp->v->id || m->state != MAPPING_ATTACHED)
			continue;
		names_vhost(m->id, name, sizeof(name));
		vh = obs_vhost_find(ctx->o, name);
		if (vh && vh->has_bdev)
			continue;
		plan_note(ctx, vp, "%s is %s: VM %s has no disk until %s serves", name,
			  vh ? "left without its bdev" : "missing", m->vm, vp->raid);
	}
}

static void plan_volume_live(struct plan_ctx *ctx, struct vol_plan *vp)
{
	const struct desired *d = ctx->d;
	/*
	 * The raid stage runs even while a path is missing: a degraded raid still serves, gets
	 * its lost member back when the bdev returns, and the layers above it are kept whole.
	 * It creates a raid only when both members' bdevs are observed.
	 */
	plan_nvme_attach(ctx, vp);
	if (vp->stopped)
		return;
	if (!plan_raid_ensure(ctx, vp) || vp->stopped) {
		vhosts_missing_note(ctx, vp);
		return;
	}
	/* a resize works from the raid's observed members: never ahead of them */
	if (!vp->ahead)
		plan_resize(ctx, vp);
	if (vp->stopped)
		return;
	/*
	 * A mapping whose INITIALISED is recorded by this chain goes on to its vhost after that
	 * step (the barrier): the vhost never appears before the database says the content is
	 * ready, and the next pass does not have to observe the raid again to get there.
	 */
	uint64_t inited = 0; /* bit k: the volume's k-th mapping becomes INITIALISED here */
	bool serving = false;
	unsigned k = 0;

	for (size_t i = 0; i < d->n_mappings; i++) {
		const struct mapping *m = &d->mappings[i];

		if (m->volume_id != vp->v->id)
			continue;
		if (m->state == MAPPING_ASSIGNED && plan_initialise(ctx, vp, m) && k < 64)
			inited |= 1ull << k;
		if (m->state == MAPPING_INITIALISED || m->state == MAPPING_ATTACHED ||
		    (k < 64 && (inited >> k & 1)))
			serving = true;
		k++;
	}
	if (inited)
		plan_barrier(vp);
	plan_qos(ctx, vp, serving);
	k = 0;
	for (size_t i = 0; i < d->n_mappings; i++) {
		const struct mapping *m = &d->mappings[i];
		enum mapping_state st = m->state;

		if (m->volume_id != vp->v->id)
			continue;
		if (k < 64 && (inited >> k & 1))
			st = MAPPING_INITIALISED;
		k++;
		if (st == MAPPING_INITIALISED || st == MAPPING_ATTACHED)
			plan_vhost_attach(ctx, vp, m, st);
	}
}

/* A mapping leaves while the volume stays served by another mapping: only its vhost goes. */
static void plan_mapping_leave(struct plan_ctx *ctx, const struct volume *v,
			       const struct mapping *m)
{
	struct vol_plan mp;
	struct action *a;

	memset(&mp, 0, sizeof(mp));
	mp.v = v;
	mp.volume_id = v->id;
	snprintf(mp.group, sizeof(mp.group), "mapping:%" PRIu64, m->id);
	if (!plan_vhost_detach(ctx, &mp, m))
		return;
	a = plan_emit(ctx, &mp, ACTION_MAPPING_ADVANCE);
	if (a) {
		a->mapping_id = m->id;
		a->from = MAPPING_DETACH_REQUESTED;
		a->to = MAPPING_DETACHED;
	}
}

static void plan_volume_teardown(struct plan_ctx *ctx, struct vol_plan *vp, uint64_t volume_id)
{
	const struct desired *d = ctx->d;
	bool vhosts_gone = true;

	for (size_t i = 0; i < d->n_mappings; i++) {
		const struct mapping *m = &d->mappings[i];

		if (m->volume_id == volume_id && m->state == MAPPING_DETACH_REQUESTED)
			vhosts_gone &= plan_vhost_detach(ctx, vp, m);
	}
	/* The gate: lower layers go only once no vhost controller of the volume is observed. */
	if (vhosts_gone)
		plan_raid_detach(ctx, vp, volume_id);
}

static void plan_unknown_volumes(struct plan_ctx *ctx)
{
	const struct desired *d = ctx->d;

	for (size_t i = 0; i < d->n_mappings; i++) {
		const struct mapping *m = &d->mappings[i];
		struct vol_plan vp;
		bool seen = false;

		if (desired_volume_find(d, m->volume_id))
			continue;
		if (m->state == MAPPING_DETACHED)
			continue;
		memset(&vp, 0, sizeof(vp));
		vp.member[0] = vp.member[1] = vp.pending[0] = vp.pending[1] = -1;
		vp.volume_id = m->volume_id;
		snprintf(vp.group, sizeof(vp.group), "volume:%" PRIu64, m->volume_id);
		names_raid(m->volume_id, vp.raid, sizeof(vp.raid));
		if (m->state != MAPPING_DETACH_REQUESTED) {
			plan_status(ctx, &vp, m->id,
				    "mapping %" PRIu64 ": volume %" PRIu64
				    " is not in the desired state",
				    m->id, m->volume_id);
			continue;
		}
		/* Teardown once per volume: only for the first DETACH_REQUESTED mapping. */
		for (size_t j = 0; j < i; j++)
			if (d->mappings[j].volume_id == m->volume_id &&
			    d->mappings[j].state == MAPPING_DETACH_REQUESTED)
				seen = true;
		if (!seen && !desired_volume_live(d, m->volume_id))
			plan_volume_teardown(ctx, &vp, m->volume_id);
	}
}

int plan_build(const struct desired *d, const struct observed *o, const struct host_facts *hf,
	       struct plan *out)
{
	struct plan p = {0};
	struct plan_ctx ctx = {.d = d, .o = o, .hf = hf, .out = &p};

	if (!d || !o || !out)
		return -EINVAL;
	p.reset_in_progress = !plan_bdev_listing_safe(o->ctrlrs, o->n_ctrlrs);

	for (size_t i = 0; i < d->n_volumes; i++) {
		const struct volume *v = &d->volumes[i];
		bool live = desired_volume_live(d, v->id);
		bool leaving = false;
		struct vol_plan vp;

		for (size_t j = 0; j < d->n_mappings; j++)
			if (d->mappings[j].volume_id == v->id &&
			    d->mappings[j].state == MAPPING_DETACH_REQUESTED)
				leaving = true;
		if (!live && !leaving)
			continue;
		plan_vol_init(&ctx, &vp, v);
		if (vp.stopped)
			continue;
		if (vol_resetting(&ctx, &vp)) {
			/* nothing changes in SPDK, but what the raid reports is recorded */
			if (live)
				plan_raid_sync(&ctx, &vp);
			continue;
		}
		if (!live) {
			plan_volume_teardown(&ctx, &vp, v->id);
			continue;
		}
		plan_volume_live(&ctx, &vp);
		for (size_t j = 0; j < d->n_mappings; j++)
			if (d->mappings[j].volume_id == v->id &&
			    d->mappings[j].state == MAPPING_DETACH_REQUESTED)
				plan_mapping_leave(&ctx, v, &d->mappings[j]);
	}
	plan_unknown_volumes(&ctx);
	plan_orphans(&ctx);
	if (ctx.err) {
		free(p.actions);
		return ctx.err;
	}
	*out = p;
	return 0;
}

bool plan_bdev_listing_safe(const struct obs_controller *ctrlrs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (obs_ctrlr_resetting(&ctrlrs[i]))
			return false;
	return true;
}

void plan_free(struct plan *p)
{
	free(p->actions);
	p->actions = NULL;
	p->n_actions = p->cap = 0;
}
