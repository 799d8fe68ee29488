/* SPDX-License-Identifier: Apache-2.0 */
/* What the daemon keeps between passes: first-seen times, backoff windows, statuses written. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/hmap.h"
#include "common/util.h"
#include "daemon/daemon_internal.h"
#include "daemon/daemon_orphan.h"
#include "reconcile/exec.h"

/* A wall clock that an NTP step moves by a year at a time, and a monotonic one that ticks. */
static uint64_t fake_mono_ms = 5000000;
static int64_t fake_wall_s = 1700000000;

static uint64_t mono(void)
{
	return fake_mono_ms;
}

static int64_t wall(void)
{
	return fake_wall_s;
}

static void tick(uint64_t ms, int64_t wall_step_s)
{
	fake_mono_ms += ms;
	fake_wall_s += (int64_t)(ms / 1000) + wall_step_s;
}

static int clock_fake(void **state)
{
	static const struct util_clock c = {.mono_ms = mono, .wall_s = wall};

	(void)state;
	util_clock_override(&c);
	return 0;
}

static int clock_real(void **state)
{
	(void)state;
	util_clock_override(NULL);
	return 0;
}

/* One pass of the daemon's clock: the objects observed now, their ages as the planner sees them. */
static int64_t age_after_pass(struct orphan_clock *c, const char *name)
{
	int64_t now = orphan_clock_now_s();

	orphan_clock_begin(c);
	int64_t first = orphan_clock_mark(c, name, now);
	orphan_clock_end(c);
	return now - first;
}

/* An orphan's age is how long it was seen, whatever the wall clock does meanwhile. */
static void test_orphan_age_ignores_wall_clock(void **state)
{
	struct orphan_clock *c = orphan_clock_new();

	(void)state;
	assert_non_null(c);
	assert_int_equal(age_after_pass(c, "vhost7"), 0);
	tick(2000, 365 * 86400); /* NTP steps forward a year: the grace period must not end */
	assert_int_equal(age_after_pass(c, "vhost7"), 2);
	tick(3000, -2 * 365 * 86400); /* and back two years: the age must not go negative */
	assert_int_equal(age_after_pass(c, "vhost7"), 5);
	orphan_clock_free(c);
}

/* Names that vanished are forgotten; the snapshot is sorted for the planner's bisection. */
static void test_orphan_clock_forgets_and_sorts(void **state)
{
	struct orphan_clock *c = orphan_clock_new();
	struct obs_first_seen *fs = NULL;
	char name[32];
	size_t n = 0;

	(void)state;
	orphan_clock_begin(c);
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "raid_%d", i);
		orphan_clock_mark(c, name, 10);
	}
	orphan_clock_end(c);
	assert_int_equal(orphan_clock_size(c), 3000);
	orphan_clock_begin(c);
	for (int i = 0; i < 3000; i += 3) {
		snprintf(name, sizeof(name), "raid_%d", i);
		assert_int_equal(orphan_clock_mark(c, name, 20), 10);
	}
	orphan_clock_end(c);
	assert_int_equal(orphan_clock_size(c), 1000);
	assert_int_equal(orphan_clock_first_seen(c, "raid_1"), 0);
	assert_int_equal(orphan_clock_first_seen(c, "raid_3"), 10);
	assert_int_equal(orphan_clock_snapshot(c, &fs, &n), 0);
	assert_int_equal(n, 1000);
	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(fs[i - 1].name, fs[i].name) < 0);
	free(fs);
	orphan_clock_free(c);
}

/* Windows long over are dropped; a key that still fails keeps its growing delay. */
static void test_backoff_pruned(void **state)
{
	struct exec_backoff *b = exec_backoff_new(500, 30000);
	char key[32];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "volume %d", i);
		exec_backoff_fail(b, key, 1000);
	}
	exec_backoff_fail(b, "volume 5", 1500);
	assert_int_equal(exec_backoff_size(b), 1000);
	exec_backoff_prune(b, 20000);
	assert_int_equal(exec_backoff_size(b), 1000);
	/* 30 s after their windows ended the objects were gone or fixed */
	exec_backoff_fail(b, "volume 5", 32000);
	exec_backoff_prune(b, 32000);
	assert_int_equal(exec_backoff_size(b), 1);
	assert_int_equal(exec_backoff_failures(b, "volume 5"), 3);
	assert_int_equal(exec_backoff_fail(b, "volume 5", 40000), 4000);
	exec_backoff_free(b);
}

/* The status cache keeps only the mappings the current pass planned. */
static void test_obs_cache_pruned(void **state)
{
	struct daemon d = {0};

	(void)state;
	d.obs_pass = 1;
	for (int64_t m = 1; m <= 1000; m++)
		daemon_obs_cache_set(&d, m, (uint64_t)m * 7, 0);
	assert_true(daemon_obs_cache_same(&d, 500, 3500));
	assert_false(daemon_obs_cache_same(&d, 500, 1));
	d.obs_pass = 2;
	for (int64_t m = 1; m <= 10; m++)
		daemon_obs_cache_touch(&d, m);
	daemon_obs_cache_prune(&d);
	assert_int_equal(hmap_size(d.obs), 10);
	assert_true(daemon_obs_cache_same(&d, 10, 70));
	assert_false(daemon_obs_cache_same(&d, 11, 77));
	daemon_state_free(&d);
}

static bool keep_odd(const char *key, void *val, void *arg)
{
	(void)key;
	(void)arg;
	return *(int *)val % 2;
}

/* Removal shifts probe runs back: every remaining key is still found, every removed one not. */
static void test_hmap(void **state)
{
	struct hmap *m = hmap_new(sizeof(int));
	char key[32];
	bool added;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		int *v = hmap_put(m, key, &added);
		assert_non_null(v);
		assert_true(added);
		*v = i;
	}
	assert_int_equal(*(int *)hmap_put(m, "k7", &added), 7);
	assert_false(added);
	for (int i = 0; i < 20000; i += 3) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(hmap_del(m, key), 0);
	}
	assert_int_equal(hmap_del(m, "k0"), -ENOENT);
	hmap_filter(m, keep_odd, NULL);
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		int *v = hmap_get(m, key);
		if (i % 3 == 0 || i % 2 == 0)
			assert_null(v);
		else
			assert_int_equal(*v, i);
	}
	size_t pos = 0, n = 0;
	while (hmap_next(m, &pos, NULL))
		n++;
	assert_int_equal(n, hmap_size(m));
	hmap_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_orphan_age_ignores_wall_clock, clock_fake,
						clock_real),
		cmocka_unit_test(test_orphan_clock_forgets_and_sorts),
		cmocka_unit_test(test_backoff_pruned),
		cmocka_unit_test(test_obs_cache_pruned),
		cmocka_unit_test(test_hmap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
