/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim raid: reads through an array, so the members' iostat counts what real SPDK's
 * would. In SPDK v25.09:
 * - raid_bdev_configure_base_bdev reads a new member's superblock area (one block, since
 *   struct raid_bdev_superblock fits in any block) before it takes the member
 *   (raid_bdev_load_base_bdev_superblock);
 * - raid1 sends each read to the member with the fewest blocks of reads outstanding, the
 *   first such member on a tie (raid1_channel_next_read_base_bdev); raid0 and concat map
 *   the offset to the member holding it.
 * Reads a caller issues within one loop pass (the examine reads of a new array) are in
 * flight together; they complete at the end of the pass.
 */
#include "sim/sim_raid.h"

static void raid_reads_done(struct sim *s, void *ctx)
{
	struct raid_bdev *r = ctx;

	(void)s;
	r->reads_done = NULL;
	for (uint8_t i = 0; i < r->num_base_bdevs; i++)
		r->base[i].read_outstanding = 0;
}

void raid_reads_cancel(struct sim *s, struct raid_bdev *r)
{
	if (r->reads_done)
		sim_timer_cancel(s, r->reads_done);
	r->reads_done = NULL;
}

void raid_base_read_sb(struct sim *s, struct raid_base *base)
{
	if (base->bdev && base->bdev->num_blocks > 0)
		sim_bdev_read(s, base->bdev, 0, base->bdev->block_size);
}

static struct raid_base *raid1_pick(struct raid_bdev *r)
{
	struct raid_base *best = NULL;
	uint64_t min = UINT64_MAX;

	for (uint8_t i = 0; i < r->num_base_bdevs; i++) {
		struct raid_base *base = &r->base[i];

		if (!base->bdev || !base->is_configured || base->is_process_target)
			continue;
		if (base->read_outstanding < min) {
			min = base->read_outstanding;
			best = base;
		}
	}
	return best;
}

static struct raid_base *raid_striped_pick(struct raid_bdev *r, uint64_t offset_blocks)
{
	uint64_t start = 0;

	if (r->level == RAID_LEVEL_0 && r->strip_size && r->num_base_bdevs) {
		uint64_t strip = offset_blocks / r->strip_size;

		return &r->base[strip % r->num_base_bdevs];
	}
	for (uint8_t i = 0; i < r->num_base_bdevs; i++) {
		if (offset_blocks < start + r->base[i].data_size)
			return &r->base[i];
		start += r->base[i].data_size;
	}
	return NULL;
}

void raid_bdev_read(struct sim *s, struct sim_bdev *b, uint64_t offset, uint64_t len)
{
	struct raid_bdev *r = b->ctx;
	struct raid_base *base;
	uint64_t blocks;

	if (!r || !b->block_size)
		return;
	blocks = (len + b->block_size - 1) / b->block_size;
	base = r->level == RAID_LEVEL_1 ? raid1_pick(r)
					: raid_striped_pick(r, offset / b->block_size);
	if (!base || !base->bdev)
		return;
	base->read_outstanding += blocks;
	if (!r->reads_done)
		r->reads_done = sim_timer_add(s, 0, raid_reads_done, r);
	sim_bdev_read(s, base->bdev, base->data_offset * base->bdev->block_size + offset, len);
}
