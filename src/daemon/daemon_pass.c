/* SPDX-License-Identifier: Apache-2.0 */
/* One pass: desired state (store) + observed SPDK graph -> plan -> executor -> status. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/daemon_flap.h"
#include "daemon/daemon_internal.h"
#include "daemon/daemon_orphan.h"
#include "daemon/daemon_plan.h"
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
static void describe_raid(const struct observe_raw *o, int64_t volume_id,
			  struct store_observation *obs)
{
	char raid[MODEL_NAME_MAX];
	const struct rpc_raid *r = NULL;
	size_t n = 0;

	obs->rebuild_percent = -1;
	names_raid((uint64_t)volume_id, raid, sizeof(raid));
	for (size_t i = 0; i < o->raids.n && !r; i++)
		if (strcmp(o->raids.v[i].name, raid) == 0)
			r = &o->raids.v[i];
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

/* What a pass knows of resets, for the mappings' status. */
struct pass_resets {
	const struct desired_model *dm;
	const struct observe_raw *o;
	const struct obs_flap *flaps;
	size_t n_flaps;
};

static bool ctrlr_resetting(const struct observe_raw *o, const char *name)
{
	for (size_t i = 0; i < o->controllers.n; i++) {
		if (strcmp(o->controllers.v[i].name, name) != 0)
			continue;
		for (size_t j = 0; j < o->controllers.v[i].n_paths; j++)
			if (o->controllers.v[i].paths[j].state &&
			    strcmp(o->controllers.v[i].paths[j].state, "resetting") == 0)
				return true;
	}
	return false;
}

/* The volume's controllers: is one resetting, and what SPDK's resets added up to. */
static void describe_resets(const struct pass_resets *pr, int64_t volume_id,
			    struct store_observation *obs)
{
	const struct volume *v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < pr->dm->d.n_volumes && !v; i++)
		if (pr->dm->d.volumes[i].id == (uint64_t)volume_id)
			v = &pr->dm->d.volumes[i];
	for (size_t i = 0; v && i < v->n_replicas; i++) {
		char ctrlr[MODEL_NAME_MAX];

		if (names_ctrlr(&v->replicas[i], ctrlr, sizeof(ctrlr)) != 0)
			continue;
		if (ctrlr_resetting(pr->o, ctrlr))
			obs->reset_in_progress = true;
		for (size_t k = 0; k < pr->n_flaps; k++) {
			const struct obs_flap *f = &pr->flaps[k];
			int w;

			if (strcmp(f->ctrlr, ctrlr) != 0 || (!f->resets && !f->failed))
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

static void observation_write(struct daemon *d, const struct daemon_plan_chain *c,
			      const struct exec_chain *ec, const struct pass_resets *pr,
			      const char *path_err)
{
	struct store_observation obs = {.mapping_id = c->mapping_id};
	struct store_error err = {0};
	const struct observe_raw *o = pr->o;

	bool torn_down = ec->status == EXEC_CHAIN_DONE && c->n > 0 &&
			 c->ops[c->n - 1].kind == EXEC_OP_ADVANCE_MAPPING &&
			 c->ops[c->n - 1].to == STORE_MAPPING_DETACHED;
	/* After a teardown nothing is left to describe; the pre-pass view would be stale. */
	if (torn_down)
		obs.rebuild_percent = -1;
	else
		describe_raid(o, c->volume_id, &obs);
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
	pthread_mutex_lock(&d->store_lock);
	int r = store_observation_put(d->store, &obs, &err);
	pthread_mutex_unlock(&d->store_lock);
	if (r < 0 && r != -ENOENT)
		log_warn("mapping %lld: recording status: %s", (long long)c->mapping_id,
			 err.message);
	else
		daemon_obs_cache_set(d, c->mapping_id, h, reset_hash(&obs));
}

/*
 * A mapping no chain wrote for in this pass (nothing to do, or its volume frozen by a reset)
 * still shows when its controllers reset: only the reset fields and the raid's view change.
 */
static void resets_write(struct daemon *d, const struct pass_resets *pr, int64_t mapping_id,
			 int64_t volume_id)
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
		describe_raid(pr->o, volume_id, &obs);
		describe_resets(pr, volume_id, &obs);
		r = store_observation_put(d->store, &obs, &err);
	}
	pthread_mutex_unlock(&d->store_lock);
	if (r < 0 && r != -ENOENT)
		log_warn("mapping %lld: recording resets: %s", (long long)mapping_id, err.message);
	else if (r == 0)
		daemon_obs_cache_set(d, mapping_id, obs_hash(&obs), rh);
}

bool daemon_obs_reset_same(struct daemon *d, int64_t mapping_id, uint64_t rh)
{
	for (size_t i = 0; i < d->n_obs; i++)
		if (d->obs[i].mapping_id == mapping_id)
			return d->obs[i].reset_hash == rh;
	return false; /* not written by this process: compare with the stored record once */
}

bool daemon_obs_cache_same(struct daemon *d, int64_t mapping_id, uint64_t h)
{
	for (size_t i = 0; i < d->n_obs; i++)
		if (d->obs[i].mapping_id == mapping_id)
			return d->obs[i].hash == h;
	return false;
}

void daemon_obs_cache_set(struct daemon *d, int64_t mapping_id, uint64_t h, uint64_t rh)
{
	for (size_t i = 0; i < d->n_obs; i++) {
		if (d->obs[i].mapping_id == mapping_id) {
			d->obs[i].hash = h;
			d->obs[i].reset_hash = rh;
			return;
		}
	}
	if (d->n_obs == d->cap_obs) {
		size_t cap = d->cap_obs ? d->cap_obs * 2 : 64;
		struct obs_cache_entry *n = realloc(d->obs, cap * sizeof(*n));
		if (!n)
			return;
		d->obs = n;
		d->cap_obs = cap;
	}
	d->obs[d->n_obs++] =
		(struct obs_cache_entry){.mapping_id = mapping_id, .hash = h, .reset_hash = rh};
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

/*
 * The bdevs this pass needs, read by name (never an unfiltered bdev_get_bdevs: a controller
 * reset may start at any moment between two calls).
 */
static int observe_bdevs_wanted(struct daemon *d, const struct desired_model *dm,
				struct observe_raw *o, char *errbuf, size_t errlen)
{
	struct observed_model lists = {0};
	struct obs_name *want = NULL;
	const char **names = NULL;
	size_t n = 0;
	int r;

	r = observed_from_raw(o, NULL, 0, 0, &lists);
	if (r == 0)
		r = observe_want_bdevs(&dm->d, &lists.o, d->qos_seen, d->n_qos_seen, &want, &n);
	if (r == 0 && n) {
		names = calloc(n, sizeof(*names));
		if (!names)
			r = -ENOMEM;
	}
	if (r < 0) {
		snprintf(errbuf, errlen, "observe: %s", strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		names[i] = want[i].name;
	r = observe_bdevs(daemon_spdk_rpc(d->spdk), names, n, o, errbuf, errlen);
out:
	free(names);
	free(want);
	observed_model_free(&lists);
	return r;
}

/* desired + observed -> the planner -> the executor's chains. */
static int plan_pass(struct daemon *d, const struct store_desired *desired,
		     const struct desired_model *dm, const struct observe_raw *o,
		     const struct pass_resets *pr, struct daemon_plan *out, char *errbuf,
		     size_t errlen)
{
	struct observed_model om = {0};
	struct obs_first_seen *fs = NULL;
	struct host_facts hf = {0};
	struct plan plan = {0};
	char herr[256] = "";
	int64_t now = util_wall_s();
	bool have_facts = false;
	int r;

	clock_observed(d->orphans, o, now);
	size_t nfs = orphan_clock_size(d->orphans);
	fs = calloc(nfs ? nfs : 1, sizeof(*fs));
	if (!fs) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nfs; i++)
		util_strlcpy(fs[i].name, orphan_clock_entry(d->orphans, i, &fs[i].first_seen_s),
			     sizeof(fs[i].name));
	r = observed_from_raw(o, fs, nfs, now, &om);
	if (r < 0) {
		snprintf(errbuf, errlen, "plan input: %s", strerror(-r));
		goto out;
	}
	char ips[DAEMON_MAX_RDMA_IPS * 65] = "";
	for (unsigned i = 0; i < d->cfg->n_rdma_ips; i++) {
		strncat(ips, i ? "," : "", sizeof(ips) - strlen(ips) - 1);
		strncat(ips, d->cfg->rdma_ips[i], sizeof(ips) - strlen(ips) - 1);
	}
	/* Without host facts the planner reports sources and PCIe drivers as unknown. */
	have_facts = host_facts_read(d->cfg->sysfs_root, ips, &hf, herr, sizeof(herr)) == 0;
	if (!have_facts)
		log_debug("host facts under %s: %s", d->cfg->sysfs_root, herr);
	qos_seen_update(d, &om.o);
	om.o.flaps = pr->flaps;
	om.o.n_flaps = pr->n_flaps;
	om.o.flap_window_s = d->cfg->flap_window_s;
	r = plan_build(&dm->d, &om.o, have_facts ? &hf : NULL, &plan);
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
	if (have_facts)
		host_facts_free(&hf);
	observed_model_free(&om);
	free(fs);
	return r;
}

int daemon_pass(struct daemon *d, struct daemon_pass_result *res, char *errbuf, size_t errlen)
{
	struct store_desired *desired = NULL;
	struct store_error serr = {0};
	struct observe_raw o = {0};
	struct desired_model dm = {0};
	struct obs_flap *flaps = NULL;
	struct pass_resets pr = {.dm = &dm, .o = &o};
	struct daemon_plan plan = {0};
	struct exec_chain *chains = NULL;
	int r;

	memset(res, 0, sizeof(*res));
	pthread_mutex_lock(&d->store_lock);
	r = store_desired_get(d->store, d->cfg->host, &desired, &serr);
	pthread_mutex_unlock(&d->store_lock);
	if (r < 0) {
		snprintf(errbuf, errlen, "database: %s", serr.message);
		return r;
	}
	r = desired_from_store(desired, d->cfg, &dm);
	if (r < 0) {
		snprintf(errbuf, errlen, "plan input: %s", strerror(-r));
		goto out;
	}
	r = observe_spdk(daemon_spdk_rpc(d->spdk), &o, errbuf, errlen);
	if (r == 0) {
		flap_observe(d->flaps, &o.controllers, (int64_t)(util_now_ms() / 1000));
		r = flap_summary(d->flaps, &flaps, &pr.n_flaps);
		pr.flaps = flaps;
		if (r < 0)
			snprintf(errbuf, errlen, "out of memory");
	}
	if (r == 0)
		r = observe_bdevs_wanted(d, &dm, &o, errbuf, errlen);
	if (r < 0)
		goto out;
	r = plan_pass(d, desired, &dm, &o, &pr, &plan, errbuf, errlen);
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
		chains[i] = (struct exec_chain){.key = c->key, .steps = c->steps, .n_steps = c->n};
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
	};
	exec_run(chains, plan.n, d->cfg->concurrency, exec_op_run, &x, d->backoff, d->stop);
	res->clean = true;
	for (size_t i = 0; i < plan.n; i++) {
		struct daemon_plan_chain *c = &plan.chains[i];
		struct exec_chain *ec = &chains[i];
		if (ec->status == EXEC_CHAIN_FAILED) {
			res->failed++;
			log_warn("%s", ec->error);
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
	for (size_t i = 0; i < plan.n; i++) {
		struct daemon_plan_chain *c = &plan.chains[i];
		struct exec_chain *ec = &chains[i];
		const char *path_err = NULL;
		bool path_waits = false;

		if (!c->mapping_id)
			continue;
		/* the volume's own replica attaches: their failure is part of its status */
		for (size_t k = 0; k < plan.n; k++) {
			if (plan.chains[k].volume_id != c->volume_id ||
			    strncmp(plan.chains[k].group, "path:", 5) != 0)
				continue;
			if (chains[k].status == EXEC_CHAIN_FAILED && !path_err)
				path_err = chains[k].error;
			else if (chains[k].status != EXEC_CHAIN_DONE)
				path_waits = true;
		}
		/* A chain that did not run (backoff, stop) keeps the status its last run left,
		 * and so does a mapping whose failing attach waits out its backoff. */
		if ((ec->status == EXEC_CHAIN_DONE && !(path_waits && !path_err)) ||
		    ec->status == EXEC_CHAIN_FAILED)
			observation_write(d, c, ec, &pr, path_err);
	}
	for (size_t i = 0; i < desired->n_mappings; i++) {
		const struct store_mapping *m = &desired->mappings[i].mapping;
		bool chained = false;

		for (size_t k = 0; k < plan.n && !chained; k++)
			chained = plan.chains[k].mapping_id == m->id;
		if (!chained)
			resets_write(d, &pr, m->id, m->volume_id);
	}
	res->changed = atomic_load(&x.mutations) > 0;
	res->converged = res->clean && res->actions == 0;
	r = 0;
out:
	free(chains);
	daemon_plan_free(&plan);
	observe_raw_clear(&o);
	free(flaps);
	desired_model_free(&dm);
	store_desired_free(desired);
	return r;
}
