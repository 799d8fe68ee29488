/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_DAEMON_METRICS_INTERNAL_H
#define DISKENGINE_DAEMON_METRICS_INTERNAL_H

/* The metrics state, shared by daemon_metrics.c and daemon_metrics_render.c only. */

#include <pthread.h>
#include <stdatomic.h>

#include "daemon/daemon_metrics.h"

enum { M_RAID_ONLINE, M_RAID_CONFIGURING, M_RAID_OFFLINE, M_RAID_ABSENT, M_RAID_STATES };
/* a state string SPDK has no name for among ours counts as offline: it does not serve */
#define M_RAID_OTHER_OFFLINE M_RAID_OFFLINE
#define M_PATH_STATES 6
#define M_METHODS_MAX 128
#define M_PASS_BUCKETS 12

#define M_MEMBER_OPERATIONAL "operational"
#define M_MEMBER_CONFIGURING "configuring"
#define M_MEMBER_REBUILDING "rebuilding"
#define M_MEMBER_MISSING "missing"

struct m_member {
	char name[MODEL_NAME_MAX]; /* the base bdev, or slot<N> for a lost one */
	const char *state;	   /* one of M_MEMBER_* */
};

struct m_volume {
	uint64_t id;
	int raid_state;
	unsigned bases, operational;
	struct m_member members[MODEL_REPLICAS_MAX];
	size_t n_members;
	bool rebuild;
	double rebuild_ratio;
};

struct m_mapping {
	uint64_t id, volume;
	int state; /* enum mapping_state */
};

struct m_path {
	char ctrlr[MODEL_NAME_MAX];
	char traddr[MODEL_ADDR_MAX];
	char trsvcid[8];
	int state;
};

struct m_method {
	char name[64];
	uint64_t calls, errors;
	double sum_s;
};

struct metrics {
	struct MHD_Daemon *http;
	pthread_mutex_t text_lock; /* text, gz, text_gen: the server's only view */
	char *text;
	size_t text_len;
	char *gz; /* text gzip-encoded; NULL until compressed */
	size_t gz_len;
	uint64_t text_gen; /* publishes: a text compressed by the server is kept only if current */
	/* a client took gzip: from then on each publish compresses, not the scrape that follows */
	atomic_bool gzip_wanted;
	/* the last publish's render and compression, CPU seconds (main thread) */
	double render_s, gzip_s;

	pthread_mutex_t rpc_lock; /* methods: updated by every thread that calls SPDK */
	struct m_method methods[M_METHODS_MAX];
	size_t n_methods;

	/* the main thread's own, never seen by the server */
	bool observed;
	struct m_volume *volumes;
	size_t n_volumes;
	struct iostat_target *targets;
	size_t n_targets;
	struct m_mapping *mappings;
	size_t n_mappings;
	struct m_path *paths;
	size_t n_paths;
	struct obs_flap *flaps;
	size_t n_flaps;
	uint64_t pass_bucket[M_PASS_BUCKETS], pass_count, pass_failed, db_errors;
	double pass_sum;
	bool has_restart;
	double restart_served_s;
	struct iostat_table iostat;
	uint64_t iostat_at_ms, iostat_errors;
	uint64_t iostat_skips; /* volumes skipped, summed over rounds */
};

extern const double metrics_pass_buckets[M_PASS_BUCKETS];
const char *metrics_raid_state_name(int i);
const char *metrics_path_state_name(int i);

/* The whole text for m; 0 and *out (caller frees), or -ENOMEM. */
int metrics_render(struct metrics *m, char **out, size_t *len);

#endif
