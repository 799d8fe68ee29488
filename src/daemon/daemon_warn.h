/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_DAEMON_WARN_H
#define DISKENGINE_DAEMON_WARN_H

/*
 * Warnings that would repeat every pass (a failing attach retried on its backoff, a status that
 * cannot be recorded, SPDK away): the first one of a kind is logged, repeats of the same message
 * for the same object are counted and summarised every WARN_SUMMARY_MS, and when the message
 * changes or the object recovers the count of what was held back is logged with it.
 */

#include <stdarg.h>
#include <stdint.h>

#include "common/log.h"

/* How often a warning that keeps repeating is logged again, with its count. */
#define WARN_SUMMARY_MS (10ULL * 60 * 1000)

struct warn_table;

/* Where lines go (log_printf by default; tests capture them). */
typedef void (*warn_sink_fn)(enum log_level level, const char *line, void *arg);

/* sink NULL: log_printf. NULL on out of memory (then warn_* log every line). */
struct warn_table *warn_table_new(warn_sink_fn sink, void *arg);
void warn_table_free(struct warn_table *t);

/*
 * A warning about key ("volume 42", "status", "spdk") at now_ms: logged if it is new for key or
 * differs from key's last one, counted otherwise (and logged with the count once
 * WARN_SUMMARY_MS passed since key's last logged line).
 */
void warn_repeat(struct warn_table *t, const char *key, uint64_t now_ms, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* key works again: if repeats were held back, say how many; forget key. */
void warn_clear(struct warn_table *t, const char *key, uint64_t now_ms);

/* Forget keys silent for longer than WARN_SUMMARY_MS (their object is gone). */
void warn_prune(struct warn_table *t, uint64_t now_ms);

#endif
