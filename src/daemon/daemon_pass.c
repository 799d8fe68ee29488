/* SPDX-License-Identifier: Apache-2.0 */
/* One pass: desired state (store) + observed SPDK graph -> plan -> executor -> status. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hmap.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/daemon_flap.h"
#include "daemon/daemon_internal.h"
#include "daemon/daemon_metrics.h"
#include "daemon/daemon_notify.h"
#include "daemon/daemon_orphan.h"
#include "daemon/daemon_plan.h"
#include "daemon/daemon_warn.h"
#include "reconcile/exec_ops.h"
#include "reconcile/desired.h"
#include "reconcile/names.h"
#include "reconcile/observe.h"
#include "reconcile/observe_model.h"
#include "reconcile/observe_want.h"
#include "reconcile/plan.h"
#include "host/host.h"
#include "store/store.h"

/* What the host sees of one mapping's raid, in the store's observation form. */
static void describe_raid(const struct observe_raw *o, const struct hmap *raid_ix,
			  int64_t volume_id, struct store_observation *obs)
{
	char raid[MODEL_NAME_MAX];
	const struct rpc_raid *r = NULL;
	const size_t *at;
	size_t n = 0;

	obs->rebuild_percent = -1;
	names_raid((uint64_t)volume_id, raid, sizeof(raid));
	if ((at = hmap_get(raid_ix, raid)))
		r = &o->raids.v[*at];
	if (!r)
		return;
	/* raid1 with a lost member still says "online": only the operational count tells */
	if (strcmp(r->state, "online") == 0 && r->num_base_bdevs_operational < r->num_base_bdevs)
		snprintf(obs->raid_state, sizeof(obs->raid_state), "degraded");
	else
		util_strlcpy(obs->raid_state, r->state, sizeof(obs->raid_state));
	const char *target = r->has_process && r->process_target ? r->process_target : "";
	if (r->has_process)
		obs->rebuild_percent = (int)r->process_percent;
	for (size_t i = 0; i < r->n_bases; i++) {
		const char *name = r->bases[i].name;
		const char *st = !name			     ? "missing"
				 : strcmp(name, target) == 0 ? "rebuilding"
				 : r->bases[i].is_configured ? "ok"
							     : "missing";
		int w = snprintf(obs->members + n, sizeof(obs->members) - n, "%s%s:%s",
				 i ? "," : "", name ? name : "-", st);
		if (w < 0 || (size_t)w >= sizeof(obs->members) - n)
			break;
		n += (size_t)w;
	}
}

/* FNV-1a over the fields an operator reads, to write an observation only when it changed. */
static uint64_t obs_hash(const struct store_observation *o)
{
	uint64_t h = 1469598103934665603ull;
	const char *parts[] = {o->raid_state, o->members, o->last_error, o->path_resets,
			       o->reset_in_progress ? "r" : ""};

	for (size_t p = 0; p < 5; p++) {
		for (const char *s = parts[p]; *s; s++)
			h = (h ^ (unsigned char)*s) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	return (h ^ (uint64_t)(o->rebuild_percent + 1)) * 1099511628211ull;
}

/*
 * What a pass knows of resets, for the mappings' status, indexed once per pass: every mapping
 * looks up its volume and controllers, so a scan of the lists each time would cost volumes x
 * controllers string compares on every idle pass.
 */
struct pass_resets {
	const struct desired_model *dm;
	const struct observe_raw *o;
	const struct obs_flap *flaps;
	size_t n_flaps;
	struct hmap *volumes;	/* volume id -> index in dm->d.volumes */
	struct hmap *resetting; /* names of controllers with a resetting path (no value) */
	struct hmap *flap_ix;	/* controller name -> index in flaps */
};

static int pass_resets_index(struct pass_resets *pr)
{
	char key[24];
	size_t *at;

	pr->volumes = hmap_new(sizeof(size_t));
	pr->resetting = hmap_new(sizeof(char));
	pr->flap_ix = hmap_new(sizeof(size_t));
	if (!pr->volumes || !pr->resetting || !pr->flap_ix)
		return -ENOMEM;
	for (size_t i = 0; i < pr->dm->d.n_volumes; i++) {
		snprintf(key, sizeof(key), "%" PRIu64, pr->dm->d.volumes[i].id);
		if (!(at = hmap_put(pr->volumes, key, NULL)))
			return -ENOMEM;
		*at = i;
	}
	for (size_t i = 0; i < pr->o->controllers.n; i++)
		for (size_t j = 0; j < pr->o->controllers.v[i].n_paths; j++)
			if (pr->o->controllers.v[i].paths[j].state &&
			    strcmp(pr->o->controllers.v[i].paths[j].state, "resetting") == 0 &&
			    !hmap_put(pr->resetting, pr->o->controllers.v[i].name, NULL))
				return -ENOMEM;
	for (size_t k = 0; k < pr->n_flaps; k++) {
		if (!(at = hmap_put(pr->flap_ix, pr->flaps[k].ctrlr, NULL)))
			return -ENOMEM;
		*at = k;
	}
	return 0;
}

static void pass_resets_free(struct pass_resets *pr)
{
	hmap_free(pr->volumes);
	hmap_free(pr->resetting);
	hmap_free(pr->flap_ix);
}

/* The volume's controllers: is one resetting, and what SPDK's resets added up to. */
static void describe_resets(const struct pass_resets *pr, int64_t volume_id,
			    struct store_observation *obs)
{
	const struct volume *v = NULL;
	const size_t *at;
	char key[24];
	size_t n = 0;

	snprintf(key, sizeof(key), "%" PRId64, volume_id);
	if ((at = hmap_get(pr->volumes, key)))
		v = &pr->dm->d.volumes[*at];
	for (size_t i = 0; v && i < v->n_replicas; i++) {
		char ctrlr[MODEL_NAME_MAX];

		if (names_ctrlr(&v->replicas[i], ctrlr, sizeof(ctrlr)) != 0)
			continue;
		if (hmap_get(pr->resetting, ctrlr))
			obs->reset_in_progress = true;
		if ((at = hmap_get(pr->flap_ix, ctrlr))) {
			const struct obs_flap *f = &pr->flaps[*at];
			int w;

			if (!f->resets && !f->failed)
				continue;
			w = snprintf(obs->path_resets + n, sizeof(obs->path_resets) - n,
				     "%s%s:resets=%u,failed=%u%s", n ? ";" : "", ctrlr, f->resets,
				     f->failed, f->given_up ? ",given_up" : "");
			if (w < 0 || (size_t)w >= sizeof(obs->path_resets) - n) {
				obs->path_resets[n] = '\0';
				break;
			}
			n += (size_t)w;
		}
	}
}

static uint64_t reset_hash(const struct store_observation *o)
{
	uint64_t h = 1469598103934665603ull;

	for (const char *s = o->path_resets; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (h ^ (o->reset_in_progress ? 1u : 2u)) * 1099511628211ull;
}

/* The statuses of one pass, written together in one transaction at its end. */
struct obs_batch {
	struct store_observation *v;
	uint64_t *hash, *rhash;
	size_t n, cap;
};

static void observation_write(struct daemon *d, struct obs_batch *b,
			      const struct daemon_plan_chain *c, const struct exec_chain *ec,
			      const struct pass_resets *pr, const struct hmap *raid_ix,
			      const char *path_err)
{
	struct store_observation obs = {.mapping_id = c->mapping_id};
	const struct observe_raw *o = pr->o;

	bool torn_down = ec->status == EXEC_CHAIN_DONE && c->n > 0 &&
			 c->ops[c->n - 1].kind == EXEC_OP_ADVANCE_MAPPING &&
			 c->ops[c->n - 1].to == STORE_MAPPING_DETACHED;
	/* After a teardown nothing is left to describe; the pre-pass view would be stale. */
	if (torn_down)
		obs.rebuild_percent = -1;
	else
		describe_raid(o, raid_ix, c->volume_id, &obs);
	if (!torn_down)
		describe_resets(pr, c->volume_id, &obs);
	if (ec->status == EXEC_CHAIN_FAILED)
		util_strlcpy(obs.last_error, ec->error, sizeof(obs.last_error));
	else if (c->blocked && path_err)
		snprintf(obs.last_error, sizeof(obs.last_error), "%s; %s", c->note, path_err);
	else if (c->blocked)
		util_strlcpy(obs.last_error, c->note, sizeof(obs.last_error));
	else if (path_err)
		util_strlcpy(obs.last_error, path_err, sizeof(obs.last_error));
	if (obs.last_error[0])
		obs.last_error_at = util_wall_s();
	uint64_t h = obs_hash(&obs);
	if (daemon_obs_cache_same(d, c->mapping_id, h))
		return;
	/* A status an operator must see is logged once, when it changes. */
	if (c->blocked)
		log_warn("mapping %lld (volume %lld): %s", (long long)c->mapping_id,
			 (long long)c->volume_id, c->note);
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct store_observation *v = realloc(b->v, cap * sizeof(*v));
		if (v)
			b->v = v;
		uint64_t *hs = realloc(b->hash, cap * sizeof(*hs));
		if (hs)
			b->hash = hs;
		uint64_t *rs = realloc(b->rhash, cap * sizeof(*rs));
		if (rs)
			b->rhash = rs;
		if (!v || !hs || !rs) /* not recorded, not cached: the next pass tries again */
			return;
		b->cap = cap;
	}
	b->hash[b->n] = h;
	b->rhash[b->n] = reset_hash(&obs);
	b->v[b->n++] = obs;
}

/* One commit for every status of the pass, not one per mapping. */
static void observation_flush(struct daemon *d, struct obs_batch *b)
{
	struct store_error err = {0};
	bool *written = calloc(b->n ? b->n : 1, sizeof(*written));
	int r = -ENOMEM;

	if (written && b->n) {
		pthread_mutex_lock(&d->store_lock);
		r = store_observation_put_many(d->store, b->v, b->n, written, &err);
		pthread_mutex_unlock(&d->store_lock);
	}
	if (r < 0 && b->n)
		warn_repeat(d->warns, "status", util_now_ms(), "recording the status of %zu mappings: %s",
			    b->n, written ? err.message : "out of memory");
	else if (b->n)
		warn_clear(d->warns, "status", util_now_ms());
	for (size_t i = 0; r == 0 && i < b->n; i++)
		if (written[i]) {
			daemon_obs_cache_set(d, b->v[i].mapping_id, b->hash[i], b->rhash[i]);
			d->statuses_written++;
		}
	free(written);
	free(b->v);
	free(b->hash);
	free(b->rhash);
	*b = (struct obs_batch){0};
}

static void obs_key(int64_t mapping_id, char *key, size_t len)
{
	snprintf(key, len, "%lld", (long long)mapping_id);
}

/*
 * A mapping whose chain did not run in this pass (backed off) still shows when its controllers
 * reset: only the reset fields and the raid's view change.
 */
static void resets_write(struct daemon *d, const struct pass_resets *pr, const struct hmap *raid_ix,
			 int64_t mapping_id, int64_t volume_id)
{
	struct store_observation obs = {.mapping_id = mapping_id};
	struct store_error err = {0};
	uint64_t rh;
	int r;

	describe_resets(pr, volume_id, &obs);
	rh = reset_hash(&obs);
	if (daemon_obs_reset_same(d, mapping_id, rh))
		return;
	pthread_mutex_lock(&d->store_lock);
	r = store_observation_get(d->store, mapping_id, &obs, &err);
	if (r == -ENOENT) {
		memset(&obs, 0, sizeof(obs));
		obs.mapping_id = mapping_id;
		r = 0;
	}
	if (r == 0 && reset_hash(&obs) != rh) {
		obs.path_resets[0] = '\0';
		obs.reset_in_progress = false;
		obs.raid_state[0] = obs.members[0] = '\0';
		obs.rebuild_percent = -1;
		describe_raid(pr->o, raid_ix, volume_id, &obs);
		describe_resets(pr, volume_id, &obs);
		r = store_observation_put(d->store, &obs, &err);
	}
	pthread_mutex_unlock(&d->store_lock);
	if (r < 0 && r != -ENOENT)
		warn_repeat(d->warns, "status", util_now_ms(), "mapping %lld: recording resets: %s",
			    (long long)mapping_id, err.message);
	else if (r == 0) {
		daemon_obs_cache_set(d, mapping_id, obs_hash(&obs), rh);
		d->statuses_written++;
	}
}

/* The cached entry of a mapping, or NULL when this process has written none. */
static struct obs_cache_entry *obs_entry(struct daemon *d, int64_t mapping_id)
{
	char key[24];

	obs_key(mapping_id, key, sizeof(key));
	return d->obs ? hmap_get(d->obs, key) : NULL;
}

bool daemon_obs_cache_same(struct daemon *d, int64_t mapping_id, uint64_t h)
{
	const struct obs_cache_entry *e = obs_entry(d, mapping_id);

	return e && e->hash == h;
}

bool daemon_obs_reset_same(struct daemon *d, int64_t mapping_id, uint64_t rh)
{
	const struct obs_cache_entry *e = obs_entry(d, mapping_id);

	/* not written by this process: compare with the stored record once */
	return e && e->reset_hash == rh;
}

void daemon_obs_cache_set(struct daemon *d, int64_t mapping_id, uint64_t h, uint64_t rh)
{
	char key[24];
	struct obs_cache_entry *e;

	if (!d->obs && !(d->obs = hmap_new(sizeof(struct obs_cache_entry))))
		return;
	obs_key(mapping_id, key, sizeof(key));
	e = hmap_put(d->obs, key, NULL);
	if (e) {
		e->hash = h;
		e->reset_hash = rh;
		e->pass = d->obs_pass;
	}
}

void daemon_obs_cache_touch(struct daemon *d, int64_t mapping_id)
{
	struct obs_cache_entry *e = obs_entry(d, mapping_id);

	if (e)
		e->pass = d->obs_pass;
}

static bool planned_now(const char *key, void *val, void *arg)
{
	(void)key;
	return ((struct obs_cache_entry *)val)->pass == *(uint64_t *)arg;
}

void daemon_obs_cache_prune(struct daemon *d)
{
	if (d->obs)
		hmap_filter(d->obs, planned_now, &d->obs_pass);
}

/* Every observed name, for first-seen times. */
static void clock_observed(struct orphan_clock *clk, const struct observe_raw *o, int64_t now)
{
	orphan_clock_begin(clk);
	for (size_t i = 0; i < o->controllers.n; i++)
		orphan_clock_mark(clk, o->controllers.v[i].name, now);
	for (size_t i = 0; i < o->bdevs.n; i++)
		orphan_clock_mark(clk, o->bdevs.v[i].name, now);
	for (size_t i = 0; i < o->raids.n; i++)
		orphan_clock_mark(clk, o->raids.v[i].name, now);
	for (size_t i = 0; i < o->vhosts.n; i++)
		orphan_clock_mark(clk, o->vhosts.v[i].ctrlr, now);
	/*
	 * A bdev is read only while its volume is in transition, so its time runs while it is
	 * read every pass (the superblock assembly wait) and starts again after a pause.
	 */
	orphan_clock_end(clk);
}

/*
 * Host facts for the planner: re-read with the desired state (something changed) and at least
 * every DAEMON_REREAD_MS, not on every idle pass. NULL when they cannot be read.
 */
static const struct host_facts *facts_get(struct daemon *d, bool fresh)
{
	uint64_t now = util_now_ms();
	char herr[256] = "";
	char ips[DAEMON_MAX_RDMA_IPS * 65] = "";

	if (!fresh && d->facts_read_ms && now - d->facts_read_ms < DAEMON_REREAD_MS)
		return d->have_facts ? &d->facts : NULL;
	if (d->have_facts)
		host_facts_free(&d->facts);
	d->have_facts = false;
	d->facts_read_ms = now;
	daemon_config_rdma_ips(d->cfg, ips, sizeof(ips));
	/* Without host facts the planner reports sources and PCIe drivers as unknown. */
	d->have_facts =
		host_facts_read(d->cfg->sysfs_root, ips, &d->facts, herr, sizeof(herr)) == 0;
	if (!d->have_facts)
		log_debug("host facts under %s: %s", d->cfg->sysfs_root, herr);
	return d->have_facts ? &d->facts : NULL;
}

void daemon_state_free(struct daemon *d)
{
	store_desired_free(d->desired);
	d->desired = NULL;
	if (d->have_facts)
		host_facts_free(&d->facts);
	d->have_facts = false;
	hmap_free(d->obs);
	d->obs = NULL;
}

static void qos_seen_update(struct daemon *d, const struct observed *o)
{
	struct obs_qos_seen *v;
	size_t n;

	if (observe_qos_seen_update(o, d->qos_seen, d->n_qos_seen, &v, &n) < 0) {
		/* forgetting is safe: every served raid's QoS is read again */
		n = 0;
		v = NULL;
	}
	free(d->qos_seen);
	d->qos_seen = v;
	d->n_qos_seen = n;
}

/* desired + observed -> the planner -> the executor's chains. */
static int plan_pass(struct daemon *d, const struct store_desired *desired,
		     const struct desired_model *dm, bool fresh, const struct observe_raw *o,
		     const struct pass_resets *pr, struct daemon_plan *out, char *errbuf,
		     size_t errlen)
{
	struct observed_model om = {0};
	struct obs_first_seen *fs = NULL;
	const struct host_facts *hf;
	struct plan plan = {0};
	int64_t now = orphan_clock_now_s();
	size_t nfs = 0;
	int r;

	clock_observed(d->orphans, o, now);
	r = orphan_clock_snapshot(d->orphans, &fs, &nfs);
	if (r == 0)
		r = observed_from_raw(o, fs, nfs, now, &om);
	if (r < 0) {
		snprintf(errbuf, errlen, "plan input: %s", strerror(-r));
		goto out;
	}
	hf = facts_get(d, fresh);
	qos_seen_update(d, &om.o);
	om.o.flaps = pr->flaps;
	om.o.n_flaps = pr->n_flaps;
	om.o.flap_window_s = d->cfg->flap_window_s;
	r = plan_build(&dm->d, &om.o, hf, &plan);
	if (r < 0) {
		snprintf(errbuf, errlen, "plan: %s", strerror(-r));
		goto out;
	}
	if (log_get_level() >= LOG_LVL_DEBUG) {
		char line[1024];
		for (size_t i = 0; i < plan.n_actions; i++) {
			plan_action_describe(&plan.actions[i], line, sizeof(line));
			log_debug("plan: %s", line);
		}
	}
	r = daemon_plan_from_actions(&plan, desired, out);
	if (r < 0)
		snprintf(errbuf, errlen, "plan: %s", strerror(-r));
out:
	plan_free(&plan);
	observed_model_free(&om);
	free(fs);
	return r;
}

/*
 * The desired state for this pass: read again when the watch fired, when there is no watch,
 * after a pass that did work (its own writes), or after DAEMON_REREAD_MS; otherwise the last
 * read, so an idle pass does not pay for every volume that did not change. *fresh says which.
 */
static int desired_get(struct daemon *d, bool *fresh, char *errbuf, size_t errlen)
{
	struct store_desired *desired = NULL;
	struct store_error serr = {0};
	uint64_t now = util_now_ms();
	int r;

	*fresh = false;
	if (d->desired && !d->desired_stale && d->watch &&
	    now - d->desired_read_ms < DAEMON_REREAD_MS)
		return 0;
	/* cleared before the read: a change from now on fires the watch again */
	d->desired_stale = false;
	pthread_mutex_lock(&d->store_lock);
	r = store_desired_get(d->store, d->cfg->host, &desired, &serr);
	pthread_mutex_unlock(&d->store_lock);
	if (r < 0) {
		d->desired_stale = true;
		snprintf(errbuf, errlen, "database: %s", serr.message);
		return r;
	}
	store_desired_free(d->desired);
	d->desired = desired;
	d->desired_read_ms = now;
	*fresh = true;
	return 0;
}

/* What a volume's replica attaches ("path:" chains) left, for its mapping's status. */
struct path_outcome {
	const char *err; /* the first failure's message, or NULL */
	bool waits;	 /* an attach did not finish (backoff, stop) */
};

/* volume id -> struct path_outcome, built once per pass instead of a scan per mapping. */
static struct hmap *path_outcomes(const struct daemon_plan *plan, const struct exec_chain *chains)
{
	struct hmap *m = hmap_new(sizeof(struct path_outcome));
	char key[24];

	if (!m)
		return NULL;
	for (size_t k = 0; k < plan->n; k++) {
		struct path_outcome *po;

		if (strncmp(plan->chains[k].group, "path:", 5) != 0)
			continue;
		snprintf(key, sizeof(key), "%lld", (long long)plan->chains[k].volume_id);
		if (!(po = hmap_put(m, key, NULL))) {
			hmap_free(m);
			return NULL;
		}
		if (chains[k].status == EXEC_CHAIN_FAILED && !po->err)
			po->err = chains[k].error;
		else if (chains[k].status != EXEC_CHAIN_DONE)
			po->waits = true;
	}
	return m;
}

/* raid name -> index in o->raids, for the status of every mapping. */
static struct hmap *raid_index(const struct observe_raw *o)
{
	struct hmap *m = hmap_new(sizeof(size_t));

	for (size_t i = 0; m && i < o->raids.n; i++) {
		size_t *at = hmap_put(m, o->raids.v[i].name, NULL);
		if (!at) {
			hmap_free(m);
			return NULL;
		}
		*at = i;
	}
	return m;
}

/* The executor's step, showing progress to the watchdog thread before and after each call. */
static int step_run(void *ctx, const struct exec_chain *chain, const struct exec_step *step,
		    char *errbuf, size_t errlen)
{
	int r;

	daemon_notify_watchdog();
	r = exec_op_run(ctx, chain, step, errbuf, errlen);
	daemon_notify_watchdog();
	return r;
}

int daemon_pass(struct daemon *d, struct daemon_pass_result *res, char *errbuf, size_t errlen)
{
	const struct store_desired *desired;
	struct observe_raw o = {0};
	struct daemon_plan plan = {0};
	struct exec_chain *chains = NULL;
	struct hmap *paths = NULL, *raid_ix = NULL;
	struct obs_batch batch = {0};
	struct desired_model dm = {0};
	struct obs_flap *flaps = NULL;
	struct pass_resets pr = {.dm = &dm, .o = &o};
	bool fresh;
	int r;

	uint64_t t[7] = {util_now_ms()};

	memset(res, 0, sizeof(*res));
	d->obs_pass++;
	d->statuses_written = 0;
	r = desired_get(d, &fresh, errbuf, errlen);
	if (r < 0)
		return r;
	desired = d->desired;
	r = desired_from_store(desired, d->cfg, &dm);
	if (r < 0) {
		snprintf(errbuf, errlen, "plan input: %s", strerror(-r));
		goto out;
	}
	daemon_notify_watchdog();
	t[1] = util_now_ms();
	r = observe_spdk(daemon_spdk_rpc(d->spdk), &o, errbuf, errlen);
	if (r == 0) {
		flap_observe(d->flaps, &o.controllers, (int64_t)(util_now_ms() / 1000));
		r = flap_summary(d->flaps, &flaps, &pr.n_flaps);
		pr.flaps = flaps;
		if (r < 0)
			snprintf(errbuf, errlen, "out of memory");
	}
	t[2] = util_now_ms();
	if (r == 0 && (r = pass_resets_index(&pr)) < 0)
		snprintf(errbuf, errlen, "out of memory");
	if (r == 0)
		r = observe_bdevs_wanted(daemon_spdk_rpc(d->spdk), &dm.d, d->qos_seen,
					 d->n_qos_seen, &o, errbuf, errlen);
	t[3] = util_now_ms();
	if (r < 0)
		goto out;
	daemon_notify_watchdog();
	r = plan_pass(d, desired, &dm, fresh, &o, &pr, &plan, errbuf, errlen);
	daemon_notify_watchdog();
	if (r < 0)
		goto out;
	chains = calloc(plan.n ? plan.n : 1, sizeof(*chains));
	if (!chains) {
		r = -ENOMEM;
		snprintf(errbuf, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < plan.n; i++) {
		struct daemon_plan_chain *c = &plan.chains[i];
		for (size_t k = 0; k < c->n; k++)
			c->steps[k].arg = &c->ops[k];
		chains[i] = (struct exec_chain){.key = c->key,
						.steps = c->steps,
						.n_steps = c->n,
						.after = c->after,
						.n_after = c->n_after};
		res->actions += (unsigned)c->n;
	}
	struct exec_ctx x = {
		.rpc = daemon_spdk_rpc(d->spdk),
		.hostnqn = d->cfg->hostnqn,
		.cpumask = d->cfg->cpumask,
		.reconnect_delay_s = d->cfg->reconnect_delay_s,
		.ctrlr_loss_s = d->cfg->ctrlr_loss_s,
		.fast_io_fail_s = d->cfg->fast_io_fail_s,
		.store = d->store,
		.store_lock = &d->store_lock,
		.commit = d->commit,
	};
	t[4] = util_now_ms();
	exec_run(chains, plan.n, d->cfg->concurrency, step_run, &x, d->backoff, d->stop);
	t[5] = util_now_ms();
	res->clean = true;
	for (size_t i = 0; i < plan.n; i++) {
		struct daemon_plan_chain *c = &plan.chains[i];
		struct exec_chain *ec = &chains[i];
		if (ec->status == EXEC_CHAIN_DONE && c->n > 0)
			res->finished++;
		if (ec->status == EXEC_CHAIN_FAILED) {
			res->failed++;
			/* retried on its backoff: said once, then counted */
			warn_repeat(d->warns, c->key, util_now_ms(), "%s", ec->error);
		} else if (ec->status == EXEC_CHAIN_DONE && c->n > 0) {
			warn_clear(d->warns, c->key, util_now_ms());
		} else if (ec->status != EXEC_CHAIN_DONE) {
			res->deferred++;
		}
		if (c->blocked) {
			res->waiting++;
			if (ec->status == EXEC_CHAIN_DONE)
				log_debug("%s: %s", c->key, c->note);
		}
		if (ec->status != EXEC_CHAIN_DONE || c->blocked)
			res->clean = false;
	}
	paths = path_outcomes(&plan, chains);
	raid_ix = raid_index(&o);
	if (!paths || !raid_ix) {
		r = -ENOMEM;
		snprintf(errbuf, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < plan.n; i++) {
		struct daemon_plan_chain *c = &plan.chains[i];
		struct exec_chain *ec = &chains[i];
		const struct path_outcome *po;
		const char *path_err = NULL;
		bool path_waits = false;
		char key[24];

		if (!c->mapping_id)
			continue;
		daemon_obs_cache_touch(d, c->mapping_id);
		/* the volume's own replica attaches: their failure is part of its status */
		snprintf(key, sizeof(key), "%lld", (long long)c->volume_id);
		if ((po = hmap_get(paths, key))) {
			path_err = po->err;
			path_waits = po->waits;
		}
		/* A chain that did not run (backoff, stop) keeps the status its last run left,
		 * and so does a mapping whose failing attach waits out its backoff; one skipped
		 * because its attach failed now says why. */
		if ((ec->status == EXEC_CHAIN_DONE && !(path_waits && !path_err)) ||
		    ec->status == EXEC_CHAIN_FAILED ||
		    (ec->status == EXEC_CHAIN_SKIPPED && path_err))
			observation_write(d, &batch, c, ec, &pr, raid_ix, path_err);
		else
			resets_write(d, &pr, raid_ix, c->mapping_id, c->volume_id);
	}
	observation_flush(d, &batch);
	if (d->metrics)
		metrics_observed(d->metrics, &dm.d, &o, flaps, pr.n_flaps);
	res->statuses = d->statuses_written;
	t[6] = util_now_ms();
	log_debug("pass: desired %llu ms, lists %llu ms, bdevs %llu ms, plan %llu ms, exec %llu ms, "
		  "status %llu ms", (unsigned long long)(t[1] - t[0]), (unsigned long long)(t[2] - t[1]),
		  (unsigned long long)(t[3] - t[2]), (unsigned long long)(t[4] - t[3]),
		  (unsigned long long)(t[5] - t[4]), (unsigned long long)(t[6] - t[5]));
	res->changed = atomic_load(&x.mutations) > 0;
	res->converged = res->clean && res->actions == 0;
	/* Mappings gone from the plan take their cached status with them. */
	daemon_obs_cache_prune(d);
	exec_backoff_prune(d->backoff, util_now_ms());
	warn_prune(d->warns, util_now_ms());
	/* This pass's own writes (mapping states, replica records) are read back next pass. */
	if (res->actions > 0)
		d->desired_stale = true;
	r = 0;
out:
	pass_resets_free(&pr);
	hmap_free(raid_ix);
	hmap_free(paths);
	free(chains);
	daemon_plan_free(&plan);
	observe_raw_clear(&o);
	free(flaps);
	desired_model_free(&dm);
	return r;
}
