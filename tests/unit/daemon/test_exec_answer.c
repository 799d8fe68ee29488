/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "reconcile/exec_answer.h"

/* Rows are answers recorded from SPDK v25.09 (spdk-conformance/README.md's error table). */
static const struct {
	const char *method;
	int code;
	const char *message;
	enum exec_answer want;
} rows[] = {
	{"bdev_nvme_attach_controller", -114,
	 "A controller named nvme0 already exists with the specified network path",
	 EXEC_ANSWER_EXISTS},
	{"bdev_nvme_attach_controller", -22,
	 "A controller named nvme0 already exists, but uses a different subnqn "
	 "(nqn.2016-06.io.spdk:vol0)",
	 EXEC_ANSWER_CONFLICT},
	{"bdev_nvme_attach_controller", -17, "File exists", EXEC_ANSWER_CONFLICT},
	{"bdev_nvme_attach_controller", -5, "Input/output error", EXEC_ANSWER_TRANSIENT},
	{"bdev_nvme_attach_controller", -22, "Invalid argument", EXEC_ANSWER_FAILED},
	{"bdev_nvme_attach_controller", -19, "No such device", EXEC_ANSWER_FAILED},
	{"bdev_nvme_detach_controller", -19, "No such device", EXEC_ANSWER_GONE},
	{"bdev_nvme_detach_controller", -6, "No such device or address", EXEC_ANSWER_GONE},
	{"bdev_raid_create", -17, "Failed to create RAID bdev raid_1: File exists",
	 EXEC_ANSWER_EXISTS},
	{"bdev_raid_create", -1, "Failed to create RAID bdev raid_x: Operation not permitted",
	 EXEC_ANSWER_CONFLICT},
	{"bdev_raid_create", -22, "Failed to create RAID bdev raid_y: Invalid argument",
	 EXEC_ANSWER_FAILED},
	{"bdev_raid_delete", -19, "raid bdev raid_1 not found", EXEC_ANSWER_GONE},
	{"bdev_raid_remove_base_bdev", -19, "Failed to remove base bdev from raid bdev",
	 EXEC_ANSWER_GONE},
	{"vhost_create_blk_controller", -32602, "File exists", EXEC_ANSWER_EXISTS},
	{"vhost_create_blk_controller", -32602, "No such device", EXEC_ANSWER_TRANSIENT},
	{"vhost_create_blk_controller", -32602, "Operation not permitted", EXEC_ANSWER_CONFLICT},
	{"vhost_create_blk_controller", -32602, "Input/output error", EXEC_ANSWER_FAILED},
	{"vhost_delete_controller", -32602, "No such device", EXEC_ANSWER_GONE},
	{"vhost_delete_controller", -32602, "Input/output error", EXEC_ANSWER_FAILED},
	{"bdev_set_qos_limit", -32602,
	 "Failed to configure rate limit: Resource temporarily unavailable", EXEC_ANSWER_TRANSIENT},
	{"bdev_set_qos_limit", -22, "No rate limits specified", EXEC_ANSWER_FAILED},
	/* the same code means different things for different methods */
	{"bdev_raid_delete", -17, "File exists", EXEC_ANSWER_FAILED},
	{"vhost_delete_controller", -19, "No such device", EXEC_ANSWER_FAILED},
};

static void test_recorded_answers(void **state)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum exec_answer got =
			exec_answer_classify(rows[i].method, rows[i].code, rows[i].message);
		if (got != rows[i].want)
			fail_msg("%s %d '%s': got %s, want %s", rows[i].method, rows[i].code,
				 rows[i].message, exec_answer_name(got),
				 exec_answer_name(rows[i].want));
	}
}

/* A refused vhost create says what it most likely means; other answers speak for themselves. */
static void test_hints(void **state)
{
	(void)state;
	assert_non_null(strstr(
		exec_answer_hint("vhost_create_blk_controller", -32602, "Input/output error"),
		"out of memory"));
	assert_null(exec_answer_hint("vhost_create_blk_controller", -32602, "File exists"));
	assert_null(exec_answer_hint("bdev_nvme_attach_controller", -5, "Input/output error"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorded_answers),
		cmocka_unit_test(test_hints),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
