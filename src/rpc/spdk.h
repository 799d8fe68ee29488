/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_RPC_SPDK_H
#define DISKENGINE_RPC_SPDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc/rpc.h"

/*
 * Typed SPDK calls on an rpc_client, each using the client's timeout. Every call returns 0 or a
 * negative errno and fills err on failure (SPDK's error, or -EBADMSG naming the method and the
 * field when an answer does not have the shape SPDK v25.09 gives). Out-structs are set only on
 * success and released with their *_free function. Strings in request structs are borrowed.
 */

/* Marks an integer parameter as not sent. */
#define RPC_UNSET INT64_MIN
/* Tri-state booleans in request structs: not sent, false, true. */
#define RPC_TRI_UNSET ((int8_t)-1)

struct rpc_strv {
	char **v;
	size_t n;
};
void rpc_strv_free(struct rpc_strv *s);
/* true when s is one of the strings of v. */
bool rpc_strv_has(const struct rpc_strv *v, const char *s);

/* ---- framework (spdk_framework.c) ---- */

struct rpc_version {
	char *version; /* "SPDK v25.09 git sha1 a2f2a0b279" */
	int64_t major, minor, patch;
	char *suffix;
	char *commit;
};
int rpc_spdk_get_version(struct rpc_client *c, struct rpc_version *out, struct rpc_error *err);
void rpc_version_free(struct rpc_version *v);

/* Method names; current = only those callable in the present state (pre-init or running). */
int rpc_get_methods(struct rpc_client *c, bool current, struct rpc_strv *out,
		    struct rpc_error *err);
int rpc_framework_start_init(struct rpc_client *c, struct rpc_error *err);
/* Blocks inside SPDK until the framework is initialised (use a generous client timeout). */
int rpc_framework_wait_init(struct rpc_client *c, struct rpc_error *err);

struct rpc_subsystem {
	char *name;
	struct rpc_strv depends_on;
};
struct rpc_subsystem_list {
	struct rpc_subsystem *v;
	size_t n;
};
int rpc_framework_get_subsystems(struct rpc_client *c, struct rpc_subsystem_list *out,
				 struct rpc_error *err);
void rpc_subsystem_list_free(struct rpc_subsystem_list *l);

/* One subsystem's config as JSON text: an array of {method, params}, or "null" (scsi). */
int rpc_framework_get_config(struct rpc_client *c, const char *name, char **config_json,
			     struct rpc_error *err);

/*
 * The save_config document, assembled the way SPDK's rpc.py does (save_config is not a server
 * method): {"subsystems":[{"subsystem":NAME,"config":...}]} in framework_get_subsystems order.
 * *doc_json is indented JSON text; caller frees.
 */
int rpc_save_config(struct rpc_client *c, char **doc_json, struct rpc_error *err);

/*
 * From a saved config document, the calls that only take effect before framework_start_init
 * (framework_set_scheduler, sock_set_default_impl, sock_impl_set_options, iobuf_set_options,
 * accel_set_options, bdev_set_options, bdev_raid_set_options, bdev_nvme_set_options), in
 * document order, as a JSON array text of {method, params}. -EINVAL for a document that is not
 * {"subsystems":[...]} (err says what is wrong).
 */
int rpc_config_preinit_calls(const char *doc_json, char **calls_json, struct rpc_error *err);
/* True when method belongs to the pre-init set above. */
bool rpc_config_method_is_preinit(const char *method);

/*
 * Told of one pre-init call SPDK answered with an error (err says which and why). Return true to
 * go on with the rest of the replay, false to stop it with that error.
 */
typedef bool (*rpc_replay_refused_fn)(const struct rpc_error *err, void *arg);

/*
 * Send the pre-init calls of doc_json in document order. With current (the methods
 * rpc_get_methods(current) lists in the pre-init state), the calls are those of the document
 * whose method SPDK accepts now, as rpc.py's load_config picks them, framework_start_init
 * excepted; without, the fixed set above. An error answer goes to on_refused (NULL: stop at
 * it); a transport failure always stops. On success *sent (may be NULL) counts the calls SPDK
 * accepted.
 */
int rpc_config_replay_preinit(struct rpc_client *c, const char *doc_json,
			      const struct rpc_strv *current, rpc_replay_refused_fn on_refused,
			      void *arg, unsigned *sent, struct rpc_error *err);

/* ---- options, sent before init (spdk_options.c) ---- */

/* Every integer RPC_UNSET / tri-state RPC_TRI_UNSET / string NULL field is left out. */
struct rpc_nvme_options {
	const char *action_on_timeout;
	int64_t timeout_us, timeout_admin_us, keep_alive_timeout_ms;
	int64_t transport_retry_count, bdev_retry_count, transport_ack_timeout;
	int64_t ctrlr_loss_timeout_sec, reconnect_delay_sec, fast_io_fail_timeout_sec;
	int64_t tcp_connect_timeout_ms;
	int8_t disable_auto_failback, generate_uuids, io_path_stat;
};
#define RPC_NVME_OPTIONS_INIT                                                                      \
	{                                                                                          \
		NULL, RPC_UNSET, RPC_UNSET, RPC_UNSET, RPC_UNSET, RPC_UNSET, RPC_UNSET, RPC_UNSET, \
			RPC_UNSET, RPC_UNSET, RPC_UNSET, RPC_TRI_UNSET, RPC_TRI_UNSET,             \
			RPC_TRI_UNSET                                                              \
	}
int rpc_bdev_nvme_set_options(struct rpc_client *c, const struct rpc_nvme_options *o,
			      struct rpc_error *err);

int rpc_bdev_raid_set_options(struct rpc_client *c, int64_t process_window_size_kb,
			      int64_t process_max_bandwidth_mb_sec, struct rpc_error *err);

struct rpc_bdev_options {
	int64_t bdev_io_pool_size, bdev_io_cache_size;
	int64_t iobuf_small_cache_size, iobuf_large_cache_size;
	int8_t bdev_auto_examine;
};
#define RPC_BDEV_OPTIONS_INIT                                                                      \
	{                                                                                          \
		RPC_UNSET, RPC_UNSET, RPC_UNSET, RPC_UNSET, RPC_TRI_UNSET                          \
	}
int rpc_bdev_set_options(struct rpc_client *c, const struct rpc_bdev_options *o,
			 struct rpc_error *err);

struct rpc_sock_options {
	const char *impl_name; /* required: "posix", "ssl" */
	int64_t recv_buf_size, send_buf_size, enable_placement_id, zerocopy_threshold, tls_version;
	int8_t enable_recv_pipe, enable_quickack, enable_zerocopy_send_server;
	int8_t enable_zerocopy_send_client, enable_ktls;
};
#define RPC_SOCK_OPTIONS_INIT                                                                      \
	{                                                                                          \
		NULL, RPC_UNSET, RPC_UNSET, RPC_UNSET, RPC_UNSET, RPC_UNSET, RPC_TRI_UNSET,        \
			RPC_TRI_UNSET, RPC_TRI_UNSET, RPC_TRI_UNSET, RPC_TRI_UNSET                 \
	}
int rpc_sock_impl_set_options(struct rpc_client *c, const struct rpc_sock_options *o,
			      struct rpc_error *err);

/* ---- NVMe-oF controllers (spdk_nvme.c) ---- */

struct rpc_nvme_attach {
	const char *name, *trtype, *traddr; /* required */
	const char *adrfam, *trsvcid, *subnqn, *hostnqn, *hostaddr, *hostsvcid;
	const char *multipath;				 /* "disable", "failover", "multipath" */
	const char *psk, *dhchap_key, *dhchap_ctrlr_key; /* keyring key names */
	int64_t reconnect_delay_sec, ctrlr_loss_timeout_sec, fast_io_fail_timeout_sec;
};
#define RPC_NVME_ATTACH_INIT                                                                       \
	{                                                                                          \
		NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,      \
			RPC_UNSET, RPC_UNSET, RPC_UNSET                                            \
	}
/* Attach a controller or add a path to it; *bdevs = the namespace bdevs (["nvme0n1"]). */
int rpc_bdev_nvme_attach_controller(struct rpc_client *c, const struct rpc_nvme_attach *a,
				    struct rpc_strv *bdevs, struct rpc_error *err);

/* Selects one path of a controller; NULL fields are not sent. */
struct rpc_nvme_path_sel {
	const char *trtype, *traddr, *adrfam, *trsvcid, *subnqn, *hostaddr, *hostsvcid;
};
/* Detach the whole controller (path NULL) or only the matching path(s). */
int rpc_bdev_nvme_detach_controller(struct rpc_client *c, const char *name,
				    const struct rpc_nvme_path_sel *path, struct rpc_error *err);

/*
 * bdev_nvme_send_cmd: a raw NVMe command on a controller (not a bdev). sqe is the 64-byte
 * submission entry; for c2h, data_len bytes come back. The answer's cpl is the 16-byte
 * completion; sc / sct its decoded status (0 / 0: success). data is malloc'ed (caller frees).
 */
struct rpc_nvme_cmd {
	const char *name; /* controller */
	bool io;	  /* "io" (else "admin") */
	bool c2h;	  /* controller to host (a read) */
	unsigned char sqe[64];
	uint32_t data_len;
	uint32_t timeout_ms; /* 0: SPDK's default */
};
struct rpc_nvme_cmd_result {
	unsigned char cpl[16];
	unsigned sc, sct;
	void *data;
	size_t data_len;
};
int rpc_bdev_nvme_send_cmd(struct rpc_client *c, const struct rpc_nvme_cmd *cmd,
			   struct rpc_nvme_cmd_result *out, struct rpc_error *err);

struct rpc_nvme_ctrlr_path {
	char *state; /* "enabled", "reconnect_is_delayed", "resetting", ... */
	char *trtype, *adrfam, *traddr, *trsvcid, *subnqn; /* adrfam/trsvcid/subnqn may be NULL */
	int64_t cntlid;
	char *host_nqn, *host_addr, *host_svcid; /* NULL when SPDK omits "host" */
};
struct rpc_nvme_ctrlr {
	char *name;
	struct rpc_nvme_ctrlr_path *paths;
	size_t n_paths;
};
struct rpc_nvme_ctrlr_list {
	struct rpc_nvme_ctrlr *v;
	size_t n;
};
/* All controllers (name NULL) or one; an unknown name fails with SPDK's +22 → -EINVAL. */
int rpc_bdev_nvme_get_controllers(struct rpc_client *c, const char *name,
				  struct rpc_nvme_ctrlr_list *out, struct rpc_error *err);
void rpc_nvme_ctrlr_list_free(struct rpc_nvme_ctrlr_list *l);

struct rpc_io_path {
	char *thread; /* poll group thread */
	char *bdev_name;
	int64_t cntlid;
	bool current, connected, accessible;
	char *trtype, *traddr, *trsvcid, *adrfam; /* trsvcid/adrfam may be NULL */
};
struct rpc_io_path_list {
	struct rpc_io_path *v;
	size_t n;
};
/* Paths of bdevs with an open I/O channel only (SPDK lists nothing else); name NULL = all. */
int rpc_bdev_nvme_get_io_paths(struct rpc_client *c, const char *name, struct rpc_io_path_list *out,
			       struct rpc_error *err);
void rpc_io_path_list_free(struct rpc_io_path_list *l);

int rpc_bdev_nvme_reset_controller(struct rpc_client *c, const char *name, struct rpc_error *err);

/* ---- RAID (spdk_raid.c) ---- */

struct rpc_raid_create {
	const char *name, *raid_level; /* required; raid_level "raid1" */
	const char *const *base_bdevs;
	size_t n_base_bdevs;
	int64_t strip_size_kb; /* RPC_UNSET: not sent */
	int8_t superblock;     /* RPC_TRI_UNSET: not sent */
	const char *uuid;      /* NULL: SPDK picks one */
};
int rpc_bdev_raid_create(struct rpc_client *c, const struct rpc_raid_create *r,
			 struct rpc_error *err);
int rpc_bdev_raid_delete(struct rpc_client *c, const char *name, struct rpc_error *err);
int rpc_bdev_raid_add_base_bdev(struct rpc_client *c, const char *raid, const char *base,
				struct rpc_error *err);
int rpc_bdev_raid_remove_base_bdev(struct rpc_client *c, const char *base, struct rpc_error *err);

/* Which raids bdev_raid_get_bdevs lists. */
enum rpc_raid_category {
	RPC_RAID_ALL = 0,     /* every raid */
	RPC_RAID_ONLINE,      /* assembled and usable */
	RPC_RAID_CONFIGURING, /* waiting for base bdevs */
	RPC_RAID_OFFLINE,     /* failed or being deleted */
};

struct rpc_raid_base {
	char *name; /* NULL when the slot is empty (SPDK sends null) */
	char *uuid; /* may be NULL */
	bool is_configured;
	int64_t data_offset, data_size;
};
struct rpc_raid {
	char *name, *uuid, *state, *raid_level;
	int64_t strip_size_kb;
	bool superblock;
	int64_t num_base_bdevs, num_base_bdevs_discovered, num_base_bdevs_operational;
	bool has_process; /* a rebuild is running: the process_* fields are valid */
	char *process_type, *process_target;
	int64_t process_blocks, process_percent;
	struct rpc_raid_base *bases;
	size_t n_bases;
};
struct rpc_raid_list {
	struct rpc_raid *v;
	size_t n;
};
int rpc_bdev_raid_get_bdevs(struct rpc_client *c, enum rpc_raid_category cat,
			    struct rpc_raid_list *out, struct rpc_error *err);
/*
 * One raid by name, from bdev_get_bdevs' driver_specific.raid (a list of one, in the same form
 * as bdev_raid_get_bdevs): what a single raid needs without listing every raid of the host. An
 * unknown name: SPDK's -19; a bdev that is no raid: -EPROTO.
 */
int rpc_bdev_get_raid(struct rpc_client *c, const char *name, struct rpc_raid_list *out,
		      struct rpc_error *err);
void rpc_raid_list_free(struct rpc_raid_list *l);

/* ---- bdevs and QoS (spdk_bdev.c) ---- */

struct rpc_qos_limits {
	int64_t rw_ios_per_sec, rw_mbytes_per_sec, r_mbytes_per_sec, w_mbytes_per_sec;
};
struct rpc_bdev {
	char *name, *uuid; /* uuid may be NULL */
	struct rpc_strv aliases;
	int64_t block_size, num_blocks, md_size;
	bool claimed;
	struct rpc_qos_limits qos;
};
struct rpc_bdev_list {
	struct rpc_bdev *v;
	size_t n;
};
/*
 * One bdev by name. timeout_ms >= 0 makes SPDK wait that long for the bdev to appear
 * (-ETIMEDOUT after, with SPDK's code -110); RPC_UNSET sends none. The call's own deadline is the
 * client's timeout plus that wait. Unknown name: -ENODEV.
 */
int rpc_bdev_get_bdev(struct rpc_client *c, const char *name, int64_t timeout_ms,
		      struct rpc_bdev_list *out, struct rpc_error *err);
/*
 * UNSAFE while any NVMe controller is resetting: an unfiltered bdev_get_bdevs can crash SPDK
 * then. Callers must know no reset is in progress (design invariant 4).
 */
int rpc_bdev_get_bdevs_all_unsafe(struct rpc_client *c, struct rpc_bdev_list *out,
				  struct rpc_error *err);
void rpc_bdev_list_free(struct rpc_bdev_list *l);

struct rpc_iostat_bdev {
	char *name;
	int64_t bytes_read, num_read_ops, bytes_written, num_write_ops;
	int64_t bytes_unmapped, num_unmap_ops;
	int64_t read_latency_ticks, write_latency_ticks; /* sums over every I/O counted */
};
struct rpc_iostat {
	int64_t tick_rate, ticks;
	struct rpc_iostat_bdev *v;
	size_t n;
};
/*
 * I/O counters of one bdev. name NULL asks for every bdev: that walks every bdev, so the
 * daemon never sends it (design invariant 4); tools may.
 */
int rpc_bdev_get_iostat(struct rpc_client *c, const char *name, struct rpc_iostat *out,
			struct rpc_error *err);
void rpc_iostat_free(struct rpc_iostat *s);

/* RPC_UNSET limits are not sent; 0 disables one limit; at least one must be set. */
int rpc_bdev_set_qos_limit(struct rpc_client *c, const char *name,
			   const struct rpc_qos_limits *limits, struct rpc_error *err);

int rpc_bdev_wait_for_examine(struct rpc_client *c, struct rpc_error *err);

/* ---- vhost and keyring (spdk_vhost.c) ---- */

/* Create vhost-blk controller ctrlr over bdev dev_name; cpumask NULL = SPDK's default. */
int rpc_vhost_create_blk_controller(struct rpc_client *c, const char *ctrlr, const char *dev_name,
				    const char *cpumask, struct rpc_error *err);
int rpc_vhost_delete_controller(struct rpc_client *c, const char *ctrlr, struct rpc_error *err);

struct rpc_vhost_ctrlr {
	char *ctrlr, *cpumask, *socket;
	bool blk;   /* a vhost-blk controller; false for the others (vhost-scsi) */
	char *bdev; /* blk: NULL when the bdev under the controller was deleted */
	bool readonly;
	size_t n_sessions;
};
struct rpc_vhost_list {
	struct rpc_vhost_ctrlr *v;
	size_t n;
};
int rpc_vhost_get_controllers(struct rpc_client *c, struct rpc_vhost_list *out,
			      struct rpc_error *err);
void rpc_vhost_list_free(struct rpc_vhost_list *l);

struct rpc_key {
	char *name;
	char *module; /* "keyring_file", ... */
	char *path;   /* NULL when SPDK omits it (a removed key) */
	bool removed; /* removed from the keyring; still referenced by a controller */
};
struct rpc_key_list {
	struct rpc_key *v;
	size_t n;
};
int rpc_keyring_get_keys(struct rpc_client *c, struct rpc_key_list *out, struct rpc_error *err);
void rpc_key_list_free(struct rpc_key_list *l);

/* Key files must be absolute paths with mode 0600 (SPDK refuses others with -EPERM). */
int rpc_keyring_file_add_key(struct rpc_client *c, const char *name, const char *path,
			     struct rpc_error *err);
int rpc_keyring_file_remove_key(struct rpc_client *c, const char *name, struct rpc_error *err);

/* ---- recorded answers (spdk_parse.c) ---- */

/*
 * Decode a result (JSON text, as rpc_call_raw returns it or as recorded) exactly as the typed
 * list calls do: for recorded answers, tools and tests. 0, or -EBADMSG naming the field.
 */
int rpc_parse_nvme_controllers(const char *result_json, struct rpc_nvme_ctrlr_list *out,
			       struct rpc_error *err);
int rpc_parse_raid_bdevs(const char *result_json, struct rpc_raid_list *out, struct rpc_error *err);
int rpc_parse_bdevs(const char *result_json, struct rpc_bdev_list *out, struct rpc_error *err);
int rpc_parse_vhost_controllers(const char *result_json, struct rpc_vhost_list *out,
				struct rpc_error *err);
int rpc_parse_keys(const char *result_json, struct rpc_key_list *out, struct rpc_error *err);

#endif
