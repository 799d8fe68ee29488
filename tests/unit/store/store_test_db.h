/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_TEST_STORE_DB_H
#define DISKENGINE_TEST_STORE_DB_H

/*
 * A fresh, empty database per test on the backend the run is for: PostgreSQL when
 * PG_TEST_CONNINFO is set (scripts/pg-test.sh), otherwise a SQLite file in a temp directory.
 */

#include <stdbool.h>
#include <stddef.h>

struct test_db {
	char url[1024];
	char dir[64]; /* SQLite: the temp directory */
	bool pg;
};

/* Create the database; aborts the test run if it cannot. */
void test_db_create(struct test_db *db);
/* Drop it (PostgreSQL) or remove its files (SQLite). */
void test_db_destroy(struct test_db *db);

#endif
