/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_DAEMON_INTERNAL_H
#define DISKENGINE_DAEMON_INTERNAL_H

/* Shared by the daemon's own files only. */

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/daemon_config.h"
#include "daemon/daemon_spdk.h"
#include "reconcile/exec.h"

#include "host/host_facts.h"

struct hmap;
struct store;
struct store_desired;
struct store_watch;
struct orphan_clock;
struct warn_table;

/* What lives across passes; a pass itself remembers nothing (level-triggered). */
struct daemon {
	const struct daemon_config *cfg;
	struct store *store;
	struct store_watch *watch;
	struct daemon_spdk *spdk;
	struct exec_backoff *backoff; /* per object, across passes */
	struct orphan_clock *orphans; /* first-seen times of observed objects */
	struct flap_table *flaps;     /* resets per NVMe path, across passes (daemon_flap.h) */
	struct warn_table *warns;     /* repeating warnings, said once (daemon_warn.h) */
	struct metrics *metrics;      /* --metrics-listen; NULL without (daemon_metrics.h) */
	pthread_mutex_t store_lock;   /* the store is used by one thread at a time */
	struct exec_commit *commit;   /* the executor's transitions, committed in groups */
	struct hmap *obs;	      /* mapping id -> struct obs_cache_entry */
	uint64_t obs_pass;	      /* passes run, for obs_cache_entry.pass */
	unsigned statuses_written;    /* mapping statuses this pass changed in the store */
	/*
	 * The desired state last read, reused by passes that had nothing to do while the
	 * database watch reported no change: an idle pass costs nothing per unchanged volume.
	 */
	struct store_desired *desired;
	bool desired_stale;	  /* the watch fired (or broke) since desired was read */
	uint64_t desired_read_ms; /* when desired was read (monotonic) */
	struct host_facts facts;  /* sysfs/procfs facts, re-read with the desired state */
	bool have_facts;
	uint64_t facts_read_ms;
	struct obs_qos_seen *qos_seen; /* QoS last read per served raid (observe_want.h) */
	size_t n_qos_seen;
	volatile sig_atomic_t *stop;
	uint64_t passes;
	uint64_t restart_at_ms; /* when the current SPDK process was found fresh; 0 = not */
	bool restart_work;	/* passes since then had something to rebuild */
};

struct obs_cache_entry {
	uint64_t hash;
	uint64_t pass;	     /* the last pass whose plan had this mapping */
	uint64_t reset_hash; /* of reset_in_progress and path_resets last written */
};

/* Whether the status last written for mapping_id hashes to h (skip an identical write). */
bool daemon_obs_cache_same(struct daemon *d, int64_t mapping_id, uint64_t h);
void daemon_obs_cache_set(struct daemon *d, int64_t mapping_id, uint64_t h, uint64_t rh);
/* Whether the reset fields last written for mapping_id hash to rh. */
bool daemon_obs_reset_same(struct daemon *d, int64_t mapping_id, uint64_t rh);
/* mapping_id is still planned in this pass (d->passes): its entry is kept. */
void daemon_obs_cache_touch(struct daemon *d, int64_t mapping_id);
/* Forget the entries of mappings the current pass no longer planned. */
void daemon_obs_cache_prune(struct daemon *d);

/*
 * How long an idle pass may reuse the desired state and the host facts without the watch
 * firing: a safety net for a notification lost on the way, and for sysfs changes no watch sees.
 */
#define DAEMON_REREAD_MS 60000u

/* Drop what the daemon keeps between passes (desired state, host facts, caches). */
void daemon_state_free(struct daemon *d);

/* Outcome of one pass. */
struct daemon_pass_result {
	bool changed;	   /* some mutating call succeeded: the saved config is stale */
	bool clean;	   /* every chain finished and none is waiting: the graph matches */
	bool converged;	   /* clean, and nothing even needed doing */
	unsigned actions;  /* operations run or tried */
	unsigned finished; /* chains that ran steps and finished them all */
	unsigned failed;   /* chains that failed */
	unsigned deferred; /* chains that did not run (backoff, stop) */
	unsigned waiting; /* chains with a status: waiting for something else (rebuild, operator) */
	unsigned statuses; /* mapping statuses that changed and were written */
};

/*
 * One observe -> plan -> act pass against the current SPDK session and store. Returns 0 (see
 * *res) or a negative errno when the pass could not run at all (SPDK or database gone).
 */
int daemon_pass(struct daemon *d, struct daemon_pass_result *res, char *errbuf, size_t errlen);

/*
 * How long to wait for a wake-up before the next pass, after one that returned pass_rc / res.
 * quiet: passes in a row, this one included, that had nothing to do and changed no status.
 */
uint64_t daemon_next_wait_ms(uint64_t interval_ms, int pass_rc,
			     const struct daemon_pass_result *res, unsigned quiet);

#endif
