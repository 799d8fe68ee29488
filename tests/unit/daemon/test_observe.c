/* SPDX-License-Identifier: Apache-2.0 */
/*
 * observe_spdk / observe_bdevs against a scripted SPDK answering with recordings of SPDK v25.09:
 * the fixed set of list calls, never an unfiltered bdev_get_bdevs (a reset may start between two
 * calls), bdevs read by name with every read in flight at once, an unknown name read as absent,
 * and a malformed answer failing the observation with the method and field named.
 */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fake_spdk.h"
#include "reconcile/observe.h"
#include "reconcile/observe_model.h"

static const char *data_dir;

static json_t *recorded(const char *file);

struct world {
	bool resetting;	   /* the first controller path reports "resetting" */
	const char *bad;   /* this method answers with a malformed result */
	char seen[16][64]; /* methods in the order they came */
	int n;
	int unfiltered; /* bdev_get_bdevs without a name */
	/* by-name reads: held back until hold_for arrived (or the line is quiet) */
	int hold_for;
	json_t *held[16];
	int n_held, max_held;
};

static void answer_bdev(int fd, json_t *req)
{
	const char *name =
		json_string_value(json_object_get(json_object_get(req, "params"), "name"));
	json_t *id = json_object_get(req, "id"), *all = recorded("bdev_get_bdevs.json"), *res;
	size_t i;
	json_t *b;
	char line[256];

	json_array_foreach(all, i,
			   b) if (strcmp(json_string_value(json_object_get(b, "name")), name) == 0)
	{
		res = json_pack("[O]", b);
		fake_answer(fd, id, res);
		json_decref(all);
		return;
	}
	json_decref(all);
	snprintf(line, sizeof(line),
		 "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"error\":{\"code\":-19,"
		 "\"message\":\"No such device\"}}",
		 (long long)json_integer_value(id));
	fake_send(fd, line);
}

static void release_held(struct world *w, int fd)
{
	for (int i = 0; i < w->n_held; i++) {
		answer_bdev(fd, w->held[i]);
		json_decref(w->held[i]);
	}
	w->n_held = 0;
}

static json_t *recorded(const char *file)
{
	char path[512];
	json_t *v;

	snprintf(path, sizeof(path), "%s/%s", data_dir, file);
	v = json_load_file(path, 0, NULL);
	if (!v)
		fail_msg("cannot load %s", path);
	return v;
}

static enum fake_next h_world(struct fake *f, int fd, json_t *req, void *arg)
{
	struct world *w = arg;
	const char *m;
	json_t *id, *res;

	if (!req) {
		release_held(w, fd);
		return FAKE_CONTINUE;
	}
	m = json_string_value(json_object_get(req, "method"));
	id = json_object_get(req, "id");
	if (strcmp(m, "bdev_get_bdevs") == 0 && json_object_get(req, "params") &&
	    json_object_get(json_object_get(req, "params"), "name")) {
		w->held[w->n_held++] = json_incref(req);
		if (w->n_held > w->max_held)
			w->max_held = w->n_held;
		if (w->n_held >= w->hold_for)
			release_held(w, fd);
		return FAKE_CONTINUE;
	}
	if (strcmp(m, "bdev_get_bdevs") == 0)
		w->unfiltered++;
	if (w->n < 16)
		snprintf(w->seen[w->n++], sizeof(w->seen[0]), "%s", m);
	if (w->bad && strcmp(m, w->bad) == 0)
		res = json_pack("[{s:s, s:s}]", "name", "raid_1", "state", "online");
	else if (strcmp(m, "bdev_nvme_get_controllers") == 0) {
		res = recorded("nvme_get_controllers.json");
		if (w->resetting)
			json_object_set_new(
				json_array_get(json_object_get(json_array_get(res, 0), "ctrlrs"),
					       0),
				"state", json_string("resetting"));
	} else if (strcmp(m, "bdev_raid_get_bdevs") == 0)
		res = recorded("raid_get_bdevs_rebuild.json");
	else if (strcmp(m, "vhost_get_controllers") == 0)
		res = recorded("vhost_get_controllers.json");
	else if (strcmp(m, "bdev_get_bdevs") == 0)
		res = recorded("bdev_get_bdevs.json");
	else if (strcmp(m, "keyring_get_keys") == 0)
		res = json_pack("[{s:s, s:s, s:b, s:s}]", "name", "de_key_n1", "module",
				"keyring_file", "removed", 0, "path", "/etc/diskengine/n1.key");
	else
		res = json_null();
	fake_answer(fd, id, res);
	return FAKE_CONTINUE;
}

static struct rpc_client *open_on(struct fake *f)
{
	struct rpc_client_opts o = {.timeout_ms = 2000, .manual_reconnect = true};
	struct rpc_client *c = NULL;
	struct rpc_error err;

	assert_int_equal(rpc_client_open(fake_path(f), &o, &c, &err), 0);
	return c;
}

static void test_fixed_calls_and_model(void **state)
{
	struct world w = {0};
	struct fake *f = fake_start(h_world, &w);
	struct rpc_client *c = open_on(f);
	struct observe_raw o = {0};
	struct observed_model m;
	char err[512] = "";

	assert_int_equal(observe_spdk(c, &o, err, sizeof(err)), 0);
	/* the list calls only: bdevs are read by name afterwards, if any is needed */
	assert_int_equal(o.calls, 4);
	assert_int_equal(w.n, 4);
	assert_int_equal(w.unfiltered, 0);
	assert_int_equal(observed_from_raw(&o, NULL, 0, 7, &m), 0);
	assert_true(m.o.n_ctrlrs >= 1);
	assert_int_equal(m.o.ctrlrs[0].paths[0].state, CTRLR_ENABLED);
	assert_string_equal(m.o.ctrlrs[0].paths[0].hostnqn, "nqn.2024-01.io.diskengine:host1");
	assert_true(m.o.n_raids >= 1);
	assert_true(m.o.raids[0].has_process); /* the recording was taken mid-rebuild */
	assert_int_equal(m.o.n_bdevs, 0);
	assert_false(m.o.bdevs_listed);
	assert_int_equal(m.o.n_bdevs_read, 0);
	assert_int_equal(m.o.n_keys, 1);
	assert_string_equal(m.o.keys[0].path, "/etc/diskengine/n1.key");
	observed_model_free(&m);
	observe_raw_clear(&o);
	rpc_client_close(c);
	fake_stop(f, false);
}

static void test_no_unfiltered_bdevs_while_resetting(void **state)
{
	struct world w = {.resetting = true, .hold_for = 1};
	struct fake *f = fake_start(h_world, &w);
	struct rpc_client *c = open_on(f);
	const char *names[] = {"nvme0n1"};
	struct observe_raw o = {0};
	struct observed_model m;
	char err[512] = "";

	assert_int_equal(observe_spdk(c, &o, err, sizeof(err)), 0);
	assert_int_equal(observe_bdevs(c, names, 1, &o, err, sizeof(err)), 0);
	assert_int_equal(o.calls, 5);
	assert_int_equal(w.unfiltered, 0);
	assert_int_equal(observed_from_raw(&o, NULL, 0, 7, &m), 0);
	assert_false(m.o.bdevs_listed);
	assert_int_equal(m.o.ctrlrs[0].paths[0].state, CTRLR_RESETTING);
	observed_model_free(&m);
	observe_raw_clear(&o);
	rpc_client_close(c);
	fake_stop(f, false);
}

/* Every read is in flight before the first answer; an unknown name is read as absent. */
static void test_bdevs_by_name_in_flight_together(void **state)
{
	struct world w = {.hold_for = 3};
	struct fake *f = fake_start_ticking(h_world, &w, 200);
	struct rpc_client *c = open_on(f);
	const char *names[] = {"raid_1", "nvme0n1", "de_gone_n1"};
	struct observe_raw o = {0};
	struct observed_model m;
	char err[512] = "";

	assert_int_equal(observe_spdk(c, &o, err, sizeof(err)), 0);
	assert_int_equal(observe_bdevs(c, names, 3, &o, err, sizeof(err)), 0);
	assert_int_equal(w.max_held, 3);
	assert_int_equal(w.unfiltered, 0);
	assert_int_equal(o.calls, 7);
	assert_int_equal(o.bdevs.n, 1);
	assert_string_equal(o.bdevs.v[0].name, "nvme0n1");
	assert_int_equal(observed_from_raw(&o, NULL, 0, 7, &m), 0);
	assert_int_equal(m.o.n_bdevs_read, 3);
	assert_int_equal(m.o.n_bdevs, 1);
	observed_model_free(&m);
	observe_raw_clear(&o);
	rpc_client_close(c);
	fake_stop(f, false);
}

static void test_malformed_answer_named(void **state)
{
	struct world w = {.bad = "bdev_raid_get_bdevs"};
	struct fake *f = fake_start(h_world, &w);
	struct rpc_client *c = open_on(f);
	struct observe_raw o = {0};
	char err[512] = "";

	assert_int_equal(observe_spdk(c, &o, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "observe: bdev_raid_get_bdevs"));
	assert_non_null(strstr(err, "raid_level"));
	/* nothing half-filled is handed out */
	assert_int_equal(o.raids.n, 0);
	assert_int_equal(o.controllers.n, 0);
	rpc_client_close(c);
	fake_stop(f, false);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_calls_and_model),
		cmocka_unit_test(test_no_unfiltered_bdevs_while_resetting),
		cmocka_unit_test(test_bdevs_by_name_in_flight_together),
		cmocka_unit_test(test_malformed_answer_named),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
		return 2;
	}
	data_dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
