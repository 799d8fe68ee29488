/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Data blocks of a bdev: a sparse map of the blocks written with data, so that tests can
 * write bytes through one volume and read them back through another (a snapshot's clone).
 * A namespace keeps a copy of its target's blocks and sends writes there; a raid maps its
 * blocks past each member's data_offset. Control commands:
 *   blk_write {bdev, lba, data}   write whole blocks (hex) through the bdev's stack
 *   blk_read {bdev, lba, blocks}  read them back: {"data": hex}
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_fabric.h"
#include "sim/sim_internal.h"

static void lba_key(char *key, size_t size, uint64_t lba)
{
	snprintf(key, size, "%" PRIu64, lba);
}

void sim_bdev_blocks_store(struct sim_bdev *b, uint64_t lba, const void *buf, uint64_t n)
{
	char key[24];

	if (!b->blocks)
		b->blocks = json_object();
	for (uint64_t i = 0; i < n; i++) {
		const unsigned char *p =
			buf ? (const unsigned char *)buf + i * b->block_size : NULL;
		bool zero = true;
		char *hex;

		lba_key(key, sizeof(key), lba + i);
		for (uint32_t j = 0; p && j < b->block_size && zero; j++)
			zero = p[j] == 0;
		if (zero) {
			/* a zeroed block is what an unwritten one reads: keep the map sparse */
			json_object_del(b->blocks, key);
			continue;
		}
		hex = fab_hex_encode(p, b->block_size);
		if (!hex)
			abort();
		json_object_set_new(b->blocks, key, json_string(hex));
		free(hex);
	}
}

void sim_bdev_blocks_load(const struct sim_bdev *b, uint64_t lba, void *buf, uint64_t n)
{
	char key[24];

	memset(buf, 0, n * b->block_size);
	for (uint64_t i = 0; b->blocks && i < n; i++) {
		const char *hex;
		void *raw;
		size_t len;

		lba_key(key, sizeof(key), lba + i);
		hex = json_string_value(json_object_get(b->blocks, key));
		if (!hex || fab_hex_decode(hex, &raw, &len) < 0)
			continue;
		memcpy((unsigned char *)buf + i * b->block_size, raw,
		       len < b->block_size ? len : b->block_size);
		free(raw);
	}
}

static bool in_range(const struct sim_bdev *b, uint64_t lba, uint64_t n)
{
	return n <= b->num_blocks && lba <= b->num_blocks - n;
}

int sim_bdev_blocks_write(struct sim *s, struct sim_bdev *b, uint64_t lba, const void *buf,
			  uint64_t n)
{
	if (!in_range(b, lba, n))
		return -ERANGE;
	if (b->ops && b->ops->blocks_write)
		return b->ops->blocks_write(s, b, lba, buf, n);
	sim_bdev_blocks_store(b, lba, buf, n);
	return 0;
}

int sim_bdev_blocks_read(struct sim *s, struct sim_bdev *b, uint64_t lba, void *buf, uint64_t n)
{
	if (!in_range(b, lba, n))
		return -ERANGE;
	if (b->ops && b->ops->blocks_read)
		return b->ops->blocks_read(s, b, lba, buf, n);
	sim_bdev_blocks_load(b, lba, buf, n);
	return 0;
}

int sim_bdev_content_copy(struct sim_bdev *dst, struct sim_bdev *src)
{
	void *sb = NULL;
	size_t len = 0;
	int rc;

	json_decref(dst->blocks);
	dst->blocks = src->blocks ? json_deep_copy(src->blocks) : NULL;
	rc = sim_bdev_sb_read(src, &sb, &len);
	if (rc == -ENODATA)
		return 0;
	if (rc)
		return rc;
	rc = sim_bdev_sb_write(dst, sb, len);
	free(sb);
	return rc;
}

/* ---- control commands ------------------------------------------------------------------ */

static struct sim_bdev *arg_bdev(struct sim *s, json_t *args, char **errmsg)
{
	struct sim_bdev *b = sim_bdev_find(s, json_string_value(json_object_get(args, "bdev")));

	if (!b)
		*errmsg = strdup("no bdev with that 'bdev' name");
	return b;
}

static int cmd_blk_write(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	struct sim_bdev *b = arg_bdev(s, args, errmsg);
	json_t *lba = json_object_get(args, "lba");
	const char *hex = json_string_value(json_object_get(args, "data"));
	void *buf;
	size_t len;
	int rc;

	if (!b)
		return -ENODEV;
	if (!json_is_integer(lba) || json_integer_value(lba) < 0 || !hex ||
	    fab_hex_decode(hex, &buf, &len) < 0 || len == 0 || len % b->block_size) {
		*errmsg = strdup("'lba' (integer) and 'data' (hex, whole blocks) are required");
		return -EINVAL;
	}
	rc = sim_bdev_blocks_write(s, b, (uint64_t)json_integer_value(lba), buf,
				   len / b->block_size);
	free(buf);
	if (rc)
		*errmsg = strdup(strerror(-rc));
	return rc;
}

static int cmd_blk_read(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	struct sim_bdev *b = arg_bdev(s, args, errmsg);
	json_t *lba = json_object_get(args, "lba"), *n = json_object_get(args, "blocks");
	void *buf;
	char *hex;
	int rc;

	if (!b)
		return -ENODEV;
	if (!json_is_integer(lba) || json_integer_value(lba) < 0 || !json_is_integer(n) ||
	    json_integer_value(n) <= 0 || json_integer_value(n) > 4096) {
		*errmsg = strdup("'lba' and 'blocks' (1..4096) are required");
		return -EINVAL;
	}
	buf = malloc((size_t)json_integer_value(n) * b->block_size);
	if (!buf)
		return -ENOMEM;
	rc = sim_bdev_blocks_read(s, b, (uint64_t)json_integer_value(lba), buf,
				  (uint64_t)json_integer_value(n));
	if (rc) {
		free(buf);
		*errmsg = strdup(strerror(-rc));
		return rc;
	}
	hex = fab_hex_encode(buf, (size_t)json_integer_value(n) * b->block_size);
	free(buf);
	if (!hex)
		return -ENOMEM;
	*result = json_pack("{s:s}", "data", hex);
	free(hex);
	return 0;
}

const struct sim_control_cmd sim_blocks_control[] = {
	{"blk_write", cmd_blk_write},
	{"blk_read", cmd_blk_read},
	{NULL, NULL},
};
