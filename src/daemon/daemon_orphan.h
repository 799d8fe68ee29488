/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_DAEMON_ORPHAN_H
#define DISKENGINE_DAEMON_ORPHAN_H

/*
 * First-seen times of the SPDK objects the daemon observes (controllers, bdevs, raids, vhost
 * controllers). The planner is pure: it decides what is an orphan past its grace period, or a
 * raid that failed to reassemble in time, from these times, which the daemon keeps across passes.
 * Times are seconds of the monotonic clock (orphan_clock_now_s): a wall-clock step (NTP, an
 * operator's date) must neither zero a grace period nor stretch it.
 */

#include <stddef.h>
#include <stdint.h>

#include "reconcile/model.h"

struct orphan_clock;

struct orphan_clock *orphan_clock_new(void);
void orphan_clock_free(struct orphan_clock *c);

/* The time ages are measured in: monotonic seconds, never the wall clock. */
int64_t orphan_clock_now_s(void);

/* Start a pass: names not marked again before orphan_clock_end are forgotten. */
void orphan_clock_begin(struct orphan_clock *c);
/* name is observed now; returns when it was first seen (now_s if new). */
int64_t orphan_clock_mark(struct orphan_clock *c, const char *name, int64_t now_s);
/* Keep every name timed so far (a pass that could not list some objects). */
void orphan_clock_keep_all(struct orphan_clock *c);
/* Forget names that were not marked in this pass (they vanished). */
void orphan_clock_end(struct orphan_clock *c);
/* 0 if name is not being timed. */
int64_t orphan_clock_first_seen(struct orphan_clock *c, const char *name);
size_t orphan_clock_size(const struct orphan_clock *c);
/*
 * Every timed name with its first-seen time, sorted by name (the planner looks names up by
 * binary search). *out is the caller's to free. 0 or -ENOMEM.
 */
int orphan_clock_snapshot(const struct orphan_clock *c, struct obs_first_seen **out, size_t *n);

#endif
