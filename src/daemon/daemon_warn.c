/* SPDX-License-Identifier: Apache-2.0 */
#include "daemon/daemon_warn.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/hmap.h"

struct warn_entry {
	uint64_t hash;	     /* of the last message logged for the key */
	unsigned held;	     /* repeats not logged since */
	uint64_t logged_ms;  /* when the key's last line was logged */
	uint64_t touched_ms; /* when the key last warned */
};

struct warn_table {
	struct hmap *keys;
	warn_sink_fn sink;
	void *arg;
};

static void to_log(enum log_level level, const char *line, void *arg)
{
	(void)arg;
	log_printf(level, "%s", line);
}

struct warn_table *warn_table_new(warn_sink_fn sink, void *arg)
{
	struct warn_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->keys = hmap_new(sizeof(struct warn_entry));
	if (!t->keys) {
		free(t);
		return NULL;
	}
	t->sink = sink ? sink : to_log;
	t->arg = arg;
	return t;
}

void warn_table_free(struct warn_table *t)
{
	if (!t)
		return;
	hmap_free(t->keys);
	free(t);
}

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void emit(struct warn_table *t, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void emit(struct warn_table *t, enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	t->sink(level, line, t->arg);
}

void warn_repeat(struct warn_table *t, const char *key, uint64_t now_ms, const char *fmt, ...)
{
	struct warn_entry *e;
	char msg[768];
	bool added;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!t) {
		log_printf(LOG_LVL_WARN, "%s", msg);
		return;
	}
	e = hmap_put(t->keys, key, &added);
	if (!e) {
		emit(t, LOG_LVL_WARN, "%s", msg);
		return;
	}
	e->touched_ms = now_ms;
	if (!added && e->hash == fnv(msg)) {
		e->held++;
		if (now_ms - e->logged_ms < WARN_SUMMARY_MS)
			return;
		emit(t, LOG_LVL_WARN, "%s (again; %u times in the last %llu s)", msg, e->held,
		     (unsigned long long)((now_ms - e->logged_ms) / 1000));
		e->held = 0;
		e->logged_ms = now_ms;
		return;
	}
	if (!added && e->held)
		emit(t, LOG_LVL_INFO, "%s: the previous warning repeated %u more times", key,
		     e->held);
	emit(t, LOG_LVL_WARN, "%s", msg);
	e->hash = fnv(msg);
	e->held = 0;
	e->logged_ms = now_ms;
}

void warn_clear(struct warn_table *t, const char *key, uint64_t now_ms)
{
	struct warn_entry *e;

	(void)now_ms;
	if (!t || !(e = hmap_get(t->keys, key)))
		return;
	if (e->held)
		emit(t, LOG_LVL_INFO, "%s: works again (the last warning repeated %u more times)",
		     key, e->held);
	hmap_del(t->keys, key);
}

static bool recent(const char *key, void *val, void *arg)
{
	const struct warn_entry *e = val;
	uint64_t now = *(const uint64_t *)arg;

	(void)key;
	return now - e->touched_ms < WARN_SUMMARY_MS;
}

void warn_prune(struct warn_table *t, uint64_t now_ms)
{
	if (t)
		hmap_filter(t->keys, recent, &now_ms);
}
