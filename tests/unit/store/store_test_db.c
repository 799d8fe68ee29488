/* SPDX-License-Identifier: Apache-2.0 */
#include "store_test_db.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int counter;

static void pg_admin(const char *sql)
{
	PGconn *c = PQconnectdb(getenv("PG_TEST_CONNINFO"));
	PGresult *res;

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "test_db: cannot connect: %s", PQerrorMessage(c));
		abort();
	}
	res = PQexec(c, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "test_db: %s: %s", sql, PQresultErrorMessage(res));
		abort();
	}
	PQclear(res);
	PQfinish(c);
}

void test_db_create(struct test_db *db)
{
	const char *pg = getenv("PG_TEST_CONNINFO");

	memset(db, 0, sizeof(*db));
	if (pg && *pg) {
		char sql[128], name[64];

		db->pg = true;
		snprintf(name, sizeof(name), "de_test_%d_%d", (int)getpid(), ++counter);
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
		pg_admin(sql);
		/* in a libpq string a repeated keyword takes the last value */
		snprintf(db->url, sizeof(db->url), "%s dbname=%s", pg, name);
		snprintf(db->dir, sizeof(db->dir), "%s", name);
		return;
	}
	snprintf(db->dir, sizeof(db->dir), "/tmp/de-store-XXXXXX");
	if (!mkdtemp(db->dir))
		abort();
	snprintf(db->url, sizeof(db->url), "sqlite://%s/test.db", db->dir);
}

void test_db_destroy(struct test_db *db)
{
	char cmd[256];

	if (db->pg) {
		snprintf(cmd, sizeof(cmd), "DROP DATABASE IF EXISTS %s WITH (FORCE)", db->dir);
		pg_admin(cmd);
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", db->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "test_db: could not remove %s\n", db->dir);
}
