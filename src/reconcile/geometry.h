/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_RECONCILE_GEOMETRY_H
#define DISKENGINE_RECONCILE_GEOMETRY_H

/*
 * Whether two replicas can be the members of a volume's raid1: the planner asks it of bdevs it
 * observed, the executor of bdevs a path chain attached earlier in the same pass.
 */

#include <stddef.h>
#include <stdint.h>

/*
 * Room SPDK reserves for the raid superblock at the start of every base (data_offset): 1 MiB
 * (RAID_BDEV_MIN_DATA_OFFSET_SIZE; 2048 blocks of 512 bytes in the recordings). The guest sees
 * exactly the volume's size, so each replica must hold the size plus this.
 */
#define GEOMETRY_SB_BYTES (1024ULL * 1024)

struct geometry_member {
	const char *name;
	uint32_t block_size, md_size;
	uint64_t num_blocks;
};

/*
 * 0 when a and b have the same block size, metadata size and block count, the block size is
 * want_block_size (0: any) and each holds size_bytes plus the superblock room. Otherwise
 * -EINVAL and a sentence in msg naming the volume, both bdevs and what differs.
 */
int geometry_check(uint64_t volume_id, uint32_t want_block_size, uint64_t size_bytes,
		   const struct geometry_member *a, const struct geometry_member *b, char *msg,
		   size_t len);

#endif
