/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's SPDK session against spdk-sim: start-up of a fresh --wait-for-rpc process
 * (pre-init replay from the saved config, framework init), a reconnect to a running one (no
 * replay), the saved config composed per subsystem, and a crash noticed without any call.
 */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/util.h"
#include "daemon/daemon_config.h"
#include "daemon/daemon_spdk.h"
#include "rpc/rpc.h"

static char dir[64];
static pid_t sim_pid;

static void sim_start(const char *sock, bool wait_for_rpc)
{
	const char *bin = getenv("SPDK_SIM_BIN");
	assert_non_null(bin);
	sim_pid = fork();
	assert_true(sim_pid >= 0);
	if (sim_pid == 0) {
		if (wait_for_rpc)
			execl(bin, bin, "-r", sock, "--wait-for-rpc", (char *)NULL);
		else
			execl(bin, bin, "-r", sock, (char *)NULL);
		_exit(127);
	}
	/*
	 * The socket file appears at bind(), before listen(): wait until a connection is taken,
	 * not until the file exists. The bound is generous: a sanitised sim on a loaded machine.
	 */
	uint64_t end = util_now_ms() + 60000;
	for (;;) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool up;

		assert_true(fd >= 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		up = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(fd);
		if (up)
			return;
		assert_true(util_now_ms() < end);
		util_sleep_ms(10);
	}
}

static void sim_kill(void)
{
	kill(sim_pid, SIGKILL);
	waitpid(sim_pid, NULL, 0);
}

static json_t *call(struct daemon_spdk *s, const char *method, json_t *params)
{
	struct rpc_error err;
	char *p = params ? json_dumps(params, JSON_COMPACT) : NULL, *res = NULL;
	json_t *v;

	json_decref(params);
	assert_int_equal(rpc_call_raw(daemon_spdk_rpc(s), method, p, 5000, &res, &err), 0);
	free(p);
	v = json_loads(res, JSON_DECODE_ANY, NULL);
	free(res);
	return v;
}

static void test_fresh_start_replays_preinit(void **state)
{
	struct daemon_config cfg;
	struct daemon_spdk *s;
	char err[512] = "", saved[128];
	bool was_init = true;

	daemon_config_defaults(&cfg);
	snprintf(cfg.spdk_sock, sizeof(cfg.spdk_sock), "%s/spdk.sock", dir);
	snprintf(saved, sizeof(saved), "%s/saved.json", dir);
	cfg.rpc_timeout_ms = 5000;
	/* a saved config whose pre-init part sets a distinctive raid option */
	const char *doc = "{\"subsystems\":[{\"subsystem\":\"bdev\",\"config\":["
			  "{\"method\":\"bdev_raid_set_options\",\"params\":"
			  "{\"process_window_size_kb\":2048}},"
			  "{\"method\":\"bdev_raid_create\",\"params\":{\"name\":\"raid_9\","
			  "\"raid_level\":\"raid1\",\"base_bdevs\":[\"a\",\"b\"]}}]}]}";
	assert_int_equal(util_write_file_atomic(saved, doc, strlen(doc), 0644), 0);

	sim_start(cfg.spdk_sock, true);
	assert_int_equal(daemon_spdk_open(&cfg, &s, err, sizeof(err)), 0);
	assert_int_equal(daemon_spdk_start(s, saved, &was_init, err, sizeof(err)), 0);
	assert_false(was_init);
	/* runtime methods work now; the replayed option is live; the raid (post-init) was not */
	json_t *cfgj = call(s, "framework_get_config", json_pack("{s:s}", "name", "bdev"));
	char *text = json_dumps(cfgj, JSON_COMPACT);
	assert_non_null(strstr(text, "\"process_window_size_kb\":2048"));
	assert_null(strstr(text, "raid_9"));
	free(text);
	json_decref(cfgj);

	/* the saved config is composed per subsystem and written atomically */
	assert_int_equal(daemon_spdk_save_config(s, saved, err, sizeof(err)), 0);
	json_t *back = json_load_file(saved, 0, NULL);
	assert_non_null(back);
	assert_true(json_array_size(json_object_get(back, "subsystems")) > 3);
	json_decref(back);
	daemon_spdk_close(s);

	/* a second session on the running process: already initialised, nothing replayed */
	assert_int_equal(daemon_spdk_open(&cfg, &s, err, sizeof(err)), 0);
	assert_int_equal(daemon_spdk_start(s, saved, &was_init, err, sizeof(err)), 0);
	assert_true(was_init);
	assert_false(daemon_spdk_closed(s));
	/* SPDK dies: the session notices without a call in flight */
	sim_kill();
	uint64_t end = util_now_ms() + 2000;
	while (!daemon_spdk_closed(s) && util_now_ms() < end)
		util_sleep_ms(5);
	assert_true(daemon_spdk_closed(s));
	/* and never reconnects by itself: a new SPDK on the same path is not reached */
	sim_start(cfg.spdk_sock, true);
	struct rpc_error rerr;
	char *res = NULL;
	assert_int_equal(
		rpc_call_raw(daemon_spdk_rpc(s), "spdk_get_version", NULL, 2000, &res, &rerr),
		-ECONNRESET);
	daemon_spdk_close(s);
	sim_kill();
}

static void test_missing_socket_is_named(void **state)
{
	struct daemon_config cfg;
	struct daemon_spdk *s = NULL;
	char err[512] = "";

	daemon_config_defaults(&cfg);
	snprintf(cfg.spdk_sock, sizeof(cfg.spdk_sock), "%s/absent.sock", dir);
	assert_int_equal(daemon_spdk_open(&cfg, &s, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "absent.sock"));
	assert_null(s);
}

static void test_bad_saved_config_is_named(void **state)
{
	struct daemon_config cfg;
	struct daemon_spdk *s;
	char err[512] = "", saved[128];

	daemon_config_defaults(&cfg);
	snprintf(cfg.spdk_sock, sizeof(cfg.spdk_sock), "%s/spdk2.sock", dir);
	snprintf(saved, sizeof(saved), "%s/broken.json", dir);
	assert_int_equal(util_write_file_atomic(saved, "{\"subsystems\": [", 16, 0644), 0);
	sim_start(cfg.spdk_sock, true);
	assert_int_equal(daemon_spdk_open(&cfg, &s, err, sizeof(err)), 0);
	assert_int_equal(daemon_spdk_start(s, saved, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "broken.json"));
	daemon_spdk_close(s);
	sim_kill();
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/de-spdk-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_start_replays_preinit),
		cmocka_unit_test(test_missing_socket_is_named),
		cmocka_unit_test(test_bad_saved_config_is_named),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
