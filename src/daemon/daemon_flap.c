/* SPDX-License-Identifier: Apache-2.0 */
#include "daemon/daemon_flap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hmap.h"
#include "common/util.h"
#include "reconcile/observe_model.h"

/* Reset times kept per path: enough for any flap_limit a sane configuration uses. */
#define FLAP_TIMES_MAX 64

struct flap_path {
	char ctrlr[MODEL_NAME_MAX];
	char traddr[MODEL_ADDR_MAX];
	char trsvcid[8];
	int64_t cntlid;
	enum ctrlr_state state;
	unsigned resets, failed;
	int64_t times[FLAP_TIMES_MAX]; /* ring of the latest reset times */
	unsigned n_times, head;
	int64_t last_reset_s;
	bool given_up;
	bool seen; /* listed in the current observation */
};

struct flap_table {
	int limit, window_s;
	struct flap_path *v;
	size_t n, cap;
};

struct flap_table *flap_table_new(int limit, int window_s)
{
	struct flap_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->limit = limit < FLAP_TIMES_MAX ? limit : FLAP_TIMES_MAX;
	t->window_s = window_s;
	return t;
}

void flap_table_free(struct flap_table *t)
{
	if (!t)
		return;
	free(t->v);
	free(t);
}

static const char *str(const char *s)
{
	return s ? s : "";
}

static void path_key(const char *ctrlr, const char *traddr, const char *trsvcid, char *key,
		     size_t len)
{
	snprintf(key, len, "%s|%s|%s", ctrlr, traddr, trsvcid);
}

/* ix: "ctrlr|traddr|trsvcid" -> index in t->v, for the table as it was when the pass began. */
static struct flap_path *path_get(struct flap_table *t, struct hmap *ix, const char *ctrlr,
				  const struct rpc_nvme_ctrlr_path *p, bool *created)
{
	char key[MODEL_NAME_MAX + MODEL_ADDR_MAX + 16];
	size_t *at;

	*created = false;
	path_key(ctrlr, str(p->traddr), str(p->trsvcid), key, sizeof(key));
	if (ix && (at = hmap_get(ix, key)))
		return &t->v[*at];
	if (!ix) /* no index (out of memory): scan */
		for (size_t i = 0; i < t->n; i++)
			if (strcmp(t->v[i].ctrlr, ctrlr) == 0 &&
			    strcmp(t->v[i].traddr, str(p->traddr)) == 0 &&
			    strcmp(t->v[i].trsvcid, str(p->trsvcid)) == 0)
				return &t->v[i];
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct flap_path *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		t->v = v;
		t->cap = cap;
	}
	memset(&t->v[t->n], 0, sizeof(t->v[0]));
	util_strlcpy(t->v[t->n].ctrlr, ctrlr, sizeof(t->v[0].ctrlr));
	util_strlcpy(t->v[t->n].traddr, str(p->traddr), sizeof(t->v[0].traddr));
	util_strlcpy(t->v[t->n].trsvcid, str(p->trsvcid), sizeof(t->v[0].trsvcid));
	if (ix && (at = hmap_put(ix, key, NULL)))
		*(size_t *)at = t->n;
	*created = true;
	return &t->v[t->n++];
}

static unsigned recent(const struct flap_path *f, int64_t now_s, int window_s)
{
	unsigned n = 0;

	for (unsigned i = 0; i < f->n_times; i++)
		if (now_s - f->times[i] < window_s)
			n++;
	return n;
}

static void account(struct flap_table *t, struct flap_path *f, const struct rpc_nvme_ctrlr_path *p,
		    int64_t now_s)
{
	enum ctrlr_state st = observe_ctrlr_state(str(p->state));

	if (p->cntlid != f->cntlid && st == CTRLR_ENABLED) {
		f->resets++;
		f->times[f->head] = now_s;
		f->head = (f->head + 1) % FLAP_TIMES_MAX;
		if (f->n_times < FLAP_TIMES_MAX)
			f->n_times++;
		f->last_reset_s = now_s;
		f->cntlid = p->cntlid;
	}
	if (st == CTRLR_RECONNECT_DELAYED && f->state != CTRLR_RECONNECT_DELAYED)
		f->failed++;
	f->state = st;
	if (!f->given_up && recent(f, now_s, t->window_s) >= (unsigned)t->limit)
		f->given_up = true;
	else if (f->given_up && st == CTRLR_ENABLED && now_s - f->last_reset_s >= t->window_s) {
		f->given_up = false;
		f->n_times = 0;
	}
}

/* The table's paths by key: one lookup per listed path instead of a scan of the table. */
static struct hmap *table_index(const struct flap_table *t)
{
	char key[MODEL_NAME_MAX + MODEL_ADDR_MAX + 16];
	struct hmap *ix = hmap_new(sizeof(size_t));
	size_t *at;

	for (size_t i = 0; ix && i < t->n; i++) {
		path_key(t->v[i].ctrlr, t->v[i].traddr, t->v[i].trsvcid, key, sizeof(key));
		if (!(at = hmap_put(ix, key, NULL))) {
			hmap_free(ix);
			return NULL;
		}
		*at = i;
	}
	return ix;
}

void flap_observe(struct flap_table *t, const struct rpc_nvme_ctrlr_list *l, int64_t now_s)
{
	struct hmap *ix = table_index(t);
	size_t k = 0;

	for (size_t i = 0; i < t->n; i++)
		t->v[i].seen = false;
	for (size_t i = 0; i < l->n; i++) {
		for (size_t j = 0; j < l->v[i].n_paths; j++) {
			const struct rpc_nvme_ctrlr_path *p = &l->v[i].paths[j];
			bool created;
			struct flap_path *f = path_get(t, ix, l->v[i].name, p, &created);

			if (!f)
				continue; /* out of memory: this path is not counted this pass */
			f->seen = true;
			if (created) {
				/* the connect of an attach is no reset */
				f->cntlid = p->cntlid;
				f->state = observe_ctrlr_state(str(p->state));
				continue;
			}
			account(t, f, p, now_s);
		}
	}
	hmap_free(ix);
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].seen)
			t->v[k++] = t->v[i];
	t->n = k;
}

static int flap_cmp(const void *a, const void *b)
{
	return strcmp(((const struct obs_flap *)a)->ctrlr, ((const struct obs_flap *)b)->ctrlr);
}

int flap_summary(const struct flap_table *t, struct obs_flap **out, size_t *n_out)
{
	struct obs_flap *v = calloc(t->n + 1, sizeof(*v));
	bool *quiet = calloc(t->n + 1, sizeof(*quiet));
	struct hmap *by_ctrlr = hmap_new(sizeof(size_t));
	size_t n = 0;

	if (!v || !quiet || !by_ctrlr) {
		free(v);
		free(quiet);
		hmap_free(by_ctrlr);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct flap_path *f = &t->v[i];
		bool added;
		size_t *at = hmap_put(by_ctrlr, f->ctrlr, &added);
		size_t k;

		if (!at) {
			free(v);
			free(quiet);
			hmap_free(by_ctrlr);
			return -ENOMEM;
		}
		if (added) {
			*at = n;
			util_strlcpy(v[n].ctrlr, f->ctrlr, sizeof(v[n].ctrlr));
			n++;
		}
		k = *at;
		v[k].resets += f->resets;
		v[k].failed += f->failed;
		v[k].recent += f->n_times; /* resets counted toward the bound */
		if (f->given_up)
			v[k].given_up = true;
		else if (f->state == CTRLR_ENABLED)
			quiet[k] = true;
	}
	/* another path that serves well keeps the namespace usable: nothing is given up */
	for (size_t k = 0; k < n; k++)
		if (quiet[k])
			v[k].given_up = false;
	free(quiet);
	hmap_free(by_ctrlr);
	/* by controller name, as the planner's other observed lists: it bisects */
	qsort(v, n, sizeof(*v), flap_cmp);
	*out = v;
	*n_out = n;
	return 0;
}
