/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/util.h"
#include "reconcile/exec.h"

/* Records the order steps ran in and lets a step wait for another one. */
struct trace {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int order[64];
	int n;
	int in_flight, max_in_flight;
	int fail_id;  /* step id that fails, -1 none */
	int wait_for; /* step id 0 waits until this id has run (-1 none) */
};

static int step_fn(void *ctx, const struct exec_chain *chain, const struct exec_step *step,
		   char *errbuf, size_t errlen)
{
	struct trace *t = ctx;
	int id = (int)(intptr_t)step->arg;

	pthread_mutex_lock(&t->lock);
	t->in_flight++;
	if (t->in_flight > t->max_in_flight)
		t->max_in_flight = t->in_flight;
	if (id == 0 && t->wait_for >= 0) {
		uint64_t deadline = util_now_ms() + 2000;
		for (;;) {
			bool seen = false;
			for (int i = 0; i < t->n; i++)
				seen |= t->order[i] == t->wait_for;
			if (seen || util_now_ms() > deadline)
				break;
			pthread_mutex_unlock(&t->lock);
			util_sleep_ms(2);
			pthread_mutex_lock(&t->lock);
		}
	}
	t->order[t->n++] = id;
	t->in_flight--;
	pthread_mutex_unlock(&t->lock);
	if (id == t->fail_id) {
		snprintf(errbuf, errlen, "%s: step %d refused", chain->key, id);
		return -EIO;
	}
	return 0;
}

static void trace_init(struct trace *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->fail_id = -1;
	t->wait_for = -1;
}

static int pos(struct trace *t, int id)
{
	for (int i = 0; i < t->n; i++)
		if (t->order[i] == id)
			return i;
	return -1;
}

#define STEP(stage, id)                                                                            \
	{                                                                                          \
		(stage), (void *)(intptr_t)(id)                                                    \
	}

/* Steps of one chain run in order; a blocked chain does not hold up another. */
static void test_order_and_independence(void **state)
{
	struct trace t;
	trace_init(&t);
	t.wait_for = 12; /* step 0 (chain A) waits until chain B's last step ran */
	struct exec_step a[] = {STEP(0, 0), STEP(1, 1), STEP(2, 2)};
	struct exec_step b[] = {STEP(0, 10), STEP(1, 11), STEP(2, 12)};
	struct exec_chain c[] = {{.key = "volume 1", .steps = a, .n_steps = 3},
				 {.key = "volume 2", .steps = b, .n_steps = 3}};

	assert_int_equal(exec_run(c, 2, 4, step_fn, &t, NULL, NULL), 0);
	assert_int_equal(t.n, 6);
	assert_true(pos(&t, 0) < pos(&t, 1));
	assert_true(pos(&t, 1) < pos(&t, 2));
	assert_true(pos(&t, 10) < pos(&t, 11));
	assert_true(pos(&t, 11) < pos(&t, 12));
	/* chain B finished while A's first step was still waiting */
	assert_true(pos(&t, 12) < pos(&t, 0));
	assert_int_equal(c[0].status, EXEC_CHAIN_DONE);
	assert_int_equal(c[1].status, EXEC_CHAIN_DONE);
}

/* Steps sharing a stage run together; the next stage waits for all of them. */
static void test_stage_concurrency(void **state)
{
	struct trace t;
	trace_init(&t);
	t.wait_for = 1; /* step 0 waits for its sibling: only possible if both are in flight */
	struct exec_step a[] = {STEP(0, 0), STEP(0, 1), STEP(1, 2)};
	struct exec_chain c[] = {{.key = "volume 1", .steps = a, .n_steps = 3}};

	assert_int_equal(exec_run(c, 1, 4, step_fn, &t, NULL, NULL), 0);
	assert_int_equal(t.max_in_flight, 2);
	assert_int_equal(pos(&t, 2), 2);
}

/* A failure stops its chain only, and the backoff window then skips that chain. */
static void test_failure_and_backoff(void **state)
{
	struct trace t;
	trace_init(&t);
	t.fail_id = 1;
	struct exec_step a[] = {STEP(0, 0), STEP(1, 1), STEP(2, 2)};
	struct exec_step b[] = {STEP(0, 10), STEP(1, 11)};
	struct exec_chain c[] = {{.key = "volume 1", .steps = a, .n_steps = 3},
				 {.key = "volume 2", .steps = b, .n_steps = 2}};
	struct exec_backoff *bo = exec_backoff_new(60000, 600000);

	assert_int_equal(exec_run(c, 2, 2, step_fn, &t, bo, NULL), -EAGAIN);
	assert_int_equal(c[0].status, EXEC_CHAIN_FAILED);
	assert_int_equal(c[0].failed_step, 1);
	assert_int_equal(c[0].rc, -EIO);
	assert_string_equal(c[0].error, "volume 1: step 1 refused");
	assert_int_equal(pos(&t, 2), -1);
	assert_int_equal(c[1].status, EXEC_CHAIN_DONE);
	assert_int_equal(exec_backoff_failures(bo, "volume 1"), 1);

	trace_init(&t);
	assert_int_equal(exec_run(c, 2, 2, step_fn, &t, bo, NULL), 0);
	assert_int_equal(c[0].status, EXEC_CHAIN_BACKED_OFF);
	assert_int_equal(c[1].status, EXEC_CHAIN_DONE);
	assert_int_equal(pos(&t, 0), -1);
	exec_backoff_free(bo);
}

static void test_backoff_doubles_and_caps(void **state)
{
	struct exec_backoff *bo = exec_backoff_new(100, 350);

	assert_true(exec_backoff_due(bo, "x", 0));
	assert_int_equal(exec_backoff_fail(bo, "x", 1000), 100);
	assert_false(exec_backoff_due(bo, "x", 1099));
	assert_true(exec_backoff_due(bo, "x", 1100));
	assert_int_equal(exec_backoff_fail(bo, "x", 1100), 200);
	assert_int_equal(exec_backoff_fail(bo, "x", 1300), 350);
	assert_int_equal(exec_backoff_fail(bo, "x", 1650), 350);
	assert_true(exec_backoff_due(bo, "y", 1650));
	exec_backoff_ok(bo, "x");
	assert_true(exec_backoff_due(bo, "x", 1651));
	assert_int_equal(exec_backoff_failures(bo, "x"), 0);
	exec_backoff_free(bo);
}

/* Once stop is set no new step starts and unfinished chains say so. */
static void test_stop(void **state)
{
	struct trace t;
	trace_init(&t);
	volatile sig_atomic_t stop = 1;
	struct exec_step a[] = {STEP(0, 0), STEP(1, 1)};
	struct exec_chain c[] = {{.key = "volume 1", .steps = a, .n_steps = 2}};

	assert_int_equal(exec_run(c, 1, 2, step_fn, &t, NULL, &stop), -EAGAIN);
	assert_int_equal(c[0].status, EXEC_CHAIN_INTERRUPTED);
	assert_int_equal(t.n, 0);
}

/*
 * A chain that runs after others starts once they all succeeded (its steps come after theirs),
 * and is skipped, untouched, when one failed or was backed off; chains that do not wait for the
 * failed one are not held up.
 */
static void test_after(void **state)
{
	struct trace t;
	trace_init(&t);
	struct exec_step pa[] = {STEP(0, 0)}, pb[] = {STEP(0, 1)}, pc[] = {STEP(0, 2)};
	struct exec_step v1[] = {STEP(0, 10), STEP(1, 11)}, v2[] = {STEP(0, 20)};
	/* indices are into c[]: volume 1 after paths a and b, volume 2 after path c */
	const size_t after1[] = {1, 2}, after2[] = {3};
	struct exec_chain c[] = {
		{.key = "volume 1", .steps = v1, .n_steps = 2, .after = after1, .n_after = 2},
		{.key = "path a", .steps = pa, .n_steps = 1},
		{.key = "path b", .steps = pb, .n_steps = 1},
		{.key = "path c", .steps = pc, .n_steps = 1},
		{.key = "volume 2", .steps = v2, .n_steps = 1, .after = after2, .n_after = 1},
	};
	struct exec_backoff *bo = exec_backoff_new(60000, 600000);

	assert_int_equal(exec_run(c, 5, 4, step_fn, &t, bo, NULL), 0);
	assert_int_equal(t.n, 6);
	assert_true(pos(&t, 0) < pos(&t, 10) && pos(&t, 1) < pos(&t, 10));
	assert_true(pos(&t, 10) < pos(&t, 11));
	assert_true(pos(&t, 2) < pos(&t, 20));
	for (int i = 0; i < 5; i++)
		assert_int_equal(c[i].status, EXEC_CHAIN_DONE);

	/* path b fails: volume 1 is skipped, volume 2 still runs */
	trace_init(&t);
	t.fail_id = 1;
	assert_int_equal(exec_run(c, 5, 4, step_fn, &t, bo, NULL), -EAGAIN);
	assert_int_equal(c[2].status, EXEC_CHAIN_FAILED);
	assert_int_equal(c[0].status, EXEC_CHAIN_SKIPPED);
	assert_int_equal(pos(&t, 10), -1);
	assert_int_equal(c[4].status, EXEC_CHAIN_DONE);
	assert_int_equal(exec_backoff_failures(bo, "volume 1"), 0);

	/* path b backed off: volume 1 skipped again, nothing of it runs */
	trace_init(&t);
	assert_int_equal(exec_run(c, 5, 1, step_fn, &t, bo, NULL), 0);
	assert_int_equal(c[2].status, EXEC_CHAIN_BACKED_OFF);
	assert_int_equal(c[0].status, EXEC_CHAIN_SKIPPED);
	assert_int_equal(pos(&t, 10), -1);
	exec_backoff_free(bo);

	/* a chain waited for may not wait itself (no cycles), nor an index out of range */
	const size_t self[] = {0}, far[] = {9};
	struct exec_chain d[] = {{.key = "x", .steps = pa, .n_steps = 1, .after = self, .n_after = 1}};
	assert_int_equal(exec_run(d, 1, 1, step_fn, &t, NULL, NULL), -EINVAL);
	d[0].after = far;
	assert_int_equal(exec_run(d, 1, 1, step_fn, &t, NULL, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_independence),
		cmocka_unit_test(test_stage_concurrency),
		cmocka_unit_test(test_failure_and_backoff),
		cmocka_unit_test(test_backoff_doubles_and_caps),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_after),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
