/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim as a storage node: lvol store cluster accounting and its resize rules, the
 * NVMe-oF target's subsystem/namespace/listener methods and their errors, the saved
 * nvmf config, and the keyring's file checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvme_harness.h"

static void assert_err(struct node *n, const char *method, json_t *params, int code,
		       const char *message)
{
	char *msg = call_err(n, method, params, code);

	assert_string_equal(msg, message);
	free(msg);
}

static json_int_t free_clusters(struct node *n)
{
	json_t *r = call_ok(n, "bdev_lvol_get_lvstores", json_pack("{s:s}", "lvs_name", "lvs0"));
	json_int_t v = json_integer_value(json_object_get(json_array_get(r, 0), "free_clusters"));

	json_decref(r);
	return v;
}

static void test_lvol_sizes_round_up_to_clusters(void **state)
{
	struct node n = {0};
	json_t *r;
	json_int_t before;

	node_start(&n);
	json_decref(call_ok(&n, "bdev_malloc_create",
			    json_pack("{s:s,s:i,s:i}", "name", "Malloc0", "num_blocks", 131072,
				      "block_size", 512)));
	/* default clusters are 4 MiB */
	json_decref(call_ok(&n, "bdev_lvol_create_lvstore",
			    json_pack("{s:s,s:s}", "bdev_name", "Malloc0", "lvs_name", "lvs0")));
	before = free_clusters(&n);
	json_decref(call_ok(&n, "bdev_lvol_create",
			    json_pack("{s:s,s:s,s:i}", "lvs_name", "lvs0", "lvol_name", "a",
				      "size_in_mib", 10)));
	r = call_ok(&n, "bdev_get_bdevs", json_pack("{s:s}", "name", "lvs0/a"));
	assert_int_equal(json_integer_value(json_object_get(json_array_get(r, 0), "num_blocks")),
			 12 * 2048);
	assert_json(json_incref(json_object_get(json_array_get(r, 0), "aliases")), "[\"lvs0/a\"]");
	json_decref(r);
	assert_int_equal(free_clusters(&n), before - 3);
	/* a thin lvol takes no cluster up front */
	json_decref(call_ok(&n, "bdev_lvol_create",
			    json_pack("{s:s,s:s,s:i,s:b}", "lvs_name", "lvs0", "lvol_name", "t",
				      "size_in_mib", 40, "thin_provision", 1)));
	assert_int_equal(free_clusters(&n), before - 3);
	assert_err(
		&n, "bdev_lvol_create",
		json_pack("{s:s,s:s,s:i}", "lvs_name", "lvs0", "lvol_name", "a", "size_in_mib", 4),
		-32602, "File exists");
	assert_err(
		&n, "bdev_lvol_create",
		json_pack("{s:s,s:s,s:i}", "lvs_name", "nope", "lvol_name", "b", "size_in_mib", 4),
		-19, "No such device");
	assert_err(&n, "bdev_lvol_create",
		   json_pack("{s:s,s:s,s:i}", "lvs_name", "lvs0", "lvol_name", "big", "size_in_mib",
			     4096),
		   -32602, "No space left on device");
	/* the base bdev is claimed by the store */
	assert_err(&n, "bdev_lvol_create_lvstore",
		   json_pack("{s:s,s:s}", "bdev_name", "Malloc0", "lvs_name", "lvs1"), -1,
		   "Operation not permitted");
	node_stop(&n);
}

static void test_lvol_resize_rules(void **state)
{
	struct node n = {0};
	char port[8];
	char *uuid;

	node_start(&n);
	free_port(port);
	uuid = storage_export(&n, "lv0", 16, port, true);
	json_decref(call_ok(&n, "bdev_lvol_create",
			    json_pack("{s:s,s:s,s:i}", "lvs_name", "lvs0", "lvol_name", "free",
				      "size_in_mib", 8)));
	json_decref(call_ok(&n, "bdev_lvol_resize",
			    json_pack("{s:s,s:i}", "name", "lvs0/lv0", "size_in_mib", 24)));
	/* shrinking an lvol that is exported (open) is refused; an unused one shrinks */
	assert_err(&n, "bdev_lvol_resize",
		   json_pack("{s:s,s:i}", "name", "lvs0/lv0", "size_in_mib", 8), -32602,
		   "Device or resource busy");
	json_decref(call_ok(&n, "bdev_lvol_resize",
			    json_pack("{s:s,s:i}", "name", "lvs0/free", "size_in_mib", 4)));
	assert_err(&n, "bdev_lvol_resize",
		   json_pack("{s:s,s:i}", "name", "lvs0/lv0", "size_in_mib", 4096), -32602,
		   "No space left on device");
	assert_err(&n, "bdev_lvol_resize",
		   json_pack("{s:s,s:i}", "name", "lvs0/nope", "size_in_mib", 8), -19,
		   "No such device");
	/* by uuid too: lvol bdevs are named by it */
	json_decref(call_ok(&n, "bdev_lvol_resize",
			    json_pack("{s:s,s:i}", "name", uuid, "size_in_mib", 32)));
	assert_err(&n, "bdev_lvol_resize", json_pack("{s:s}", "name", uuid), -32603,
		   "spdk_json_decode_object failed");
	free(uuid);
	node_stop(&n);
}

static void test_snapshot_and_clone(void **state)
{
	struct node n = {0};
	char port[8];
	json_t *r, *ds;

	node_start(&n);
	free_port(port);
	free(storage_export(&n, "lv0", 8, port, true));
	json_decref(
		call_ok(&n, "bdev_lvol_snapshot",
			json_pack("{s:s,s:s}", "lvol_name", "lvs0/lv0", "snapshot_name", "snap")));
	/* a clone needs a snapshot, not a writable lvol */
	assert_err(&n, "bdev_lvol_clone",
		   json_pack("{s:s,s:s}", "snapshot_name", "lvs0/lv0", "clone_name", "c1"), -32602,
		   "Invalid argument");
	json_decref(
		call_ok(&n, "bdev_lvol_clone",
			json_pack("{s:s,s:s}", "snapshot_name", "lvs0/snap", "clone_name", "c1")));
	r = call_ok(&n, "bdev_get_bdevs", json_pack("{s:s}", "name", "lvs0/c1"));
	ds = json_object_get(json_object_get(json_array_get(r, 0), "driver_specific"), "lvol");
	assert_true(json_is_true(json_object_get(ds, "clone")));
	assert_true(json_is_true(json_object_get(ds, "thin_provision")));
	json_decref(r);
	assert_err(&n, "bdev_lvol_snapshot",
		   json_pack("{s:s,s:s}", "lvol_name", "lvs0/none", "snapshot_name", "s2"), -19,
		   "No such device");
	node_stop(&n);
}

static void test_nvmf_errors_and_listing(void **state)
{
	struct node n = {0};
	char port[8];
	json_t *r, *ss;
	char *msg;

	node_start(&n);
	free_port(port);
	json_decref(call_ok(
		&n, "bdev_malloc_create",
		json_pack("{s:s,s:i,s:i}", "name", "M1", "num_blocks", 2048, "block_size", 512)));
	json_decref(call_ok(
		&n, "bdev_malloc_create",
		json_pack("{s:s,s:i,s:i}", "name", "M2", "num_blocks", 2048, "block_size", 512)));
	json_decref(call_ok(
		&n, "nvmf_create_subsystem",
		json_pack("{s:s,s:s}", "nqn", "nqn.2016-06.io.spdk:a", "serial_number", "SN1")));
	assert_err(&n, "nvmf_create_subsystem", json_pack("{s:s}", "nqn", "nqn.2016-06.io.spdk:a"),
		   -32603, "Unable to create subsystem nqn.2016-06.io.spdk:a");
	assert_err(&n, "nvmf_create_subsystem", json_pack("{s:s}", "nqn", "not-an-nqn"), -32603,
		   "Unable to create subsystem not-an-nqn");
	assert_err(&n, "nvmf_subsystem_add_ns",
		   json_pack("{s:s,s:{s:s}}", "nqn", "nqn.2016-06.io.spdk:x", "namespace",
			     "bdev_name", "M1"),
		   -32602, "Unable to find subsystem with NQN nqn.2016-06.io.spdk:x");
	assert_err(&n, "nvmf_subsystem_add_ns",
		   json_pack("{s:s,s:{s:s}}", "nqn", "nqn.2016-06.io.spdk:a", "namespace",
			     "bdev_name", "nope"),
		   -32602, "Invalid parameters");
	r = call_ok(&n, "nvmf_subsystem_add_ns",
		    json_pack("{s:s,s:{s:s}}", "nqn", "nqn.2016-06.io.spdk:a", "namespace",
			      "bdev_name", "M1"));
	assert_int_equal(json_integer_value(r), 1);
	json_decref(r);
	r = call_ok(&n, "nvmf_subsystem_add_ns",
		    json_pack("{s:s,s:{s:s}}", "nqn", "nqn.2016-06.io.spdk:a", "namespace",
			      "bdev_name", "M2"));
	assert_int_equal(json_integer_value(r), 2);
	json_decref(r);
	/* a namespace claims its bdev */
	r = call_ok(&n, "bdev_get_bdevs", json_pack("{s:s}", "name", "M1"));
	assert_true(json_is_true(json_object_get(json_array_get(r, 0), "claimed")));
	json_decref(r);
	/* a listener needs its transport first */
	msg = call_err(&n, "nvmf_subsystem_add_listener",
		       json_pack("{s:s,s:{s:s,s:s,s:s}}", "nqn", "nqn.2016-06.io.spdk:a",
				 "listen_address", "trtype", "tcp", "traddr", "127.0.0.1",
				 "trsvcid", port),
		       -32602);
	free(msg);
	assert_err(&n, "nvmf_create_transport", json_pack("{s:s}", "trtype", "foo"), -32602,
		   "Invalid transport type 'foo'");
	json_decref(call_ok(&n, "nvmf_create_transport", json_pack("{s:s}", "trtype", "tcp")));
	assert_err(&n, "nvmf_create_transport", json_pack("{s:s}", "trtype", "TCP"), -32603,
		   "Transport type 'TCP' already exists");
	json_decref(call_ok(&n, "nvmf_subsystem_add_listener",
			    json_pack("{s:s,s:{s:s,s:s,s:s}}", "nqn", "nqn.2016-06.io.spdk:a",
				      "listen_address", "trtype", "tcp", "traddr", "127.0.0.1",
				      "trsvcid", port)));
	r = call_ok(&n, "nvmf_get_subsystems", NULL);
	assert_int_equal(json_array_size(r), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "nqn")),
			    "nqn.2014-08.org.nvmexpress.discovery");
	ss = json_array_get(r, 1);
	assert_string_equal(json_string_value(json_object_get(ss, "serial_number")), "SN1");
	assert_int_equal(json_array_size(json_object_get(ss, "namespaces")), 2);
	assert_string_equal(
		json_string_value(json_object_get(
			json_array_get(json_object_get(ss, "listen_addresses"), 0), "trsvcid")),
		port);
	json_decref(r);
	/* the saved config recreates the subsystem, its namespaces and listener */
	r = call_ok(&n, "framework_get_config", json_pack("{s:s}", "name", "nvmf"));
	assert_int_equal(json_array_size(r), 3 + 1 + 1 + 2 + 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(r, 7), "method")),
			    "nvmf_subsystem_add_listener");
	json_decref(r);
	json_decref(call_ok(&n, "nvmf_delete_subsystem",
			    json_pack("{s:s}", "nqn", "nqn.2016-06.io.spdk:a")));
	r = call_ok(&n, "bdev_get_bdevs", json_pack("{s:s}", "name", "M1"));
	assert_false(json_is_true(json_object_get(json_array_get(r, 0), "claimed")));
	json_decref(r);
	node_stop(&n);
}

static void test_keyring_file_rules(void **state)
{
	struct node n = {0};
	char dir[] = "/tmp/simkeyring.XXXXXX", good[64], open_key[64];
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(good, sizeof(good), "%s/good", dir);
	snprintf(open_key, sizeof(open_key), "%s/open", dir);
	f = fopen(good, "w");
	fputs("DHHC-1:00:a2V5:\n", f);
	fclose(f);
	chmod(good, 0600);
	f = fopen(open_key, "w");
	fputs("DHHC-1:00:a2V5:\n", f);
	fclose(f);
	chmod(open_key, 0640);
	node_start(&n);
	assert_err(&n, "keyring_file_add_key",
		   json_pack("{s:s,s:s}", "name", "k", "path", open_key), -1,
		   "Operation not permitted");
	assert_err(&n, "keyring_file_add_key", json_pack("{s:s,s:s}", "name", "k", "path", "good"),
		   -1, "Operation not permitted");
	assert_err(&n, "keyring_file_add_key",
		   json_pack("{s:s,s:s}", "name", "k", "path", "/nonexistent/key"), -2,
		   "No such file or directory");
	json_decref(call_ok(&n, "keyring_file_add_key",
			    json_pack("{s:s,s:s}", "name", "k", "path", good)));
	assert_err(&n, "keyring_file_add_key", json_pack("{s:s,s:s}", "name", "k", "path", good),
		   -17, "File exists");
	json_decref(call_ok(&n, "keyring_file_remove_key", json_pack("{s:s}", "name", "k")));
	assert_err(&n, "keyring_file_remove_key", json_pack("{s:s}", "name", "k"), -126,
		   "Required key not available");
	assert_json(call_ok(&n, "keyring_get_keys", NULL), "[]");
	node_stop(&n);
	unlink(good);
	unlink(open_key);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lvol_sizes_round_up_to_clusters),
		cmocka_unit_test(test_lvol_resize_rules),
		cmocka_unit_test(test_snapshot_and_clone),
		cmocka_unit_test(test_nvmf_errors_and_listing),
		cmocka_unit_test(test_keyring_file_rules),
	};

	return cmocka_run_group_tests(tests, NULL, kill_children);
}
