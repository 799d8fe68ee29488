/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The storage node's bdevs: malloc disks (module/bdev/malloc) and logical volumes
 * (module/bdev/lvol over lib/blob): an lvol store claims its base bdev and hands out
 * whole clusters; lvol bdevs are named by their uuid with "<lvs>/<lvol>" as alias.
 * The module also carries the NVMe-oF target's methods (sim_nvmf.c).
 */
#include "sim/sim_target_internal.h"

#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define MIB (1024ULL * 1024ULL)
#define LVS_DEFAULT_CLUSTER_SZ (4 * MIB)
#define BLOB_PAGE_SIZE 4096ULL

struct lvol {
	struct lvs *lvs;
	char *name;
	struct sim_bdev *bdev;
	uint64_t clusters;  /* size in clusters */
	uint64_t allocated; /* clusters owned (all of them unless thin or cloned) */
	bool thin, snapshot, clone;
	char *parent; /* snapshot this clone reads through, by name */
	struct lvol *next;
};

struct lvs {
	char uuid[37];
	char *name;
	struct sim_bdev *base;
	uint64_t cluster_sz;
	uint64_t total_clusters; /* data clusters (metadata clusters excluded) */
	struct lvol *lvols;
	struct lvs *next;
};

static void uuid_new(char out[37])
{
	unsigned char r[16];

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)rand();
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
		 r[13], r[14], r[15]);
}

static void reply_decode_failed(struct sim_req *req)
{
	sim_reply_error(req, -32603, "spdk_json_decode_object failed");
}

static const char *str_param(struct sim_req *req, const char *key)
{
	return json_string_value(json_object_get(req->params, key));
}

static uint64_t uint_param(struct sim_req *req, const char *key, uint64_t dflt)
{
	json_t *v = json_object_get(req->params, key);

	return v ? (uint64_t)json_integer_value(v) : dflt;
}

/* ---- malloc ------------------------------------------------------------------------------- */

static json_t *malloc_io_types(struct sim_bdev *b)
{
	static const char *const yes[] = {"read",	  "write", "unmap", "flush", "reset",
					  "write_zeroes", "zcopy", "abort", "copy"};
	static const char *const all[] = {"read",	 "write",	  "unmap",
					  "flush",	 "reset",	  "nvme_admin",
					  "nvme_io",	 "nvme_io_md",	  "write_zeroes",
					  "zcopy",	 "get_zone_info", "zone_management",
					  "zone_append", "compare",	  "compare_and_write",
					  "abort",	 "seek_hole",	  "seek_data",
					  "copy",	 "nvme_iov_md",	  "nvme_nssr"};
	json_t *o = json_object();

	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		bool on = false;

		for (size_t j = 0; j < ARRAY_SIZE(yes); j++)
			on |= strcmp(all[i], yes[j]) == 0;
		json_object_set_new(o, all[i], json_boolean(on));
	}
	return o;
}

static json_t *system_domain(void)
{
	return json_pack("{s:s,s:i}", "dma_device_id", "system", "dma_device_type", 1);
}

static json_t *malloc_memory_domains(struct sim_bdev *b)
{
	return json_pack("[o]", system_domain());
}

static void malloc_write_config(struct sim *s, struct sim_bdev *b, json_t *arr)
{
	json_array_append_new(
		arr, json_pack("{s:s,s:{s:s,s:I,s:i,s:i,s:s,s:i}}", "method", "bdev_malloc_create",
			       "params", "name", b->name, "num_blocks", (json_int_t)b->num_blocks,
			       "block_size", (int)b->block_size, "physical_block_size",
			       (int)b->block_size, "uuid", b->uuid, "optimal_io_boundary", 0));
}

static const struct sim_bdev_ops malloc_ops = {
	.product_name = "Malloc disk",
	.io_types = malloc_io_types,
	.memory_domains = malloc_memory_domains,
	.write_config = malloc_write_config,
};

static void rpc_bdev_malloc_create(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"name", SIM_J_STRING, true},
		{"uuid", SIM_J_STRING, true},
		{"num_blocks", SIM_J_UINT, false},
		{"block_size", SIM_J_UINT32, false},
		{"physical_block_size", SIM_J_UINT32, true},
		{"optimal_io_boundary", SIM_J_UINT32, true},
		{"md_size", SIM_J_UINT32, true},
		{"md_interleave", SIM_J_BOOL, true},
		{"dif_type", SIM_J_INT32, true},
		{"dif_is_head_of_md", SIM_J_BOOL, true},
		{"dif_pi_format", SIM_J_UINT32, true},
	};
	struct sim_target_state *st = req->sim->target;
	uint64_t num_blocks, block_size;
	struct sim_bdev *b;
	char name[64];
	const char *n;
	int err = 0;

	if (!sim_decode_strict(req->params, dec, ARRAY_SIZE(dec))) {
		reply_decode_failed(req);
		return;
	}
	num_blocks = uint_param(req, "num_blocks", 0);
	block_size = uint_param(req, "block_size", 0);
	if (block_size % 512 || block_size == 0 || num_blocks == 0) {
		sim_reply_errno(req, EINVAL);
		return;
	}
	n = str_param(req, "name");
	if (!n) {
		snprintf(name, sizeof(name), "Malloc%u", st->malloc_seq);
		n = name;
	}
	b = sim_bdev_register(req->sim, n, str_param(req, "uuid"), (uint32_t)block_size, num_blocks,
			      0, &malloc_ops, NULL, &err);
	if (!b) {
		sim_reply_errno(req, -err);
		return;
	}
	st->malloc_seq++;
	b->write_geometry[0] = 1;
	b->write_geometry[1] = 1;
	b->write_geometry[3] = 1;
	b->write_geometry[4] = 1;
	sim_reply(req, json_string(b->name));
}

static void rpc_bdev_malloc_delete(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"name", SIM_J_STRING, false}};
	struct sim_bdev *b;

	if (!sim_decode_strict(req->params, dec, 1)) {
		reply_decode_failed(req);
		return;
	}
	b = sim_bdev_find(req->sim, str_param(req, "name"));
	if (!b || b->ops != &malloc_ops) {
		sim_reply_errno(req, ENODEV);
		return;
	}
	if (b->claim_type) {
		sim_reply_errno(req, EBUSY);
		return;
	}
	sim_bdev_unregister(req->sim, b);
	sim_reply(req, json_true());
}

/* ---- lvol stores ------------------------------------------------------------------------- */

static uint64_t lvs_free_clusters(const struct lvs *lvs)
{
	uint64_t used = 0;

	for (const struct lvol *l = lvs->lvols; l; l = l->next)
		used += l->allocated;
	return used > lvs->total_clusters ? 0 : lvs->total_clusters - used;
}

static struct lvs *lvs_find(struct sim *s, const char *uuid, const char *name)
{
	for (struct lvs *l = s->target->stores; l; l = l->next)
		if ((uuid && strcmp(l->uuid, uuid) == 0) || (name && strcmp(l->name, name) == 0))
			return l;
	return NULL;
}

/*
 * Blobstore layout: the super block, three bit masks and one metadata page per
 * cluster (num_md_pages_per_cluster_ratio 100%) live at the start of the device, in
 * whole clusters that data cannot use.
 */
static uint64_t lvs_data_clusters(uint64_t dev_bytes, uint64_t cluster_sz)
{
	uint64_t total = dev_bytes / cluster_sz;
	uint64_t md_pages = 1 + 3 + total;
	uint64_t md_clusters = (md_pages * BLOB_PAGE_SIZE + cluster_sz - 1) / cluster_sz;

	return total > md_clusters ? total - md_clusters : 0;
}

static void rpc_bdev_lvol_create_lvstore(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"bdev_name", SIM_J_STRING, false},
		{"cluster_sz", SIM_J_UINT32, true},
		{"lvs_name", SIM_J_STRING, false},
		{"clear_method", SIM_J_STRING, true},
		{"num_md_pages_per_cluster_ratio", SIM_J_UINT32, true},
		{"md_page_size", SIM_J_UINT32, true},
	};
	struct sim_target_state *st = req->sim->target;
	const char *cm, *name;
	struct sim_bdev *base;
	struct lvs *lvs, **tail;
	uint64_t cluster_sz;

	if (!sim_decode_strict(req->params, dec, ARRAY_SIZE(dec))) {
		reply_decode_failed(req);
		return;
	}
	cm = str_param(req, "clear_method");
	if (cm && strcasecmp(cm, "none") && strcasecmp(cm, "unmap") &&
	    strcasecmp(cm, "write_zeroes")) {
		sim_reply_error(req, -EINVAL, "Invalid clear_method parameter");
		return;
	}
	base = sim_bdev_find(req->sim, str_param(req, "bdev_name"));
	if (!base) {
		sim_reply_errno(req, ENODEV);
		return;
	}
	name = str_param(req, "lvs_name");
	cluster_sz = uint_param(req, "cluster_sz", LVS_DEFAULT_CLUSTER_SZ);
	if (strlen(name) == 0 || strlen(name) > 63) {
		sim_reply_errno(req, EINVAL);
		return;
	}
	if (lvs_find(req->sim, NULL, name)) {
		sim_reply_error(req, -32602, "%s", strerror(EEXIST));
		return;
	}
	if (cluster_sz < BLOB_PAGE_SIZE || cluster_sz % BLOB_PAGE_SIZE ||
	    lvs_data_clusters(base->num_blocks * base->block_size, cluster_sz) == 0) {
		sim_reply_error(req, -32602, "%s", strerror(EINVAL));
		return;
	}
	if (sim_bdev_claim(base, "lvol", "exclusive_write") < 0) {
		sim_reply_errno(req, EPERM);
		return;
	}
	lvs = calloc(1, sizeof(*lvs));
	if (!lvs)
		abort();
	uuid_new(lvs->uuid);
	lvs->name = util_xstrdup(name);
	lvs->base = base;
	lvs->cluster_sz = cluster_sz;
	lvs->total_clusters = lvs_data_clusters(base->num_blocks * base->block_size, cluster_sz);
	for (tail = &st->stores; *tail; tail = &(*tail)->next)
		;
	*tail = lvs;
	sim_reply(req, json_string(lvs->uuid));
}

static json_t *lvs_json(const struct lvs *l)
{
	return json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:i,s:I}", "uuid", l->uuid, "name", l->name,
			 "base_bdev", l->base->name, "total_data_clusters",
			 (json_int_t)l->total_clusters, "free_clusters",
			 (json_int_t)lvs_free_clusters(l), "block_size",
			 (json_int_t)l->base->block_size, "md_page_size", 4096, "cluster_size",
			 (json_int_t)l->cluster_sz);
}

static void rpc_bdev_lvol_get_lvstores(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"uuid", SIM_J_STRING, true},
						 {"lvs_name", SIM_J_STRING, true}};
	const char *uuid = str_param(req, "uuid"), *name = str_param(req, "lvs_name");
	json_t *arr;

	if (req->params && !sim_decode_ok(req->params, dec, 2)) {
		reply_decode_failed(req);
		return;
	}
	if (uuid && name) {
		sim_reply_errno(req, EINVAL);
		return;
	}
	arr = json_array();
	for (struct lvs *l = req->sim->target->stores; l; l = l->next) {
		if ((uuid && strcmp(uuid, l->uuid)) || (name && strcmp(name, l->name)))
			continue;
		json_array_append_new(arr, lvs_json(l));
	}
	if ((uuid || name) && json_array_size(arr) == 0) {
		json_decref(arr);
		sim_reply_errno(req, ENODEV);
		return;
	}
	sim_reply(req, arr);
}

/* ---- lvols -------------------------------------------------------------------------------- */

static json_t *lvol_io_types(struct sim_bdev *b)
{
	json_t *o = malloc_io_types(b);

	json_object_set_new(o, "flush", json_false());
	json_object_set_new(o, "zcopy", json_false());
	json_object_set_new(o, "abort", json_false());
	json_object_set_new(o, "copy", json_false());
	json_object_set_new(o, "seek_hole", json_true());
	json_object_set_new(o, "seek_data", json_true());
	return o;
}

static json_t *lvol_memory_domains(struct sim_bdev *b)
{
	return json_pack("[o,{s:s,s:i}]", system_domain(), "dma_device_id", "SPDK_ACCEL_DMA_DEVICE",
			 "dma_device_type", 2);
}

static json_t *lvol_driver_specific(struct sim_bdev *b)
{
	struct lvol *l = b->ctx;
	json_t *o;

	if (!l)
		return NULL;
	o = json_pack("{s:s,s:s,s:b,s:I,s:b,s:b,s:b}", "lvol_store_uuid", l->lvs->uuid, "base_bdev",
		      l->lvs->base->name, "thin_provision", l->thin, "num_allocated_clusters",
		      (json_int_t)l->allocated, "snapshot", l->snapshot, "clone", l->clone,
		      "esnap_clone", 0);
	if (l->clone && l->parent)
		json_object_set_new(o, "base_snapshot", json_string(l->parent));
	return json_pack("{s:o}", "lvol", o);
}

static void lvol_destruct(struct sim_bdev *b)
{
	struct lvol *l = b->ctx;

	if (!l)
		return;
	for (struct lvol **pp = &l->lvs->lvols; *pp; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	free(l->name);
	free(l->parent);
	free(l);
}

static const struct sim_bdev_ops lvol_ops = {
	.product_name = "Logical Volume",
	.io_types = lvol_io_types,
	.memory_domains = lvol_memory_domains,
	.driver_specific = lvol_driver_specific,
	.destruct = lvol_destruct,
};

static struct lvol *lvol_find(struct sim *s, const char *name)
{
	struct sim_bdev *b = sim_bdev_find(s, name);

	return b && b->ops == &lvol_ops ? b->ctx : NULL;
}

static struct lvol *lvol_new(struct sim *s, struct lvs *lvs, const char *name, uint64_t clusters,
			     bool thin, int *err)
{
	char alias[256], uuid[37];
	struct lvol *l, **tail;
	struct sim_bdev *b;

	for (struct lvol *o = lvs->lvols; o; o = o->next) {
		if (strcmp(o->name, name) == 0) {
			*err = -EEXIST;
			return NULL;
		}
	}
	if (!thin && clusters > lvs_free_clusters(lvs)) {
		*err = -ENOSPC;
		return NULL;
	}
	snprintf(alias, sizeof(alias), "%s/%s", lvs->name, name);
	uuid_new(uuid);
	l = calloc(1, sizeof(*l));
	if (!l)
		abort();
	b = sim_bdev_register(s, uuid, uuid, lvs->base->block_size,
			      clusters * lvs->cluster_sz / lvs->base->block_size, 0, &lvol_ops, l,
			      err);
	if (!b) {
		free(l);
		return NULL;
	}
	if (sim_bdev_alias_add(s, b, alias) < 0) {
		b->ctx = NULL;
		sim_bdev_unregister(s, b);
		free(l);
		*err = -EEXIST;
		return NULL;
	}
	l->lvs = lvs;
	l->name = util_xstrdup(name);
	l->bdev = b;
	l->clusters = clusters;
	l->allocated = thin ? 0 : clusters;
	l->thin = thin;
	for (tail = &lvs->lvols; *tail; tail = &(*tail)->next)
		;
	*tail = l;
	return l;
}

static void rpc_bdev_lvol_create(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"uuid", SIM_J_STRING, true},	      {"lvs_name", SIM_J_STRING, true},
		{"lvol_name", SIM_J_STRING, false},   {"size_in_mib", SIM_J_UINT, false},
		{"thin_provision", SIM_J_BOOL, true}, {"clear_method", SIM_J_STRING, true},
	};
	const char *uuid = str_param(req, "uuid"), *lvs_name = str_param(req, "lvs_name");
	struct lvs *lvs;
	struct lvol *l;
	uint64_t bytes;
	int err = 0;

	if (!sim_decode_strict(req->params, dec, ARRAY_SIZE(dec))) {
		reply_decode_failed(req);
		return;
	}
	if ((uuid && lvs_name) || (!uuid && !lvs_name)) {
		sim_reply_errno(req, EINVAL);
		return;
	}
	lvs = lvs_find(req->sim, uuid, lvs_name);
	if (!lvs) {
		sim_reply_errno(req, ENODEV);
		return;
	}
	bytes = uint_param(req, "size_in_mib", 0) * MIB;
	l = lvol_new(req->sim, lvs, str_param(req, "lvol_name"),
		     (bytes + lvs->cluster_sz - 1) / lvs->cluster_sz,
		     json_is_true(json_object_get(req->params, "thin_provision")), &err);
	if (!l) {
		sim_reply_error(req, -32602, "%s", strerror(-err));
		return;
	}
	sim_reply(req, json_string(l->bdev->uuid));
}

static void rpc_bdev_lvol_resize(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"name", SIM_J_STRING, false},
						 {"size_in_mib", SIM_J_UINT, false}};
	struct lvol *l;
	uint64_t clusters;

	if (!sim_decode_strict(req->params, dec, 2)) {
		reply_decode_failed(req);
		return;
	}
	l = lvol_find(req->sim, str_param(req, "name"));
	if (!l) {
		sim_reply_errno(req, ENODEV);
		return;
	}
	clusters = (uint_param(req, "size_in_mib", 0) * MIB + l->lvs->cluster_sz - 1) /
		   l->lvs->cluster_sz;
	if (l->snapshot) {
		sim_reply_error(req, -32602, "%s", strerror(EPERM));
		return;
	}
	/* blob resize first allocates; the bdev layer then refuses to shrink an open bdev */
	if (!l->thin && clusters > l->clusters &&
	    clusters - l->clusters > lvs_free_clusters(l->lvs)) {
		sim_reply_error(req, -32602, "%s", strerror(ENOSPC));
		return;
	}
	if (clusters < l->clusters && (l->bdev->claim_type || l->bdev->channels)) {
		sim_reply_error(req, -32602, "%s", strerror(EBUSY));
		return;
	}
	if (!l->thin)
		l->allocated = clusters;
	else if (l->allocated > clusters)
		l->allocated = clusters;
	l->clusters = clusters;
	sim_bdev_resize(req->sim, l->bdev, clusters * l->lvs->cluster_sz / l->bdev->block_size);
	sim_reply(req, json_true());
}

static void rpc_bdev_lvol_snapshot(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"lvol_name", SIM_J_STRING, false},
						 {"snapshot_name", SIM_J_STRING, false}};
	struct lvol *l, *snap;
	int err = 0;

	if (!sim_decode_strict(req->params, dec, 2)) {
		reply_decode_failed(req);
		return;
	}
	l = lvol_find(req->sim, str_param(req, "lvol_name"));
	if (!l) {
		sim_reply_errno(req, ENODEV);
		return;
	}
	/* the snapshot takes over the clusters; the origin reads through it (thin clone) */
	snap = lvol_new(req->sim, l->lvs, str_param(req, "snapshot_name"), l->clusters, true, &err);
	if (!snap) {
		sim_reply_error(req, -32602, "%s", strerror(-err));
		return;
	}
	snap->snapshot = true;
	/* the snapshot is frozen with the origin's bytes; both read the same until written */
	sim_bdev_content_copy(snap->bdev, l->bdev);
	snap->allocated = l->allocated;
	l->allocated = 0;
	l->clone = true;
	l->thin = true;
	free(l->parent);
	l->parent = util_xstrdup(snap->name);
	sim_reply(req, json_string(snap->bdev->uuid));
}

static void rpc_bdev_lvol_clone(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"snapshot_name", SIM_J_STRING, false},
						 {"clone_name", SIM_J_STRING, false}};
	struct lvol *snap, *c;
	int err = 0;

	if (!sim_decode_strict(req->params, dec, 2)) {
		reply_decode_failed(req);
		return;
	}
	snap = lvol_find(req->sim, str_param(req, "snapshot_name"));
	if (!snap) {
		sim_reply_errno(req, ENODEV);
		return;
	}
	if (!snap->snapshot) {
		/* only a read-only blob can be cloned */
		sim_reply_error(req, -32602, "%s", strerror(EINVAL));
		return;
	}
	c = lvol_new(req->sim, snap->lvs, str_param(req, "clone_name"), snap->clusters, true, &err);
	if (!c) {
		sim_reply_error(req, -32602, "%s", strerror(-err));
		return;
	}
	c->clone = true;
	c->parent = util_xstrdup(snap->name);
	/* a snapshot never changes, so a copy reads as reading through it */
	sim_bdev_content_copy(c->bdev, snap->bdev);
	sim_reply(req, json_string(c->bdev->uuid));
}

/*
 * An "esnap" clone: a thin lvol whose unwritten clusters read from any bdev, typically
 * another node's snapshot attached over NVMe-oF (vbdev_lvol_create_bdev_clone).
 */
static void rpc_bdev_lvol_clone_bdev(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"bdev", SIM_J_STRING, false},
						 {"lvs_name", SIM_J_STRING, false},
						 {"clone_name", SIM_J_STRING, false}};
	struct sim_bdev *ext;
	struct lvol *c, *own;
	struct lvs *lvs;
	int err = 0;

	if (!sim_decode_strict(req->params, dec, 3)) {
		reply_decode_failed(req);
		return;
	}
	lvs = lvs_find(req->sim, NULL, str_param(req, "lvs_name"));
	if (!lvs) {
		sim_reply_error(req, -32602, "lvs does not exist");
		return;
	}
	ext = sim_bdev_find(req->sim, str_param(req, "bdev"));
	if (!ext) {
		sim_reply_error(req, -32602, "bdev does not exist");
		return;
	}
	own = lvol_find(req->sim, str_param(req, "bdev"));
	if (own && own->lvs == lvs) {
		sim_reply_error(req, -32602,
				"bdev is an lvol in same lvs as clone; "
				"use bdev_lvol_clone instead");
		return;
	}
	c = lvol_new(req->sim, lvs, str_param(req, "clone_name"),
		     (ext->num_blocks * ext->block_size + lvs->cluster_sz - 1) / lvs->cluster_sz,
		     true, &err);
	if (!c) {
		sim_reply_error(req, -32602, "%s", strerror(-err));
		return;
	}
	c->clone = true;
	/* the external snapshot is read-only to the clone: a copy reads as reading through it */
	sim_bdev_content_copy(c->bdev, ext);
	sim_reply(req, json_string(c->bdev->uuid));
}

static void rpc_bdev_lvol_delete(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"name", SIM_J_STRING, false}};
	struct lvol *l;

	if (!sim_decode_strict(req->params, dec, 1)) {
		reply_decode_failed(req);
		return;
	}
	l = lvol_find(req->sim, str_param(req, "name"));
	if (!l) {
		sim_reply_errno(req, ENODEV);
		return;
	}
	for (struct lvol *o = l->lvs->lvols; o; o = o->next) {
		if (o->parent && strcmp(o->parent, l->name) == 0) {
			/* a snapshot with clones cannot go */
			sim_reply_error(req, -32602, "%s", strerror(EPERM));
			return;
		}
	}
	if (l->bdev->claim_type) {
		sim_reply_error(req, -32602, "%s", strerror(EBUSY));
		return;
	}
	sim_bdev_unregister(req->sim, l->bdev);
	sim_reply(req, json_true());
}

/* ---- module ---------------------------------------------------------------------------- */

static void target_bdev_resized(struct sim *s, struct sim_bdev *b, void *ctx)
{
	sim_nvmf_bdev_resized(s, b);
}

static void target_bdev_removed(struct sim *s, struct sim_bdev *b, void *ctx)
{
	sim_nvmf_bdev_removed(s, b);
}

static const struct sim_bdev_listener target_listener = {
	.removed = target_bdev_removed,
	.resized = target_bdev_resized,
};

static void target_init(struct sim *s)
{
	s->target = calloc(1, sizeof(*s->target));
	if (!s->target)
		abort();
	s->target->transports = json_array();
	sim_bdev_listen(s, &target_listener);
}

static void target_fini(struct sim *s)
{
	struct sim_target_state *st = s->target;

	if (!st)
		return;
	sim_bdev_unlisten(s, &target_listener);
	sim_nvmf_fini(s);
	while (st->stores) {
		struct lvs *lvs = st->stores;

		st->stores = lvs->next;
		/* lvol_destruct unlinks and frees each lvol */
		while (lvs->lvols)
			sim_bdev_unregister(s, lvs->lvols->bdev);
		sim_bdev_release(lvs->base);
		free(lvs->name);
		free(lvs);
	}
	for (struct sim_bdev *b = sim_bdev_first(s), *next; b; b = next) {
		next = b->next;
		if (b->ops == &malloc_ops)
			sim_bdev_unregister(s, b);
	}
	json_decref(st->transports);
	free(st);
	s->target = NULL;
}

static void target_config(struct sim *s, const char *subsystem, json_t *arr)
{
	if (strcmp(subsystem, "nvmf") == 0)
		sim_nvmf_config(s, arr);
}

static const struct sim_method target_methods[] = {
	{"bdev_malloc_create", rpc_bdev_malloc_create, SIM_RUNTIME},
	{"bdev_malloc_delete", rpc_bdev_malloc_delete, SIM_RUNTIME},
	{"bdev_lvol_create_lvstore", rpc_bdev_lvol_create_lvstore, SIM_RUNTIME},
	{"bdev_lvol_get_lvstores", rpc_bdev_lvol_get_lvstores, SIM_RUNTIME},
	{"bdev_lvol_create", rpc_bdev_lvol_create, SIM_RUNTIME},
	{"bdev_lvol_resize", rpc_bdev_lvol_resize, SIM_RUNTIME},
	{"bdev_lvol_snapshot", rpc_bdev_lvol_snapshot, SIM_RUNTIME},
	{"bdev_lvol_clone", rpc_bdev_lvol_clone, SIM_RUNTIME},
	{"bdev_lvol_clone_bdev", rpc_bdev_lvol_clone_bdev, SIM_RUNTIME},
	{"bdev_lvol_delete", rpc_bdev_lvol_delete, SIM_RUNTIME},
	{"nvmf_create_transport", rpc_nvmf_create_transport, SIM_RUNTIME},
	{"nvmf_get_transports", rpc_nvmf_get_transports, SIM_RUNTIME},
	{"nvmf_create_subsystem", rpc_nvmf_create_subsystem, SIM_RUNTIME},
	{"nvmf_delete_subsystem", rpc_nvmf_delete_subsystem, SIM_RUNTIME},
	{"nvmf_subsystem_add_ns", rpc_nvmf_subsystem_add_ns, SIM_RUNTIME},
	{"nvmf_subsystem_remove_ns", rpc_nvmf_subsystem_remove_ns, SIM_RUNTIME},
	{"nvmf_subsystem_add_listener", rpc_nvmf_subsystem_add_listener, SIM_RUNTIME},
	{"nvmf_subsystem_remove_listener", rpc_nvmf_subsystem_remove_listener, SIM_RUNTIME},
	{"nvmf_subsystem_add_host", rpc_nvmf_subsystem_add_host, SIM_RUNTIME},
	{"nvmf_subsystem_remove_host", rpc_nvmf_subsystem_remove_host, SIM_RUNTIME},
	{"nvmf_subsystem_allow_any_host", rpc_nvmf_subsystem_allow_any_host, SIM_RUNTIME},
	{"nvmf_subsystem_set_keys", rpc_nvmf_subsystem_set_keys, SIM_RUNTIME},
	{"nvmf_get_subsystems", rpc_nvmf_get_subsystems, SIM_RUNTIME},
	{NULL, NULL, 0},
};

const struct sim_module sim_module_target = {
	.name = "target",
	.methods = target_methods,
	.init = target_init,
	.fini = target_fini,
	.config = target_config,
};
