/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NVMe host model (module/bdev/nvme): shared by sim_nvme.c (controllers, paths,
 * reconnects, bdevs), sim_nvme_rpc.c (bdev_nvme_* methods, saved config) and
 * sim_channel.c (I/O channels per thread).
 *
 * Names follow SPDK: a `nvme_bdev_ctrlr` (one name, e.g. "nvme0") holds one
 * `nvme_ctrlr` per path (a trid); each namespace is one bdev "<name>n<nsid>" whose
 * I/O paths are the namespaces of every path.
 */
#ifndef DISKENGINE_SIM_NVME_INTERNAL_H
#define DISKENGINE_SIM_NVME_INTERNAL_H

#include "sim/sim.h"

#include <stdbool.h>
#include <stdint.h>

struct fab_link;
struct sim_key;

/* The state bdev_nvme_get_controllers reports for one path. */
enum nvme_ctrlr_state {
	NVME_CTRLR_CONNECTING,	      /* first connect of an attach in progress (not listed) */
	NVME_CTRLR_ENABLED,	      /* connected */
	NVME_CTRLR_RESETTING,	      /* a reset or reconnect attempt is in progress */
	NVME_CTRLR_RECONNECT_DELAYED, /* lost; the next attempt waits reconnect_delay_sec */
	NVME_CTRLR_FAILED,   /* lost without reconnect_delay_sec: stays until reset/detach */
	NVME_CTRLR_DELETING, /* being detached */
	NVME_CTRLR_DISABLED, /* bdev_nvme_disable_controller: disconnected, never retried */
};

/* Multipath mode of an attach (the "multipath" parameter). */
enum nvme_mp_mode {
	NVME_MP_MULTIPATH, /* "multipath": each path is a controller of one bdev */
	NVME_MP_FAILOVER,  /* "failover": extra trids are alternates of one controller */
	NVME_MP_DISABLE,   /* "disable": one path only */
};

struct nvme_trid {
	char trtype[16]; /* canonical: "TCP", "RDMA", "PCIe" */
	char adrfam[16]; /* canonical: "IPv4", "IPv6", ...; "" when not given */
	char *traddr;
	char *trsvcid; /* "" for PCIe */
	char *subnqn;  /* "" for PCIe */
};

/* What the target told us about one namespace. */
struct nvme_ns_data {
	uint32_t nsid;
	char uuid[37];
	uint32_t block_size;
	uint64_t num_blocks;
	uint32_t md_size;
};

struct nvme_bdev_ctrlr;
struct nvme_reset;

/* One path: SPDK's struct nvme_ctrlr. */
struct nvme_ctrlr {
	struct nvme_bdev_ctrlr *nbdev_ctrlr;
	struct nvme_trid trid;
	json_t *alternate_trids; /* failover mode: extra trids (get_controllers shape) */
	json_t *wire_ns;	 /* the target's namespace list until the attach finishes */
	char *hostnqn, *hostaddr, *hostsvcid; /* hostaddr/hostsvcid: "" when not given */
	/*
	 * The active trid came from a failover trid: SPDK's path id of those has no host
	 * address, so a detach naming hostaddr/hostsvcid no longer selects it.
	 */
	bool failed_over;
	int32_t ctrlr_loss_timeout_sec;
	uint32_t reconnect_delay_sec, fast_io_fail_timeout_sec;
	bool hdgst, ddgst, prchk_reftag, prchk_guard;
	enum nvme_mp_mode multipath;
	char *psk_name;
	struct sim_key *dhchap_key, *dhchap_ctrlr_key; /* references held while attached */
	enum nvme_ctrlr_state state;
	uint16_t cntlid;
	char *serial, *model, *fw;
	struct nvme_ns_data *ns; /* namespaces of this path */
	size_t nns;
	struct fab_link *link;	       /* the fabric connection; NULL while disconnected or PCIe */
	char *pcie_bdf;		       /* PCIe: the local drive's address */
	struct nvme_pcie_drive *drive; /* PCIe: the drive while present */
	uint64_t lost_at_ms;	       /* when the path was lost (loss timeout base) */
	struct sim_timer *timer;       /* next reconnect attempt / connect timeout */
	struct sim_req *pending;       /* the attach answered when its first connect ends */
	bool hot_insert;	       /* attached by the hotplug monitor: no request to answer */
	char *attach_name;	       /* the controller name while the first connect runs */
	struct nvme_reset *reset;      /* the bdev_nvme_reset_controller this connect is part of */
	struct nvme_ctrlr *next;
};

/* One namespace bdev: SPDK's struct nvme_bdev. */
struct nvme_bdev {
	struct nvme_bdev_ctrlr *nbdev_ctrlr;
	uint32_t nsid;
	struct sim_bdev *bdev;
	struct nvme_bdev *next;
};

/* Multipath policy of a bdev (bdev_nvme_set_multipath_policy). */
enum nvme_mp_policy {
	NVME_POLICY_ACTIVE_PASSIVE, /* one current path */
	NVME_POLICY_ACTIVE_ACTIVE,  /* every optimized path is current */
};

/* SPDK's struct nvme_bdev_ctrlr: all paths under one name. */
struct nvme_bdev_ctrlr {
	char *name;
	struct nvme_ctrlr *ctrlrs; /* paths, attach order */
	struct nvme_bdev *bdevs;
	enum nvme_mp_policy policy;
	const char *selector; /* "round_robin" / "queue_depth" (active_active only) */
	uint32_t rr_min_io;
	struct nvme_bdev_ctrlr *next;
};

/* A local PCIe drive defined through the control channel (pcie_add). */
struct nvme_pcie_drive {
	char *bdf;
	char *serial, *model;
	uint32_t block_size;
	uint64_t num_blocks;
	uint32_t nsid; /* its one namespace's id */
	char uuid[37];
	uint16_t next_cntlid;
	void *sb; /* the drive's metadata area */
	size_t sb_len;
	json_t *blocks; /* the drive's data blocks (sim_bdev blocks map) */
	bool probing; /* the hotplug monitor's attach of it is under way */
	struct nvme_pcie_drive *next;
};

/* A network partition made with path_down: connections to it fail. */
struct nvme_blocked {
	char *traddr, *trsvcid;
	struct nvme_blocked *next;
};

/* One I/O channel of a bdev on a thread (sim_channel.c). */
struct sim_channel {
	struct sim_bdev *bdev;
	char *thread;
	unsigned refs;
	bool io_done; /* I/O went through it since the last path change (current path cached) */
	struct sim_channel *next;
};

struct sim_nvme_state {
	struct nvme_bdev_ctrlr *ctrlrs; /* attach order */
	json_t *opts;			/* bdev_nvme_set_options values, as saved */
	struct nvme_pcie_drive *drives;
	struct nvme_blocked *blocked;
	struct sim_channel *channels;
	bool hotplug_enabled;
	uint64_t hotplug_period_us;
	/*
	 * bdev_nvme's g_skipped_nvme_ctrlrs: BDFs of PCIe controllers detached by RPC, which the
	 * hotplug monitor leaves alone until an attach names them again.
	 */
	json_t *hotplug_skip;
	int hot_insert_index; /* g_hot_insert_nvme_controller_index: HotInNvme<N> */
};

/* ---- sim_nvme.c ---- */
/* bdev_nvme_disable_ctrlr: 0, or -ENXIO (deleting), -EBUSY (resetting), -EALREADY. */
int nvme_ctrlr_disable(struct sim *s, struct nvme_ctrlr *c);
struct nvme_bdev_ctrlr *nvme_bdev_ctrlr_find(struct sim *s, const char *name);
/* The path of any controller with this trid and hostnqn (SPDK's nvme_ctrlr_get). */
struct nvme_ctrlr *nvme_ctrlr_find_trid(struct sim *s, const struct nvme_trid *t,
					const char *hostnqn);
/*
 * Start an attach: c is a new path (not linked yet) whose first connect answers req
 * with the bdev names, or -EIO when the connect fails.
 */
void nvme_attach_start(struct sim *s, struct nvme_ctrlr *c, const char *name, struct sim_req *req);
/* Detach a path: disconnect, drop its bdevs' paths, free it (and the name when empty). */
void nvme_ctrlr_delete(struct sim *s, struct nvme_ctrlr *c);
void nvme_ctrlr_free(struct sim *s, struct nvme_ctrlr *c);
/* Reset the given paths one after the other (new cntlids), then answer req with true. */
void nvme_reset_start(struct sim *s, struct nvme_ctrlr **paths, size_t n, struct sim_req *req);
json_t *nvme_trid_json(const struct nvme_trid *t);
/* The path's I/O qpair is connected. */
bool nvme_ctrlr_connected(const struct nvme_ctrlr *c);
/* true when a path to traddr:trsvcid is partitioned (path_down). */
bool nvme_path_blocked(struct sim *s, const char *traddr, const char *trsvcid);
/*
 * Process connection events that already arrived (a target that went away) before
 * reporting state: SPDK's qpair pollers run far more often than any RPC.
 */
void nvme_links_poll(struct sim *s);
/*
 * The hotplug monitor's probe (bdev_nvme_hotplug): with hotplug enabled, every present drive
 * that no controller uses and that is not skipped is attached as HotInNvme<N>.
 */
void nvme_hotplug_scan(struct sim *s);
/* bdev_nvme_delete_ctrlr with hotplug false / spdk_bdev_nvme_create: the skip list. */
void nvme_hotplug_skip(struct sim *s, const char *bdf, bool skip);
/* A PCIe drive was hot-removed: its paths are deleted at once. */
void nvme_drive_removed(struct sim *s, struct nvme_pcie_drive *d);
/* A partition to traddr[:trsvcid] began: drop the live connections that cross it. */
void nvme_partition_apply(struct sim *s);

/*
 * The active path was detached while failover trids remain: the first of them becomes
 * the active one and the controller reconnects to it (bdev_nvme_failover_ctrlr).
 */
void nvme_ctrlr_failover(struct sim *s, struct nvme_ctrlr *c);
/* Failover trid (get_controllers shape) back into a trid; 0 or -EINVAL. */
int nvme_trid_from_json(json_t *o, struct nvme_trid *t);

/* ---- sim_nvme_addr.c ---- */
/*
 * Open the TCP connection of a fabric path, from hostaddr/hostsvcid when given, as SPDK's
 * qpair connect does: a socket, or a negative errno for anything SPDK's connect refuses
 * (an adrfam other than IPv4/IPv6, addresses that do not parse for it, a source address
 * that cannot be bound).
 */
int nvme_fabric_connect(const struct nvme_ctrlr *c);

/* The fields of a bdev_nvme_detach_controller request (SPDK's spdk_nvme_path_id). */
struct nvme_path_sel {
	const char *trtype; /* canonical when trtype_known; NULL: not given */
	bool trtype_known;
	const char *traddr, *adrfam, *trsvcid, *subnqn, *hostaddr, *hostsvcid; /* "", NULL: any */
};
/* nvme_path_id_compare: every field given (non-empty) must match the path. */
bool nvme_path_sel_match(const struct nvme_path_sel *sel, const struct nvme_trid *t,
			 const char *hostaddr, const char *hostsvcid);

/* ---- sim_nvme_ctl.c ---- */
extern const struct sim_control_cmd sim_nvme_control[];

/* ---- sim_nvme_bdev.c ---- */
/* The namespace nsid as this path reported it, NULL when the path lacks it. */
const struct nvme_ns_data *nvme_path_ns(const struct nvme_ctrlr *c, uint32_t nsid);
struct nvme_bdev *nvme_nbdev_find(struct nvme_bdev_ctrlr *n, uint32_t nsid);
/* Take the superblock the target sent (hex string or null) as the bdev's metadata area. */
/* Take a namespace's metadata area and data blocks from its wire object (may be NULL). */
void nvme_ns_from_wire(struct sim_bdev *b, json_t *ns);
/* Register the bdev of namespace ns under n (sb: its metadata from the wire, may be NULL). */
int nvme_nbdev_create(struct sim *s, struct nvme_bdev_ctrlr *n, const struct nvme_ns_data *ns,
		      json_t *sb);

/* ---- sim_nvme_rpc.c ---- */
extern const struct sim_method sim_nvme_methods[];

/* ---- sim_nvme_opts.c ---- */
void sim_nvme_config(struct sim *s, const char *subsystem, json_t *arr);
/* bdev_nvme_set_options' defaults, in its saved-config shape (new reference). */
json_t *nvme_default_opts(void);
/* bdev_nvme_check_io_error_resiliency_params: the three timers fit together. */
bool nvme_resiliency_ok(int64_t loss, int64_t delay, int64_t fast);
void rpc_bdev_nvme_set_options(struct sim_req *req);
/* sim_nvme_cmd.c */
void rpc_bdev_nvme_send_cmd(struct sim_req *req);
void rpc_bdev_nvme_set_hotplug(struct sim_req *req);

/* ---- sim_channel.c ---- */
struct sim_channel *sim_channel_first(struct sim *s);
void sim_channel_forget_bdev(struct sim *s, struct sim_bdev *b);
/* A path of this bdev changed: drop the cached current path of its channels. */
void sim_channel_clear_io(struct sim *s, struct sim_bdev *b);
void sim_channel_free_all(struct sim *s);

#endif
