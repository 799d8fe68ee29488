/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SPDK v25.09's raid superblock layout as the daemon decodes it from a raw read of a member, the
 * URL-safe base64 of bdev_nvme_send_cmd and SPDK's crc32c (raw register, no inversion).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/codec.h"
#include "common/raid_sb.h"

static void fill(struct raid_sb_info *sb)
{
	memset(sb, 0, sizeof(*sb));
	strcpy(sb->uuid, "0fd35e8c-6a8e-4d1e-9d0b-12ab34cd56ef");
	strcpy(sb->name, "raid_7");
	sb->raid_size = 14336;
	sb->block_size = 512;
	sb->level = 1;
	sb->seq_number = 3;
	sb->num_base_bdevs = sb->base_bdevs_size = 2;
	for (int i = 0; i < 2; i++) {
		strcpy(sb->base[i].uuid, i ? "11111111-2222-4333-8444-555555555555"
					   : "66666666-7777-4888-9999-aaaaaaaaaaaa");
		sb->base[i].data_offset = 2048;
		sb->base[i].data_size = 14336;
		sb->base[i].state = 1;
		sb->base[i].slot = (uint8_t)i;
	}
}

static void test_round_trip_and_layout(void **state)
{
	unsigned char buf[512] = {0};
	struct raid_sb_info in, out;

	(void)state;
	fill(&in);
	assert_int_equal(raid_sb_length(&in), 384);
	assert_int_equal(raid_sb_encode_spdk(&in, buf, sizeof(buf)), 0);
	/* the fields where SPDK's struct has them */
	assert_memory_equal(buf, "SPDKRAID", 8);
	assert_int_equal(buf[12] | buf[13] << 8, 384); /* length */
	assert_int_equal(buf[24], 0x0f);	       /* uuid, byte order as printed */
	assert_string_equal((char *)buf + 40, "raid_7");
	assert_int_equal(buf[112] | buf[113] << 8, 512); /* block_size */
	assert_int_equal(buf[255], 2);			 /* base_bdevs_size */
	assert_int_equal(buf[256 + 16] | buf[256 + 17] << 8, 2048);
	assert_int_equal(raid_sb_decode_spdk(buf, sizeof(buf), &out), 0);
	assert_string_equal(out.uuid, in.uuid);
	assert_string_equal(out.name, "raid_7");
	assert_int_equal(out.base[1].slot, 1);
	assert_string_equal(out.base[1].uuid, in.base[1].uuid);
	assert_int_equal(out.base[0].data_offset, 2048);
	/* one flipped bit fails the crc; zeroes have no signature */
	buf[300] ^= 1;
	assert_int_equal(raid_sb_decode_spdk(buf, sizeof(buf), &out), -EBADMSG);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(raid_sb_decode_spdk(buf, sizeof(buf), &out), -ENODATA);
}

static void test_crc32c_and_base64(void **state)
{
	unsigned char sqe[64] = {0x08, 0, 0x12, 0x34, 1};
	void *back;
	size_t len;
	char *t;

	(void)state;
	/* the standard CRC-32C check value is ~crc(~0, "123456789") = 0xe3069283 */
	assert_int_equal(~codec_crc32c("123456789", 9, ~0u), 0xe3069283u);
	t = codec_base64url_encode("\xfb\xff", 2);
	assert_string_equal(t, "-_8="); /* URL-safe alphabet, padded */
	free(t);
	t = codec_base64url_encode(sqe, sizeof(sqe));
	assert_int_equal(strlen(t), 88);
	assert_int_equal(codec_base64url_decode(t, &back, &len), 0);
	assert_int_equal(len, 64);
	assert_memory_equal(back, sqe, 64);
	free(back);
	free(t);
	assert_int_equal(codec_base64url_decode("a+b=", &back, &len), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_and_layout),
		cmocka_unit_test(test_crc32c_and_base64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
