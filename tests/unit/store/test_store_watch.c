/* SPDX-License-Identifier: Apache-2.0 */
/* Wake-ups: a host hears about changes it must act on, quickly, and about nothing else. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/util.h"
#include "store/store.h"
#include "store_test_db.h"

struct fixture {
	struct test_db db;
	struct store *s;      /* the operator's connection */
	struct store *daemon; /* the host's own connection */
	struct store_watch *w;
	int64_t v1, v2;
};

static void must(int r, const struct store_error *err)
{
	if (r < 0)
		fail_msg("%d: %s", r, err->message);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct store_error err = {0};
	struct store_host h = {0};
	struct store_node n = {.transport = STORE_TRANSPORT_TCP, .port = 4420};
	struct store_volume v = {.size_bytes = 1 << 20, .block_size = 512};
	struct store_replica rep[2] = {0};

	test_db_create(&f->db);
	must(store_open(f->db.url, &f->s, &err), &err);
	must(store_open(f->db.url, &f->daemon, &err), &err);
	snprintf(h.name, sizeof(h.name), "bm1");
	must(store_host_add(f->s, &h, NULL, &err), &err);
	snprintf(h.name, sizeof(h.name), "bm2");
	must(store_host_add(f->s, &h, NULL, &err), &err);
	for (int i = 0; i < 2; i++) {
		snprintf(n.name, sizeof(n.name), "n%d", i + 1);
		snprintf(n.address, sizeof(n.address), "10.0.0.%d", i + 5);
		must(store_node_add(f->s, &n, NULL, &err), &err);
		snprintf(rep[i].node_name, sizeof(rep[i].node_name), "n%d", i + 1);
	}
	for (int k = 0; k < 2; k++) {
		snprintf(v.name, sizeof(v.name), "v%d", k + 1);
		for (int i = 0; i < 2; i++)
			snprintf(rep[i].nqn, sizeof(rep[i].nqn), "nqn.2016-06.io.spdk:v%d-%d", k,
				 i);
		must(store_volume_create(f->s, &v, rep, 2, k ? &f->v2 : &f->v1, &err), &err);
	}
	must(store_watch_open(f->daemon, "bm1", &f->w, &err), &err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_watch_close(f->w);
	store_close(f->daemon);
	store_close(f->s);
	test_db_destroy(&f->db);
	free(f);
	return 0;
}

/* Wait for a wake-up; returns how long it took, or fails the test. */
static uint64_t wait_wake(struct store_watch *w, int timeout_ms)
{
	struct store_error err = {0};
	uint64_t t0 = util_now_ms();
	int r = store_watch_wait(w, timeout_ms, &err);

	if (r != 1)
		fail_msg("expected a wake-up, got %d %s", r, err.message);
	return util_now_ms() - t0;
}

static void expect_quiet(struct store_watch *w, int ms)
{
	struct store_error err = {0};

	assert_int_equal(store_watch_wait(w, ms, &err), 0);
}

struct late_writer {
	struct store *s;
	int round;
	uint64_t committed_ms;
	int rc;
};

/* Commits a change for bm1 while the test is already waiting. */
static void *late_writer_main(void *arg)
{
	struct late_writer *lw = arg;
	struct store_error err = {0};
	char bdf[16];

	util_sleep_ms(150);
	snprintf(bdf, sizeof(bdf), "0000:0%d:00.0", lw->round);
	lw->rc = store_device_add(lw->s, "bm1", bdf, NULL, NULL, &err);
	lw->committed_ms = util_now_ms();
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* From commit to wake-up: well under 100 ms (SQLite polls every 50 ms; NOTIFY is immediate). */
static void test_wake_latency(void **state)
{
	struct fixture *f = *state;
	uint64_t lat[5];

	for (int i = 0; i < 5; i++) {
		struct late_writer lw = {.s = f->s, .round = i + 1};
		pthread_t t;
		uint64_t woke;

		assert_int_equal(pthread_create(&t, NULL, late_writer_main, &lw), 0);
		wait_wake(f->w, 3000);
		woke = util_now_ms();
		pthread_join(t, NULL);
		assert_int_equal(lw.rc, 0);
		lat[i] = woke > lw.committed_ms ? woke - lw.committed_ms : 0;
	}
	qsort(lat, 5, sizeof(lat[0]), cmp_u64);
	print_message("wake-up latency after commit (ms): %llu %llu %llu %llu %llu\n",
		      (unsigned long long)lat[0], (unsigned long long)lat[1],
		      (unsigned long long)lat[2], (unsigned long long)lat[3],
		      (unsigned long long)lat[4]);
	assert_true(lat[2] < 100);
}

static void test_quiet_when_nothing_changes(void **state)
{
	struct fixture *f = *state;
	uint64_t t0 = util_now_ms();

	expect_quiet(f->w, 200);
	assert_true(util_now_ms() - t0 >= 190); /* the timeout is honoured */
}

static void test_wakes_on_attach_detach_and_changes(void **state)
{
	struct fixture *f = *state;
	struct store_error err = {0};
	int64_t mid, rid;
	struct store_replica *reps = NULL;
	size_t n;

	must(store_volume_attach(f->s, "v1", "bm1", "vm-1", &mid, &err), &err);
	/* SQLite polls every 50 ms; PostgreSQL delivers at commit: both well under 100 ms + slack
	 */
	assert_true(wait_wake(f->w, 2000) < 150);
	expect_quiet(f->w, 120);
	/* the volume grows: its host must act */
	must(store_volume_resize(f->s, "v1", 2 << 20, NULL, 0, &err), &err);
	wait_wake(f->w, 2000);
	/* a replica falls out of sync */
	must(store_replica_list(f->s, f->v1, &reps, &n, &err), &err);
	rid = reps[0].id;
	free(reps);
	must(store_replica_set_in_sync(f->daemon, rid, false, 3, &err), &err);
	wait_wake(f->w, 2000);
	/* a device appears on this host */
	must(store_device_add(f->s, "bm1", "0000:01:00.0", NULL, NULL, &err), &err);
	wait_wake(f->w, 2000);
	/* the operator detaches */
	must(store_volume_detach(f->s, "v1", NULL, NULL, &err), &err);
	wait_wake(f->w, 2000);
	expect_quiet(f->w, 100);
}

static void test_quiet_for_other_hosts_and_observations(void **state)
{
	struct fixture *f = *state;
	struct store_error err = {0};
	struct store_observation o = {.rebuild_percent = 5};
	int64_t m1;

	must(store_volume_attach(f->s, "v1", "bm1", "vm-1", &m1, &err), &err);
	wait_wake(f->w, 2000);
	/* another host's mapping, device, volume */
	must(store_volume_attach(f->s, "v2", "bm2", "vm-2", NULL, &err), &err);
	must(store_device_add(f->s, "bm2", "0000:02:00.0", NULL, NULL, &err), &err);
	must(store_volume_resize(f->s, "v2", 4 << 20, NULL, 0, &err), &err);
	/* what this host itself observed, and its own clean-stop record */
	o.mapping_id = m1;
	must(store_observation_put(f->daemon, &o, &err), &err);
	must(store_volume_set_clean_stop(f->daemon, f->v1, false, &err), &err);
	expect_quiet(f->w, 300);
}

static void test_rolled_back_change_does_not_wake(void **state)
{
	struct fixture *f = *state;
	struct store_error err = {0};

	must(store_volume_attach(f->s, "v1", "bm1", "vm-1", NULL, &err), &err);
	wait_wake(f->w, 2000);
	/* a second attach of the same volume fails and must leave no trace */
	assert_int_equal(store_volume_attach(f->s, "v1", "bm1", "vm-9", NULL, &err), -EBUSY);
	expect_quiet(f->w, 200);
}

/* A removed host's daemon hears of it (and then finds its host gone). */
static void test_wakes_when_host_removed(void **state)
{
	struct fixture *f = *state;
	struct store_error err = {0};
	struct store_desired *d = NULL;

	must(store_host_remove(f->s, "bm1", &err), &err);
	wait_wake(f->w, 2000);
	assert_int_equal(store_desired_get(f->daemon, "bm1", &d, &err), -ENOENT);
	assert_null(d);
}

static void test_watch_unknown_host(void **state)
{
	struct fixture *f = *state;
	struct store_watch *w = NULL;
	struct store_error err = {0};

	assert_int_equal(store_watch_open(f->s, "bm9", &w, &err), -ENOENT);
	assert_non_null(strstr(err.message, "host 'bm9' does not exist"));
	assert_null(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_quiet_when_nothing_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wake_latency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wakes_on_attach_detach_and_changes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_quiet_for_other_hosts_and_observations, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rolled_back_change_does_not_wake, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wakes_when_host_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_unknown_host, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
