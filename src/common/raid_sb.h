/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_COMMON_RAID_SB_H
#define DISKENGINE_COMMON_RAID_SB_H

/*
 * SPDK v25.09's raid superblock as it lies in the first blocks of a raid member
 * (module/bdev/raid/bdev_raid.h struct raid_bdev_superblock: 256 bytes, then 64 per base,
 * little endian, crc32c over `length` bytes with the crc field zeroed).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPDK_RAID_SB_HEADER_SIZE 256
#define SPDK_RAID_SB_BASE_SIZE 64
#define SPDK_RAID_SB_NAME_SIZE 64
#define SPDK_RAID_SB_BASES_MAX 32

struct raid_sb_base_info {
	char uuid[37];
	uint64_t data_offset; /* blocks */
	uint64_t data_size;   /* blocks */
	uint32_t state;	      /* 0 missing, 1 configured, 2 failed, 3 spare */
	uint8_t slot;
};

struct raid_sb_info {
	char uuid[37];
	char name[SPDK_RAID_SB_NAME_SIZE + 1];
	uint64_t raid_size; /* blocks */
	uint32_t block_size;
	uint32_t level; /* 1 = raid1 */
	uint32_t strip_size;
	uint64_t seq_number;
	uint8_t num_base_bdevs;
	uint8_t base_bdevs_size;
	struct raid_sb_base_info base[SPDK_RAID_SB_BASES_MAX];
};

/* Bytes the encoded superblock takes. */
size_t raid_sb_length(const struct raid_sb_info *sb);
/* Encode into buf (at least raid_sb_length bytes, zeroed by the caller): 0 or -EINVAL. */
int raid_sb_encode_spdk(const struct raid_sb_info *sb, void *buf, size_t size);
/*
 * Decode from the first bytes of a member: 0, -ENODATA when there is no superblock
 * signature (e.g. zeroed), -EBADMSG when the length or crc is wrong.
 */
int raid_sb_decode_spdk(const void *buf, size_t size, struct raid_sb_info *sb);

#endif
