/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_RECONCILE_MODEL_H
#define DISKENGINE_RECONCILE_MODEL_H

/*
 * The planner's input: the desired state of one host (from the store) and the observed SPDK graph
 * (from a fixed set of list calls). Plain C structs with caller-owned arrays; the planner only
 * reads them. Strings are fixed arrays so a snapshot can be copied and compared without owners.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/host_facts.h"

#define MODEL_NAME_MAX 256 /* SPDK object names as observed; longer ones are truncated */
#define MODEL_NQN_MAX 224  /* SPDK_NVMF_NQN_MAX_LEN 223 + NUL */
#define MODEL_ADDR_MAX 64  /* IP address, or PCI BDF */
#define MODEL_PATH_MAX 256
#define MODEL_KEY_MAX 64
#define MODEL_VM_MAX 64
#define MODEL_STATE_MAX 32
#define MODEL_REPLICAS_MAX 4 /* two members, plus one pending replacement per slot (resize) */

/* Life cycle of a volume's mapping to a VM on this host. */
enum mapping_state {
	MAPPING_ASSIGNED = 0,	  /* wanted here: build paths and raid */
	MAPPING_INITIALISED,	  /* raid exists and content is ready (snapshot copied, if any) */
	MAPPING_ATTACHED,	  /* vhost-blk controller serves the VM */
	MAPPING_DETACH_REQUESTED, /* tear down: vhost, raid, unused controllers */
	MAPPING_DETACHED,	  /* nothing of it is left in SPDK */
};

/* How a replica is reached. */
enum transport_type {
	TRANSPORT_RDMA = 0, /* NVMe-oF over RDMA */
	TRANSPORT_TCP,	    /* NVMe-oF over TCP */
	TRANSPORT_PCIE,	    /* local PCIe controller owned by SPDK (vfio-pci/uio) */
};

/* One namespace holding a copy of a volume. */
struct replica {
	unsigned slot; /* raid slot 0 or 1 */
	bool pending;  /* resize: new namespace that replaces the slot's member */
	enum transport_type transport;
	char addr[MODEL_ADDR_MAX];     /* target IP for fabrics, BDF for PCIe */
	uint16_t port;		       /* trsvcid for fabrics; 0 for PCIe */
	char nqn[MODEL_NQN_MAX];       /* subsystem NQN; empty for PCIe */
	uint32_t nsid;		       /* namespace of the controller holding it; 0 means 1 */
	bool in_sync;		       /* false: missed writes, must be rebuilt by SPDK */
	uint64_t generation;	       /* mirror of the raid superblock sequence, for status */
	char key_name[MODEL_KEY_MAX];  /* node's DH-HMAC-CHAP key name; empty: no auth */
	char key_path[MODEL_PATH_MAX]; /* key file (mode 0600) for keyring_file_add_key */
};

/* Limits for bdev_set_qos_limit; 0 means unlimited. */
struct qos_limits {
	uint64_t rw_ios_per_sec;
	uint64_t rw_mbytes_per_sec;
	uint64_t r_mbytes_per_sec;
	uint64_t w_mbytes_per_sec;
};

struct volume {
	uint64_t id;
	uint64_t size_bytes; /* what the guest sees */
	uint32_t block_size; /* bytes */
	struct qos_limits qos;
	bool has_snapshot_source;
	uint64_t snapshot_id; /* valid if has_snapshot_source: the source volume's id */
	/*
	 * Filled from a snapshot: its replicas are clones carrying the source raid's superblock
	 * (source_raid_uuid) with the data past source_data_offset blocks.
	 */
	char source_raid_uuid[40];
	uint64_t source_data_offset;
	bool raid_recorded;   /* the daemon recorded the raid it created (uuid, data_offset) */
	bool ever_attached;   /* a mapping reached ATTACHED once: the replicas hold a VM's data */
	bool init_wiped;      /* the clones' superblock areas are being (or were) zeroed */
	bool raid_created;    /* raid_<id> was created once with a superblock on its members */
	bool resizing;	      /* the store says RESIZING: done once the raid serves size_bytes */
	bool clean_stop;      /* the raid was last stopped in order with every member in sync */
	struct replica replicas[MODEL_REPLICAS_MAX];
	size_t n_replicas;
};

struct mapping {
	uint64_t id;
	uint64_t volume_id;
	char vm[MODEL_VM_MAX];
	enum mapping_state state;
};

/* A PCIe device this host hands to SPDK. */
struct local_device {
	char bdf[HOST_BDF_MAX];
};

/* Timers and names that apply to every object of the host. */
struct plan_config {
	int reconnect_delay_s;	/* bdev_nvme reconnect_delay_sec (1) */
	int ctrlr_loss_s;	/* ctrlr_loss_timeout_sec (10) */
	int fast_io_fail_s;	/* fast_io_fail_timeout_sec (0) */
	int member_giveup_s;	/* after this a lost path is given up as raid member */
	int guest_io_timeout_s; /* the guest's block I/O timeout */
	int assembly_wait_s;	/* how long a superblock raid may take to reassemble */
	int orphan_grace_s;	/* orphans older than this are removed */
	char hostnqn[MODEL_NQN_MAX];
	char vhost_dir[MODEL_PATH_MAX];
	char cpumask[32];
	bool allow_unsafe_noiommu; /* local drives on uio without an IOMMU were allowed */
};

struct desired {
	const struct mapping *mappings;
	size_t n_mappings;
	const struct volume *volumes;
	size_t n_volumes;
	const struct local_device *devices;
	size_t n_devices;
	struct plan_config config;
};

/* State of one path of an NVMe controller, as bdev_nvme_get_controllers reports it. */
enum ctrlr_state {
	CTRLR_ENABLED = 0,	 /* "enabled" */
	CTRLR_RESETTING,	 /* "resetting": no unfiltered bdev listing, no graph changes */
	CTRLR_RECONNECT_DELAYED, /* "reconnect_is_delayed": path lost, SPDK retries */
	CTRLR_FAILED,		 /* "failed" */
	CTRLR_DELETING,		 /* "deleting" */
	CTRLR_OTHER,		 /* any other string */
};

struct obs_path {
	enum transport_type transport;
	char traddr[MODEL_ADDR_MAX];
	char trsvcid[8];
	char subnqn[MODEL_NQN_MAX];
	char hostnqn[MODEL_NQN_MAX];
	char hostaddr[MODEL_ADDR_MAX];
	enum ctrlr_state state;
};

struct obs_controller {
	char name[MODEL_NAME_MAX];
	const struct obs_path *paths;
	size_t n_paths;
};

struct obs_bdev {
	char name[MODEL_NAME_MAX];
	char uuid[40];
	uint32_t block_size;
	uint64_t num_blocks;
	uint32_t md_size;
	bool claimed;
	struct qos_limits qos; /* assigned_rate_limits */
};

struct obs_raid_base {
	bool has_name; /* false: slot lost ("name": null) */
	char name[MODEL_NAME_MAX];
	char uuid[40];
	bool is_configured;
	uint64_t data_offset; /* blocks */
	uint64_t data_size;   /* blocks */
};

struct obs_raid {
	char name[MODEL_NAME_MAX];
	char uuid[40]; /* "" when SPDK did not say */
	char state[MODEL_STATE_MAX]; /* "online", "configuring", "offline" */
	bool superblock;
	const struct obs_raid_base *bases;
	size_t n_bases;
	unsigned discovered;
	unsigned operational;
	bool has_process; /* a rebuild runs */
	char process_target[MODEL_NAME_MAX];
	unsigned process_percent;
};

struct obs_vhost {
	char name[MODEL_NAME_MAX];
	bool has_bdev; /* false: "bdev": null, its bdev was deleted under it */
	char bdev[MODEL_NAME_MAX];
	unsigned sessions;
};

struct obs_key {
	char name[MODEL_KEY_MAX];
	char path[MODEL_PATH_MAX];
	bool removed;
};

/* A name, e.g. of a bdev the observer asked SPDK for. */
struct obs_name {
	char name[MODEL_NAME_MAX];
};

/*
 * Resets of one controller as counted by the caller across passes (the planner has no memory):
 * a reset is a reconnect that succeeded (a new cntlid), a failed reset a path seen entering
 * reconnect_is_delayed. given_up: a path kept flapping past the bound, so the controller's
 * namespace is no raid member until it has been quiet for the window.
 */
struct obs_flap {
	char ctrlr[MODEL_NAME_MAX];
	unsigned resets;
	unsigned failed;
	unsigned recent; /* resets counted toward the bound (since it was last taken back) */
	bool given_up;
};

/* When the caller first saw an object with this name; the planner has no clock. */
struct obs_first_seen {
	char name[MODEL_NAME_MAX];
	int64_t first_seen_s;
};

struct observed {
	const struct obs_controller *ctrlrs;
	size_t n_ctrlrs;
	const struct obs_bdev *bdevs;
	size_t n_bdevs;
	/*
	 * Which bdevs are known. bdevs_listed: every bdev is in bdevs (fixtures, tools). Else only
	 * the bdevs_read names were asked for by name: one of them missing from bdevs is absent,
	 * any other name is unknown (not read this pass), never taken as absent.
	 */
	bool bdevs_listed;
	const struct obs_name *bdevs_read;
	size_t n_bdevs_read;
	const struct obs_raid *raids;
	size_t n_raids;
	const struct obs_vhost *vhosts;
	size_t n_vhosts;
	const struct obs_key *keys;
	size_t n_keys;
	const struct obs_first_seen *first_seen;
	size_t n_first_seen;
	const struct obs_flap *flaps;
	size_t n_flaps;
	int flap_window_s; /* for messages */
	int64_t now_s; /* the pass's time, for comparisons with first_seen */
	/*
	 * Every array above is sorted by name (strcmp), so the planner bisects instead of
	 * scanning: per-volume lookups over thousands of objects would make a pass quadratic.
	 * false (hand-built inputs): lookups scan.
	 */
	bool sorted;
};

#endif
