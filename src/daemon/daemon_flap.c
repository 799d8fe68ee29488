/* SPDX-License-Identifier: Apache-2.0 */
#include "daemon/daemon_flap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

static struct flap_path *path_get(struct flap_table *t, const char *ctrlr,
				  const struct rpc_nvme_ctrlr_path *p, bool *created)
{
	*created = false;
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

void flap_observe(struct flap_table *t, const struct rpc_nvme_ctrlr_list *l, int64_t now_s)
{
	size_t k = 0;

	for (size_t i = 0; i < t->n; i++)
		t->v[i].seen = false;
	for (size_t i = 0; i < l->n; i++) {
		for (size_t j = 0; j < l->v[i].n_paths; j++) {
			const struct rpc_nvme_ctrlr_path *p = &l->v[i].paths[j];
			bool created;
			struct flap_path *f = path_get(t, l->v[i].name, p, &created);

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
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].seen)
			t->v[k++] = t->v[i];
	t->n = k;
}

int flap_summary(const struct flap_table *t, struct obs_flap **out, size_t *n_out)
{
	struct obs_flap *v = calloc(t->n + 1, sizeof(*v));
	bool *quiet = calloc(t->n + 1, sizeof(*quiet));
	size_t n = 0;

	if (!v || !quiet) {
		free(v);
		free(quiet);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct flap_path *f = &t->v[i];
		size_t k;

		for (k = 0; k < n; k++)
			if (strcmp(v[k].ctrlr, f->ctrlr) == 0)
				break;
		if (k == n) {
			util_strlcpy(v[n].ctrlr, f->ctrlr, sizeof(v[n].ctrlr));
			n++;
		}
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
	*out = v;
	*n_out = n;
	return 0;
}
