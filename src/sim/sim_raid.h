/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim raid module internals, shared by sim_raid.c (array lifecycle), sim_raid_sb.c
 * (superblock and examine), sim_raid_process.c (rebuild) and sim_raid_rpc.c (methods).
 * The model follows SPDK v25.09 module/bdev/raid: every rule here has a counterpart there.
 */
#ifndef DISKENGINE_SIM_RAID_H
#define DISKENGINE_SIM_RAID_H

#include "sim/sim.h"

#define RAID_SB_NAME_SIZE 64		/* RAID_BDEV_SB_NAME_SIZE: name limit incl. NUL */
#define RAID_MIN_DATA_OFFSET (1u << 20) /* bytes reserved in front of data with a superblock */
#define RAID_MAX_BASE_BDEVS 255		/* the RPC decoder's array limit */
#define RAID_NULL_UUID "00000000-0000-0000-0000-000000000000"

/* Array state as SPDK names it in bdev_raid_get_bdevs. */
enum raid_state {
	RAID_STATE_ONLINE = 0,	    /* registered as a bdev, serving I/O */
	RAID_STATE_CONFIGURING = 1, /* waiting for members, not a bdev */
	RAID_STATE_OFFLINE = 2,	    /* unregistered after too many members were lost */
	RAID_STATE_MAX = 3,	    /* "all" in a category filter */
};

/* RAID level; values are SPDK's enum raid_level (stored in the superblock). */
enum raid_level {
	RAID_LEVEL_INVALID = -1, /* not a level SPDK knows */
	RAID_LEVEL_0 = 0,	 /* striping */
	RAID_LEVEL_1 = 1,	 /* mirroring */
	RAID_LEVEL_5F = 95,	 /* raid5f: decodes, but the module is not built */
	RAID_LEVEL_CONCAT = 99,	 /* concatenation */
};

/* Member state recorded in the superblock. */
enum raid_sb_base_state {
	RAID_SB_MISSING = 0,	/* removed or never present */
	RAID_SB_CONFIGURED = 1, /* an in-sync member */
	RAID_SB_FAILED = 2,	/* removed after an I/O failure */
	RAID_SB_SPARE = 3,	/* unused by SPDK today */
};

struct raid_sb_base {
	char uuid[37];
	uint64_t data_offset;
	uint64_t data_size;
	uint32_t state; /* enum raid_sb_base_state */
	uint8_t slot;
};

/* The on-disk superblock (SPDK's struct raid_bdev_superblock, minus crc/padding). */
struct raid_sb {
	char uuid[37];
	char name[RAID_SB_NAME_SIZE];
	uint64_t raid_size;
	uint32_t block_size;
	uint32_t level;
	uint32_t strip_size; /* blocks */
	uint64_t seq_number;
	uint8_t num_base_bdevs;
	uint8_t base_bdevs_size;
	struct raid_sb_base base[RAID_MAX_BASE_BDEVS];
};

struct raid_bdev;

/* One slot of an array. */
struct raid_base {
	struct raid_bdev *raid;
	char *name;	       /* NULL: slot empty (lost member shows name null) */
	char uuid[37];	       /* "" = null uuid */
	struct sim_bdev *bdev; /* the claimed bdev (SPDK: desc), NULL when missing */
	uint64_t data_offset;
	uint64_t data_size;
	bool is_configured;
	bool is_process_target;
	bool remove_scheduled;
	bool is_failed;
	bool vanishing; /* its bdev is being unregistered: removal cannot be refused */
	bool app_ch;	/* SPDK's app_thread_ch: the module's own channel while claimed */
	json_t *ch_threads; /* threads where a channel of the array holds one on this member */
	uint64_t read_outstanding; /* blocks of reads in flight here (raid1 read balancing) */
};

/* A running rebuild. Progress is a function of time: see sim_raid_process.c. */
struct raid_process {
	struct sim *sim;
	struct raid_base *target;
	uint64_t start_ms;
	uint64_t window_blocks; /* blocks per window (process_window_size_kb) */
	double bytes_per_ms;	/* 0 = unlimited */
	bool stalled;		/* the array is quiesced for good: no window is ever copied */
	struct sim_timer *timer;
};

struct raid_bdev {
	struct sim *sim;
	char *name;
	char uuid[37]; /* "" until known: SPDK shows the null uuid before registration */
	uint32_t strip_size_kb;
	uint32_t strip_size; /* blocks */
	enum raid_state state;
	enum raid_level level;
	uint8_t num_base_bdevs;
	uint8_t num_discovered;
	uint8_t num_operational;
	uint8_t min_operational;
	bool superblock_enabled;
	bool destroy_started;
	/*
	 * A member removal failed after the array was quiesced (its superblock could not be
	 * written): SPDK never unquiesces it. Later removals wait for a quiesce never granted
	 * (their RPCs are not answered) and a rebuild copies nothing.
	 */
	bool quiesced;
	struct raid_sb *sb; /* NULL when no superblock was loaded or created yet */
	uint32_t blocklen;
	uint32_t md_len;
	uint64_t blockcnt;
	struct raid_base *base; /* num_base_bdevs slots */
	struct raid_process *process;
	struct sim_bdev *bdev; /* registered bdev while online */
	struct sim_timer *reads_done; /* completes the reads in flight at the end of a loop pass */
	struct raid_bdev *next;
};

struct scratch_media;
struct raid_reexamine;

struct sim_raid_state {
	struct raid_bdev *raids;       /* creation order, as SPDK's g_raid_bdev_list */
	struct scratch_media *scratch;     /* contents of scratch disks, by uuid */
	struct raid_reexamine *reexamine; /* new bdevs to look at again */
	uint32_t process_window_size_kb;
	uint32_t process_max_bandwidth_mb_sec;
};

/* ---- sim_raid_read.c: reads through the array ---- */

/* ops->read of an array: forward to the member SPDK's read policy picks. */
void raid_bdev_read(struct sim *s, struct sim_bdev *b, uint64_t offset, uint64_t len);
/* Read a new member's superblock area, as SPDK does before it configures the member. */
void raid_base_read_sb(struct sim *s, struct raid_base *base);
/* Forget reads in flight (the array goes away). */
void raid_reads_cancel(struct sim *s, struct raid_bdev *r);

/* ---- sim_raid.c: array lifecycle ---- */

/* The module state; created on first use so methods work before init() too. */
struct sim_raid_state *raid_state(struct sim *s);
const char *raid_level_to_str(enum raid_level level);
/* Case-insensitive as SPDK; RAID_LEVEL_INVALID when unknown. */
enum raid_level raid_level_from_str(const char *str);
const char *raid_state_to_str(enum raid_state state);
/* RAID_STATE_MAX when str is not a state name ("all" is handled by the caller). */
enum raid_state raid_state_from_str(const char *str);
/* A random (version 4) uuid in SPDK's lower-case text form. */
void raid_uuid_generate(char out[37]);
struct raid_bdev *raid_find_by_name(struct sim *s, const char *name);
struct raid_bdev *raid_find_by_uuid(struct sim *s, const char *uuid);
/* The slot that holds b open, in any array; NULL if b is no member. */
struct raid_base *raid_find_base_by_bdev(struct sim *s, struct sim_bdev *b);
/* A bdev by name or by uuid (SPDK registers the uuid as an alias). */
struct sim_bdev *raid_bdev_lookup(struct sim *s, const char *name_or_uuid);
static inline uint8_t raid_base_slot(const struct raid_base *base)
{
	return (uint8_t)(base - base->raid->base);
}

/* raid_bdev_create: validate and allocate a configuring array. 0 or negative errno. */
int raid_create(struct sim *s, const char *name, uint32_t strip_size_kb, uint8_t num_base_bdevs,
		enum raid_level level, bool superblock, const char *uuid, struct raid_bdev **out);
/*
 * raid_bdev_add_base_bdev. Returns the immediate error (SPDK's return code); a later
 * failure that SPDK reports through the completion callback is stored in *cb_status.
 */
int raid_add_base(struct sim *s, struct raid_bdev *r, const char *name, int *cb_status);
/* raid_bdev_configure_base_bdev; same return convention as raid_add_base. */
int raid_configure_base(struct sim *s, struct raid_base *base, bool existing, int *cb_status);
/*
 * raid_bdev_remove_base_bdev for one slot; 0 or -ENODEV, *cb_status as above, or
 * -EINPROGRESS when the removal waits on a quiesced array and never completes.
 */
int raid_remove_base(struct sim *s, struct raid_base *base, int *cb_status);
/* raid_bdev_delete: releases the members and frees the array (r is gone afterwards). */
void raid_delete(struct sim *s, struct raid_bdev *r);
/* raid_bdev_free_base_bdev_resource. */
void raid_free_base_resource(struct raid_base *base);

/* ---- sim_raid_channel.c: I/O channels the array holds on its members ---- */

/*
 * A member was claimed (raid_bdev_configure_base_bdev): the module's own channel on the
 * app thread; `io` when SPDK reads the member through it at once (superblock probe).
 */
void raid_channel_base_claimed(struct sim *s, struct raid_base *base, bool io);
/* A member became configured in an online array: every channel of the array takes one. */
void raid_channel_base_joined(struct sim *s, struct raid_base *base);
/* A member is let go (raid_bdev_free_base_bdev_resource): all its channels close. */
void raid_channel_base_released(struct sim *s, struct raid_base *base);
/* The array's bdev is gone: the member channels its channels held close with it. */
void raid_channel_bdev_gone(struct sim *s, struct raid_bdev *r);
/* ops->channel_changed of the raid bdev (raid_bdev_create_cb / raid_bdev_destroy_cb). */
void raid_channel_changed(struct sim *s, struct sim_bdev *b, const char *thread, bool open);

/* ---- sim_raid_sb.c: superblock and examine ---- */

/* Serialize sb into a new buffer (caller frees). */
char *raid_sb_encode(const struct raid_sb *sb, size_t *len);
/* Parse a stored superblock; -EINVAL when it is not a valid one. */
int raid_sb_decode(const void *buf, size_t len, struct raid_sb *sb);
/* A superblock describing the array's current members (raid_bdev_init_superblock). */
void raid_sb_init(struct raid_bdev *r);
/* Bump the sequence number and write to every configured member not being removed. */
int raid_sb_write(struct raid_bdev *r);
/*
 * b's superblock as SPDK lays it out in the member's first bytes (a raw read of block 0):
 * 0, or -EINVAL when there is none. buf holds at least 256 + 64 * bases bytes, zeroed.
 */
int raid_sb_render(struct sim_bdev *b, void *buf, size_t size);
/* Load b's superblock: 0, -EINVAL (none / invalid) or another negative errno. */
int raid_sb_load(struct sim_bdev *b, struct raid_sb *sb);
/* raid_bdev_examine_sb: act on a superblock found on b. Returns the callback status. */
int raid_examine_sb(struct sim *s, const struct raid_sb *sb, struct sim_bdev *b);
/* raid_bdev_examine: called for every newly registered bdev. */
void raid_examine(struct sim *s, struct sim_bdev *b);

/* ---- sim_raid_process.c: rebuild ---- */

/* Start a rebuild onto target (the array is online). 0 or negative errno. */
int raid_process_start(struct sim *s, struct raid_base *target);
/* Stop the rebuild without completing it (member lost, array deleted). */
void raid_process_stop(struct sim *s, struct raid_bdev *r);
/* Complete the rebuild if the clock says it is done (before anyone looks at the array). */
void raid_process_poll(struct raid_bdev *r);
/* The "process" object of bdev_raid_get_bdevs, or NULL when idle. */
json_t *raid_process_to_json(struct raid_bdev *r);

/* ---- sim_raid_rpc.c ---- */

/* The raid info object (raid_bdev_write_info_json); new reference. */
json_t *raid_info_json(struct raid_bdev *r);
extern const struct sim_bdev_ops raid_bdev_ops;
extern const struct sim_method sim_raid_methods[];

/* ---- sim_raid_scratch.c: plain disks plugged in through the control channel ---- */

extern const struct sim_control_cmd sim_raid_control[];
void raid_scratch_free(struct sim *s);
/* sim_module.config for the raid module. */
void sim_raid_config(struct sim *s, const char *subsystem, json_t *arr);

#endif
