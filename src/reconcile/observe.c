/* SPDX-License-Identifier: Apache-2.0 */
#include "reconcile/observe.h"
#include "reconcile/observe_model.h"
#include "reconcile/observe_want.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool observe_any_resetting(const struct rpc_nvme_ctrlr_list *controllers)
{
	for (size_t i = 0; i < controllers->n; i++)
		for (size_t j = 0; j < controllers->v[i].n_paths; j++)
			if (strcmp(controllers->v[i].paths[j].state, "resetting") == 0)
				return true;
	return false;
}

static int failed(int r, const struct rpc_error *e, char *errbuf, size_t errlen)
{
	char line[512];

	snprintf(errbuf, errlen, "observe: %s", rpc_error_str(e, line, sizeof(line)));
	return r;
}

int observe_spdk(struct rpc_client *c, struct observe_raw *out, char *errbuf, size_t errlen)
{
	struct observe_raw o = {0};
	struct rpc_error e = {0};
	int r;

	o.calls++;
	r = rpc_bdev_nvme_get_controllers(c, NULL, &o.controllers, &e);
	if (r == 0) {
		o.calls++;
		r = rpc_bdev_raid_get_bdevs(c, RPC_RAID_ALL, &o.raids, &e);
	}
	if (r == 0) {
		o.calls++;
		r = rpc_vhost_get_controllers(c, &o.vhosts, &e);
	}
	if (r == 0) {
		o.calls++;
		r = rpc_keyring_get_keys(c, &o.keys, &e);
	}
	if (r < 0) {
		observe_raw_clear(&o);
		return failed(r, &e, errbuf, errlen);
	}
	*out = o;
	return 0;
}

/* The by-name reads of one observation, shared by its workers. */
struct bdev_reads {
	struct rpc_client *c;
	const char *const *names;
	size_t n;
	atomic_size_t next;
	struct rpc_bdev_list *found; /* per name */
	int *rc;
	struct rpc_error *err;
};

static void *bdev_reader(void *arg)
{
	struct bdev_reads *br = arg;
	size_t i;

	while ((i = atomic_fetch_add(&br->next, 1)) < br->n)
		br->rc[i] = rpc_bdev_get_bdev(br->c, br->names[i], RPC_UNSET, &br->found[i],
					      &br->err[i]);
	return NULL;
}

/* Move the bdevs found into raw and record every name asked; -ENOMEM leaves raw as it was. */
static int bdevs_merge(struct bdev_reads *br, struct observe_raw *raw)
{
	size_t add = 0, k = raw->bdevs.n;
	struct rpc_bdev *v;
	char **read;

	for (size_t i = 0; i < br->n; i++)
		add += br->found[i].n;
	v = realloc(raw->bdevs.v, (raw->bdevs.n + add + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	raw->bdevs.v = v;
	read = realloc(raw->bdevs_read, (raw->n_bdevs_read + br->n + 1) * sizeof(*read));
	if (!read)
		return -ENOMEM;
	raw->bdevs_read = read;
	for (size_t i = 0; i < br->n; i++) {
		read[raw->n_bdevs_read] = strdup(br->names[i]);
		if (!read[raw->n_bdevs_read])
			return -ENOMEM;
		raw->n_bdevs_read++;
	}
	for (size_t i = 0; i < br->n; i++) {
		for (size_t j = 0; j < br->found[i].n; j++)
			v[k++] = br->found[i].v[j];
		free(br->found[i].v);
		br->found[i].v = NULL;
		br->found[i].n = 0;
	}
	raw->bdevs.n = k;
	return 0;
}

int observe_bdevs(struct rpc_client *c, const char *const *names, size_t n, struct observe_raw *raw,
		  char *errbuf, size_t errlen)
{
	struct bdev_reads br = {.c = c, .names = names, .n = n};
	size_t workers = n < OBSERVE_BDEV_INFLIGHT ? n : OBSERVE_BDEV_INFLIGHT;
	pthread_t th[OBSERVE_BDEV_INFLIGHT];
	size_t started = 0;
	int r = 0;

	if (n == 0)
		return 0;
	br.found = calloc(n, sizeof(*br.found));
	br.rc = calloc(n, sizeof(*br.rc));
	br.err = calloc(n, sizeof(*br.err));
	if (!br.found || !br.rc || !br.err) {
		r = -ENOMEM;
		snprintf(errbuf, errlen, "observe: out of memory");
		goto out;
	}
	atomic_init(&br.next, 0);
	/* one worker per call in flight: the client pipelines them on its connection */
	for (; started < workers; started++)
		if (pthread_create(&th[started], NULL, bdev_reader, &br) != 0)
			break;
	if (started == 0)
		bdev_reader(&br);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	raw->calls += (unsigned)n;
	for (size_t i = 0; i < n && r == 0; i++)
		if (br.rc[i] < 0 && br.rc[i] != -ENODEV)
			r = failed(br.rc[i], &br.err[i], errbuf, errlen);
	if (r == 0) {
		r = bdevs_merge(&br, raw);
		if (r < 0)
			snprintf(errbuf, errlen, "observe: out of memory");
	}
out:
	for (size_t i = 0; br.found && i < n; i++)
		rpc_bdev_list_free(&br.found[i]);
	free(br.found);
	free(br.rc);
	free(br.err);
	return r;
}

void observe_raw_clear(struct observe_raw *r)
{
	for (size_t i = 0; i < r->n_bdevs_read; i++)
		free(r->bdevs_read[i]);
	free(r->bdevs_read);
	rpc_nvme_ctrlr_list_free(&r->controllers);
	rpc_raid_list_free(&r->raids);
	rpc_vhost_list_free(&r->vhosts);
	rpc_key_list_free(&r->keys);
	rpc_bdev_list_free(&r->bdevs);
	memset(r, 0, sizeof(*r));
}

int observe_bdevs_wanted(struct rpc_client *c, const struct desired *d,
			 const struct obs_qos_seen *qos_seen, size_t n_qos_seen,
			 struct observe_raw *raw, char *errbuf, size_t errlen)
{
	struct observed_model lists = {0};
	struct obs_name *want = NULL;
	const char **names = NULL;
	size_t n = 0;
	int r;

	r = observed_from_raw(raw, NULL, 0, 0, &lists);
	if (r == 0)
		r = observe_want_bdevs(d, &lists.o, qos_seen, n_qos_seen, &want, &n);
	if (r == 0 && n && !(names = calloc(n, sizeof(*names))))
		r = -ENOMEM;
	if (r < 0) {
		snprintf(errbuf, errlen, "observe: %s", strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		names[i] = want[i].name;
	r = observe_bdevs(c, names, n, raw, errbuf, errlen);
out:
	free(names);
	free(want);
	observed_model_free(&lists);
	return r;
}
