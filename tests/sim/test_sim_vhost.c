/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim vhost-blk behaviour against SPDK v25.09's rules: sockets on disk, errors,
 * listing, a controller outliving its bdev, sessions blocking deletion, saved config, the
 * I/O channel a session opens on the controller's bdev.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim_test_client.h"

static int setup(void **state)
{
	struct simproc *p = calloc(1, sizeof(*p));
	json_t *ans;

	if (!p || simproc_start(p) != 0) {
		free(p);
		return -1;
	}
	for (int i = 0; i < 3; i++) {
		char name[8];

		snprintf(name, sizeof(name), "d%d", i);
		ans = sim_ctl(p, "scratch_bdev_add",
			      json_pack("{s:s, s:i}", "name", name, "num_blocks", 32768));
		if (!json_is_true(json_object_get(ans, "ok")))
			return -1;
		json_decref(ans);
	}
	ans = sim_rpc(p, "bdev_raid_create",
		      json_pack("{s:s, s:s, s:i, s:[s, s]}", "name", "raid_1", "raid_level",
				"raid1", "strip_size_kb", 0, "base_bdevs", "d0", "d1"));
	if (!json_is_true(sim_result(ans)))
		return -1;
	json_decref(ans);
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

static json_t *create_params(const char *ctrlr, const char *dev, const char *cpumask)
{
	json_t *o = json_pack("{s:s, s:s}", "ctrlr", ctrlr, "dev_name", dev);

	if (cpumask)
		json_object_set_new(o, "cpumask", json_string(cpumask));
	return o;
}

static void rpc_ok(struct simproc *p, const char *method, json_t *params)
{
	json_t *ans = sim_rpc(p, method, params);

	assert_non_null(ans);
	if (!json_is_true(sim_result(ans)))
		fail_msg("%s failed: %d %s", method, sim_error_code(ans), sim_error_message(ans));
	json_decref(ans);
}

static void rpc_err(struct simproc *p, const char *method, json_t *params, int code,
		    const char *message)
{
	json_t *ans = sim_rpc(p, method, params);

	assert_non_null(ans);
	assert_int_equal(sim_error_code(ans), code);
	assert_string_equal(sim_error_message(ans), message);
	json_decref(ans);
}

static bool is_socket(const char *dir, const char *name)
{
	char path[600];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* The bdev a controller serves: a name, or NULL when it points at nothing. */
static char *ctrlr_bdev(struct simproc *p, const char *name)
{
	json_t *ans = sim_rpc(p, "vhost_get_controllers", json_pack("{s:s}", "name", name));
	json_t *b =
		json_object_get(json_object_get(json_object_get(json_array_get(sim_result(ans), 0),
								"backend_specific"),
						"block"),
				"bdev");
	char *out;

	assert_non_null(b);
	out = json_is_string(b) ? strdup(json_string_value(b)) : NULL;
	json_decref(ans);
	return out;
}

static void test_create_list_delete_with_socket(void **state)
{
	struct simproc *p = *state;
	json_t *ans, *c;
	char path[600];

	rpc_ok(p, "vhost_create_blk_controller", create_params("vhost7", "raid_1", "0x2"));
	rpc_ok(p, "vhost_create_blk_controller", create_params("vhost12", "d2", NULL));
	assert_true(is_socket(p->vhost_dir, "vhost7"));

	ans = sim_rpc(p, "vhost_get_controllers", NULL);
	assert_int_equal(json_array_size(sim_result(ans)), 2);
	/* sorted by name, not creation order */
	c = json_array_get(sim_result(ans), 0);
	assert_string_equal(json_string_value(json_object_get(c, "ctrlr")), "vhost12");
	assert_string_equal(json_string_value(json_object_get(c, "cpumask")), "0x2");
	c = json_array_get(sim_result(ans), 1);
	assert_string_equal(json_string_value(json_object_get(c, "ctrlr")), "vhost7");
	snprintf(path, sizeof(path), "%s/vhost7", p->vhost_dir);
	assert_string_equal(json_string_value(json_object_get(c, "socket")), path);
	assert_int_equal(json_array_size(json_object_get(c, "sessions")), 0);
	assert_int_equal(json_integer_value(json_object_get(c, "iops_threshold")), 60000);
	json_decref(ans);

	rpc_ok(p, "vhost_delete_controller", json_pack("{s:s}", "ctrlr", "vhost7"));
	assert_false(is_socket(p->vhost_dir, "vhost7"));
	rpc_err(p, "vhost_delete_controller", json_pack("{s:s}", "ctrlr", "vhost7"), -32602,
		"No such device");
	rpc_err(p, "vhost_get_controllers", json_pack("{s:s}", "name", "vhost7"), -32603,
		"No such device");
}

static void test_create_errors(void **state)
{
	struct simproc *p = *state;
	char name[201], path[600];
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd;

	rpc_ok(p, "vhost_create_blk_controller", create_params("vhost7", "raid_1", "0x2"));
	rpc_err(p, "vhost_create_blk_controller", create_params("vhost7", "raid_1", "0x2"), -32602,
		"File exists");
	/* two controllers may share an unclaimed bdev */
	rpc_ok(p, "vhost_create_blk_controller", create_params("vhost8", "raid_1", "0x2"));
	rpc_err(p, "vhost_create_blk_controller", create_params("vhost9", "nope", "0x2"), -32602,
		"No such device");
	rpc_err(p, "vhost_create_blk_controller", create_params("vhost13", "d0", "0x2"), -32602,
		"Operation not permitted");
	rpc_err(p, "vhost_create_blk_controller", create_params("vhost10", "d2", "0x4"), -32602,
		"Invalid argument");
	rpc_err(p, "vhost_create_blk_controller", create_params("vhost11", "d2", "zz"), -32602,
		"Invalid argument");
	rpc_err(p, "vhost_create_blk_controller", create_params("a/b", "d2", NULL), -32602,
		"Input/output error");
	rpc_err(p, "vhost_create_blk_controller", json_pack("{s:s}", "ctrlr", "x"), -32602,
		"Invalid argument");

	/* a stale socket file (a killed SPDK) is replaced */
	snprintf(path, sizeof(path), "%s/vhost_stale", p->vhost_dir);
	assert_true(strlen(path) < sizeof(a.sun_path));
	memcpy(a.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
	rpc_ok(p, "vhost_create_blk_controller", create_params("vhost_stale", "d2", NULL));
	/* a regular file in the way is not */
	snprintf(path, sizeof(path), "%s/vhost_file", p->vhost_dir);
	fclose(fopen(path, "w"));
	rpc_err(p, "vhost_create_blk_controller", create_params("vhost_file", "d2", NULL), -32602,
		"Input/output error");

	/* a name too long for sun_path: accepted, the socket is cut and left behind */
	memset(name, 'v', 200);
	name[200] = '\0';
	rpc_ok(p, "vhost_create_blk_controller", create_params(name, "d2", NULL));
	rpc_ok(p, "vhost_delete_controller", json_pack("{s:s}", "ctrlr", name));
	rpc_err(p, "vhost_create_blk_controller", create_params(name, "d2", NULL), -32602,
		"Input/output error");
}

static void test_controller_survives_bdev_deletion(void **state)
{
	struct simproc *p = *state;
	json_t *ans, *e;
	size_t i;
	char *bdev;

	rpc_ok(p, "vhost_create_blk_controller", create_params("vhost7", "raid_1", "0x2"));
	rpc_ok(p, "vhost_create_blk_controller", create_params("vhost12", "d2", NULL));
	bdev = ctrlr_bdev(p, "vhost7");
	assert_string_equal(bdev, "raid_1");
	free(bdev);
	rpc_ok(p, "bdev_raid_delete", json_pack("{s:s}", "name", "raid_1"));
	assert_null(ctrlr_bdev(p, "vhost7"));
	assert_true(is_socket(p->vhost_dir, "vhost7"));

	/* the saved config skips a controller without bdev; cpumask without 0x */
	ans = sim_rpc(p, "framework_get_config", json_pack("{s:s}", "name", "vhost_blk"));
	assert_int_equal(json_array_size(sim_result(ans)), 1);
	e = json_object_get(json_array_get(sim_result(ans), 0), "params");
	assert_string_equal(json_string_value(json_object_get(e, "ctrlr")), "vhost12");
	assert_string_equal(json_string_value(json_object_get(e, "cpumask")), "2");
	assert_string_equal(json_string_value(json_object_get(e, "transport")), "vhost_user_blk");
	json_array_foreach(sim_result(ans), i, e) assert_string_equal(
		json_string_value(json_object_get(e, "method")), "vhost_create_blk_controller");
	json_decref(ans);
	rpc_ok(p, "vhost_delete_controller", json_pack("{s:s}", "ctrlr", "vhost7"));
}

static void test_session_blocks_deletion(void **state)
{
	struct simproc *p = *state;
	json_t *ans, *s;
	int id;

	rpc_ok(p, "vhost_create_blk_controller", create_params("vhost7", "raid_1", "0x2"));
	ans = sim_ctl(p, "vhost_session_open",
		      json_pack("{s:s, s:i}", "ctrlr", "vhost7", "max_queues", 2));
	assert_true(json_is_true(json_object_get(ans, "ok")));
	json_decref(ans);
	ans = sim_ctl(p, "vhost_session_open", json_pack("{s:s}", "ctrlr", "nope"));
	assert_false(json_is_true(json_object_get(ans, "ok")));
	assert_non_null(strstr(json_string_value(json_object_get(ans, "error")), "nope"));
	json_decref(ans);
	ans = sim_ctl(p, "vhost_session_open",
		      json_pack("{s:s, s:i}", "ctrlr", "vhost7", "max_queues", 0));
	assert_non_null(strstr(json_string_value(json_object_get(ans, "error")), "max_queues"));
	json_decref(ans);
	ans = sim_ctl(p, "vhost_session_close",
		      json_pack("{s:s, s:i}", "ctrlr", "vhost7", "vid", 9));
	assert_non_null(strstr(json_string_value(json_object_get(ans, "error")), "session"));
	json_decref(ans);
	ans = sim_ctl(p, "vhost_session_open", json_object());
	assert_non_null(strstr(json_string_value(json_object_get(ans, "error")), "ctrlr"));
	json_decref(ans);

	ans = sim_rpc(p, "vhost_get_controllers", json_pack("{s:s}", "name", "vhost7"));
	s = json_array_get(json_object_get(json_array_get(sim_result(ans), 0), "sessions"), 0);
	assert_string_equal(json_string_value(json_object_get(s, "name")), "vhost7s0");
	assert_int_equal(json_integer_value(json_object_get(s, "max_queues")), 2);
	assert_true(json_is_true(json_object_get(s, "started")));
	json_decref(ans);

	/* the delete is held while the VM is connected, answered once it leaves */
	s = json_pack("{s:s}", "ctrlr", "vhost7");
	id = sim_rpc_send(p, "vhost_delete_controller", s);
	json_decref(s);
	assert_null(sim_rpc_wait(p, id, 300));
	assert_true(is_socket(p->vhost_dir, "vhost7"));
	ans = sim_ctl(p, "vhost_session_close", json_pack("{s:s}", "ctrlr", "vhost7"));
	assert_true(json_is_true(json_object_get(ans, "ok")));
	json_decref(ans);
	ans = sim_rpc_wait(p, id, 2000);
	assert_non_null(ans);
	assert_true(json_is_true(sim_result(ans)));
	json_decref(ans);
	assert_false(is_socket(p->vhost_dir, "vhost7"));
	rpc_err(p, "vhost_get_controllers", json_pack("{s:s}", "name", "vhost7"), -32603,
		"No such device");
}

static json_t *ctl_ok(struct simproc *p, const char *cmd, json_t *args)
{
	json_t *ans = sim_ctl(p, cmd, args);

	assert_non_null(ans);
	if (!json_is_true(json_object_get(ans, "ok")))
		fail_msg("%s failed: %s", cmd, json_string_value(json_object_get(ans, "error")));
	return ans;
}

static void expect_paths(struct simproc *p, const char *want)
{
	char *got = sim_io_paths(p);

	assert_string_equal(got, want);
	free(got);
}

/*
 * A session (a VM on the socket) opens an I/O channel on the controller's bdev, on the
 * controller's own thread (SPDK names it after the controller): its NVMe paths then show
 * in bdev_nvme_get_io_paths, through a raid as well. A controller without a VM holds none.
 */
static void test_session_channel_shows_paths(void **state)
{
	struct simproc *p = *state;
	json_t *ans;
	int vid0, vid1;

	assert_int_equal(sim_nvme_local_drive(p, "n0", "0000:01:00.0", 32768), 0);
	rpc_ok(p, "vhost_create_blk_controller", create_params("vhost7", "n0n1", NULL));
	expect_paths(p, "");

	ans = ctl_ok(p, "vhost_session_open", json_pack("{s:s}", "ctrlr", "vhost7"));
	vid0 = (int)json_integer_value(json_object_get(json_object_get(ans, "result"), "vid"));
	json_decref(ans);
	expect_paths(p, "vhost7:n0n1");
	/* a second VM shares the thread's channel; it stays until both left */
	ans = ctl_ok(p, "vhost_session_open", json_pack("{s:s}", "ctrlr", "vhost7"));
	vid1 = (int)json_integer_value(json_object_get(json_object_get(ans, "result"), "vid"));
	json_decref(ans);
	assert_int_not_equal(vid0, vid1);
	expect_paths(p, "vhost7:n0n1");
	json_decref(ctl_ok(p, "vhost_session_close",
			   json_pack("{s:s, s:i}", "ctrlr", "vhost7", "vid", vid0)));
	expect_paths(p, "vhost7:n0n1");
	json_decref(ctl_ok(p, "vhost_session_close",
			   json_pack("{s:s, s:i}", "ctrlr", "vhost7", "vid", vid1)));
	expect_paths(p, "");

	/* through a raid: the raid's channel on the controller's thread holds both members */
	assert_int_equal(sim_nvme_local_drive(p, "n1", "0000:02:00.0", 32768), 0);
	assert_int_equal(sim_nvme_local_drive(p, "n2", "0000:03:00.0", 32768), 0);
	rpc_ok(p, "bdev_raid_create",
	       json_pack("{s:s, s:s, s:i, s:[s, s]}", "name", "raid_n", "raid_level", "raid1",
			 "strip_size_kb", 0, "base_bdevs", "n1n1", "n2n1"));
	rpc_ok(p, "vhost_create_blk_controller", create_params("vhost8", "raid_n", NULL));
	expect_paths(p, "app_thread:n1n1*,n2n1*");
	json_decref(ctl_ok(p, "vhost_session_open", json_pack("{s:s}", "ctrlr", "vhost8")));
	expect_paths(p, "app_thread:n1n1*,n2n1*;vhost8:n1n1,n2n1");
	json_decref(ctl_ok(p, "vhost_session_close", json_pack("{s:s}", "ctrlr", "vhost8")));
	expect_paths(p, "app_thread:n1n1*,n2n1*");

	/* the bdev removed under a live session: its channel goes, the session stays */
	json_decref(ctl_ok(p, "vhost_session_open", json_pack("{s:s}", "ctrlr", "vhost7")));
	expect_paths(p, "app_thread:n1n1*,n2n1*;vhost7:n0n1");
	rpc_ok(p, "bdev_nvme_detach_controller", json_pack("{s:s}", "name", "n0"));
	expect_paths(p, "app_thread:n1n1*,n2n1*");
	assert_null(ctrlr_bdev(p, "vhost7"));
	json_decref(ctl_ok(p, "vhost_session_close", json_pack("{s:s}", "ctrlr", "vhost7")));
	/* and the raid deleted under a live session lets go of its members everywhere */
	json_decref(ctl_ok(p, "vhost_session_open", json_pack("{s:s}", "ctrlr", "vhost8")));
	expect_paths(p, "app_thread:n1n1*,n2n1*;vhost8:n1n1,n2n1");
	rpc_ok(p, "bdev_raid_delete", json_pack("{s:s}", "name", "raid_n"));
	expect_paths(p, "");
	/* the sim shuts down with a VM still connected to vhost8 (teardown) */
}

static int64_t rw_iops_of(struct simproc *p, const char *bdev)
{
	json_t *ans = sim_rpc(p, "bdev_get_bdevs", json_pack("{s:s}", "name", bdev));
	json_t *lim = json_object_get(json_array_get(sim_result(ans), 0), "assigned_rate_limits");
	int64_t v = json_integer_value(json_object_get(lim, "rw_ios_per_sec"));

	json_decref(ans);
	return v;
}

static json_t *iops(int64_t v)
{
	return json_pack("{s:s, s:I}", "name", "raid_1", "rw_ios_per_sec", (json_int_t)v);
}

/*
 * Limits set on a bdev without an I/O channel (a raid no VM uses yet) have no QoS thread:
 * every later change is refused (EAGAIN) and changes nothing, until a channel opens.
 */
static void test_qos_change_refused_until_a_channel_opens(void **state)
{
	struct simproc *p = *state;
	const char *eagain = "Failed to configure rate limit: Resource temporarily unavailable";
	json_t *ans;

	rpc_ok(p, "bdev_set_qos_limit", iops(10000));
	assert_int_equal(rw_iops_of(p, "raid_1"), 10000);
	rpc_err(p, "bdev_set_qos_limit", iops(20000), -32602, eagain);
	/* disabling is a change too */
	rpc_err(p, "bdev_set_qos_limit", iops(0), -32602, eagain);
	assert_int_equal(rw_iops_of(p, "raid_1"), 10000);
	/* the method's own checks still come first */
	rpc_err(p, "bdev_set_qos_limit", json_pack("{s:s}", "name", "raid_1"), -22,
		"No rate limits specified");
	/* a vhost controller alone opens no channel */
	rpc_ok(p, "vhost_create_blk_controller", create_params("vhost3", "raid_1", "0x2"));
	rpc_err(p, "bdev_set_qos_limit", iops(20000), -32602, eagain);
	/* a VM's session does: the limits get their thread and changes go through */
	ans = sim_ctl(p, "vhost_session_open", json_pack("{s:s}", "ctrlr", "vhost3"));
	assert_true(json_is_true(json_object_get(ans, "ok")));
	json_decref(ans);
	rpc_ok(p, "bdev_set_qos_limit", iops(20000));
	assert_int_equal(rw_iops_of(p, "raid_1"), 20000);
	rpc_ok(p, "bdev_set_qos_limit", iops(0));
	assert_int_equal(rw_iops_of(p, "raid_1"), 0);
	/* enabled again while the channel is open: the thread is there at once */
	rpc_ok(p, "bdev_set_qos_limit", iops(3000));
	rpc_ok(p, "bdev_set_qos_limit", iops(4000));
	assert_int_equal(rw_iops_of(p, "raid_1"), 4000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_list_delete_with_socket, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_controller_survives_bdev_deletion, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_blocks_deletion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_channel_shows_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qos_change_refused_until_a_channel_opens,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
