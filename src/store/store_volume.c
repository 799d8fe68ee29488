/* SPDX-License-Identifier: Apache-2.0 */
/* Volumes and their replicas. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "store/store_internal.h"
#include "store/store_validate.h"

static int check_local_replica(const struct store_replica *r, struct store_error *err)
{
	char norm[STORE_BDF_MAX];
	int rc = store_validate_name("host name", r->device_host, err);

	if (rc == 0)
		rc = store_validate_bdf(r->bdf, norm, err);
	if (rc == 0 && (r->nsid < 1 || r->nsid > 0xfffffffeu))
		rc = store_seterr(err, -EINVAL, "namespace id %u of device %s is not 1..4294967294",
				  r->nsid, r->bdf);
	return rc;
}

static bool same_drive_ns(const struct store_replica *a, const struct store_replica *b)
{
	return a->transport == STORE_TRANSPORT_PCIE && b->transport == STORE_TRANSPORT_PCIE &&
	       strcmp(a->device_host, b->device_host) == 0 && strcasecmp(a->bdf, b->bdf) == 0 &&
	       a->nsid == b->nsid;
}

static int check_replicas(const struct store_replica *r, size_t n, struct store_error *err)
{
	int rc;

	if (n != STORE_REPLICAS)
		return store_seterr(err, -EINVAL,
				    "a volume needs exactly %d replicas (--replica NODE:NQN or "
				    "local:HOST:BDF[:NSID] twice), got %zu",
				    STORE_REPLICAS, n);
	for (size_t i = 0; i < n; i++) {
		bool local = r[i].transport == STORE_TRANSPORT_PCIE;

		if (local) {
			rc = check_local_replica(&r[i], err);
		} else {
			rc = store_validate_name("storage node name", r[i].node_name, err);
			if (rc == 0)
				rc = store_validate_nqn(r[i].nqn, err);
		}
		if (rc == 0 && r[i].lvol_uuid[0])
			rc = store_validate_uuid(r[i].lvol_uuid, err);
		if (rc < 0)
			return rc;
		for (size_t j = 0; j < i; j++) {
			if (same_drive_ns(&r[i], &r[j]))
				return store_seterr(
					err, -EINVAL,
					"both replicas are namespace %u of device %s on "
					"host '%s'; a mirror needs two copies",
					r[i].nsid, r[i].bdf, r[i].device_host);
			if (local || r[j].transport == STORE_TRANSPORT_PCIE)
				continue;
			if (strcmp(r[i].nqn, r[j].nqn) == 0)
				return store_seterr(err, -EINVAL, "NQN %s is given twice",
						    r[i].nqn);
			if (strcmp(r[i].node_name, r[j].node_name) == 0)
				return store_seterr(err, -EINVAL,
						    "both replicas are on storage node '%s'; a "
						    "mirror needs two nodes",
						    r[i].node_name);
		}
	}
	return 0;
}

/*
 * Two node names at one endpoint (registered before node add refused that) would make a mirror
 * of one copy.
 */
static int replicas_apart(struct store *s, const struct store_replica *rep, size_t n,
			  struct store_error *err)
{
	struct store_rows *rows[STORE_REPLICAS] = {0};
	int r = 0;

	for (size_t i = 0; i < n; i++)
		if (rep[i].transport == STORE_TRANSPORT_PCIE)
			return 0;
	for (size_t i = 0; i < n && i < STORE_REPLICAS && r == 0; i++) {
		struct store_param p = sp_text(rep[i].node_name);

		r = store_select(s, "SELECT transport, address, port FROM nodes WHERE name = ?", &p,
				 1, &rows[i], err);
	}
	if (r == 0 && n == STORE_REPLICAS && rows[0]->nrows && rows[1]->nrows &&
	    strcmp(store_rows_str(rows[0], 0, 0), store_rows_str(rows[1], 0, 0)) == 0 &&
	    store_rows_int(rows[0], 0, 2) == store_rows_int(rows[1], 0, 2) &&
	    store_ip_equal(store_rows_str(rows[0], 0, 1), store_rows_str(rows[1], 0, 1)))
		r = store_seterr(
			err, -EINVAL,
			"storage nodes '%s' and '%s' are one endpoint (%s %s port %lld); a "
			"mirror needs two targets",
			rep[0].node_name, rep[1].node_name, store_rows_str(rows[0], 0, 0),
			store_rows_str(rows[0], 0, 1), (long long)store_rows_int(rows[0], 0, 2));
	for (size_t i = 0; i < STORE_REPLICAS; i++)
		store_rows_free(rows[i]);
	return r;
}

/* A replica on a namespace of a host's registered local drive; one replica per namespace. */
static int insert_local_replica(struct store *s, int64_t volume_id, const struct store_replica *rep,
				bool pending, struct store_error *err)
{
	struct store_rows *rows = NULL;
	struct store_param p[6];
	char bdf[STORE_BDF_MAX];
	int64_t device_id;
	int r = store_validate_bdf(rep->bdf, bdf, err);

	if (r < 0)
		return r;
	p[0] = sp_text(rep->device_host);
	p[1] = sp_text(bdf);
	r = store_select(s,
			 "SELECT d.id FROM devices d JOIN hosts h ON h.id = d.host_id "
			 "WHERE h.name = ? AND d.bdf = ?",
			 p, 2, &rows, err);
	if (r < 0)
		return r;
	if (rows->nrows == 0) {
		store_rows_free(rows);
		return store_seterr(err, -ENOENT,
				    "device %s is not registered on host '%s' (diskengine device "
				    "add %s %s)",
				    bdf, rep->device_host, rep->device_host, bdf);
	}
	device_id = store_rows_int(rows, 0, 0);
	store_rows_free(rows);
	rows = NULL;
	p[0] = sp_int(device_id);
	p[1] = sp_int(rep->nsid);
	r = store_select(s,
			 "SELECT v.id, v.name FROM replicas r JOIN volumes v ON v.id = r.volume_id "
			 "WHERE r.device_id = ? AND r.nsid = ?",
			 p, 2, &rows, err);
	if (r == 0 && rows->nrows)
		r = store_seterr(err, -EEXIST,
				 "namespace %u of device %s on host '%s' already holds volume '%s'",
				 rep->nsid, bdf, rep->device_host,
				 store_rows_str(rows, 0, 1) ? store_rows_str(rows, 0, 1)
							    : store_rows_str(rows, 0, 0));
	store_rows_free(rows);
	if (r < 0)
		return r;
	p[0] = sp_int(volume_id);
	p[1] = sp_int(device_id);
	p[2] = sp_int(rep->nsid);
	p[3] = sp_opt(rep->lvol_uuid);
	p[4] = sp_int(pending ? 0 : 1);
	p[5] = sp_int(pending ? 1 : 0);
	r = store_exec(s,
		       "INSERT INTO replicas (volume_id, device_id, nsid, lvol_uuid, in_sync, "
		       "pending) VALUES (?, ?, ?, ?, ?, ?)",
		       p, 6, err);
	if (r == -EEXIST)
		return store_seterr(err, r, "namespace %u of device %s is already used", rep->nsid,
				    bdf);
	return r;
}

/* Look up each replica's node and make sure no other replica uses its NQN. */
static int insert_replicas(struct store *s, int64_t volume_id, const struct store_replica *rep,
			   size_t n, bool pending, struct store_error *err)
{
	int ra = replicas_apart(s, rep, n, err);

	if (ra < 0)
		return ra;
	for (size_t i = 0; i < n; i++) {
		struct store_rows *rows = NULL;
		struct store_param p[6];
		int64_t node_id;
		int r;

		if (rep[i].transport == STORE_TRANSPORT_PCIE) {
			r = insert_local_replica(s, volume_id, &rep[i], pending, err);
			if (r < 0)
				return r;
			continue;
		}
		r = store_lookup_node_id(s, rep[i].node_name, &node_id, err);
		if (r < 0)
			return r;
		p[0] = sp_text(rep[i].nqn);
		r = store_select(s,
				 "SELECT v.id, v.name FROM replicas r JOIN volumes v "
				 "ON v.id = r.volume_id WHERE r.nqn = ?",
				 p, 1, &rows, err);
		if (r == 0 && rows->nrows)
			r = store_seterr(err, -EEXIST, "NQN %s is already used by volume '%s'",
					 rep[i].nqn,
					 store_rows_str(rows, 0, 1) ? store_rows_str(rows, 0, 1)
								    : store_rows_str(rows, 0, 0));
		store_rows_free(rows);
		if (r < 0)
			return r;
		p[0] = sp_int(volume_id);
		p[1] = sp_int(node_id);
		p[2] = sp_text(rep[i].nqn);
		p[3] = sp_opt(rep[i].lvol_uuid);
		/* a pending replica is a fresh copy: the RAID rebuilds it before it counts */
		p[4] = sp_int(pending ? 0 : 1);
		p[5] = sp_int(pending ? 1 : 0);
		r = store_exec(s,
			       "INSERT INTO replicas (volume_id, node_id, nqn, lvol_uuid, in_sync, "
			       "pending) VALUES (?, ?, ?, ?, ?, ?)",
			       p, 6, err);
		if (r == -EEXIST)
			return store_seterr(err, r, "NQN %s is already used", rep[i].nqn);
		if (r < 0)
			return r;
	}
	return 0;
}

struct create_ctx {
	const struct store_volume *v;
	const struct store_replica *rep;
	size_t n;
	int64_t id;
};

static int volume_create_fn(struct store *s, void *arg, struct store_error *err)
{
	struct create_ctx *c = arg;
	const struct store_volume *v = c->v;
	struct store_rows *rows = NULL;
	struct store_volume src = {0};
	struct store_param p[13];
	int r;

	if (v->name[0]) {
		p[0] = sp_text(v->name);
		r = store_select(s, "SELECT id FROM volumes WHERE name = ?", p, 1, &rows, err);
		if (r == 0 && rows->nrows)
			r = store_seterr(err, -EEXIST, "volume '%s' exists already", v->name);
		store_rows_free(rows);
		rows = NULL;
		if (r < 0)
			return r;
	}
	if (v->snapshot_source[0]) {
		r = store_source_resolve(s, v, &src, err);
		if (r < 0)
			return r;
	}
	p[0] = sp_opt(v->name);
	p[1] = sp_int((int64_t)v->size_bytes);
	p[2] = sp_int(v->block_size);
	p[3] = sp_int((int64_t)v->qos.rw_iops);
	p[4] = sp_int((int64_t)v->qos.rw_mbps);
	p[5] = sp_int((int64_t)v->qos.r_mbps);
	p[6] = sp_int((int64_t)v->qos.w_mbps);
	p[7] = sp_opt(v->snapshot_source);
	p[8] = sp_text(store_volume_state_name(STORE_VOLUME_READY));
	p[9] = sp_int(util_wall_s());
	p[10] = sp_int(src.id);
	p[11] = sp_text(src.raid_uuid);
	p[12] = sp_int((int64_t)src.raid_data_offset);
	/* the source columns only when there is a source: older schemas lack them */
	r = store_select(s,
			 src.id ? "INSERT INTO volumes (name, size_bytes, block_size, qos_rw_iops, "
				  "qos_rw_mbps, qos_r_mbps, qos_w_mbps, snapshot_source, state, "
				  "created_at, source_volume_id, source_raid_uuid, "
				  "source_data_offset) "
				  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
				: "INSERT INTO volumes (name, size_bytes, block_size, qos_rw_iops, "
				  "qos_rw_mbps, qos_r_mbps, qos_w_mbps, snapshot_source, state, "
				  "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
			 p, src.id ? 13 : 10, &rows, err);
	if (r == -EEXIST)
		return store_seterr(err, r, "volume '%s' exists already", v->name);
	if (r < 0)
		return r;
	c->id = store_rows_int(rows, 0, 0);
	store_rows_free(rows);
	return insert_replicas(s, c->id, c->rep, c->n, false, err);
}

int store_volume_create(struct store *store, const struct store_volume *v,
			const struct store_replica *replicas, size_t n_replicas, int64_t *id,
			struct store_error *err)
{
	struct create_ctx c = {.v = v, .rep = replicas, .n = n_replicas};
	int r = 0;

	if (v->name[0])
		r = store_validate_volume_name(v->name, err);
	if (r == 0)
		r = store_validate_block_size(v->block_size, err);
	if (r == 0)
		r = store_validate_size(v->size_bytes, v->block_size, err);
	if (r == 0)
		r = store_validate_qos(&v->qos, err);
	if (r == 0 && v->snapshot_source[0])
		r = store_validate_name("snapshot source", v->snapshot_source, err);
	if (r == 0)
		r = check_replicas(replicas, n_replicas, err);
	if (r == 0)
		r = store_txn(store, true, volume_create_fn, &c, err);
	if (r == 0 && id)
		*id = c.id;
	return r;
}

int store_volume_get(struct store *store, const char *ref, struct store_volume *out,
		     struct store_error *err)
{
	struct store_volume v;
	int r = store_lookup_volume(store, ref, &v, err);

	if (r == 0)
		*out = v;
	return r;
}

int store_volume_list(struct store *store, struct store_volume **out, size_t *n,
		      struct store_error *err)
{
	struct store_rows *rows = NULL;
	struct store_volume *a;
	int r = store_select(store, STORE_SELECT_VOLUME "ORDER BY v.id", NULL, 0, &rows, err);

	if (r < 0)
		return r;
	a = calloc(rows->nrows ? rows->nrows : 1, sizeof(*a));
	if (!a) {
		store_rows_free(rows);
		return store_seterr(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < rows->nrows; i++)
		store_decode_volume(rows, i, 0, &a[i]);
	*n = rows->nrows;
	*out = a;
	store_rows_free(rows);
	return 0;
}

struct resize_ctx {
	const char *ref;
	uint64_t size;
	const struct store_replica *rep;
	size_t n;
};

/*
 * A resize is carried out by the host that serves the volume: it grows the RAID once its
 * members grew, or rebuilds the data onto the new replicas. With no host nothing would ever
 * do either, and marking it done at once would be a lie: new replicas would be empty, and a
 * RAID assembled later from its superblock keeps the old size. So a volume no host serves
 * (or is about to serve) is refused; one whose mapping goes away mid-resize resumes when it
 * is attached again.
 */
static int resize_needs_host(struct store *s, const struct store_volume *v, const char *ref,
			     struct store_error *err)
{
	struct store_param p = sp_int(v->id);
	struct store_rows *rows = NULL;
	int r = store_select(s,
			     "SELECT count(*) FROM mappings WHERE volume_id = ? AND state IN "
			     "('ASSIGNED', 'INITIALISED', 'ATTACHED')",
			     &p, 1, &rows, err);

	if (r == 0 && store_rows_int(rows, 0, 0) == 0)
		r = store_seterr(err, -EBUSY,
				 "volume '%s' is not mapped to any host, and only the host that "
				 "serves a volume can grow its RAID or copy it onto new replicas; "
				 "attach it, then resize",
				 ref);
	store_rows_free(rows);
	return r;
}

static int volume_resize_fn(struct store *s, void *arg, struct store_error *err)
{
	struct resize_ctx *c = arg;
	struct store_rows *rows = NULL;
	struct store_volume v;
	struct store_param p[3];
	int r;

	r = store_lookup_volume(s, c->ref, &v, err);
	if (r < 0)
		return r;
	if (v.state == STORE_VOLUME_RESIZING)
		return store_seterr(err, -EBUSY, "volume '%s' is still resizing", c->ref);
	if (c->size < v.size_bytes)
		return store_seterr(err, -EINVAL,
				    "volume '%s' cannot shrink from %llu to %llu bytes", c->ref,
				    (unsigned long long)v.size_bytes, (unsigned long long)c->size);
	if (c->size == v.size_bytes)
		return store_seterr(err, -EINVAL, "volume '%s' is already %llu bytes", c->ref,
				    (unsigned long long)v.size_bytes);
	r = store_validate_size(c->size, v.block_size, err);
	if (r < 0)
		return r;
	r = resize_needs_host(s, &v, c->ref, err);
	if (r < 0)
		return r;
	r = insert_replicas(s, v.id, c->rep, c->n, true, err);
	if (r < 0)
		return r;
	/* compare-and-set: a concurrent resize of the same volume makes this one start over */
	p[0] = sp_int((int64_t)c->size);
	p[1] = sp_int(v.id);
	p[2] = sp_int((int64_t)v.size_bytes);
	r = store_select(s,
			 "UPDATE volumes SET size_bytes = ?, state = 'RESIZING' WHERE id = ? AND "
			 "size_bytes = ? AND state = 'READY' RETURNING id",
			 p, 3, &rows, err);
	if (r == 0 && rows->nrows == 0)
		r = -EAGAIN;
	store_rows_free(rows);
	return r;
}

int store_volume_resize(struct store *store, const char *ref, uint64_t new_size,
			const struct store_replica *pending, size_t n_pending,
			struct store_error *err)
{
	struct resize_ctx c = {.ref = ref, .size = new_size, .rep = pending, .n = n_pending};
	int r = store_validate_size(new_size, 0, err);

	if (r == 0 && n_pending)
		r = check_replicas(pending, n_pending, err);
	if (r == 0)
		r = store_txn(store, true, volume_resize_fn, &c, err);
	return r;
}

static int resize_finish_fn(struct store *s, void *arg, struct store_error *err)
{
	int64_t id = *(int64_t *)arg;
	struct store_rows *rows = NULL;
	struct store_param p[2];
	char ref[24];
	struct store_volume v;
	int64_t pending;
	int r;

	snprintf(ref, sizeof(ref), "%lld", (long long)id);
	r = store_lookup_volume(s, ref, &v, err);
	if (r < 0)
		return r;
	if (v.state != STORE_VOLUME_RESIZING)
		return store_seterr(err, -EINVAL, "volume %lld is not resizing", (long long)id);
	p[0] = sp_int(id);
	r = store_select(s, "SELECT count(*) FROM replicas WHERE volume_id = ? AND pending = 1", p,
			 1, &rows, err);
	if (r < 0)
		return r;
	pending = store_rows_int(rows, 0, 0);
	store_rows_free(rows);
	if (pending) {
		r = store_exec(s, "DELETE FROM replicas WHERE volume_id = ? AND pending = 0", p, 1,
			       err);
		if (r == 0)
			r = store_exec(s, "UPDATE replicas SET pending = 0 WHERE volume_id = ?", p,
				       1, err);
		if (r < 0)
			return r;
	}
	p[0] = sp_int(id);
	return store_exec(s, "UPDATE volumes SET state = 'READY' WHERE id = ?", p, 1, err);
}

int store_volume_resize_finish(struct store *store, int64_t volume_id, struct store_error *err)
{
	return store_txn(store, true, resize_finish_fn, &volume_id, err);
}

struct promote_ctx {
	int64_t volume_id;
	int64_t old_id;
	int64_t new_id;
};

/* One replica's volume and pending flag; *found false when the id is unknown. */
static int replica_row(struct store *s, int64_t id, bool *found, int64_t *volume_id, bool *pending,
		       struct store_error *err)
{
	struct store_param p = sp_int(id);
	struct store_rows *rows = NULL;
	int r = store_select(s, "SELECT volume_id, pending FROM replicas WHERE id = ?", &p, 1,
			     &rows, err);

	if (r < 0)
		return r;
	*found = rows->nrows > 0;
	if (*found) {
		*volume_id = store_rows_int(rows, 0, 0);
		*pending = store_rows_int(rows, 0, 1) != 0;
	}
	store_rows_free(rows);
	return 0;
}

static int replica_promote_fn(struct store *s, void *arg, struct store_error *err)
{
	struct promote_ctx *c = arg;
	bool old_found, new_found, old_pending = false, new_pending = false;
	int64_t old_vol = 0, new_vol = 0;
	struct store_param p;
	struct store_volume v;
	char ref[24];
	int r;

	snprintf(ref, sizeof(ref), "%lld", (long long)c->volume_id);
	r = store_lookup_volume(s, ref, &v, err);
	if (r == 0)
		r = replica_row(s, c->old_id, &old_found, &old_vol, &old_pending, err);
	if (r == 0)
		r = replica_row(s, c->new_id, &new_found, &new_vol, &new_pending, err);
	if (r < 0)
		return r;
	if (!new_found)
		return store_seterr(err, -ENOENT, "replica %lld does not exist",
				    (long long)c->new_id);
	if (new_vol != c->volume_id)
		return store_seterr(err, -EINVAL, "replica %lld belongs to volume %lld, not %lld",
				    (long long)c->new_id, (long long)new_vol,
				    (long long)c->volume_id);
	if (old_found && old_vol != c->volume_id)
		return store_seterr(err, -EINVAL, "replica %lld belongs to volume %lld, not %lld",
				    (long long)c->old_id, (long long)old_vol,
				    (long long)c->volume_id);
	if (!new_pending) {
		/* The same promotion again (the daemon crashed before it saw the commit). */
		if (!old_found)
			return 0;
		return store_seterr(err, -EINVAL,
				    "replica %lld of volume %lld is not pending; replica %lld is "
				    "still a member",
				    (long long)c->new_id, (long long)c->volume_id,
				    (long long)c->old_id);
	}
	if (!old_found)
		return store_seterr(err, -ENOENT, "replica %lld does not exist",
				    (long long)c->old_id);
	if (old_pending)
		return store_seterr(err, -EINVAL,
				    "replica %lld of volume %lld is pending, not a member it could "
				    "replace",
				    (long long)c->old_id, (long long)c->volume_id);
	p = sp_int(c->old_id);
	r = store_exec(s, "DELETE FROM replicas WHERE id = ?", &p, 1, err);
	if (r < 0)
		return r;
	/*
	 * SPDK rebuilt it into the raid: it holds every write. The volume stays RESIZING until
	 * the raid serves the new size (store_volume_resize_finish, from the daemon).
	 */
	p = sp_int(c->new_id);
	return store_exec(s, "UPDATE replicas SET pending = 0, in_sync = 1 WHERE id = ?", &p, 1,
			  err);
}

int store_replica_promote(struct store *store, int64_t volume_id, int64_t old_replica_id,
			  int64_t new_replica_id, struct store_error *err)
{
	struct promote_ctx c = {
		.volume_id = volume_id, .old_id = old_replica_id, .new_id = new_replica_id};

	if (old_replica_id == new_replica_id)
		return store_seterr(err, -EINVAL,
				    "replica %lld cannot replace itself in volume %lld",
				    (long long)old_replica_id, (long long)volume_id);
	return store_txn(store, true, replica_promote_fn, &c, err);
}

struct clean_ctx {
	int64_t id;
	bool clean;
};

static int clean_stop_fn(struct store *s, void *arg, struct store_error *err)
{
	struct clean_ctx *c = arg;
	struct store_param p[2] = {sp_int(c->clean), sp_int(c->id)};
	struct store_rows *rows = NULL;
	int r = store_select(s, "UPDATE volumes SET clean_stop = ? WHERE id = ? RETURNING id", p, 2,
			     &rows, err);

	if (r == 0 && rows->nrows == 0)
		r = store_seterr(err, -ENOENT, "volume %lld does not exist", (long long)c->id);
	store_rows_free(rows);
	return r;
}

int store_clean_stop_in_txn(struct store *s, int64_t volume_id, bool clean, struct store_error *err)
{
	struct clean_ctx c = {.id = volume_id, .clean = clean};

	return clean_stop_fn(s, &c, err);
}

int store_volume_set_clean_stop(struct store *store, int64_t volume_id, bool clean,
				struct store_error *err)
{
	struct clean_ctx c = {.id = volume_id, .clean = clean};

	return store_txn(store, true, clean_stop_fn, &c, err);
}

static int volume_delete_fn(struct store *s, void *arg, struct store_error *err)
{
	const char *ref = arg;
	struct store_rows *rows = NULL;
	struct store_volume v;
	struct store_param p;
	int r;

	r = store_lookup_volume(s, ref, &v, err);
	if (r < 0)
		return r;
	p = sp_int(v.id);
	r = store_select(s,
			 "SELECT m.id, h.name, m.state FROM mappings m JOIN hosts h ON "
			 "h.id = m.host_id WHERE m.volume_id = ? AND m.state <> 'DETACHED'",
			 &p, 1, &rows, err);
	if (r == 0 && rows->nrows && strcmp(store_rows_str(rows, 0, 2), "DETACH_REQUESTED") == 0)
		r = store_seterr(
			err, -EBUSY,
			"volume '%s' is mapped to host '%s' (mapping %s, DETACH_REQUESTED); "
			"wait for DETACHED, or, if the host is gone for good: diskengine "
			"host declare-dead %s",
			ref, store_rows_str(rows, 0, 1), store_rows_str(rows, 0, 0),
			store_rows_str(rows, 0, 1));
	else if (r == 0 && rows->nrows)
		r = store_seterr(err, -EBUSY,
				 "volume '%s' is mapped to host '%s' (mapping %s, %s); detach it "
				 "and wait for DETACHED first",
				 ref, store_rows_str(rows, 0, 1), store_rows_str(rows, 0, 0),
				 store_rows_str(rows, 0, 2));
	store_rows_free(rows);
	if (r < 0)
		return r;
	r = store_exec(s, "DELETE FROM mappings WHERE volume_id = ? AND state = 'DETACHED'", &p, 1,
		       err);
	if (r == 0)
		r = store_exec(s, "DELETE FROM volumes WHERE id = ?", &p, 1, err);
	if (r == -EBUSY) /* an attach won the race */
		return store_seterr(err, r, "volume '%s' was just mapped; detach it first", ref);
	return r;
}

int store_volume_delete(struct store *store, const char *ref, struct store_error *err)
{
	return store_txn(store, true, volume_delete_fn, (void *)ref, err);
}

int store_replica_list(struct store *store, int64_t volume_id, struct store_replica **out,
		       size_t *n, struct store_error *err)
{
	struct store_param p = sp_int(volume_id);
	struct store_rows *rows = NULL;
	struct store_replica *a;
	int r = store_select(store, STORE_SELECT_REPLICA "WHERE r.volume_id = ? ORDER BY r.id", &p,
			     1, &rows, err);

	if (r < 0)
		return r;
	a = calloc(rows->nrows ? rows->nrows : 1, sizeof(*a));
	if (!a) {
		store_rows_free(rows);
		return store_seterr(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < rows->nrows; i++)
		store_decode_replica(rows, i, &a[i]);
	*n = rows->nrows;
	*out = a;
	store_rows_free(rows);
	return 0;
}

struct in_sync_ctx {
	int64_t id;
	bool in_sync;
	int64_t generation;
};

static int in_sync_fn(struct store *s, void *arg, struct store_error *err)
{
	struct in_sync_ctx *c = arg;
	struct store_param p[4] = {sp_int(c->in_sync), sp_int(c->generation), sp_int(c->id),
				   sp_int(c->generation)};
	struct store_rows *rows = NULL;
	int r;

	/* A generation never goes back: a late writer must not undo a newer record. */
	r = store_select(s,
			 "UPDATE replicas SET in_sync = ?, generation = ? WHERE id = ? AND "
			 "generation <= ? RETURNING id",
			 p, 4, &rows, err);
	if (r == 0 && rows->nrows == 0) {
		store_rows_free(rows);
		rows = NULL;
		r = store_select(s, "SELECT generation FROM replicas WHERE id = ?", &p[2], 1, &rows,
				 err);
		if (r == 0 && rows->nrows == 0)
			r = store_seterr(err, -ENOENT, "replica %lld does not exist",
					 (long long)c->id);
		else if (r == 0)
			r = store_seterr(err, -ESTALE,
					 "replica %lld is at generation %s, newer than %lld",
					 (long long)c->id, store_rows_str(rows, 0, 0),
					 (long long)c->generation);
	}
	store_rows_free(rows);
	return r;
}

int store_replica_set_in_sync(struct store *store, int64_t replica_id, bool in_sync,
			      int64_t generation, struct store_error *err)
{
	struct in_sync_ctx c = {.id = replica_id, .in_sync = in_sync, .generation = generation};

	return store_txn(store, true, in_sync_fn, &c, err);
}
