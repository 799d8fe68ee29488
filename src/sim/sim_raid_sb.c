/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim raid: the superblock (SPDK v25.09 bdev_raid_sb.c) and the examine path that
 * re-assembles arrays from it (bdev_raid.c raid_bdev_examine*). The superblock is kept
 * as JSON text in the bdev's metadata area (sim_bdev_sb_write), which for an NVMe-oF
 * namespace lives on the storage node and so survives a restart of the host.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/raid_sb.h"
#include "sim/sim_raid.h"

#define RAID_SB_SIGNATURE "SPDKRAID"
#define RAID_SB_VERSION_MAJOR 1
#define RAID_SB_VERSION_MINOR 0

static bool raid_uuid_valid(const char *u)
{
	if (strlen(u) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? u[i] != '-' : !strchr("0123456789abcdefABCDEF", u[i]))
			return false;
	}
	return true;
}

char *raid_sb_encode(const struct raid_sb *sb, size_t *len)
{
	json_t *o, *bases = json_array();
	char *txt;

	for (uint8_t i = 0; i < sb->base_bdevs_size; i++) {
		const struct raid_sb_base *b = &sb->base[i];

		json_array_append_new(bases,
				      json_pack("{s:s, s:I, s:I, s:i, s:i}", "uuid", b->uuid,
						"data_offset", (json_int_t)b->data_offset,
						"data_size", (json_int_t)b->data_size, "state",
						(int)b->state, "slot", (int)b->slot));
	}
	o = json_pack("{s:s, s:{s:i, s:i}, s:s, s:s, s:I, s:i, s:i, s:i, s:i, s:I, s:i, s:o}",
		      "signature", RAID_SB_SIGNATURE, "version", "major", RAID_SB_VERSION_MAJOR,
		      "minor", RAID_SB_VERSION_MINOR, "uuid", sb->uuid, "name", sb->name,
		      "raid_size", (json_int_t)sb->raid_size, "block_size", (int)sb->block_size,
		      "level", (int)sb->level, "strip_size", (int)sb->strip_size, "state", 0,
		      "seq_number", (json_int_t)sb->seq_number, "num_base_bdevs",
		      (int)sb->num_base_bdevs, "base_bdevs", bases);
	if (!o)
		return NULL;
	txt = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (txt)
		*len = strlen(txt) + 1;
	return txt;
}

int raid_sb_decode(const void *buf, size_t len, struct raid_sb *sb)
{
	json_t *o, *bases, *v;
	const char *sig = NULL, *uuid = NULL, *name = NULL;
	json_int_t raid_size = 0, seq = 0;
	int major = 0, minor = 0, block_size = 0, level = 0, strip = 0, state = 0, nbases = 0;
	int rc = -EINVAL;
	size_t i;

	o = json_loadb(buf, strnlen(buf, len), 0, NULL);
	if (!o)
		return -EINVAL;
	if (json_unpack(o, "{s:s, s:{s:i, s:i}, s:s, s:s, s:I, s:i, s:i, s:i, s:i, s:I, s:i, s:o}",
			"signature", &sig, "version", "major", &major, "minor", &minor, "uuid",
			&uuid, "name", &name, "raid_size", &raid_size, "block_size", &block_size,
			"level", &level, "strip_size", &strip, "state", &state, "seq_number", &seq,
			"num_base_bdevs", &nbases, "base_bdevs", &bases) != 0)
		goto out;
	if (strcmp(sig, RAID_SB_SIGNATURE) != 0 || major != RAID_SB_VERSION_MAJOR)
		goto out;
	if (!raid_uuid_valid(uuid) || strlen(name) >= RAID_SB_NAME_SIZE || nbases <= 0 ||
	    nbases > RAID_MAX_BASE_BDEVS || !json_is_array(bases) ||
	    json_array_size(bases) > RAID_MAX_BASE_BDEVS || block_size <= 0)
		goto out;
	memset(sb, 0, sizeof(*sb));
	snprintf(sb->uuid, sizeof(sb->uuid), "%s", uuid);
	snprintf(sb->name, sizeof(sb->name), "%s", name);
	sb->raid_size = (uint64_t)raid_size;
	sb->block_size = (uint32_t)block_size;
	sb->level = (uint32_t)level;
	sb->strip_size = (uint32_t)strip;
	sb->seq_number = (uint64_t)seq;
	sb->num_base_bdevs = (uint8_t)nbases;
	sb->base_bdevs_size = (uint8_t)json_array_size(bases);
	json_array_foreach(bases, i, v)
	{
		const char *bu = NULL;
		json_int_t off = 0, size = 0;
		int bstate = 0, slot = 0;

		if (json_unpack(v, "{s:s, s:I, s:I, s:i, s:i}", "uuid", &bu, "data_offset", &off,
				"data_size", &size, "state", &bstate, "slot", &slot) != 0 ||
		    !raid_uuid_valid(bu) || slot < 0 || slot >= nbases)
			goto out;
		snprintf(sb->base[i].uuid, sizeof(sb->base[i].uuid), "%s", bu);
		sb->base[i].data_offset = (uint64_t)off;
		sb->base[i].data_size = (uint64_t)size;
		sb->base[i].state = (uint32_t)bstate;
		sb->base[i].slot = (uint8_t)slot;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

void raid_sb_init(struct raid_bdev *r)
{
	struct raid_sb *sb = calloc(1, sizeof(*sb));

	if (!sb)
		abort();
	snprintf(sb->uuid, sizeof(sb->uuid), "%s", r->uuid);
	snprintf(sb->name, sizeof(sb->name), "%s", r->name);
	sb->raid_size = r->blockcnt;
	sb->block_size = r->blocklen;
	sb->level = (uint32_t)r->level;
	sb->strip_size = r->strip_size;
	sb->num_base_bdevs = sb->base_bdevs_size = r->num_base_bdevs;
	for (uint8_t i = 0; i < r->num_base_bdevs; i++) {
		snprintf(sb->base[i].uuid, sizeof(sb->base[i].uuid), "%s", r->base[i].uuid);
		sb->base[i].data_offset = r->base[i].data_offset;
		sb->base[i].data_size = r->base[i].data_size;
		sb->base[i].state = RAID_SB_CONFIGURED;
		sb->base[i].slot = i;
	}
	free(r->sb);
	r->sb = sb;
}

int raid_sb_write(struct raid_bdev *r)
{
	char *buf;
	size_t len = 0;
	int status = 0;

	r->sb->seq_number++;
	buf = raid_sb_encode(r->sb, &len);
	if (!buf)
		return -ENOMEM;
	for (uint8_t i = 0; i < r->num_base_bdevs; i++) {
		struct raid_base *base = &r->base[i];
		int rc;

		if (!base->is_configured || base->remove_scheduled)
			continue;
		sim_bdev_channel_io(r->sim, base->bdev, "app_thread");
		rc = sim_bdev_sb_write(base->bdev, buf, len);
		if (rc) {
			log_debug("sim raid: superblock write to %s failed: %d", base->name, rc);
			status = -EIO;
		}
	}
	free(buf);
	return status;
}

int raid_sb_load(struct sim_bdev *b, struct raid_sb *sb)
{
	void *buf = NULL;
	size_t len = 0;
	int rc;

	rc = sim_bdev_sb_read(b, &buf, &len);
	if (rc == -ENODATA)
		return -EINVAL; /* nothing written: no valid signature */
	if (rc)
		return rc;
	rc = raid_sb_decode(buf, len, sb);
	free(buf);
	if (rc == 0 && sb->block_size != b->block_size)
		rc = -EINVAL;
	return rc;
}

/* raid_bdev_create_from_sb */
static int raid_create_from_sb(struct sim *s, const struct raid_sb *sb, struct raid_bdev **out)
{
	struct raid_bdev *r;
	int rc;

	rc = raid_create(s, sb->name, (sb->strip_size * sb->block_size) / 1024, sb->num_base_bdevs,
			 (enum raid_level)sb->level, true, sb->uuid, &r);
	if (rc)
		return rc;
	r->sb = malloc(sizeof(*r->sb));
	if (!r->sb) {
		raid_delete(s, r);
		return -ENOMEM;
	}
	memcpy(r->sb, sb, sizeof(*sb));
	r->num_operational = 0;
	for (uint8_t i = 0; i < sb->base_bdevs_size; i++) {
		const struct raid_sb_base *sbb = &sb->base[i];
		struct raid_base *base = &r->base[sbb->slot];

		if (sbb->state == RAID_SB_CONFIGURED) {
			snprintf(base->uuid, sizeof(base->uuid), "%s", sbb->uuid);
			r->num_operational++;
		}
		base->data_offset = sbb->data_offset;
		base->data_size = sbb->data_size;
	}
	*out = r;
	return 0;
}

/*
 * raid_bdev_examine_others: once an array was created from b's superblock, look at the
 * other members it lists that exist already. Stops at the first failure, as SPDK does.
 */
static void raid_examine_others(struct sim *s, const char *raid_uuid)
{
	uint8_t idx = 0;

	for (;;) {
		struct raid_bdev *r = raid_find_by_uuid(s, raid_uuid);
		struct raid_base *base = NULL;
		struct sim_bdev *b = NULL;
		struct raid_sb sb;
		int rc;

		if (!r)
			return;
		for (; idx < r->num_base_bdevs; idx++) {
			base = &r->base[idx];
			if (base->is_configured || !base->uuid[0])
				continue;
			b = raid_bdev_lookup(s, base->uuid);
			if (b)
				break;
		}
		if (!b)
			return;
		rc = raid_sb_load(b, &sb);
		if (rc)
			return;
		rc = raid_examine_sb(s, &sb, b);
		if (rc && rc != -EEXIST)
			return;
		idx++;
	}
}

int raid_examine_sb(struct sim *s, const struct raid_sb *sb_in, struct sim_bdev *b)
{
	const struct raid_sb *sb = sb_in;
	const struct raid_sb_base *sbb = NULL;
	struct raid_bdev *r;
	struct raid_base *base = NULL;
	bool created = false;
	char raid_uuid[37];
	int status = 0, rc;
	uint8_t i;

	if (sb->block_size != b->block_size || strcmp(sb->uuid, RAID_NULL_UUID) == 0)
		return -EINVAL;
	r = raid_find_by_uuid(s, sb->uuid);
	if (r) {
		if (!r->sb)
			return -EINVAL;
		if (sb->seq_number > r->sb->seq_number) {
			/* newer record: rebuild the array from it, unless it is already running */
			if (r->state != RAID_STATE_CONFIGURING)
				return -EBUSY;
			raid_delete(s, r);
			r = NULL;
		} else if (sb->seq_number < r->sb->seq_number) {
			sb = r->sb; /* the array's own record is newer: it decides */
		}
	}
	for (i = 0; i < sb->base_bdevs_size; i++) {
		if (strcasecmp(sb->base[i].uuid, b->uuid) == 0) {
			sbb = &sb->base[i];
			break;
		}
	}
	if (!sbb)
		return -EINVAL;
	snprintf(raid_uuid, sizeof(raid_uuid), "%s", sb->uuid);
	if (!r) {
		rc = raid_create_from_sb(s, sb, &r);
		if (rc)
			return rc;
		created = true;
		/* sb may point into an array raid_create_from_sb did not touch: still valid */
	}

	if (r->state == RAID_STATE_ONLINE) {
		/* a member the array lost comes back: it is re-added and rebuilt */
		base = &r->base[sbb->slot];
		if (base->is_configured || base->bdev)
			return -EEXIST;
		snprintf(base->uuid, sizeof(base->uuid), "%s", sbb->uuid);
		rc = raid_configure_base(s, base, true, &status);
		return rc ? rc : status;
	}
	if (sbb->state != RAID_SB_CONFIGURED) {
		log_debug("sim raid: %s is not an active member of %s, ignored", b->name, r->name);
		rc = -EINVAL;
		goto done;
	}
	for (i = 0; i < r->num_base_bdevs; i++) {
		if (strcasecmp(r->base[i].uuid, b->uuid) == 0) {
			base = &r->base[i];
			break;
		}
	}
	if (!base) {
		rc = -EINVAL;
		goto done;
	}
	if (base->is_configured) {
		rc = -EEXIST;
		goto done;
	}
	rc = raid_configure_base(s, base, true, &status);
	if (rc == 0)
		rc = status;
done:
	if (created && (rc == 0 || rc == -EEXIST))
		raid_examine_others(s, raid_uuid);
	return rc;
}

/* raid_bdev_examine_no_sb: a configuring array without superblock may be waiting for b. */
static void raid_examine_no_sb(struct sim *s, struct sim_bdev *b)
{
	struct raid_bdev *r, *next;

	for (r = raid_state(s)->raids; r; r = next) {
		next = r->next;
		if (r->state != RAID_STATE_CONFIGURING || r->sb)
			continue;
		for (uint8_t i = 0; i < r->num_base_bdevs; i++) {
			struct raid_base *base = &r->base[i];
			int status = 0;

			if (base->bdev)
				continue;
			if ((base->name && strcmp(b->name, base->name) == 0) ||
			    (base->uuid[0] && strcasecmp(base->uuid, b->uuid) == 0)) {
				if (raid_configure_base(s, base, true, &status) != 0 || status != 0)
					log_debug("sim raid: %s could not join %s", b->name,
						  r->name);
				break;
			}
		}
	}
}

void raid_examine(struct sim *s, struct sim_bdev *b)
{
	struct raid_sb sb;
	int rc;

	if (raid_find_base_by_bdev(s, b))
		return;
	rc = raid_sb_load(b, &sb);
	if (rc == 0) {
		rc = raid_examine_sb(s, &sb, b);
		if (rc)
			log_debug("sim raid: examine of %s: %d", b->name, rc);
	} else if (rc == -EINVAL) {
		raid_examine_no_sb(s, b);
	}
}

int raid_sb_render(struct sim_bdev *b, void *buf, size_t size)
{
	struct raid_sb_info *info;
	struct raid_sb sb;
	int rc = raid_sb_load(b, &sb);

	if (rc)
		return rc;
	if (sb.base_bdevs_size > SPDK_RAID_SB_BASES_MAX)
		return -EINVAL;
	info = calloc(1, sizeof(*info));
	if (!info)
		return -ENOMEM;
	snprintf(info->uuid, sizeof(info->uuid), "%s", sb.uuid);
	snprintf(info->name, sizeof(info->name), "%s", sb.name);
	info->raid_size = sb.raid_size;
	info->block_size = sb.block_size;
	info->level = sb.level;
	info->strip_size = sb.strip_size;
	info->seq_number = sb.seq_number;
	info->num_base_bdevs = sb.num_base_bdevs;
	info->base_bdevs_size = sb.base_bdevs_size;
	for (uint8_t i = 0; i < sb.base_bdevs_size; i++) {
		snprintf(info->base[i].uuid, sizeof(info->base[i].uuid), "%s", sb.base[i].uuid);
		info->base[i].data_offset = sb.base[i].data_offset;
		info->base[i].data_size = sb.base[i].data_size;
		info->base[i].state = sb.base[i].state;
		info->base[i].slot = sb.base[i].slot;
	}
	rc = raid_sb_encode_spdk(info, buf, size);
	free(info);
	return rc;
}
