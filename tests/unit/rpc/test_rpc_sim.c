/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client and typed calls against spdk-sim ($SPDK_SIM_BIN): pre-init replay, init,
 * save_config, many concurrent calls on one connection, and a crash + restart of "SPDK".
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>

#include "common/util.h"
#include "rpc/spdk.h"

static char dir[64];
static char sock[128];
static pid_t sim_pid = -1; /* killed by the teardown if a check fails */

static pid_t sim_start(void)
{
	const char *bin = getenv("SPDK_SIM_BIN");
	pid_t pid;

	assert_non_null(bin);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl(bin, bin, "-r", sock, "--wait-for-rpc", "-S", dir, (char *)NULL);
		_exit(127);
	}
	sim_pid = pid;
	return pid;
}

static void sim_kill(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	sim_pid = -1;
}

struct caller {
	struct rpc_client *c;
	int i;
	int bad;
};

static void *caller(void *arg)
{
	struct caller *k = arg;
	struct rpc_error err;

	for (int n = 0; n < 20; n++) {
		struct rpc_version v;
		struct rpc_bdev_list l;
		char name[32];

		snprintf(name, sizeof(name), "nope%d", k->i);
		/* SPDK holds this one for 20 ms, so later answers overtake it. */
		if (rpc_bdev_get_bdev(k->c, name, 20, &l, &err) != -ETIMEDOUT || err.code != -110)
			k->bad++;
		if (rpc_spdk_get_version(k->c, &v, &err) != 0) {
			k->bad++;
			continue;
		}
		k->bad += strcmp(v.version, "SPDK v25.09 git sha1 a2f2a0b279") != 0;
		rpc_version_free(&v);
	}
	return NULL;
}

/*
 * config_saved.json without framework_set_scheduler, which spdk-sim does not model (it answers
 * -32603); everything else in the pre-init set is replayed as recorded.
 */
static char *saved_config_for_sim(const char *path)
{
	json_t *doc = json_load_file(path, 0, NULL);
	json_t *subs = json_object_get(doc, "subsystems");
	char *text;

	assert_non_null(doc);
	for (size_t i = 0; i < json_array_size(subs); i++) {
		json_t *cfg = json_object_get(json_array_get(subs, i), "config");

		for (size_t j = json_array_size(cfg); j-- > 0;) {
			const char *m = json_string_value(
				json_object_get(json_array_get(cfg, j), "method"));

			if (m && strcmp(m, "framework_set_scheduler") == 0)
				json_array_remove(cfg, j);
		}
	}
	text = json_dumps(doc, 0);
	json_decref(doc);
	return text;
}

static void test_sim(void **state)
{
	struct rpc_client_opts o = {.timeout_ms = 5000, .connect_timeout_ms = 5000};
	const char *conf = getenv("CONFORMANCE_DIR");
	struct rpc_client *c = NULL;
	struct rpc_error err;
	struct rpc_strv m;
	char path[512], *saved = NULL, *doc = NULL;
	struct caller k[16];
	pthread_t t[16];
	pid_t pid;

	snprintf(path, sizeof(path), "%s/config_saved.json", conf);
	saved = saved_config_for_sim(path);
	pid = sim_start();
	assert_int_equal(rpc_client_open(sock, &o, &c, &err), 0);
	assert_int_equal(rpc_client_generation(c), 1);

	assert_int_equal(rpc_get_methods(c, true, &m, &err), 0);
	assert_true(m.n > 0);
	rpc_strv_free(&m);
	if (rpc_config_replay_preinit(c, saved, NULL, NULL, NULL, NULL, &err) < 0)
		fail_msg("pre-init replay: %s", rpc_error_str(&err, path, sizeof(path)));
	assert_int_equal(rpc_framework_start_init(c, &err), 0);
	assert_int_equal(rpc_framework_wait_init(c, &err), 0);
	/* Startup-only after init: SPDK's -1 with its sentence. */
	assert_int_equal(rpc_framework_start_init(c, &err), -EPERM);
	assert_int_equal(err.code, -1);
	assert_int_equal(rpc_save_config(c, &doc, &err), 0);
	assert_non_null(strstr(doc, "\"subsystem\": \"bdev\""));
	free(doc);

	for (int i = 0; i < 16; i++) {
		k[i] = (struct caller){.c = c, .i = i};
		assert_int_equal(pthread_create(&t[i], NULL, caller, &k[i]), 0);
	}
	for (int i = 0; i < 16; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(k[i].bad, 0);
	}

	/* SPDK crashes and comes back empty, in the startup state. */
	sim_kill(pid);
	pid = sim_start();
	assert_int_equal(rpc_get_methods(c, true, &m, &err), 0);
	rpc_strv_free(&m);
	assert_int_equal(rpc_client_generation(c), 2);
	assert_int_equal(rpc_framework_start_init(c, &err), 0);
	rpc_client_close(c);
	sim_kill(pid);
	free(saved);
}

static int sim_teardown(void **state)
{
	if (sim_pid > 0)
		sim_kill(sim_pid);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_sim, sim_teardown),
	};
	int r;

	snprintf(dir, sizeof(dir), "/tmp/de-rpc-sim.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(sock, sizeof(sock), "%s/spdk.sock", dir);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(sock);
	rmdir(dir);
	return r;
}
