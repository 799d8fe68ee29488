/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_STORE_INTERNAL_H
#define DISKENGINE_STORE_INTERNAL_H

/* Shared by the store's own files only. */

#include <stdarg.h>

#include "store/store.h"

/* Which SQL dialect a store speaks. */
enum store_dialect {
	STORE_DIALECT_SQLITE = 0, /* SQLite 3.35+ (RETURNING, partial indexes) */
	STORE_DIALECT_PG = 1,	  /* PostgreSQL 12+ */
};

/* Room for a database URL quoted in a message, its password hidden (common/redact.h). */
#define STORE_URL_SHOWN 160

struct store {
	const struct store_ops *ops;
	enum store_dialect dialect;
	void *db;
	char *conninfo; /* what ops->open got: the watch connects again with it */
};

/* Fill err (may be NULL) with code and a formatted message; returns code. */
int store_seterr(struct store_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Parameter constructors. */
static inline struct store_param sp_int(int64_t v)
{
	return (struct store_param){.type = STORE_PARAM_INT, .i = v};
}

static inline struct store_param sp_text(const char *s)
{
	return (struct store_param){.type = STORE_PARAM_TEXT, .s = s};
}

/* Text, or NULL for an empty string (optional columns). */
static inline struct store_param sp_opt(const char *s)
{
	if (!s || !*s)
		return (struct store_param){.type = STORE_PARAM_NULL};
	return sp_text(s);
}

/* Result rows: build (backends), read (operations), free. */
struct store_rows *store_rows_new(size_t ncols);
int store_rows_add(struct store_rows *rows, char **cells); /* takes the strings */
void store_rows_free(struct store_rows *rows);
const char *store_rows_str(const struct store_rows *rows, size_t row, size_t col);
int64_t store_rows_int(const struct store_rows *rows, size_t row, size_t col);
void store_rows_copy(const struct store_rows *rows, size_t row, size_t col, char *dst, size_t size);

/* ops->query without rows or with rows; thin wrappers that keep call sites short. */
int store_exec(struct store *s, const char *sql, const struct store_param *p, size_t n,
	       struct store_error *err);
int store_select(struct store *s, const char *sql, const struct store_param *p, size_t n,
		 struct store_rows **rows, struct store_error *err);

/*
 * Run fn inside a transaction and commit. Retries the whole transaction when the database
 * reports a lock or serialisation conflict (-EAGAIN), with a short randomised backoff, so
 * concurrent writers never lose a write. On any other failure the transaction is rolled back
 * and fn's error is returned.
 */
/* store_volume_set_clean_stop's work, inside a transaction the caller holds. */
int store_clean_stop_in_txn(struct store *s, int64_t volume_id, bool clean,
			    struct store_error *err);
int store_txn(struct store *s, bool write,
	      int (*fn)(struct store *s, void *ctx, struct store_error *err), void *ctx,
	      struct store_error *err);

/*
 * The value libpq uses for a connection parameter (connect_timeout, keepalives_idle, ...) on a
 * PostgreSQL store's connection, for tests and diagnostics: 0, -ENOENT when unset or unknown,
 * -EOPNOTSUPP on SQLite, -ENAMETOOLONG if it does not fit.
 */
int store_pg_conn_param(struct store *s, const char *keyword, char *buf, size_t size);

/* Migrations (store_schema.c). */
int store_schema_latest(void);
int store_schema_apply(struct store *s, int *applied, struct store_error *err);
/* Apply migrations up to version `target` only (tests of upgrades over existing data). */
int store_schema_apply_to(struct store *s, int target, int *applied, struct store_error *err);
int store_schema_current(struct store *s, int *current, struct store_error *err);

/* Lookups used by several operation files; -ENOENT with a message naming the object. */
int store_lookup_host_id(struct store *s, const char *name, int64_t *id, struct store_error *err);
int store_lookup_node_id(struct store *s, const char *name, int64_t *id, struct store_error *err);
int store_lookup_volume(struct store *s, const char *ref, struct store_volume *out,
			struct store_error *err);

/*
 * The source of a volume created from a snapshot (v->snapshot_source names a volume): it
 * must exist, have had its raid created and recorded, share v's block size and be no larger.
 * Fills *src; -ENOENT / -EINVAL with a message saying which rule failed.
 */
int store_source_resolve(struct store *s, const struct store_volume *v, struct store_volume *src,
			 struct store_error *err);
/* A mapping reached ATTACHED: its volume's replicas hold a VM's data from now on. */
int store_volume_mark_attached_in_txn(struct store *s, int64_t mapping_id, struct store_error *err);

/* Row decoders shared by list/get/desired (column order fixed by the SELECT_* macros). */
#define STORE_SELECT_VOLUME                                                                        \
	"SELECT v.id, v.name, v.size_bytes, v.block_size, v.qos_rw_iops, v.qos_rw_mbps, "          \
	"v.qos_r_mbps, v.qos_w_mbps, v.snapshot_source, v.state, v.created_at, v.clean_stop, "     \
	"COALESCE(v.source_volume_id, 0), v.source_raid_uuid, v.source_data_offset, v.raid_uuid, " \
	"v.raid_data_offset, v.ever_attached, v.init_wiped "                                       \
	"FROM volumes v "
void store_decode_volume(const struct store_rows *r, size_t row, size_t col0,
			 struct store_volume *v);

#define STORE_SELECT_REPLICA                                                                       \
	"SELECT r.id, r.volume_id, r.node_id, n.name, n.transport, n.address, n.port, "            \
	"n.auth_key_file, r.nqn, r.lvol_uuid, r.in_sync, r.generation, r.pending, "                \
	"r.device_id, dh.name, d.bdf, r.nsid "                                                     \
	"FROM replicas r LEFT JOIN nodes n ON n.id = r.node_id "                                   \
	"LEFT JOIN devices d ON d.id = r.device_id LEFT JOIN hosts dh ON dh.id = d.host_id "
void store_decode_replica(const struct store_rows *r, size_t row, struct store_replica *out);

#define STORE_SELECT_MAPPING                                                                       \
	"SELECT m.id, m.volume_id, v.name, m.host_id, h.name, m.vm_id, m.state, m.created_at, "    \
	"m.updated_at FROM mappings m JOIN volumes v ON v.id = m.volume_id "                       \
	"JOIN hosts h ON h.id = m.host_id "
void store_decode_mapping(const struct store_rows *r, size_t row, struct store_mapping *out);

#define STORE_SELECT_HOST "SELECT id, name, rdma_ips, tcp_ips, created_at FROM hosts "
void store_decode_host(const struct store_rows *r, size_t row, struct store_host *out);

#define STORE_SELECT_DEVICE                                                                        \
	"SELECT d.id, d.host_id, h.name, d.bdf, d.inventory_id FROM devices d "                    \
	"JOIN hosts h ON h.id = d.host_id "
void store_decode_device(const struct store_rows *r, size_t row, struct store_device *out);

#endif
