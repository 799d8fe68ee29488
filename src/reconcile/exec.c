/* SPDX-License-Identifier: Apache-2.0 */
#include "reconcile/exec.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* A step that may run now: its chain reached its stage. */
struct ready {
	size_t chain;
	size_t step;
};

/* Per-chain progress, guarded by the run's lock. */
struct chain_run {
	size_t stage_begin; /* first step of the current stage */
	size_t stage_end;   /* one past its last step */
	size_t pending;	    /* steps of the stage not finished yet */
	size_t deps_left;   /* chains it runs after that have not finished */
	bool deps_failed;   /* one of them did not succeed */
	bool failed;
	bool finished;
};

struct run {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct exec_chain *chains;
	struct chain_run *cr;
	size_t n_chains;
	size_t n_finished;
	struct ready *queue; /* FIFO; every step is queued at most once */
	size_t q_head, q_tail;
	size_t *dep_start, *deps; /* dependents of chain i: deps[dep_start[i] .. dep_start[i+1]) */
	uint64_t now_ms;	  /* start of the run, for backoff windows */
	exec_step_fn fn;
	void *ctx;
	struct exec_backoff *backoff;
	volatile sig_atomic_t *stop;
};

static bool stopping(struct run *r)
{
	return r->stop && *r->stop;
}

static void chain_enter_stage(struct run *r, size_t ci, size_t begin);

/* Caller holds the lock. The last chain finished: every idle worker may leave. */
static void wake_if_done(struct run *r)
{
	if (r->n_finished == r->n_chains)
		pthread_cond_broadcast(&r->cond);
}

/* Caller holds the lock. Start a chain whose dependencies are met, or skip it. */
static void chain_start(struct run *r, size_t ci)
{
	struct exec_chain *c = &r->chains[ci];
	struct chain_run *cr = &r->cr[ci];

	if (r->backoff && !exec_backoff_due(r->backoff, c->key, r->now_ms)) {
		c->status = EXEC_CHAIN_BACKED_OFF;
	} else if (cr->deps_failed) {
		c->status = EXEC_CHAIN_SKIPPED;
	} else {
		chain_enter_stage(r, ci, 0);
		return;
	}
	cr->finished = true;
	r->n_finished++;
	/* a chain that did not run releases its dependents as not done */
	for (size_t k = r->dep_start[ci]; k < r->dep_start[ci + 1]; k++) {
		struct chain_run *d = &r->cr[r->deps[k]];

		d->deps_failed = true;
		if (--d->deps_left == 0)
			chain_start(r, r->deps[k]);
	}
	wake_if_done(r);
}

/* Caller holds the lock. Queue the stage starting at `begin`, or finish the chain. */
static void chain_enter_stage(struct run *r, size_t ci, size_t begin)
{
	struct exec_chain *c = &r->chains[ci];
	struct chain_run *cr = &r->cr[ci];

	if (begin >= c->n_steps || cr->failed || stopping(r)) {
		if (cr->failed) {
			c->status = EXEC_CHAIN_FAILED;
			if (r->backoff)
				exec_backoff_fail(r->backoff, c->key, util_now_ms());
		} else if (begin < c->n_steps) {
			c->status = EXEC_CHAIN_INTERRUPTED;
		} else {
			c->status = EXEC_CHAIN_DONE;
			if (r->backoff)
				exec_backoff_ok(r->backoff, c->key);
		}
		cr->finished = true;
		r->n_finished++;
		for (size_t k = r->dep_start[ci]; k < r->dep_start[ci + 1]; k++) {
			struct chain_run *d = &r->cr[r->deps[k]];

			if (c->status != EXEC_CHAIN_DONE)
				d->deps_failed = true;
			if (--d->deps_left == 0)
				chain_start(r, r->deps[k]);
		}
		wake_if_done(r);
		return;
	}
	size_t end = begin + 1;
	while (end < c->n_steps && c->steps[end].stage == c->steps[begin].stage)
		end++;
	cr->stage_begin = begin;
	cr->stage_end = end;
	cr->pending = end - begin;
	/* one idle worker per queued step: waking all of them for every step would have hundreds
	 * of threads race for each one */
	for (size_t s = begin; s < end; s++) {
		r->queue[r->q_tail++] = (struct ready){.chain = ci, .step = s};
		pthread_cond_signal(&r->cond);
	}
}

static void *worker(void *arg)
{
	struct run *r = arg;
	char errbuf[EXEC_ERR_MAX];

	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (r->q_head == r->q_tail && r->n_finished < r->n_chains)
			pthread_cond_wait(&r->cond, &r->lock);
		if (r->q_head == r->q_tail)
			break;
		struct ready rd = r->queue[r->q_head++];
		struct exec_chain *c = &r->chains[rd.chain];
		struct chain_run *cr = &r->cr[rd.chain];
		int rc = 0;

		/* A sibling of this stage failed, or stop came: do not start more work. */
		bool skip = cr->failed || stopping(r);
		pthread_mutex_unlock(&r->lock);
		errbuf[0] = '\0';
		if (!skip)
			rc = r->fn(r->ctx, c, &c->steps[rd.step], errbuf, sizeof(errbuf));
		pthread_mutex_lock(&r->lock);
		if (rc < 0 && !cr->failed) {
			cr->failed = true;
			c->failed_step = rd.step;
			c->rc = rc;
			util_strlcpy(c->error, errbuf[0] ? errbuf : strerror(-rc),
				     sizeof(c->error));
		}
		if (--cr->pending == 0)
			chain_enter_stage(r, rd.chain, cr->stage_end);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Dependents of every chain (counting sort by the chain they wait for) and each one's count. */
static int deps_index(struct run *r)
{
	size_t n = 0, *fill;

	for (size_t i = 0; i < r->n_chains; i++) {
		const struct exec_chain *c = &r->chains[i];

		for (size_t k = 0; k < c->n_after; k++) {
			/* one level only: no chain waited for waits itself, so no cycle */
			if (c->after[k] >= r->n_chains || r->chains[c->after[k]].n_after)
				return -EINVAL;
			r->dep_start[c->after[k] + 1]++;
			n++;
		}
		r->cr[i].deps_left = c->n_after;
	}
	for (size_t i = 0; i < r->n_chains; i++)
		r->dep_start[i + 1] += r->dep_start[i];
	r->deps = calloc(n ? n : 1, sizeof(*r->deps));
	fill = calloc(r->n_chains, sizeof(*fill));
	if (!r->deps || !fill) {
		free(fill);
		return -ENOMEM;
	}
	for (size_t i = 0; i < r->n_chains; i++)
		for (size_t k = 0; k < r->chains[i].n_after; k++) {
			size_t d = r->chains[i].after[k];

			r->deps[r->dep_start[d] + fill[d]++] = i;
		}
	free(fill);
	return 0;
}

int exec_run(struct exec_chain *chains, size_t n_chains, unsigned workers, exec_step_fn fn,
	     void *ctx, struct exec_backoff *backoff, volatile sig_atomic_t *stop)
{
	struct run r = {
		.chains = chains,
		.n_chains = n_chains,
		.fn = fn,
		.ctx = ctx,
		.backoff = backoff,
		.stop = stop,
	};
	size_t total = 0;
	int rc = 0;

	for (size_t i = 0; i < n_chains; i++) {
		chains[i].status = EXEC_CHAIN_INTERRUPTED;
		chains[i].failed_step = 0;
		chains[i].rc = 0;
		chains[i].error[0] = '\0';
		total += chains[i].n_steps;
	}
	if (n_chains == 0)
		return 0;
	r.cr = calloc(n_chains, sizeof(*r.cr));
	r.queue = calloc(total ? total : 1, sizeof(*r.queue));
	r.dep_start = calloc(n_chains + 1, sizeof(*r.dep_start));
	if (!r.cr || !r.queue || !r.dep_start) {
		rc = -ENOMEM;
		goto out;
	}
	rc = deps_index(&r);
	if (rc < 0)
		goto out;
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.cond, NULL);

	r.now_ms = util_now_ms();
	pthread_mutex_lock(&r.lock);
	for (size_t i = 0; i < n_chains; i++)
		if (r.cr[i].deps_left == 0 && !r.cr[i].finished)
			chain_start(&r, i);
	pthread_mutex_unlock(&r.lock);

	if (workers == 0)
		workers = 1;
	if (workers > total)
		workers = total ? (unsigned)total : 1;
	pthread_t *th = calloc(workers, sizeof(*th));
	unsigned started = 0;
	if (th) {
		for (; started < workers; started++)
			if (pthread_create(&th[started], NULL, worker, &r) != 0)
				break;
	}
	if (started == 0) {
		/* No thread at all: run on the caller's thread so the pass still happens. */
		worker(&r);
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);

	for (size_t i = 0; i < n_chains; i++)
		if (chains[i].status == EXEC_CHAIN_FAILED ||
		    chains[i].status == EXEC_CHAIN_INTERRUPTED)
			rc = -EAGAIN;
	pthread_cond_destroy(&r.cond);
	pthread_mutex_destroy(&r.lock);
out:
	free(r.cr);
	free(r.queue);
	free(r.dep_start);
	free(r.deps);
	return rc;
}
