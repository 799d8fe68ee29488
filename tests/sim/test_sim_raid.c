/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim raid behaviour against SPDK v25.09's rules: rebuild progress, member loss,
 * superblock re-assembly (and the stale member left out), errors, resize, saved config.
 * Members are scratch disks plugged and pulled through the control channel, or local
 * PCIe NVMe drives where the I/O channels the raid holds on them matter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim_test_client.h"

static int setup(void **state)
{
	struct simproc *p = calloc(1, sizeof(*p));

	if (!p || simproc_start(p) != 0) {
		free(p);
		return -1;
	}
	*state = p;
	return 0;
}

/* The sim must exit cleanly on SIGTERM: a sanitized build fails here on a leak. */
static int teardown(void **state)
{
	int status = simproc_stop(*state);

	free(*state);
	if (status != 0)
		fprintf(stderr, "spdk-sim exited with status %d after SIGTERM\n", status);
	return status == 0 ? 0 : -1;
}

/* Plug a scratch disk; returns its uuid (caller frees). */
static char *disk_add(struct simproc *p, const char *name, int blocks, const char *uuid)
{
	json_t *args = json_pack("{s:s, s:i}", "name", name, "num_blocks", blocks), *ans;
	char *out;

	if (uuid)
		json_object_set_new(args, "uuid", json_string(uuid));
	ans = sim_ctl(p, "scratch_bdev_add", args);
	assert_non_null(ans);
	assert_true(json_is_true(json_object_get(ans, "ok")));
	out = strdup(json_string_value(json_object_get(json_object_get(ans, "result"), "uuid")));
	json_decref(ans);
	return out;
}

static void disk_remove(struct simproc *p, const char *name)
{
	json_t *ans = sim_ctl(p, "scratch_bdev_remove", json_pack("{s:s}", "name", name));

	assert_true(json_is_true(json_object_get(ans, "ok")));
	json_decref(ans);
}

static void disk_resize(struct simproc *p, const char *name, int blocks)
{
	json_t *ans = sim_ctl(p, "scratch_bdev_resize",
			      json_pack("{s:s, s:i}", "name", name, "num_blocks", blocks));

	assert_true(json_is_true(json_object_get(ans, "ok")));
	json_decref(ans);
}

/* Call and expect `true`. */
static void rpc_ok(struct simproc *p, const char *method, json_t *params)
{
	json_t *ans = sim_rpc(p, method, params);

	assert_non_null(ans);
	if (!json_is_true(sim_result(ans)))
		fail_msg("%s failed: %d %s", method, sim_error_code(ans), sim_error_message(ans));
	json_decref(ans);
}

/* Call and expect an error with that code and message. */
static void rpc_err(struct simproc *p, const char *method, json_t *params, int code,
		    const char *message)
{
	json_t *ans = sim_rpc(p, method, params);

	assert_non_null(ans);
	assert_int_equal(sim_error_code(ans), code);
	assert_string_equal(sim_error_message(ans), message);
	json_decref(ans);
}

static json_t *raid1_params(const char *name, const char *a, const char *b, bool sb)
{
	return json_pack("{s:s, s:s, s:i, s:[s, s], s:b}", "name", name, "raid_level", "raid1",
			 "strip_size_kb", 0, "base_bdevs", a, b, "superblock", sb);
}

static int64_t jint(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static json_t *slot(json_t *raid, size_t i)
{
	return json_array_get(json_object_get(raid, "base_bdevs_list"), i);
}

static void test_rebuild_progresses_to_completion(void **state)
{
	struct simproc *p = *state;
	int64_t last = -1, seen = 0;
	json_t *r;

	free(disk_add(p, "d0", 16384, NULL));
	free(disk_add(p, "d1", 16384, NULL));
	/* 64 KiB windows at 8 MiB/s: 8 MiB take about one second */
	rpc_ok(p, "bdev_raid_set_options",
	       json_pack("{s:i, s:i}", "process_window_size_kb", 64, "process_max_bandwidth_mb_sec",
			 8));
	rpc_ok(p, "bdev_raid_create", raid1_params("raid_1", "d0", "d1", false));
	rpc_ok(p, "bdev_raid_remove_base_bdev", json_pack("{s:s}", "name", "d1"));
	rpc_ok(p, "bdev_raid_add_base_bdev",
	       json_pack("{s:s, s:s}", "raid_bdev", "raid_1", "base_bdev", "d1"));
	rpc_err(p, "bdev_raid_add_base_bdev",
		json_pack("{s:s, s:s}", "raid_bdev", "raid_1", "base_bdev", "d1"), -1,
		"Failed to add base bdev d1 to RAID bdev raid_1: Operation not permitted");

	for (int i = 0; i < 60; i++) {
		json_t *proc;

		r = sim_raid_get(p, "raid_1");
		assert_non_null(r);
		assert_int_equal(jint(r, "num_base_bdevs_discovered"), 2);
		proc = json_object_get(r, "process");
		if (!proc) {
			json_decref(r);
			break;
		}
		assert_string_equal(json_string_value(json_object_get(proc, "type")), "rebuild");
		assert_string_equal(json_string_value(json_object_get(proc, "target")), "d1");
		{
			json_t *prog = json_object_get(proc, "progress");
			int64_t blocks = jint(prog, "blocks");

			assert_true(blocks >= last);
			assert_int_equal(blocks % 128, 0); /* whole 64 KiB windows */
			assert_int_equal(jint(prog, "percent"), blocks * 100 / 16384);
			if (blocks > last && last >= 0)
				seen++;
			last = blocks;
		}
		/* "process" comes right before base_bdevs_list */
		{
			const char *key, *prev = NULL;
			json_t *v;

			json_object_foreach(r, key, v)
			{
				if (strcmp(key, "base_bdevs_list") == 0)
					assert_string_equal(prev, "process");
				prev = key;
			}
		}
		json_decref(r);
		usleep(100000);
	}
	assert_true(seen >= 3); /* progress moved while we watched */
	r = sim_raid_get(p, "raid_1");
	assert_null(json_object_get(r, "process"));
	assert_string_equal(json_string_value(json_object_get(slot(r, 1), "name")), "d1");
	assert_true(json_is_true(json_object_get(slot(r, 1), "is_configured")));
	json_decref(r);
	/* idle again: the member is in, a second add finds no free slot */
	rpc_err(p, "bdev_raid_add_base_bdev",
		json_pack("{s:s, s:s}", "raid_bdev", "raid_1", "base_bdev", "d1"), -22,
		"Failed to add base bdev d1 to RAID bdev raid_1: Invalid argument");
}

static void test_rebuild_without_limit_is_done_at_once(void **state)
{
	struct simproc *p = *state;
	json_t *r;

	free(disk_add(p, "d0", 32768, NULL));
	free(disk_add(p, "d1", 32768, NULL));
	rpc_ok(p, "bdev_raid_create", raid1_params("raid_1", "d0", "d1", false));
	disk_remove(p, "d1");
	free(disk_add(p, "d1", 32768, NULL));
	r = sim_raid_get(p, "raid_1");
	assert_int_equal(jint(r, "num_base_bdevs_operational"), 1); /* not taken back */
	json_decref(r);
	rpc_ok(p, "bdev_raid_add_base_bdev",
	       json_pack("{s:s, s:s}", "raid_bdev", "raid_1", "base_bdev", "d1"));
	r = sim_raid_get(p, "raid_1");
	assert_null(json_object_get(r, "process"));
	assert_int_equal(jint(r, "num_base_bdevs_operational"), 2);
	json_decref(r);
}

static void test_member_loss_keeps_online(void **state)
{
	struct simproc *p = *state;
	json_t *r, *ans;

	free(disk_add(p, "d0", 32768, NULL));
	free(disk_add(p, "d1", 32768, NULL));
	rpc_ok(p, "bdev_raid_create", raid1_params("raid_1", "d0", "d1", false));
	disk_remove(p, "d1");

	r = sim_raid_get(p, "raid_1");
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "state")), "online");
	assert_int_equal(jint(r, "num_base_bdevs_discovered"), 1);
	assert_int_equal(jint(r, "num_base_bdevs_operational"), 1);
	assert_true(json_is_null(json_object_get(slot(r, 1), "name")));
	assert_false(json_is_true(json_object_get(slot(r, 1), "is_configured")));
	assert_int_equal(jint(slot(r, 1), "data_size"), 32768);
	json_decref(r);
	/* still a bdev: the guest keeps its disk */
	ans = sim_rpc(p, "bdev_get_bdevs", json_pack("{s:s}", "name", "raid_1"));
	assert_int_equal(jint(json_array_get(sim_result(ans), 0), "num_blocks"), 32768);
	json_decref(ans);

	/* the last member goes: the raid itself is deleted */
	disk_remove(p, "d0");
	assert_null(sim_raid_get(p, "raid_1"));
	rpc_err(p, "bdev_get_bdevs", json_pack("{s:s}", "name", "raid_1"), -19, "No such device");
	/* without a superblock nothing comes back when the disks return */
	free(disk_add(p, "d0", 32768, NULL));
	free(disk_add(p, "d1", 32768, NULL));
	assert_null(sim_raid_get(p, "raid_1"));
}

static void test_superblock_reassembly_leaves_stale_member_out(void **state)
{
	struct simproc *p = *state;
	char *ua = disk_add(p, "a", 16384, NULL), *ub = disk_add(p, "b", 16384, NULL);
	json_t *r, *ans;

	rpc_ok(p, "bdev_raid_create", raid1_params("raid_sb", "a", "b", true));
	r = sim_raid_get(p, "raid_sb");
	assert_true(json_is_true(json_object_get(r, "superblock")));
	assert_int_equal(jint(slot(r, 0), "data_offset"), 2048);
	assert_int_equal(jint(slot(r, 0), "data_size"), 14336);
	json_decref(r);
	ans = sim_rpc(p, "bdev_get_bdevs", json_pack("{s:s}", "name", "raid_sb"));
	assert_int_equal(jint(json_array_get(sim_result(ans), 0), "num_blocks"), 14336);
	json_decref(ans);

	/* delete, pull both, plug both: the superblock brings the raid back */
	rpc_ok(p, "bdev_raid_delete", json_pack("{s:s}", "name", "raid_sb"));
	disk_remove(p, "a");
	disk_remove(p, "b");
	free(disk_add(p, "a", 16384, ua));
	r = sim_raid_get(p, "raid_sb");
	assert_string_equal(json_string_value(json_object_get(r, "state")), "configuring");
	json_decref(r);
	free(disk_add(p, "b", 16384, ub));
	r = sim_raid_get(p, "raid_sb");
	assert_string_equal(json_string_value(json_object_get(r, "state")), "online");
	assert_int_equal(jint(r, "num_base_bdevs_operational"), 2);
	json_decref(r);

	/* a is lost (recorded on b), then b: the raid goes away */
	disk_remove(p, "a");
	r = sim_raid_get(p, "raid_sb");
	assert_int_equal(jint(r, "num_base_bdevs_operational"), 1);
	json_decref(r);
	disk_remove(p, "b");
	assert_null(sim_raid_get(p, "raid_sb"));

	/* restart order: the stale member first, then the one with the newer record */
	free(disk_add(p, "a", 16384, ua));
	free(disk_add(p, "b", 16384, ub));
	r = sim_raid_get(p, "raid_sb");
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "state")), "online");
	assert_int_equal(jint(r, "num_base_bdevs_discovered"), 1);
	assert_int_equal(jint(r, "num_base_bdevs_operational"), 1);
	assert_true(json_is_null(json_object_get(slot(r, 0), "name")));
	assert_string_equal(json_string_value(json_object_get(slot(r, 1), "name")), "b");
	json_decref(r);
	/* a is not claimed: the operator (diskengine) adds it back with a rebuild */
	ans = sim_rpc(p, "bdev_get_bdevs", json_pack("{s:s}", "name", "a"));
	assert_false(json_is_true(json_object_get(json_array_get(sim_result(ans), 0), "claimed")));
	json_decref(ans);
	rpc_ok(p, "bdev_raid_add_base_bdev",
	       json_pack("{s:s, s:s}", "raid_bdev", "raid_sb", "base_bdev", "a"));
	r = sim_raid_get(p, "raid_sb");
	assert_int_equal(jint(r, "num_base_bdevs_operational"), 2);
	assert_string_equal(json_string_value(json_object_get(slot(r, 0), "name")), "a");
	json_decref(r);
	/*
	 * Lose both again, then b (newest record) first: the array runs on b, and a, which the
	 * record calls missing, is re-added and rebuilt by the examine of an online array.
	 */
	disk_remove(p, "a");
	disk_remove(p, "b");
	free(disk_add(p, "b", 16384, ub));
	free(disk_add(p, "a", 16384, ua));
	r = sim_raid_get(p, "raid_sb");
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "state")), "online");
	assert_int_equal(jint(r, "num_base_bdevs_operational"), 2);
	assert_null(json_object_get(r, "process"));
	json_decref(r);
	free(ua);
	free(ub);
}

static void test_create_errors_and_configuring(void **state)
{
	struct simproc *p = *state;
	json_t *r, *ans;

	free(disk_add(p, "d0", 32768, NULL));
	free(disk_add(p, "d1", 32768, NULL));
	free(disk_add(p, "d2", 16384, NULL));
	rpc_ok(p, "bdev_raid_create", raid1_params("raid_1", "d0", "d1", false));
	rpc_err(p, "bdev_raid_create", raid1_params("raid_1", "d0", "d1", false), -17,
		"Failed to create RAID bdev raid_1: File exists");
	rpc_err(p, "bdev_raid_create", raid1_params("raid_x", "d0", "d2", false), -1,
		"Failed to create RAID bdev raid_x: Operation not permitted");
	assert_null(sim_raid_get(p, "raid_x"));
	rpc_err(p, "bdev_raid_create",
		json_pack("{s:s, s:s, s:i, s:[s]}", "name", "raid_y", "raid_level", "raid1",
			  "strip_size_kb", 64, "base_bdevs", "d2"),
		-22, "Failed to create RAID bdev raid_y: Invalid argument");
	rpc_err(p, "bdev_raid_create", json_pack("{s:s, s:s}", "name", "r", "raid_level", "raid1"),
		-32700, "spdk_json_decode_object failed");
	rpc_err(p, "bdev_raid_create",
		json_pack("{s:s, s:s, s:[s, s]}", "name", "r", "raid_level", "raid7", "base_bdevs",
			  "a", "b"),
		-32700, "spdk_json_decode_object failed");
	rpc_err(p, "bdev_raid_create",
		json_pack("{s:s, s:s, s:[s, s]}", "name", "r", "raid_level", "raid1", "base_bdevs",
			  "d2", ""),
		-22, "The base bdev name cannot be empty: Invalid argument");
	rpc_err(p, "bdev_raid_delete", json_pack("{s:s}", "name", "raid_y"), -19,
		"raid bdev raid_y not found");

	/* a missing member: configuring, not a bdev, online once it appears */
	rpc_ok(p, "bdev_raid_create", raid1_params("raid_2", "d2", "d3", false));
	r = sim_raid_get(p, "raid_2");
	assert_string_equal(json_string_value(json_object_get(r, "state")), "configuring");
	assert_int_equal(jint(r, "num_base_bdevs_discovered"), 1);
	assert_string_equal(json_string_value(json_object_get(slot(r, 1), "name")), "d3");
	assert_int_equal(jint(slot(r, 1), "data_size"), 0);
	json_decref(r);
	rpc_err(p, "bdev_get_bdevs", json_pack("{s:s}", "name", "raid_2"), -19, "No such device");
	ans = sim_rpc(p, "bdev_raid_get_bdevs", json_pack("{s:s}", "category", "configuring"));
	assert_int_equal(json_array_size(sim_result(ans)), 1);
	json_decref(ans);
	free(disk_add(p, "d3", 16384, NULL));
	r = sim_raid_get(p, "raid_2");
	assert_string_equal(json_string_value(json_object_get(r, "state")), "online");
	json_decref(r);

	rpc_err(p, "bdev_raid_get_bdevs", NULL, -32700, "spdk_json_decode_object failed");
	rpc_err(p, "bdev_raid_get_bdevs", json_pack("{s:s}", "category", "bogus"), -22,
		"Invalid argument");
	ans = sim_rpc(p, "bdev_raid_get_bdevs", json_pack("{s:s}", "category", "offline"));
	assert_int_equal(json_array_size(sim_result(ans)), 0);
	json_decref(ans);
	rpc_err(p, "bdev_raid_remove_base_bdev", json_pack("{s:s}", "name", "nope"), -19,
		"Failed to remove base bdev from raid bdev");
	rpc_err(p, "bdev_raid_add_base_bdev",
		json_pack("{s:s, s:s}", "raid_bdev", "nope", "base_bdev", "d1"), -19,
		"raid bdev nope is not found in config");
	rpc_err(p, "bdev_raid_add_base_bdev", json_pack("{s:s}", "raid_bdev", "raid_1"), -32603,
		"spdk_json_decode_object failed");
	rpc_ok(p, "bdev_raid_remove_base_bdev", json_pack("{s:s}", "name", "d1"));
	rpc_err(p, "bdev_raid_add_base_bdev",
		json_pack("{s:s, s:s}", "raid_bdev", "raid_1", "base_bdev", "nope"), -19,
		"Failed to add base bdev nope to RAID bdev raid_1: No such device");
	rpc_err(p, "bdev_raid_set_options", json_pack("{s:i}", "process_window_size_kb", 0), -22,
		"Invalid argument");
	rpc_err(p, "bdev_raid_set_options", json_pack("{s:i}", "process_window_size_kb", -1),
		-32700, "spdk_json_decode_object failed");
}

static void test_resize_waits_for_both(void **state)
{
	struct simproc *p = *state;
	json_t *r;

	free(disk_add(p, "d0", 32768, NULL));
	free(disk_add(p, "d1", 32768, NULL));
	rpc_ok(p, "bdev_raid_create", raid1_params("raid_1", "d0", "d1", false));
	disk_resize(p, "d0", 65536);
	r = sim_raid_get(p, "raid_1");
	assert_int_equal(jint(slot(r, 0), "data_size"), 32768);
	json_decref(r);
	disk_resize(p, "d1", 49152);
	r = sim_raid_get(p, "raid_1");
	assert_int_equal(jint(slot(r, 0), "data_size"), 49152);
	assert_int_equal(jint(slot(r, 1), "data_size"), 49152);
	json_decref(r);
}

static void test_saved_config(void **state)
{
	struct simproc *p = *state;
	json_t *ans, *e;
	size_t i;
	int creates = 0, opts = 0;

	free(disk_add(p, "d0", 32768, NULL));
	free(disk_add(p, "d1", 32768, NULL));
	free(disk_add(p, "d2", 32768, NULL));
	free(disk_add(p, "d3", 32768, NULL));
	rpc_ok(p, "bdev_raid_create", raid1_params("raid_1", "d0", "d1", false));
	rpc_ok(p, "bdev_raid_create", raid1_params("raid_sb", "d2", "d3", true));
	ans = sim_rpc(p, "framework_get_config", json_pack("{s:s}", "name", "bdev"));
	json_array_foreach(sim_result(ans), i, e)
	{
		const char *m = json_string_value(json_object_get(e, "method"));
		json_t *params = json_object_get(e, "params");

		if (strcmp(m, "bdev_raid_set_options") == 0) {
			opts++;
			assert_int_equal(jint(params, "process_window_size_kb"), 1024);
			assert_int_equal(jint(params, "process_max_bandwidth_mb_sec"), 0);
		} else if (strcmp(m, "bdev_raid_create") == 0) {
			creates++;
			/* a superblock raid is described by its superblock, not the config */
			assert_string_equal(json_string_value(json_object_get(params, "name")),
					    "raid_1");
			assert_non_null(json_object_get(params, "uuid"));
			assert_null(json_object_get(params, "strip_size_kb"));
			assert_int_equal(json_array_size(json_object_get(params, "base_bdevs")), 2);
		}
	}
	assert_int_equal(opts, 1);
	assert_int_equal(creates, 1);
	json_decref(ans);
}

static void ctl_fails(struct simproc *p, const char *cmd, json_t *args, const char *needle)
{
	json_t *ans = sim_ctl(p, cmd, args);
	const char *err;

	assert_non_null(ans);
	assert_false(json_is_true(json_object_get(ans, "ok")));
	err = json_string_value(json_object_get(ans, "error"));
	assert_non_null(err);
	if (!strstr(err, needle))
		fail_msg("%s: error '%s' does not mention '%s'", cmd, err, needle);
	json_decref(ans);
}

static void test_scratch_disk_bad_input(void **state)
{
	struct simproc *p = *state;

	ctl_fails(p, "scratch_bdev_add", json_pack("{s:s}", "name", "d0"), "num_blocks");
	ctl_fails(p, "scratch_bdev_add", json_pack("{s:s, s:i}", "name", "d0", "num_blocks", 0),
		  "num_blocks");
	ctl_fails(p, "scratch_bdev_add",
		  json_pack("{s:s, s:i, s:i}", "name", "d0", "num_blocks", 8, "block_size", 1000),
		  "block_size");
	ctl_fails(p, "scratch_bdev_add",
		  json_pack("{s:s, s:i, s:s}", "name", "d0", "num_blocks", 8, "uuid", "xyz"),
		  "uuid");
	free(disk_add(p, "d0", 8, NULL));
	ctl_fails(p, "scratch_bdev_add", json_pack("{s:s, s:i}", "name", "d0", "num_blocks", 8),
		  "taken");
	ctl_fails(p, "scratch_bdev_remove", json_pack("{s:s}", "name", "nope"), "no scratch disk");
	ctl_fails(p, "scratch_bdev_remove", json_object(), "name");
	ctl_fails(p, "scratch_bdev_resize", json_pack("{s:s, s:i}", "name", "d0", "num_blocks", -4),
		  "num_blocks");
}

static void expect_paths(struct simproc *p, const char *want)
{
	char *got = sim_io_paths(p);

	assert_string_equal(got, want);
	free(got);
}

/*
 * bdev_nvme_get_io_paths lists the paths of NVMe bdevs with an open channel. The raid
 * module keeps one on each claimed member on the app thread (it read the superblock area
 * through it, so that path is current), and a channel on the raid bdev holds one on
 * every configured member on its thread (path_failure.jsonl#20).
 */
static void test_channels_on_nvme_members(void **state)
{
	struct simproc *p = *state;
	json_t *ans;

	assert_int_equal(sim_nvme_local_drive(p, "n0", "0000:01:00.0", 32768), 0);
	assert_int_equal(sim_nvme_local_drive(p, "n1", "0000:02:00.0", 32768), 0);
	expect_paths(p, "");
	rpc_ok(p, "bdev_raid_create", raid1_params("raid_1", "n0n1", "n1n1", false));
	expect_paths(p, "app_thread:n0n1*,n1n1*");

	/* an nvmf namespace on the raid: the poll group's raid channel takes both members */
	rpc_ok(p, "nvmf_create_subsystem", json_pack("{s:s}", "nqn", "nqn.2016-06.io.spdk:probe"));
	ans = sim_rpc(p, "nvmf_subsystem_add_ns",
		      json_pack("{s:s, s:{s:s}}", "nqn", "nqn.2016-06.io.spdk:probe", "namespace",
				"bdev_name", "raid_1"));
	assert_int_equal(json_integer_value(sim_result(ans)), 1);
	json_decref(ans);
	expect_paths(p, "app_thread:n0n1*,n1n1*;nvmf_tgt_poll_group_000:n0n1,n1n1");

	/* a removed member is let go on every thread; added back, every channel takes it */
	rpc_ok(p, "bdev_raid_remove_base_bdev", json_pack("{s:s}", "name", "n1n1"));
	expect_paths(p, "app_thread:n0n1*;nvmf_tgt_poll_group_000:n0n1");
	rpc_ok(p, "bdev_raid_add_base_bdev",
	       json_pack("{s:s, s:s}", "raid_bdev", "raid_1", "base_bdev", "n1n1"));
	expect_paths(p, "app_thread:n0n1*,n1n1*;nvmf_tgt_poll_group_000:n0n1,n1n1");

	/* the namespace goes: only the module's own channels stay */
	rpc_ok(p, "nvmf_subsystem_remove_ns",
	       json_pack("{s:s, s:i}", "nqn", "nqn.2016-06.io.spdk:probe", "nsid", 1));
	expect_paths(p, "app_thread:n0n1*,n1n1*");

	/* deleting the raid under a live namespace closes every channel it held */
	ans = sim_rpc(p, "nvmf_subsystem_add_ns",
		      json_pack("{s:s, s:{s:s}}", "nqn", "nqn.2016-06.io.spdk:probe", "namespace",
				"bdev_name", "raid_1"));
	assert_int_equal(json_integer_value(sim_result(ans)), 1);
	json_decref(ans);
	rpc_ok(p, "bdev_raid_delete", json_pack("{s:s}", "name", "raid_1"));
	expect_paths(p, "");

	/* a lost member's paths go with its bdev; the survivor keeps its channels */
	rpc_ok(p, "bdev_raid_create", raid1_params("raid_2", "n0n1", "n1n1", false));
	ans = sim_rpc(p, "nvmf_subsystem_add_ns",
		      json_pack("{s:s, s:{s:s}}", "nqn", "nqn.2016-06.io.spdk:probe", "namespace",
				"bdev_name", "raid_2"));
	json_decref(ans);
	rpc_ok(p, "bdev_nvme_detach_controller", json_pack("{s:s}", "name", "n1"));
	expect_paths(p, "app_thread:n0n1*;nvmf_tgt_poll_group_000:n0n1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rebuild_progresses_to_completion, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_without_limit_is_done_at_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_member_loss_keeps_online, setup, teardown),
		cmocka_unit_test_setup_teardown(test_superblock_reassembly_leaves_stale_member_out,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_errors_and_configuring, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resize_waits_for_both, setup, teardown),
		cmocka_unit_test_setup_teardown(test_saved_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scratch_disk_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_channels_on_nvme_members, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
