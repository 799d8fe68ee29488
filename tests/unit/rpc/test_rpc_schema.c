/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every request the typed calls can send, with every optional field set, checked against SPDK
 * v25.09's RPC schema (CONFORMANCE_DIR/schema.json): the method exists, each parameter exists
 * with a matching type, and the schema's required parameters are present.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "fake_spdk.h"
#include "rpc/rpc_internal.h"
#include "rpc/spdk.h"

/*
 * Where schema.json and what real SPDK accepted disagree, the recordings win
 * (spdk-conformance/README.md, "schema.json and its errata"):
 */
static const struct {
	const char *method;
	const char *param;	/* a parameter we send that the schema lacks or types differently */
	const char *schema_has; /* the schema's (wrong) name for it, exempt from "required" */
} errata[] = {
	/* SPDK's decoder takes dev_name (vhost.jsonl); the schema calls it bdev_name. */
	{"vhost_create_blk_controller", "dev_name", "bdev_name"},
	/* The schema types base_bdevs as a string; SPDK takes an array of names (raid.jsonl). */
	{"bdev_raid_create", "base_bdevs", NULL},
};

/* Every method a typed call can send; the test fails if one was not exercised. */
static const char *const typed_methods[] = {
	"spdk_get_version",
	"rpc_get_methods",
	"framework_start_init",
	"framework_wait_init",
	"framework_get_subsystems",
	"framework_get_config",
	"bdev_nvme_set_options",
	"bdev_raid_set_options",
	"bdev_set_options",
	"sock_impl_set_options",
	"bdev_nvme_attach_controller",
	"bdev_nvme_detach_controller",
	"bdev_nvme_get_controllers",
	"bdev_nvme_get_io_paths",
	"bdev_nvme_reset_controller",
	"bdev_raid_create",
	"bdev_raid_delete",
	"bdev_raid_add_base_bdev",
	"bdev_raid_remove_base_bdev",
	"bdev_raid_get_bdevs",
	"bdev_get_bdevs",
	"bdev_get_iostat",
	"bdev_set_qos_limit",
	"bdev_wait_for_examine",
	"vhost_create_blk_controller",
	"vhost_delete_controller",
	"vhost_get_controllers",
	"keyring_file_add_key",
	"keyring_file_remove_key",
};

static json_t *captured; /* array of {method, params} */

static void capture(const char *method, const json_t *params, void *arg)
{
	json_array_append_new(
		captured, json_pack("{s:s, s:O?}", "method", method, "params", (json_t *)params));
}

/* Answers of the right shape (empty lists) so that each typed call completes. */
static enum fake_next h_shapes(struct fake *f, int fd, json_t *req, void *arg)
{
	const char *m = json_string_value(json_object_get(req, "method"));
	json_t *id = json_object_get(req, "id");
	json_t *res;

	if (strcmp(m, "spdk_get_version") == 0)
		res = json_pack("{s:s, s:{s:i, s:i, s:i}}", "version", "SPDK v25.09", "fields",
				"major", 25, "minor", 9, "patch", 0);
	else if (strcmp(m, "bdev_get_iostat") == 0)
		res = json_pack("{s:i, s:i, s:[]}", "tick_rate", 1, "ticks", 1, "bdevs");
	else if (strcmp(m, "bdev_nvme_get_io_paths") == 0)
		res = json_pack("{s:[]}", "poll_groups");
	else if (strcmp(m, "framework_get_subsystems") == 0)
		res = json_pack("[{s:s, s:[]}]", "subsystem", "bdev", "depends_on");
	else if (strstr(m, "get_") || strcmp(m, "bdev_nvme_attach_controller") == 0)
		res = json_array();
	else
		res = json_true();
	fake_answer(fd, id, res);
	return FAKE_CONTINUE;
}

static void send_everything(struct rpc_client *c)
{
	static const char *const bases[] = {"nvme0n1", "nvme1n1"};
	struct rpc_nvme_options no = {
		"none", 1, 1, 10000, 3, 3, 4, 10, 1, 0, 5000, 0, 0, 1,
	};
	struct rpc_bdev_options bo = {65535, 256, 128, 16, 1};
	struct rpc_sock_options so = {"posix", 4096, 4096, 0, 0, 0, 1, 0, 1, 0, 0};
	struct rpc_nvme_attach a = {
		.name = "nvme0",
		.trtype = "tcp",
		.traddr = "127.0.0.1",
		.adrfam = "ipv4",
		.trsvcid = "4420",
		.subnqn = "nqn.2016-06.io.spdk:vol0",
		.hostnqn = "nqn.2024-01.io.diskengine:host1",
		.hostaddr = "127.0.0.1",
		.hostsvcid = "5000",
		.multipath = "multipath",
		.psk = "psk0",
		.dhchap_key = "key0",
		.dhchap_ctrlr_key = "ckey0",
		.reconnect_delay_sec = 1,
		.ctrlr_loss_timeout_sec = 10,
		.fast_io_fail_timeout_sec = 0,
	};
	struct rpc_nvme_path_sel sel = {
		"tcp",	     "127.0.0.1", "ipv4", "4420", "nqn.2016-06.io.spdk:vol0",
		"127.0.0.1", "5000"};
	struct rpc_raid_create rc = {
		"raid_1", "raid1", bases, 2, 0, 1, "11111111-2222-3333-4444-555555555555"};
	struct rpc_qos_limits q = {20000, 100, 50, 50};
	struct rpc_version v;
	struct rpc_strv sv;
	struct rpc_subsystem_list sl;
	struct rpc_nvme_ctrlr_list cl;
	struct rpc_io_path_list pl;
	struct rpc_raid_list rl;
	struct rpc_bdev_list bl;
	struct rpc_iostat st;
	struct rpc_vhost_list vl;
	struct rpc_error err;
	char *text;

	assert_int_equal(rpc_spdk_get_version(c, &v, &err), 0);
	rpc_version_free(&v);
	assert_int_equal(rpc_get_methods(c, true, &sv, &err), 0);
	rpc_strv_free(&sv);
	assert_int_equal(rpc_framework_start_init(c, &err), 0);
	assert_int_equal(rpc_framework_wait_init(c, &err), 0);
	assert_int_equal(rpc_framework_get_subsystems(c, &sl, &err), 0);
	rpc_subsystem_list_free(&sl);
	assert_int_equal(rpc_framework_get_config(c, "bdev", &text, &err), 0);
	free(text);
	assert_int_equal(rpc_save_config(c, &text, &err), 0);
	free(text);
	assert_int_equal(rpc_bdev_nvme_set_options(c, &no, &err), 0);
	assert_int_equal(rpc_bdev_raid_set_options(c, 1024, 2, &err), 0);
	assert_int_equal(rpc_bdev_set_options(c, &bo, &err), 0);
	assert_int_equal(rpc_sock_impl_set_options(c, &so, &err), 0);
	assert_int_equal(rpc_bdev_nvme_attach_controller(c, &a, &sv, &err), 0);
	rpc_strv_free(&sv);
	assert_int_equal(rpc_bdev_nvme_detach_controller(c, "nvme0", &sel, &err), 0);
	assert_int_equal(rpc_bdev_nvme_detach_controller(c, "nvme0", NULL, &err), 0);
	assert_int_equal(rpc_bdev_nvme_get_controllers(c, "nvme0", &cl, &err), 0);
	rpc_nvme_ctrlr_list_free(&cl);
	assert_int_equal(rpc_bdev_nvme_get_io_paths(c, "nvme0n1", &pl, &err), 0);
	rpc_io_path_list_free(&pl);
	assert_int_equal(rpc_bdev_nvme_reset_controller(c, "nvme0", &err), 0);
	assert_int_equal(rpc_bdev_raid_create(c, &rc, &err), 0);
	assert_int_equal(rpc_bdev_raid_delete(c, "raid_1", &err), 0);
	assert_int_equal(rpc_bdev_raid_add_base_bdev(c, "raid_1", "nvme1n1", &err), 0);
	assert_int_equal(rpc_bdev_raid_remove_base_bdev(c, "nvme1n1", &err), 0);
	assert_int_equal(rpc_bdev_raid_get_bdevs(c, RPC_RAID_CONFIGURING, &rl, &err), 0);
	rpc_raid_list_free(&rl);
	assert_int_equal(rpc_bdev_get_bdev(c, "raid_1", 100, &bl, &err), 0);
	rpc_bdev_list_free(&bl);
	assert_int_equal(rpc_bdev_get_bdevs_all_unsafe(c, &bl, &err), 0);
	rpc_bdev_list_free(&bl);
	assert_int_equal(rpc_bdev_get_iostat(c, "raid_1", &st, &err), 0);
	rpc_iostat_free(&st);
	assert_int_equal(rpc_bdev_set_qos_limit(c, "raid_1", &q, &err), 0);
	assert_int_equal(rpc_bdev_wait_for_examine(c, &err), 0);
	assert_int_equal(rpc_vhost_create_blk_controller(c, "vhost7", "raid_1", "0x2", &err), 0);
	assert_int_equal(rpc_vhost_delete_controller(c, "vhost7", &err), 0);
	assert_int_equal(rpc_vhost_get_controllers(c, &vl, &err), 0);
	rpc_vhost_list_free(&vl);
	assert_int_equal(rpc_keyring_file_add_key(c, "key0", "/etc/keys/key0", &err), 0);
	assert_int_equal(rpc_keyring_file_remove_key(c, "key0", &err), 0);
}

static json_t *schema_method(json_t *schema, const char *name)
{
	json_t *ms = json_object_get(schema, "methods");

	for (size_t i = 0; i < json_array_size(ms); i++) {
		json_t *m = json_array_get(ms, i);

		if (strcmp(json_string_value(json_object_get(m, "name")), name) == 0)
			return m;
	}
	return NULL;
}

static bool type_matches(const char *type, json_t *v)
{
	if (strcmp(type, "string") == 0)
		return json_is_string(v);
	if (strcmp(type, "number") == 0)
		return json_is_integer(v);
	if (strcmp(type, "boolean") == 0 || strcmp(type, "bool") == 0)
		return json_is_boolean(v);
	if (strcmp(type, "list") == 0 || strcmp(type, "array") == 0)
		return json_is_array(v);
	if (strcmp(type, "object") == 0)
		return json_is_object(v);
	return false;
}

static bool is_erratum(const char *method, const char *param, bool as_schema_name)
{
	for (size_t i = 0; i < ARRAY_SIZE(errata); i++) {
		const char *p = as_schema_name ? errata[i].schema_has : errata[i].param;

		if (p && strcmp(errata[i].method, method) == 0 && strcmp(p, param) == 0)
			return true;
	}
	return false;
}

/* Returns the number of problems, each printed. */
static int check_request(json_t *schema, const char *method, json_t *params)
{
	json_t *m = schema_method(schema, method), *sp;
	const char *key;
	json_t *val;
	int bad = 0;

	if (!m) {
		fprintf(stderr, "%s: method not in schema\n", method);
		return 1;
	}
	sp = json_object_get(m, "params");
	json_object_foreach(params, key, val)
	{
		json_t *def = NULL;

		for (size_t i = 0; i < json_array_size(sp); i++)
			if (strcmp(json_string_value(
					   json_object_get(json_array_get(sp, i), "name")),
				   key) == 0)
				def = json_array_get(sp, i);
		if (is_erratum(method, key, false))
			continue;
		if (!def) {
			fprintf(stderr, "%s: parameter '%s' not in schema\n", method, key);
			bad++;
		} else if (!type_matches(json_string_value(json_object_get(def, "type")), val)) {
			fprintf(stderr, "%s: parameter '%s' should be a %s\n", method, key,
				json_string_value(json_object_get(def, "type")));
			bad++;
		}
	}
	for (size_t i = 0; i < json_array_size(sp); i++) {
		json_t *def = json_array_get(sp, i);
		const char *name = json_string_value(json_object_get(def, "name"));

		if (!json_is_true(json_object_get(def, "required")) ||
		    is_erratum(method, name, true))
			continue;
		if (!json_object_get(params, name)) {
			fprintf(stderr, "%s: required parameter '%s' not sent\n", method, name);
			bad++;
		}
	}
	return bad;
}

static void test_requests_match_schema(void **state)
{
	const char *conf = getenv("CONFORMANCE_DIR");
	struct rpc_client_opts o = {.timeout_ms = 3000};
	struct rpc_client *c = NULL;
	struct rpc_error err;
	char path[512];
	json_t *schema;
	struct fake *f;
	int bad = 0;

	assert_non_null(conf);
	snprintf(path, sizeof(path), "%s/schema.json", conf);
	schema = json_load_file(path, 0, NULL);
	assert_non_null(schema);

	captured = json_array();
	rpc_capture_set(capture, NULL);
	f = fake_start(h_shapes, NULL);
	assert_int_equal(rpc_client_open(fake_path(f), &o, &c, &err), 0);
	send_everything(c);
	rpc_client_close(c);
	fake_stop(f, false);
	rpc_capture_set(NULL, NULL);

	for (size_t i = 0; i < json_array_size(captured); i++) {
		json_t *r = json_array_get(captured, i);
		json_t *params = json_object_get(r, "params");

		bad += check_request(schema, json_string_value(json_object_get(r, "method")),
				     params ? params : json_object());
	}
	for (size_t t = 0; t < ARRAY_SIZE(typed_methods); t++) {
		bool seen = false;

		for (size_t i = 0; i < json_array_size(captured); i++)
			seen |= strcmp(json_string_value(json_object_get(
					       json_array_get(captured, i), "method")),
				       typed_methods[t]) == 0;
		if (!seen) {
			fprintf(stderr, "%s: no typed call sent it\n", typed_methods[t]);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
	json_decref(captured);
	json_decref(schema);
}

/* The check itself must catch what it is there for. */
static void test_checker_catches_mistakes(void **state)
{
	const char *conf = getenv("CONFORMANCE_DIR");
	char path[512];
	json_t *schema, *p;

	snprintf(path, sizeof(path), "%s/schema.json", conf);
	schema = json_load_file(path, 0, NULL);
	assert_non_null(schema);
	p = json_pack("{s:s, s:s}", "ctrlr", "v", "bdev", "x");
	assert_int_equal(check_request(schema, "vhost_create_blk_controller", p), 1);
	json_decref(p);
	p = json_pack("{s:s}", "name", "x");
	assert_int_equal(check_request(schema, "no_such_method", p), 1);
	assert_int_equal(check_request(schema, "bdev_nvme_attach_controller", p), 2);
	json_decref(p);
	p = json_pack("{s:s, s:s}", "name", "r", "rw_ios_per_sec", "1");
	assert_int_equal(check_request(schema, "bdev_set_qos_limit", p), 1);
	json_decref(p);
	json_decref(schema);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests_match_schema),
		cmocka_unit_test(test_checker_catches_mistakes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
