/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_RECONCILE_EXEC_H
#define DISKENGINE_RECONCILE_EXEC_H

/*
 * The executor's scheduling core: runs chains of steps with a pool of worker threads.
 *
 * A chain is everything one object (a volume) must do this pass, strictly in order. Steps of
 * one chain that carry the same stage number are independent (the two replicas' attaches) and
 * run together; the next stage starts only when the whole stage succeeded. A chain may name
 * chains it runs after (a volume after its replicas' attaches of the same pass): it starts when
 * they all succeeded and is skipped when one did not. Otherwise chains never wait for each
 * other, so one slow or dead path holds up only what cannot work without it.
 * A chain stops at its first failed step; what failed is reported per chain and fed to the
 * per-object backoff, which outlives a pass (the daemon owns it, the plan never sees it).
 */

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXEC_ERR_MAX 512

struct exec_step {
	unsigned stage; /* non-decreasing within a chain; equal stages run concurrently */
	void *arg;	/* handed to the step function */
};

/* Outcome of one chain after exec_run. */
enum exec_chain_status {
	EXEC_CHAIN_DONE = 0,	    /* every step succeeded */
	EXEC_CHAIN_FAILED = 1,	    /* a step failed; failed_step and error say which and why */
	EXEC_CHAIN_BACKED_OFF = 2,  /* not started: the object is still in its backoff window */
	EXEC_CHAIN_INTERRUPTED = 3, /* stop was requested before the chain finished */
	EXEC_CHAIN_SKIPPED = 4,	    /* not started: a chain it runs after did not succeed */
};

struct exec_chain {
	const char *key;	 /* the object it is about ("volume 42"); backoff key */
	struct exec_step *steps; /* borrowed */
	size_t n_steps;
	const size_t *after; /* indices of chains that must be DONE first (borrowed); NULL = none */
	size_t n_after;
	/* filled by exec_run */
	enum exec_chain_status status;
	size_t failed_step; /* index of the first failed step (EXEC_CHAIN_FAILED) */
	int rc;		    /* that step's negative errno */
	char error[EXEC_ERR_MAX];
};

/*
 * Contract of a step function: perform one step, blocking (it may wait for an RPC answer).
 * Called from worker threads, several at once for different steps; must be thread-safe.
 * Returns 0 on success or a negative errno and a message naming the object in errbuf.
 */
typedef int (*exec_step_fn)(void *ctx, const struct exec_chain *chain, const struct exec_step *step,
			    char *errbuf, size_t errlen);

/* Per-object exponential backoff, kept across passes. Thread-safe. */
struct exec_backoff;

/* base_ms doubles per consecutive failure up to max_ms. NULL on out of memory. */
struct exec_backoff *exec_backoff_new(uint64_t base_ms, uint64_t max_ms);
void exec_backoff_free(struct exec_backoff *b);
/* true when key may be tried at now_ms (never failed, or its window passed). */
bool exec_backoff_due(struct exec_backoff *b, const char *key, uint64_t now_ms);
/* Record a failure at now_ms; returns the delay until the next try. */
uint64_t exec_backoff_fail(struct exec_backoff *b, const char *key, uint64_t now_ms);
/* Record a success: the key's window is forgotten. */
void exec_backoff_ok(struct exec_backoff *b, const char *key);
/* Consecutive failures of key (0 = none). */
unsigned exec_backoff_failures(struct exec_backoff *b, const char *key);
/* Forget everything (SPDK restarted: old failures say nothing about the new process). */
void exec_backoff_reset(struct exec_backoff *b);
/*
 * Forget keys whose window ended more than max_ms before now_ms: their object was not tried
 * again for that long, so it is gone or fixed (a failing object is retried as soon as it is
 * due). Keeps the table the size of what fails now, not of everything that ever failed.
 */
void exec_backoff_prune(struct exec_backoff *b, uint64_t now_ms);
/* Keys with a recorded failure. */
size_t exec_backoff_size(struct exec_backoff *b);

/*
 * Run the chains with at most `workers` steps in flight. backoff may be NULL (no windows);
 * otherwise chains whose key is not due are skipped and outcomes are recorded in it.
 * stop (may be NULL) is polled between steps: once non-zero, no further step starts and
 * unfinished chains end INTERRUPTED (steps in flight still finish; nothing is abandoned
 * half-way). Returns 0 when every chain is DONE, BACKED_OFF or SKIPPED, -EAGAIN when some
 * failed or were interrupted, -EINVAL when an `after` index is out of range or names a chain
 * that has `after` itself (one level only, so no cycle), -ENOMEM / -errno when threads could not be started.
 */
int exec_run(struct exec_chain *chains, size_t n_chains, unsigned workers, exec_step_fn fn,
	     void *ctx, struct exec_backoff *backoff, volatile sig_atomic_t *stop);

#endif
