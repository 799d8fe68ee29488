/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bdev layer: the registry of block devices (registration order, names and
 * aliases, claims, listeners, superblock storage), the bdev_get_bdevs entry shape and
 * the "bdev" subsystem's saved config. The bdev_* methods are in sim_bdev_rpc.c.
 */
#include "sim/sim_bdev_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static const char *const qos_names[SIM_QOS_COUNT] = {
	"rw_ios_per_sec", "rw_mbytes_per_sec", "r_mbytes_per_sec", "w_mbytes_per_sec"};

static void bdev_free(struct sim_bdev *b);

const char *sim_qos_name(enum sim_qos_kind k)
{
	return qos_names[k];
}

struct sim_bdev_state *sim_bdev_state_get(struct sim *s)
{
	if (!s->bdev) {
		s->bdev = calloc(1, sizeof(*s->bdev));
		if (!s->bdev)
			abort();
		s->bdev->opts = json_pack("{s:i,s:i,s:b,s:i,s:i}", "bdev_io_pool_size", 65535,
					  "bdev_io_cache_size", 256, "bdev_auto_examine", 1,
					  "iobuf_small_cache_size", 128, "iobuf_large_cache_size", 16);
	}
	return s->bdev;
}

void sim_bdev_state_free(struct sim *s)
{
	struct sim_bdev_state *st = s->bdev;

	/* bdevs left by modules: their owners are gone, so no listeners and no destruct */
	while (s->bdevs) {
		struct sim_bdev *b = s->bdevs;

		s->bdevs = b->next;
		bdev_free(b);
	}
	if (!st)
		return;
	for (struct sim_bdev_waiter *w = st->waiters, *next; w; w = next) {
		next = w->next;
		free(w->name);
		free(w);
	}
	free(st->listeners);
	json_decref(st->opts);
	free(st);
	s->bdev = NULL;
}

static void uuid_generate(char out[37])
{
	unsigned char r[16];

	if (getrandom(r, sizeof(r), 0) != sizeof(r)) {
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)rand();
	}
	r[6] = (r[6] & 0x0f) | 0x40; /* version 4 */
	r[8] = (r[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
		 r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
		 r[14], r[15]);
}

static bool bdev_has_name(struct sim_bdev *b, const char *name)
{
	size_t i;
	json_t *a;

	if (strcmp(b->name, name) == 0)
		return true;
	json_array_foreach(b->aliases, i, a)
		if (strcmp(json_string_value(a), name) == 0)
			return true;
	return false;
}

struct sim_bdev *sim_bdev_find(struct sim *s, const char *name)
{
	if (!name)
		return NULL;
	for (struct sim_bdev *b = s->bdevs; b; b = b->next)
		if (bdev_has_name(b, name))
			return b;
	return NULL;
}

struct sim_bdev *sim_bdev_first(struct sim *s)
{
	return s->bdevs;
}

int sim_bdev_alias_add(struct sim *s, struct sim_bdev *b, const char *alias)
{
	if (!alias)
		return -EINVAL;
	if (sim_bdev_find(s, alias))
		return -EEXIST;
	json_array_append_new(b->aliases, json_string(alias));
	return 0;
}

static void bdev_free(struct sim_bdev *b)
{
	json_decref(b->aliases);
	free(b->name);
	free(b->claim_module);
	free(b->mem_sb);
	json_decref(b->blocks);
	free(b);
}

void sim_bdev_read(struct sim *s, struct sim_bdev *b, uint64_t offset, uint64_t len)
{
	b->stats.bytes_read += len;
	b->stats.num_read_ops++;
	if (b->ops && b->ops->read)
		b->ops->read(s, b, offset, len);
}

/*
 * The examine reads spdk_tgt's bdev modules issue for a new bdev: lvol loads the 4 KiB
 * blobstore super block, raid probes for a superblock in the first block, gpt reads its
 * 32 KiB buffer (bdevs of 2+ blocks of a 512 B multiple). They are in flight together;
 * the order matters only to a raid1 below, which balances them by outstanding blocks
 * (raid_1's members in qos_iostat.jsonl#43 show this order). Reads that would run past
 * the end of the bdev are not issued.
 */
static void bdev_examine(struct sim *s, struct sim_bdev *b)
{
	uint64_t size = (uint64_t)b->block_size * b->num_blocks;
	uint64_t gpt = b->block_size > 32768 ? b->block_size : 32768;
	uint64_t page = b->block_size > 4096 ? b->block_size : 4096;

	if (!json_is_true(json_object_get(sim_bdev_state_get(s)->opts, "bdev_auto_examine")))
		return;
	if (page <= size)
		sim_bdev_read(s, b, 0, page);
	if (b->block_size <= size)
		sim_bdev_read(s, b, 0, b->block_size);
	if (b->num_blocks >= 2 && b->block_size % 512 == 0 && gpt <= size)
		sim_bdev_read(s, b, 0, gpt);
}

struct sim_bdev *sim_bdev_register(struct sim *s, const char *name, const char *uuid,
				   uint32_t block_size, uint64_t num_blocks, uint32_t md_size,
				   const struct sim_bdev_ops *ops, void *ctx, int *err)
{
	struct sim_bdev_state *st = sim_bdev_state_get(s);
	struct sim_bdev *b, **tail;

	if (!name || !*name) {
		*err = -EINVAL;
		return NULL;
	}
	if (sim_bdev_find(s, name)) {
		*err = -EEXIST;
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		*err = -ENOMEM;
		return NULL;
	}
	b->name = strdup(name);
	b->aliases = json_array();
	if (uuid)
		snprintf(b->uuid, sizeof(b->uuid), "%s", uuid);
	else
		uuid_generate(b->uuid);
	/* SPDK adds the uuid as an alias unless it is the name itself */
	if (strcmp(b->uuid, name) != 0) {
		int rc = sim_bdev_alias_add(s, b, b->uuid);

		if (rc < 0) {
			bdev_free(b);
			*err = rc;
			return NULL;
		}
	}
	b->block_size = block_size;
	b->num_blocks = num_blocks;
	b->md_size = md_size;
	b->ops = ops;
	b->ctx = ctx;
	for (tail = &s->bdevs; *tail; tail = &(*tail)->next)
		;
	*tail = b;
	bdev_examine(s, b);
	for (size_t i = 0; i < st->nlisteners; i++)
		if (st->listeners[i].added)
			st->listeners[i].added(s, b, st->listeners[i].ctx);
	sim_bdev_waiters_notify(s, b);
	return b;
}

void sim_bdev_unregister(struct sim *s, struct sim_bdev *b)
{
	struct sim_bdev_state *st = sim_bdev_state_get(s);

	for (size_t i = 0; i < st->nlisteners; i++)
		if (st->listeners[i].removed)
			st->listeners[i].removed(s, b, st->listeners[i].ctx);
	for (struct sim_bdev **pp = &s->bdevs; *pp; pp = &(*pp)->next) {
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	}
	if (b->ops && b->ops->destruct)
		b->ops->destruct(b);
	bdev_free(b);
}

void sim_bdev_resize(struct sim *s, struct sim_bdev *b, uint64_t num_blocks)
{
	struct sim_bdev_state *st = sim_bdev_state_get(s);

	if (b->num_blocks == num_blocks)
		return;
	b->num_blocks = num_blocks;
	for (size_t i = 0; i < st->nlisteners; i++)
		if (st->listeners[i].resized)
			st->listeners[i].resized(s, b, st->listeners[i].ctx);
}

void sim_bdev_listen(struct sim *s, const struct sim_bdev_listener *l)
{
	struct sim_bdev_state *st = sim_bdev_state_get(s);
	struct sim_bdev_listener *n;

	n = realloc(st->listeners, (st->nlisteners + 1) * sizeof(*n));
	if (!n)
		abort();
	st->listeners = n;
	st->listeners[st->nlisteners++] = *l;
}

void sim_bdev_unlisten(struct sim *s, const struct sim_bdev_listener *l)
{
	struct sim_bdev_state *st = s->bdev;
	size_t j = 0;

	if (!st)
		return;
	for (size_t i = 0; i < st->nlisteners; i++) {
		const struct sim_bdev_listener *x = &st->listeners[i];

		if (x->added == l->added && x->removed == l->removed && x->resized == l->resized &&
		    x->ctx == l->ctx)
			continue;
		st->listeners[j++] = *x;
	}
	st->nlisteners = j;
}

int sim_bdev_claim(struct sim_bdev *b, const char *module, const char *claim_type)
{
	if (b->claim_type)
		return -EPERM;
	b->claim_type = claim_type ? claim_type : "exclusive_write";
	b->claim_module = strdup(module ? module : "");
	return 0;
}

void sim_bdev_release(struct sim_bdev *b)
{
	b->claim_type = NULL;
	free(b->claim_module);
	b->claim_module = NULL;
}

int sim_bdev_sb_read(struct sim_bdev *b, void **buf, size_t *len)
{
	void *copy;

	if (b->ops && b->ops->sb_read)
		return b->ops->sb_read(b, buf, len);
	if (!b->mem_sb)
		return -ENODATA;
	copy = malloc(b->mem_sb_len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, b->mem_sb, b->mem_sb_len);
	*buf = copy;
	*len = b->mem_sb_len;
	return 0;
}

int sim_bdev_sb_write(struct sim_bdev *b, const void *buf, size_t len)
{
	void *copy;

	if (b->ops && b->ops->sb_write)
		return b->ops->sb_write(b, buf, len);
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	free(b->mem_sb);
	b->mem_sb = copy;
	b->mem_sb_len = len;
	return 0;
}

/* ---- JSON shapes ------------------------------------------------------------------------ */

/* SPDK's io type names, in enum spdk_bdev_io_type order (bdev_get_bdevs lists all). */
static const char *const io_type_names[] = {
	"read",		  "write",	     "unmap",	    "flush",	  "reset",
	"nvme_admin",	  "nvme_io",	     "nvme_io_md",  "write_zeroes", "zcopy",
	"get_zone_info",  "zone_management", "zone_append", "compare",	  "compare_and_write",
	"abort",	  "seek_hole",	     "seek_data",   "copy",	  "nvme_iov_md",
	"nvme_nssr",
};

static json_t *io_types_default(void)
{
	json_t *o = json_object();

	for (size_t i = 0; i < sizeof(io_type_names) / sizeof(io_type_names[0]); i++)
		json_object_set_new(o, io_type_names[i], json_boolean(i < 2));
	return o;
}

json_t *sim_json_from_u64(uint64_t v)
{
	/* jansson integers are int64: above that only a (rounded) real can carry it */
	return v <= INT64_MAX ? json_integer((json_int_t)v) : json_real((double)v);
}

json_t *sim_bdev_qos_json(struct sim_bdev *b)
{
	json_t *o = json_object();

	for (int i = 0; i < SIM_QOS_COUNT; i++)
		json_object_set_new(o, qos_names[i], sim_json_from_u64(b->qos[i]));
	return o;
}

static const char *const geometry_names[5] = {
	"preferred_write_alignment", "preferred_write_granularity", "optimal_write_size",
	"preferred_unmap_alignment", "preferred_unmap_granularity"};

json_t *sim_bdev_to_json(struct sim *s, struct sim_bdev *b)
{
	json_t *o = json_object(), *v;

	json_object_set_new(o, "name", json_string(b->name));
	json_object_set_new(o, "aliases", json_deep_copy(b->aliases));
	json_object_set_new(o, "product_name",
			    json_string(b->ops && b->ops->product_name ? b->ops->product_name : ""));
	json_object_set_new(o, "block_size", json_integer(b->block_size));
	json_object_set_new(o, "num_blocks", json_integer((json_int_t)b->num_blocks));
	for (int i = 0; i < 5; i++)
		json_object_set_new(o, geometry_names[i], json_integer(b->write_geometry[i]));
	json_object_set_new(o, "uuid", json_string(b->uuid));
	if (b->numa_id_valid)
		json_object_set_new(o, "numa_id", json_integer(b->numa_id));
	if (b->md_size) {
		json_object_set_new(o, "md_size", json_integer(b->md_size));
		json_object_set_new(o, "md_interleave", json_false());
		json_object_set_new(o, "dif_type", json_integer(0));
	}
	json_object_set_new(o, "assigned_rate_limits", sim_bdev_qos_json(b));
	json_object_set_new(o, "claimed", json_boolean(b->claim_type != NULL));
	if (b->claim_type)
		json_object_set_new(o, "claim_type", json_string(b->claim_type));
	json_object_set_new(o, "zoned", json_false());
	v = b->ops && b->ops->io_types ? b->ops->io_types(b) : NULL;
	json_object_set_new(o, "supported_io_types", v ? v : io_types_default());
	v = b->ops && b->ops->memory_domains ? b->ops->memory_domains(b) : NULL;
	if (v)
		json_object_set_new(o, "memory_domains", v);
	v = b->ops && b->ops->driver_specific ? b->ops->driver_specific(b) : NULL;
	json_object_set_new(o, "driver_specific", v ? v : json_object());
	(void)s;
	return o;
}

/* bdev_get_iostat's counters for one bdev, without the name (per-channel shape). */
json_t *sim_bdev_stat_json(struct sim_bdev *b)
{
	static const char *const lat[] = {"read", "write", "unmap", "copy"};
	const struct sim_bdev_stats *st = &b->stats;
	json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:i}", "bytes_read",
			      (json_int_t)st->bytes_read, "num_read_ops",
			      (json_int_t)st->num_read_ops, "bytes_written",
			      (json_int_t)st->bytes_written, "num_write_ops",
			      (json_int_t)st->num_write_ops, "bytes_unmapped",
			      (json_int_t)st->bytes_unmapped, "num_unmap_ops",
			      (json_int_t)st->num_unmap_ops, "bytes_copied", 0, "num_copy_ops", 0);
	const uint64_t ticks[4][3] = {
		{st->read_latency_ticks, st->max_read_latency_ticks, st->min_read_latency_ticks},
		{st->write_latency_ticks, st->max_write_latency_ticks, st->min_write_latency_ticks},
	};
	char key[64];

	/* Latencies come only from the control channel's "io" command (examine reads take no
	 * time here); unmap and copy are not modelled. min reads 0 until the first I/O: SPDK
	 * keeps UINT64_MAX there and writes 0 for it (spdk_bdev_dump_io_stat_json). */
	for (size_t i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "%s_latency_ticks", lat[i]);
		json_object_set_new(o, key, json_integer((json_int_t)ticks[i][0]));
		snprintf(key, sizeof(key), "max_%s_latency_ticks", lat[i]);
		json_object_set_new(o, key, json_integer((json_int_t)ticks[i][1]));
		snprintf(key, sizeof(key), "min_%s_latency_ticks", lat[i]);
		json_object_set_new(o, key, json_integer((json_int_t)ticks[i][2]));
	}
	return o;
}

json_t *sim_bdev_config(struct sim *s)
{
	/* SPDK's bdev module list order (modules register in reverse link order) */
	static const struct sim_module *const order[] = {
		&sim_module_raid, &sim_module_target, &sim_module_nvme,
	};
	struct sim_bdev_state *st = sim_bdev_state_get(s);
	json_t *arr = json_array();

	json_array_append_new(arr, json_pack("{s:s,s:O}", "method", "bdev_set_options", "params",
					     st->opts));
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (order[i]->config)
			order[i]->config(s, "bdev", arr);
	for (const struct sim_module *const *m = sim_modules; *m; m++) {
		bool listed = false;

		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
			listed |= order[i] == *m;
		if (!listed && *m != &sim_module_bdev && (*m)->config)
			(*m)->config(s, "bdev", arr);
	}
	sim_bdev_config_tail(s, arr);
	return arr;
}

void sim_bdev_config_tail(struct sim *s, json_t *arr)
{
	for (struct sim_bdev *b = s->bdevs; b; b = b->next) {
		json_t *p;
		bool any = false;

		if (b->ops && b->ops->write_config)
			b->ops->write_config(s, b, arr);
		p = json_pack("{s:s}", "name", b->name);
		for (int i = 0; i < SIM_QOS_COUNT; i++) {
			if (b->qos[i]) {
				json_object_set_new(p, qos_names[i], sim_json_from_u64(b->qos[i]));
				any = true;
			}
		}
		if (any)
			json_array_append_new(arr, json_pack("{s:s,s:o}", "method",
							     "bdev_set_qos_limit", "params", p));
		else
			json_decref(p);
	}
	json_array_append_new(arr, json_pack("{s:s}", "method", "bdev_wait_for_examine"));
}
