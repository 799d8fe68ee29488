/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bdev layer's methods (lib/bdev/bdev_rpc.c): bdev_get_bdevs (with the wait for
 * a bdev to appear), bdev_get_iostat, bdev_set_qos_limit, bdev_set_options and
 * bdev_wait_for_examine.
 */
#include "sim/sim_bdev_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The tick rate spdk-sim reports; ticks are monotonic nanoseconds scaled to it. */

static void bdev_init(struct sim *s)
{
	sim_bdev_state_get(s);
}

static void bdev_fini(struct sim *s)
{
	/* the waiting requests are the server's; only our bookkeeping is freed */
	sim_bdev_state_free(s);
}

/* ---- bdev_get_bdevs ------------------------------------------------------------------------ */

struct get_bdev_ctx {
	struct sim_req *req;
	char *name;
	uint64_t timeout_ms;
};

static json_t *one_bdev(struct sim *s, struct sim_bdev *b)
{
	json_t *arr = json_array();

	json_array_append_new(arr, sim_bdev_to_json(s, b));
	return arr;
}

static void waiter_remove(struct sim_bdev_state *st, struct sim_bdev_waiter *w)
{
	for (struct sim_bdev_waiter **pp = &st->waiters; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	free(w->name);
	free(w);
}

static void waiter_timeout(struct sim *s, void *ctx)
{
	struct sim_bdev_waiter *w = ctx;
	struct sim_req *req = w->req;

	waiter_remove(sim_bdev_state_get(s), w);
	sim_reply_errno(req, ETIMEDOUT);
}

void sim_bdev_waiters_notify(struct sim *s, struct sim_bdev *b)
{
	struct sim_bdev_state *st = sim_bdev_state_get(s);

	for (struct sim_bdev_waiter *w = st->waiters, *next; w; w = next) {
		next = w->next;
		if (sim_bdev_find(s, w->name) != b)
			continue;
		struct sim_req *req = w->req;

		sim_timer_cancel(s, w->timer);
		waiter_remove(st, w);
		sim_reply(req, one_bdev(s, b));
	}
}

/* spdk_bdev_open_async: the first look happens from a message, never inline. */
static void get_bdev_lookup(struct sim *s, void *arg)
{
	struct get_bdev_ctx *ctx = arg;
	struct sim_bdev *b = sim_bdev_find(s, ctx->name);
	struct sim_bdev_state *st = sim_bdev_state_get(s);

	if (b) {
		sim_reply(ctx->req, one_bdev(s, b));
	} else if (ctx->timeout_ms == 0) {
		sim_reply_errno(ctx->req, ENODEV);
	} else {
		struct sim_bdev_waiter *w = calloc(1, sizeof(*w));

		if (!w)
			abort();
		w->req = ctx->req;
		w->name = ctx->name;
		ctx->name = NULL;
		/* SPDK re-checks from a 100 ms poller: the timeout ends on the next tick
		 * (capped where the monotonic clock cannot overflow: "never" in practice) */
		uint64_t ms = ctx->timeout_ms > (1ULL << 50) ? 1ULL << 50 : ctx->timeout_ms;

		w->timer = sim_timer_add(s, (ms + 99) / 100 * 100, waiter_timeout, w);
		w->next = st->waiters;
		st->waiters = w;
	}
	free(ctx->name);
	free(ctx);
}

static void rpc_bdev_get_bdevs(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"name", SIM_J_STRING, true},
		{"timeout", SIM_J_UINT, true},
	};
	struct sim *s = req->sim;
	json_t *name, *arr;
	struct get_bdev_ctx *ctx;

	if (req->params && !sim_decode_ok(req->params, dec, 2)) {
		sim_reply_error(req, SIM_RPC_INTERNAL_ERROR, "spdk_json_decode_object failed");
		return;
	}
	name = json_object_get(req->params, "name");
	if (name) {
		ctx = calloc(1, sizeof(*ctx));
		if (!ctx)
			abort();
		ctx->req = req;
		ctx->name = strdup(json_string_value(name));
		ctx->timeout_ms = sim_json_u64(json_object_get(req->params, "timeout"));
		sim_timer_add(s, 0, get_bdev_lookup, ctx);
		return;
	}
	/*
	 * Real SPDK v25.09 answers this normally during a reset; it is counted so tests can assert
	 * that a client never sends it then (the seed's operators saw it crash an older SPDK).
	 */
	if (sim_nvme_reset_in_progress(s))
		s->unfiltered_bdevs_in_reset++;
	arr = json_array();
	for (struct sim_bdev *b = s->bdevs; b; b = b->next)
		json_array_append_new(arr, sim_bdev_to_json(s, b));
	sim_reply(req, arr);
}

/* ---- bdev_get_iostat ------------------------------------------------------------------------ */

static json_t *iostat_entry(struct sim_bdev *b)
{
	json_t *o = json_pack("{s:s}", "name", b->name), *v = sim_bdev_stat_json(b);

	json_object_update(o, v);
	json_decref(v);
	json_object_set_new(o, "io_error", json_object());
	v = b->ops && b->ops->iostat_driver_specific ? b->ops->iostat_driver_specific(b) : NULL;
	if (v)
		json_object_set_new(o, "driver_specific", v);
	return o;
}

static void stats_reset(struct sim_bdev *b, const char *mode)
{
	if (mode && strcmp(mode, "all") == 0) {
		memset(&b->stats, 0, sizeof(b->stats));
	} else if (mode && strcmp(mode, "maxmin") == 0) {
		b->stats.max_read_latency_ticks = b->stats.min_read_latency_ticks = 0;
		b->stats.max_write_latency_ticks = b->stats.min_write_latency_ticks = 0;
	}
}

/* 0: no channels; 1: channels only on other threads than the app thread; 2: on the app thread. */
static int iostat_walk_group(struct sim *s, struct sim_bdev *b)
{
	json_t *threads, *t;
	size_t i;
	int group = 1;

	if (b->channels == 0)
		return 0;
	threads = sim_bdev_channel_threads(s, b);
	json_array_foreach(threads, i, t)
	{
		if (strcmp(json_string_value(t), "app_thread") == 0)
			group = 2;
	}
	json_decref(threads);
	return group;
}

static void rpc_bdev_get_iostat(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"name", SIM_J_STRING, true},
		{"per_channel", SIM_J_BOOL, true},
		{"reset_mode", SIM_J_STRING, true},
	};
	struct sim *s = req->sim;
	const char *name = NULL, *mode = NULL;
	struct sim_bdev *b = NULL;
	bool per_channel = false;
	json_t *res, *list;

	if (req->params) {
		mode = json_string_value(json_object_get(req->params, "reset_mode"));
		if (!sim_decode_ok(req->params, dec, 3) ||
		    (mode && strcmp(mode, "all") && strcmp(mode, "maxmin") &&
		     strcmp(mode, "none"))) {
			sim_reply_error(req, SIM_RPC_INTERNAL_ERROR,
					"spdk_json_decode_object failed");
			return;
		}
		name = json_string_value(json_object_get(req->params, "name"));
		per_channel = json_is_true(json_object_get(req->params, "per_channel"));
		if (per_channel && !name) {
			sim_reply_errno(req, EINVAL);
			return;
		}
		if (name) {
			b = sim_bdev_find(s, name);
			if (!b) {
				sim_reply_errno(req, ENODEV);
				return;
			}
		}
	}
	if (!name)
		s->unfiltered_iostat++;
	res = json_pack("{s:I,s:I}", "tick_rate", (json_int_t)SIM_TICK_RATE, "ticks",
			(json_int_t)(sim_now_ms() * (SIM_TICK_RATE / 1000)));
	if (per_channel) {
		json_object_set_new(res, "name", json_string(b->name));
		list = json_array();
		if (b->channels) {
			json_t *ch = json_pack("{s:i}", "thread_id", 1), *st = sim_bdev_stat_json(b);

			json_object_update(ch, st);
			json_decref(st);
			json_array_append_new(list, ch);
		}
		json_object_set_new(res, "channels", list);
		stats_reset(b, mode);
		sim_reply(req, res);
		return;
	}
	/*
	 * Each bdev's stats are gathered by a walk over its channels (spdk_for_each_channel),
	 * and the answer lists them as the walks finish. The RPC runs on the app thread, so a
	 * bdev without channels finishes at once; one whose channels live on other threads
	 * (an nvmf poll group) finishes after one hop there and back; one with a channel on
	 * the app thread itself queues behind every message the RPC just posted to it, so it
	 * finishes last. Each group keeps registration order.
	 */
	list = json_array();
	for (int pass = 0; pass < 3; pass++) {
		for (struct sim_bdev *it = b ? b : s->bdevs; it; it = b ? NULL : it->next) {
			if (iostat_walk_group(s, it) != pass)
				continue;
			json_array_append_new(list, iostat_entry(it));
			stats_reset(it, mode);
		}
	}
	json_object_set_new(res, "bdevs", list);
	sim_reply(req, res);
}

/* ---- QoS --------------------------------------------------------------------------------- */

static void rpc_bdev_set_qos_limit(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"name", SIM_J_STRING, false},	       {"rw_ios_per_sec", SIM_J_UINT, true},
		{"rw_mbytes_per_sec", SIM_J_UINT, true}, {"r_mbytes_per_sec", SIM_J_UINT, true},
		{"w_mbytes_per_sec", SIM_J_UINT, true},
	};
	uint64_t limit[SIM_QOS_COUNT];
	bool given[SIM_QOS_COUNT], any = false;
	struct sim_bdev *b;

	if (!sim_decode_strict(req->params, dec, 5)) {
		sim_reply_error(req, SIM_RPC_INTERNAL_ERROR, "spdk_json_decode_object failed");
		return;
	}
	b = sim_bdev_find(req->sim, json_string_value(json_object_get(req->params, "name")));
	if (!b) {
		sim_reply_errno(req, ENODEV);
		return;
	}
	/* UINT64_MAX is SPDK's "not defined": passing it is the same as leaving it out */
	for (int i = 0; i < SIM_QOS_COUNT; i++) {
		json_t *v = json_object_get(req->params, sim_qos_name(i));

		given[i] = v && sim_json_u64(v) != UINT64_MAX;
		limit[i] = given[i] ? sim_json_u64(v) : 0;
		any |= given[i];
	}
	if (!any) {
		sim_reply_error(req, -EINVAL, "No rate limits specified");
		return;
	}
	/*
	 * The method's own spdk_bdev_open_ext runs bdev_start_qos: limits without a thread
	 * (set while the bdev had no channel) start being enabled on every channel, which
	 * completes on a later turn of the loop, so spdk_bdev_set_qos_rate_limits finds a
	 * change in progress and refuses this one. Nothing changes. (Real SPDK answers so
	 * whenever the bdev had no channel when the limits were set; the conformance runs
	 * show both cases, qos_iostat.jsonl and qos_iostat_eagain_run.jsonl.)
	 */
	for (int i = 0; i < SIM_QOS_COUNT && !b->qos_thread; i++) {
		if (b->qos[i]) {
			sim_reply_error(req, SIM_RPC_INVALID_PARAMS,
					"Failed to configure rate limit: %s", strerror(EAGAIN));
			return;
		}
	}
	/*
	 * spdk_bdev_set_qos_rate_limits: IOPS round up to a multiple of 1000; MB/s are
	 * clamped so bytes fit 64 bits, turned into bytes and rounded up to 1 MiB (a no-op
	 * for whole MiB). The arithmetic is unsigned 64-bit as in SPDK, wrap included.
	 * 0 disables a limit.
	 */
	for (int i = 0; i < SIM_QOS_COUNT; i++) {
		uint64_t x = limit[i], min = i == SIM_QOS_RW_IOPS ? 1000 : 1024 * 1024;

		if (!given[i])
			continue;
		if (i != SIM_QOS_RW_IOPS) {
			if (x > UINT64_MAX / (1024 * 1024))
				x = UINT64_MAX / (1024 * 1024);
			x *= 1024 * 1024;
		}
		if (x % min)
			x += min - x % min;
		b->qos[i] = i == SIM_QOS_RW_IOPS ? x : x / (1024 * 1024);
	}
	/*
	 * Enabling walks the channels: the first one hosts the limits. Disabling the last
	 * limit frees SPDK's QoS state, thread included.
	 */
	any = false;
	for (int i = 0; i < SIM_QOS_COUNT; i++)
		any |= b->qos[i] != 0;
	b->qos_thread = any && (b->qos_thread || b->channels > 0);
	sim_reply(req, json_true());
}

/* ---- options and examine ---------------------------------------------------------------------- */

static void rpc_bdev_set_options(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"bdev_io_pool_size", SIM_J_UINT32, true},
		{"bdev_io_cache_size", SIM_J_UINT32, true},
		{"bdev_auto_examine", SIM_J_BOOL, true},
		{"iobuf_small_cache_size", SIM_J_UINT32, true},
		{"iobuf_large_cache_size", SIM_J_UINT32, true},
	};
	struct sim_bdev_state *st = sim_bdev_state_get(req->sim);
	json_t *merged;
	json_int_t pool, cache;

	if (req->params && !sim_decode_ok(req->params, dec, 5)) {
		sim_reply_error(req, SIM_RPC_INVALID_PARAMS, "Invalid parameters");
		return;
	}
	merged = json_deep_copy(st->opts);
	if (req->params)
		json_object_update_existing(merged, req->params);
	pool = json_integer_value(json_object_get(merged, "bdev_io_pool_size"));
	cache = json_integer_value(json_object_get(merged, "bdev_io_cache_size"));
	/* spdk_bdev_set_opts: every thread (one reactor + the app thread) caches this many */
	if (pool < cache * 2) {
		json_decref(merged);
		sim_reply_error(req, SIM_RPC_INVALID_PARAMS,
				"Pool size %lld too small for cache size %lld", (long long)pool,
				(long long)cache);
		return;
	}
	json_decref(st->opts);
	st->opts = merged;
	sim_reply(req, json_true());
}

static void examine_done(struct sim *s, void *ctx)
{
	sim_reply(ctx, json_true());
}

static void rpc_bdev_wait_for_examine(struct sim_req *req)
{
	if (req->params) {
		sim_reply_error(req, SIM_RPC_INVALID_PARAMS,
				"bdev_wait_for_examine requires no parameters");
		return;
	}
	/* examine of simulated bdevs finishes within their registration */
	sim_timer_add(req->sim, 0, examine_done, req);
}

static const struct sim_method bdev_methods[] = {
	{"bdev_get_bdevs", rpc_bdev_get_bdevs, SIM_RUNTIME},
	{"bdev_get_iostat", rpc_bdev_get_iostat, SIM_RUNTIME},
	{"bdev_set_qos_limit", rpc_bdev_set_qos_limit, SIM_RUNTIME},
	{"bdev_set_options", rpc_bdev_set_options, SIM_STARTUP},
	{"bdev_wait_for_examine", rpc_bdev_wait_for_examine, SIM_RUNTIME},
	{NULL, NULL, 0},
};

const struct sim_module sim_module_bdev = {
	.name = "bdev",
	.methods = bdev_methods,
	.init = bdev_init,
	.fini = bdev_fini,
};
