/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_RECONCILE_EXEC_COMMIT_H
#define DISKENGINE_RECONCILE_EXEC_COMMIT_H

/*
 * Group commit of the executor's database transitions (mapping states, clean-stop marks).
 * Workers of a pass that reach a transition while another worker's commit is in progress queue
 * theirs; the next one to commit takes the whole queue into one transaction. Each caller still
 * returns only after its own transition committed (or failed), so a chain never goes on past a
 * state that is not stored; only the number of commits (each a disk flush) goes down, from one
 * per transition to about one per wave of chains.
 */

#include <pthread.h>

#include "store/store.h"

struct exec_commit;

/* NULL on out of memory. store_lock serialises the store with its other users. */
struct exec_commit *exec_commit_new(struct store *store, pthread_mutex_t *store_lock);
void exec_commit_free(struct exec_commit *gc);

/* Commit t (alone or with others queued meanwhile); t->result and t->err say how it went.
 * Returns t->result. */
int exec_commit_run(struct exec_commit *gc, struct store_transition *t);

#endif
