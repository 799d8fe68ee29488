/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim raid: array lifecycle (create, member configure/remove, online/offline,
 * delete) and the bdev listener. Modelled on SPDK v25.09 module/bdev/raid/bdev_raid.c;
 * SPDK's asynchronous steps (quiesce, superblock I/O, channel iteration) complete at
 * once here, in the order SPDK runs them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "common/log.h"
#include "sim/sim_raid.h"

static const struct {
	const char *name;
	enum raid_level level;
} raid_level_names[] = {
	{"raid0", RAID_LEVEL_0},       {"0", RAID_LEVEL_0},	  {"raid1", RAID_LEVEL_1},
	{"1", RAID_LEVEL_1},	       {"raid5f", RAID_LEVEL_5F}, {"5f", RAID_LEVEL_5F},
	{"concat", RAID_LEVEL_CONCAT},
};

static const char *const raid_state_names[] = {
	[RAID_STATE_ONLINE] = "online",
	[RAID_STATE_CONFIGURING] = "configuring",
	[RAID_STATE_OFFLINE] = "offline",
};

struct sim_raid_state *raid_state(struct sim *s)
{
	if (!s->raid) {
		s->raid = calloc(1, sizeof(*s->raid));
		if (!s->raid)
			abort();
		s->raid->process_window_size_kb = 1024;
		s->raid->process_max_bandwidth_mb_sec = 0;
	}
	return s->raid;
}

const char *raid_level_to_str(enum raid_level level)
{
	for (size_t i = 0; i < sizeof(raid_level_names) / sizeof(raid_level_names[0]); i++)
		if (raid_level_names[i].level == level)
			return raid_level_names[i].name;
	return "";
}

enum raid_level raid_level_from_str(const char *str)
{
	for (size_t i = 0; i < sizeof(raid_level_names) / sizeof(raid_level_names[0]); i++)
		if (strcasecmp(raid_level_names[i].name, str) == 0)
			return raid_level_names[i].level;
	return RAID_LEVEL_INVALID;
}

const char *raid_state_to_str(enum raid_state state)
{
	return state < RAID_STATE_MAX ? raid_state_names[state] : "";
}

enum raid_state raid_state_from_str(const char *str)
{
	unsigned i;

	for (i = 0; i < RAID_STATE_MAX; i++)
		if (strcasecmp(raid_state_names[i], str) == 0)
			break;
	return (enum raid_state)i;
}

void raid_uuid_generate(char out[37])
{
	uint8_t u[16];

	if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u)) {
		for (size_t i = 0; i < sizeof(u); i++)
			u[i] = (uint8_t)random();
	}
	u[6] = (u[6] & 0x0f) | 0x40; /* version 4 */
	u[8] = (u[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

struct raid_bdev *raid_find_by_name(struct sim *s, const char *name)
{
	for (struct raid_bdev *r = raid_state(s)->raids; r; r = r->next)
		if (strcmp(r->name, name) == 0)
			return r;
	return NULL;
}

struct raid_bdev *raid_find_by_uuid(struct sim *s, const char *uuid)
{
	for (struct raid_bdev *r = raid_state(s)->raids; r; r = r->next)
		if (r->uuid[0] && strcasecmp(r->uuid, uuid) == 0)
			return r;
	return NULL;
}

struct raid_base *raid_find_base_by_bdev(struct sim *s, struct sim_bdev *b)
{
	for (struct raid_bdev *r = raid_state(s)->raids; r; r = r->next)
		for (uint8_t i = 0; i < r->num_base_bdevs; i++)
			if (r->base[i].bdev == b)
				return &r->base[i];
	return NULL;
}

struct sim_bdev *raid_bdev_lookup(struct sim *s, const char *name_or_uuid)
{
	for (struct sim_bdev *b = sim_bdev_first(s); b; b = b->next)
		if (strcmp(b->name, name_or_uuid) == 0 || strcasecmp(b->uuid, name_or_uuid) == 0)
			return b;
	return sim_bdev_find(s, name_or_uuid);
}

int raid_create(struct sim *s, const char *name, uint32_t strip_size_kb, uint8_t num_base_bdevs,
		enum raid_level level, bool superblock, const char *uuid, struct raid_bdev **out)
{
	struct sim_raid_state *st = raid_state(s);
	uint8_t min_operational, base_min;
	struct raid_bdev *r, **tail;

	if (strnlen(name, RAID_SB_NAME_SIZE) == RAID_SB_NAME_SIZE)
		return -EINVAL;
	if (raid_find_by_name(s, name))
		return -EEXIST;
	if (level == RAID_LEVEL_1) {
		if (strip_size_kb != 0)
			return -EINVAL;
	} else if (strip_size_kb == 0 || (strip_size_kb & (strip_size_kb - 1)) != 0) {
		return -EINVAL;
	}
	/* raid5f is a build option SPDK's default build leaves out: no module, -EINVAL. */
	switch (level) {
	case RAID_LEVEL_1:
		base_min = 2;
		min_operational = 1; /* CONSTRAINT_MIN_BASE_BDEVS_OPERATIONAL, 1 */
		break;
	case RAID_LEVEL_0:
	case RAID_LEVEL_CONCAT:
		base_min = 1;
		min_operational = num_base_bdevs; /* no redundancy: every member needed */
		break;
	default:
		return -EINVAL;
	}
	if (num_base_bdevs < base_min || min_operational == 0 || min_operational > num_base_bdevs)
		return -EINVAL;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->base = calloc(num_base_bdevs, sizeof(*r->base));
	r->name = strdup(name);
	if (!r->base || !r->name) {
		free(r->base);
		free(r->name);
		free(r);
		return -ENOMEM;
	}
	for (uint8_t i = 0; i < num_base_bdevs; i++)
		r->base[i].raid = r;
	r->sim = s;
	r->num_base_bdevs = num_base_bdevs;
	r->num_operational = num_base_bdevs; /* raid_bdev_create; from a superblock: recounted */
	r->strip_size_kb = strip_size_kb;
	r->state = RAID_STATE_CONFIGURING;
	r->level = level;
	r->min_operational = min_operational;
	r->superblock_enabled = superblock;
	if (uuid && strcmp(uuid, RAID_NULL_UUID) != 0)
		snprintf(r->uuid, sizeof(r->uuid), "%s", uuid);
	else if (superblock)
		raid_uuid_generate(r->uuid); /* the superblock needs it before registration */
	for (tail = &st->raids; *tail; tail = &(*tail)->next)
		;
	*tail = r;
	*out = r;
	return 0;
}

static void raid_unlink_and_free(struct sim *s, struct raid_bdev *r)
{
	struct raid_bdev **pp;

	for (pp = &raid_state(s)->raids; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	raid_reads_cancel(s, r);
	for (uint8_t i = 0; i < r->num_base_bdevs; i++) {
		free(r->base[i].name);
		json_decref(r->base[i].ch_threads);
	}
	free(r->base);
	free(r->sb);
	free(r->name);
	free(r);
}

static void raid_deconfigure_base(struct raid_base *base)
{
	base->raid->num_discovered--;
	base->is_configured = false;
	base->is_process_target = false;
}

void raid_free_base_resource(struct raid_base *base)
{
	struct raid_bdev *r = base->raid;

	free(base->name);
	base->name = NULL;
	/* A configuring array keeps the uuid so the member can still be recognised. */
	if (r->state != RAID_STATE_CONFIGURING)
		base->uuid[0] = '\0';
	base->is_failed = false;
	base->vanishing = false;
	base->data_offset = 0;
	if (!base->bdev)
		return;
	raid_channel_base_released(r->sim, base);
	sim_bdev_release(base->bdev);
	base->bdev = NULL;
	if (base->is_configured)
		raid_deconfigure_base(base);
}

/* Module start: the raid's size from its members (raid1_start, raid0_start, concat_start). */
static int raid_module_start(struct raid_bdev *r)
{
	uint64_t min = UINT64_MAX, total = 0;

	switch (r->level) {
	case RAID_LEVEL_1:
		for (uint8_t i = 0; i < r->num_base_bdevs; i++)
			if (r->base[i].data_size < min)
				min = r->base[i].data_size;
		for (uint8_t i = 0; i < r->num_base_bdevs; i++)
			r->base[i].data_size = min;
		r->blockcnt = min;
		return 0;
	case RAID_LEVEL_0:
		for (uint8_t i = 0; i < r->num_base_bdevs; i++)
			if (r->base[i].data_size < min)
				min = r->base[i].data_size;
		min -= min % r->strip_size;
		for (uint8_t i = 0; i < r->num_base_bdevs; i++)
			r->base[i].data_size = min;
		r->blockcnt = min * r->num_base_bdevs;
		return 0;
	case RAID_LEVEL_CONCAT:
		for (uint8_t i = 0; i < r->num_base_bdevs; i++) {
			r->base[i].data_size -= r->base[i].data_size % r->strip_size;
			total += r->base[i].data_size;
		}
		r->blockcnt = total;
		return 0;
	default:
		return -EINVAL;
	}
}

/* raid_bdev_configure_cont: online and registered, or back to configuring on failure. */
static int raid_go_online(struct sim *s, struct raid_bdev *r)
{
	struct sim_bdev *b;
	int err = 0;

	r->state = RAID_STATE_ONLINE;
	b = sim_bdev_register(s, r->name, r->uuid[0] ? r->uuid : NULL, r->blocklen, r->blockcnt,
			      r->md_len, &raid_bdev_ops, r, &err);
	if (!b) {
		log_debug("sim raid: registering %s failed: %d", r->name, err);
		r->state = RAID_STATE_CONFIGURING;
		return err ? err : -ENOMEM;
	}
	/* listeners may have run and changed nothing of ours; the uuid is the bdev's now */
	r->bdev = b;
	snprintf(r->uuid, sizeof(r->uuid), "%s", b->uuid);
	return 0;
}

/* raid_bdev_configure: all expected members are present. */
static int raid_configure(struct sim *s, struct raid_bdev *r)
{
	int rc;

	r->strip_size = r->blocklen ? (r->strip_size_kb * 1024) / r->blocklen : 0;
	if (r->strip_size == 0 && r->level != RAID_LEVEL_1)
		return -EINVAL;
	rc = raid_module_start(r);
	if (rc)
		return rc;
	if (r->superblock_enabled) {
		if (!r->sb) {
			raid_sb_init(r);
		} else if (r->sb->block_size != r->blocklen || r->sb->raid_size != r->blockcnt) {
			return -EINVAL;
		}
		rc = raid_sb_write(r);
		if (rc)
			return rc;
	}
	return raid_go_online(s, r);
}

/* raid_bdev_configure_base_bdev_cont. Returns the completion status. */
static int raid_configure_base_cont(struct sim *s, struct raid_base *base)
{
	struct raid_bdev *r = base->raid;
	int rc = 0;

	if (r->num_discovered == r->num_operational && !base->is_process_target)
		base->is_process_target = true; /* joins an online array: rebuild target */

	base->is_configured = true;
	r->num_discovered++;
	/* an online array's channels take the new member (raid_bdev_ch_process_setup) */
	raid_channel_base_joined(s, base);
	if (r->num_discovered == r->num_operational) {
		rc = raid_configure(s, r);
	} else if (base->is_process_target) {
		r->num_operational++;
		rc = raid_process_start(s, base);
		if (rc) {
			int ignored = 0;

			raid_remove_base(s, base, &ignored);
		}
	}
	return rc;
}

/* Superblock found on a bdev being added as a new member (..._check_sb_cb). */
static int raid_configure_base_check_sb(struct sim *s, struct raid_base *base)
{
	struct raid_sb sb;
	struct sim_bdev *b = base->bdev;
	int rc;

	rc = raid_sb_load(b, &sb);
	if (rc == -EINVAL)
		return raid_configure_base_cont(s, base);
	if (rc == 0 && strcasecmp(sb.uuid, base->raid->uuid) == 0) {
		/* A former member of this array: re-examine it against the array's superblock. */
		raid_free_base_resource(base);
		return raid_examine_sb(s, &sb, b);
	}
	if (rc == 0)
		rc = -EEXIST; /* superblock of a different array */
	raid_free_base_resource(base);
	return rc;
}

int raid_configure_base(struct sim *s, struct raid_base *base, bool existing, int *cb_status)
{
	struct raid_bdev *r = base->raid;
	struct sim_bdev *b;
	uint64_t data_offset;
	int rc;

	if (base->uuid[0]) {
		b = raid_bdev_lookup(s, base->uuid);
		if (!b)
			return -ENODEV;
		if (!base->name) {
			base->name = strdup(b->name);
			if (!base->name)
				return -ENOMEM;
		} else if (strcmp(base->name, b->name) != 0) {
			return -EINVAL;
		}
	}
	if (!base->name)
		return -EINVAL; /* neither a name nor a uuid to look for */
	b = sim_bdev_find(s, base->name);
	if (!b)
		return -ENODEV;
	if (!base->uuid[0])
		snprintf(base->uuid, sizeof(base->uuid), "%s", b->uuid);
	else if (strcasecmp(base->uuid, b->uuid) != 0)
		return -EINVAL;
	rc = sim_bdev_claim(b, "raid", "exclusive_write");
	if (rc)
		return rc;
	base->bdev = b;
	/* a new member's superblock area is read through the channel right away */
	raid_channel_base_claimed(s, base, !existing);
	if (!existing)
		raid_base_read_sb(s, base);

	if (r->superblock_enabled) {
		/* 1 MiB in front of the data (SPDK also rounds to optimal_io_boundary, 0 here) */
		data_offset = base->data_offset ? base->data_offset
						: RAID_MIN_DATA_OFFSET / b->block_size;
		base->data_offset = data_offset;
	}
	rc = -EINVAL;
	if (base->data_offset >= b->num_blocks)
		goto out;
	if (base->data_size == 0)
		base->data_size = b->num_blocks - base->data_offset;
	else if (base->data_offset + base->data_size > b->num_blocks)
		goto out;
	if (r->blocklen == 0) {
		r->blocklen = b->block_size;
		r->md_len = b->md_size;
	} else if (r->blocklen != b->block_size || r->md_len != b->md_size) {
		goto out;
	}

	*cb_status = existing ? raid_configure_base_cont(s, base)
			      : raid_configure_base_check_sb(s, base);
	return 0;
out:
	raid_free_base_resource(base);
	return rc;
}

int raid_add_base(struct sim *s, struct raid_bdev *r, const char *name, int *cb_status)
{
	struct raid_base *base = NULL;
	int rc;

	if (r->process)
		return -EPERM;
	if (r->state == RAID_STATE_CONFIGURING) {
		struct sim_bdev *b = sim_bdev_find(s, name);

		for (uint8_t i = 0; b && i < r->num_base_bdevs; i++) {
			if (!r->base[i].name && strcasecmp(r->base[i].uuid, b->uuid) == 0) {
				base = &r->base[i];
				break;
			}
		}
	}
	if (!base || r->state == RAID_STATE_ONLINE) {
		base = NULL;
		for (uint8_t i = 0; i < r->num_base_bdevs; i++) {
			if (!r->base[i].name && !r->base[i].uuid[0]) {
				base = &r->base[i];
				break;
			}
		}
	}
	if (!base)
		return -EINVAL; /* no empty slot */
	base->name = strdup(name);
	if (!base->name)
		return -ENOMEM;
	rc = raid_configure_base(s, base, false, cb_status);
	if (rc && (rc != -ENODEV || r->state != RAID_STATE_CONFIGURING)) {
		free(base->name);
		base->name = NULL;
	}
	return rc;
}

/* raid_bdev_deconfigure + destruct: unregister, then free what is left. */
static void raid_deconfigure(struct sim *s, struct raid_bdev *r)
{
	struct sim_bdev *b = r->bdev;

	if (r->state != RAID_STATE_ONLINE)
		return;
	r->state = RAID_STATE_OFFLINE;
	if (r->process)
		raid_process_stop(s, r);
	r->bdev = NULL;
	if (b)
		sim_bdev_unregister(s, b);
	raid_channel_bdev_gone(s, r);
	/* _raid_bdev_destruct: close the members whose removal was requested */
	for (uint8_t i = 0; i < r->num_base_bdevs; i++)
		if (r->base[i].remove_scheduled)
			raid_free_base_resource(&r->base[i]);
	if (r->num_discovered == 0)
		raid_unlink_and_free(s, r);
}

/* Record a member's loss in the superblock before it goes (..._remove_base_bdev_on_quiesced). */
static int raid_sb_record_loss(struct raid_base *base)
{
	struct raid_bdev *r = base->raid;
	uint8_t slot = raid_base_slot(base);

	if (!r->sb)
		return 0;
	for (uint8_t i = 0; i < r->sb->base_bdevs_size; i++) {
		struct raid_sb_base *sbb = &r->sb->base[i];

		if (sbb->state == RAID_SB_CONFIGURED && sbb->slot == slot) {
			sbb->state = base->is_failed ? RAID_SB_FAILED : RAID_SB_MISSING;
			return raid_sb_write(r);
		}
	}
	return 0;
}

int raid_remove_base(struct sim *s, struct raid_base *base, int *cb_status)
{
	struct raid_bdev *r = base->raid;
	int rc;

	if (base->remove_scheduled || !base->is_configured)
		return -ENODEV;
	base->remove_scheduled = true;

	if (r->state != RAID_STATE_ONLINE) {
		/* not registered: no quiesce, and the number of operational members stays */
		raid_free_base_resource(base);
		base->remove_scheduled = false;
		if (r->num_discovered == 0 && r->state == RAID_STATE_OFFLINE)
			raid_unlink_and_free(s, r);
		return 0;
	}
	if (r->min_operational == r->num_base_bdevs) {
		/* no redundancy: the array goes offline */
		r->num_operational--;
		raid_deconfigure(s, r);
		return 0;
	}
	if (r->quiesced && !base->vanishing) {
		/* spdk_bdev_quiesce waits behind the range a failed removal left locked */
		return -EINPROGRESS;
	}
	if (r->process) {
		uint8_t left = 0;

		for (uint8_t i = 0; i < r->num_base_bdevs; i++)
			if (r->base[i].is_configured && !r->base[i].remove_scheduled)
				left++;
		if (base == r->process->target || left <= r->min_operational) {
			/* the rebuild cannot go on: it stops and its target is removed first */
			struct raid_base *target = r->process->target;

			raid_process_stop(s, r);
			if (target != base) {
				int ignored = 0;

				raid_remove_base(s, target, &ignored);
			}
		}
	}
	rc = raid_sb_record_loss(base);
	if (rc && !base->vanishing) {
		/*
		 * SPDK keeps the member when the loss cannot be recorded, and the superblock
		 * in memory calls it missing. raid_bdev_remove_base_bdev_write_sb_cb finishes
		 * without spdk_bdev_unquiesce: the array stays quiesced.
		 */
		base->remove_scheduled = false;
		r->quiesced = true;
		*cb_status = rc;
		return 0;
	}
	raid_deconfigure_base(base);
	raid_free_base_resource(base);
	base->remove_scheduled = false;
	r->num_operational--;
	if (r->num_operational < r->min_operational)
		raid_deconfigure(s, r);
	return 0;
}

void raid_delete(struct sim *s, struct raid_bdev *r)
{
	if (r->destroy_started)
		return;
	r->destroy_started = true;
	if (r->process)
		raid_process_stop(s, r);
	for (uint8_t i = 0; i < r->num_base_bdevs; i++) {
		r->base[i].remove_scheduled = true;
		if (r->state != RAID_STATE_ONLINE)
			raid_free_base_resource(&r->base[i]);
	}
	if (r->num_discovered == 0)
		raid_unlink_and_free(s, r);
	else
		raid_deconfigure(s, r);
}

/* ---- bdev events ---- */

/* A second look at a new bdev, once the pass that registered it is over. */
struct raid_reexamine {
	char *name;
	char uuid[37];
	struct sim_timer *timer;
	struct raid_reexamine *next;
};

static void raid_reexamine_fire(struct sim *s, void *ctx)
{
	struct raid_reexamine *rx = ctx, **pp;
	struct sim_bdev *b;
	struct raid_sb sb;

	for (pp = &raid_state(s)->reexamine; *pp; pp = &(*pp)->next) {
		if (*pp == rx) {
			*pp = rx->next;
			break;
		}
	}
	b = sim_bdev_find(s, rx->name);
	if (b && strcasecmp(b->uuid, rx->uuid) == 0 && !b->claim_type &&
	    !raid_find_base_by_bdev(s, b) && raid_sb_load(b, &sb) == 0 &&
	    raid_examine_sb(s, &sb, b) != 0)
		log_debug("sim raid: late examine of %s found nothing to join", rx->name);
	free(rx->name);
	free(rx);
}

/*
 * raid_bdev_examine. A module may fill in the bdev's metadata area (a namespace's copy of
 * its superblock) right after registering it, so a bdev that did not join anything is
 * examined once more at the end of the pass, still before the next request is served.
 */
static void raid_on_bdev_added(struct sim *s, struct sim_bdev *b, void *ctx)
{
	struct sim_raid_state *st = raid_state(s);
	struct raid_reexamine *rx;
	struct raid_sb sb;
	bool had_sb = raid_sb_load(b, &sb) != -EINVAL;

	raid_examine(s, b);
	/* only a bdev whose superblock was not readable yet gets the second look */
	if (had_sb || b->ops == &raid_bdev_ops || raid_find_base_by_bdev(s, b))
		return;
	rx = calloc(1, sizeof(*rx));
	if (!rx || !(rx->name = strdup(b->name))) {
		free(rx);
		return;
	}
	snprintf(rx->uuid, sizeof(rx->uuid), "%s", b->uuid);
	rx->timer = sim_timer_add(s, 0, raid_reexamine_fire, rx);
	rx->next = st->reexamine;
	st->reexamine = rx;
}

static void raid_on_bdev_removed(struct sim *s, struct sim_bdev *b, void *ctx)
{
	struct raid_base *base = raid_find_base_by_bdev(s, b);
	int ignored = 0;

	if (!base)
		return;
	/* the bdev is freed after the listeners: whatever happens, let go of it */
	base->vanishing = true;
	if (raid_remove_base(s, base, &ignored) != 0)
		log_debug("sim raid: base %s was not removable", b->name);
	base = raid_find_base_by_bdev(s, b);
	if (base)
		raid_free_base_resource(base);
}

/* raid_bdev_resize_base_bdev with raid1_resize: grows to the smallest member. */
static void raid_on_bdev_resized(struct sim *s, struct sim_bdev *b, void *ctx)
{
	struct raid_base *base = raid_find_base_by_bdev(s, b);
	struct raid_bdev *r;
	uint64_t min = UINT64_MAX;

	if (!base)
		return;
	r = base->raid;
	if (r->level != RAID_LEVEL_1 || r->state != RAID_STATE_ONLINE || !r->bdev)
		return;
	for (uint8_t i = 0; i < r->num_base_bdevs; i++) {
		struct raid_base *it = &r->base[i];

		if (it->bdev && it->bdev->num_blocks - it->data_offset < min)
			min = it->bdev->num_blocks - it->data_offset;
	}
	/* shrinking fails in SPDK while the raid holds itself open, which it always does */
	if (min == UINT64_MAX || min <= r->blockcnt)
		return;
	r->blockcnt = min;
	for (uint8_t i = 0; i < r->num_base_bdevs; i++)
		r->base[i].data_size = min;
	sim_bdev_resize(s, r->bdev, min);
	if (r->superblock_enabled && r->sb) {
		for (uint8_t i = 0; i < r->sb->base_bdevs_size; i++)
			if (r->sb->base[i].slot < r->num_base_bdevs)
				r->sb->base[i].data_size = r->base[r->sb->base[i].slot].data_size;
		r->sb->raid_size = r->blockcnt;
		if (raid_sb_write(r) != 0)
			log_debug("sim raid: superblock write after resize of %s failed", r->name);
	}
}

static const struct sim_bdev_listener raid_listener = {
	.added = raid_on_bdev_added,
	.removed = raid_on_bdev_removed,
	.resized = raid_on_bdev_resized,
};

static void raid_module_init(struct sim *s)
{
	raid_state(s);
	sim_bdev_listen(s, &raid_listener);
}

static void raid_module_fini(struct sim *s)
{
	struct sim_raid_state *st = s->raid;

	if (!st)
		return;
	/* bdevs other modules unregister later must not bring the module back */
	sim_bdev_unlisten(s, &raid_listener);
	while (st->raids) {
		struct raid_bdev *r = st->raids;

		if (r->process)
			raid_process_stop(s, r);
		for (uint8_t i = 0; i < r->num_base_bdevs; i++)
			if (r->base[i].bdev)
				sim_bdev_release(r->base[i].bdev);
		if (r->bdev)
			r->bdev->ctx = NULL;
		raid_unlink_and_free(s, r);
	}
	raid_scratch_free(s);
	while (st->reexamine) {
		struct raid_reexamine *rx = st->reexamine;

		st->reexamine = rx->next;
		sim_timer_cancel(s, rx->timer);
		free(rx->name);
		free(rx);
	}
	free(st);
	s->raid = NULL;
}

const struct sim_module sim_module_raid = {
	.name = "raid",
	.methods = sim_raid_methods,
	.control = sim_raid_control,
	.init = raid_module_init,
	.fini = raid_module_fini,
	.config = sim_raid_config,
};
