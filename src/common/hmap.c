/* SPDX-License-Identifier: Apache-2.0 */
#include "common/hmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>

struct hmap_slot {
	char *key; /* NULL: empty */
	uint64_t hash;
	void *val;
};

struct hmap {
	struct hmap_slot *s;
	size_t cap; /* power of two, or 0 */
	size_t n;
	size_t val_size;
};

/* FNV-1a: keys are short object names, and the table is sized to keep probes short. */
static uint64_t hash_str(const char *k)
{
	uint64_t h = 1469598103934665603ull;

	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 1099511628211ull;
	return h;
}

struct hmap *hmap_new(size_t val_size)
{
	struct hmap *m = calloc(1, sizeof(*m));

	if (m)
		m->val_size = val_size;
	return m;
}

void hmap_clear(struct hmap *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		free(m->s[i].key);
		free(m->s[i].val);
		m->s[i].key = NULL;
		m->s[i].val = NULL;
	}
	m->n = 0;
}

void hmap_free(struct hmap *m)
{
	if (!m)
		return;
	hmap_clear(m);
	free(m->s);
	free(m);
}

size_t hmap_size(const struct hmap *m)
{
	return m->n;
}

static size_t find_slot(const struct hmap *m, const char *key, uint64_t h)
{
	size_t mask = m->cap - 1;
	size_t i = (size_t)h & mask;

	while (m->s[i].key && (m->s[i].hash != h || strcmp(m->s[i].key, key) != 0))
		i = (i + 1) & mask;
	return i;
}

void *hmap_get(const struct hmap *m, const char *key)
{
	if (!m->n)
		return NULL;
	size_t i = find_slot(m, key, hash_str(key));

	return m->s[i].key ? m->s[i].val : NULL;
}

static int grow(struct hmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	struct hmap_slot *s = calloc(cap, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->s[i].key)
			continue;
		size_t k = (size_t)m->s[i].hash & (cap - 1);
		while (s[k].key)
			k = (k + 1) & (cap - 1);
		s[k] = m->s[i];
	}
	free(m->s);
	m->s = s;
	m->cap = cap;
	return 0;
}

void *hmap_put(struct hmap *m, const char *key, bool *added)
{
	uint64_t h = hash_str(key);
	size_t i;

	if (added)
		*added = false;
	if (m->n) {
		i = find_slot(m, key, h);
		if (m->s[i].key)
			return m->s[i].val;
	}
	/* at most half full: probe sequences stay a few slots long */
	if ((m->n + 1) * 2 > m->cap && grow(m) < 0)
		return NULL;
	i = find_slot(m, key, h);
	char *k = strdup(key);
	void *v = calloc(1, m->val_size ? m->val_size : 1);
	if (!k || !v) {
		free(k);
		free(v);
		return NULL;
	}
	m->s[i] = (struct hmap_slot){.key = k, .hash = h, .val = v};
	m->n++;
	if (added)
		*added = true;
	return v;
}

/* Empty slot i and pull back later entries of the same probe run (no tombstones). */
static void remove_at(struct hmap *m, size_t i)
{
	size_t mask = m->cap - 1;
	size_t j = i;

	free(m->s[i].key);
	free(m->s[i].val);
	m->s[i] = (struct hmap_slot){0};
	m->n--;
	for (;;) {
		j = (j + 1) & mask;
		if (!m->s[j].key)
			return;
		size_t home = (size_t)m->s[j].hash & mask;
		/* the entry at j may move to i only if i lies on its probe path home..j */
		bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
		if (movable) {
			m->s[i] = m->s[j];
			m->s[j] = (struct hmap_slot){0};
			i = j;
		}
	}
}

int hmap_del(struct hmap *m, const char *key)
{
	if (!m->n)
		return -ENOENT;
	size_t i = find_slot(m, key, hash_str(key));

	if (!m->s[i].key)
		return -ENOENT;
	remove_at(m, i);
	return 0;
}

void hmap_filter(struct hmap *m, bool (*keep)(const char *key, void *val, void *arg), void *arg)
{
	for (size_t i = 0; i < m->cap;) {
		if (m->s[i].key && !keep(m->s[i].key, m->s[i].val, arg))
			remove_at(m, i); /* slot i may now hold a shifted entry: look again */
		else
			i++;
	}
}

void *hmap_next(const struct hmap *m, size_t *pos, const char **key)
{
	for (; *pos < m->cap; (*pos)++) {
		if (m->s[*pos].key) {
			struct hmap_slot *s = &m->s[(*pos)++];
			if (key)
				*key = s->key;
			return s->val;
		}
	}
	return NULL;
}
