/* SPDX-License-Identifier: Apache-2.0 */
/*
 * de-floor: the minimal hand-written client diskengine's daemon is measured against. It knows
 * nothing but a list of stages (each a list of JSON-RPC calls) and runs them in order, every call
 * of a stage in flight at once on one connection (answers matched by id), the next stage when the
 * whole stage answered. Optionally it first waits for SPDK's socket and does the daemon's
 * --wait-for-rpc start sequence (pre-init replay of a saved config, framework_start_init).
 *
 *   de-floor run [--wait-socket] [--preinit SAVED_CONFIG] [--t0-ns NS] SOCK STAGES.json
 *   de-floor watch SOCK N [--t0-ns NS]   wait until N vhost controllers serve a bdev
 *   de-floor empty SOCK [--t0-ns NS]     wait until SPDK holds no vhost, raid or controller
 *
 * STAGES.json: [{"name": "attach", "calls": [{"method": "...", "params": {...}}, ...]}, ...].
 * Every milestone is printed as "NAME MS" (ms since --t0-ns, a CLOCK_REALTIME time in ns, or
 * since the tool started) and, for watch/empty, "at_ns NS" (CLOCK_REALTIME).
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "rpc/rpc.h"
#include "rpc/spdk.h"

#define FLOOR_TIMEOUT_MS 30000
#define FLOOR_MAX_THREADS 512

static uint64_t g_t0_ns;

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void milestone(const char *name)
{
	printf("%s %.1f\n", name, (double)(wall_ns() - g_t0_ns) / 1e6);
	fflush(stdout);
}

struct call {
	struct rpc_client *rpc;
	const char *method;
	char *params;
	int rc;
	struct rpc_error err;
};

static void *call_run(void *arg)
{
	struct call *c = arg;
	char *res = NULL;

	c->rc = rpc_call_raw(c->rpc, c->method, c->params, FLOOR_TIMEOUT_MS, &res, &c->err);
	free(res);
	return NULL;
}

/* Every call of one stage in flight (one thread each, up to FLOOR_MAX_THREADS at once). */
static int stage_run(struct rpc_client *rpc, json_t *calls)
{
	size_t n = json_array_size(calls);
	struct call *cs = calloc(n ? n : 1, sizeof(*cs));
	pthread_t *th = calloc(n ? n : 1, sizeof(*th));
	int rc = 0;

	if (!cs || !th) {
		free(cs);
		free(th);
		return -ENOMEM;
	}
	for (size_t base = 0; base < n; base += FLOOR_MAX_THREADS) {
		size_t end = base + FLOOR_MAX_THREADS < n ? base + FLOOR_MAX_THREADS : n;
		for (size_t i = base; i < end; i++) {
			json_t *c = json_array_get(calls, i);
			json_t *p = json_object_get(c, "params");
			cs[i].rpc = rpc;
			cs[i].method = json_string_value(json_object_get(c, "method"));
			cs[i].params = p ? json_dumps(p, JSON_COMPACT) : NULL;
			if (!cs[i].method || pthread_create(&th[i], NULL, call_run, &cs[i]) != 0) {
				fprintf(stderr, "de-floor: call %zu: no method or no thread\n", i);
				exit(1);
			}
		}
		for (size_t i = base; i < end; i++) {
			pthread_join(th[i], NULL);
			if (cs[i].rc < 0 && !rc) {
				fprintf(stderr, "de-floor: %s %s: %s\n", cs[i].method,
					cs[i].params ? cs[i].params : "", cs[i].err.message);
				rc = cs[i].rc;
			}
			free(cs[i].params);
		}
	}
	free(cs);
	free(th);
	return rc;
}

static struct rpc_client *connect_wait(const char *sock, bool wait)
{
	struct rpc_client_opts o = {.timeout_ms = FLOOR_TIMEOUT_MS, .connect_timeout_ms = 1};
	struct rpc_client *rpc = NULL;
	struct rpc_error e = {0};
	uint64_t end = util_now_ms() + FLOOR_TIMEOUT_MS;

	while (rpc_client_open(sock, &o, &rpc, &e) < 0) {
		if (!wait || util_now_ms() > end) {
			fprintf(stderr, "de-floor: %s: %s\n", sock, e.message);
			exit(1);
		}
		usleep(1000);
	}
	return rpc;
}

/* The daemon's --wait-for-rpc sequence: pre-init replay, framework_start_init. */
static void framework_start(struct rpc_client *rpc, const char *preinit)
{
	struct rpc_strv cur = {0};
	struct rpc_error e = {0};
	char *doc = NULL;
	size_t len;

	if (rpc_get_methods(rpc, true, &cur, &e) < 0 ||
	    !rpc_strv_has(&cur, "framework_start_init")) {
		rpc_strv_free(&cur);
		return;
	}
	if (preinit && util_read_file(preinit, &doc, &len) == 0) {
		rpc_config_replay_preinit(rpc, doc, &cur, NULL, NULL, NULL, &e);
		free(doc);
	}
	rpc_strv_free(&cur);
	if (rpc_framework_start_init(rpc, &e) < 0 || rpc_framework_wait_init(rpc, &e) < 0) {
		fprintf(stderr, "de-floor: framework start: %s\n", e.message);
		exit(1);
	}
}

static int cmd_run(const char *sock, const char *stages_path, bool wait, const char *preinit)
{
	json_error_t jerr;
	json_t *stages = json_load_file(stages_path, 0, &jerr);
	struct rpc_client *rpc;
	size_t i;
	json_t *st;

	if (!json_is_array(stages)) {
		fprintf(stderr, "de-floor: %s: %s\n", stages_path, jerr.text);
		return 1;
	}
	rpc = connect_wait(sock, wait);
	milestone("socket");
	framework_start(rpc, preinit);
	milestone("framework");
	json_array_foreach(stages, i, st)
	{
		if (stage_run(rpc, json_object_get(st, "calls")) < 0)
			return 1;
		milestone(json_string_value(json_object_get(st, "name")));
	}
	rpc_client_close(rpc);
	json_decref(stages);
	return 0;
}

/* Count of what a list call returns, with an optional filter on vhost controllers. */
static long list_len(struct rpc_client *rpc, const char *method, const char *params, bool served)
{
	struct rpc_error e = {0};
	char *res = NULL;
	json_t *a, *v;
	size_t i;
	long n = 0;

	if (rpc_call_raw(rpc, method, params, FLOOR_TIMEOUT_MS, &res, &e) < 0)
		return -1;
	a = json_loads(res, 0, NULL);
	free(res);
	json_array_foreach(a, i, v)
	{
		json_t *blk = json_object_get(json_object_get(v, "backend_specific"), "block");
		if (!served || json_is_string(json_object_get(blk, "bdev")))
			n++;
	}
	json_decref(a);
	return n;
}

/* Poll every 2 ms (one list call at a time: light next to what is measured). */
static int cmd_watch(const char *sock, long want, bool empty)
{
	struct rpc_client_opts o = {.timeout_ms = FLOOR_TIMEOUT_MS, .connect_timeout_ms = 1};
	struct rpc_client *rpc = NULL;
	uint64_t end = util_now_ms() + 120000;

	while (util_now_ms() < end) {
		struct rpc_error e = {0};
		if (!rpc && rpc_client_open(sock, &o, &rpc, &e) < 0) {
			rpc = NULL;
			usleep(2000);
			continue;
		}
		bool done;
		if (empty)
			done = list_len(rpc, "vhost_get_controllers", NULL, false) == 0 &&
			       list_len(rpc, "bdev_raid_get_bdevs", "{\"category\":\"all\"}",
					false) == 0 &&
			       list_len(rpc, "bdev_nvme_get_controllers", NULL, false) == 0;
		else
			done = list_len(rpc, "vhost_get_controllers", NULL, true) >= want;
		if (done) {
			printf("at_ns %llu\n", (unsigned long long)wall_ns());
			milestone(empty ? "empty" : "vhost");
			rpc_client_close(rpc);
			return 0;
		}
		if (rpc_client_closed(rpc)) {
			rpc_client_close(rpc);
			rpc = NULL;
		}
		usleep(2000);
	}
	fprintf(stderr, "de-floor: timed out\n");
	return 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: de-floor run [--wait-socket] [--preinit CONFIG] [--t0-ns NS] SOCK "
			"STAGES.json\n"
			"       de-floor watch [--t0-ns NS] SOCK N\n"
			"       de-floor empty [--t0-ns NS] SOCK\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *preinit = NULL, *pos[3] = {0};
	bool wait = false;
	int npos = 0;

	g_t0_ns = wall_ns();
	if (argc < 2)
		usage();
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--wait-socket") == 0)
			wait = true;
		else if (strcmp(argv[i], "--preinit") == 0 && i + 1 < argc)
			preinit = argv[++i];
		else if (strcmp(argv[i], "--t0-ns") == 0 && i + 1 < argc)
			g_t0_ns = strtoull(argv[++i], NULL, 10);
		else if (npos < 3)
			pos[npos++] = argv[i];
		else
			usage();
	}
	if (strcmp(argv[1], "run") == 0 && npos == 2)
		return cmd_run(pos[0], pos[1], wait, preinit);
	if (strcmp(argv[1], "watch") == 0 && npos == 2)
		return cmd_watch(pos[0], strtol(pos[1], NULL, 10), false);
	if (strcmp(argv[1], "empty") == 0 && npos == 1)
		return cmd_watch(pos[0], 0, true);
	usage();
	return 2;
}
