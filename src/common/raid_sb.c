/* SPDX-License-Identifier: Apache-2.0 */
#include "common/raid_sb.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/codec.h"

#define SB_SIG "SPDKRAID"
#define OFF_LENGTH 12
#define OFF_CRC 16
#define OFF_UUID 24
#define OFF_NAME 40
#define OFF_RAID_SIZE 104
#define OFF_BLOCK_SIZE 112
#define OFF_LEVEL 116
#define OFF_STRIP 120
#define OFF_SEQ 128
#define OFF_NUM_BASE 136
#define OFF_BASES_SIZE 255

static void put_le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static int uuid_to_bytes(const char *s, unsigned char out[16])
{
	unsigned int byte;
	int k = 0;

	if (strlen(s) != 36)
		return -EINVAL;
	for (int i = 0; i < 36 && k < 16;) {
		if (s[i] == '-') {
			i++;
			continue;
		}
		if (sscanf(s + i, "%2x", &byte) != 1)
			return -EINVAL;
		out[k++] = (unsigned char)byte;
		i += 2;
	}
	return k == 16 ? 0 : -EINVAL;
}

static void uuid_from_bytes(const unsigned char in[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], in[8], in[9], in[10],
		 in[11], in[12], in[13], in[14], in[15]);
}

size_t raid_sb_length(const struct raid_sb_info *sb)
{
	return SPDK_RAID_SB_HEADER_SIZE + (size_t)sb->base_bdevs_size * SPDK_RAID_SB_BASE_SIZE;
}

int raid_sb_encode_spdk(const struct raid_sb_info *sb, void *buf, size_t size)
{
	unsigned char *p = buf;
	size_t len = raid_sb_length(sb);

	if (sb->base_bdevs_size > SPDK_RAID_SB_BASES_MAX || size < len)
		return -EINVAL;
	memcpy(p, SB_SIG, 8);
	put_le(p + 8, 1, 2); /* version 1.0 */
	put_le(p + OFF_LENGTH, len, 4);
	if (uuid_to_bytes(sb->uuid, p + OFF_UUID) < 0)
		return -EINVAL;
	memcpy(p + OFF_NAME, sb->name, strnlen(sb->name, SPDK_RAID_SB_NAME_SIZE));
	put_le(p + OFF_RAID_SIZE, sb->raid_size, 8);
	put_le(p + OFF_BLOCK_SIZE, sb->block_size, 4);
	put_le(p + OFF_LEVEL, sb->level, 4);
	put_le(p + OFF_STRIP, sb->strip_size, 4);
	put_le(p + OFF_SEQ, sb->seq_number, 8);
	p[OFF_NUM_BASE] = sb->num_base_bdevs;
	p[OFF_BASES_SIZE] = sb->base_bdevs_size;
	for (uint8_t i = 0; i < sb->base_bdevs_size; i++) {
		unsigned char *b =
			p + SPDK_RAID_SB_HEADER_SIZE + (size_t)i * SPDK_RAID_SB_BASE_SIZE;

		if (uuid_to_bytes(sb->base[i].uuid, b) < 0)
			return -EINVAL;
		put_le(b + 16, sb->base[i].data_offset, 8);
		put_le(b + 24, sb->base[i].data_size, 8);
		put_le(b + 32, sb->base[i].state, 4);
		b[40] = sb->base[i].slot;
	}
	put_le(p + OFF_CRC, codec_crc32c(p, len, 0), 4);
	return 0;
}

int raid_sb_decode_spdk(const void *buf, size_t size, struct raid_sb_info *sb)
{
	unsigned char
		copy[SPDK_RAID_SB_HEADER_SIZE + SPDK_RAID_SB_BASES_MAX * SPDK_RAID_SB_BASE_SIZE];
	const unsigned char *p = buf;
	uint32_t len, crc;

	if (size < SPDK_RAID_SB_HEADER_SIZE || memcmp(p, SB_SIG, 8) != 0)
		return -ENODATA;
	len = (uint32_t)get_le(p + OFF_LENGTH, 4);
	if (len < SPDK_RAID_SB_HEADER_SIZE || len > sizeof(copy) || len > size ||
	    len != SPDK_RAID_SB_HEADER_SIZE + (uint32_t)p[OFF_BASES_SIZE] * SPDK_RAID_SB_BASE_SIZE)
		return -EBADMSG;
	memcpy(copy, p, len);
	crc = (uint32_t)get_le(copy + OFF_CRC, 4);
	put_le(copy + OFF_CRC, 0, 4);
	if (codec_crc32c(copy, len, 0) != crc)
		return -EBADMSG;
	memset(sb, 0, sizeof(*sb));
	uuid_from_bytes(p + OFF_UUID, sb->uuid);
	memcpy(sb->name, p + OFF_NAME, SPDK_RAID_SB_NAME_SIZE);
	sb->raid_size = get_le(p + OFF_RAID_SIZE, 8);
	sb->block_size = (uint32_t)get_le(p + OFF_BLOCK_SIZE, 4);
	sb->level = (uint32_t)get_le(p + OFF_LEVEL, 4);
	sb->strip_size = (uint32_t)get_le(p + OFF_STRIP, 4);
	sb->seq_number = get_le(p + OFF_SEQ, 8);
	sb->num_base_bdevs = p[OFF_NUM_BASE];
	sb->base_bdevs_size = p[OFF_BASES_SIZE];
	for (uint8_t i = 0; i < sb->base_bdevs_size; i++) {
		const unsigned char *b =
			p + SPDK_RAID_SB_HEADER_SIZE + (size_t)i * SPDK_RAID_SB_BASE_SIZE;

		uuid_from_bytes(b, sb->base[i].uuid);
		sb->base[i].data_offset = get_le(b + 16, 8);
		sb->base[i].data_size = get_le(b + 24, 8);
		sb->base[i].state = (uint32_t)get_le(b + 32, 4);
		sb->base[i].slot = b[40];
	}
	return 0;
}
