/* SPDX-License-Identifier: Apache-2.0 */
#include "daemon/daemon_orphan.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/hmap.h"
#include "common/util.h"

struct orphan_entry {
	int64_t first_s;
	bool marked;
};

struct orphan_clock {
	struct hmap *names; /* name -> struct orphan_entry */
};

struct orphan_clock *orphan_clock_new(void)
{
	struct orphan_clock *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->names = hmap_new(sizeof(struct orphan_entry));
	if (!c->names) {
		free(c);
		return NULL;
	}
	return c;
}

void orphan_clock_free(struct orphan_clock *c)
{
	if (!c)
		return;
	hmap_free(c->names);
	free(c);
}

int64_t orphan_clock_now_s(void)
{
	return (int64_t)(util_now_ms() / 1000u);
}

static bool set_marked(const char *key, void *val, void *arg)
{
	(void)key;
	((struct orphan_entry *)val)->marked = *(bool *)arg;
	return true;
}

void orphan_clock_begin(struct orphan_clock *c)
{
	bool marked = false;

	hmap_filter(c->names, set_marked, &marked);
}

void orphan_clock_keep_all(struct orphan_clock *c)
{
	bool marked = true;

	hmap_filter(c->names, set_marked, &marked);
}

int64_t orphan_clock_mark(struct orphan_clock *c, const char *name, int64_t now_s)
{
	bool added;
	struct orphan_entry *e = hmap_put(c->names, name, &added);

	if (!e)
		return now_s; /* untimed: the grace period simply restarts */
	if (added)
		e->first_s = now_s;
	e->marked = true;
	return e->first_s;
}

static bool keep_marked(const char *key, void *val, void *arg)
{
	(void)key;
	(void)arg;
	return ((struct orphan_entry *)val)->marked;
}

void orphan_clock_end(struct orphan_clock *c)
{
	hmap_filter(c->names, keep_marked, NULL);
}

int64_t orphan_clock_first_seen(struct orphan_clock *c, const char *name)
{
	struct orphan_entry *e = hmap_get(c->names, name);

	return e ? e->first_s : 0;
}

size_t orphan_clock_size(const struct orphan_clock *c)
{
	return hmap_size(c->names);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct obs_first_seen *)a)->name,
		      ((const struct obs_first_seen *)b)->name);
}

int orphan_clock_snapshot(const struct orphan_clock *c, struct obs_first_seen **out, size_t *n)
{
	size_t cnt = hmap_size(c->names), i = 0, pos = 0;
	struct obs_first_seen *fs = calloc(cnt ? cnt : 1, sizeof(*fs));
	const struct orphan_entry *e;
	const char *name;

	if (!fs)
		return -ENOMEM;
	while ((e = hmap_next(c->names, &pos, &name)) && i < cnt) {
		util_strlcpy(fs[i].name, name, sizeof(fs[i].name));
		fs[i++].first_seen_s = e->first_s;
	}
	qsort(fs, i, sizeof(*fs), by_name);
	*out = fs;
	*n = i;
	return 0;
}
