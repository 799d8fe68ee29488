/* SPDX-License-Identifier: Apache-2.0 */
/* SQLite backend: WAL, a busy timeout, IMMEDIATE write transactions. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/util.h"
#include "store/store_internal.h"

/* How long one statement waits for another writer before the transaction is retried. */
#define SQLITE_BUSY_MS 5000
/* The watch looks at PRAGMA data_version this often; a change is seen within ~50 ms. */
#define SQLITE_WATCH_POLL_MS 50

struct sq_db {
	sqlite3 *h;
	char *path;
};

struct sq_watch {
	sqlite3 *h;
	int64_t host_id;
	int64_t data_version;
	int64_t seq;
};

static int sq_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EAGAIN;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOTCONN;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return -EEXIST;
		if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			return -EBUSY;
		return -EINVAL;
	default:
		return -EIO;
	}
}

static int sq_fail(sqlite3 *h, int rc, const char *path, struct store_error *err)
{
	int e = sq_errno(rc);
	const char *msg = h ? sqlite3_errmsg(h) : sqlite3_errstr(rc);

	if (e == -EROFS)
		return store_seterr(err, e, "SQLite database %s is read-only: %s", path, msg);
	if (e == -ENOSPC)
		return store_seterr(err, e, "SQLite database %s: disk full: %s", path, msg);
	if (e == -EAGAIN)
		return store_seterr(err, e, "SQLite database %s is locked by another writer", path);
	return store_seterr(err, e, "SQLite database %s: %s", path, msg);
}

static int sq_simple(sqlite3 *h, const char *path, const char *sql, struct store_error *err)
{
	int rc = sqlite3_exec(h, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : sq_fail(h, sqlite3_extended_errcode(h), path, err);
}

/*
 * Switch to WAL. The switch needs an exclusive lock, and while another connection holds a write
 * lock SQLite answers SQLITE_BUSY at once instead of calling the busy handler (two processes
 * opening a new database together): retry for as long as the busy timeout would have waited.
 * The pragma answers the mode in force, which must then be "wal".
 */
static int sq_set_wal(sqlite3 *h, const char *path, struct store_error *err)
{
	uint64_t deadline = util_now_ms() + SQLITE_BUSY_MS, delay = 1;
	sqlite3_stmt *st = NULL;
	int rc;

	for (;;) {
		rc = sqlite3_prepare_v2(h, "PRAGMA journal_mode = WAL", -1, &st, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(st);
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
		sqlite3_finalize(st);
		st = NULL;
		if (util_now_ms() >= deadline)
			break;
		util_sleep_ms(delay);
		delay = delay * 2 > 50 ? 50 : delay * 2;
	}
	if (rc != SQLITE_ROW) {
		int r = sq_fail(h, rc, path, err);

		sqlite3_finalize(st);
		return r;
	}
	const char *mode = (const char *)sqlite3_column_text(st, 0);
	if (!mode || strcasecmp(mode, "wal") != 0) {
		int r = store_seterr(err, -EIO,
				     "SQLite database %s stays in journal mode %s: WAL could not "
				     "be set (a file system without shared memory?)",
				     path, mode ? mode : "(none)");
		sqlite3_finalize(st);
		return r;
	}
	sqlite3_finalize(st);
	return 0;
}

static int sq_connect(const char *path, sqlite3 **out, struct store_error *err)
{
	sqlite3 *h = NULL;
	int rc;

	rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		store_seterr(err, -ENOTCONN, "cannot open SQLite database %s: %s", path,
			     h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
		sqlite3_close(h);
		return -ENOTCONN;
	}
	sqlite3_extended_result_codes(h, 1);
	sqlite3_busy_timeout(h, SQLITE_BUSY_MS);
	*out = h;
	return 0;
}

static int sq_open(const char *conninfo, void **db, struct store_error *err)
{
	struct sq_db *d;
	sqlite3 *h;
	int r;

	r = sq_connect(conninfo, &h, err);
	if (r < 0)
		return r;
	/* Check the file really is a database before anything else touches it. */
	r = sq_simple(h, conninfo, "PRAGMA foreign_keys = ON; SELECT count(*) FROM sqlite_master",
		      err);
	/* WAL lets readers (the daemon, `list`) run beside a writer. */
	if (r == 0 && !sqlite3_db_readonly(h, "main"))
		r = sq_set_wal(h, conninfo, err);
	/* a committed write survives a power cut, not only a crash */
	if (r == 0)
		r = sq_simple(h, conninfo, "PRAGMA synchronous = FULL", err);
	if (r < 0) {
		if (sqlite3_db_readonly(h, "main") == 1)
			r = store_seterr(
				err, -EROFS,
				"SQLite database %s is read-only and cannot be opened (WAL "
				"needs write access to the file and its directory): %s",
				conninfo, sqlite3_errmsg(h));
		else if (r == -EIO)
			r = store_seterr(err, -ENOTCONN, "cannot use SQLite database %s: %s",
					 conninfo, sqlite3_errmsg(h));
		sqlite3_close(h);
		return r;
	}
	d = calloc(1, sizeof(*d));
	if (!d || !(d->path = strdup(conninfo))) {
		free(d);
		sqlite3_close(h);
		return store_seterr(err, -ENOMEM, "out of memory");
	}
	d->h = h;
	*db = d;
	return 0;
}

static void sq_close(void *db)
{
	struct sq_db *d = db;

	if (!d)
		return;
	sqlite3_close(d->h); /* rolls back an open transaction */
	free(d->path);
	free(d);
}

static int sq_begin(void *db, bool write, struct store_error *err)
{
	struct sq_db *d = db;

	return sq_simple(d->h, d->path, write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED", err);
}

static int sq_commit(void *db, struct store_error *err)
{
	struct sq_db *d = db;
	int r = sq_simple(d->h, d->path, "COMMIT", err);

	if (r < 0 && !sqlite3_get_autocommit(d->h))
		sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

static void sq_rollback(void *db)
{
	struct sq_db *d = db;

	if (!sqlite3_get_autocommit(d->h))
		sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
}

static int sq_exec_script(void *db, const char *sql, struct store_error *err)
{
	struct sq_db *d = db;

	return sq_simple(d->h, d->path, sql, err);
}

static int sq_bind(sqlite3_stmt *st, const struct store_param *p, size_t n)
{
	int rc = SQLITE_OK;

	for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
		int idx = (int)i + 1;

		switch (p[i].type) {
		case STORE_PARAM_INT:
			rc = sqlite3_bind_int64(st, idx, p[i].i);
			break;
		case STORE_PARAM_TEXT:
			rc = sqlite3_bind_text(st, idx, p[i].s, -1, SQLITE_TRANSIENT);
			break;
		default:
			rc = sqlite3_bind_null(st, idx);
			break;
		}
	}
	return rc;
}

static int sq_collect(sqlite3_stmt *st, struct store_rows *rows)
{
	size_t nc = rows->ncols;
	char **cells = calloc(nc ? nc : 1, sizeof(*cells));

	if (!cells)
		return -ENOMEM;
	for (size_t c = 0; c < nc; c++) {
		const unsigned char *t = sqlite3_column_text(st, (int)c);

		if (t && !(cells[c] = strdup((const char *)t))) {
			for (size_t k = 0; k < c; k++)
				free(cells[k]);
			free(cells);
			return -ENOMEM;
		}
	}
	return store_rows_add(rows, cells);
}

static int sq_query(void *db, const char *sql, const struct store_param *params, size_t n_params,
		    struct store_rows **rows_out, struct store_error *err)
{
	struct sq_db *d = db;
	struct store_rows *rows = NULL;
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(d->h, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sq_fail(d->h, sqlite3_extended_errcode(d->h), d->path, err);
	rc = sq_bind(st, params, n_params);
	if (rc != SQLITE_OK) {
		r = sq_fail(d->h, rc, d->path, err);
		goto out;
	}
	rows = store_rows_new((size_t)sqlite3_column_count(st));
	if (!rows) {
		r = store_seterr(err, -ENOMEM, "out of memory");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = sq_collect(st, rows);
		if (r < 0) {
			store_seterr(err, r, "out of memory");
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		r = sq_fail(d->h, sqlite3_extended_errcode(d->h), d->path, err);
		goto out;
	}
	if (rows_out) {
		*rows_out = rows;
		rows = NULL;
	}
out:
	store_rows_free(rows);
	sqlite3_finalize(st);
	return r;
}

/* BEGIN IMMEDIATE already holds the only write lock there is. */
static int sq_schema_lock(void *db, struct store_error *err)
{
	return 0;
}

static int sq_int_query(sqlite3 *h, const char *sql, int64_t arg, bool bind, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(h, sql, -1, &st, NULL);
	if (rc == SQLITE_OK && bind)
		rc = sqlite3_bind_int64(st, 1, arg);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			*out = -1; /* no row: the host is gone */
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

static const char sq_seq_sql[] = "SELECT seq FROM host_wakeups WHERE host_id = ?";

static int sq_watch_open(void *db, const char *conninfo, int64_t host_id, void **out,
			 struct store_error *err)
{
	struct sq_watch *w = calloc(1, sizeof(*w));
	int rc, r;

	if (!w)
		return store_seterr(err, -ENOMEM, "out of memory");
	r = sq_connect(conninfo, &w->h, err);
	if (r < 0) {
		free(w);
		return r;
	}
	w->host_id = host_id;
	rc = sq_int_query(w->h, "PRAGMA data_version", 0, false, &w->data_version);
	if (rc == SQLITE_OK)
		rc = sq_int_query(w->h, sq_seq_sql, host_id, true, &w->seq);
	if (rc != SQLITE_OK) {
		r = sq_fail(w->h, rc, conninfo, err);
		sqlite3_close(w->h);
		free(w);
		return r;
	}
	*out = w;
	return 0;
}

/*
 * data_version moves whenever another connection commits; only then is the host's counter
 * read, so an idle database costs one cheap pragma per poll.
 */
static int sq_watch_wait(void *watch, int timeout_ms, struct store_error *err)
{
	struct sq_watch *w = watch;
	uint64_t deadline = util_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);

	for (;;) {
		int64_t dv, seq;
		uint64_t now;
		int rc;

		rc = sq_int_query(w->h, "PRAGMA data_version", 0, false, &dv);
		if (rc == SQLITE_OK && dv != w->data_version) {
			w->data_version = dv;
			rc = sq_int_query(w->h, sq_seq_sql, w->host_id, true, &seq);
			if (rc == SQLITE_OK && seq != w->seq) {
				w->seq = seq;
				return 1;
			}
		}
		if (rc != SQLITE_OK && sq_errno(rc) != -EAGAIN)
			return sq_fail(w->h, rc, "(watch)", err);
		now = util_now_ms();
		if (now >= deadline)
			return 0;
		util_sleep_ms(deadline - now < SQLITE_WATCH_POLL_MS ? deadline - now
								    : SQLITE_WATCH_POLL_MS);
	}
}

static void sq_watch_close(void *watch)
{
	struct sq_watch *w = watch;

	if (!w)
		return;
	sqlite3_close(w->h);
	free(w);
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.exec_script = sq_exec_script,
	.query = sq_query,
	.schema_lock = sq_schema_lock,
	.watch_open = sq_watch_open,
	.watch_wait = sq_watch_wait,
	.watch_close = sq_watch_close,
};
