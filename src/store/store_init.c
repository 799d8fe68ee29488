/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the initialisation of a volume from a snapshot needs from the store: the source as
 * recorded when the volume is created, the raid as the daemon created it, the mark that the
 * clones' superblock areas are being zeroed, and whether a VM was ever served.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "store/store_internal.h"

int store_source_resolve(struct store *s, const struct store_volume *v, struct store_volume *src,
			 struct store_error *err)
{
	int r = store_lookup_volume(s, v->snapshot_source, src, err);

	if (r == -ENOENT)
		return store_seterr(err, -ENOENT,
				    "snapshot source: volume '%s' does not exist (--snapshot names "
				    "the volume whose replica was snapshotted)",
				    v->snapshot_source);
	if (r < 0)
		return r;
	if (!src->raid_uuid[0])
		return store_seterr(err, -EINVAL,
				    "snapshot source: volume '%s' has no recorded raid (uuid and "
				    "data_offset): it never served on a host running this version",
				    v->snapshot_source);
	if (src->block_size != v->block_size)
		return store_seterr(err, -EINVAL,
				    "snapshot source: volume '%s' has %u-byte blocks, this volume "
				    "%u: the data would be shifted",
				    v->snapshot_source, src->block_size, v->block_size);
	if (v->size_bytes < src->size_bytes)
		return store_seterr(err, -EINVAL,
				    "snapshot source: volume '%s' has %" PRIu64 " bytes, more than "
				    "this volume's %" PRIu64,
				    v->snapshot_source, src->size_bytes, v->size_bytes);
	return 0;
}

int store_volume_mark_attached_in_txn(struct store *s, int64_t mapping_id, struct store_error *err)
{
	struct store_param p = sp_int(mapping_id);
	struct store_rows *rows = NULL;
	int r = store_select(
		s,
		"UPDATE volumes SET ever_attached = 1 WHERE ever_attached = 0 AND id = "
		"(SELECT volume_id FROM mappings WHERE id = ?) RETURNING id",
		&p, 1, &rows, err);

	store_rows_free(rows);
	return r;
}

struct raid_ctx {
	int64_t id;
	const char *uuid;
	uint64_t data_offset;
};

static int record_raid_fn(struct store *s, void *arg, struct store_error *err)
{
	struct raid_ctx *c = arg;
	struct store_param p[3] = {sp_text(c->uuid), sp_int((int64_t)c->data_offset),
				   sp_int(c->id)};
	struct store_rows *rows = NULL;
	int r = store_select(s,
			     "UPDATE volumes SET raid_uuid = ?, raid_data_offset = ? WHERE id = ? "
			     "RETURNING id",
			     p, 3, &rows, err);

	if (r == 0 && rows->nrows == 0)
		r = store_seterr(err, -ENOENT, "volume %lld does not exist", (long long)c->id);
	store_rows_free(rows);
	return r;
}

int store_volume_record_raid(struct store *store, int64_t volume_id, const char *uuid,
			     uint64_t data_offset, struct store_error *err)
{
	struct raid_ctx c = {.id = volume_id, .uuid = uuid, .data_offset = data_offset};

	return store_txn(store, true, record_raid_fn, &c, err);
}

static int wiped_fn(struct store *s, void *arg, struct store_error *err)
{
	int64_t *id = arg;
	struct store_param p = sp_int(*id);
	struct store_rows *rows = NULL;
	int r = store_select(s, "UPDATE volumes SET init_wiped = 1 WHERE id = ? RETURNING id", &p,
			     1, &rows, err);

	if (r == 0 && rows->nrows == 0)
		r = store_seterr(err, -ENOENT, "volume %lld does not exist", (long long)*id);
	store_rows_free(rows);
	return r;
}

int store_volume_set_init_wiped(struct store *store, int64_t volume_id, struct store_error *err)
{
	return store_txn(store, true, wiped_fn, &volume_id, err);
}
