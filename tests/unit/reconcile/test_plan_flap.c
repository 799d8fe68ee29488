/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A member whose path keeps flapping (given up by the daemon's reset counts): removed from the
 * raid while the other member serves, never when it is the only one that serves, not re-added
 * while given up, re-added once taken back; the status says why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"

static struct fx F;
static struct obs_flap flaps[2];

static void given_up(const struct volume *v, size_t replica)
{
	memset(&flaps[0], 0, sizeof(flaps[0]));
	fx_ctrlr_name(v, replica, flaps[0].ctrlr, sizeof(flaps[0].ctrlr));
	flaps[0].resets = 5;
	flaps[0].failed = 4;
	flaps[0].recent = 5;
	flaps[0].given_up = true;
	F.o.flaps = flaps;
	F.o.n_flaps = 1;
	F.o.flap_window_s = 60;
}

static void test_flapping_member_removed(void **state)
{
	char b1[MODEL_NAME_MAX];
	const struct action *a;
	struct volume *v;

	fx_init(&F);
	v = fx_attached(&F, 1, 7);
	fx_bdev_name(v, 1, b1, sizeof(b1));
	given_up(v, 1);
	fx_plan(&F);
	a = fx_find(&F.p, ACTION_REMOVE_RAID_BASE, "raid_1");
	assert_non_null(a);
	assert_string_equal(a->raid.base, b1);
	assert_int_equal(fx_count(&F.p, ACTION_DELETE_VHOST), 0);
	fx_done(&F);
}

static void test_only_serving_member_stays(void **state)
{
	struct volume *v;

	/* the other member is not configured: the flapping one is all the raid has */
	fx_init(&F);
	v = fx_attached(&F, 1, 7);
	F.rbases[0][0].is_configured = false;
	F.raids[0].operational = 1;
	given_up(v, 1);
	fx_plan(&F);
	assert_int_equal(fx_count(&F.p, ACTION_REMOVE_RAID_BASE), 0);
	fx_done(&F);
}

static void test_given_up_not_readded_then_taken_back(void **state)
{
	char b1[MODEL_NAME_MAX];
	const struct action *a;
	struct volume *v;
	bool said = false;

	fx_init(&F);
	v = fx_attached(&F, 1, 7);
	/* slot 1 was removed: the raid reports an empty slot */
	F.rbases[0][1].has_name = false;
	F.rbases[0][1].is_configured = false;
	F.raids[0].operational = 1;
	F.raids[0].discovered = 1;
	fx_bdev_name(v, 1, b1, sizeof(b1));
	for (size_t i = 0; i < F.nb; i++)
		if (strcmp(F.bdevs[i].name, b1) == 0)
			F.bdevs[i].claimed = false; /* released by the raid */
	given_up(v, 1);
	fx_plan(&F);
	assert_int_equal(fx_count(&F.p, ACTION_ADD_RAID_BASE), 0);
	for (size_t i = 0; i < F.p.n_actions; i++) {
		a = &F.p.actions[i];
		if (a->kind == ACTION_SET_STATUS && strstr(a->message, "given up") &&
		    strstr(a->message, "5 resets"))
			said = true;
	}
	assert_true(said);
	/* taken back: SPDK rebuilds it */
	flaps[0].given_up = false;
	fx_plan(&F);
	assert_int_equal(fx_count(&F.p, ACTION_ADD_RAID_BASE), 1);
	fx_done(&F);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flapping_member_removed),
		cmocka_unit_test(test_only_serving_member_stays),
		cmocka_unit_test(test_given_up_not_readded_then_taken_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
