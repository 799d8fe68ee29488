/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_DAEMON_ORPHAN_H
#define DISKENGINE_DAEMON_ORPHAN_H

/*
 * First-seen times of SPDK objects that carry diskengine's names but that no desired state
 * claims. The plan decides what is an orphan and when its grace period is over; it is pure, so
 * the daemon keeps the clock across passes and hands the times in.
 */

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

#endif
