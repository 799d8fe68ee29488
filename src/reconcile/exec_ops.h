/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_RECONCILE_EXEC_OPS_H
#define DISKENGINE_RECONCILE_EXEC_OPS_H

/*
 * The executor's operations: one SPDK call (or one database transition) each, with SPDK's
 * answers interpreted: "already exists" is checked for ownership, "not found" answering a
 * delete is success, conflicts are reported and never repaired by deleting, and a mapping's
 * database state advances only through its own operation, which the executor runs only after
 * every earlier operation of the same chain succeeded.
 */

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reconcile/exec.h"

struct rpc_client;
struct store;

#define EXEC_NAME_MAX 256

/* What one operation does. */
enum exec_op_kind {
	EXEC_OP_ATTACH_PATH = 0,       /* bdev_nvme_attach_controller (one path) */
	EXEC_OP_DETACH_CONTROLLER = 1, /* bdev_nvme_detach_controller (whole controller) */
	EXEC_OP_CREATE_RAID = 2,       /* bdev_raid_create raid1, superblock */
	EXEC_OP_WAIT_BDEV = 3,	       /* bdev_get_bdevs name + timeout: wait for reassembly */
	EXEC_OP_ADD_BASE = 4,	       /* bdev_raid_add_base_bdev: SPDK rebuilds the member */
	EXEC_OP_DELETE_RAID = 5,       /* bdev_raid_delete */
	EXEC_OP_SET_QOS = 6,	       /* bdev_set_qos_limit */
	EXEC_OP_CREATE_VHOST = 7,      /* vhost_create_blk_controller */
	EXEC_OP_DELETE_VHOST = 8,      /* vhost_delete_controller */
	EXEC_OP_ADVANCE_MAPPING = 9,   /* store_mapping_advance (compare-and-set) */
	EXEC_OP_DETACH_PATH = 10,      /* bdev_nvme_detach_controller with one path's trid */
	EXEC_OP_REMOVE_BASE = 11,      /* bdev_raid_remove_base_bdev */
	EXEC_OP_ADD_KEY = 12,	       /* keyring_file_add_key (name, path) */
	EXEC_OP_REMOVE_KEY = 13,       /* keyring_file_remove_key */
	EXEC_OP_REPLICA_SYNC = 14,     /* store_replica_set_in_sync */
	EXEC_OP_REPLICA_PROMOTE = 15,  /* store_replica_promote (pending replaces member) */
	EXEC_OP_RESIZE_FINISH = 16,    /* store_volume_resize_finish: the raid serves the size */
	EXEC_OP_CLEAN_STOP = 17,       /* store_volume_set_clean_stop */
	EXEC_OP_CHECK_MEMBERS = 18,    /* bdev_get_bdevs of bases: unclaimed, geometry_check */
	EXEC_OP_INIT_VERIFY = 19,      /* send_cmd Read: a clone carries the source's superblock */
	EXEC_OP_INIT_MARK_WIPED = 20,  /* store_volume_set_init_wiped */
	EXEC_OP_INIT_WIPE = 21,	       /* send_cmd Write Zeroes over init_offset blocks */
	EXEC_OP_INIT_CHECK_RAID = 22,  /* data_offset equals init_offset; record the raid */
};

struct exec_op {
	enum exec_op_kind kind;
	int64_t volume_id;	  /* 0 when not about one volume (orphans) */
	int64_t mapping_id;	  /* for ADVANCE_MAPPING and log lines; 0 = none */
	char name[EXEC_NAME_MAX]; /* controller, raid or vhost controller name */
	/* ATTACH_PATH */
	char trtype[16], adrfam[8], traddr[64], trsvcid[16], subnqn[224], hostaddr[64];
	bool multipath;	     /* fabrics only; never for local PCIe */
	char dhchap_key[64]; /* keyring name for DH-HMAC-CHAP; "" = none */
	/* CREATE_RAID: bases; ADD_BASE: bases[0] into `name` */
	char bases[2][EXEC_NAME_MAX];
	unsigned n_bases;
	char uuid[40]; /* CREATE_RAID: the raid's UUID (names_raid_uuid) */
	/* CREATE_VHOST: the bdev served; WAIT_BDEV: wait time, and whether not coming back fails */
	char bdev[EXEC_NAME_MAX];
	uint32_t wait_ms;
	bool strict;
	/* CHECK_MEMBERS: what the volume needs of bases[] */
	uint32_t block_size;
	uint64_t size_bytes;
	/* SET_QOS; 0 = unlimited */
	uint64_t rw_iops, rw_mbps, r_mbps, w_mbps;
	/* ADVANCE_MAPPING: enum store_mapping_state values */
	int from, to;
	/* ADD_KEY: key file; REPLICA_SYNC: which replica, what it holds */
	char key_path[256];
	int64_t replica_id, generation;
	bool in_sync;
	bool clean_stop; /* CLEAN_STOP */
	/* REPLICA_PROMOTE: the pending replica that replaces member replica_id (name: its bdev) */
	int64_t pending_id;
	/*
	 * INIT_*: the source raid's uuid and data_offset (uuid: this volume's raid), whether
	 * zeroes are this volume's own wipe; CREATE_RAID: init_offset != 0 checks data_offset.
	 */
	char source_uuid[40];
	uint64_t init_offset;
	bool init_wiped;
};

struct exec_commit;

/* Shared by every worker of a pass. */
struct exec_ctx {
	struct rpc_client *rpc; /* manual_reconnect: a restart fails the pass, never lands in it */
	const char *hostnqn;
	const char *cpumask; /* "" = SPDK's default */
	int32_t reconnect_delay_s, ctrlr_loss_s, fast_io_fail_s;
	struct store *store;
	pthread_mutex_t *store_lock; /* a store is used by one thread at a time */
	struct exec_commit *commit;  /* group commit of transitions; NULL = one commit each */
	atomic_uint mutations;	     /* successful mutating SPDK calls (the config is stale) */
	atomic_uint conflicts;
};

/* One-line description for logs: "attach nvme_x path 127.0.0.1:4420". */
void exec_op_describe(const struct exec_op *op, char *buf, size_t len);

/*
 * Run op (an exec_step_fn: step->arg is the struct exec_op, ctx the struct exec_ctx).
 * 0 on success (including "already there and ours" and "already gone"), or a negative errno
 * and a message naming the object: -EEXIST for a conflict, -EAGAIN for something to retry.
 */
int exec_op_run(void *ctx, const struct exec_chain *chain, const struct exec_step *step,
		char *errbuf, size_t errlen);

/* exec_init.c: the steps of a volume filled from a snapshot; same conventions. */
int exec_init_verify(struct exec_ctx *x, const struct exec_op *op, char *errbuf, size_t errlen);
int exec_init_mark_wiped(struct exec_ctx *x, const struct exec_op *op, char *errbuf, size_t errlen);
int exec_init_wipe(struct exec_ctx *x, const struct exec_op *op, char *errbuf, size_t errlen);
/*
 * Read the raid `name` back from SPDK, check its members' data_offset against init_offset
 * (0: any), record its uuid and data_offset in the store.
 */
int exec_raid_record(struct exec_ctx *x, const struct exec_op *op, char *errbuf, size_t errlen);

#endif
