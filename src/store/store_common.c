/* SPDX-License-Identifier: Apache-2.0 */
/* Opening a store, transactions with retry, result rows, enum names, row decoders. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/redact.h"
#include "common/util.h"
#include "store/store_internal.h"

/* A write that keeps colliding this often is reported instead of retried forever. */
#define STORE_TXN_ATTEMPTS 50

int store_seterr(struct store_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->err = code;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return code;
}

struct store_rows *store_rows_new(size_t ncols)
{
	struct store_rows *rows = calloc(1, sizeof(*rows));

	if (rows)
		rows->ncols = ncols;
	return rows;
}

int store_rows_add(struct store_rows *rows, char **cells)
{
	size_t n = rows->ncols ? rows->ncols : 1;
	char **grown = realloc(rows->cells, (rows->nrows + 1) * n * sizeof(*grown));

	if (!grown) {
		for (size_t c = 0; c < rows->ncols; c++)
			free(cells[c]);
		free(cells);
		return -ENOMEM;
	}
	rows->cells = grown;
	memcpy(grown + rows->nrows * n, cells, n * sizeof(*cells));
	rows->nrows++;
	free(cells);
	return 0;
}

void store_rows_free(struct store_rows *rows)
{
	if (!rows)
		return;
	for (size_t i = 0; i < rows->nrows * (rows->ncols ? rows->ncols : 1); i++)
		free(rows->cells[i]);
	free(rows->cells);
	free(rows);
}

const char *store_rows_str(const struct store_rows *rows, size_t row, size_t col)
{
	if (!rows || row >= rows->nrows || col >= rows->ncols)
		return NULL;
	return rows->cells[row * rows->ncols + col];
}

int64_t store_rows_int(const struct store_rows *rows, size_t row, size_t col)
{
	const char *s = store_rows_str(rows, row, col);

	return s ? strtoll(s, NULL, 10) : 0;
}

void store_rows_copy(const struct store_rows *rows, size_t row, size_t col, char *dst, size_t size)
{
	const char *s = store_rows_str(rows, row, col);

	util_strlcpy(dst, s ? s : "", size);
}

int store_exec(struct store *s, const char *sql, const struct store_param *p, size_t n,
	       struct store_error *err)
{
	return s->ops->query(s->db, sql, p, n, NULL, err);
}

int store_select(struct store *s, const char *sql, const struct store_param *p, size_t n,
		 struct store_rows **rows, struct store_error *err)
{
	return s->ops->query(s->db, sql, p, n, rows, err);
}

int store_txn(struct store *s, bool write,
	      int (*fn)(struct store *s, void *ctx, struct store_error *err), void *ctx,
	      struct store_error *err)
{
	unsigned seed = (unsigned)util_now_ms() ^ (unsigned)getpid();
	int r = -EAGAIN;

	for (int attempt = 0; attempt < STORE_TXN_ATTEMPTS; attempt++) {
		if (attempt > 0)
			util_sleep_ms(1 + rand_r(&seed) %
						  (5u * (unsigned)(attempt < 10 ? attempt : 10)));
		r = s->ops->begin(s->db, write, err);
		if (r == -EAGAIN)
			continue;
		if (r < 0)
			return r;
		r = fn(s, ctx, err);
		if (r == 0)
			r = s->ops->commit(s->db, err);
		else
			s->ops->rollback(s->db);
		if (r != -EAGAIN)
			return r;
		log_debug("store: transaction conflict, retrying (attempt %d)", attempt + 1);
	}
	return r;
}

/* Which backend a URL names, and what its driver is given. */
static int store_parse_url(const char *url, const struct store_ops **ops, enum store_dialect *d,
			   const char **conninfo, struct store_error *err)
{
	const char *p;

	if (!url || !*url)
		return store_seterr(err, -EINVAL, "no database given (--db URL or DISKENGINE_DB)");
	if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0) {
		*ops = &store_pg_ops;
		*d = STORE_DIALECT_PG;
		*conninfo = url;
		return 0;
	}
	/* libpq "key=value ..." strings start with a keyword and '=' */
	for (p = url; islower((unsigned char)*p) || *p == '_'; p++)
		;
	if (p != url && (*p == '=' || (*p == ' ' && strchr(p, '=') == p + strspn(p, " ")))) {
		*ops = &store_pg_ops;
		*d = STORE_DIALECT_PG;
		*conninfo = url;
		return 0;
	}
	if (strncmp(url, "sqlite://", 9) == 0)
		url += 9;
	else if (strncmp(url, "sqlite:", 7) == 0)
		url += 7;
	else if (strstr(url, "://")) {
		char shown[STORE_URL_SHOWN];

		redact_copy(url, shown, sizeof(shown));
		return store_seterr(err, -EINVAL,
				    "database URL '%s' names no known backend (use sqlite:///PATH, "
				    "a path, postgresql://... or 'host=... dbname=...')",
				    shown);
	}
	if (!*url)
		return store_seterr(err, -EINVAL, "SQLite URL has no path");
	*ops = &store_sqlite_ops;
	*d = STORE_DIALECT_SQLITE;
	*conninfo = url;
	return 0;
}

/* How store_open_common treats the schema. */
enum store_open_mode {
	STORE_OPEN_MIGRATE = 0, /* apply pending migrations */
	STORE_OPEN_AS_IS = 1,	/* leave it, whatever its version */
	STORE_OPEN_READ = 2,	/* leave it; it must be the version this build knows */
};

/* The schema is read, never changed: a reader role has no right to, and must not need one. */
static int store_check_current(struct store *s, struct store_error *err)
{
	int cur, latest = store_schema_latest();
	int r = store_schema_current(s, &cur, err);

	if (r < 0)
		return r;
	if (cur == 0)
		return store_seterr(err, -EPROTO,
				    "the database has no diskengine schema yet (version 0; this "
				    "diskengine needs %d): run 'diskengine db migrate' first",
				    latest);
	if (cur < latest)
		return store_seterr(
			err, -EPROTO,
			"the database schema (version %d) is older than this diskengine "
			"(%d): run 'diskengine db migrate' as a role that may change the "
			"schema",
			cur, latest);
	if (cur > latest)
		return store_seterr(
			err, -EPROTO,
			"database schema version %d is newer than this diskengine knows "
			"(%d); upgrade diskengine",
			cur, latest);
	return 0;
}

static int store_open_common(const char *url, enum store_open_mode mode, struct store **out,
			     struct store_error *err)
{
	const struct store_ops *ops = NULL;
	enum store_dialect d = STORE_DIALECT_SQLITE;
	const char *conninfo = NULL;
	struct store *s;
	int r;

	r = store_parse_url(url, &ops, &d, &conninfo, err);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->conninfo = strdup(conninfo))) {
		free(s);
		return store_seterr(err, -ENOMEM, "out of memory");
	}
	s->ops = ops;
	s->dialect = d;
	r = ops->open(conninfo, &s->db, err);
	if (r == 0 && mode == STORE_OPEN_MIGRATE)
		r = store_schema_apply(s, NULL, err);
	else if (r == 0 && mode == STORE_OPEN_READ)
		r = store_check_current(s, err);
	if (r < 0) {
		store_close(s);
		return r;
	}
	*out = s;
	return 0;
}

const char *store_url_sqlite_path(const char *url)
{
	const struct store_ops *ops;
	enum store_dialect d;
	const char *conninfo;

	if (!url || store_parse_url(url, &ops, &d, &conninfo, NULL) < 0)
		return NULL;
	return d == STORE_DIALECT_SQLITE ? conninfo : NULL;
}

int store_open(const char *url, struct store **out, struct store_error *err)
{
	return store_open_common(url, STORE_OPEN_MIGRATE, out, err);
}

int store_open_nomigrate(const char *url, struct store **out, struct store_error *err)
{
	return store_open_common(url, STORE_OPEN_AS_IS, out, err);
}

int store_open_read(const char *url, struct store **out, struct store_error *err)
{
	const char *path = store_url_sqlite_path(url);

	/* reading never creates a database: a typo in --db must not leave an empty file */
	if (path && access(path, F_OK) < 0)
		return store_seterr(err, -ENOENT, "database file %s does not exist", path);
	return store_open_common(url, STORE_OPEN_READ, out, err);
}

void store_close(struct store *store)
{
	if (!store)
		return;
	if (store->db)
		store->ops->close(store->db);
	free(store->conninfo);
	free(store);
}

const char *store_backend_name(const struct store *store)
{
	return store->ops->name;
}

int store_schema_version(struct store *store, int *current, int *latest, struct store_error *err)
{
	int cur, r = store_schema_current(store, &cur, err);

	if (r < 0)
		return r;
	if (current)
		*current = cur;
	if (latest)
		*latest = store_schema_latest();
	return 0;
}

int store_migrate(struct store *store, int *applied, struct store_error *err)
{
	return store_schema_apply(store, applied, err);
}

static const char *const transport_names[] = {"rdma", "tcp", "pcie"};
static const char *const mapping_state_names[] = {"ASSIGNED", "INITIALISED", "ATTACHED",
						  "DETACH_REQUESTED", "DETACHED"};
static const char *const volume_state_names[] = {"READY", "RESIZING"};

static int enum_parse(const char *const *names, size_t n, const char *s, int *out)
{
	for (size_t i = 0; s && i < n; i++)
		if (strcasecmp(s, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	return -EINVAL;
}

const char *store_transport_name(enum store_transport t)
{
	return (unsigned)t < ARRAY_SIZE(transport_names) ? transport_names[t] : "?";
}

int store_transport_parse(const char *s, enum store_transport *out)
{
	int v, r = enum_parse(transport_names, ARRAY_SIZE(transport_names), s, &v);

	if (r == 0)
		*out = (enum store_transport)v;
	return r;
}

const char *store_mapping_state_name(enum store_mapping_state s)
{
	return (unsigned)s < ARRAY_SIZE(mapping_state_names) ? mapping_state_names[s] : "?";
}

int store_mapping_state_parse(const char *s, enum store_mapping_state *out)
{
	int v, r = enum_parse(mapping_state_names, ARRAY_SIZE(mapping_state_names), s, &v);

	if (r == 0)
		*out = (enum store_mapping_state)v;
	return r;
}

const char *store_volume_state_name(enum store_volume_state s)
{
	return (unsigned)s < ARRAY_SIZE(volume_state_names) ? volume_state_names[s] : "?";
}

int store_volume_state_parse(const char *s, enum store_volume_state *out)
{
	int v, r = enum_parse(volume_state_names, ARRAY_SIZE(volume_state_names), s, &v);

	if (r == 0)
		*out = (enum store_volume_state)v;
	return r;
}

void store_decode_volume(const struct store_rows *r, size_t row, size_t c, struct store_volume *v)
{
	memset(v, 0, sizeof(*v));
	v->id = store_rows_int(r, row, c + 0);
	store_rows_copy(r, row, c + 1, v->name, sizeof(v->name));
	v->size_bytes = (uint64_t)store_rows_int(r, row, c + 2);
	v->block_size = (uint32_t)store_rows_int(r, row, c + 3);
	v->qos.rw_iops = (uint64_t)store_rows_int(r, row, c + 4);
	v->qos.rw_mbps = (uint64_t)store_rows_int(r, row, c + 5);
	v->qos.r_mbps = (uint64_t)store_rows_int(r, row, c + 6);
	v->qos.w_mbps = (uint64_t)store_rows_int(r, row, c + 7);
	store_rows_copy(r, row, c + 8, v->snapshot_source, sizeof(v->snapshot_source));
	store_volume_state_parse(store_rows_str(r, row, c + 9), &v->state);
	v->created_at = store_rows_int(r, row, c + 10);
	v->clean_stop = store_rows_int(r, row, c + 11) != 0;
	v->source_volume_id = store_rows_int(r, row, c + 12);
	store_rows_copy(r, row, c + 13, v->source_raid_uuid, sizeof(v->source_raid_uuid));
	v->source_data_offset = (uint64_t)store_rows_int(r, row, c + 14);
	store_rows_copy(r, row, c + 15, v->raid_uuid, sizeof(v->raid_uuid));
	v->raid_data_offset = (uint64_t)store_rows_int(r, row, c + 16);
	v->ever_attached = store_rows_int(r, row, c + 17) != 0;
	v->init_wiped = store_rows_int(r, row, c + 18) != 0;
}

void store_decode_replica(const struct store_rows *r, size_t row, struct store_replica *out)
{
	memset(out, 0, sizeof(*out));
	out->id = store_rows_int(r, row, 0);
	out->volume_id = store_rows_int(r, row, 1);
	out->node_id = store_rows_int(r, row, 2);
	store_rows_copy(r, row, 3, out->node_name, sizeof(out->node_name));
	store_transport_parse(store_rows_str(r, row, 4), &out->transport);
	store_rows_copy(r, row, 5, out->address, sizeof(out->address));
	out->port = (uint16_t)store_rows_int(r, row, 6);
	store_rows_copy(r, row, 7, out->auth_key_file, sizeof(out->auth_key_file));
	store_rows_copy(r, row, 8, out->nqn, sizeof(out->nqn));
	store_rows_copy(r, row, 9, out->lvol_uuid, sizeof(out->lvol_uuid));
	out->in_sync = store_rows_int(r, row, 10) != 0;
	out->generation = store_rows_int(r, row, 11);
	out->pending = store_rows_int(r, row, 12) != 0;
	out->device_id = store_rows_int(r, row, 13);
	if (out->device_id) {
		out->transport = STORE_TRANSPORT_PCIE;
		store_rows_copy(r, row, 14, out->device_host, sizeof(out->device_host));
		store_rows_copy(r, row, 15, out->bdf, sizeof(out->bdf));
		out->nsid = (uint32_t)store_rows_int(r, row, 16);
	}
}

void store_decode_mapping(const struct store_rows *r, size_t row, struct store_mapping *out)
{
	memset(out, 0, sizeof(*out));
	out->id = store_rows_int(r, row, 0);
	out->volume_id = store_rows_int(r, row, 1);
	store_rows_copy(r, row, 2, out->volume_name, sizeof(out->volume_name));
	out->host_id = store_rows_int(r, row, 3);
	store_rows_copy(r, row, 4, out->host_name, sizeof(out->host_name));
	store_rows_copy(r, row, 5, out->vm_id, sizeof(out->vm_id));
	store_mapping_state_parse(store_rows_str(r, row, 6), &out->state);
	out->created_at = store_rows_int(r, row, 7);
	out->updated_at = store_rows_int(r, row, 8);
}

/* Addresses are stored space-separated; validation keeps spaces out of them. */
static unsigned split_addrs(const char *s, char (*dst)[STORE_ADDR_MAX])
{
	unsigned n = 0;

	while (s && *s && n < STORE_HOST_ADDRS) {
		size_t len = strcspn(s, " ");

		if (len > 0 && len < STORE_ADDR_MAX) {
			memcpy(dst[n], s, len);
			dst[n++][len] = '\0';
		}
		s += len;
		s += strspn(s, " ");
	}
	return n;
}

void store_decode_host(const struct store_rows *r, size_t row, struct store_host *out)
{
	memset(out, 0, sizeof(*out));
	out->id = store_rows_int(r, row, 0);
	store_rows_copy(r, row, 1, out->name, sizeof(out->name));
	out->n_rdma_ips = split_addrs(store_rows_str(r, row, 2), out->rdma_ips);
	out->n_tcp_ips = split_addrs(store_rows_str(r, row, 3), out->tcp_ips);
	out->created_at = store_rows_int(r, row, 4);
}

void store_decode_device(const struct store_rows *r, size_t row, struct store_device *out)
{
	memset(out, 0, sizeof(*out));
	out->id = store_rows_int(r, row, 0);
	out->host_id = store_rows_int(r, row, 1);
	store_rows_copy(r, row, 2, out->host_name, sizeof(out->host_name));
	store_rows_copy(r, row, 3, out->bdf, sizeof(out->bdf));
	store_rows_copy(r, row, 4, out->inventory_id, sizeof(out->inventory_id));
}

static int lookup_id(struct store *s, const char *sql, const char *what, const char *name,
		     int64_t *id, struct store_error *err)
{
	struct store_param p = sp_text(name ? name : "");
	struct store_rows *rows = NULL;
	int r = store_select(s, sql, &p, 1, &rows, err);

	if (r < 0)
		return r;
	if (rows->nrows == 0)
		r = store_seterr(err, -ENOENT, "%s '%s' does not exist", what, name ? name : "");
	else
		*id = store_rows_int(rows, 0, 0);
	store_rows_free(rows);
	return r;
}

int store_lookup_host_id(struct store *s, const char *name, int64_t *id, struct store_error *err)
{
	return lookup_id(s, "SELECT id FROM hosts WHERE name = ?", "host", name, id, err);
}

int store_lookup_node_id(struct store *s, const char *name, int64_t *id, struct store_error *err)
{
	return lookup_id(s, "SELECT id FROM nodes WHERE name = ?", "storage node", name, id, err);
}

int store_lookup_volume(struct store *s, const char *ref, struct store_volume *out,
			struct store_error *err)
{
	struct store_rows *rows = NULL;
	struct store_param p;
	const char *sql;
	uint64_t id;
	int r;

	if (!ref || !*ref)
		return store_seterr(err, -EINVAL, "no volume given");
	if (util_parse_u64(ref, INT64_MAX, &id) == 0) {
		sql = STORE_SELECT_VOLUME "WHERE v.id = ?";
		p = sp_int((int64_t)id);
	} else {
		sql = STORE_SELECT_VOLUME "WHERE v.name = ?";
		p = sp_text(ref);
	}
	r = store_select(s, sql, &p, 1, &rows, err);
	if (r < 0)
		return r;
	if (rows->nrows == 0)
		r = store_seterr(err, -ENOENT, "volume '%s' does not exist", ref);
	else
		store_decode_volume(rows, 0, 0, out);
	store_rows_free(rows);
	return r;
}
