/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Concurrency and failure: concurrent writers lose nothing; a lost connection, a failing disk and
 * a read-only database give clear errors and leave nothing half-written.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/util.h"
#include "store/store.h"
#include "store_test_db.h"

#define WRITERS 4
#define PER_WRITER 50

struct fixture {
	struct test_db db;
	struct store *s;
};

static void must(int r, const struct store_error *err)
{
	if (r < 0)
		fail_msg("%d: %s", r, err->message);
}

static void seed(struct store *s)
{
	struct store_error err = {0};
	struct store_host h = {0};
	struct store_node n = {.transport = STORE_TRANSPORT_RDMA, .port = 4420};

	snprintf(h.name, sizeof(h.name), "bm1");
	must(store_host_add(s, &h, NULL, &err), &err);
	for (int i = 1; i <= 2; i++) {
		snprintf(n.name, sizeof(n.name), "n%d", i);
		snprintf(n.address, sizeof(n.address), "10.0.0.%d", i);
		must(store_node_add(s, &n, NULL, &err), &err);
	}
}

static int create_volume(struct store *s, const char *name, struct store_error *err)
{
	struct store_volume v = {.size_bytes = 1 << 20, .block_size = 512};
	struct store_replica rep[2] = {0};

	snprintf(v.name, sizeof(v.name), "%s", name);
	for (int i = 0; i < 2; i++) {
		snprintf(rep[i].node_name, sizeof(rep[i].node_name), "n%d", i + 1);
		snprintf(rep[i].nqn, sizeof(rep[i].nqn), "nqn.2016-06.io.spdk:%s-%d", name, i);
	}
	return store_volume_create(s, &v, rep, 2, NULL, err);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct store_error err = {0};

	test_db_create(&f->db);
	must(store_open(f->db.url, &f->s, &err), &err);
	seed(f->s);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->s);
	test_db_destroy(&f->db);
	free(f);
	return 0;
}

struct writer {
	const char *url;
	int index;
	int failures;
	char last_error[256];
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct store_error err = {0};
	struct store *s = NULL;
	char name[32];

	if (store_open(w->url, &s, &err) < 0) {
		w->failures = PER_WRITER;
		snprintf(w->last_error, sizeof(w->last_error), "%s", err.message);
		return NULL;
	}
	for (int i = 0; i < PER_WRITER; i++) {
		snprintf(name, sizeof(name), "w%d-%d", w->index, i);
		if (create_volume(s, name, &err) < 0) {
			w->failures++;
			snprintf(w->last_error, sizeof(w->last_error), "%s", err.message);
		}
	}
	store_close(s);
	return NULL;
}

struct advancer {
	const char *url;
	int64_t mapping_id;
	int advances;
	int failures;
	char last_error[256];
};

/* Plays the daemon: walks one mapping through its whole life while the writers run. */
static void *advancer_main(void *arg)
{
	static const enum store_mapping_state path[] = {
		STORE_MAPPING_ASSIGNED, STORE_MAPPING_INITIALISED, STORE_MAPPING_ATTACHED,
		STORE_MAPPING_DETACH_REQUESTED, STORE_MAPPING_DETACHED};
	struct advancer *a = arg;
	struct store_error err = {0};
	struct store *s = NULL;

	if (store_open(a->url, &s, &err) < 0) {
		a->failures++;
		return NULL;
	}
	for (size_t i = 0; i + 1 < ARRAY_SIZE(path); i++) {
		if (store_mapping_advance(s, a->mapping_id, path[i], path[i + 1], &err) == 0) {
			a->advances++;
		} else {
			a->failures++;
			snprintf(a->last_error, sizeof(a->last_error), "%s", err.message);
		}
		util_sleep_ms(20);
	}
	store_close(s);
	return NULL;
}

static void test_concurrent_writers_lose_nothing(void **state)
{
	struct fixture *f = *state;
	struct writer w[WRITERS];
	struct advancer a = {.url = f->db.url};
	pthread_t t[WRITERS], ta;
	struct store_error err = {0};
	struct store_volume *vols = NULL;
	struct store_mapping m;
	size_t n = 0;

	must(create_volume(f->s, "mapped", &err), &err);
	must(store_volume_attach(f->s, "mapped", "bm1", "vm-1", &a.mapping_id, &err), &err);
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){.url = f->db.url, .index = i};
		assert_int_equal(pthread_create(&t[i], NULL, writer_main, &w[i]), 0);
	}
	assert_int_equal(pthread_create(&ta, NULL, advancer_main, &a), 0);
	for (int i = 0; i < WRITERS; i++) {
		pthread_join(t[i], NULL);
		if (w[i].failures)
			fail_msg("writer %d: %d failures, last: %s", i, w[i].failures,
				 w[i].last_error);
	}
	pthread_join(ta, NULL);
	if (a.failures)
		fail_msg("advancer: %d failures, last: %s", a.failures, a.last_error);
	assert_int_equal(a.advances, 4);
	must(store_volume_list(f->s, &vols, &n, &err), &err);
	assert_int_equal(n, WRITERS * PER_WRITER + 1);
	free(vols);
	for (int i = 0; i < WRITERS; i++)
		for (int k = 0; k < PER_WRITER; k++) {
			struct store_volume v;
			struct store_replica *reps = NULL;
			size_t nr = 0;
			char name[32];

			snprintf(name, sizeof(name), "w%d-%d", i, k);
			must(store_volume_get(f->s, name, &v, &err), &err);
			must(store_replica_list(f->s, v.id, &reps, &nr, &err), &err);
			assert_int_equal(nr, 2);
			free(reps);
		}
	must(store_mapping_get(f->s, a.mapping_id, &m, &err), &err);
	assert_int_equal(m.state, STORE_MAPPING_DETACHED);
}

/* Two daemons racing to advance the same mapping: exactly one wins each step. */
static void *racer_main(void *arg)
{
	struct advancer *a = arg;
	struct store_error err = {0};
	struct store *s = NULL;

	if (store_open(a->url, &s, &err) < 0)
		return NULL;
	for (int i = 0; i < 20; i++) {
		int r = store_mapping_advance(s, a->mapping_id, STORE_MAPPING_ASSIGNED,
					      STORE_MAPPING_INITIALISED, &err);

		if (r == 0)
			a->advances++;
		else if (r != -ESTALE)
			a->failures++;
	}
	store_close(s);
	return NULL;
}

static void test_compare_and_set_race(void **state)
{
	struct fixture *f = *state;
	struct store_error err = {0};
	struct advancer a[2];
	pthread_t t[2];
	int64_t mid;

	must(create_volume(f->s, "v1", &err), &err);
	must(store_volume_attach(f->s, "v1", "bm1", "vm-1", &mid, &err), &err);
	for (int i = 0; i < 2; i++) {
		a[i] = (struct advancer){.url = f->db.url, .mapping_id = mid};
		assert_int_equal(pthread_create(&t[i], NULL, racer_main, &a[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(a[0].failures + a[1].failures, 0);
	assert_int_equal(a[0].advances + a[1].advances, 1);
}

static void pg_admin(const char *conninfo, const char *sql)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *res = PQexec(c, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
	PQfinish(c);
}

static void test_database_goes_away(void **state)
{
	struct fixture *f = *state;
	struct store_error err = {0};
	struct store_host h = {0};
	struct store_host *list = NULL;
	size_t n = 0;

	if (!f->db.pg) {
		/* SQLite: a database file in a directory that vanished */
		char url[1100];
		struct store *s = NULL;

		snprintf(url, sizeof(url), "%s/gone/de.db", f->db.dir);
		assert_int_equal(store_open(url, &s, &err), -ENOTCONN);
		assert_non_null(strstr(err.message, "cannot open SQLite database"));
		return;
	}
	/* the server ends our session, as a restart or failover would */
	pg_admin(f->db.url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
			    "datname = current_database() AND pid <> pg_backend_pid()");
	snprintf(h.name, sizeof(h.name), "bm2");
	assert_int_equal(store_host_add(f->s, &h, NULL, &err), -ENOTCONN);
	assert_non_null(strstr(err.message, "PostgreSQL connection lost"));
	/* the next transaction reconnects, and sees no trace of the failed write */
	must(store_host_list(f->s, &list, &n, &err), &err);
	assert_int_equal(n, 1);
	free(list);
	must(store_host_add(f->s, &h, NULL, &err), &err);
}

static void test_write_failure_leaves_nothing_half_written(void **state)
{
	struct fixture *f = *state;
	struct store_error err = {0};
	struct rlimit old, lim = {.rlim_cur = 1, .rlim_max = RLIM_INFINITY};
	struct store_volume *vols = NULL;
	size_t n = 0;
	int r;

	if (f->db.pg)
		skip(); /* a full disk under a PostgreSQL server is the server's to report */
	must(create_volume(f->s, "before", &err), &err);
	/* every file write past the first byte now fails, as on a full disk */
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_max = old.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	r = create_volume(f->s, "during", &err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_true(r == -EIO || r == -ENOSPC);
	assert_non_null(strstr(err.message, "SQLite database"));
	/* the volume and its replicas are all absent, the rest intact, and the store works */
	must(store_volume_list(f->s, &vols, &n, &err), &err);
	assert_int_equal(n, 1);
	assert_string_equal(vols[0].name, "before");
	free(vols);
	must(create_volume(f->s, "during", &err), &err);
}

/* Open a read-only database and try to write: a clear "read-only" error, nothing written. */
static int read_only_check(const char *url, char *msg, size_t size)
{
	struct store_error err = {0};
	struct store_host h = {0};
	struct store_host *list = NULL;
	struct store *ro = NULL;
	size_t n = 0;
	int r;

	r = store_open(url, &ro, &err);
	if (r == 0) {
		snprintf(h.name, sizeof(h.name), "new-host");
		r = store_host_add(ro, &h, NULL, &err);
		if (r == -EROFS && (store_host_list(ro, &list, &n, NULL) < 0 || n != 1))
			r = -EIO;
		free(list);
		store_close(ro);
	}
	snprintf(msg, size, "%s", err.message);
	return r;
}

static void test_read_only_database(void **state)
{
	struct fixture *f = *state;
	char msg[256] = "";
	int r;

	if (f->db.pg) {
		char sql[256];

		snprintf(sql, sizeof(sql),
			 "ALTER DATABASE %s SET default_transaction_read_only = on", f->db.dir);
		pg_admin(getenv("PG_TEST_CONNINFO"), sql);
		r = read_only_check(f->db.url, msg, sizeof(msg));
	} else {
		/* root writes through file modes: check as an unprivileged user in a child */
		char path[128];
		int status = 0;
		pid_t pid;

		store_close(f->s);
		f->s = NULL;
		snprintf(path, sizeof(path), "%s/test.db", f->db.dir);
		assert_int_equal(chmod(path, 0444), 0);
		assert_int_equal(chmod(f->db.dir, 0555), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
				_exit(100);
			r = read_only_check(f->db.url, msg, sizeof(msg));
			fprintf(stderr, "read-only check: %d %s\n", r, msg);
			_exit(r == -EROFS && strstr(msg, "read-only") ? 0 : 1);
		}
		waitpid(pid, &status, 0);
		chmod(f->db.dir, 0755);
		chmod(path, 0644);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		return;
	}
	if (r != -EROFS || !strstr(msg, "read-only"))
		fail_msg("wanted -EROFS and 'read-only', got %d '%s'", r, msg);
}

static void *opener_main(void *arg)
{
	struct writer *w = arg;
	struct store_error err = {0};
	struct store *s = NULL;

	if (store_open(w->url, &s, &err) < 0) {
		w->failures++;
		snprintf(w->last_error, sizeof(w->last_error), "%s", err.message);
	}
	store_close(s);
	return NULL;
}

/* Several processes starting at once on an empty database: one migrates, none fails. */
static void test_concurrent_first_open(void **state)
{
	struct test_db db;
	struct writer w[WRITERS];
	pthread_t t[WRITERS];
	struct store_error err = {0};
	struct store *s = NULL;
	int cur = -1, latest = 0;

	(void)state;
	test_db_create(&db);
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){.url = db.url, .index = i};
		assert_int_equal(pthread_create(&t[i], NULL, opener_main, &w[i]), 0);
	}
	for (int i = 0; i < WRITERS; i++) {
		pthread_join(t[i], NULL);
		if (w[i].failures)
			fail_msg("opener %d: %s", i, w[i].last_error);
	}
	must(store_open_nomigrate(db.url, &s, &err), &err);
	must(store_schema_version(s, &cur, &latest, &err), &err);
	assert_int_equal(cur, latest);
	store_close(s);
	test_db_destroy(&db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_concurrent_writers_lose_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_compare_and_set_race, setup, teardown),
		cmocka_unit_test(test_concurrent_first_open),
		cmocka_unit_test_setup_teardown(test_database_goes_away, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_leaves_nothing_half_written,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_database, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
