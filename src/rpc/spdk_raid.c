/* SPDX-License-Identifier: Apache-2.0 */
/* RAID bdevs: create, delete, base add/remove, and the bdev_raid_get_bdevs listing. */
#include <errno.h>
#include <string.h>

#include "common/util.h"
#include "rpc/rpc_internal.h"

int rpc_bdev_raid_create(struct rpc_client *c, const struct rpc_raid_create *rc,
			 struct rpc_error *err)
{
	static const char *const m = "bdev_raid_create";
	json_t *p, *bases;
	int r;

	if (!rc->name || !rc->raid_level || rc->n_base_bdevs == 0)
		return rpc_error_set(err, -EINVAL, m,
				     "name, raid_level and at least one base bdev are required");
	bases = json_array();
	p = json_object();
	for (size_t i = 0; i < rc->n_base_bdevs; i++) {
		if (!rc->base_bdevs[i] || !util_utf8_valid(rc->base_bdevs[i]))
			json_object_set_new(p, RPC_PAR_INVALID, json_string("base_bdevs"));
		else
			json_array_append_new(bases, json_string(rc->base_bdevs[i]));
	}
	rpc_par_str(p, "name", rc->name);
	rpc_par_str(p, "raid_level", rc->raid_level);
	rpc_par_int(p, "strip_size_kb", rc->strip_size_kb);
	json_object_set_new(p, "base_bdevs", bases);
	rpc_par_tri(p, "superblock", rc->superblock);
	rpc_par_str(p, "uuid", rc->uuid);
	r = rpc_call_true(c, m, p, err);
	json_decref(p);
	return r;
}

int rpc_bdev_raid_delete(struct rpc_client *c, const char *name, struct rpc_error *err)
{
	json_t *p = rpc_par_strs("name", name, NULL);
	int r = rpc_call_true(c, "bdev_raid_delete", p, err);

	json_decref(p);
	return r;
}

int rpc_bdev_raid_add_base_bdev(struct rpc_client *c, const char *raid, const char *base,
				struct rpc_error *err)
{
	json_t *p = rpc_par_strs("raid_bdev", raid, "base_bdev", base, NULL);
	int r = rpc_call_true(c, "bdev_raid_add_base_bdev", p, err);

	json_decref(p);
	return r;
}

int rpc_bdev_raid_remove_base_bdev(struct rpc_client *c, const char *base, struct rpc_error *err)
{
	json_t *p = rpc_par_strs("name", base, NULL);
	int r = rpc_call_true(c, "bdev_raid_remove_base_bdev", p, err);

	json_decref(p);
	return r;
}

void rpc_raid_list_free(struct rpc_raid_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		struct rpc_raid *rd = &l->v[i];

		for (size_t j = 0; j < rd->n_bases; j++) {
			free(rd->bases[j].name);
			free(rd->bases[j].uuid);
		}
		free(rd->bases);
		free(rd->name);
		free(rd->uuid);
		free(rd->state);
		free(rd->raid_level);
		free(rd->process_type);
		free(rd->process_target);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static const char *const M = "bdev_raid_get_bdevs";

static int decode_base(json_t *e, void *elem, struct rpc_error *err)
{
	struct rpc_raid_base *b = elem;
	int r = rpc_dec_expect(e, JSON_OBJECT, "base_bdevs_list entry", M, err);

	if (r == 0)
		r = rpc_dec_str_or_null(e, "name", &b->name, M, err);
	if (r == 0 && json_is_null(json_object_get(e, "uuid")))
		b->uuid = NULL;
	else if (r == 0)
		r = rpc_dec_str(e, "uuid", false, &b->uuid, M, err);
	if (r == 0)
		r = rpc_dec_bool(e, "is_configured", true, &b->is_configured, M, err);
	if (r == 0)
		r = rpc_dec_int(e, "data_offset", true, &b->data_offset, M, err);
	if (r == 0)
		r = rpc_dec_int(e, "data_size", true, &b->data_size, M, err);
	return r;
}

static int decode_process(json_t *pr, struct rpc_raid *rd, struct rpc_error *err)
{
	json_t *prog = json_object_get(pr, "progress");
	int r;

	rd->has_process = true;
	r = rpc_dec_expect(pr, JSON_OBJECT, "field 'process'", M, err);
	if (r == 0)
		r = rpc_dec_str(pr, "type", true, &rd->process_type, M, err);
	if (r == 0)
		r = rpc_dec_str(pr, "target", true, &rd->process_target, M, err);
	if (r == 0)
		r = rpc_dec_expect(prog, JSON_OBJECT, "field 'process.progress'", M, err);
	if (r == 0)
		r = rpc_dec_int(prog, "blocks", true, &rd->process_blocks, M, err);
	if (r == 0)
		r = rpc_dec_int(prog, "percent", true, &rd->process_percent, M, err);
	return r;
}

static int decode_raid(json_t *e, void *elem, struct rpc_error *err)
{
	struct rpc_raid *rd = elem;
	void *v;
	json_t *bases = json_object_get(e, "base_bdevs_list");
	json_t *pr = json_object_get(e, "process");
	int r;

	r = rpc_dec_expect(e, JSON_OBJECT, "result entry", M, err);
	if (r == 0)
		r = rpc_dec_str(e, "name", true, &rd->name, M, err);
	if (r == 0)
		r = rpc_dec_str(e, "uuid", false, &rd->uuid, M, err);
	if (r == 0)
		r = rpc_dec_int(e, "strip_size_kb", false, &rd->strip_size_kb, M, err);
	if (r == 0)
		r = rpc_dec_str(e, "state", true, &rd->state, M, err);
	if (r == 0)
		r = rpc_dec_str(e, "raid_level", true, &rd->raid_level, M, err);
	if (r == 0)
		r = rpc_dec_bool(e, "superblock", true, &rd->superblock, M, err);
	if (r == 0)
		r = rpc_dec_int(e, "num_base_bdevs", true, &rd->num_base_bdevs, M, err);
	if (r == 0)
		r = rpc_dec_int(e, "num_base_bdevs_discovered", true,
				&rd->num_base_bdevs_discovered, M, err);
	if (r == 0)
		r = rpc_dec_int(e, "num_base_bdevs_operational", true,
				&rd->num_base_bdevs_operational, M, err);
	if (r == 0 && pr)
		r = decode_process(pr, rd, err);
	if (r < 0)
		return r;
	r = rpc_dec_list(bases, "field 'base_bdevs_list'", M, sizeof(*rd->bases), decode_base, &v,
			 &rd->n_bases, err);
	rd->bases = v;
	return r;
}

int rpc_decode_raid_bdevs(json_t *res, struct rpc_raid_list *out, struct rpc_error *err)
{
	struct rpc_raid_list l = {0};
	void *v;
	int r;

	r = rpc_dec_list(res, "result", M, sizeof(*l.v), decode_raid, &v, &l.n, err);
	l.v = v;
	if (r < 0) {
		rpc_raid_list_free(&l);
		return r;
	}
	*out = l;
	return 0;
}

int rpc_bdev_get_raid(struct rpc_client *c, const char *name, struct rpc_raid_list *out,
		      struct rpc_error *err)
{
	struct rpc_raid_list l = {0};
	json_t *p, *res = NULL, *raid, *one = NULL;
	void *v;
	int r;

	if (!name)
		return rpc_error_set(err, -EINVAL, "bdev_get_bdevs",
				     "a raid name is required (unfiltered listing is unsafe)");
	p = rpc_par_strs("name", name, NULL);
	r = rpc_call_json(c, "bdev_get_bdevs", p, rpc_client_timeout_ms(c), &res, err);
	json_decref(p);
	if (r < 0)
		return r;
	raid = json_object_get(json_object_get(json_array_get(res, 0), "driver_specific"), "raid");
	if (!json_is_array(res) || json_array_size(res) != 1 || !json_is_object(raid)) {
		r = rpc_error_set(err, -EPROTO, "bdev_get_bdevs",
				  "%s: no driver_specific.raid in the answer", name);
		goto out;
	}
	/* the bdev's entry carries the raid's fields under driver_specific, its name above */
	one = json_pack("[O]", raid);
	if (!one || json_object_set_new(json_array_get(one, 0), "name", json_string(name)) < 0) {
		r = rpc_error_set(err, -ENOMEM, "bdev_get_bdevs", "out of memory");
		goto out;
	}
	r = rpc_dec_list(one, "driver_specific.raid", M, sizeof(*l.v), decode_raid, &v, &l.n, err);
	l.v = v;
	if (r < 0)
		rpc_raid_list_free(&l);
	else
		*out = l;
out:
	json_decref(one);
	json_decref(res);
	return r;
}

int rpc_bdev_raid_get_bdevs(struct rpc_client *c, enum rpc_raid_category cat,
			    struct rpc_raid_list *out, struct rpc_error *err)
{
	static const char *const names[] = {
		[RPC_RAID_ALL] = "all",
		[RPC_RAID_ONLINE] = "online",
		[RPC_RAID_CONFIGURING] = "configuring",
		[RPC_RAID_OFFLINE] = "offline",
	};
	json_t *p, *res = NULL;
	int r;

	if ((unsigned)cat >= sizeof(names) / sizeof(names[0]))
		return rpc_error_set(err, -EINVAL, M, "unknown raid category %d", (int)cat);
	/* SPDK requires the category: without it the call fails with -32700. */
	p = rpc_par_strs("category", names[cat], NULL);
	r = rpc_call_json(c, M, p, rpc_client_timeout_ms(c), &res, err);
	json_decref(p);
	if (r < 0)
		return r;
	r = rpc_decode_raid_bdevs(res, out, err);
	json_decref(res);
	return r;
}
