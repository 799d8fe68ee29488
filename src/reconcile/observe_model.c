/* SPDX-License-Identifier: Apache-2.0 */
#include "reconcile/observe_model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

static const char *str(const char *s)
{
	return s ? s : "";
}

static uint64_t pos(int64_t v)
{
	return v > 0 ? (uint64_t)v : 0;
}

enum ctrlr_state observe_ctrlr_state(const char *s)
{
	if (strcmp(s, "enabled") == 0)
		return CTRLR_ENABLED;
	if (strcmp(s, "resetting") == 0)
		return CTRLR_RESETTING;
	if (strcmp(s, "reconnect_is_delayed") == 0)
		return CTRLR_RECONNECT_DELAYED;
	if (strcmp(s, "failed") == 0)
		return CTRLR_FAILED;
	if (strcmp(s, "deleting") == 0)
		return CTRLR_DELETING;
	return CTRLR_OTHER;
}

static enum transport_type transport(const char *s)
{
	if (strcasecmp(s, "rdma") == 0)
		return TRANSPORT_RDMA;
	if (strcasecmp(s, "pcie") == 0)
		return TRANSPORT_PCIE;
	return TRANSPORT_TCP;
}

static void qos_from(const struct rpc_qos_limits *lim, struct qos_limits *q)
{
	q->rw_ios_per_sec = pos(lim->rw_ios_per_sec);
	q->rw_mbytes_per_sec = pos(lim->rw_mbytes_per_sec);
	q->r_mbytes_per_sec = pos(lim->r_mbytes_per_sec);
	q->w_mbytes_per_sec = pos(lim->w_mbytes_per_sec);
}

static void ctrlr_from(const struct rpc_nvme_ctrlr *v, struct obs_controller *c,
		       struct obs_path *paths)
{
	util_strlcpy(c->name, v->name, sizeof(c->name));
	c->paths = paths;
	c->n_paths = v->n_paths;
	for (size_t j = 0; j < v->n_paths; j++) {
		const struct rpc_nvme_ctrlr_path *p = &v->paths[j];
		struct obs_path *op = &paths[j];

		op->transport = transport(str(p->trtype));
		util_strlcpy(op->traddr, str(p->traddr), sizeof(op->traddr));
		util_strlcpy(op->trsvcid, str(p->trsvcid), sizeof(op->trsvcid));
		util_strlcpy(op->subnqn, str(p->subnqn), sizeof(op->subnqn));
		util_strlcpy(op->hostnqn, str(p->host_nqn), sizeof(op->hostnqn));
		util_strlcpy(op->hostaddr, str(p->host_addr), sizeof(op->hostaddr));
		op->state = observe_ctrlr_state(str(p->state));
	}
}

static void bdev_from(const struct rpc_bdev *v, struct obs_bdev *b)
{
	util_strlcpy(b->name, v->name, sizeof(b->name));
	util_strlcpy(b->uuid, str(v->uuid), sizeof(b->uuid));
	b->block_size = (uint32_t)pos(v->block_size);
	b->num_blocks = pos(v->num_blocks);
	b->md_size = (uint32_t)pos(v->md_size);
	b->claimed = v->claimed;
	qos_from(&v->qos, &b->qos);
}

static void raid_from(const struct rpc_raid *v, struct obs_raid *r, struct obs_raid_base *bases)
{
	util_strlcpy(r->name, v->name, sizeof(r->name));
	util_strlcpy(r->uuid, str(v->uuid), sizeof(r->uuid));
	util_strlcpy(r->state, str(v->state), sizeof(r->state));
	r->superblock = v->superblock;
	r->discovered = (unsigned)pos(v->num_base_bdevs_discovered);
	r->operational = (unsigned)pos(v->num_base_bdevs_operational);
	if (v->has_process) {
		r->has_process = true;
		util_strlcpy(r->process_target, str(v->process_target), sizeof(r->process_target));
		r->process_percent = (unsigned)pos(v->process_percent);
	}
	r->bases = bases;
	r->n_bases = v->n_bases;
	for (size_t j = 0; j < v->n_bases; j++) {
		const struct rpc_raid_base *p = &v->bases[j];
		struct obs_raid_base *b = &bases[j];

		b->has_name = p->name != NULL;
		util_strlcpy(b->name, str(p->name), sizeof(b->name));
		util_strlcpy(b->uuid, str(p->uuid), sizeof(b->uuid));
		b->is_configured = p->is_configured;
		b->data_offset = pos(p->data_offset);
		b->data_size = pos(p->data_size);
	}
}

int observed_from_raw(const struct observe_raw *raw, const struct obs_first_seen *first_seen,
		      size_t n_first_seen, int64_t now_s, struct observed_model *out)
{
	struct observed_model m = {0};
	size_t nc = raw->controllers.n, nb = raw->bdevs.n, nr = raw->raids.n;
	size_t nv = raw->vhosts.n, nk = raw->keys.n;
	size_t np = 0, nbase = 0, kp = 0, kb = 0;

	for (size_t i = 0; i < nc; i++)
		np += raw->controllers.v[i].n_paths;
	for (size_t i = 0; i < nr; i++)
		nbase += raw->raids.v[i].n_bases;
	m.ctrlrs = calloc(nc + 1, sizeof(*m.ctrlrs));
	m.paths = calloc(np + 1, sizeof(*m.paths));
	m.bdevs = calloc(nb + 1, sizeof(*m.bdevs));
	m.raids = calloc(nr + 1, sizeof(*m.raids));
	m.bases = calloc(nbase + 1, sizeof(*m.bases));
	m.vhosts = calloc(nv + 1, sizeof(*m.vhosts));
	m.keys = calloc(nk + 1, sizeof(*m.keys));
	m.first_seen = calloc(n_first_seen + 1, sizeof(*m.first_seen));
	if (!m.ctrlrs || !m.paths || !m.bdevs || !m.raids || !m.bases || !m.vhosts || !m.keys ||
	    !m.first_seen) {
		observed_model_free(&m);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nc; i++) {
		ctrlr_from(&raw->controllers.v[i], &m.ctrlrs[i], &m.paths[kp]);
		kp += raw->controllers.v[i].n_paths;
	}
	for (size_t i = 0; i < nb; i++)
		bdev_from(&raw->bdevs.v[i], &m.bdevs[i]);
	for (size_t i = 0; i < nr; i++) {
		raid_from(&raw->raids.v[i], &m.raids[i], &m.bases[kb]);
		kb += raw->raids.v[i].n_bases;
	}
	for (size_t i = 0, k = 0; i < raw->vhosts.n; i++) {
		const struct rpc_vhost_ctrlr *v = &raw->vhosts.v[i];
		struct obs_vhost *vh;

		/*
		 * diskengine makes vhost-blk controllers only: any other kind is someone else's
		 * whatever its name, so it stays out of the graph and is never changed (a name
		 * clash shows when creating ours, as a conflict).
		 */
		if (!v->blk) {
			nv--;
			continue;
		}
		vh = &m.vhosts[k++];
		util_strlcpy(vh->name, v->ctrlr, sizeof(vh->name));
		vh->has_bdev = v->bdev != NULL;
		util_strlcpy(vh->bdev, str(v->bdev), sizeof(vh->bdev));
		vh->sessions = (unsigned)v->n_sessions;
	}
	for (size_t i = 0; i < nk; i++) {
		util_strlcpy(m.keys[i].name, raw->keys.v[i].name, sizeof(m.keys[i].name));
		util_strlcpy(m.keys[i].path, str(raw->keys.v[i].path), sizeof(m.keys[i].path));
		m.keys[i].removed = raw->keys.v[i].removed;
	}
	if (n_first_seen)
		memcpy(m.first_seen, first_seen, n_first_seen * sizeof(*first_seen));
	m.o = (struct observed){
		.ctrlrs = m.ctrlrs,
		.n_ctrlrs = nc,
		.bdevs = m.bdevs,
		.n_bdevs = nb,
		.bdevs_listed = raw->bdevs_listed,
		.raids = m.raids,
		.n_raids = nr,
		.vhosts = m.vhosts,
		.n_vhosts = nv,
		.keys = m.keys,
		.n_keys = nk,
		.first_seen = m.first_seen,
		.n_first_seen = n_first_seen,
		.now_s = now_s,
	};
	*out = m;
	return 0;
}

void observed_model_free(struct observed_model *m)
{
	free(m->ctrlrs);
	free(m->paths);
	free(m->bdevs);
	free(m->raids);
	free(m->bases);
	free(m->vhosts);
	free(m->keys);
	free(m->first_seen);
	memset(m, 0, sizeof(*m));
}
