/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_DAEMON_ORPHAN_H
#define DISKENGINE_DAEMON_ORPHAN_H

/*
 * First-seen times of the SPDK objects the daemon observes (controllers, bdevs, raids, vhost
 * controllers). The planner is pure: it decides what is an orphan past its grace period, or a
 * raid that failed to reassemble in time, from these times, which the daemon keeps across passes.
 */

#include <stddef.h>
#include <stdint.h>

struct orphan_clock;

struct orphan_clock *orphan_clock_new(void);
void orphan_clock_free(struct orphan_clock *c);

/* Start a pass: names not marked again before orphan_clock_end are forgotten. */
void orphan_clock_begin(struct orphan_clock *c);
/* name is unclaimed now; returns when it was first seen unclaimed (now_s if new). */
int64_t orphan_clock_mark(struct orphan_clock *c, const char *name, int64_t now_s);
/* Forget names that were claimed again (or vanished) in this pass. */
void orphan_clock_end(struct orphan_clock *c);
/* 0 if name is not being timed. */
int64_t orphan_clock_first_seen(struct orphan_clock *c, const char *name);
/* Entries in the clock; orphan_clock_entry gives the i-th name and its first-seen time. */
size_t orphan_clock_size(const struct orphan_clock *c);
const char *orphan_clock_entry(const struct orphan_clock *c, size_t i, int64_t *first_s);

#endif
