/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The iostat scraper (see daemon_iostat.h): per-volume rates from bdev_get_iostat by name.
 */
#include "daemon/daemon_iostat.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "rpc/rpc.h"
#include "rpc/spdk.h"

int iostat_rate_compute(const struct iostat_sample *prev, const struct iostat_sample *cur,
			struct iostat_rate *out)
{
	double dt, hz;
	uint64_t dr, dw;

	if (!cur->tick_rate || cur->tick_rate != prev->tick_rate || cur->ticks <= prev->ticks)
		return -EINVAL;
	if (cur->read_ops < prev->read_ops || cur->write_ops < prev->write_ops ||
	    cur->bytes_read < prev->bytes_read || cur->bytes_written < prev->bytes_written ||
	    cur->read_latency_ticks < prev->read_latency_ticks ||
	    cur->write_latency_ticks < prev->write_latency_ticks)
		return -ESTALE;
	hz = (double)cur->tick_rate;
	dt = (double)(cur->ticks - prev->ticks) / hz;
	dr = cur->read_ops - prev->read_ops;
	dw = cur->write_ops - prev->write_ops;
	out->read_iops = (double)dr / dt;
	out->write_iops = (double)dw / dt;
	out->read_bytes_per_s = (double)(cur->bytes_read - prev->bytes_read) / dt;
	out->write_bytes_per_s = (double)(cur->bytes_written - prev->bytes_written) / dt;
	/* no I/O in the interval: no latency to speak of, 0 rather than NaN */
	out->read_latency_s =
		dr ? (double)(cur->read_latency_ticks - prev->read_latency_ticks) / (double)dr / hz
		   : 0;
	out->write_latency_s = dw ? (double)(cur->write_latency_ticks - prev->write_latency_ticks) /
					       (double)dw / hz
				  : 0;
	return 0;
}

/* One round's calls, shared by the workers. */
struct iostat_round {
	struct rpc_client *c;
	const struct iostat_target *const *todo;
	size_t n;
	atomic_size_t next;
	struct iostat_sample *samples;
	int *rc;
};

static void *iostat_worker(void *arg)
{
	struct iostat_round *ir = arg;

	for (;;) {
		size_t i = atomic_fetch_add(&ir->next, 1);
		struct rpc_iostat st = {0};
		struct rpc_error err = {0};

		if (i >= ir->n)
			return NULL;
		ir->rc[i] = rpc_bdev_get_iostat(ir->c, ir->todo[i]->raid, &st, &err);
		if (ir->rc[i] == 0 && st.n != 1)
			ir->rc[i] = -EBADMSG;
		if (ir->rc[i] == 0) {
			const struct rpc_iostat_bdev *b = &st.v[0];
			ir->samples[i] = (struct iostat_sample){
				.ticks = (uint64_t)st.ticks,
				.tick_rate = (uint64_t)st.tick_rate,
				.read_ops = (uint64_t)b->num_read_ops,
				.write_ops = (uint64_t)b->num_write_ops,
				.bytes_read = (uint64_t)b->bytes_read,
				.bytes_written = (uint64_t)b->bytes_written,
				.read_latency_ticks = (uint64_t)b->read_latency_ticks,
				.write_latency_ticks = (uint64_t)b->write_latency_ticks,
			};
		} else if (ir->rc[i] != -ENODEV) {
			char line[400];
			log_debug("iostat: %s", rpc_error_str(&err, line, sizeof(line)));
		}
		rpc_iostat_free(&st);
	}
}

static bool ctrlr_resetting(const struct rpc_nvme_ctrlr_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].name, name) != 0)
			continue;
		for (size_t k = 0; k < l->v[i].n_paths; k++)
			if (l->v[i].paths[k].state &&
			    strcmp(l->v[i].paths[k].state, "resetting") == 0)
				return true;
	}
	return false;
}

static int cmp_volume(const void *a, const void *b)
{
	uint64_t x = ((const struct iostat_volume *)a)->volume_id;
	uint64_t y = ((const struct iostat_volume *)b)->volume_id;

	return x < y ? -1 : x > y;
}

const struct iostat_volume *iostat_table_find(const struct iostat_table *t, uint64_t volume_id)
{
	struct iostat_volume key = {.volume_id = volume_id};

	return t->n ? bsearch(&key, t->v, t->n, sizeof(*t->v), cmp_volume) : NULL;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The new table: one entry per target, old samples carried over, this round's merged in. */
static int table_merge(struct iostat_table *t, const struct iostat_target *targets, size_t n,
		       const struct iostat_round *ir, const size_t *slot)
{
	struct iostat_volume *v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct iostat_volume *old = iostat_table_find(t, targets[i].volume_id);
		size_t k = slot[i];

		if (old)
			v[i] = *old;
		v[i].volume_id = targets[i].volume_id;
		if (k == SIZE_MAX || ir->rc[k] < 0) {
			/* not read this round (reset, gone): no rate is better than a stale one */
			if (k != SIZE_MAX)
				v[i].has_rate = false;
			continue;
		}
		v[i].has_rate =
			old && iostat_rate_compute(&old->last, &ir->samples[k], &v[i].rate) == 0;
		v[i].last = ir->samples[k];
	}
	free(t->v);
	t->v = v;
	t->n = n;
	qsort(t->v, t->n, sizeof(*t->v), cmp_volume);
	return 0;
}

int iostat_scrape(struct rpc_client *c, const struct iostat_target *targets, size_t n,
		  struct iostat_table *t)
{
	struct rpc_nvme_ctrlr_list ctrlrs = {0};
	struct rpc_error err = {0};
	struct iostat_round ir = {.c = c};
	const struct iostat_target **todo = NULL;
	pthread_t th[IOSTAT_INFLIGHT];
	size_t *slot = NULL, started = 0, workers;
	uint64_t t0 = now_us();
	int r;

	t->calls = 1;
	t->skipped = 0;
	t->failed = 0;
	/* a reset can start at any moment: the states are read right before the round */
	r = rpc_bdev_nvme_get_controllers(c, NULL, &ctrlrs, &err);
	if (r < 0)
		goto out;
	todo = calloc(n ? n : 1, sizeof(*todo));
	slot = calloc(n ? n : 1, sizeof(*slot));
	ir.samples = calloc(n ? n : 1, sizeof(*ir.samples));
	ir.rc = calloc(n ? n : 1, sizeof(*ir.rc));
	if (!todo || !slot || !ir.samples || !ir.rc) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		bool resetting = false;

		for (size_t k = 0; k < targets[i].n_ctrlrs && !resetting; k++)
			resetting = ctrlr_resetting(&ctrlrs, targets[i].ctrlrs[k]);
		slot[i] = SIZE_MAX;
		if (resetting) {
			t->skipped++;
			continue;
		}
		slot[i] = ir.n;
		todo[ir.n++] = &targets[i];
	}
	ir.todo = todo;
	atomic_init(&ir.next, 0);
	workers = ir.n < IOSTAT_INFLIGHT ? ir.n : IOSTAT_INFLIGHT;
	/* one worker per call in flight: the client pipelines them on its connection */
	for (; started < workers; started++)
		if (pthread_create(&th[started], NULL, iostat_worker, &ir) != 0)
			break;
	if (started == 0 && ir.n)
		iostat_worker(&ir);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	t->calls += (unsigned)ir.n;
	for (size_t i = 0; i < ir.n; i++)
		if (ir.rc[i] < 0 && ir.rc[i] != -ENODEV)
			t->failed++;
	r = table_merge(t, targets, n, &ir, slot);
out:
	if (r < 0 && err.err)
		log_debug("iostat: bdev_nvme_get_controllers: %s", err.message);
	t->duration_us = now_us() - t0;
	t->rounds++;
	rpc_nvme_ctrlr_list_free(&ctrlrs);
	free(todo);
	free(slot);
	free(ir.samples);
	free(ir.rc);
	return r;
}

void iostat_table_clear(struct iostat_table *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}
