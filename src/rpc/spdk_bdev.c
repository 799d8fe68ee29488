/* SPDX-License-Identifier: Apache-2.0 */
/* Generic bdev calls: listing, iostat, QoS, examine. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "rpc/rpc_internal.h"

void rpc_bdev_list_free(struct rpc_bdev_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].uuid);
		rpc_strv_free(&l->v[i].aliases);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int decode_bdev(json_t *e, void *elem, struct rpc_error *err)
{
	struct rpc_bdev *b = elem;
	static const char *const m = "bdev_get_bdevs";
	json_t *qos = json_object_get(e, "assigned_rate_limits");
	int r;

	r = rpc_dec_expect(e, JSON_OBJECT, "result entry", m, err);
	if (r == 0)
		r = rpc_dec_str(e, "name", true, &b->name, m, err);
	if (r == 0)
		r = rpc_dec_str(e, "uuid", false, &b->uuid, m, err);
	if (r == 0)
		r = rpc_dec_strv(json_object_get(e, "aliases"), "field 'aliases'", &b->aliases, m,
				 err);
	if (r == 0)
		r = rpc_dec_int(e, "block_size", true, &b->block_size, m, err);
	if (r == 0)
		r = rpc_dec_int(e, "num_blocks", true, &b->num_blocks, m, err);
	if (r == 0)
		r = rpc_dec_int(e, "md_size", false, &b->md_size, m, err);
	if (r == 0)
		r = rpc_dec_bool(e, "claimed", true, &b->claimed, m, err);
	if (r == 0)
		r = rpc_dec_expect(qos, JSON_OBJECT, "field 'assigned_rate_limits'", m, err);
	if (r == 0)
		r = rpc_dec_int(qos, "rw_ios_per_sec", true, &b->qos.rw_ios_per_sec, m, err);
	if (r == 0)
		r = rpc_dec_int(qos, "rw_mbytes_per_sec", true, &b->qos.rw_mbytes_per_sec, m, err);
	if (r == 0)
		r = rpc_dec_int(qos, "r_mbytes_per_sec", true, &b->qos.r_mbytes_per_sec, m, err);
	if (r == 0)
		r = rpc_dec_int(qos, "w_mbytes_per_sec", true, &b->qos.w_mbytes_per_sec, m, err);
	return r;
}

int rpc_decode_bdevs(json_t *res, struct rpc_bdev_list *out, struct rpc_error *err)
{
	struct rpc_bdev_list l = {0};
	void *v;
	int r;

	r = rpc_dec_list(res, "result", "bdev_get_bdevs", sizeof(*l.v), decode_bdev, &v, &l.n, err);
	l.v = v;
	if (r < 0) {
		rpc_bdev_list_free(&l);
		return r;
	}
	*out = l;
	return 0;
}

static int get_bdevs(struct rpc_client *c, json_t *p, int64_t wait_ms, struct rpc_bdev_list *out,
		     struct rpc_error *err)
{
	json_t *res = NULL;
	int r;

	int64_t t = rpc_client_timeout_ms(c);

	/* SPDK holds the answer for up to wait_ms itself: that must not count against the call. */
	if (wait_ms > 0)
		t = t + wait_ms > INT32_MAX ? INT32_MAX : t + wait_ms;
	r = rpc_call_json(c, "bdev_get_bdevs", p, (int)t, &res, err);
	if (r < 0)
		return r;
	r = rpc_decode_bdevs(res, out, err);
	json_decref(res);
	return r;
}

int rpc_bdev_get_bdev(struct rpc_client *c, const char *name, int64_t timeout_ms,
		      struct rpc_bdev_list *out, struct rpc_error *err)
{
	json_t *p;
	int r;

	if (!name)
		return rpc_error_set(err, -EINVAL, "bdev_get_bdevs",
				     "a bdev name is required (unfiltered listing is unsafe)");
	p = rpc_par_strs("name", name, NULL);
	rpc_par_int(p, "timeout", timeout_ms);
	r = get_bdevs(c, p, timeout_ms, out, err);
	json_decref(p);
	return r;
}

int rpc_bdev_get_bdevs_all_unsafe(struct rpc_client *c, struct rpc_bdev_list *out,
				  struct rpc_error *err)
{
	return get_bdevs(c, NULL, 0, out, err);
}

void rpc_iostat_free(struct rpc_iostat *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].name);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int decode_iostat_bdev(json_t *e, void *elem, struct rpc_error *err)
{
	static const char *const m = "bdev_get_iostat";
	struct rpc_iostat_bdev *b = elem;
	int r = rpc_dec_expect(e, JSON_OBJECT, "bdevs entry", m, err);

	if (r == 0)
		r = rpc_dec_str(e, "name", true, &b->name, m, err);
	if (r == 0)
		r = rpc_dec_int(e, "bytes_read", true, &b->bytes_read, m, err);
	if (r == 0)
		r = rpc_dec_int(e, "num_read_ops", true, &b->num_read_ops, m, err);
	if (r == 0)
		r = rpc_dec_int(e, "bytes_written", true, &b->bytes_written, m, err);
	if (r == 0)
		r = rpc_dec_int(e, "num_write_ops", true, &b->num_write_ops, m, err);
	if (r == 0)
		r = rpc_dec_int(e, "bytes_unmapped", false, &b->bytes_unmapped, m, err);
	if (r == 0)
		r = rpc_dec_int(e, "num_unmap_ops", false, &b->num_unmap_ops, m, err);
	if (r == 0)
		r = rpc_dec_int(e, "read_latency_ticks", false, &b->read_latency_ticks, m, err);
	if (r == 0)
		r = rpc_dec_int(e, "write_latency_ticks", false, &b->write_latency_ticks, m, err);
	return r;
}

int rpc_decode_iostat(json_t *res, struct rpc_iostat *out, struct rpc_error *err)
{
	static const char *const m = "bdev_get_iostat";
	struct rpc_iostat s = {0};
	void *v;
	json_t *bdevs = json_object_get(res, "bdevs");
	int r;

	r = rpc_dec_expect(res, JSON_OBJECT, "result", m, err);
	if (r == 0)
		r = rpc_dec_int(res, "tick_rate", true, &s.tick_rate, m, err);
	if (r == 0)
		r = rpc_dec_int(res, "ticks", true, &s.ticks, m, err);
	if (r < 0)
		return r;
	r = rpc_dec_list(bdevs, "field 'bdevs'", m, sizeof(*s.v), decode_iostat_bdev, &v, &s.n,
			 err);
	s.v = v;
	if (r < 0) {
		rpc_iostat_free(&s);
		return r;
	}
	*out = s;
	return 0;
}

int rpc_bdev_get_iostat(struct rpc_client *c, const char *name, struct rpc_iostat *out,
			struct rpc_error *err)
{
	json_t *p = name ? rpc_par_strs("name", name, NULL) : NULL;
	json_t *res = NULL;
	int r;

	r = rpc_call_json(c, "bdev_get_iostat", p, rpc_client_timeout_ms(c), &res, err);
	json_decref(p);
	if (r < 0)
		return r;
	r = rpc_decode_iostat(res, out, err);
	json_decref(res);
	return r;
}

int rpc_bdev_set_qos_limit(struct rpc_client *c, const char *name, const struct rpc_qos_limits *q,
			   struct rpc_error *err)
{
	json_t *p;
	int r;

	if (q->rw_ios_per_sec == RPC_UNSET && q->rw_mbytes_per_sec == RPC_UNSET &&
	    q->r_mbytes_per_sec == RPC_UNSET && q->w_mbytes_per_sec == RPC_UNSET)
		return rpc_error_set(err, -EINVAL, "bdev_set_qos_limit",
				     "no rate limit given for %s", name);
	p = rpc_par_strs("name", name, NULL);
	rpc_par_int(p, "rw_ios_per_sec", q->rw_ios_per_sec);
	rpc_par_int(p, "rw_mbytes_per_sec", q->rw_mbytes_per_sec);
	rpc_par_int(p, "r_mbytes_per_sec", q->r_mbytes_per_sec);
	rpc_par_int(p, "w_mbytes_per_sec", q->w_mbytes_per_sec);
	r = rpc_call_true(c, "bdev_set_qos_limit", p, err);
	json_decref(p);
	return r;
}

int rpc_bdev_wait_for_examine(struct rpc_client *c, struct rpc_error *err)
{
	return rpc_call_true(c, "bdev_wait_for_examine", NULL, err);
}
