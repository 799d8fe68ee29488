/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim raid: JSON-RPC methods, JSON views and saved configuration, as SPDK v25.09
 * module/bdev/raid/bdev_raid_rpc.c answers them (codes and messages included).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_raid.h"

/* SPDK_JSONRPC_ERROR_* codes used by the raid methods. */
#define RAID_ERR_PARSE (-32700)	   /* SPDK_JSONRPC_ERROR_PARSE_ERROR */
#define RAID_ERR_INTERNAL (-32603) /* SPDK_JSONRPC_ERROR_INTERNAL_ERROR */

static const char raid_decode_failed[] = "spdk_json_decode_object failed";

json_t *raid_info_json(struct raid_bdev *r)
{
	json_t *o, *list = json_array(), *proc;

	raid_process_poll(r);
	o = json_pack("{s:s, s:I, s:s, s:s, s:b, s:i, s:i, s:i}", "uuid",
		      r->uuid[0] ? r->uuid : RAID_NULL_UUID, "strip_size_kb",
		      (json_int_t)r->strip_size_kb, "state", raid_state_to_str(r->state),
		      "raid_level", raid_level_to_str(r->level), "superblock",
		      r->superblock_enabled, "num_base_bdevs", (int)r->num_base_bdevs,
		      "num_base_bdevs_discovered", (int)r->num_discovered,
		      "num_base_bdevs_operational", (int)r->num_operational);
	proc = raid_process_to_json(r);
	if (proc)
		json_object_set_new(o, "process", proc);
	for (uint8_t i = 0; i < r->num_base_bdevs; i++) {
		struct raid_base *b = &r->base[i];

		json_array_append_new(list, json_pack("{s:o, s:s, s:b, s:I, s:I}", "name",
						      b->name ? json_string(b->name) : json_null(),
						      "uuid", b->uuid[0] ? b->uuid : RAID_NULL_UUID,
						      "is_configured", b->is_configured,
						      "data_offset", (json_int_t)b->data_offset,
						      "data_size", (json_int_t)b->data_size));
	}
	json_object_set_new(o, "base_bdevs_list", list);
	return o;
}

static json_t *raid_driver_specific(struct sim_bdev *b)
{
	struct raid_bdev *r = b->ctx;

	return r ? json_pack("{s:o}", "raid", raid_info_json(r)) : json_object();
}

/* raid_bdev_io_type_supported; write_zeroes is emulated by the bdev layer through writes. */
static json_t *raid_io_types(struct sim_bdev *b)
{
	struct raid_bdev *r = b->ctx;
	bool unmap = true, flush = true, reset = true;

	for (uint8_t i = 0; r && i < r->num_base_bdevs; i++) {
		struct sim_bdev *base = r->base[i].bdev;
		json_t *t;

		if (!base || !base->ops || !base->ops->io_types)
			continue;
		t = base->ops->io_types(base);
		unmap = unmap && json_is_true(json_object_get(t, "unmap"));
		flush = flush && json_is_true(json_object_get(t, "flush"));
		reset = reset && json_is_true(json_object_get(t, "reset"));
		json_decref(t);
	}
	return json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, "
			 "s:b, s:b, s:b, s:b, s:b, s:b, s:b}",
			 "read", 1, "write", 1, "unmap", unmap, "flush", flush, "reset", reset,
			 "nvme_admin", 0, "nvme_io", 0, "nvme_io_md", 0, "write_zeroes", 1, "zcopy",
			 0, "get_zone_info", 0, "zone_management", 0, "zone_append", 0, "compare",
			 0, "compare_and_write", 0, "abort", 0, "seek_hole", 0, "seek_data", 0,
			 "copy", 0, "nvme_iov_md", 0, "nvme_nssr", 0);
}

/* raid_bdev_write_config_json: an array with a superblock is described by it instead. */
static void raid_write_config(struct sim *s, struct sim_bdev *b, json_t *arr)
{
	struct raid_bdev *r = b->ctx;
	json_t *params, *bases;

	if (!r || r->superblock_enabled)
		return;
	bases = json_array();
	for (uint8_t i = 0; i < r->num_base_bdevs; i++) {
		char removed[32];

		if (r->base[i].name) {
			json_array_append_new(bases, json_string(r->base[i].name));
		} else {
			snprintf(removed, sizeof(removed), "removed_base_bdev_%u", i);
			json_array_append_new(bases, json_string(removed));
		}
	}
	params = json_pack("{s:s, s:s}", "name", b->name, "uuid", b->uuid);
	if (r->strip_size_kb)
		json_object_set_new(params, "strip_size_kb", json_integer(r->strip_size_kb));
	json_object_set_new(params, "raid_level", json_string(raid_level_to_str(r->level)));
	json_object_set_new(params, "base_bdevs", bases);
	json_array_append_new(
		arr, json_pack("{s:s, s:o}", "method", "bdev_raid_create", "params", params));
}

/* raid_bdev_get_memory_domains: the configured members' domains, in slot order. */
static json_t *raid_memory_domains(struct sim_bdev *b)
{
	struct raid_bdev *r = b->ctx;
	json_t *arr = json_array();

	for (uint8_t i = 0; r && i < r->num_base_bdevs; i++) {
		struct sim_bdev *base = r->base[i].bdev;
		json_t *d;

		if (!r->base[i].is_configured || !base->ops || !base->ops->memory_domains)
			continue;
		d = base->ops->memory_domains(base);
		if (json_is_array(d))
			json_array_extend(arr, d);
		json_decref(d);
	}
	if (json_array_size(arr) == 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

static void raid_bdev_destruct(struct sim_bdev *b)
{
	b->ctx = NULL; /* the array outlives its bdev registration (offline, then freed) */
}

/* raid1 data: every configured member takes a write, past its data_offset. */
static int raid_blocks_write(struct sim *s, struct sim_bdev *b, uint64_t lba, const void *buf,
			     uint64_t n)
{
	struct raid_bdev *r = b->ctx;
	int written = 0, rc;

	for (uint8_t i = 0; r && i < r->num_base_bdevs; i++) {
		struct raid_base *base = &r->base[i];

		if (!base->is_configured || !base->bdev)
			continue;
		rc = sim_bdev_blocks_write(s, base->bdev, base->data_offset + lba, buf, n);
		if (rc)
			return rc;
		written++;
	}
	return written ? 0 : -EIO;
}

/* A read is served by one in-sync member: raid1 members hold the same blocks. */
static int raid_blocks_read(struct sim *s, struct sim_bdev *b, uint64_t lba, void *buf, uint64_t n)
{
	struct raid_bdev *r = b->ctx;

	for (uint8_t i = 0; r && i < r->num_base_bdevs; i++) {
		struct raid_base *base = &r->base[i];

		if (base->is_configured && base->bdev && !base->is_process_target)
			return sim_bdev_blocks_read(s, base->bdev, base->data_offset + lba, buf, n);
	}
	return -EIO;
}

const struct sim_bdev_ops raid_bdev_ops = {
	.blocks_write = raid_blocks_write,
	.blocks_read = raid_blocks_read,
	.product_name = "Raid Volume",
	.driver_specific = raid_driver_specific,
	.io_types = raid_io_types,
	.destruct = raid_bdev_destruct,
	.channel_changed = raid_channel_changed,
	.read = raid_bdev_read,
	.write_config = raid_write_config,
	.memory_domains = raid_memory_domains,
};

/* ---- bdev_raid_get_bdevs ---- */

static void rpc_bdev_raid_get_bdevs(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"category", SIM_J_STRING, false}};
	enum raid_state state;
	const char *category;
	json_t *arr;

	if (!sim_decode_ok(req->params, dec, 1)) {
		sim_reply_error(req, RAID_ERR_PARSE, raid_decode_failed);
		return;
	}
	category = json_string_value(json_object_get(req->params, "category"));
	state = raid_state_from_str(category);
	if (state == RAID_STATE_MAX && strcmp(category, "all") != 0) {
		sim_reply_errno(req, EINVAL);
		return;
	}
	arr = json_array();
	for (struct raid_bdev *r = raid_state(req->sim)->raids; r; r = r->next) {
		json_t *o, *info;

		if (state != RAID_STATE_MAX && r->state != state)
			continue;
		o = json_pack("{s:s}", "name", r->name);
		info = raid_info_json(r);
		json_object_update(o, info);
		json_decref(info);
		json_array_append_new(arr, o);
	}
	sim_reply(req, arr);
}

/* ---- bdev_raid_create ---- */

static bool raid_uuid_text_ok(const char *u)
{
	if (strlen(u) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? u[i] != '-' : !strchr("0123456789abcdefABCDEF", u[i]))
			return false;
	}
	return true;
}

static void rpc_bdev_raid_create(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"name", SIM_J_STRING, false},	     {"strip_size_kb", SIM_J_UINT, true},
		{"raid_level", SIM_J_STRING, false}, {"base_bdevs", SIM_J_ARRAY, false},
		{"uuid", SIM_J_STRING, true},	     {"superblock", SIM_J_BOOL, true},
	};
	struct sim *s = req->sim;
	json_t *p = req->params, *bases, *v;
	const char *name, *uuid = NULL;
	json_int_t strip = 0;
	enum raid_level level;
	struct raid_bdev *r;
	int rc, status = 0;
	size_t i, n;
	char lower[37];

	if (!sim_decode_ok(p, dec, sizeof(dec) / sizeof(dec[0])))
		goto decode_failed;
	name = json_string_value(json_object_get(p, "name"));
	if (json_object_get(p, "strip_size_kb")) {
		strip = json_integer_value(json_object_get(p, "strip_size_kb"));
		if (strip > UINT32_MAX)
			goto decode_failed;
	}
	level = raid_level_from_str(json_string_value(json_object_get(p, "raid_level")));
	if (level == RAID_LEVEL_INVALID)
		goto decode_failed;
	bases = json_object_get(p, "base_bdevs");
	n = json_array_size(bases);
	if (n > RAID_MAX_BASE_BDEVS)
		goto decode_failed;
	json_array_foreach(bases, i, v) if (!json_is_string(v)) goto decode_failed;
	if (json_object_get(p, "uuid")) {
		uuid = json_string_value(json_object_get(p, "uuid"));
		if (!raid_uuid_text_ok(uuid))
			goto decode_failed;
		for (i = 0; i <= 36; i++)
			lower[i] =
				(char)(uuid[i] >= 'A' && uuid[i] <= 'F' ? uuid[i] + 32 : uuid[i]);
		uuid = lower;
	}
	json_array_foreach(bases, i, v)
	{
		if (json_string_length(v) == 0) {
			sim_reply_error(req, -EINVAL, "The base bdev name cannot be empty: %s",
					strerror(EINVAL));
			return;
		}
	}

	rc = raid_create(s, name, (uint32_t)strip, (uint8_t)n, level,
			 json_is_true(json_object_get(p, "superblock")), uuid, &r);
	if (rc)
		goto failed;
	for (i = 0; i < n; i++) {
		int cb = 0;

		rc = raid_add_base(s, r, json_string_value(json_array_get(bases, i)), &cb);
		if (rc == -ENODEV) {
			rc = 0; /* appears later: the array waits in "configuring" */
		} else if (rc) {
			status = rc;
			break;
		}
		if (cb)
			status = cb;
	}
	if (status) {
		r = raid_find_by_name(s, name);
		if (r)
			raid_delete(s, r);
		rc = status;
		goto failed;
	}
	sim_reply(req, json_true());
	return;
failed:
	sim_reply_error(req, rc, "Failed to create RAID bdev %s: %s", name, strerror(-rc));
	return;
decode_failed:
	sim_reply_error(req, RAID_ERR_PARSE, raid_decode_failed);
}

/* ---- bdev_raid_delete ---- */

static void rpc_bdev_raid_delete(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"name", SIM_J_STRING, false}};
	const char *name;
	struct raid_bdev *r;

	if (!sim_decode_ok(req->params, dec, 1)) {
		sim_reply_error(req, RAID_ERR_PARSE, raid_decode_failed);
		return;
	}
	name = json_string_value(json_object_get(req->params, "name"));
	r = raid_find_by_name(req->sim, name);
	if (!r) {
		sim_reply_error(req, -ENODEV, "raid bdev %s not found", name);
		return;
	}
	raid_delete(req->sim, r);
	sim_reply(req, json_true());
}

/* ---- bdev_raid_add_base_bdev ---- */

static void rpc_bdev_raid_add_base_bdev(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"base_bdev", SIM_J_STRING, false},
						 {"raid_bdev", SIM_J_STRING, false}};
	const char *base, *raid;
	struct raid_bdev *r;
	int rc, cb = 0;

	if (!sim_decode_ok(req->params, dec, 2)) {
		sim_reply_error(req, RAID_ERR_INTERNAL, raid_decode_failed);
		return;
	}
	base = json_string_value(json_object_get(req->params, "base_bdev"));
	raid = json_string_value(json_object_get(req->params, "raid_bdev"));
	r = raid_find_by_name(req->sim, raid);
	if (!r) {
		sim_reply_error(req, -ENODEV, "raid bdev %s is not found in config", raid);
		return;
	}
	rc = raid_add_base(req->sim, r, base, &cb);
	if (rc) {
		sim_reply_error(req, rc, "Failed to add base bdev %s to RAID bdev %s: %s", base,
				raid, strerror(-rc));
		return;
	}
	if (cb) {
		sim_reply_error(req, cb, "Failed to add base bdev to RAID bdev: %s", strerror(-cb));
		return;
	}
	sim_reply(req, json_true());
}

/* ---- bdev_raid_remove_base_bdev ---- */

static void rpc_bdev_raid_remove_base_bdev(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"name", SIM_J_STRING, false}};
	struct sim_bdev *b;
	struct raid_base *base;
	int rc = -ENODEV, cb = 0;

	if (!sim_decode_ok(req->params, dec, 1)) {
		sim_reply_error(req, RAID_ERR_PARSE, raid_decode_failed);
		return;
	}
	b = sim_bdev_find(req->sim, json_string_value(json_object_get(req->params, "name")));
	base = b ? raid_find_base_by_bdev(req->sim, b) : NULL;
	if (base)
		rc = raid_remove_base(req->sim, base, &cb);
	if (rc == -EINPROGRESS)
		return; /* held for good: the server frees the request at exit */
	if (rc == 0)
		rc = cb;
	if (rc) {
		sim_reply_error(req, rc, "Failed to remove base bdev from raid bdev");
		return;
	}
	sim_reply(req, json_true());
}

/* ---- bdev_raid_set_options ---- */

static void rpc_bdev_raid_set_options(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"process_window_size_kb", SIM_J_UINT, true},
		{"process_max_bandwidth_mb_sec", SIM_J_UINT, true}};
	struct sim_raid_state *st = raid_state(req->sim);
	json_int_t win = st->process_window_size_kb, bw = st->process_max_bandwidth_mb_sec;
	json_t *v;

	if (req->params && !sim_decode_ok(req->params, dec, 2))
		goto decode_failed;
	v = json_object_get(req->params, "process_window_size_kb");
	if (v)
		win = json_integer_value(v);
	v = json_object_get(req->params, "process_max_bandwidth_mb_sec");
	if (v)
		bw = json_integer_value(v);
	if (win > UINT32_MAX || bw > UINT32_MAX)
		goto decode_failed;
	if (win == 0) {
		sim_reply_errno(req, EINVAL);
		return;
	}
	st->process_window_size_kb = (uint32_t)win;
	st->process_max_bandwidth_mb_sec = (uint32_t)bw;
	sim_reply(req, json_true());
	return;
decode_failed:
	sim_reply_error(req, RAID_ERR_PARSE, raid_decode_failed);
}

const struct sim_method sim_raid_methods[] = {
	{"bdev_raid_get_bdevs", rpc_bdev_raid_get_bdevs, SIM_RUNTIME},
	{"bdev_raid_create", rpc_bdev_raid_create, SIM_RUNTIME},
	{"bdev_raid_delete", rpc_bdev_raid_delete, SIM_RUNTIME},
	{"bdev_raid_add_base_bdev", rpc_bdev_raid_add_base_bdev, SIM_RUNTIME},
	{"bdev_raid_remove_base_bdev", rpc_bdev_raid_remove_base_bdev, SIM_RUNTIME},
	{"bdev_raid_set_options", rpc_bdev_raid_set_options, SIM_STARTUP | SIM_RUNTIME},
	{NULL, NULL, 0},
};

/* Module-level entries of the "bdev" subsystem; each array adds its own via write_config. */
void sim_raid_config(struct sim *s, const char *subsystem, json_t *arr)
{
	struct sim_raid_state *st = raid_state(s);

	if (strcmp(subsystem, "bdev") != 0)
		return;
	json_array_append_new(
		arr, json_pack("{s:s, s:{s:I, s:I}}", "method", "bdev_raid_set_options", "params",
			       "process_window_size_kb", (json_int_t)st->process_window_size_kb,
			       "process_max_bandwidth_mb_sec",
			       (json_int_t)st->process_max_bandwidth_mb_sec));
}
