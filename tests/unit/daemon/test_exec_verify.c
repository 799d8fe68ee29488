/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "answer_fill.h"
#include "reconcile/exec_verify.h"

/* Shapes as recorded from SPDK v25.09 (nvme_attach.jsonl#46, raid.jsonl, vhost.jsonl#35). */
static const char *controllers_json =
	"[{\"name\":\"nvme0\",\"ctrlrs\":[{\"state\":\"enabled\",\"trid\":{\"trtype\":\"TCP\","
	"\"adrfam\":\"IPv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"4420\",\"subnqn\":"
	"\"nqn.2016-06.io.spdk:vol0\"},\"cntlid\":1},{\"state\":\"enabled\",\"trid\":{\"trtype\":"
	"\"TCP\",\"adrfam\":\"IPv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"4422\",\"subnqn\":"
	"\"nqn.2016-06.io.spdk:vol0\"},\"cntlid\":2}]}]";
static const char *raids_json =
	"[{\"name\":\"raid_1\",\"state\":\"online\",\"raid_level\":\"raid1\",\"superblock\":true,"
	"\"base_bdevs_list\":[{\"name\":\"nvme0n1\",\"is_configured\":true},{\"name\":null,"
	"\"is_configured\":false}]},{\"name\":\"raid_2\",\"raid_level\":\"raid0\","
	"\"base_bdevs_list\":[{\"name\":\"a\"},{\"name\":\"b\"}]}]";
static const char *vhosts_json =
	"[{\"ctrlr\":\"vhost7\",\"backend_specific\":{\"block\":{\"bdev\":\"raid_1\"}}},"
	"{\"ctrlr\":\"vhost8\",\"backend_specific\":{\"block\":{\"bdev\":null}}},"
	"{\"ctrlr\":\"vhost9\",\"backend_specific\":{\"scsi\":[]}}]";

static void test_controller(void **state)
{
	struct rpc_nvme_ctrlr_list l = {0}, *c = &l;
	char why[256];

	fill_controllers(controllers_json, &l);

	assert_int_equal(exec_verify_controller(c, "nvme0", "nqn.2016-06.io.spdk:vol0", "127.0.0.1",
						"4422", why, sizeof(why)),
			 0);
	assert_int_equal(exec_verify_controller(c, "nvme0", "nqn.2016-06.io.spdk:vol9", "127.0.0.1",
						"4420", why, sizeof(why)),
			 -EEXIST);
	assert_non_null(strstr(why, "nqn.2016-06.io.spdk:vol0"));
	assert_int_equal(exec_verify_controller(c, "nvme0", "nqn.2016-06.io.spdk:vol0", "127.0.0.1",
						"4999", why, sizeof(why)),
			 -EEXIST);
	assert_int_equal(
		exec_verify_controller(c, "nvme5", "x", "127.0.0.1", "1", why, sizeof(why)),
		-ENOENT);
	rpc_nvme_ctrlr_list_free(&l);
}

static void test_raid(void **state)
{
	struct rpc_raid_list l = {0}, *r = &l;
	char why[256];
	const char *ours[] = {"nvme1n1", "nvme0n1"};
	const char *theirs[] = {"nvme0n1", "nvme9n1"};

	fill_raids(raids_json, &l);

	/* the missing slot does not make it foreign */
	assert_int_equal(exec_verify_raid(r, "raid_1", ours, 2, why, sizeof(why)), 0);
	assert_int_equal(exec_verify_raid(r, "raid_1", theirs, 2, why, sizeof(why)), 0);
	const char *other[] = {"x", "y"};
	assert_int_equal(exec_verify_raid(r, "raid_1", other, 2, why, sizeof(why)), -EEXIST);
	assert_non_null(strstr(why, "nvme0n1"));
	assert_int_equal(exec_verify_raid(r, "raid_2", other, 2, why, sizeof(why)), -EEXIST);
	assert_non_null(strstr(why, "raid0"));
	assert_int_equal(exec_verify_raid(r, "raid_3", other, 2, why, sizeof(why)), -ENOENT);
	assert_int_equal(exec_verify_raid_member(r, "raid_1", "nvme0n1", why, sizeof(why)), 0);
	assert_int_equal(exec_verify_raid_member(r, "raid_1", "nvme1n1", why, sizeof(why)),
			 -EEXIST);
	assert_int_equal(exec_verify_raid_member(r, "raid_9", "nvme1n1", why, sizeof(why)),
			 -ENOENT);
	rpc_raid_list_free(&l);
}

static void test_vhost(void **state)
{
	struct rpc_vhost_list l = {0}, *v = &l;
	char why[256];

	fill_vhosts(vhosts_json, &l);

	assert_int_equal(exec_verify_vhost(v, "vhost7", "raid_1", why, sizeof(why)), 0);
	assert_int_equal(exec_verify_vhost(v, "vhost7", "raid_2", why, sizeof(why)), -EEXIST);
	/* a controller that lost its bdev serves nothing: not the one wanted */
	assert_int_equal(exec_verify_vhost(v, "vhost8", "raid_1", why, sizeof(why)), -EEXIST);
	assert_non_null(strstr(why, "nothing"));
	/* a vhost-scsi controller holding the name is not ours either */
	assert_int_equal(exec_verify_vhost(v, "vhost9", "raid_1", why, sizeof(why)), -EEXIST);
	assert_non_null(strstr(why, "not a vhost-blk"));
	assert_int_equal(exec_verify_vhost(v, "vhost10", "raid_1", why, sizeof(why)), -ENOENT);
	rpc_vhost_list_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_controller),
		cmocka_unit_test(test_raid),
		cmocka_unit_test(test_vhost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
