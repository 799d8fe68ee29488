/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_RECONCILE_PLAN_H
#define DISKENGINE_RECONCILE_PLAN_H

/*
 * The pure planner: plan_build(desired, observed, host facts) -> ordered actions. No I/O, no clock,
 * no globals. A pass plans what the observed state allows now (level-triggered). Where SPDK's
 * answer to a step says what the next one needs, the volume's chain goes on in the same pass: a
 * raid that bdev_raid_create answered, or that bdev_get_bdevs with a timeout saw reassembled, is
 * registered and online, so QoS and the vhost follow at once. Such a chain may wait for its
 * volume's own replica attaches of the pass (AWAIT_PATH); everything else the next pass observes.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reconcile/model.h"

#define PLAN_MSG_MAX 320
#define PLAN_GROUP_MAX (MODEL_NAME_MAX + 16)

/* One thing the executor does. Parameters live in the matching member of struct action. */
enum action_kind {
	ACTION_ADD_KEY = 0, /* keyring_file_add_key(key.name, key.path) */
	ACTION_REMOVE_KEY,  /* keyring_file_remove_key(key.name) */
	ACTION_ATTACH_PATH, /* bdev_nvme_attach_controller(path.*): a controller or one more path */
	ACTION_DETACH_PATH, /* bdev_nvme_detach_controller(name + trid of one path) */
	ACTION_DETACH_CONTROLLER, /* bdev_nvme_detach_controller(name): every path, its bdevs too */
	ACTION_CREATE_RAID,	  /* bdev_raid_create(raid1, raid.bases, superblock); on success the
				   * store records that the volume's raid was created */
	ACTION_WAIT_RAID_ASSEMBLY, /* bdev_get_bdevs(name, timeout_ms): superblock raid reassembles
				    * by itself; wait for it instead of racing bdev_raid_create.
				    * raid.strict: not back in time fails the chain (later steps
				    * need the raid) */
	ACTION_ADD_RAID_BASE,	 /* bdev_raid_add_base_bdev(object, raid.base): SPDK rebuilds it */
	ACTION_REMOVE_RAID_BASE, /* bdev_raid_remove_base_bdev(raid.base) */
	ACTION_DELETE_RAID,	 /* bdev_raid_delete(object); "not found" is success */
	ACTION_SET_QOS,		 /* bdev_set_qos_limit(object, qos.*); 0 disables a limit */
	ACTION_CREATE_VHOST,	/* vhost_create_blk_controller(object, vhost.bdev, vhost.cpumask) */
	ACTION_DELETE_VHOST,	/* vhost_delete_controller(object); "not found" is success */
	ACTION_MAPPING_ADVANCE, /* store: mapping from -> to, only after earlier steps succeeded */
	ACTION_REPLICA_PROMOTE, /* store: the slot's pending replica becomes its member (resize) */
	ACTION_REPLICA_SET_SYNC, /* store: a member's in_sync flag (false: it left the raid and
				  * misses writes; true: SPDK finished rebuilding it) */
	ACTION_RESIZE_FINISH,	 /* store: the raid serves the volume's new size: READY again */
	ACTION_SET_CLEAN_STOP,	 /* store: volumes.clean_stop = clean_stop (cleared when the raid
				  * assembles, set after an orderly teardown) */
	ACTION_SET_STATUS,	 /* store: status / last error of a volume's mappings (message) */
	ACTION_REPORT_CONFLICT,	 /* an object with our name is not what we want: tell the operator,
				  * never delete it */
	ACTION_AWAIT_PATH,	 /* no call: the group starts only after the group named by object
				  * ("path:<controller>", this pass's attach of a replica) succeeded */
	ACTION_CHECK_MEMBERS,	 /* bdev_get_bdevs(name) of raid.bases: unclaimed, and fit for the
				  * volume (geometry_check with raid.block_size, raid.size_bytes),
				  * before a raid is created over bdevs this pass attached */
	/*
	 * Initialisation from a snapshot (plan_initialise.c): the clones carry the source raid's
	 * superblock; it is checked, then zeroed, before the volume's own raid is created.
	 */
	ACTION_INIT_VERIFY,	/* bdev_nvme_send_cmd(object) Read of the first blocks: exactly
				 * the source raid's superblock (init.*), or zeroes once
				 * init.wiped; anything else fails the chain, nothing wiped */
	ACTION_INIT_MARK_WIPED, /* store: volumes.init_wiped, before the first Write Zeroes */
	ACTION_INIT_WIPE,	/* bdev_nvme_send_cmd(object) Write Zeroes over the first
				 * init.data_offset blocks; the completion's status decoded */
	ACTION_INIT_CHECK_RAID, /* bdev_raid_get_bdevs: object's data_offset equals
				 * init.data_offset; records the raid's uuid and data_offset */
	ACTION_KIND_COUNT,	/* number of kinds, not an action */
};

/* Parameters of bdev_nvme_attach_controller / bdev_nvme_detach_controller (one path). */
struct action_path {
	char trtype[8]; /* "RDMA", "TCP", "PCIe" */
	char traddr[MODEL_ADDR_MAX];
	char trsvcid[8];	       /* empty for PCIe */
	char adrfam[8];		       /* "IPv4", "IPv6"; empty for PCIe */
	char subnqn[MODEL_NQN_MAX];    /* empty for PCIe */
	char hostnqn[MODEL_NQN_MAX];   /* empty for PCIe */
	char hostaddr[MODEL_ADDR_MAX]; /* source address from RDMA_IPS; empty: none */
	bool multipath;		       /* "multipath"; never for PCIe */
	int reconnect_delay_s;
	int ctrlr_loss_s;
	int fast_io_fail_s;
	char dhchap_key[MODEL_KEY_MAX]; /* keyring name; empty: no authentication */
};

struct action_raid {
	char bases[2][MODEL_NAME_MAX]; /* CREATE_RAID: in-sync bases only */
	char uuid[40];		       /* CREATE_RAID: names_raid_uuid, proof of ownership */
	size_t n_bases;
	bool superblock;	   /* always true for CREATE_RAID */
	char base[MODEL_NAME_MAX]; /* ADD_RAID_BASE / REMOVE_RAID_BASE */
	int timeout_ms;		   /* WAIT_RAID_ASSEMBLY */
	bool strict;		   /* WAIT_RAID_ASSEMBLY: a timeout is a failure */
	uint32_t block_size;	   /* CHECK_MEMBERS: the volume's block size; 0 = any */
	uint64_t size_bytes;	   /* CHECK_MEMBERS: the volume's size (geometry_check) */
};

/* INIT_*: what the clones of a volume filled from a snapshot must carry. */
struct action_init {
	char source_uuid[40]; /* the source raid's uuid, as its superblock says */
	uint64_t data_offset; /* the source raid's data_offset (blocks); also the wipe's length */
	uint32_t block_size;  /* the volume's */
	uint64_t size_bytes;  /* the volume's: the source raid fits in it */
	char bdev[MODEL_NAME_MAX]; /* INIT_VERIFY / INIT_WIPE: the namespace bdev (messages) */
	bool wiped;		   /* INIT_VERIFY: zeroes are this volume's own earlier wipe */
};

struct action_vhost {
	char bdev[MODEL_NAME_MAX];
	char cpumask[32];
};

struct action_key {
	char path[MODEL_PATH_MAX];
};

struct action {
	enum action_kind kind;
	/*
	 * Actions of one group run in order of step; actions with the same step may run
	 * concurrently (the replicas' attaches); a failure stops the group's later steps.
	 */
	char group[PLAN_GROUP_MAX]; /* "volume:<id>" or "orphan:<object>" */
	unsigned step;
	uint64_t volume_id;  /* 0: none (orphans) */
	uint64_t mapping_id; /* MAPPING_ADVANCE, vhost actions; 0: every mapping of volume */
	char object[MODEL_NAME_MAX]; /* controller, raid, vhost or key name acted on */
	struct action_path path;
	struct action_raid raid;
	struct action_vhost vhost;
	struct action_init init; /* INIT_*, and CREATE_RAID of such a volume (data_offset) */
	struct action_key key;
	struct qos_limits qos;
	enum mapping_state from, to; /* MAPPING_ADVANCE */
	unsigned slot;		     /* REPLICA_PROMOTE, REPLICA_SET_SYNC */
	bool in_sync;		     /* REPLICA_SET_SYNC */
	uint64_t generation;	     /* REPLICA_SET_SYNC: the generation to record */
	bool clean_stop;	     /* SET_CLEAN_STOP */
	char message[PLAN_MSG_MAX];  /* SET_STATUS / REPORT_CONFLICT: what is wrong, naming objects
				      */
};

struct plan {
	struct action *actions;
	size_t n_actions;
	size_t cap;
	bool reset_in_progress; /* a controller resets: no changes on its volumes this pass */
};

/*
 * Compute the actions that move SPDK towards the desired state. hf may be NULL (no host facts:
 * fabric sources and PCIe drivers are then reported as unknown). On success fills *out (free it
 * with plan_free) and returns 0; -ENOMEM, or -EINVAL if an argument is NULL.
 */
int plan_build(const struct desired *d, const struct observed *o, const struct host_facts *hf,
	       struct plan *out);

/*
 * Is no path of any controller resetting? plan_build records the answer as reset_in_progress.
 * (The observer never lists bdevs without a name, whatever this says: a reset can start between
 * two calls.)
 */
bool plan_bdev_listing_safe(const struct obs_controller *ctrlrs, size_t n);

/* Free the actions of a plan built by plan_build; the struct itself is the caller's. */
void plan_free(struct plan *p);

/*
 * Check the timers and names of the configuration: 1 <= reconnect_delay <= ctrlr_loss,
 * fast_io_fail < ctrlr_loss < member_giveup < guest_io_timeout, a hostnqn, an absolute vhost
 * directory short enough for socket paths, a hex cpumask. Returns 0, or -EINVAL with a sentence
 * naming the offending value in err.
 */
int plan_config_check(const struct plan_config *c, char *err, size_t err_size);

/* Fill c with the defaults of the seed (1 s / 10 s / 0 s, ...). */
void plan_config_defaults(struct plan_config *c);

/* Stable name of an action kind ("ATTACH_PATH"), for logs and tests. */
const char *plan_action_kind_name(enum action_kind k);

/* One line describing an action, for logs and `diskengine plan`; returns snprintf's result. */
int plan_action_describe(const struct action *a, char *buf, size_t size);

#endif
