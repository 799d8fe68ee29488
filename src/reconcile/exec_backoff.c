/* SPDX-License-Identifier: Apache-2.0 */
#include "reconcile/exec.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/hmap.h"

struct backoff_entry {
	unsigned failures;
	uint64_t next_ms;
};

/* Every chain of every pass asks here, so keys are hashed, not scanned. */
struct exec_backoff {
	pthread_mutex_t lock;
	uint64_t base_ms;
	uint64_t max_ms;
	struct hmap *keys; /* key -> struct backoff_entry */
};

struct exec_backoff *exec_backoff_new(uint64_t base_ms, uint64_t max_ms)
{
	struct exec_backoff *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->keys = hmap_new(sizeof(struct backoff_entry));
	if (!b->keys) {
		free(b);
		return NULL;
	}
	pthread_mutex_init(&b->lock, NULL);
	b->base_ms = base_ms ? base_ms : 1;
	b->max_ms = max_ms < b->base_ms ? b->base_ms : max_ms;
	return b;
}

void exec_backoff_reset(struct exec_backoff *b)
{
	pthread_mutex_lock(&b->lock);
	hmap_clear(b->keys);
	pthread_mutex_unlock(&b->lock);
}

void exec_backoff_free(struct exec_backoff *b)
{
	if (!b)
		return;
	hmap_free(b->keys);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

bool exec_backoff_due(struct exec_backoff *b, const char *key, uint64_t now_ms)
{
	bool due;

	pthread_mutex_lock(&b->lock);
	struct backoff_entry *e = hmap_get(b->keys, key);
	due = !e || now_ms >= e->next_ms;
	pthread_mutex_unlock(&b->lock);
	return due;
}

uint64_t exec_backoff_fail(struct exec_backoff *b, const char *key, uint64_t now_ms)
{
	uint64_t delay = b->base_ms;

	pthread_mutex_lock(&b->lock);
	/* out of memory: no window, the object is simply tried again */
	struct backoff_entry *e = hmap_put(b->keys, key, NULL);
	if (e) {
		e->failures++;
		for (unsigned i = 1; i < e->failures && delay < b->max_ms; i++)
			delay *= 2;
		if (delay > b->max_ms)
			delay = b->max_ms;
		e->next_ms = now_ms + delay;
	}
	pthread_mutex_unlock(&b->lock);
	return delay;
}

void exec_backoff_ok(struct exec_backoff *b, const char *key)
{
	pthread_mutex_lock(&b->lock);
	hmap_del(b->keys, key);
	pthread_mutex_unlock(&b->lock);
}

unsigned exec_backoff_failures(struct exec_backoff *b, const char *key)
{
	unsigned n;

	pthread_mutex_lock(&b->lock);
	struct backoff_entry *e = hmap_get(b->keys, key);
	n = e ? e->failures : 0;
	pthread_mutex_unlock(&b->lock);
	return n;
}

struct prune_arg {
	uint64_t now_ms, max_ms;
};

static bool still_recent(const char *key, void *val, void *arg)
{
	const struct backoff_entry *e = val;
	const struct prune_arg *a = arg;

	(void)key;
	return e->next_ms + a->max_ms > a->now_ms;
}

void exec_backoff_prune(struct exec_backoff *b, uint64_t now_ms)
{
	struct prune_arg a = {.now_ms = now_ms, .max_ms = b->max_ms};

	pthread_mutex_lock(&b->lock);
	hmap_filter(b->keys, still_recent, &a);
	pthread_mutex_unlock(&b->lock);
}

size_t exec_backoff_size(struct exec_backoff *b)
{
	size_t n;

	pthread_mutex_lock(&b->lock);
	n = hmap_size(b->keys);
	pthread_mutex_unlock(&b->lock);
	return n;
}
