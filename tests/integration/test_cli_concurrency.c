/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Four operator CLIs creating 50 volumes each while a daemon-like writer walks mappings through
 * their states: every write must be there afterwards, none twice. Runs on SQLite, and on
 * PostgreSQL under scripts/pg-test.sh.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/util.h"
#include "store/store.h"
#include "store_test_db.h"

#define CLIS 4
#define PER_CLI 50
#define MAPPED 10

static int run_cli(const char *bin, const char *url, char *const args[])
{
	char *argv[32];
	int n = 0, status;
	pid_t pid;

	argv[n++] = (char *)bin;
	for (int i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n++] = "--db";
	argv[n++] = (char *)url;
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		execv(bin, argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* One operator: 50 volume creates, one process each; exits with the number that failed. */
static int cli_worker(const char *bin, const char *url, int index)
{
	int failed = 0;

	for (int i = 0; i < PER_CLI; i++) {
		char name[32], r1[96], r2[96];
		char *args[] = {"volume",    "create", name,	    "--size", "1G",
				"--replica", r1,       "--replica", r2,	      NULL};

		snprintf(name, sizeof(name), "c%d-%d", index, i);
		snprintf(r1, sizeof(r1), "n1:nqn.2016-06.io.spdk:%s-a", name);
		snprintf(r2, sizeof(r2), "n2:nqn.2016-06.io.spdk:%s-b", name);
		if (run_cli(bin, url, args) != 0) {
			fprintf(stderr, "volume create %s failed\n", name);
			failed++;
		}
	}
	return failed;
}

struct daemon_writer {
	const char *url;
	int64_t mapping_ids[MAPPED];
	int advances;
	int failures;
	char last_error[256];
};

static void *daemon_main(void *arg)
{
	static const enum store_mapping_state path[] = {
		STORE_MAPPING_ASSIGNED, STORE_MAPPING_INITIALISED, STORE_MAPPING_ATTACHED};
	struct daemon_writer *d = arg;
	struct store_error err = {0};
	struct store *s = NULL;

	if (store_open(d->url, &s, &err) < 0) {
		d->failures++;
		snprintf(d->last_error, sizeof(d->last_error), "%s", err.message);
		return NULL;
	}
	for (size_t step = 0; step + 1 < ARRAY_SIZE(path); step++)
		for (int i = 0; i < MAPPED; i++) {
			struct store_observation o = {.mapping_id = d->mapping_ids[i],
						      .rebuild_percent = (int)step * 50};

			if (store_mapping_advance(s, d->mapping_ids[i], path[step], path[step + 1],
						  &err) < 0 ||
			    store_observation_put(s, &o, &err) < 0) {
				d->failures++;
				snprintf(d->last_error, sizeof(d->last_error), "%s", err.message);
			} else {
				d->advances++;
			}
			util_sleep_ms(10);
		}
	store_close(s);
	return NULL;
}

static void must(int r, const struct store_error *err)
{
	if (r < 0)
		fail_msg("%d: %s", r, err->message);
}

static void test_concurrent_clis_and_daemon(void **state)
{
	const char *bin = getenv("DISKENGINE_BIN");
	struct test_db db;
	struct store_error err = {0};
	struct daemon_writer d = {0};
	struct store *s = NULL;
	struct store_volume *vols = NULL;
	pid_t pids[CLIS];
	pthread_t t;
	size_t n = 0;

	(void)state;
	assert_non_null(bin);
	test_db_create(&db);
	d.url = db.url;
	{
		char *host[] = {"host", "add", "bm1", NULL};
		char *n1[] = {"node",	   "add",      "n1",	 "--transport", "tcp",
			      "--address", "10.0.0.1", "--port", "4420",	NULL};
		char *n2[] = {"node",	   "add",      "n2",	 "--transport", "rdma",
			      "--address", "10.0.0.2", "--port", "4420",	NULL};

		assert_int_equal(run_cli(bin, db.url, host), 0);
		assert_int_equal(run_cli(bin, db.url, n1), 0);
		assert_int_equal(run_cli(bin, db.url, n2), 0);
	}
	must(store_open(db.url, &s, &err), &err);
	for (int i = 0; i < MAPPED; i++) {
		struct store_volume v = {.size_bytes = 1 << 20, .block_size = 512};
		struct store_replica rep[2] = {0};

		snprintf(v.name, sizeof(v.name), "m%d", i);
		for (int k = 0; k < 2; k++) {
			snprintf(rep[k].node_name, sizeof(rep[k].node_name), "n%d", k + 1);
			snprintf(rep[k].nqn, sizeof(rep[k].nqn), "nqn.2016-06.io.spdk:m%d-%d", i,
				 k);
		}
		must(store_volume_create(s, &v, rep, 2, NULL, &err), &err);
		must(store_volume_attach(s, v.name, "bm1", "vm", &d.mapping_ids[i], &err), &err);
	}
	for (int i = 0; i < CLIS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			_exit(cli_worker(bin, db.url, i));
	}
	assert_int_equal(pthread_create(&t, NULL, daemon_main, &d), 0);
	for (int i = 0; i < CLIS; i++) {
		int status = 0;

		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status) != 0)
			fail_msg("CLI worker %d: %d creates failed", i, WEXITSTATUS(status));
	}
	pthread_join(t, NULL);
	if (d.failures)
		fail_msg("daemon writer: %d failures, last: %s", d.failures, d.last_error);
	assert_int_equal(d.advances, 2 * MAPPED);
	must(store_volume_list(s, &vols, &n, &err), &err);
	assert_int_equal(n, CLIS * PER_CLI + MAPPED);
	free(vols);
	for (int i = 0; i < CLIS; i++)
		for (int k = 0; k < PER_CLI; k++) {
			struct store_replica *reps = NULL;
			struct store_volume v;
			size_t nr = 0;
			char name[32];

			snprintf(name, sizeof(name), "c%d-%d", i, k);
			must(store_volume_get(s, name, &v, &err), &err);
			assert_int_equal(v.size_bytes, 1ull << 30);
			must(store_replica_list(s, v.id, &reps, &nr, &err), &err);
			assert_int_equal(nr, 2);
			free(reps);
		}
	for (int i = 0; i < MAPPED; i++) {
		struct store_mapping m;
		struct store_observation o;

		must(store_mapping_get(s, d.mapping_ids[i], &m, &err), &err);
		assert_int_equal(m.state, STORE_MAPPING_ATTACHED);
		must(store_observation_get(s, d.mapping_ids[i], &o, &err), &err);
		assert_int_equal(o.rebuild_percent, 50);
	}
	store_close(s);
	test_db_destroy(&db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_clis_and_daemon),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
