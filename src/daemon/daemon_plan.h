/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_DAEMON_PLAN_H
#define DISKENGINE_DAEMON_PLAN_H

/*
 * The daemon's planning step: from the desired state (store) and the observed SPDK graph,
 * the chains of executor operations of one pass. One chain per mapping (its volume's whole
 * build-up or teardown, in the design's order), plus one chain for orphans. Pure: no I/O, the
 * clock comes in as now_s and orphan first-seen times come from the daemon's clock.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reconcile/exec.h"
#include "reconcile/exec_ops.h"
#include "reconcile/observe.h"

struct store_desired;
struct orphan_clock;

struct daemon_plan_chain {
	char key[64];       /* "volume 42": backoff key and log subject */
	int64_t mapping_id; /* 0 for the orphan chain */
	int64_t volume_id;
	struct exec_op *ops;
	struct exec_step *steps;
	size_t n, cap;
	char note[256];     /* why the chain stops early (deferred, waiting, conflict); "" = none */
	bool blocked;       /* note explains work that cannot be done this pass */
};

struct daemon_plan {
	struct daemon_plan_chain *chains;
	size_t n, cap;
};

struct daemon_plan_input {
	const struct store_desired *desired;
	const struct observe_raw *observed;
	struct orphan_clock *orphans; /* first-seen times, updated */
	int64_t now_s;
	uint32_t orphan_grace_s;
	uint32_t raid_wait_ms;       /* how long to wait for a superblock raid to come back */
	const char *rdma_ip;         /* RDMA_IPS' first address (source of RDMA paths); NULL = none */
};

/* Build the plan. 0 or -ENOMEM. Free with daemon_plan_free. */
int daemon_plan_build(const struct daemon_plan_input *in, struct daemon_plan *out);
void daemon_plan_free(struct daemon_plan *p);

#endif
