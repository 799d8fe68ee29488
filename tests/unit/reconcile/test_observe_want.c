/* SPDX-License-Identifier: Apache-2.0 */
/*
 * observe_want_bdevs: which bdevs a pass reads by name. An idle host reads none whatever its
 * size; a volume in transition reads its raid and namespace bdevs; a volume whose controller
 * resets reads nothing; a QoS not yet seen as wanted reads the raid bdev alone. And the planner,
 * given only what was read, changes nothing of the volumes whose bdevs were not read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"
#include "reconcile/observe_want.h"

static struct obs_qos_seen seen_all[FX_MAX];

/* What the daemon would have seen after earlier passes: every raid's QoS as wanted. */
static size_t qos_as_wanted(const struct fx *f)
{
	for (size_t i = 0; i < f->nv; i++) {
		seen_all[i].volume_id = f->vols[i].id;
		seen_all[i].qos = f->vols[i].qos;
	}
	return f->nv;
}

static bool wants(const struct obs_name *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return true;
	return false;
}

static void test_idle_host_reads_nothing(void **state)
{
	size_t sizes[] = {1, 10, 30};

	for (size_t k = 0; k < 3; k++) {
		struct fx f;
		struct obs_name *want = NULL;
		size_t n = 99;

		fx_init(&f);
		for (size_t i = 0; i < sizes[k]; i++)
			fx_attached(&f, 100 + i, 500 + i);
		fx_plan(&f);
		assert_int_equal(
			observe_want_bdevs(&f.d, &f.o, seen_all, qos_as_wanted(&f), &want, &n), 0);
		assert_int_equal(n, 0);
		free(want);
		fx_done(&f);
	}
}

static void test_transition_reads_its_own_bdevs(void **state)
{
	struct fx f;
	struct obs_name *want = NULL;
	char b[MODEL_NAME_MAX];
	struct volume *v2, *v3;
	size_t n = 0;

	fx_init(&f);
	fx_attached(&f, 1, 11);
	v2 = fx_attached(&f, 2, 12);
	v3 = fx_attached(&f, 3, 13);
	f.nvh = 2; /* vhost13 (volume 3) is gone */
	/* volume 2's first controller resets: frozen, nothing of it is read */
	f.paths[2][0].state = CTRLR_RESETTING;
	fx_plan(&f);
	assert_int_equal(observe_want_bdevs(&f.d, &f.o, seen_all, qos_as_wanted(&f), &want, &n), 0);
	assert_int_equal(n, 3);
	assert_true(wants(want, n, "raid_3"));
	fx_bdev_name(v3, 0, b, sizeof(b));
	assert_true(wants(want, n, b));
	fx_bdev_name(v3, 1, b, sizeof(b));
	assert_true(wants(want, n, b));
	fx_bdev_name(v2, 0, b, sizeof(b));
	assert_false(wants(want, n, b));
	free(want);
	/* a QoS not seen yet: the raid bdev alone */
	assert_int_equal(observe_want_bdevs(&f.d, &f.o, NULL, 0, &want, &n), 0);
	assert_int_equal(n, 4);
	assert_true(wants(want, n, "raid_1"));
	free(want);
	fx_done(&f);
}

/* The planner with only what was read: idle volumes untouched, the missing vhost re-created. */
static void test_plan_on_bdevs_read(void **state)
{
	struct fx f;
	struct obs_name *want = NULL;
	struct obs_bdev got[FX_MAX * 2];
	struct plan p = {0};
	size_t n = 0, ng = 0;

	fx_init(&f);
	for (uint64_t i = 1; i <= 5; i++)
		fx_attached(&f, i, 10 + i);
	f.nvh = 4; /* vhost15 is gone */
	fx_plan(&f);
	assert_int_equal(observe_want_bdevs(&f.d, &f.o, seen_all, qos_as_wanted(&f), &want, &n), 0);
	for (size_t i = 0; i < f.nb; i++)
		if (wants(want, n, f.bdevs[i].name))
			got[ng++] = f.bdevs[i];
	f.o.bdevs = got;
	f.o.n_bdevs = ng;
	f.o.bdevs_listed = false;
	f.o.bdevs_read = want;
	f.o.n_bdevs_read = n;
	assert_int_equal(plan_build(&f.d, &f.o, &f.hf, &p), 0);
	assert_int_equal(fx_count(&p, ACTION_CREATE_VHOST), 1);
	assert_non_null(fx_find(&p, ACTION_CREATE_VHOST, "vhost15"));
	assert_int_equal(p.n_actions, 1);
	assert_false(p.reset_in_progress);
	plan_free(&p);
	free(want);
	fx_done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_host_reads_nothing),
		cmocka_unit_test(test_transition_reads_its_own_bdevs),
		cmocka_unit_test(test_plan_on_bdevs_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
