/* SPDX-License-Identifier: Apache-2.0 */
#include "reconcile/observe_model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static uint64_t juint(json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));
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

static void qos_from(json_t *lim, struct qos_limits *q)
{
	q->rw_ios_per_sec = juint(lim, "rw_ios_per_sec");
	q->rw_mbytes_per_sec = juint(lim, "rw_mbytes_per_sec");
	q->r_mbytes_per_sec = juint(lim, "r_mbytes_per_sec");
	q->w_mbytes_per_sec = juint(lim, "w_mbytes_per_sec");
}

/* Count the second-level arrays to size the flat allocations. */
static size_t count_nested(json_t *arr, const char *key)
{
	size_t i, n = 0;
	json_t *v;

	json_array_foreach(arr, i, v)
		n += json_array_size(json_object_get(v, key));
	return n;
}

int observed_from_raw(const struct observe_raw *raw, const struct obs_first_seen *first_seen,
		      size_t n_first_seen, int64_t now_s, struct observed_model *out)
{
	struct observed_model m = {0};
	size_t nc = json_array_size(raw->controllers), np = count_nested(raw->controllers, "ctrlrs");
	size_t nb = json_array_size(raw->bdevs), nr = json_array_size(raw->raids);
	size_t nbase = count_nested(raw->raids, "base_bdevs_list");
	size_t nv = json_array_size(raw->vhosts), nk = json_array_size(raw->keys);
	size_t i, j, kp = 0, kb = 0;
	json_t *v, *p;

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
	json_array_foreach(raw->controllers, i, v) {
		struct obs_controller *c = &m.ctrlrs[i];
		util_strlcpy(c->name, jstr(v, "name"), sizeof(c->name));
		c->paths = &m.paths[kp];
		json_array_foreach(json_object_get(v, "ctrlrs"), j, p) {
			struct obs_path *op = &m.paths[kp++];
			json_t *trid = json_object_get(p, "trid"), *host = json_object_get(p, "host");
			op->transport = transport(jstr(trid, "trtype"));
			util_strlcpy(op->traddr, jstr(trid, "traddr"), sizeof(op->traddr));
			util_strlcpy(op->trsvcid, jstr(trid, "trsvcid"), sizeof(op->trsvcid));
			util_strlcpy(op->subnqn, jstr(trid, "subnqn"), sizeof(op->subnqn));
			util_strlcpy(op->hostnqn, jstr(host, "nqn"), sizeof(op->hostnqn));
			util_strlcpy(op->hostaddr, jstr(host, "addr"), sizeof(op->hostaddr));
			op->state = observe_ctrlr_state(jstr(p, "state"));
			c->n_paths++;
		}
	}
	json_array_foreach(raw->bdevs, i, v) {
		struct obs_bdev *b = &m.bdevs[i];
		util_strlcpy(b->name, jstr(v, "name"), sizeof(b->name));
		util_strlcpy(b->uuid, jstr(v, "uuid"), sizeof(b->uuid));
		b->block_size = (uint32_t)juint(v, "block_size");
		b->num_blocks = juint(v, "num_blocks");
		b->md_size = (uint32_t)juint(v, "md_size");
		b->claimed = json_is_true(json_object_get(v, "claimed"));
		qos_from(json_object_get(v, "assigned_rate_limits"), &b->qos);
	}
	json_array_foreach(raw->raids, i, v) {
		struct obs_raid *r = &m.raids[i];
		json_t *proc = json_object_get(v, "process");
		util_strlcpy(r->name, jstr(v, "name"), sizeof(r->name));
		util_strlcpy(r->state, jstr(v, "state"), sizeof(r->state));
		r->superblock = json_is_true(json_object_get(v, "superblock"));
		r->discovered = (unsigned)juint(v, "num_base_bdevs_discovered");
		r->operational = (unsigned)juint(v, "num_base_bdevs_operational");
		if (proc) {
			r->has_process = true;
			util_strlcpy(r->process_target, jstr(proc, "target"),
				     sizeof(r->process_target));
			r->process_percent =
				(unsigned)juint(json_object_get(proc, "progress"), "percent");
		}
		r->bases = &m.bases[kb];
		json_array_foreach(json_object_get(v, "base_bdevs_list"), j, p) {
			struct obs_raid_base *b = &m.bases[kb++];
			const char *name = json_string_value(json_object_get(p, "name"));
			b->has_name = name != NULL;
			util_strlcpy(b->name, name ? name : "", sizeof(b->name));
			util_strlcpy(b->uuid, jstr(p, "uuid"), sizeof(b->uuid));
			b->is_configured = json_is_true(json_object_get(p, "is_configured"));
			b->data_offset = juint(p, "data_offset");
			b->data_size = juint(p, "data_size");
			r->n_bases++;
		}
	}
	json_array_foreach(raw->vhosts, i, v) {
		struct obs_vhost *vh = &m.vhosts[i];
		json_t *blk = json_object_get(json_object_get(v, "backend_specific"), "block");
		const char *bdev = json_string_value(json_object_get(blk, "bdev"));
		util_strlcpy(vh->name, jstr(v, "ctrlr"), sizeof(vh->name));
		vh->has_bdev = bdev != NULL;
		util_strlcpy(vh->bdev, bdev ? bdev : "", sizeof(vh->bdev));
		vh->sessions = (unsigned)json_array_size(json_object_get(v, "sessions"));
	}
	json_array_foreach(raw->keys, i, v) {
		util_strlcpy(m.keys[i].name, jstr(v, "name"), sizeof(m.keys[i].name));
		util_strlcpy(m.keys[i].path, jstr(v, "path"), sizeof(m.keys[i].path));
		m.keys[i].removed = json_is_true(json_object_get(v, "removed"));
	}
	if (n_first_seen)
		memcpy(m.first_seen, first_seen, n_first_seen * sizeof(*first_seen));
	m.o = (struct observed){
		.ctrlrs = m.ctrlrs,
		.n_ctrlrs = nc,
		.bdevs = m.bdevs,
		.n_bdevs = nb,
		.bdevs_listed = raw->bdevs != NULL,
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
