/* SPDX-License-Identifier: Apache-2.0 */
#include "reconcile/exec.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct backoff_entry {
	char *key;
	unsigned failures;
	uint64_t next_ms;
};

struct exec_backoff {
	pthread_mutex_t lock;
	uint64_t base_ms;
	uint64_t max_ms;
	struct backoff_entry *e;
	size_t n, cap;
};

struct exec_backoff *exec_backoff_new(uint64_t base_ms, uint64_t max_ms)
{
	struct exec_backoff *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	pthread_mutex_init(&b->lock, NULL);
	b->base_ms = base_ms ? base_ms : 1;
	b->max_ms = max_ms < b->base_ms ? b->base_ms : max_ms;
	return b;
}

void exec_backoff_reset(struct exec_backoff *b)
{
	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < b->n; i++)
		free(b->e[i].key);
	b->n = 0;
	pthread_mutex_unlock(&b->lock);
}

void exec_backoff_free(struct exec_backoff *b)
{
	if (!b)
		return;
	exec_backoff_reset(b);
	free(b->e);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* Caller holds the lock. */
static struct backoff_entry *find(struct exec_backoff *b, const char *key)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->e[i].key, key) == 0)
			return &b->e[i];
	return NULL;
}

bool exec_backoff_due(struct exec_backoff *b, const char *key, uint64_t now_ms)
{
	bool due;

	pthread_mutex_lock(&b->lock);
	struct backoff_entry *e = find(b, key);
	due = !e || now_ms >= e->next_ms;
	pthread_mutex_unlock(&b->lock);
	return due;
}

uint64_t exec_backoff_fail(struct exec_backoff *b, const char *key, uint64_t now_ms)
{
	uint64_t delay = b->base_ms;

	pthread_mutex_lock(&b->lock);
	struct backoff_entry *e = find(b, key);
	if (!e && b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct backoff_entry *ne = realloc(b->e, cap * sizeof(*ne));
		if (ne) {
			b->e = ne;
			b->cap = cap;
		}
	}
	if (!e && b->n < b->cap) {
		char *k = strdup(key);
		if (k) {
			e = &b->e[b->n++];
			e->key = k;
			e->failures = 0;
		}
	}
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
	struct backoff_entry *e = find(b, key);
	if (e) {
		free(e->key);
		*e = b->e[--b->n];
	}
	pthread_mutex_unlock(&b->lock);
}

unsigned exec_backoff_failures(struct exec_backoff *b, const char *key)
{
	unsigned n;

	pthread_mutex_lock(&b->lock);
	struct backoff_entry *e = find(b, key);
	n = e ? e->failures : 0;
	pthread_mutex_unlock(&b->lock);
	return n;
}
