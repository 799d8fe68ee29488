/* SPDX-License-Identifier: Apache-2.0 */
#include "daemon/daemon_plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/daemon_names.h"
#include "daemon/daemon_orphan.h"
#include "reconcile/exec_verify.h"
#include "store/store.h"

/* ---- lookups in the observed answers ---------------------------------------------------- */

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static json_t *find(json_t *arr, const char *key, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (strcmp(jstr(v, key), name) == 0)
			return v;
	return NULL;
}

static const char *vhost_bdev(json_t *v)
{
	return json_string_value(
		json_object_get(json_object_get(json_object_get(v, "backend_specific"), "block"),
				"bdev"));
}

/* ---- building ----------------------------------------------------------------------------- */

static struct daemon_plan_chain *chain_new(struct daemon_plan *p, const char *key,
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
	util_strlcpy(c->key, key, sizeof(c->key));
	c->mapping_id = mapping_id;
	c->volume_id = volume_id;
	return c;
}

/* Append an operation at `stage`; returns it zeroed (but kind/stage/ids), NULL on ENOMEM. */
static struct exec_op *op_add(struct daemon_plan_chain *c, unsigned stage, enum exec_op_kind k,
			      const char *name)
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
	struct exec_op *op = &c->ops[c->n];
	memset(op, 0, sizeof(*op));
	op->kind = k;
	op->volume_id = c->volume_id;
	op->mapping_id = c->mapping_id;
	util_strlcpy(op->name, name, sizeof(op->name));
	c->steps[c->n].stage = stage;
	c->n++;
	return op;
}

static void note(struct daemon_plan_chain *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct daemon_plan_chain *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->note, sizeof(c->note), fmt, ap);
	va_end(ap);
	c->blocked = true;
}

/* Does controller `name` have a path to this replica? */
static bool has_path(json_t *ctrl, const struct store_replica *r, char *port)
{
	size_t i;
	json_t *path;

	json_array_foreach(json_object_get(ctrl, "ctrlrs"), i, path) {
		json_t *trid = json_object_get(path, "trid");
		if (strcmp(jstr(trid, "subnqn"), r->nqn) == 0 &&
		    strcmp(jstr(trid, "traddr"), r->address) == 0 &&
		    strcmp(jstr(trid, "trsvcid"), port) == 0)
			return true;
	}
	return false;
}

/* Used by another live mapping on this host (a controller shared between volumes). */
static bool ctrlr_used_elsewhere(const struct store_desired *d, size_t self, const char *ctrl)
{
	char name[DAEMON_NAME_MAX];

	for (size_t i = 0; i < d->n_mappings; i++) {
		const struct store_desired_mapping *m = &d->mappings[i];
		if (i == self || m->mapping.state == STORE_MAPPING_DETACH_REQUESTED)
			continue;
		for (size_t k = 0; k < m->n_replicas; k++) {
			daemon_name_ctrlr_for_nqn(m->replicas[k].nqn, name, sizeof(name));
			if (strcmp(name, ctrl) == 0)
				return true;
		}
	}
	return false;
}

static int plan_live(const struct daemon_plan_input *in, size_t idx, struct daemon_plan_chain *c)
{
	const struct store_desired_mapping *dm = &in->desired->mappings[idx];
	const struct observe_raw *o = in->observed;
	char ctrl[2][DAEMON_NAME_MAX], base[2][DAEMON_NAME_MAX + 4], raid[DAEMON_NAME_MAX],
		vhost[DAEMON_NAME_MAX], port[8], why[384];
	bool attached_now = false;
	size_t nrep = 0;
	unsigned st = 0;
	struct exec_op *op;

	daemon_name_raid(dm->volume.id, raid, sizeof(raid));
	daemon_name_vhost(dm->mapping.id, vhost, sizeof(vhost));

	/* stage: NVMe paths, both replicas in flight together */
	for (size_t k = 0; k < dm->n_replicas && nrep < 2; k++) {
		const struct store_replica *r = &dm->replicas[k];
		if (r->pending)
			continue;
		daemon_name_ctrlr_for_nqn(r->nqn, ctrl[nrep], sizeof(ctrl[nrep]));
		snprintf(base[nrep], sizeof(base[nrep]), "%sn1", ctrl[nrep]);
		snprintf(port, sizeof(port), "%u", r->port);
		json_t *have = find(o->controllers, "name", ctrl[nrep]);
		if (have && !has_path(have, r, port)) {
			if (exec_verify_controller(o->controllers, ctrl[nrep], r->nqn, r->address, port,
						   why, sizeof(why)) == -EEXIST &&
			    strstr(why, "subsystem")) {
				note(c, "conflict: %s (left untouched)", why);
				return 0;
			}
		}
		if (!have || !has_path(have, r, port)) {
			if (!(op = op_add(c, st, EXEC_OP_ATTACH_PATH, ctrl[nrep])))
				return -ENOMEM;
			util_strlcpy(op->trtype, store_transport_name(r->transport), sizeof(op->trtype));
			util_strlcpy(op->adrfam, strchr(r->address, ':') ? "ipv6" : "ipv4",
				     sizeof(op->adrfam));
			util_strlcpy(op->traddr, r->address, sizeof(op->traddr));
			util_strlcpy(op->trsvcid, port, sizeof(op->trsvcid));
			util_strlcpy(op->subnqn, r->nqn, sizeof(op->subnqn));
			op->multipath = true;
			/* Source address: RDMA_IPS (or the host row's) for RDMA, the host's for TCP. */
			const struct store_host *h = &in->desired->host;
			const char *src = NULL;
			if (r->transport == STORE_TRANSPORT_RDMA)
				src = in->rdma_ip && in->rdma_ip[0] ? in->rdma_ip
				      : h->n_rdma_ips	       ? h->rdma_ips[0]
							       : NULL;
			else if (h->n_tcp_ips)
				src = h->tcp_ips[0];
			if (src)
				util_strlcpy(op->hostaddr, src, sizeof(op->hostaddr));
			attached_now = true;
		}
		nrep++;
	}
	if (nrep != 2) {
		note(c, "volume %lld has %zu usable replicas, needs 2", (long long)dm->volume.id,
		     nrep);
		return 0;
	}
	if (attached_now)
		st++;

	/* stage: RAID */
	json_t *r = find(o->raids, "name", raid);
	bool raid_now = false;
	if (r) {
		const char *bases[2] = {base[0], base[1]};
		if (exec_verify_raid(o->raids, raid, bases, 2, why, sizeof(why)) == -EEXIST) {
			note(c, "conflict: %s (left untouched)", why);
			return 0;
		}
		/* A member back after a loss is re-added so SPDK rebuilds it (never listed as an
		 * in-sync base of a re-created raid). */
		if (strcmp(jstr(r, "state"), "online") == 0 && o->bdevs) {
			for (int k = 0; k < 2; k++) {
				if (!find(o->bdevs, "name", base[k]) ||
				    exec_verify_raid_member(o->raids, raid, base[k], why,
							    sizeof(why)) == 0)
					continue;
				if (!(op = op_add(c, st, EXEC_OP_ADD_BASE, raid)))
					return -ENOMEM;
				util_strlcpy(op->bases[0], base[k], sizeof(op->bases[0]));
				raid_now = true;
			}
		}
	} else {
		if (o->bdevs_skipped && !attached_now) {
			note(c, "deferred: an NVMe controller is resetting, RAID geometry unknown");
			return 0;
		}
		if (o->bdevs && !attached_now) {
			json_t *b0 = find(o->bdevs, "name", base[0]), *b1 = find(o->bdevs, "name", base[1]);
			if (b0 && b1 &&
			    (json_integer_value(json_object_get(b0, "block_size")) !=
				     json_integer_value(json_object_get(b1, "block_size")) ||
			     json_integer_value(json_object_get(b0, "num_blocks")) !=
				     json_integer_value(json_object_get(b1, "num_blocks")))) {
				note(c, "stopped: replicas %s and %s differ in geometry", base[0],
				     base[1]);
				return 0;
			}
		}
		if (dm->mapping.state != STORE_MAPPING_ASSIGNED) {
			/* It existed: a superblock raid reassembles when its members are back. */
			if (!(op = op_add(c, st++, EXEC_OP_WAIT_BDEV, raid)))
				return -ENOMEM;
			op->wait_ms = in->raid_wait_ms;
		}
		if (!(op = op_add(c, st, EXEC_OP_CREATE_RAID, raid)))
			return -ENOMEM;
		util_strlcpy(op->bases[0], base[0], sizeof(op->bases[0]));
		util_strlcpy(op->bases[1], base[1], sizeof(op->bases[1]));
		op->n_bases = 2;
		raid_now = true;
	}
	if (raid_now)
		st++;

	/* stage: QoS, when the volume has limits the raid does not carry yet */
	const struct store_qos *q = &dm->volume.qos;
	if (q->rw_iops || q->rw_mbps || q->r_mbps || q->w_mbps) {
		json_t *rb = o->bdevs ? find(o->bdevs, "name", raid) : NULL;
		json_t *lim = json_object_get(rb, "assigned_rate_limits");
		bool same = rb && !raid_now &&
			    (uint64_t)json_integer_value(json_object_get(lim, "rw_ios_per_sec")) ==
				    q->rw_iops &&
			    (uint64_t)json_integer_value(json_object_get(lim, "rw_mbytes_per_sec")) ==
				    q->rw_mbps &&
			    (uint64_t)json_integer_value(json_object_get(lim, "r_mbytes_per_sec")) ==
				    q->r_mbps &&
			    (uint64_t)json_integer_value(json_object_get(lim, "w_mbytes_per_sec")) ==
				    q->w_mbps;
		if (!same && (rb || raid_now)) {
			if (!(op = op_add(c, st++, EXEC_OP_SET_QOS, raid)))
				return -ENOMEM;
			op->rw_iops = q->rw_iops;
			op->rw_mbps = q->rw_mbps;
			op->r_mbps = q->r_mbps;
			op->w_mbps = q->w_mbps;
		}
	}

	/* stage: initialised */
	enum store_mapping_state state = dm->mapping.state;
	if (state == STORE_MAPPING_ASSIGNED) {
		if (dm->volume.snapshot_source[0]) {
			note(c, "waiting: copy from snapshot %s is not available yet",
			     dm->volume.snapshot_source);
			return 0;
		}
		if (!(op = op_add(c, st++, EXEC_OP_ADVANCE_MAPPING, raid)))
			return -ENOMEM;
		op->from = STORE_MAPPING_ASSIGNED;
		op->to = STORE_MAPPING_INITIALISED;
		state = STORE_MAPPING_INITIALISED;
	}

	/* stage: vhost-blk */
	json_t *v = find(o->vhosts, "ctrlr", vhost);
	if (v) {
		const char *served = vhost_bdev(v);
		if (!served) {
			/* Its raid vanished under it: it serves nothing; re-create it. */
			if (!(op = op_add(c, st++, EXEC_OP_DELETE_VHOST, vhost)))
				return -ENOMEM;
			v = NULL;
		} else if (strcmp(served, raid) != 0) {
			note(c, "conflict: %s serves %s, not %s (left untouched)", vhost, served,
			     raid);
			return 0;
		}
	}
	if (!v) {
		if (!(op = op_add(c, st++, EXEC_OP_CREATE_VHOST, vhost)))
			return -ENOMEM;
		util_strlcpy(op->bdev, raid, sizeof(op->bdev));
	}
	if (state == STORE_MAPPING_INITIALISED) {
		if (!(op = op_add(c, st++, EXEC_OP_ADVANCE_MAPPING, vhost)))
			return -ENOMEM;
		op->from = STORE_MAPPING_INITIALISED;
		op->to = STORE_MAPPING_ATTACHED;
	}
	return 0;
}

static int plan_teardown(const struct daemon_plan_input *in, size_t idx,
			 struct daemon_plan_chain *c)
{
	const struct store_desired_mapping *dm = &in->desired->mappings[idx];
	const struct observe_raw *o = in->observed;
	char raid[DAEMON_NAME_MAX], vhost[DAEMON_NAME_MAX], ctrl[DAEMON_NAME_MAX];
	unsigned st = 0;
	struct exec_op *op;

	daemon_name_raid(dm->volume.id, raid, sizeof(raid));
	daemon_name_vhost(dm->mapping.id, vhost, sizeof(vhost));
	/* vhost first: a controller with zero sessions still lets QEMU reconnect */
	if (find(o->vhosts, "ctrlr", vhost) && !(op = op_add(c, st++, EXEC_OP_DELETE_VHOST, vhost)))
		return -ENOMEM;
	if (find(o->raids, "name", raid) && !(op = op_add(c, st++, EXEC_OP_DELETE_RAID, raid)))
		return -ENOMEM;
	bool any = false;
	for (size_t k = 0; k < dm->n_replicas; k++) {
		daemon_name_ctrlr_for_nqn(dm->replicas[k].nqn, ctrl, sizeof(ctrl));
		if (!find(o->controllers, "name", ctrl) ||
		    ctrlr_used_elsewhere(in->desired, idx, ctrl))
			continue;
		if (!(op = op_add(c, st, EXEC_OP_DETACH_CONTROLLER, ctrl)))
			return -ENOMEM;
		any = true;
	}
	if (any)
		st++;
	if (!(op = op_add(c, st, EXEC_OP_ADVANCE_MAPPING, vhost)))
		return -ENOMEM;
	op->from = STORE_MAPPING_DETACH_REQUESTED;
	op->to = STORE_MAPPING_DETACHED;
	return 0;
}

/* ---- orphans ------------------------------------------------------------------------------ */

static bool claimed(const struct store_desired *d, const char *name)
{
	char n[DAEMON_NAME_MAX];

	for (size_t i = 0; i < d->n_mappings; i++) {
		const struct store_desired_mapping *m = &d->mappings[i];
		daemon_name_raid(m->volume.id, n, sizeof(n));
		if (strcmp(n, name) == 0)
			return true;
		daemon_name_vhost(m->mapping.id, n, sizeof(n));
		if (strcmp(n, name) == 0)
			return true;
		for (size_t k = 0; k < m->n_replicas; k++) {
			daemon_name_ctrlr_for_nqn(m->replicas[k].nqn, n, sizeof(n));
			if (strcmp(n, name) == 0)
				return true;
		}
	}
	return false;
}

/* Is `name` due for removal? Times it if it is one of ours and unclaimed. */
static bool orphan_due(const struct daemon_plan_input *in, const char *name)
{
	if (claimed(in->desired, name))
		return false;
	int64_t first = orphan_clock_mark(in->orphans, name, in->now_s);
	return in->now_s - first >= (int64_t)in->orphan_grace_s;
}

/* A raid still using bdev `b` that is not itself being removed keeps the controller. */
static bool base_in_use(json_t *raids, const char *ctrl, const char *const *dying, size_t nd)
{
	size_t i, j;
	json_t *r, *b;
	size_t cl = strlen(ctrl);

	json_array_foreach(raids, i, r) {
		bool going = false;
		for (size_t k = 0; k < nd; k++)
			going |= strcmp(dying[k], jstr(r, "name")) == 0;
		if (going)
			continue;
		json_array_foreach(json_object_get(r, "base_bdevs_list"), j, b)
			if (strncmp(jstr(b, "name"), ctrl, cl) == 0 && jstr(b, "name")[cl] == 'n')
				return true;
	}
	return false;
}

static int plan_orphans(const struct daemon_plan_input *in, struct daemon_plan *p)
{
	const struct observe_raw *o = in->observed;
	struct daemon_plan_chain *c = NULL;
	const char *dying_raids[256];
	size_t nd = 0, i;
	json_t *v;
	bool stage_used[3] = {false, false, false};

	orphan_clock_begin(in->orphans);
#define ORPHAN_CHAIN()                                                                             \
	do {                                                                                       \
		if (!c && !(c = chain_new(p, "orphans", 0, 0)))                                    \
			return -ENOMEM;                                                            \
	} while (0)
	json_array_foreach(o->vhosts, i, v) {
		const char *n = jstr(v, "ctrlr");
		if (!daemon_name_is_vhost(n, NULL) || !orphan_due(in, n))
			continue;
		ORPHAN_CHAIN();
		if (!op_add(c, 0, EXEC_OP_DELETE_VHOST, n))
			return -ENOMEM;
		stage_used[0] = true;
	}
	json_array_foreach(o->raids, i, v) {
		const char *n = jstr(v, "name");
		if (!daemon_name_is_raid(n, NULL) || !orphan_due(in, n))
			continue;
		/* a live vhost of a claimed mapping serving it keeps it */
		bool served = false;
		size_t j;
		json_t *vh;
		json_array_foreach(o->vhosts, j, vh) {
			const char *b = vhost_bdev(vh);
			served |= b && strcmp(b, n) == 0 && claimed(in->desired, jstr(vh, "ctrlr"));
		}
		if (served)
			continue;
		ORPHAN_CHAIN();
		if (!op_add(c, 1, EXEC_OP_DELETE_RAID, n))
			return -ENOMEM;
		if (nd < ARRAY_SIZE(dying_raids))
			dying_raids[nd++] = n;
		stage_used[1] = true;
	}
	json_array_foreach(o->controllers, i, v) {
		const char *n = jstr(v, "name");
		if (!daemon_name_is_ctrlr(n) || !orphan_due(in, n) ||
		    base_in_use(o->raids, n, dying_raids, nd))
			continue;
		ORPHAN_CHAIN();
		if (!op_add(c, 2, EXEC_OP_DETACH_CONTROLLER, n))
			return -ENOMEM;
		stage_used[2] = true;
	}
#undef ORPHAN_CHAIN
	orphan_clock_end(in->orphans);
	(void)stage_used;
	return 0;
}

int daemon_plan_build(const struct daemon_plan_input *in, struct daemon_plan *out)
{
	struct daemon_plan p = {0};
	char key[64];
	int r = 0;

	for (size_t i = 0; i < in->desired->n_mappings && r == 0; i++) {
		const struct store_desired_mapping *dm = &in->desired->mappings[i];
		snprintf(key, sizeof(key), "volume %lld", (long long)dm->volume.id);
		struct daemon_plan_chain *c = chain_new(&p, key, dm->mapping.id, dm->volume.id);
		if (!c) {
			r = -ENOMEM;
			break;
		}
		if (dm->mapping.state == STORE_MAPPING_DETACH_REQUESTED)
			r = plan_teardown(in, i, c);
		else
			r = plan_live(in, i, c);
	}
	if (r == 0)
		r = plan_orphans(in, &p);
	if (r < 0) {
		daemon_plan_free(&p);
		return r;
	}
	*out = p;
	return 0;
}

void daemon_plan_free(struct daemon_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->chains[i].ops);
		free(p->chains[i].steps);
	}
	free(p->chains);
	memset(p, 0, sizeof(*p));
}
