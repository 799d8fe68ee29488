/* SPDX-License-Identifier: Apache-2.0 */
/* Typed SPDK calls fed with answers recorded from real SPDK v25.09, and malformed variants. */
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

static const char *data_dir;
static json_t *saved_config; /* config_saved.json from the conformance recordings */

static json_t *load_data(const char *name)
{
	char path[512];
	json_error_t jerr;
	json_t *v;

	snprintf(path, sizeof(path), "%s/%s", data_dir, name);
	v = json_load_file(path, JSON_DECODE_ANY, &jerr);
	if (!v)
		fail_msg("%s: %s", path, jerr.text);
	return v;
}

/* The table of answers: method -> data file. */
static const struct {
	const char *method;
	const char *file;
} answers[] = {
	{"spdk_get_version", "version.json"},
	{"rpc_get_methods", "rpc_get_methods.json"},
	{"bdev_nvme_get_controllers", "nvme_get_controllers.json"},
	{"bdev_nvme_get_io_paths", "nvme_get_io_paths.json"},
	{"bdev_raid_get_bdevs", "raid_get_bdevs_rebuild.json"},
	{"bdev_get_bdevs", "bdev_get_bdevs.json"},
	{"bdev_get_iostat", "bdev_get_iostat.json"},
	{"vhost_get_controllers", "vhost_get_controllers.json"},
	{"bdev_nvme_attach_controller", "nvme_attach.json"},
};

struct seen {
	char methods[64][64];
	int n;
};

static enum fake_next h_recorded(struct fake *f, int fd, json_t *req, void *arg)
{
	struct seen *s = arg;
	const char *m = json_string_value(json_object_get(req, "method"));
	json_t *id = json_object_get(req, "id");
	json_t *subs = json_object_get(saved_config, "subsystems");

	if (s && s->n < 64)
		snprintf(s->methods[s->n++], sizeof(s->methods[0]), "%s", m);
	for (size_t i = 0; i < ARRAY_SIZE(answers); i++) {
		if (strcmp(m, answers[i].method) == 0) {
			fake_answer(fd, id, load_data(answers[i].file));
			return FAKE_CONTINUE;
		}
	}
	if (strcmp(m, "framework_get_subsystems") == 0) {
		json_t *l = json_array();

		for (size_t i = 0; i < json_array_size(subs); i++)
			json_array_append_new(
				l, json_pack("{s:O, s:[]}", "subsystem",
					     json_object_get(json_array_get(subs, i), "subsystem"),
					     "depends_on"));
		fake_answer(fd, id, l);
		return FAKE_CONTINUE;
	}
	if (strcmp(m, "framework_get_config") == 0) {
		const char *name =
			json_string_value(json_object_get(json_object_get(req, "params"), "name"));

		for (size_t i = 0; i < json_array_size(subs); i++) {
			json_t *s1 = json_array_get(subs, i);

			if (strcmp(json_string_value(json_object_get(s1, "subsystem")), name) ==
			    0) {
				fake_answer(fd, id, json_incref(json_object_get(s1, "config")));
				return FAKE_CONTINUE;
			}
		}
	}
	fake_answer(fd, id, json_true());
	return FAKE_CONTINUE;
}

struct env {
	struct fake *f;
	struct rpc_client *c;
	struct seen seen;
};

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct rpc_client_opts o = {.timeout_ms = 3000};
	struct rpc_error err;

	e->f = fake_start(h_recorded, &e->seen);
	assert_int_equal(rpc_client_open(fake_path(e->f), &o, &e->c, &err), 0);
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;

	rpc_client_close(e->c);
	fake_stop(e->f, false);
	free(e);
	return 0;
}

static void test_version_and_methods(void **state)
{
	struct env *e = *state;
	struct rpc_version v;
	struct rpc_strv m;
	struct rpc_error err;

	assert_int_equal(rpc_spdk_get_version(e->c, &v, &err), 0);
	assert_string_equal(v.version, "SPDK v25.09 git sha1 a2f2a0b279");
	assert_int_equal(v.major, 25);
	assert_int_equal(v.minor, 9);
	assert_string_equal(v.commit, "a2f2a0b279");
	rpc_version_free(&v);
	assert_int_equal(rpc_get_methods(e->c, true, &m, &err), 0);
	assert_true(m.n > 10);
	assert_string_equal(m.v[0], "bdev_nvme_set_options");
	rpc_strv_free(&m);
}

static void test_nvme_controllers_and_paths(void **state)
{
	struct env *e = *state;
	struct rpc_nvme_ctrlr_list l;
	struct rpc_io_path_list p;
	struct rpc_strv bdevs;
	struct rpc_nvme_attach a = RPC_NVME_ATTACH_INIT;
	struct rpc_error err;

	assert_int_equal(rpc_bdev_nvme_get_controllers(e->c, NULL, &l, &err), 0);
	assert_true(l.n >= 2);
	assert_string_equal(l.v[0].name, "nvme0");
	assert_int_equal(l.v[0].n_paths, 2);
	assert_string_equal(l.v[0].paths[0].state, "enabled");
	assert_string_equal(l.v[0].paths[0].trtype, "TCP");
	assert_string_equal(l.v[0].paths[0].trsvcid, "4420");
	assert_string_equal(l.v[0].paths[1].trsvcid, "4422");
	assert_string_equal(l.v[0].paths[1].subnqn, "nqn.2016-06.io.spdk:vol0");
	assert_int_equal(l.v[0].paths[1].cntlid, 2);
	assert_string_equal(l.v[0].paths[0].host_nqn, "nqn.2024-01.io.diskengine:host1");
	rpc_nvme_ctrlr_list_free(&l);

	assert_int_equal(rpc_bdev_nvme_get_io_paths(e->c, NULL, &p, &err), 0);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.v[0].thread, "nvmf_tgt_poll_group_000");
	assert_string_equal(p.v[0].bdev_name, "nvme0n1");
	assert_true(p.v[0].connected);
	assert_true(p.v[0].accessible);
	assert_false(p.v[0].current);
	assert_string_equal(p.v[1].trsvcid, "4422");
	rpc_io_path_list_free(&p);

	a.name = "nvme0";
	a.trtype = "tcp";
	a.traddr = "127.0.0.1";
	assert_int_equal(rpc_bdev_nvme_attach_controller(e->c, &a, &bdevs, &err), 0);
	assert_int_equal(bdevs.n, 1);
	assert_string_equal(bdevs.v[0], "nvme0n1");
	rpc_strv_free(&bdevs);
	a.traddr = NULL;
	assert_int_equal(rpc_bdev_nvme_attach_controller(e->c, &a, &bdevs, &err), -EINVAL);
	assert_non_null(strstr(err.message, "traddr"));
	/* text that is not UTF-8 fails the call: it is never sent without the parameter */
	int before = fake_requests(e->f);
	a.traddr = "127.0.0.1";
	a.subnqn = "nqn.2016-06.io.spdk:\xff";
	assert_int_equal(rpc_bdev_nvme_attach_controller(e->c, &a, &bdevs, &err), -EINVAL);
	assert_non_null(strstr(err.message, "subnqn"));
	assert_non_null(strstr(err.message, "UTF-8"));
	assert_string_equal(err.method, "bdev_nvme_attach_controller");
	assert_int_equal(rpc_bdev_raid_delete(e->c, "raid_\xc0\xaf", &err), -EINVAL);
	assert_int_equal(
		rpc_vhost_create_blk_controller(e->c, "vhost1", "raid_\xed\xa0\x80", NULL, &err),
		-EINVAL);
	assert_non_null(strstr(err.message, "dev_name"));
	assert_int_equal(fake_requests(e->f), before);
	a.subnqn = NULL;
}

static void test_raid_rebuild(void **state)
{
	struct env *e = *state;
	struct rpc_raid_list l;
	struct rpc_error err;

	assert_int_equal(rpc_bdev_raid_get_bdevs(e->c, RPC_RAID_ALL, &l, &err), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].name, "raid_1");
	assert_string_equal(l.v[0].state, "online");
	assert_string_equal(l.v[0].raid_level, "raid1");
	assert_true(l.v[0].has_process);
	assert_string_equal(l.v[0].process_type, "rebuild");
	assert_string_equal(l.v[0].process_target, "nvme1n1");
	assert_int_equal(l.v[0].process_percent, 6);
	assert_int_equal(l.v[0].process_blocks, 2176);
	assert_int_equal(l.v[0].n_bases, 2);
	assert_int_equal(l.v[0].bases[1].data_size, 32768);
	assert_false(l.v[1].has_process);
	assert_int_equal(l.v[1].num_base_bdevs_operational, 2);
	rpc_raid_list_free(&l);
	assert_int_equal(rpc_bdev_raid_get_bdevs(e->c, (enum rpc_raid_category)9, &l, &err),
			 -EINVAL);
}

static void test_raid_missing_and_configuring(void **state)
{
	json_t *v = load_data("raid_get_bdevs_missing_base.json");
	struct rpc_raid_list l;
	struct rpc_error err;

	assert_int_equal(rpc_decode_raid_bdevs(v, &l, &err), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].num_base_bdevs_discovered, 1);
	assert_string_equal(l.v[0].bases[0].name, "nvme0n1");
	assert_null(l.v[0].bases[1].name);
	assert_false(l.v[0].bases[1].is_configured);
	assert_int_equal(l.v[0].bases[1].data_size, 32768);
	rpc_raid_list_free(&l);
	json_decref(v);

	v = load_data("raid_get_bdevs_configuring.json");
	assert_int_equal(rpc_decode_raid_bdevs(v, &l, &err), 0);
	assert_true(l.n >= 1);
	assert_string_equal(l.v[l.n - 1].state, "configuring");
	rpc_raid_list_free(&l);
	json_decref(v);
}

static void test_bdevs_iostat_vhost(void **state)
{
	struct env *e = *state;
	struct rpc_bdev_list b;
	struct rpc_iostat s;
	struct rpc_vhost_list vl;
	struct rpc_error err;
	json_t *v;

	assert_int_equal(rpc_bdev_get_bdev(e->c, "nvme0n1", 100, &b, &err), 0);
	assert_int_equal(b.n, 1);
	assert_string_equal(b.v[0].name, "nvme0n1");
	assert_int_equal(b.v[0].block_size, 512);
	assert_int_equal(b.v[0].num_blocks, 32768);
	assert_int_equal(b.v[0].md_size, 0);
	assert_true(b.v[0].claimed);
	assert_int_equal(b.v[0].aliases.n, 1);
	assert_int_equal(b.v[0].qos.rw_ios_per_sec, 0);
	rpc_bdev_list_free(&b);
	assert_int_equal(rpc_bdev_get_bdev(e->c, NULL, RPC_UNSET, &b, &err), -EINVAL);
	assert_non_null(strstr(err.message, "unsafe"));

	assert_int_equal(rpc_bdev_get_iostat(e->c, NULL, &s, &err), 0);
	assert_true(s.n >= 2);
	assert_string_equal(s.v[0].name, "nvme2n1");
	assert_int_equal(s.v[0].bytes_read, 37376);
	assert_int_equal(s.v[0].num_read_ops, 3);
	rpc_iostat_free(&s);

	assert_int_equal(rpc_vhost_get_controllers(e->c, &vl, &err), 0);
	assert_int_equal(vl.n, 5);
	assert_string_equal(vl.v[0].ctrlr, "vhost12");
	assert_string_equal(vl.v[0].cpumask, "0x2");
	assert_string_equal(vl.v[0].socket, "<vhost_dir>/vhost12");
	assert_string_equal(vl.v[0].bdev, "nvme2n1");
	assert_true(vl.v[0].readonly);
	assert_int_equal(vl.v[0].n_sessions, 0);
	rpc_vhost_list_free(&vl);

	v = load_data("vhost_get_controllers_null_bdev.json");
	assert_int_equal(rpc_decode_vhost_controllers(v, &vl, &err), 0);
	{
		size_t nulls = 0;

		for (size_t i = 0; i < vl.n; i++)
			nulls += vl.v[i].bdev == NULL;
		assert_true(nulls >= 1);
	}
	rpc_vhost_list_free(&vl);
	json_decref(v);
}

static void test_save_config_matches_rpc_py(void **state)
{
	struct env *e = *state;
	struct rpc_error err;
	char *doc = NULL;
	json_t *got;

	assert_int_equal(rpc_save_config(e->c, &doc, &err), 0);
	got = json_loads(doc, 0, NULL);
	assert_non_null(got);
	assert_true(json_equal(got, saved_config));
	json_decref(got);
	free(doc);
}

static void test_preinit_calls(void **state)
{
	static const char *const want[] = {
		"iobuf_set_options",	 "sock_set_default_impl", "sock_impl_set_options",
		"sock_impl_set_options", "accel_set_options",	  "bdev_set_options",
		"bdev_raid_set_options", "bdev_nvme_set_options", "framework_set_scheduler",
	};
	struct env *e = *state;
	struct rpc_error err;
	char *doc = json_dumps(saved_config, 0), *calls = NULL;
	json_t *arr;

	assert_int_equal(rpc_config_preinit_calls(doc, &calls, &err), 0);
	arr = json_loads(calls, 0, NULL);
	assert_int_equal(json_array_size(arr), ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		json_t *c = json_array_get(arr, i);

		assert_string_equal(json_string_value(json_object_get(c, "method")), want[i]);
		assert_true(json_is_object(json_object_get(c, "params")));
	}
	json_decref(arr);
	free(calls);

	e->seen.n = 0;
	assert_int_equal(rpc_config_replay_preinit(e->c, doc, NULL, NULL, NULL, NULL, &err), 0);
	assert_int_equal(e->seen.n, (int)ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		assert_string_equal(e->seen.methods[i], want[i]);
	free(doc);

	assert_int_equal(rpc_config_preinit_calls("{", &calls, &err), -EINVAL);
	assert_non_null(strstr(err.message, "not JSON"));
	assert_int_equal(rpc_config_preinit_calls("{\"x\":1}", &calls, &err), -EINVAL);
	assert_non_null(strstr(err.message, "subsystems"));
	assert_int_equal(
		rpc_config_preinit_calls(
			"{\"subsystems\":[{\"subsystem\":\"a\",\"config\":[{\"params\":{}}]}]}",
			&calls, &err),
		-EINVAL);
	assert_non_null(strstr(err.message, "subsystems[0].config[0] has no method"));
	assert_true(rpc_config_method_is_preinit("bdev_nvme_set_options"));
	assert_false(rpc_config_method_is_preinit("bdev_nvme_attach_controller"));
}

/* A malformed answer: decoder fn must fail with -EBADMSG naming method and field. */
typedef int (*decode_fn)(json_t *res, struct rpc_error *err);

static void expect_bad(decode_fn fn, const char *text, const char *method, const char *field)
{
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
	struct rpc_error err = {0};

	assert_non_null(v);
	assert_int_equal(fn(v, &err), -EBADMSG);
	assert_int_equal(err.err, -EBADMSG);
	assert_string_equal(err.method, method);
	if (!strstr(err.message, field))
		fail_msg("message '%s' does not name '%s'", err.message, field);
	json_decref(v);
}

static int dec_bdevs(json_t *r, struct rpc_error *e)
{
	struct rpc_bdev_list l;
	int x = rpc_decode_bdevs(r, &l, e);

	if (x == 0)
		rpc_bdev_list_free(&l);
	return x;
}

static int dec_raid(json_t *r, struct rpc_error *e)
{
	struct rpc_raid_list l;
	int x = rpc_decode_raid_bdevs(r, &l, e);

	if (x == 0)
		rpc_raid_list_free(&l);
	return x;
}

static int dec_ctrlrs(json_t *r, struct rpc_error *e)
{
	struct rpc_nvme_ctrlr_list l;
	int x = rpc_decode_nvme_controllers(r, &l, e);

	if (x == 0)
		rpc_nvme_ctrlr_list_free(&l);
	return x;
}

static int dec_vhost(json_t *r, struct rpc_error *e)
{
	struct rpc_vhost_list l;
	int x = rpc_decode_vhost_controllers(r, &l, e);

	if (x == 0)
		rpc_vhost_list_free(&l);
	return x;
}

static int dec_version(json_t *r, struct rpc_error *e)
{
	struct rpc_version v;
	int x = rpc_decode_version(r, &v, e);

	if (x == 0)
		rpc_version_free(&v);
	return x;
}

static int dec_paths(json_t *r, struct rpc_error *e)
{
	struct rpc_io_path_list l;
	int x = rpc_decode_io_paths(r, &l, e);

	if (x == 0)
		rpc_io_path_list_free(&l);
	return x;
}

static int dec_iostat(json_t *r, struct rpc_error *e)
{
	struct rpc_iostat s;
	int x = rpc_decode_iostat(r, &s, e);

	if (x == 0)
		rpc_iostat_free(&s);
	return x;
}

static void test_malformed_answers(void **state)
{
	static const char *qos = "\"assigned_rate_limits\":{\"rw_ios_per_sec\":0,"
				 "\"rw_mbytes_per_sec\":0,\"r_mbytes_per_sec\":0,"
				 "\"w_mbytes_per_sec\":0}";
	char buf[1024];

	expect_bad(dec_bdevs, "{}", "bdev_get_bdevs", "result");
	snprintf(buf, sizeof(buf),
		 "[{\"name\":\"a\",\"aliases\":[],\"block_size\":512,\"num_blocks\":\"8\","
		 "\"claimed\":false,%s}]",
		 qos);
	expect_bad(dec_bdevs, buf, "bdev_get_bdevs", "num_blocks");
	snprintf(buf, sizeof(buf),
		 "[{\"name\":\"a\",\"aliases\":[3],\"block_size\":512,\"num_blocks\":8,"
		 "\"claimed\":false,%s}]",
		 qos);
	expect_bad(dec_bdevs, buf, "bdev_get_bdevs", "aliases");
	expect_bad(dec_bdevs,
		   "[{\"name\":\"a\",\"aliases\":[],\"block_size\":512,\"num_blocks\":8,"
		   "\"claimed\":false}]",
		   "bdev_get_bdevs", "assigned_rate_limits");
	expect_bad(dec_raid, "[{\"name\":\"r\",\"state\":\"online\"}]", "bdev_raid_get_bdevs",
		   "raid_level");
	expect_bad(dec_raid,
		   "[{\"name\":\"r\",\"state\":\"online\",\"raid_level\":\"raid1\","
		   "\"superblock\":false,\"num_base_bdevs\":2,\"num_base_bdevs_discovered\":2,"
		   "\"num_base_bdevs_operational\":2,\"process\":{\"type\":\"rebuild\","
		   "\"progress\":{\"blocks\":1,\"percent\":1}},\"base_bdevs_list\":[]}]",
		   "bdev_raid_get_bdevs", "target");
	expect_bad(dec_raid,
		   "[{\"name\":\"r\",\"state\":\"online\",\"raid_level\":\"raid1\","
		   "\"superblock\":false,\"num_base_bdevs\":2,\"num_base_bdevs_discovered\":2,"
		   "\"num_base_bdevs_operational\":2,\"base_bdevs_list\":[{\"name\":7}]}]",
		   "bdev_raid_get_bdevs", "'name'");
	expect_bad(dec_ctrlrs,
		   "[{\"name\":\"n\",\"ctrlrs\":[{\"state\":\"enabled\",\"cntlid\":1}]}]",
		   "bdev_nvme_get_controllers", "trid");
	expect_bad(dec_ctrlrs, "[{\"name\":\"n\"}]", "bdev_nvme_get_controllers", "ctrlrs");
	expect_bad(dec_vhost,
		   "[{\"ctrlr\":\"v\",\"cpumask\":\"0x2\",\"socket\":\"/s\",\"sessions\":[],"
		   "\"backend_specific\":{\"block\":{}}}]",
		   "vhost_get_controllers", "bdev");
	expect_bad(dec_version, "{\"version\":\"x\",\"fields\":{\"major\":\"25\"}}",
		   "spdk_get_version", "major");
	expect_bad(dec_paths, "{\"poll_groups\":[{\"io_paths\":[]}]}", "bdev_nvme_get_io_paths",
		   "thread");
	expect_bad(dec_iostat, "{\"tick_rate\":\"<ticks>\",\"ticks\":1,\"bdevs\":[]}",
		   "bdev_get_iostat", "tick_rate");
}

static void test_answer_take(void **state)
{
	struct rpc_error err;
	json_t *res = NULL;
	json_t *a = json_loads("{\"id\":1,\"error\":{\"message\":\"x\"}}", 0, NULL);

	assert_int_equal(rpc_answer_take(a, "m", &res, &err), -EBADMSG);
	assert_non_null(strstr(err.message, "code"));
	json_decref(a);
	a = json_loads("{\"id\":1}", 0, NULL);
	assert_int_equal(rpc_answer_take(a, "m", &res, &err), -EBADMSG);
	assert_non_null(strstr(err.message, "neither result nor error"));
	json_decref(a);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_version_and_methods, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_nvme_controllers_and_paths, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(test_raid_rebuild, env_setup, env_teardown),
		cmocka_unit_test(test_raid_missing_and_configuring),
		cmocka_unit_test_setup_teardown(test_bdevs_iostat_vhost, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_save_config_matches_rpc_py, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(test_preinit_calls, env_setup, env_teardown),
		cmocka_unit_test(test_malformed_answers),
		cmocka_unit_test(test_answer_take),
	};
	const char *conf = getenv("CONFORMANCE_DIR");
	char path[512];
	int r;

	if (argc < 2 || !conf) {
		fprintf(stderr, "usage: %s DATA_DIR (with CONFORMANCE_DIR set)\n", argv[0]);
		return 2;
	}
	data_dir = argv[1];
	snprintf(path, sizeof(path), "%s/config_saved.json", conf);
	saved_config = json_load_file(path, 0, NULL);
	if (!saved_config) {
		fprintf(stderr, "cannot load %s\n", path);
		return 2;
	}
	r = cmocka_run_group_tests(tests, NULL, NULL);
	json_decref(saved_config);
	return r;
}
