/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reset counts per path, from a sequence of bdev_nvme_get_controllers answers: a reconnect
 * that succeeded is a new cntlid, a failed one a path entering reconnect_is_delayed; the attach's
 * first connect is no reset; a path is given up at the limit within the window and taken back
 * after a quiet window; a controller that is gone is forgotten.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/daemon_flap.h"

static struct rpc_nvme_ctrlr_path path;
static struct rpc_nvme_ctrlr ctrlr;
static struct rpc_nvme_ctrlr_list list;

static void see(struct flap_table *t, const char *state, int64_t cntlid, int64_t now)
{
	path.state = (char *)state;
	path.traddr = "10.0.0.2";
	path.trsvcid = "4420";
	path.cntlid = cntlid;
	ctrlr.name = "de_b";
	ctrlr.paths = &path;
	ctrlr.n_paths = 1;
	list.v = &ctrlr;
	list.n = 1;
	flap_observe(t, &list, now);
}

static struct obs_flap get(struct flap_table *t)
{
	struct obs_flap *v = NULL, f = {0};
	size_t n = 0;

	assert_int_equal(flap_summary(t, &v, &n), 0);
	if (n) {
		assert_int_equal(n, 1);
		assert_string_equal(v[0].ctrlr, "de_b");
		f = v[0];
	}
	free(v);
	return f;
}

/* one flap: lost (failed reconnect), then back with a new cntlid */
static void flap(struct flap_table *t, int64_t *cntlid, int64_t *now)
{
	see(t, "resetting", *cntlid, (*now)++);
	see(t, "reconnect_is_delayed", *cntlid, (*now)++);
	see(t, "resetting", *cntlid, (*now)++);
	*cntlid += 1;
	see(t, "enabled", *cntlid, (*now)++);
}

static void test_counts_limit_and_take_back(void **state)
{
	struct flap_table *t = flap_table_new(3, 20);
	int64_t cntlid = 1, now = 100;
	struct obs_flap f;

	see(t, "enabled", cntlid, now++);
	f = get(t);
	assert_int_equal(f.resets, 0); /* the attach is no reset */
	flap(t, &cntlid, &now);
	flap(t, &cntlid, &now);
	f = get(t);
	assert_int_equal(f.resets, 2);
	assert_int_equal(f.failed, 2);
	assert_false(f.given_up);
	flap(t, &cntlid, &now);
	f = get(t);
	assert_int_equal(f.resets, 3);
	assert_true(f.given_up);
	/* quiet, but not for the whole window yet */
	see(t, "enabled", cntlid, now + 10);
	assert_true(get(t).given_up);
	/* quiet for the window: taken back, the counts stay */
	see(t, "enabled", cntlid, now + 20);
	f = get(t);
	assert_false(f.given_up);
	assert_int_equal(f.resets, 3);
	/* gone: forgotten */
	list.n = 0;
	flap_observe(t, &list, now + 21);
	assert_int_equal(get(t).resets, 0);
	flap_table_free(t);
}

static void test_resets_spread_out_are_no_flapping(void **state)
{
	struct flap_table *t = flap_table_new(3, 20);
	int64_t cntlid = 1, now = 100;

	see(t, "enabled", cntlid, now);
	for (int i = 0; i < 6; i++) {
		now += 15; /* one reset every 15 s: never 3 within 20 s */
		cntlid++;
		see(t, "enabled", cntlid, now);
	}
	assert_int_equal(get(t).resets, 6);
	assert_false(get(t).given_up);
	/* a continuous outage: failed reconnects only */
	for (int i = 0; i < 10; i++) {
		see(t, "resetting", cntlid, now++);
		see(t, "reconnect_is_delayed", cntlid, now++);
	}
	assert_int_equal(get(t).failed, 10);
	assert_false(get(t).given_up);
	flap_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_limit_and_take_back),
		cmocka_unit_test(test_resets_spread_out_are_no_flapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
