/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite specifics of opening a store: switching a database to WAL needs an exclusive lock, and
 * SQLite answers SQLITE_BUSY at once, without the busy handler, while another connection holds a
 * write lock. Two daemons or CLI commands opening a new database together hit exactly that.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"

struct holder {
	const char *path;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool held;
	int rc;
};

/* Hold a write lock (BEGIN IMMEDIATE) for a while, as a concurrent first open does. */
static void *hold_write_lock(void *arg)
{
	struct holder *h = arg;
	sqlite3 *db = NULL;

	h->rc = sqlite3_open(h->path, &db);
	if (h->rc == SQLITE_OK)
		h->rc = sqlite3_exec(db, "BEGIN IMMEDIATE; INSERT INTO t VALUES (1)", NULL, NULL,
				     NULL);
	pthread_mutex_lock(&h->lock);
	h->held = true;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
	if (h->rc == SQLITE_OK) {
		usleep(300 * 1000);
		h->rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	sqlite3_close(db);
	return NULL;
}

static void test_wal_switch_waits_for_a_writer(void **state)
{
	char dir[] = "/tmp/de-sqlite-open.XXXXXX", path[256], url[300];
	struct holder h = {.path = path};
	struct store_error err = {0};
	struct store *s = NULL;
	sqlite3 *db = NULL;
	pthread_t t;
	int r;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/db.sqlite", dir);
	snprintf(url, sizeof(url), "sqlite://%s", path);
	/* a database still in rollback-journal mode, as a new file is */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (a)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	pthread_mutex_init(&h.lock, NULL);
	pthread_cond_init(&h.cond, NULL);
	assert_int_equal(pthread_create(&t, NULL, hold_write_lock, &h), 0);
	pthread_mutex_lock(&h.lock);
	while (!h.held)
		pthread_cond_wait(&h.cond, &h.lock);
	pthread_mutex_unlock(&h.lock);
	assert_int_equal(h.rc, SQLITE_OK);

	r = store_open_nomigrate(url, &s, &err);
	pthread_join(t, NULL);
	if (r < 0)
		fail_msg("store_open while another connection writes: %s", err.message);
	store_close(s);

	/* and the database is in WAL mode now */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
	pthread_cond_destroy(&h.cond);
	pthread_mutex_destroy(&h.lock);
	snprintf(url, sizeof(url), "rm -rf '%s'", dir);
	assert_int_equal(system(url), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wal_switch_waits_for_a_writer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
