/* SPDX-License-Identifier: Apache-2.0 */
#include "reconcile/exec_commit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

struct commit_item {
	struct store_transition *t;
	bool done;
	struct commit_item *next;
};

struct exec_commit {
	struct store *store;
	pthread_mutex_t *store_lock;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct commit_item *queue; /* waiting for the next commit */
	bool committing;
};

struct exec_commit *exec_commit_new(struct store *store, pthread_mutex_t *store_lock)
{
	struct exec_commit *gc = calloc(1, sizeof(*gc));

	if (!gc)
		return NULL;
	gc->store = store;
	gc->store_lock = store_lock;
	pthread_mutex_init(&gc->mu, NULL);
	pthread_cond_init(&gc->cond, NULL);
	return gc;
}

void exec_commit_free(struct exec_commit *gc)
{
	if (!gc)
		return;
	pthread_cond_destroy(&gc->cond);
	pthread_mutex_destroy(&gc->mu);
	free(gc);
}

/* Commit the taken queue in one transaction (called without gc->mu). */
static void commit_batch(struct exec_commit *gc, struct commit_item *batch)
{
	struct store_transition *v;
	struct store_error err = {0};
	size_t n = 0, i = 0;
	int r;

	for (struct commit_item *it = batch; it; it = it->next)
		n++;
	v = calloc(n, sizeof(*v));
	if (!v) {
		for (struct commit_item *it = batch; it; it = it->next) {
			it->t->result = -ENOMEM;
			it->t->err =
				(struct store_error){.err = -ENOMEM, .message = "out of memory"};
		}
		return;
	}
	for (struct commit_item *it = batch; it; it = it->next)
		v[i++] = *it->t;
	pthread_mutex_lock(gc->store_lock);
	r = store_transitions_apply(gc->store, v, n, &err);
	pthread_mutex_unlock(gc->store_lock);
	i = 0;
	for (struct commit_item *it = batch; it; it = it->next, i++) {
		if (r < 0) {
			it->t->result = r;
			it->t->err = err;
		} else {
			it->t->result = v[i].result;
			it->t->err = v[i].err;
		}
	}
	free(v);
}

int exec_commit_run(struct exec_commit *gc, struct store_transition *t)
{
	struct commit_item me = {.t = t};

	pthread_mutex_lock(&gc->mu);
	me.next = gc->queue;
	gc->queue = &me;
	while (!me.done) {
		if (gc->committing) {
			pthread_cond_wait(&gc->cond, &gc->mu);
			continue;
		}
		/* No commit in progress: this caller commits everything queued so far. */
		struct commit_item *batch = gc->queue;
		gc->queue = NULL;
		gc->committing = true;
		pthread_mutex_unlock(&gc->mu);
		commit_batch(gc, batch);
		pthread_mutex_lock(&gc->mu);
		for (struct commit_item *it = batch; it; it = it->next)
			it->done = true; /* `it` may be freed by its owner once done and woken */
		gc->committing = false;
		pthread_cond_broadcast(&gc->cond);
	}
	pthread_mutex_unlock(&gc->mu);
	return t->result;
}
