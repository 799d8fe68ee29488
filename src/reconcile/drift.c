/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Live SPDK against the database, judged by the planner: what the next pass would create is
 * missing, what it would remove (or, once old enough, what its orphan rules remove) is an orphan,
 * what it refuses to touch under a name it wants is a conflict. Asking plan_build instead of
 * re-deriving the rules keeps drift's answer what the daemon actually does.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/drift.h"
#include "reconcile/drift_internal.h"
#include "reconcile/names.h"

/* Orphan teardown is vhost, raid, controller, key: four rounds, and one to see nothing is left. */
#define DRIFT_ORPHAN_ROUNDS 5

static const char *const class_names[DRIFT_CLASS_COUNT] = {
	[DRIFT_REPLAY_ARTEFACT] = "replay_artefact",
	[DRIFT_MISSING] = "missing",
	[DRIFT_ORPHAN] = "orphan",
	[DRIFT_CONFLICT] = "conflict",
	[DRIFT_FOREIGN] = "foreign",
};

const char *drift_class_name(enum drift_class c)
{
	return (unsigned)c < DRIFT_CLASS_COUNT ? class_names[c] : "?";
}

struct drift_item *drift_add(struct drift_report *r, enum drift_class cls, const char *kind,
			     const char *object)
{
	struct drift_item *it;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct drift_item *v = realloc(r->items, cap * sizeof(*v));

		if (!v)
			return NULL;
		r->items = v;
		r->cap = cap;
	}
	it = &r->items[r->n];
	memset(it, 0, sizeof(*it));
	it->evidence = json_object();
	if (!it->evidence)
		return NULL;
	it->cls = cls;
	it->kind = kind;
	snprintf(it->object, sizeof(it->object), "%s", object);
	r->n++;
	return it;
}

struct drift_item *drift_find(struct drift_report *r, const char *kind, const char *object)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->items[i].kind, kind) && !strcmp(r->items[i].object, object))
			return &r->items[i];
	return NULL;
}

void drift_report_free(struct drift_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		json_decref(r->items[i].evidence);
	free(r->items);
	memset(r, 0, sizeof(*r));
}

void drift_text(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* The kind of item an object's name makes it. */
static const char *kind_of(const char *name)
{
	switch (names_classify(name, NULL)) {
	case NAME_CTRLR_FABRIC:
	case NAME_CTRLR_PCIE:
		return "controller";
	case NAME_RAID:
		return "raid";
	case NAME_VHOST:
		return "vhost";
	case NAME_KEY:
		return "key";
	default:
		return "bdev";
	}
}

/* The status messages the plan gives a volume, joined: why it is held back. */
static void volume_status(const struct plan *p, uint64_t volume_id, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->n_actions && used + 1 < size; i++) {
		const struct action *a = &p->actions[i];

		if (a->kind != ACTION_SET_STATUS || a->volume_id != volume_id || !a->message[0])
			continue;
		used += snprintf(buf + used, size - used, "%s%s", used ? "; " : "", a->message);
	}
}

static bool volume_detach_requested(const struct desired *d, uint64_t volume_id)
{
	for (size_t i = 0; i < d->n_mappings; i++)
		if (d->mappings[i].volume_id == volume_id &&
		    d->mappings[i].state == MAPPING_DETACH_REQUESTED)
			return true;
	return false;
}

/* An item about an object the plan names, with the evidence both sides have of it. */
static struct drift_item *item_for(struct drift_ctx *x, enum drift_class cls, const char *kind,
				   const char *object, const struct action *a)
{
	struct drift_item *it = drift_find(x->out, kind, object);

	if (it)
		return NULL; /* already told */
	it = drift_add(x->out, cls, kind, object);
	if (!it) {
		x->err = -ENOMEM;
		return NULL;
	}
	if (a) {
		it->volume_id = a->volume_id;
		it->mapping_id = a->mapping_id;
	}
	json_object_set_new(it->evidence, "live", drift_live_json(x->o, kind, object));
	json_object_set_new(it->evidence, "database",
			    drift_db_json(x->d, it->volume_id, it->mapping_id));
	return it;
}

static void next_pass(struct drift_item *it, const struct action *a, const char *what)
{
	char line[PLAN_MSG_MAX];

	plan_action_describe(a, line, sizeof(line));
	drift_text(it->next, sizeof(it->next), "the next pass %s (%s)", what, line);
}

/* What the next pass creates, removes or refuses. */
static void from_next_pass(struct drift_ctx *x, const struct plan *p)
{
	const struct observed *o = x->o;

	for (size_t i = 0; i < p->n_actions && !x->err; i++) {
		const struct action *a = &p->actions[i];
		bool orphan_group = !strncmp(a->group, "orphan:", 7);
		struct drift_item *it = NULL;

		switch (a->kind) {
		case ACTION_REPORT_CONFLICT:
			it = item_for(x, DRIFT_CONFLICT, kind_of(a->object), a->object, a);
			if (!it)
				break;
			drift_text(it->detail, sizeof(it->detail), "%s", a->message);
			drift_text(
				it->next, sizeof(it->next),
				"the daemon never touches it and holds volume %" PRIu64
				" back: rename or remove the other object, or correct the database",
				a->volume_id);
			break;
		case ACTION_ATTACH_PATH:
			if (obs_ctrlr_find(o, a->object)) {
				it = item_for(x, DRIFT_MISSING, "path", a->object, a);
				if (it)
					drift_text(it->detail, sizeof(it->detail),
						   "%s has no path to %s:%s", a->object,
						   a->path.traddr, a->path.trsvcid);
			} else {
				it = item_for(x, DRIFT_MISSING, "controller", a->object, a);
				if (it)
					drift_text(it->detail, sizeof(it->detail),
						   "%s (%s %s:%s) is not attached", a->object,
						   a->path.trtype, a->path.traddr, a->path.trsvcid);
			}
			if (it)
				next_pass(it, a, "attaches it");
			break;
		case ACTION_ADD_KEY:
			if ((it = item_for(x, DRIFT_MISSING, "key", a->object, a))) {
				drift_text(it->detail, sizeof(it->detail),
					   "keyring key %s (%s) is not loaded", a->object,
					   a->key.path);
				next_pass(it, a, "adds it");
			}
			break;
		case ACTION_CREATE_RAID:
		case ACTION_WAIT_RAID_ASSEMBLY:
			if (obs_raid_find(o, a->object))
				break;
			if ((it = item_for(x, DRIFT_MISSING, "raid", a->object, a))) {
				drift_text(it->detail, sizeof(it->detail), "%s does not exist",
					   a->object);
				next_pass(it, a,
					  a->kind == ACTION_CREATE_RAID
						  ? "creates it"
						  : "waits for SPDK to reassemble it from its "
						    "members' superblock");
			}
			break;
		case ACTION_ADD_RAID_BASE:
			if ((it = item_for(x, DRIFT_MISSING, "member", a->raid.base, a))) {
				drift_text(it->detail, sizeof(it->detail),
					   "%s is not a member of %s: the raid is degraded",
					   a->raid.base, a->object);
				next_pass(it, a, "re-adds it and SPDK rebuilds it");
			}
			break;
		case ACTION_SET_QOS:
			if (!obs_raid_find(o, a->object))
				break; /* part of creating the raid */
			if ((it = item_for(x, DRIFT_MISSING, "qos", a->object, a))) {
				drift_text(it->detail, sizeof(it->detail),
					   "%s's QoS limits are not the database's", a->object);
				next_pass(it, a, "sets them");
			}
			break;
		case ACTION_CREATE_VHOST:
			if ((it = item_for(x, DRIFT_MISSING, "vhost", a->object, a))) {
				drift_text(it->detail, sizeof(it->detail),
					   "%s does not exist: the VM has no disk", a->object);
				next_pass(it, a, "creates it under its old name");
			}
			break;
		case ACTION_DELETE_VHOST:
		case ACTION_DELETE_RAID:
		case ACTION_DETACH_CONTROLLER:
		case ACTION_DETACH_PATH:
		case ACTION_REMOVE_KEY:
			if (orphan_group || !drift_live_has(o, a->object))
				break;
			it = item_for(x, DRIFT_ORPHAN,
				      a->kind == ACTION_DETACH_PATH ? "path" : kind_of(a->object),
				      a->object, a);
			if (!it)
				break;
			if (volume_detach_requested(x->d, a->volume_id))
				drift_text(it->detail, sizeof(it->detail),
					   "volume %" PRIu64 " is detach requested on this host",
					   a->volume_id);
			else
				drift_text(it->detail, sizeof(it->detail),
					   "volume %" PRIu64 " no longer wants it", a->volume_id);
			next_pass(it, a, "removes it");
			break;
		default:
			break;
		}
	}
}

static bool volume_told(const struct drift_report *r, uint64_t volume_id)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->items[i].volume_id == volume_id)
			return true;
	return false;
}

/*
 * A mapping whose database state lags what SPDK already has (a crash between the last call and
 * the record, an edited row): the next pass only records it. A mapping that advances after the
 * pass built something is not a difference of its own: the objects it builds are told above.
 */
static void records(struct drift_ctx *x, const struct plan *p)
{
	for (size_t i = 0; i < p->n_actions && !x->err; i++) {
		const struct action *a = &p->actions[i];
		struct drift_item *it;
		char name[32];

		if (a->kind != ACTION_MAPPING_ADVANCE || volume_told(x->out, a->volume_id))
			continue;
		snprintf(name, sizeof(name), "mapping %" PRIu64, a->mapping_id);
		if (!(it = item_for(x, DRIFT_MISSING, "mapping", name, a)))
			continue;
		json_object_set_new(it->evidence, "live", json_null());
		drift_text(it->detail, sizeof(it->detail),
			   "the database still says %s, SPDK is already where %s is",
			   drift_state_name(a->from), drift_state_name(a->to));
		next_pass(it, a, "records it");
	}
}

/* Members of a live raid the database wants in it, which the next pass does not re-add. */
static void held_back_members(struct drift_ctx *x, const struct volume *v, const struct action *a,
			      const char *why)
{
	char raid[MODEL_NAME_MAX], ctrlr[MODEL_NAME_MAX], ns[MODEL_NAME_MAX];
	const struct obs_raid *r;
	struct drift_item *it;

	names_raid(v->id, raid, sizeof(raid));
	if (!(r = obs_raid_find(x->o, raid)))
		return;
	for (size_t k = 0; k < v->n_replicas && !x->err; k++) {
		if (v->replicas[k].pending || names_ctrlr(&v->replicas[k], ctrlr, sizeof(ctrlr)))
			continue;
		names_ns_bdev(ctrlr, v->replicas[k].nsid ? v->replicas[k].nsid : 1, ns, sizeof(ns));
		if (obs_raid_has_base(r, ns) || !(it = item_for(x, DRIFT_MISSING, "member", ns, a)))
			continue;
		drift_text(it->detail, sizeof(it->detail),
			   "%s is not a member of %s: the raid is degraded", ns, raid);
		drift_text(it->next, sizeof(it->next), "held back: %s",
			   why[0] ? why : "nothing planned this pass");
	}
}

/* Objects the database wants that SPDK lacks and the next pass does not create: held back. */
static void held_back(struct drift_ctx *x, const struct plan *p)
{
	const struct desired *d = x->d;
	char name[MODEL_NAME_MAX], why[PLAN_MSG_MAX];

	for (size_t i = 0; i < d->n_mappings && !x->err; i++) {
		const struct mapping *m = &d->mappings[i];
		const struct volume *v = drift_volume(d, m->volume_id);
		struct drift_item *it;
		struct action a = {.volume_id = m->volume_id, .mapping_id = m->id};

		if (!v || m->state > MAPPING_ATTACHED)
			continue;
		volume_status(p, v->id, why, sizeof(why));
		for (size_t k = 0; k < v->n_replicas && !x->err; k++) {
			if (v->replicas[k].pending ||
			    names_ctrlr(&v->replicas[k], name, sizeof(name)))
				continue;
			if (obs_ctrlr_find(x->o, name) ||
			    !(it = item_for(x, DRIFT_MISSING, "controller", name, &a)))
				continue;
			drift_text(it->detail, sizeof(it->detail), "%s (%s:%u) is not attached",
				   name, v->replicas[k].addr, v->replicas[k].port);
			drift_text(it->next, sizeof(it->next), "held back: %s",
				   why[0] ? why : "nothing planned this pass");
		}
		if (m->state == MAPPING_ASSIGNED)
			continue; /* the raid and the vhost come in its chain */
		names_raid(v->id, name, sizeof(name));
		if (!obs_raid_find(x->o, name) &&
		    (it = item_for(x, DRIFT_MISSING, "raid", name, &a))) {
			drift_text(it->detail, sizeof(it->detail),
				   "%s does not exist, the database says mapping %" PRIu64 " is %s",
				   name, m->id, drift_state_name(m->state));
			drift_text(it->next, sizeof(it->next), "held back: %s",
				   why[0] ? why : "nothing planned this pass");
		}
		held_back_members(x, v, &a, why);
		if (m->state != MAPPING_ATTACHED)
			continue;
		names_vhost(m->id, name, sizeof(name));
		if (!obs_vhost_find(x->o, name) &&
		    (it = item_for(x, DRIFT_MISSING, "vhost", name, &a))) {
			drift_text(it->detail, sizeof(it->detail),
				   "%s does not exist, the database says mapping %" PRIu64
				   " is ATTACHED",
				   name, m->id);
			drift_text(it->next, sizeof(it->next), "held back: %s",
				   why[0] ? why : "nothing planned this pass");
		}
	}
}

/* Every orphan, in the order the daemon removes them, with when. */
static int orphans(struct drift_ctx *x, const struct host_facts *hf)
{
	struct drift_world w;
	char prev[PLAN_MSG_MAX] = "";
	int r = drift_world_init(&w, x->o, x->d->config.orphan_grace_s);

	for (int round = 0; r == 0 && round < DRIFT_ORPHAN_ROUNDS; round++) {
		struct plan p = {0};
		char gone[PLAN_MSG_MAX] = "";
		size_t used = 0, removed = 0;

		r = plan_build(x->d, &w.o, hf, &p);
		for (size_t i = 0; r == 0 && i < p.n_actions; i++) {
			const struct action *a = &p.actions[i];
			struct drift_item *it;

			if (strncmp(a->group, "orphan:", 7) != 0)
				continue;
			drift_world_remove(&w, a->object);
			removed++;
			if (used + 1 < sizeof(gone))
				used += snprintf(gone + used, sizeof(gone) - used, "%s%s",
						 used ? ", " : "", a->object);
			it = item_for(x, DRIFT_ORPHAN, kind_of(a->object), a->object, NULL);
			if (!it)
				continue;
			drift_text(it->detail, sizeof(it->detail),
				   "diskengine created %s and nothing in the database claims it",
				   a->object);
			if (round == 0)
				drift_text(
					it->next, sizeof(it->next),
					"the daemon removes it at its first pass after it has seen "
					"it for --orphan-grace (%d s; the time counts from the "
					"daemon's start)",
					x->d->config.orphan_grace_s);
			else
				drift_text(it->next, sizeof(it->next),
					   "the daemon removes it once %s %s gone (teardown order: "
					   "vhost, raid, controller, key)",
					   prev, strchr(prev, ',') ? "are" : "is");
		}
		plan_free(&p);
		if (x->err)
			r = x->err;
		if (removed == 0)
			break;
		snprintf(prev, sizeof(prev), "%s", gone);
	}
	drift_world_free(&w);
	return r;
}

/* Objects named like ours that nothing above explained: the daemon keeps its hands off. */
static void foreign(struct drift_ctx *x)
{
	struct drift_names claimed;
	const struct observed *o = x->o;

	if (drift_claims(x->d, &claimed) < 0) {
		x->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < drift_live_count(o) && !x->err; i++) {
		const char *name = drift_live_name(o, i);
		const char *kind = kind_of(name);
		struct drift_item *it;

		if (!strcmp(kind, "bdev") || drift_names_has(&claimed, name) ||
		    drift_find(x->out, kind, name))
			continue;
		if (!(it = item_for(x, DRIFT_FOREIGN, kind, name, NULL)))
			continue;
		drift_text(it->detail, sizeof(it->detail),
			   "%s is named like diskengine's objects, but nothing proves diskengine "
			   "created it, or something else still holds it",
			   name);
		drift_text(it->next, sizeof(it->next),
			   "never touched: remove it by hand if nobody uses it");
	}
	drift_names_free(&claimed);
}

int drift_live(const struct desired *d, const struct observed *o, const struct host_facts *hf,
	       struct drift_report *out)
{
	struct observed next = *o;
	struct drift_ctx x = {.d = d, .o = o, .out = out};
	struct plan p = {0};
	int r;

	/* the next pass as a daemon that just started sees it: no age known, no orphan yet */
	next.first_seen = NULL;
	next.n_first_seen = 0;
	r = plan_build(d, &next, hf, &p);
	if (r < 0)
		return r;
	from_next_pass(&x, &p);
	if (!x.err)
		records(&x, &p);
	if (!x.err)
		held_back(&x, &p);
	plan_free(&p);
	if (!x.err)
		x.err = orphans(&x, hf);
	if (!x.err)
		foreign(&x);
	return x.err;
}
