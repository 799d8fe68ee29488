/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim raid: the background rebuild (SPDK v25.09 bdev_raid.c raid_bdev_process_*).
 *
 * SPDK copies the array in windows of process_window_size_kb; with
 * process_max_bandwidth_mb_sec set, a token bucket lets the first window go at once and
 * each next one when the previous window's bytes are paid for. Progress ("blocks") is the
 * start of the window in flight, i.e. the blocks already copied. The sim computes that
 * from the clock instead of copying, and finishes the process with one timer.
 * Without a bandwidth limit the copy runs at device speed; on the volume sizes of tests it
 * is over before any poll can see it (as on real SPDK), so it completes immediately.
 */
#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "sim/sim_raid.h"

static uint64_t raid_process_windows(const struct raid_bdev *r, const struct raid_process *p)
{
	return (r->blockcnt + p->window_blocks - 1) / p->window_blocks;
}

static double raid_process_window_ms(const struct raid_bdev *r, const struct raid_process *p)
{
	return (double)(p->window_blocks * r->blocklen) / p->bytes_per_ms;
}

/* Blocks copied at time now. */
static uint64_t raid_process_offset(const struct raid_bdev *r, const struct raid_process *p,
				    uint64_t now)
{
	uint64_t done, n = raid_process_windows(r, p);

	if (p->stalled)
		return 0;
	if (p->bytes_per_ms <= 0.0)
		return r->blockcnt;
	/* window k starts at k * window_ms and completes right away; it is counted once done */
	done = (uint64_t)((double)(now - p->start_ms) / raid_process_window_ms(r, p));
	if (done >= n)
		return r->blockcnt;
	return done * p->window_blocks;
}

/* raid_bdev_process_finish with status 0: the target is in sync. */
static void raid_process_complete(struct sim *s, struct raid_bdev *r)
{
	struct raid_process *p = r->process;

	r->process = NULL;
	p->target->is_process_target = false;
	free(p);
	if (!r->superblock_enabled || !r->sb)
		return;
	/* raid_bdev_process_finish_write_sb: members that are configured now become so on disk */
	for (uint8_t i = 0; i < r->sb->base_bdevs_size; i++) {
		struct raid_sb_base *sbb = &r->sb->base[i];
		struct raid_base *base;

		if (sbb->state == RAID_SB_CONFIGURED || sbb->slot >= r->num_base_bdevs)
			continue;
		base = &r->base[sbb->slot];
		if (base->is_configured) {
			sbb->state = RAID_SB_CONFIGURED;
			sbb->data_offset = base->data_offset;
			snprintf(sbb->uuid, sizeof(sbb->uuid), "%s", base->uuid);
		}
	}
	if (raid_sb_write(r) != 0)
		log_debug("sim raid: superblock write after rebuild of %s failed", r->name);
}

static void raid_process_timer(struct sim *s, void *ctx)
{
	struct raid_bdev *r = ctx;
	struct raid_process *p = r->process;
	uint64_t now = sim_now_ms();

	if (!p)
		return;
	p->timer = NULL;
	if (raid_process_offset(r, p, now) < r->blockcnt) {
		/* a timer that fired early: wait for the last window */
		double left =
			(double)(raid_process_windows(r, p) - 1) * raid_process_window_ms(r, p) -
			(double)(now - p->start_ms);

		p->timer = sim_timer_add(s, left > 1.0 ? (uint64_t)left + 1 : 1, raid_process_timer,
					 r);
		return;
	}
	raid_process_complete(s, r);
}

int raid_process_start(struct sim *s, struct raid_base *target)
{
	struct sim_raid_state *st = raid_state(s);
	struct raid_bdev *r = target->raid;
	struct raid_process *p;
	double total_ms;

	/* raid_bdev_channels_start_process_done: the target or the source vanished meanwhile */
	if (target->remove_scheduled || !target->is_configured ||
	    r->num_operational <= r->min_operational)
		return -ENODEV;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->sim = s;
	p->target = target;
	p->start_ms = sim_now_ms();
	p->window_blocks =
		((uint64_t)st->process_window_size_kb * 1024 + r->blocklen - 1) / r->blocklen;
	if (p->window_blocks == 0)
		p->window_blocks = 1;
	p->bytes_per_ms = (double)st->process_max_bandwidth_mb_sec * 1024.0 * 1024.0 / 1000.0;
	r->process = p;
	if (r->quiesced) {
		/* the first window's range quiesce queues behind the array's: never granted */
		p->stalled = true;
		return 0;
	}
	if (p->bytes_per_ms <= 0.0 || r->blockcnt <= p->window_blocks) {
		raid_process_complete(s, r);
		return 0;
	}
	total_ms = (double)(raid_process_windows(r, p) - 1) * raid_process_window_ms(r, p);
	p->timer = sim_timer_add(s, (uint64_t)total_ms + 1, raid_process_timer, r);
	return 0;
}

void raid_process_stop(struct sim *s, struct raid_bdev *r)
{
	struct raid_process *p = r->process;

	if (!p)
		return;
	if (p->timer)
		sim_timer_cancel(s, p->timer);
	r->process = NULL;
	p->target->is_process_target = false;
	free(p);
}

void raid_process_poll(struct raid_bdev *r)
{
	struct raid_process *p = r->process;

	if (!p || raid_process_offset(r, p, sim_now_ms()) < r->blockcnt)
		return;
	if (p->timer)
		sim_timer_cancel(p->sim, p->timer);
	p->timer = NULL;
	raid_process_complete(p->sim, r);
}

json_t *raid_process_to_json(struct raid_bdev *r)
{
	struct raid_process *p;
	uint64_t blocks;

	raid_process_poll(r);
	p = r->process;
	if (!p)
		return NULL;
	blocks = raid_process_offset(r, p, sim_now_ms());
	return json_pack("{s:s, s:s, s:{s:I, s:i}}", "type", "rebuild", "target",
			 p->target->name ? p->target->name : "", "progress", "blocks",
			 (json_int_t)blocks, "percent",
			 (int)(uint32_t)((double)blocks * 100.0 / (double)r->blockcnt));
}
