/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The executor's group commit: many workers' transitions at once, each caller told exactly how
 * its own went, every successful one stored, a stale one refused without holding back the rest.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reconcile/exec_commit.h"
#include "store/store.h"
#include "store_test_db.h"

#define WORKERS 32

struct worker {
	struct exec_commit *gc;
	struct store_transition t;
	int rc;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;

	w->rc = exec_commit_run(w->gc, &w->t);
	return NULL;
}

static void must(int r, const struct store_error *e)
{
	if (r < 0)
		fail_msg("store: %d %s", r, e->message);
}

static void test_group_commit(void **state)
{
	struct test_db db;
	struct store *s = NULL;
	struct store_error e = {0};
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static struct worker w[WORKERS];
	pthread_t th[WORKERS];
	int64_t mid[WORKERS];

	(void)state;
	test_db_create(&db);
	must(store_open(db.url, &s, &e), &e);
	struct store_host h = {0};
	snprintf(h.name, sizeof(h.name), "bm1");
	must(store_host_add(s, &h, NULL, &e), &e);
	for (int n = 1; n <= 2; n++) {
		struct store_node node = {.transport = STORE_TRANSPORT_TCP, .port = 4420};
		snprintf(node.name, sizeof(node.name), "n%d", n);
		snprintf(node.address, sizeof(node.address), "10.0.0.%d", n);
		must(store_node_add(s, &node, NULL, &e), &e);
	}
	for (int i = 0; i < WORKERS; i++) {
		struct store_volume v = {.size_bytes = 1 << 20, .block_size = 512};
		struct store_replica rep[2] = {0};
		char vm[32];
		int64_t vid;

		snprintf(v.name, sizeof(v.name), "v%d", i);
		for (int k = 0; k < 2; k++) {
			snprintf(rep[k].node_name, sizeof(rep[k].node_name), "n%d", k + 1);
			snprintf(rep[k].nqn, sizeof(rep[k].nqn), "nqn.2016-06.io.spdk:v%d-%d", i,
				 k);
		}
		must(store_volume_create(s, &v, rep, 2, &vid, &e), &e);
		snprintf(vm, sizeof(vm), "vm-%d", i);
		must(store_volume_attach(s, v.name, "bm1", vm, &mid[i], &e), &e);
	}

	struct exec_commit *gc = exec_commit_new(s, &lock);
	assert_non_null(gc);
	for (int i = 0; i < WORKERS; i++) {
		w[i] = (struct worker){
			.gc = gc,
			.t = {.kind = STORE_TRANSITION_MAPPING,
			      .id = mid[i],
			      .from = STORE_MAPPING_ASSIGNED,
			      .to = STORE_MAPPING_INITIALISED},
		};
		/* one worker is stale: its mapping is not where it thinks */
		if (i == 7)
			w[i].t.from = STORE_MAPPING_INITIALISED, w[i].t.to = STORE_MAPPING_ATTACHED;
		assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < WORKERS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < WORKERS; i++) {
		struct store_mapping m;

		must(store_mapping_get(s, mid[i], &m, &e), &e);
		if (i == 7) {
			assert_int_equal(w[i].rc, -ESTALE);
			assert_non_null(strstr(w[i].t.err.message, "is ASSIGNED, not INITIALISED"));
			assert_int_equal(m.state, STORE_MAPPING_ASSIGNED);
		} else {
			assert_int_equal(w[i].rc, 0);
			assert_int_equal(m.state, STORE_MAPPING_INITIALISED);
		}
	}
	exec_commit_free(gc);
	store_close(s);
	test_db_destroy(&db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_commit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
