/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim raid: scratch disks for the control channel. A scratch disk is a plain bdev
 * ("Scratch disk") that a test plugs in and pulls out without any NVMe-oF set-up, to
 * drive the raid and vhost models: member appears, vanishes, grows. Its metadata area
 * (where a raid superblock lives) is kept by uuid across unplug/plug, as a real disk's
 * contents would be. Never an SPDK method: control commands only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/sim_raid.h"

/* What a scratch disk keeps while unplugged. */
struct scratch_media {
	char uuid[37];
	void *sb;
	size_t sb_len;
	struct scratch_media *next;
};

static struct scratch_media *scratch_media_get(struct sim *s, const char *uuid, bool create)
{
	struct sim_raid_state *st = raid_state(s);
	struct scratch_media *m;

	for (m = st->scratch; m; m = m->next)
		if (strcasecmp(m->uuid, uuid) == 0)
			return m;
	if (!create)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	snprintf(m->uuid, sizeof(m->uuid), "%s", uuid);
	m->next = st->scratch;
	st->scratch = m;
	return m;
}

static int scratch_sb_read(struct sim_bdev *b, void **buf, size_t *len)
{
	struct scratch_media *m = b->ctx;

	if (!m || !m->sb)
		return -ENODATA;
	*buf = malloc(m->sb_len);
	if (!*buf)
		return -ENOMEM;
	memcpy(*buf, m->sb, m->sb_len);
	*len = m->sb_len;
	return 0;
}

static int scratch_sb_write(struct sim_bdev *b, const void *buf, size_t len)
{
	struct scratch_media *m = b->ctx;
	void *copy;

	if (!m)
		return -EIO;
	copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	free(m->sb);
	m->sb = copy;
	m->sb_len = len;
	return 0;
}

static json_t *scratch_memory_domains(struct sim_bdev *b)
{
	return json_pack("[{s:s, s:i}]", "dma_device_id", "system", "dma_device_type", 1);
}

static const struct sim_bdev_ops scratch_ops = {
	.product_name = "Scratch disk",
	.sb_read = scratch_sb_read,
	.sb_write = scratch_sb_write,
	.memory_domains = scratch_memory_domains,
};

static struct sim_bdev *scratch_find(struct sim *s, json_t *args, char **errmsg)
{
	const char *name = json_string_value(json_object_get(args, "name"));
	struct sim_bdev *b = name ? sim_bdev_find(s, name) : NULL;

	if (!name)
		*errmsg = strdup("name (a string) is required");
	else if (!b || b->ops != &scratch_ops)
		*errmsg = strdup("no scratch disk with that name");
	else
		return b;
	return NULL;
}

static int ctrl_scratch_add(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	const char *name = json_string_value(json_object_get(args, "name"));
	const char *uuid = json_string_value(json_object_get(args, "uuid"));
	json_t *nb = json_object_get(args, "num_blocks"), *bs = json_object_get(args, "block_size");
	uint32_t block_size = bs ? (uint32_t)json_integer_value(bs) : 512;
	struct scratch_media *m;
	struct sim_bdev *b;
	char id[37];
	int err = 0;

	if (!name || !json_is_integer(nb) || json_integer_value(nb) <= 0 ||
	    (bs && (!json_is_integer(bs) || json_integer_value(bs) < 512 ||
		    json_integer_value(bs) > 65536 || (block_size & (block_size - 1)) != 0))) {
		*errmsg = strdup("name, num_blocks > 0 and optionally block_size (a power of two "
				 "from 512 to 65536) and uuid are required");
		return -EINVAL;
	}
	if (uuid) {
		if (strlen(uuid) != 36) {
			*errmsg = strdup("uuid must be in 8-4-4-4-12 form");
			return -EINVAL;
		}
		snprintf(id, sizeof(id), "%s", uuid);
	} else {
		raid_uuid_generate(id);
	}
	/* the medium is known before registration: the raid examine reads its superblock */
	m = scratch_media_get(s, id, true);
	if (!m)
		return -ENOMEM;
	b = sim_bdev_register(s, name, id, block_size, (uint64_t)json_integer_value(nb), 0,
			      &scratch_ops, m, &err);
	if (!b) {
		*errmsg = strdup("the name or uuid is taken");
		return err ? err : -EINVAL;
	}
	*result = json_pack("{s:s, s:s}", "name", b->name, "uuid", b->uuid);
	return 0;
}

static int ctrl_scratch_remove(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	struct sim_bdev *b = scratch_find(s, args, errmsg);

	if (!b)
		return -ENODEV;
	sim_bdev_unregister(s, b);
	return 0;
}

static int ctrl_scratch_resize(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	struct sim_bdev *b = scratch_find(s, args, errmsg);
	json_t *nb = json_object_get(args, "num_blocks");

	if (!b)
		return -ENODEV;
	if (!json_is_integer(nb) || json_integer_value(nb) <= 0) {
		*errmsg = strdup("num_blocks > 0 is required");
		return -EINVAL;
	}
	sim_bdev_resize(s, b, (uint64_t)json_integer_value(nb));
	return 0;
}

void raid_scratch_free(struct sim *s)
{
	struct sim_raid_state *st = s->raid;

	while (st && st->scratch) {
		struct scratch_media *m = st->scratch;

		st->scratch = m->next;
		free(m->sb);
		free(m);
	}
}

const struct sim_control_cmd sim_raid_control[] = {
	{"scratch_bdev_add", ctrl_scratch_add},
	{"scratch_bdev_remove", ctrl_scratch_remove},
	{"scratch_bdev_resize", ctrl_scratch_resize},
	{NULL, NULL},
};
