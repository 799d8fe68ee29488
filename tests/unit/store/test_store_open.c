/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Opening a store: a read open never changes the schema and says when it is not the one this
 * build knows; on PostgreSQL every connection carries bounds (keepalives, tcp_user_timeout,
 * connect_timeout, statement_timeout) the operator can override, and a statement stuck on a
 * lock ends with -ETIMEDOUT instead of blocking its caller.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "store/store.h"
#include "store/store_internal.h"
#include "store_test_db.h"

static void must(int r, const struct store_error *err)
{
	if (r < 0)
		fail_msg("%d: %s", r, err->message);
}

static int setup(void **state)
{
	struct test_db *db = calloc(1, sizeof(*db));

	test_db_create(db);
	*state = db;
	return 0;
}

static int teardown(void **state)
{
	test_db_destroy(*state);
	free(*state);
	return 0;
}

static int version_of(const char *url)
{
	struct store_error err = {0};
	struct store *s = NULL;
	int cur = -1;

	must(store_open_nomigrate(url, &s, &err), &err);
	must(store_schema_version(s, &cur, NULL, &err), &err);
	store_close(s);
	return cur;
}

static void test_read_open_current(void **state)
{
	struct test_db *db = *state;
	struct store_error err = {0};
	struct store_host *hosts = NULL;
	struct store *s = NULL;
	size_t n = 9;

	must(store_open(db->url, &s, &err), &err);
	store_close(s);
	s = NULL;
	must(store_open_read(db->url, &s, &err), &err);
	must(store_host_list(s, &hosts, &n, &err), &err);
	assert_int_equal(n, 0);
	free(hosts);
	store_close(s);
}

static void test_read_open_empty_database(void **state)
{
	struct test_db *db = *state;
	struct store_error err = {0};
	struct store *s = NULL;
	const char *path = store_url_sqlite_path(db->url);

	if (path) {
		/* SQLite: a file that does not exist is refused and not created... */
		assert_int_equal(store_open_read(db->url, &s, &err), -ENOENT);
		assert_non_null(strstr(err.message, "does not exist"));
		assert_int_equal(access(path, F_OK), -1);
		/* ...an empty one is an empty database */
		FILE *f = fopen(path, "a");
		assert_non_null(f);
		fclose(f);
	}
	assert_int_equal(store_open_read(db->url, &s, &err), -EPROTO);
	assert_null(s);
	assert_int_equal(err.err, -EPROTO);
	assert_non_null(strstr(err.message, "no diskengine schema"));
	assert_non_null(strstr(err.message, "diskengine db migrate"));
	/* nothing was created: still version 0 */
	assert_int_equal(version_of(db->url), 0);
}

static void test_read_open_older_schema(void **state)
{
	struct test_db *db = *state;
	struct store_error err = {0};
	struct store *s = NULL;
	char want[64];

	must(store_open_nomigrate(db->url, &s, &err), &err);
	must(store_schema_apply_to(s, 2, NULL, &err), &err);
	store_close(s);
	s = NULL;
	assert_int_equal(store_open_read(db->url, &s, &err), -EPROTO);
	assert_null(s);
	snprintf(want, sizeof(want), "(version 2) is older than this diskengine (%d)",
		 store_schema_latest());
	if (!strstr(err.message, want) || !strstr(err.message, "diskengine db migrate"))
		fail_msg("message: %s", err.message);
	assert_int_equal(version_of(db->url), 2);
}

static void test_read_open_newer_schema(void **state)
{
	struct test_db *db = *state;
	struct store_error err = {0};
	struct store *s = NULL;
	struct store_param p = sp_int(store_schema_latest() + 1);

	must(store_open(db->url, &s, &err), &err);
	must(store_exec(s,
			"INSERT INTO schema_version (version, description, applied_at) "
			"VALUES (?, 'from the future', 0)",
			&p, 1, &err),
	     &err);
	store_close(s);
	s = NULL;
	assert_int_equal(store_open_read(db->url, &s, &err), -EPROTO);
	assert_non_null(strstr(err.message, "newer than this diskengine"));
}

/* ---- PostgreSQL only ---------------------------------------------------------------------- */

static bool skip_unless_pg(const struct test_db *db)
{
	if (!db->pg)
		print_message("(SQLite run: PostgreSQL only)\n");
	return !db->pg;
}

static void show(struct store *s, const char *name, char *out, size_t size)
{
	struct store_error err = {0};
	struct store_rows *rows = NULL;
	char sql[96];

	snprintf(sql, sizeof(sql), "SHOW %s", name);
	must(store_select(s, sql, NULL, 0, &rows, &err), &err);
	store_rows_copy(rows, 0, 0, out, size);
	store_rows_free(rows);
}

static void param_is(struct store *s, const char *keyword, const char *want)
{
	char got[64] = "";

	assert_int_equal(store_pg_conn_param(s, keyword, got, sizeof(got)), 0);
	if (strcmp(got, want) != 0)
		fail_msg("%s is '%s', wanted '%s'", keyword, got, want);
}

static void test_pg_connection_bounds(void **state)
{
	struct test_db *db = *state;
	struct store_error err = {0};
	struct store *s = NULL;
	char v[64];

	if (skip_unless_pg(db))
		return;
	must(store_open(db->url, &s, &err), &err);
	param_is(s, "connect_timeout", "10");
	param_is(s, "keepalives", "1");
	param_is(s, "keepalives_idle", "10");
	param_is(s, "keepalives_interval", "5");
	param_is(s, "keepalives_count", "3");
	param_is(s, "tcp_user_timeout", "30000");
	show(s, "statement_timeout", v, sizeof(v));
	assert_string_equal(v, "30s");
	show(s, "idle_in_transaction_session_timeout", v, sizeof(v));
	assert_string_equal(v, "1min");
	show(s, "application_name", v, sizeof(v));
	assert_string_equal(v, "diskengine");
	store_close(s);
}

static void test_pg_operator_overrides(void **state)
{
	struct test_db *db = *state;
	struct store_error err = {0};
	struct store *s = NULL;
	char url[1200], v[64];

	if (skip_unless_pg(db))
		return;
	snprintf(url, sizeof(url),
		 "%s keepalives_idle=3 tcp_user_timeout=7000 options='-c statement_timeout=1234'",
		 db->url);
	setenv("PGCONNECT_TIMEOUT", "7", 1);
	must(store_open(url, &s, &err), &err);
	unsetenv("PGCONNECT_TIMEOUT");
	param_is(s, "keepalives_idle", "3");
	param_is(s, "tcp_user_timeout", "7000");
	param_is(s, "connect_timeout", "7");
	param_is(s, "keepalives_count", "3"); /* the ones not overridden stay */
	show(s, "statement_timeout", v, sizeof(v));
	assert_string_equal(v, "1234ms");
	show(s, "idle_in_transaction_session_timeout", v, sizeof(v));
	assert_string_equal(v, "1min");
	store_close(s);
}

static PGconn *pg_admin_connect(const char *url)
{
	PGconn *c = PQconnectdb(url);

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("admin connection: %s", PQerrorMessage(c));
	return c;
}

static void pg_admin_exec(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
}

/* A role set up the way docs/store.md tells: DML rights, no DDL. */
static void test_pg_dml_role_needs_no_ddl(void **state)
{
	struct test_db *db = *state;
	struct store_error err = {0};
	struct store_host h = {0};
	struct store *s = NULL;
	PGconn *admin;
	char url[1200];

	if (skip_unless_pg(db))
		return;
	admin = pg_admin_connect(db->url);
	pg_admin_exec(admin, "DO $$ BEGIN CREATE ROLE de_test_rw LOGIN; "
			     "EXCEPTION WHEN duplicate_object THEN NULL; END $$");
	pg_admin_exec(admin, "REVOKE CREATE ON SCHEMA public FROM PUBLIC");
	pg_admin_exec(admin, "GRANT USAGE ON SCHEMA public TO de_test_rw");
	pg_admin_exec(admin, "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, "
			     "UPDATE, DELETE ON TABLES TO de_test_rw");
	pg_admin_exec(admin, "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON "
			     "SEQUENCES TO de_test_rw");
	snprintf(url, sizeof(url), "%s user=de_test_rw", db->url);

	/* an older schema: the role may not migrate, and is told who must */
	must(store_open_nomigrate(db->url, &s, &err), &err);
	must(store_schema_apply_to(s, 2, NULL, &err), &err);
	store_close(s);
	s = NULL;
	assert_int_equal(store_open(url, &s, &err), -EACCES);
	if (!strstr(err.message, "as the schema's owner") || !strstr(err.message, "version 2"))
		fail_msg("message: %s", err.message);
	assert_int_equal(version_of(db->url), 2);

	/* once the owner migrated, it opens (no DDL) and writes */
	must(store_open(db->url, &s, &err), &err);
	store_close(s);
	s = NULL;
	must(store_open(url, &s, &err), &err);
	snprintf(h.name, sizeof(h.name), "bm1");
	must(store_host_add(s, &h, NULL, &err), &err);
	store_close(s);
	s = NULL;
	must(store_open_read(url, &s, &err), &err);
	store_close(s);
	PQfinish(admin);
}

static void test_pg_blocked_lock_times_out(void **state)
{
	struct test_db *db = *state;
	struct store_error err = {0};
	struct store_host *hosts = NULL;
	struct store *s = NULL;
	char url[1200];
	PGconn *admin;
	size_t n = 0;

	if (skip_unless_pg(db))
		return;
	snprintf(url, sizeof(url), "%s options='-c statement_timeout=1000'", db->url);
	must(store_open(url, &s, &err), &err);
	admin = pg_admin_connect(db->url);
	pg_admin_exec(admin, "BEGIN");
	pg_admin_exec(admin, "LOCK TABLE hosts IN ACCESS EXCLUSIVE MODE");
	assert_int_equal(store_host_list(s, &hosts, &n, &err), -ETIMEDOUT);
	if (!strstr(err.message, "statement timeout"))
		fail_msg("message: %s", err.message);
	pg_admin_exec(admin, "ROLLBACK");
	/* the session is still good */
	must(store_host_list(s, &hosts, &n, &err), &err);
	free(hosts);
	PQfinish(admin);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_open_current, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_open_empty_database, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_open_older_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_open_newer_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_connection_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_operator_overrides, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_dml_role_needs_no_ddl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_blocked_lock_times_out, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
