/* SPDX-License-Identifier: Apache-2.0 */
#include "reconcile/geometry.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

int geometry_check(uint64_t volume_id, uint32_t want_block_size, uint64_t size_bytes,
		   const struct geometry_member *a, const struct geometry_member *b, char *msg,
		   size_t len)
{
	if (a->block_size != b->block_size || a->md_size != b->md_size ||
	    a->num_blocks != b->num_blocks) {
		snprintf(msg, len,
			 "volume %" PRIu64 ": replica geometry differs: %s has %u-byte blocks, "
			 "md %u, %" PRIu64 " blocks; %s has %u-byte blocks, md %u, %" PRIu64
			 " blocks; raid not created",
			 volume_id, a->name, a->block_size, a->md_size, a->num_blocks, b->name,
			 b->block_size, b->md_size, b->num_blocks);
		return -EINVAL;
	}
	if (want_block_size && a->block_size != want_block_size) {
		snprintf(msg, len,
			 "volume %" PRIu64 ": replicas have %u-byte blocks, the volume wants %u; "
			 "raid not created",
			 volume_id, a->block_size, want_block_size);
		return -EINVAL;
	}
	if (a->num_blocks * (uint64_t)a->block_size < size_bytes + GEOMETRY_SB_BYTES) {
		snprintf(msg, len,
			 "volume %" PRIu64 ": replicas hold %" PRIu64 " bytes, the volume needs %" PRIu64
			 " plus %llu for the raid superblock; raid not created",
			 volume_id, a->num_blocks * (uint64_t)a->block_size, size_bytes,
			 GEOMETRY_SB_BYTES);
		return -EINVAL;
	}
	return 0;
}
