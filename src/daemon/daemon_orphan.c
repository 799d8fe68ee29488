/* SPDX-License-Identifier: Apache-2.0 */
#include "daemon/daemon_orphan.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct orphan_entry {
	char *name;
	int64_t first_s;
	bool marked;
};

struct orphan_clock {
	struct orphan_entry *e;
	size_t n, cap;
};

struct orphan_clock *orphan_clock_new(void)
{
	return calloc(1, sizeof(struct orphan_clock));
}

void orphan_clock_free(struct orphan_clock *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->e[i].name);
	free(c->e);
	free(c);
}

void orphan_clock_begin(struct orphan_clock *c)
{
	for (size_t i = 0; i < c->n; i++)
		c->e[i].marked = false;
}

static struct orphan_entry *find(struct orphan_clock *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].name, name) == 0)
			return &c->e[i];
	return NULL;
}

int64_t orphan_clock_mark(struct orphan_clock *c, const char *name, int64_t now_s)
{
	struct orphan_entry *e = find(c, name);

	if (!e) {
		if (c->n == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 16;
			struct orphan_entry *ne = realloc(c->e, cap * sizeof(*ne));
			if (!ne)
				return now_s; /* untimed: the grace period simply restarts */
			c->e = ne;
			c->cap = cap;
		}
		char *k = strdup(name);
		if (!k)
			return now_s;
		e = &c->e[c->n++];
		e->name = k;
		e->first_s = now_s;
	}
	e->marked = true;
	return e->first_s;
}

void orphan_clock_end(struct orphan_clock *c)
{
	for (size_t i = 0; i < c->n;) {
		if (!c->e[i].marked) {
			free(c->e[i].name);
			c->e[i] = c->e[--c->n];
		} else {
			i++;
		}
	}
}

int64_t orphan_clock_first_seen(struct orphan_clock *c, const char *name)
{
	struct orphan_entry *e = find(c, name);

	return e ? e->first_s : 0;
}

size_t orphan_clock_size(const struct orphan_clock *c)
{
	return c->n;
}

const char *orphan_clock_entry(const struct orphan_clock *c, size_t i, int64_t *first_s)
{
	*first_s = c->e[i].first_s;
	return c->e[i].name;
}
