/* SPDX-License-Identifier: Apache-2.0 */
/* PostgreSQL backend (libpq): text parameters, LISTEN/NOTIFY wake-ups. */
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/redact.h"
#include "common/util.h"
#include "store/store_internal.h"

/* Any fixed number: every diskengine process migrating takes the same advisory lock. */
#define PG_SCHEMA_LOCK_KEY 0x64697365 /* "dise" */
#define PG_MAX_PARAMS 32

/*
 * Bounds on a connection, so a partitioned network or a stuck lock fails a call instead of
 * blocking the caller (the daemon holds its store lock meanwhile). Each is only a default: the
 * operator's URL or key=value string, or the environment variable libpq reads for it, wins.
 * Keepalives notice a silent peer while waiting for an answer (10 s idle, then 3 probes 5 s
 * apart); tcp_user_timeout bounds data left unacknowledged (a request sent into the void).
 */
static const struct {
	const char *key, *val, *env;
} pg_conn_defaults[] = {
	{"connect_timeout", "10", "PGCONNECT_TIMEOUT"},
	{"application_name", "diskengine", "PGAPPNAME"},
	{"keepalives", "1", NULL},
	{"keepalives_idle", "10", NULL},
	{"keepalives_interval", "5", NULL},
	{"keepalives_count", "3", NULL},
	{"tcp_user_timeout", "30000", NULL},
};

/*
 * Server settings of every session, applied only where nobody else chose a value (pg_settings
 * says 'default'): an operator's options=-c..., PGOPTIONS, ALTER ROLE/DATABASE ... SET or
 * postgresql.conf win. statement_timeout ends a statement stuck on a lock; a session of ours
 * that sits idle inside a transaction (its host cut off mid-way) is ended by the server, so
 * the row locks it holds do not stall every other host.
 */
static const char pg_session_defaults[] =
	"SELECT set_config(s.name, d.val, false) FROM pg_catalog.pg_settings s "
	"JOIN (VALUES ('statement_timeout', '30s'), "
	"('idle_in_transaction_session_timeout', '60s')) AS d(name, val) ON d.name = s.name "
	"WHERE s.source = 'default'";

/* The store's connection, and whether a transaction of ours is open on it. */
struct pg_db {
	PGconn *c;
	bool in_txn;
};

static void pg_notice(void *arg, const char *message)
{
	log_debug("postgresql: %s", message);
}

static int pg_state_errno(const char *state)
{
	if (!state)
		return -ENOTCONN;
	if (strcmp(state, "23505") == 0)
		return -EEXIST;
	if (strcmp(state, "23503") == 0)
		return -EBUSY;
	if (strncmp(state, "23", 2) == 0)
		return -EINVAL;
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	    strcmp(state, "55P03") == 0)
		return -EAGAIN;
	if (strcmp(state, "53100") == 0)
		return -ENOSPC;
	if (strcmp(state, "25006") == 0)
		return -EROFS;
	if (strcmp(state, "42501") == 0)
		return -EACCES;
	if (strcmp(state, "57014") == 0) /* query_canceled: statement_timeout */
		return -ETIMEDOUT;
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
		return -ENOTCONN;
	return -EIO;
}

/* Copy libpq's message without its trailing newline. */
static int pg_fail(PGconn *c, const PGresult *res, struct store_error *err)
{
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c);
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	int e = PQstatus(c) == CONNECTION_OK ? pg_state_errno(state) : -ENOTCONN;
	size_t n = strlen(msg);

	if (!state && PQstatus(c) == CONNECTION_OK)
		e = -EIO;
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	if (e == -ENOTCONN)
		return store_seterr(err, e, "PostgreSQL connection lost: %.*s", (int)n, msg);
	return store_seterr(err, e, "PostgreSQL: %.*s", (int)n, msg);
}

static int pg_command(PGconn *c, const char *sql, struct store_error *err)
{
	PGresult *res = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(res);
	int r = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		r = pg_fail(c, res, err);
	PQclear(res);
	return r;
}

/*
 * libpq may quote the password alone (a bad %-escape in it, say) where no keyword shows it is
 * one: hide its raw text as given and its decoded value, then anything that looks like one.
 */
static void pg_hide_password(const char *conninfo, char *msg, size_t size)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	_cleanup_free_ char *raw = NULL;
	size_t pos = 0, start, len;

	while (redact_find(conninfo, pos, true, &start, &len) == 0) {
		free(raw);
		raw = strndup(conninfo + start, len);
		if (raw)
			redact_secret(msg, raw);
		pos = start + len;
	}
	for (PQconninfoOption *o = opts; o && o->keyword; o++)
		if (o->val &&
		    (strcmp(o->keyword, "password") == 0 || strcmp(o->keyword, "sslpassword") == 0))
			redact_secret(msg, o->val);
	PQconninfoFree(opts);
	free(raw);
	raw = strdup(msg);
	if (raw)
		redact_copy(raw, msg, size);
}

/* The session defaults nobody else set, in one round trip. */
static int pg_session_setup(PGconn *c, struct store_error *err)
{
	PQsetNoticeProcessor(c, pg_notice, NULL);
	return pg_command(c, pg_session_defaults, err);
}

static int pg_connect(const char *conninfo, PGconn **out, struct store_error *err)
{
	/* Ours come first: anything the operator put in the URL overrides them. */
	const char *keys[ARRAY_SIZE(pg_conn_defaults) + 2];
	const char *vals[ARRAY_SIZE(pg_conn_defaults) + 2];
	size_t n = 0;
	PGconn *c;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(pg_conn_defaults); i++) {
		const char *env = pg_conn_defaults[i].env ? getenv(pg_conn_defaults[i].env) : NULL;

		if (env && *env)
			continue;
		keys[n] = pg_conn_defaults[i].key;
		vals[n++] = pg_conn_defaults[i].val;
	}
	keys[n] = "dbname";
	vals[n++] = conninfo;
	keys[n] = vals[n] = NULL;
	c = PQconnectdbParams(keys, vals, 1);
	if (!c)
		return store_seterr(err, -ENOMEM, "out of memory");
	if (PQstatus(c) != CONNECTION_OK) {
		char msg[sizeof(err->message)];
		size_t len;

		util_strlcpy(msg, PQerrorMessage(c), sizeof(msg));
		pg_hide_password(conninfo, msg, sizeof(msg));
		len = strlen(msg);
		while (len && msg[len - 1] == '\n')
			msg[--len] = '\0';
		store_seterr(err, -ENOTCONN, "cannot connect to PostgreSQL: %s", msg);
		PQfinish(c);
		return -ENOTCONN;
	}
	r = pg_session_setup(c, err);
	if (r < 0) {
		PQfinish(c);
		return r;
	}
	*out = c;
	return 0;
}

static int pg_open(const char *conninfo, void **db, struct store_error *err)
{
	struct pg_db *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return store_seterr(err, -ENOMEM, "out of memory");
	r = pg_connect(conninfo, &d->c, err);
	if (r < 0) {
		free(d);
		return r;
	}
	*db = d;
	return 0;
}

static void pg_close(void *db)
{
	struct pg_db *d = db;

	if (!d)
		return;
	PQfinish(d->c);
	free(d);
}

/*
 * A connection the server dropped (restart, failover) is re-established only between
 * transactions, where nothing can be half-done; the call that saw it drop has failed.
 */
static int pg_revive(struct pg_db *d, struct store_error *err)
{
	if (PQstatus(d->c) == CONNECTION_OK)
		return 0;
	if (d->in_txn)
		return pg_fail(d->c, NULL, err);
	PQreset(d->c);
	if (PQstatus(d->c) != CONNECTION_OK)
		return pg_fail(d->c, NULL, err);
	return pg_session_setup(d->c, err);
}

static int pg_begin(void *db, bool write, struct store_error *err)
{
	struct pg_db *d = db;
	int r = pg_revive(d, err);

	/* Reads see one snapshot; writes rely on constraints and compare-and-set updates. */
	if (r == 0)
		r = pg_command(d->c,
			       write ? "BEGIN ISOLATION LEVEL READ COMMITTED"
				     : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
			       err);
	d->in_txn = r == 0;
	return r;
}

static int pg_commit(void *db, struct store_error *err)
{
	struct pg_db *d = db;
	PGresult *res = PQexec(d->c, "COMMIT");
	int r = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		r = pg_fail(d->c, res, err);
	else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) /* an aborted transaction */
		r = store_seterr(err, -EIO, "PostgreSQL rolled the transaction back");
	PQclear(res);
	d->in_txn = false;
	return r;
}

static void pg_rollback(void *db)
{
	struct pg_db *d = db;

	if (PQstatus(d->c) == CONNECTION_OK && PQtransactionStatus(d->c) != PQTRANS_IDLE)
		PQclear(PQexec(d->c, "ROLLBACK"));
	d->in_txn = false;
}

static int pg_exec_script(void *db, const char *sql, struct store_error *err)
{
	struct pg_db *d = db;
	int r = pg_revive(d, err);

	return r < 0 ? r : pg_command(d->c, sql, err);
}

/* '?' placeholders become $1, $2, ...; quoted literals are left alone. */
static char *pg_placeholders(const char *sql)
{
	size_t n = strlen(sql), k = 0, idx = 0;
	char *out = malloc(n * 4 + 1);
	char quote = 0;

	if (!out)
		return NULL;
	for (const char *p = sql; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == '?') {
			k += (size_t)sprintf(out + k, "$%zu", ++idx);
			continue;
		}
		out[k++] = *p;
	}
	out[k] = '\0';
	return out;
}

static int pg_query(void *db, const char *sql, const struct store_param *params, size_t n_params,
		    struct store_rows **rows_out, struct store_error *err)
{
	PGconn *c = ((struct pg_db *)db)->c;
	char numbuf[PG_MAX_PARAMS][24];
	const char *vals[PG_MAX_PARAMS];
	struct store_rows *rows = NULL;
	_cleanup_free_ char *text = NULL;
	PGresult *res;
	ExecStatusType st;
	int r = 0;

	r = pg_revive(db, err);
	if (r < 0)
		return r;
	if (n_params > PG_MAX_PARAMS)
		return store_seterr(err, -E2BIG, "too many parameters");
	for (size_t i = 0; i < n_params; i++) {
		if (params[i].type == STORE_PARAM_INT) {
			snprintf(numbuf[i], sizeof(numbuf[i]), "%" PRId64, params[i].i);
			vals[i] = numbuf[i];
		} else {
			vals[i] = params[i].type == STORE_PARAM_TEXT ? params[i].s : NULL;
		}
	}
	text = pg_placeholders(sql);
	if (!text)
		return store_seterr(err, -ENOMEM, "out of memory");
	res = PQexecParams(c, text, (int)n_params, NULL, vals, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		r = pg_fail(c, res, err);
		goto out;
	}
	rows = store_rows_new((size_t)PQnfields(res));
	if (!rows) {
		r = store_seterr(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (int row = 0; row < PQntuples(res); row++) {
		char **cells = calloc(rows->ncols ? rows->ncols : 1, sizeof(*cells));

		if (!cells) {
			r = store_seterr(err, -ENOMEM, "out of memory");
			goto out;
		}
		for (size_t col = 0; col < rows->ncols; col++)
			if (!PQgetisnull(res, row, (int)col))
				cells[col] = util_xstrdup(PQgetvalue(res, row, (int)col));
		r = store_rows_add(rows, cells);
		if (r < 0) {
			store_seterr(err, r, "out of memory");
			goto out;
		}
	}
	if (rows_out) {
		*rows_out = rows;
		rows = NULL;
	}
out:
	store_rows_free(rows);
	PQclear(res);
	return r;
}

static int pg_schema_lock(void *db, struct store_error *err)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%d)", PG_SCHEMA_LOCK_KEY);
	return pg_command(((struct pg_db *)db)->c, sql, err);
}

static int pg_watch_open(void *db, const char *conninfo, int64_t host_id, void **out,
			 struct store_error *err)
{
	PGconn *c;
	char sql[64];
	int r;

	r = pg_connect(conninfo, &c, err);
	if (r < 0)
		return r;
	/* The channel name is built from an integer id: nothing to quote. */
	snprintf(sql, sizeof(sql), "LISTEN diskengine_host_%" PRId64, host_id);
	r = pg_command(c, sql, err);
	if (r < 0) {
		PQfinish(c);
		return r;
	}
	*out = c;
	return 0;
}

/* Drain every queued notification; true if there was at least one. */
static bool pg_drain(PGconn *c)
{
	PGnotify *n;
	bool any = false;

	while ((n = PQnotifies(c))) {
		any = true;
		PQfreemem(n);
	}
	return any;
}

static int pg_watch_fd(void *watch)
{
	return PQsocket((PGconn *)watch);
}

static int pg_watch_wait(void *watch, int timeout_ms, struct store_error *err)
{
	PGconn *c = watch;
	uint64_t deadline = util_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);

	for (;;) {
		struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
		uint64_t now;
		int pr;

		if (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK)
			return pg_fail(c, NULL, err);
		if (pg_drain(c))
			return 1;
		now = util_now_ms();
		if (now >= deadline)
			return 0;
		if (pfd.fd < 0)
			return store_seterr(err, -ENOTCONN, "PostgreSQL connection lost");
		pr = poll(&pfd, 1, (int)(deadline - now));
		if (pr < 0 && errno != EINTR)
			return store_seterr(err, -errno, "waiting for PostgreSQL: %s",
					    strerror(errno));
	}
}

static void pg_watch_close(void *watch)
{
	if (watch)
		PQfinish(watch);
}

int store_pg_conn_param(struct store *s, const char *keyword, char *buf, size_t size)
{
	PQconninfoOption *opts;
	int r = -ENOENT;

	if (s->ops != &store_pg_ops)
		return -EOPNOTSUPP;
	opts = PQconninfo(((struct pg_db *)s->db)->c);
	if (!opts)
		return -ENOMEM;
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, keyword) == 0 && o->val && *o->val) {
			r = util_strlcpy(buf, o->val, size);
			break;
		}
	PQconninfoFree(opts);
	return r;
}

const struct store_ops store_pg_ops = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.exec_script = pg_exec_script,
	.query = pg_query,
	.schema_lock = pg_schema_lock,
	.watch_open = pg_watch_open,
	.watch_wait = pg_watch_wait,
	.watch_close = pg_watch_close,
	.watch_fd = pg_watch_fd,
};
