/* SPDX-License-Identifier: Apache-2.0 */
/* Deterministic names, configuration checks and argument errors of the planner. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "reconcile/names.h"
#include "reconcile/plan.h"

static void test_names(void **state)
{
	struct replica r = {.transport = TRANSPORT_RDMA};
	char a[MODEL_NAME_MAX], b[MODEL_NAME_MAX];
	uint64_t id = 0;

	snprintf(r.nqn, sizeof(r.nqn), "nqn.2016-06.io.spdk:vol0");
	assert_int_equal(names_ctrlr(&r, a, sizeof(a)), 0);
	assert_int_equal(names_ctrlr(&r, b, sizeof(b)), 0);
	assert_string_equal(a, b); /* deterministic */
	assert_int_equal(strlen(a), 19);
	assert_int_equal(names_classify(a, NULL), NAME_CTRLR_FABRIC);
	snprintf(r.nqn, sizeof(r.nqn), "nqn.2016-06.io.spdk:vol1");
	assert_int_equal(names_ctrlr(&r, b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
	r.nqn[0] = '\0';
	assert_int_equal(names_ctrlr(&r, a, sizeof(a)), -EINVAL);

	r.transport = TRANSPORT_PCIE;
	snprintf(r.addr, sizeof(r.addr), "0000:82:00.0");
	assert_int_equal(names_ctrlr(&r, a, sizeof(a)), 0);
	assert_string_equal(a, "de_pci_0000_82_00_0");
	assert_int_equal(names_classify(a, NULL), NAME_CTRLR_PCIE);
	snprintf(r.addr, sizeof(r.addr), "82:00.0");
	assert_int_equal(names_ctrlr(&r, a, sizeof(a)), -EINVAL);

	names_ns_bdev("de_pci_0000_82_00_0", 1, a, sizeof(a));
	assert_string_equal(a, "de_pci_0000_82_00_0n1");
	assert_int_equal(names_classify("raid_12", &id), NAME_RAID);
	assert_int_equal(id, 12);
	assert_int_equal(names_classify("vhost7", &id), NAME_VHOST);
	assert_int_equal(id, 7);
	assert_int_equal(names_classify("vhost_stale", NULL), NAME_FOREIGN);
	assert_int_equal(names_classify("vhost07", NULL), NAME_FOREIGN);
	assert_int_equal(names_classify("raid_", NULL), NAME_FOREIGN);
	assert_int_equal(names_classify("nvme0", NULL), NAME_FOREIGN);
	assert_int_equal(names_classify("Nvme0n1", NULL), NAME_FOREIGN);
	assert_int_equal(names_classify("de_0123", NULL), NAME_FOREIGN);
	assert_int_equal(names_classify("de_key_node1", NULL), NAME_KEY);
	assert_int_equal(names_key("bad/name", a, sizeof(a)), -EINVAL);
}

/* The raid UUID: deterministic, one per volume, a well-formed version-8 RFC UUID. */
static void test_raid_uuid(void **state)
{
	char a[40], b[40], c[40];

	(void)state;
	names_raid_uuid(42, a, sizeof(a));
	names_raid_uuid(42, b, sizeof(b));
	names_raid_uuid(43, c, sizeof(c));
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 36);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(a[i], '-');
		else
			assert_non_null(strchr("0123456789abcdef", a[i]));
	}
	assert_int_equal(a[14], '8');			    /* version */
	assert_non_null(strchr("89ab", a[19]));		    /* variant */
}

static void test_config_check(void **state)
{
	struct plan_config c;
	char err[256];

	plan_config_defaults(&c);
	assert_int_equal(plan_config_check(&c, err, sizeof(err)), 0);

	c.reconnect_delay_s = 0;
	assert_int_equal(plan_config_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "reconnect_delay 0"));
	plan_config_defaults(&c);
	c.fast_io_fail_s = 10;
	assert_int_equal(plan_config_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "fast_io_fail 10"));
	plan_config_defaults(&c);
	c.member_giveup_s = 10;
	assert_int_equal(plan_config_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "give-up 10"));
	plan_config_defaults(&c);
	c.guest_io_timeout_s = 15;
	assert_int_equal(plan_config_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "guest I/O timeout 15"));
	plan_config_defaults(&c);
	c.reconnect_delay_s = 11;
	assert_int_equal(plan_config_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "exceeds ctrlr_loss"));
	plan_config_defaults(&c);
	snprintf(c.hostnqn, sizeof(c.hostnqn), "host1");
	assert_int_equal(plan_config_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "hostnqn 'host1'"));
	plan_config_defaults(&c);
	snprintf(c.vhost_dir, sizeof(c.vhost_dir), "relative/dir");
	assert_int_equal(plan_config_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "absolute"));
	plan_config_defaults(&c);
	memset(c.vhost_dir, 'a', 100);
	c.vhost_dir[0] = '/';
	c.vhost_dir[100] = '\0';
	assert_int_equal(plan_config_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too long"));
	plan_config_defaults(&c);
	snprintf(c.cpumask, sizeof(c.cpumask), "0xZZ");
	assert_int_equal(plan_config_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cpumask '0xZZ'"));
}

static void test_build_bad_args(void **state)
{
	struct plan p;
	struct observed o = {0};
	struct desired d = {0};

	assert_int_equal(plan_build(NULL, &o, NULL, &p), -EINVAL);
	assert_int_equal(plan_build(&d, NULL, NULL, &p), -EINVAL);
	assert_int_equal(plan_build(&d, &o, NULL, NULL), -EINVAL);
	assert_string_equal(plan_action_kind_name(ACTION_CREATE_VHOST), "CREATE_VHOST");
	assert_string_equal(plan_action_kind_name(ACTION_KIND_COUNT), "UNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_config_check),
		cmocka_unit_test(test_raid_uuid),
		cmocka_unit_test(test_build_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
