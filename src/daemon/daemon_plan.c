/* SPDX-License-Identifier: Apache-2.0 */
#include "daemon/daemon_plan.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hmap.h"
#include "common/log.h"
#include "common/util.h"
#include "reconcile/names.h"
#include "store/store.h"

static struct daemon_plan_chain *chain_new(struct daemon_plan *p, const char *group,
					   int64_t mapping_id, int64_t volume_id)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct daemon_plan_chain *nc = realloc(p->chains, cap * sizeof(*nc));
		if (!nc)
			return NULL;
		p->chains = nc;
		p->cap = cap;
	}
	struct daemon_plan_chain *c = &p->chains[p->n++];
	memset(c, 0, sizeof(*c));
	util_strlcpy(c->group, group, sizeof(c->group));
	/* "volume:42" -> "volume 42": how log lines name the object */
	util_strlcpy(c->key, group, sizeof(c->key));
	char *colon = strchr(c->key, ':');
	if (colon)
		*colon = ' ';
	c->mapping_id = mapping_id;
	c->volume_id = volume_id;
	return c;
}

/* Chains by group (index into p->chains): one lookup per action, thousands per pass. */
static struct daemon_plan_chain *chain_find(struct daemon_plan *p, struct hmap *by_group,
					    const char *group)
{
	size_t *i = hmap_get(by_group, group);

	return i ? &p->chains[*i] : NULL;
}

static struct daemon_plan_chain *chain_add(struct daemon_plan *p, struct hmap *by_group,
					   const char *group, int64_t mapping_id, int64_t volume_id)
{
	bool added;
	size_t *i = hmap_put(by_group, group, &added);
	struct daemon_plan_chain *c;

	if (!i)
		return NULL;
	/* a volume with two live mappings: the first one's chain takes the volume's actions */
	if (!added)
		return chain_new(p, group, mapping_id, volume_id);
	c = chain_new(p, group, mapping_id, volume_id);
	if (!c) {
		hmap_del(by_group, group);
		return NULL;
	}
	*i = p->n - 1;
	return c;
}

static struct exec_op *op_add(struct daemon_plan_chain *c, unsigned stage, enum exec_op_kind k,
			      const struct action *a)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct exec_op *no = realloc(c->ops, cap * sizeof(*no));
		if (!no)
			return NULL;
		c->ops = no;
		struct exec_step *ns = realloc(c->steps, cap * sizeof(*ns));
		if (!ns)
			return NULL;
		c->steps = ns;
		c->cap = cap;
	}
	/* keep stages non-decreasing: insert after every op of a lower or equal stage */
	size_t at = c->n;
	while (at > 0 && c->steps[at - 1].stage > stage)
		at--;
	memmove(&c->ops[at + 1], &c->ops[at], (c->n - at) * sizeof(*c->ops));
	memmove(&c->steps[at + 1], &c->steps[at], (c->n - at) * sizeof(*c->steps));
	struct exec_op *op = &c->ops[at];
	memset(op, 0, sizeof(*op));
	op->kind = k;
	op->volume_id = (int64_t)a->volume_id;
	op->mapping_id = a->mapping_id ? (int64_t)a->mapping_id : c->mapping_id;
	util_strlcpy(op->name, a->object, sizeof(op->name));
	c->steps[at].stage = stage;
	c->n++;
	return op;
}

static enum store_mapping_state store_state(enum mapping_state s)
{
	switch (s) {
	case MAPPING_ASSIGNED:
		return STORE_MAPPING_ASSIGNED;
	case MAPPING_INITIALISED:
		return STORE_MAPPING_INITIALISED;
	case MAPPING_ATTACHED:
		return STORE_MAPPING_ATTACHED;
	case MAPPING_DETACH_REQUESTED:
		return STORE_MAPPING_DETACH_REQUESTED;
	case MAPPING_DETACHED:
		return STORE_MAPPING_DETACHED;
	}
	return STORE_MAPPING_ASSIGNED;
}

/*
 * The store replica behind a volume's slot: a member, or with pending set the pending one that
 * replaces it, counted in id order as desired.c numbered them.
 */
static const struct store_replica *replica_of(const struct store_desired *sd, uint64_t volume_id,
					      unsigned slot, bool pending)
{
	for (size_t i = 0; i < sd->n_mappings; i++) {
		const struct store_desired_mapping *m = &sd->mappings[i];
		unsigned k = 0;
		if ((uint64_t)m->volume.id != volume_id)
			continue;
		for (size_t j = 0; j < m->n_replicas; j++) {
			if (m->replicas[j].pending != pending)
				continue;
			if (k++ == slot)
				return &m->replicas[j];
		}
	}
	return NULL;
}

/* Is bdev the namespace bdev the planner derives for this store replica? */
static bool replica_has_bdev(const struct store_replica *r, const char *bdev)
{
	struct replica m = {.transport = r->transport == STORE_TRANSPORT_RDMA ? TRANSPORT_RDMA
									      : TRANSPORT_TCP};
	char ctrlr[MODEL_NAME_MAX], name[MODEL_NAME_MAX];

	if (r->transport == STORE_TRANSPORT_PCIE) {
		m.transport = TRANSPORT_PCIE;
		util_strlcpy(m.addr, r->bdf, sizeof(m.addr));
		m.nsid = r->nsid;
	}
	util_strlcpy(m.nqn, r->nqn, sizeof(m.nqn));
	if (names_ctrlr(&m, ctrlr, sizeof(ctrlr)) != 0)
		return false;
	names_ns_bdev(ctrlr, m.nsid, name, sizeof(name));
	return strcmp(name, bdev) == 0;
}

static void chain_note(struct daemon_plan_chain *c, const char *prefix, const char *msg)
{
	size_t n = strlen(c->note);

	/* the first note of a pass is the one nearest the cause; later ones follow it */
	if (n + 2 < sizeof(c->note))
		snprintf(c->note + n, sizeof(c->note) - n, "%s%s%s", n ? "; " : "", prefix, msg);
	c->blocked = true;
}

static int chain_await(struct daemon_plan_chain *c, const char *group)
{
	char(*v)[PLAN_GROUP_MAX] = realloc(c->awaits, (c->n_awaits + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	c->awaits = v;
	util_strlcpy(c->awaits[c->n_awaits++], group, PLAN_GROUP_MAX);
	return 0;
}

/* Awaited groups -> chain indices, once every chain exists. */
static int resolve_awaits(struct daemon_plan *dp, struct hmap *by_group)
{
	for (size_t i = 0; i < dp->n; i++) {
		struct daemon_plan_chain *c = &dp->chains[i];

		if (!c->n_awaits)
			continue;
		c->after = calloc(c->n_awaits, sizeof(*c->after));
		if (!c->after)
			return -ENOMEM;
		for (size_t k = 0; k < c->n_awaits; k++) {
			size_t *at = hmap_get(by_group, c->awaits[k]);

			/* the planner awaits only groups it planned in this pass */
			if (at && *at != i)
				c->after[c->n_after++] = *at;
			else
				log_debug("%s: awaited %s is not in the plan", c->key, c->awaits[k]);
		}
	}
	return 0;
}

static int convert(const struct action *a, const struct store_desired *sd,
		   struct daemon_plan_chain *c)
{
	struct exec_op *op = NULL;

	switch (a->kind) {
	case ACTION_SET_STATUS:
		chain_note(c, "", a->message);
		return 0;
	case ACTION_REPORT_CONFLICT:
		chain_note(c, "conflict: ", a->message);
		return 0;
	case ACTION_REPLICA_PROMOTE: {
		const struct store_replica *old = replica_of(sd, a->volume_id, a->slot, false);
		const struct store_replica *pend = replica_of(sd, a->volume_id, a->slot, true);
		char msg[PLAN_MSG_MAX];

		/* The ids go to the store, so a promotion never depends on how slots renumber. */
		if (!old || !pend || !replica_has_bdev(pend, a->object)) {
			snprintf(msg, sizeof(msg),
				 "resize: slot %u's member or its pending replica %.128s is gone "
				 "from the database",
				 a->slot, a->object);
			chain_note(c, "", msg);
			return 0;
		}
		if (!(op = op_add(c, a->step, EXEC_OP_REPLICA_PROMOTE, a)))
			return -ENOMEM;
		op->replica_id = old->id;
		op->pending_id = pend->id;
		return 0;
	}
	case ACTION_RESIZE_FINISH:
		return op_add(c, a->step, EXEC_OP_RESIZE_FINISH, a) ? 0 : -ENOMEM;
	case ACTION_SET_CLEAN_STOP:
		if (!(op = op_add(c, a->step, EXEC_OP_CLEAN_STOP, a)))
			return -ENOMEM;
		op->clean_stop = a->clean_stop;
		return 0;
	case ACTION_ATTACH_PATH:
	case ACTION_DETACH_PATH:
		op = op_add(c, a->step,
			    a->kind == ACTION_ATTACH_PATH ? EXEC_OP_ATTACH_PATH
							  : EXEC_OP_DETACH_PATH,
			    a);
		if (!op)
			return -ENOMEM;
		util_strlcpy(op->trtype, a->path.trtype, sizeof(op->trtype));
		util_strlcpy(op->adrfam, a->path.adrfam, sizeof(op->adrfam));
		util_strlcpy(op->traddr, a->path.traddr, sizeof(op->traddr));
		util_strlcpy(op->trsvcid, a->path.trsvcid, sizeof(op->trsvcid));
		util_strlcpy(op->subnqn, a->path.subnqn, sizeof(op->subnqn));
		util_strlcpy(op->hostaddr, a->path.hostaddr, sizeof(op->hostaddr));
		op->multipath = a->path.multipath;
		util_strlcpy(op->dhchap_key, a->path.dhchap_key, sizeof(op->dhchap_key));
		return 0;
	case ACTION_DETACH_CONTROLLER:
		return op_add(c, a->step, EXEC_OP_DETACH_CONTROLLER, a) ? 0 : -ENOMEM;
	case ACTION_INIT_VERIFY:
	case ACTION_INIT_MARK_WIPED:
	case ACTION_INIT_WIPE:
	case ACTION_INIT_CHECK_RAID: {
		static const enum exec_op_kind k[] = {EXEC_OP_INIT_VERIFY, EXEC_OP_INIT_MARK_WIPED,
						      EXEC_OP_INIT_WIPE, EXEC_OP_INIT_CHECK_RAID};

		if (!(op = op_add(c, a->step, k[a->kind - ACTION_INIT_VERIFY], a)))
			return -ENOMEM;
		util_strlcpy(op->uuid, a->raid.uuid, sizeof(op->uuid));
		util_strlcpy(op->source_uuid, a->init.source_uuid, sizeof(op->source_uuid));
		util_strlcpy(op->bdev, a->init.bdev, sizeof(op->bdev));
		op->init_offset = a->init.data_offset;
		op->init_wiped = a->init.wiped;
		op->block_size = a->init.block_size;
		op->size_bytes = a->init.size_bytes;
		return 0;
	}
	case ACTION_CREATE_RAID:
		if (!(op = op_add(c, a->step, EXEC_OP_CREATE_RAID, a)))
			return -ENOMEM;
		op->init_offset = a->init.data_offset;
		op->n_bases = (unsigned)(a->raid.n_bases > 2 ? 2 : a->raid.n_bases);
		util_strlcpy(op->uuid, a->raid.uuid, sizeof(op->uuid));
		for (unsigned i = 0; i < op->n_bases; i++)
			util_strlcpy(op->bases[i], a->raid.bases[i], sizeof(op->bases[i]));
		return 0;
	case ACTION_WAIT_RAID_ASSEMBLY:
		if (!(op = op_add(c, a->step, EXEC_OP_WAIT_BDEV, a)))
			return -ENOMEM;
		op->wait_ms = a->raid.timeout_ms > 0 ? (uint32_t)a->raid.timeout_ms : 1000;
		op->strict = a->raid.strict;
		return 0;
	case ACTION_CHECK_MEMBERS:
		if (!(op = op_add(c, a->step, EXEC_OP_CHECK_MEMBERS, a)))
			return -ENOMEM;
		op->n_bases = 2;
		for (unsigned i = 0; i < 2; i++)
			util_strlcpy(op->bases[i], a->raid.bases[i], sizeof(op->bases[i]));
		op->block_size = a->raid.block_size;
		op->size_bytes = a->raid.size_bytes;
		return 0;
	case ACTION_AWAIT_PATH:
		return chain_await(c, a->object);
	case ACTION_ADD_RAID_BASE:
	case ACTION_REMOVE_RAID_BASE:
		op = op_add(c, a->step,
			    a->kind == ACTION_ADD_RAID_BASE ? EXEC_OP_ADD_BASE
							    : EXEC_OP_REMOVE_BASE,
			    a);
		if (!op)
			return -ENOMEM;
		util_strlcpy(op->bases[0], a->raid.base, sizeof(op->bases[0]));
		return 0;
	case ACTION_DELETE_RAID:
		return op_add(c, a->step, EXEC_OP_DELETE_RAID, a) ? 0 : -ENOMEM;
	case ACTION_SET_QOS:
		if (!(op = op_add(c, a->step, EXEC_OP_SET_QOS, a)))
			return -ENOMEM;
		op->rw_iops = a->qos.rw_ios_per_sec;
		op->rw_mbps = a->qos.rw_mbytes_per_sec;
		op->r_mbps = a->qos.r_mbytes_per_sec;
		op->w_mbps = a->qos.w_mbytes_per_sec;
		return 0;
	case ACTION_CREATE_VHOST:
		if (!(op = op_add(c, a->step, EXEC_OP_CREATE_VHOST, a)))
			return -ENOMEM;
		util_strlcpy(op->bdev, a->vhost.bdev, sizeof(op->bdev));
		return 0;
	case ACTION_DELETE_VHOST:
		return op_add(c, a->step, EXEC_OP_DELETE_VHOST, a) ? 0 : -ENOMEM;
	case ACTION_MAPPING_ADVANCE:
		if (!(op = op_add(c, a->step, EXEC_OP_ADVANCE_MAPPING, a)))
			return -ENOMEM;
		op->from = store_state(a->from);
		op->to = store_state(a->to);
		return 0;
	case ACTION_ADD_KEY:
		if (!(op = op_add(c, a->step, EXEC_OP_ADD_KEY, a)))
			return -ENOMEM;
		util_strlcpy(op->key_path, a->key.path, sizeof(op->key_path));
		return 0;
	case ACTION_REMOVE_KEY:
		return op_add(c, a->step, EXEC_OP_REMOVE_KEY, a) ? 0 : -ENOMEM;
	case ACTION_REPLICA_SET_SYNC: {
		const struct store_replica *r = replica_of(sd, a->volume_id, a->slot, false);
		if (!r) {
			chain_note(c, "", "a replica the plan names is not in the database");
			return 0;
		}
		if (!(op = op_add(c, a->step, EXEC_OP_REPLICA_SYNC, a)))
			return -ENOMEM;
		op->replica_id = r->id;
		op->generation = (int64_t)a->generation;
		op->in_sync = a->in_sync;
		return 0;
	}
	case ACTION_KIND_COUNT:
		break;
	}
	log_debug("plan: action kind %d ignored", (int)a->kind);
	return 0;
}

int daemon_plan_from_actions(const struct plan *p, const struct store_desired *sd,
			     struct daemon_plan *out)
{
	struct daemon_plan dp = {0};
	char group[PLAN_GROUP_MAX];
	struct hmap *by_group = hmap_new(sizeof(size_t));
	int r = 0;

	if (!by_group)
		return -ENOMEM;
	for (size_t i = 0; i < sd->n_mappings; i++) {
		const struct store_desired_mapping *m = &sd->mappings[i];
		snprintf(group, sizeof(group), "volume:%" PRId64, m->volume.id);
		if (!chain_add(&dp, by_group, group, m->mapping.id, m->volume.id)) {
			r = -ENOMEM;
			goto fail;
		}
	}
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct action *a = &p->actions[i];
		struct daemon_plan_chain *c = chain_find(&dp, by_group, a->group);
		if (!c) {
			int64_t mid =
				strncmp(a->group, "mapping:", 8) == 0 ? (int64_t)a->mapping_id : 0;
			c = chain_add(&dp, by_group, a->group, mid, (int64_t)a->volume_id);
			if (!c) {
				r = -ENOMEM;
				goto fail;
			}
		}
		r = convert(a, sd, c);
		if (r < 0)
			goto fail;
	}
	r = resolve_awaits(&dp, by_group);
	if (r < 0)
		goto fail;
	hmap_free(by_group);
	*out = dp;
	return 0;
fail:
	hmap_free(by_group);
	daemon_plan_free(&dp);
	return r;
}

void daemon_plan_free(struct daemon_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->chains[i].ops);
		free(p->chains[i].steps);
		free(p->chains[i].awaits);
		free(p->chains[i].after);
	}
	free(p->chains);
	memset(p, 0, sizeof(*p));
}
