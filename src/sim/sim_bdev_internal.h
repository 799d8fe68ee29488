/* SPDX-License-Identifier: Apache-2.0 */
/* State of the bdev layer shared by sim_bdev.c (registry) and sim_bdev_rpc.c (methods). */
#ifndef DISKENGINE_SIM_BDEV_INTERNAL_H
#define DISKENGINE_SIM_BDEV_INTERNAL_H

#include "sim/sim_internal.h"

/* A bdev_get_bdevs call waiting for its bdev to appear (the "timeout" param). */
struct sim_bdev_waiter {
	struct sim_req *req;
	char *name;
	struct sim_timer *timer; /* fires the -ETIMEDOUT answer */
	struct sim_bdev_waiter *next;
};

struct sim_bdev_state {
	struct sim_bdev_listener *listeners;
	size_t nlisteners;
	struct sim_bdev_waiter *waiters;
	json_t *opts; /* bdev_set_options values, as saved */
};

/* s->bdev, created on first use (modules may register bdevs from their init). */
struct sim_bdev_state *sim_bdev_state_get(struct sim *s);
void sim_bdev_state_free(struct sim *s);
/* Answer the bdev_get_bdevs waiters that b (by name or alias) satisfies. */
void sim_bdev_waiters_notify(struct sim *s, struct sim_bdev *b);
/* assigned_rate_limits object of b (new reference). */
json_t *sim_bdev_qos_json(struct sim_bdev *b);
/* bdev_get_iostat counters of b without name (new reference). */
json_t *sim_bdev_stat_json(struct sim_bdev *b);
const char *sim_qos_name(enum sim_qos_kind k);
/* The end of the "bdev" config: each bdev's write_config and QoS, bdev_wait_for_examine. */
void sim_bdev_config_tail(struct sim *s, json_t *arr);

#endif
