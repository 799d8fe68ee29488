/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_DAEMON_PLAN_H
#define DISKENGINE_DAEMON_PLAN_H

/*
 * The planner's actions (reconcile/plan.h) turned into the executor's chains: one chain per
 * group ("volume:<id>", "mapping:<id>", "orphan:<object>"), the action's step as the chain's
 * stage. Every desired mapping gets a chain, empty or not, so its status is written each pass.
 * Status and conflict actions are not executed: they become the chain's note; AWAIT_PATH
 * becomes the chain's `after` (the index of the awaited group's chain in the same plan).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reconcile/exec.h"
#include "reconcile/exec_ops.h"
#include "reconcile/plan.h"

struct store_desired;

struct daemon_plan_chain {
	char key[PLAN_GROUP_MAX + 16]; /* "volume 42": backoff key and log subject */
	char group[PLAN_GROUP_MAX];    /* the planner's group */
	int64_t mapping_id;	       /* the mapping whose status this chain writes; 0 = none */
	int64_t volume_id;
	struct exec_op *ops;
	struct exec_step *steps;
	size_t n, cap;
	char note[2 * PLAN_MSG_MAX]; /* status or conflict the planner reported; "" = none */
	bool blocked;		     /* note explains work that cannot be done now */
	/* AWAIT_PATH: groups that must succeed first, and as chain indices once all are built */
	char (*awaits)[PLAN_GROUP_MAX];
	size_t n_awaits;
	size_t *after;
	size_t n_after;
};

struct daemon_plan {
	struct daemon_plan_chain *chains;
	size_t n, cap;
};

/* Convert. 0 or -ENOMEM. Free with daemon_plan_free. */
int daemon_plan_from_actions(const struct plan *p, const struct store_desired *sd,
			     struct daemon_plan *out);
void daemon_plan_free(struct daemon_plan *p);

#endif
