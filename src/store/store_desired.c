/* SPDX-License-Identifier: Apache-2.0 */
/* What one host must act on (one consistent read) and the wake-ups that say it changed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/store_internal.h"

struct store_watch {
	struct store *store;
	void *impl;
	int64_t host_id;
};

void store_desired_free(struct store_desired *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_mappings; i++)
		free(d->mappings[i].replicas);
	free(d->mappings);
	free(d->devices);
	free(d);
}

struct desired_ctx {
	const char *host;
	struct store_desired *d;
};

#define SELECT_DESIRED_MAPPINGS                                                                    \
	"SELECT m.id, m.volume_id, v.name, m.host_id, h.name, m.vm_id, m.state, m.created_at, "    \
	"m.updated_at, v.id, v.name, v.size_bytes, v.block_size, v.qos_rw_iops, v.qos_rw_mbps, "   \
	"v.qos_r_mbps, v.qos_w_mbps, v.snapshot_source, v.state, v.created_at, v.clean_stop, "     \
	"COALESCE(v.source_volume_id, 0), v.source_raid_uuid, v.source_data_offset, v.raid_uuid, " \
	"v.raid_data_offset, v.ever_attached, v.init_wiped "                                       \
	"FROM mappings m JOIN volumes v ON v.id = m.volume_id JOIN hosts h ON h.id = m.host_id "   \
	"WHERE m.host_id = ? AND m.state <> 'DETACHED' ORDER BY m.id"

static int desired_mappings(struct store *s, struct store_desired *d, struct store_error *err)
{
	struct store_param p = sp_int(d->host.id);
	struct store_rows *rows = NULL;
	int r = store_select(s, SELECT_DESIRED_MAPPINGS, &p, 1, &rows, err);

	if (r < 0)
		return r;
	d->mappings = calloc(rows->nrows ? rows->nrows : 1, sizeof(*d->mappings));
	if (!d->mappings) {
		store_rows_free(rows);
		return store_seterr(err, -ENOMEM, "out of memory");
	}
	d->n_mappings = rows->nrows;
	for (size_t i = 0; i < rows->nrows; i++) {
		store_decode_mapping(rows, i, &d->mappings[i].mapping);
		store_decode_volume(rows, i, 9, &d->mappings[i].volume);
	}
	store_rows_free(rows);
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The replicas of the host's volumes, ordered by volume: each mapping gets exactly its own
 * volume's rows, found by bisecting the volume ids, so the read stays linear in the replicas
 * (an array sized for every replica of the host per mapping would be quadratic).
 */
static int desired_replicas(struct store *s, struct store_desired *d, struct store_error *err)
{
	struct store_param p = sp_int(d->host.id);
	struct store_rows *rows = NULL;
	int64_t *vol = NULL;
	int r;

	r = store_select(s,
			 STORE_SELECT_REPLICA
			 "WHERE r.volume_id IN (SELECT volume_id FROM mappings "
			 "WHERE host_id = ? AND state <> 'DETACHED') "
			 "ORDER BY r.volume_id, r.id",
			 &p, 1, &rows, err);
	if (r < 0)
		return r;
	vol = calloc(rows->nrows ? rows->nrows : 1, sizeof(*vol));
	if (!vol)
		goto oom;
	for (size_t k = 0; k < rows->nrows; k++)
		vol[k] = store_rows_int(rows, k, 1);
	for (size_t i = 0; i < d->n_mappings; i++) {
		struct store_desired_mapping *dm = &d->mappings[i];
		const int64_t *hit =
			bsearch(&dm->volume.id, vol, rows->nrows, sizeof(*vol), cmp_i64);
		size_t first, end;

		if (!hit)
			continue;
		first = end = (size_t)(hit - vol);
		while (first > 0 && vol[first - 1] == dm->volume.id)
			first--;
		while (end < rows->nrows && vol[end] == dm->volume.id)
			end++;
		dm->replicas = calloc(end - first, sizeof(*dm->replicas));
		if (!dm->replicas)
			goto oom;
		for (size_t k = first; k < end; k++)
			store_decode_replica(rows, k, &dm->replicas[dm->n_replicas++]);
	}
	free(vol);
	store_rows_free(rows);
	return 0;
oom:
	free(vol);
	store_rows_free(rows);
	return store_seterr(err, -ENOMEM, "out of memory");
}

static int desired_devices(struct store *s, struct store_desired *d, struct store_error *err)
{
	struct store_param p = sp_int(d->host.id);
	struct store_rows *rows = NULL;
	int r = store_select(s, STORE_SELECT_DEVICE "WHERE d.host_id = ? ORDER BY d.bdf", &p, 1,
			     &rows, err);

	if (r < 0)
		return r;
	d->devices = calloc(rows->nrows ? rows->nrows : 1, sizeof(*d->devices));
	if (!d->devices) {
		store_rows_free(rows);
		return store_seterr(err, -ENOMEM, "out of memory");
	}
	d->n_devices = rows->nrows;
	for (size_t i = 0; i < rows->nrows; i++)
		store_decode_device(rows, i, &d->devices[i]);
	store_rows_free(rows);
	return 0;
}

static int desired_fn(struct store *s, void *arg, struct store_error *err)
{
	struct desired_ctx *c = arg;
	struct store_desired *d;
	int r;

	store_desired_free(c->d); /* a retried transaction starts over */
	c->d = d = calloc(1, sizeof(*d));
	if (!d)
		return store_seterr(err, -ENOMEM, "out of memory");
	r = store_host_get(s, c->host, &d->host, err);
	if (r == 0)
		r = desired_mappings(s, d, err);
	if (r == 0)
		r = desired_replicas(s, d, err);
	if (r == 0)
		r = desired_devices(s, d, err);
	return r;
}

int store_desired_get(struct store *store, const char *host_name, struct store_desired **out,
		      struct store_error *err)
{
	struct desired_ctx c = {.host = host_name};
	int r = store_txn(store, false, desired_fn, &c, err);

	if (r < 0) {
		store_desired_free(c.d);
		return r;
	}
	*out = c.d;
	return 0;
}

int store_watch_open(struct store *store, const char *host_name, struct store_watch **out,
		     struct store_error *err)
{
	struct store_watch *w;
	int64_t host_id;
	int r;

	r = store_lookup_host_id(store, host_name, &host_id, err);
	if (r < 0)
		return r;
	w = calloc(1, sizeof(*w));
	if (!w)
		return store_seterr(err, -ENOMEM, "out of memory");
	w->store = store;
	w->host_id = host_id;
	r = store->ops->watch_open(store->db, store->conninfo, host_id, &w->impl, err);
	if (r < 0) {
		free(w);
		return r;
	}
	*out = w;
	return 0;
}

int store_watch_wait(struct store_watch *watch, int timeout_ms, struct store_error *err)
{
	if (!watch)
		return store_seterr(err, -EINVAL, "no watch");
	return watch->store->ops->watch_wait(watch->impl, timeout_ms, err);
}

int store_watch_fd(struct store_watch *watch)
{
	if (!watch || !watch->store->ops->watch_fd)
		return -1;
	return watch->store->ops->watch_fd(watch->impl);
}

void store_watch_close(struct store_watch *watch)
{
	if (!watch)
		return;
	watch->store->ops->watch_close(watch->impl);
	free(watch);
}
