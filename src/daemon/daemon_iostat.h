/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_DAEMON_IOSTAT_H
#define DISKENGINE_DAEMON_IOSTAT_H

/*
 * The iostat scraper: on its own timer, bdev_get_iostat for each of diskengine's raids, asked by
 * name (never the unfiltered call, which walks every bdev), turned into per-volume rates. A volume
 * whose controllers have a path resetting is skipped for that round: no bdev call of any kind is
 * sent for it while SPDK resets under it (design invariant 4). Calls are pipelined on the
 * client's connection, IOSTAT_INFLIGHT at a time, so a round at 1,000 volumes costs one list
 * call plus 1,000 small answers in flight together.
 */

#include <stddef.h>
#include <stdint.h>

#include "reconcile/model.h"

struct rpc_client;

#define IOSTAT_INFLIGHT 32
#define IOSTAT_CTRLRS_MAX MODEL_REPLICAS_MAX

/* One reading of a bdev's counters (SPDK's cumulative numbers and its tick clock). */
struct iostat_sample {
	uint64_t ticks, tick_rate;
	uint64_t read_ops, write_ops, bytes_read, bytes_written;
	uint64_t read_latency_ticks, write_latency_ticks;
};

/* Per-second rates between two samples; latencies are the mean of the I/Os in between. */
struct iostat_rate {
	double read_iops, write_iops;
	double read_bytes_per_s, write_bytes_per_s;
	double read_latency_s, write_latency_s;
};

/*
 * Rates from prev to cur. 0 and *out; -EINVAL when no time passed or the tick rate is unknown;
 * -ESTALE when a counter went backwards (SPDK restarted, the raid was re-created or its stats
 * reset): cur is then the new baseline, there is no rate yet.
 */
int iostat_rate_compute(const struct iostat_sample *prev, const struct iostat_sample *cur,
			struct iostat_rate *out);

/* What to scrape for one volume: its raid and the controllers of its replicas. */
struct iostat_target {
	uint64_t volume_id;
	char raid[MODEL_NAME_MAX];
	char ctrlrs[IOSTAT_CTRLRS_MAX][MODEL_NAME_MAX];
	size_t n_ctrlrs;
};

/* What the scraper knows of one volume. */
struct iostat_volume {
	uint64_t volume_id;
	struct iostat_sample last; /* the newest sample */
	bool has_rate;		   /* two comparable samples were taken */
	struct iostat_rate rate;
};

/* Per-volume state across rounds, sorted by volume id. */
struct iostat_table {
	struct iostat_volume *v;
	size_t n;
	/* the last round */
	unsigned calls;	  /* SPDK calls made */
	unsigned skipped; /* volumes skipped: a controller of theirs was resetting */
	unsigned failed;  /* bdev_get_iostat calls that failed (other than "no such bdev") */
	uint64_t duration_us;
	uint64_t rounds;
};

/*
 * One round for the n targets: bdev_nvme_get_controllers, then bdev_get_iostat by name for
 * every target none of whose controllers has a path resetting. Volumes no longer targeted are
 * dropped from t. 0, or a negative errno when the controller list could not be read (nothing
 * was asked then) or memory ran out.
 */
int iostat_scrape(struct rpc_client *c, const struct iostat_target *targets, size_t n,
		  struct iostat_table *t);
void iostat_table_clear(struct iostat_table *t);
/* The entry of a volume, or NULL. */
const struct iostat_volume *iostat_table_find(const struct iostat_table *t, uint64_t volume_id);

#endif
