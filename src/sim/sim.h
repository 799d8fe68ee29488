/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim core: the contract between the server core and the modules that model
 * SPDK's subsystems (bdev_nvme, raid, vhost, nvmf target, lvol, keyring, ...).
 *
 * One simulated SPDK process is one `struct sim`. Everything runs on one thread, in
 * one poll() loop, like an SPDK reactor: handlers never block; work that takes time
 * (a fabric connect, a rebuild, a controller loss timer) is driven by timers and fd
 * watches, and the request is answered later (a "deferred" reply).
 *
 * Models follow SPDK v25.09's rules; shared/spdk-conformance/ is the ground truth for
 * the exact shape of answers, error codes and messages.
 */
#ifndef DISKENGINE_SIM_H
#define DISKENGINE_SIM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sim;
struct sim_conn;
struct sim_timer;
struct sim_bdev;

/* ---- Requests and replies ------------------------------------------------------ */

/* One JSON-RPC request that still owes an answer. */
struct sim_req {
	struct sim *sim;
	struct sim_conn *conn; /* NULL once the client went away: replies are dropped */
	json_t *id;            /* the request's id (a notification has none: never answered) */
	const char *method;    /* points into the request object */
	json_t *params;        /* borrowed; NULL when the request had no "params" */
	json_t *request;       /* the whole request object, owned by the req */
};

/*
 * Answer a request exactly once; the req is freed by the call. `result` is stolen.
 * A handler may keep the req and answer from a timer later (deferred reply); if the
 * connection closed meanwhile, the answer is silently dropped.
 */
void sim_reply(struct sim_req *req, json_t *result);
void sim_reply_error(struct sim_req *req, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Shorthand for SPDK's usual error: code = -errno_value, message = strerror(errno_value). */
void sim_reply_errno(struct sim_req *req, int errno_value);

/* ---- Methods -------------------------------------------------------------------- */

/* When a method may be called, as SPDK_RPC_STARTUP / SPDK_RPC_RUNTIME. */
enum sim_method_state {
	SIM_STARTUP = 1 << 0, /* callable before framework_start_init */
	SIM_RUNTIME = 1 << 1, /* callable after framework_start_init */
};

typedef void (*sim_method_fn)(struct sim_req *req);

struct sim_method {
	const char *name;
	sim_method_fn fn;
	unsigned state_mask; /* enum sim_method_state bits */
};

/* ---- Parameter decoding, modelled on spdk_json_decode_object ------------------------ */

/* The JSON type a decoder entry accepts. */
enum sim_json_kind {
	SIM_J_STRING,  /* a string */
	SIM_J_INT,     /* any integer (signed) */
	SIM_J_UINT,    /* a non-negative integer */
	SIM_J_BOOL,    /* true / false */
	SIM_J_OBJECT,  /* an object, not further checked */
	SIM_J_ARRAY,   /* an array, not further checked */
	SIM_J_ANY,     /* any value */
	SIM_J_UINT32,  /* an integer in 0..UINT32_MAX (spdk_json_decode_uint32) */
	SIM_J_INT32,   /* an integer in INT32_MIN..INT32_MAX (spdk_json_decode_int32) */
	SIM_J_UINT16,  /* an integer in 0..UINT16_MAX (spdk_json_decode_uint16) */
};

struct sim_decoder {
	const char *key;
	enum sim_json_kind kind;
	bool optional;
};

/*
 * true when params is an object whose keys are all known to the decoder table, every
 * required key is present, and every value has the decoder's kind -- the conditions
 * under which SPDK's spdk_json_decode_object succeeds. params NULL counts as {}.
 * The caller sends the method-specific error code (-32602 / -32603 / -32700).
 */
bool sim_decode_ok(const json_t *params, const struct sim_decoder *d, size_t n);
/*
 * Same, but params NULL fails: spdk_json_decode_object(NULL, ...) returns an error, so
 * a handler that decodes without first checking `params != NULL` (most SPDK handlers
 * with a required or an all-optional decoder table) rejects a call without "params".
 */
bool sim_decode_strict(const json_t *params, const struct sim_decoder *d, size_t n);
/*
 * The value of a SIM_J_UINT parameter that passed sim_decode_ok. Integers above
 * INT64_MAX (up to UINT64_MAX, which SPDK's uint64 decoders take) do not fit a jansson
 * integer; the core hands them over marked and this reads them. Use it for uint64 fields.
 */
uint64_t sim_json_u64(const json_t *v);
/* A uint64 as a JSON number (above INT64_MAX a real: jansson has no unsigned integer). */
json_t *sim_json_from_u64(uint64_t v);

/* ---- Timers and fds ---------------------------------------------------------------- */

typedef void (*sim_timer_fn)(struct sim *s, void *ctx);
typedef void (*sim_fd_fn)(struct sim *s, int fd, short revents, void *ctx);

/* Milliseconds on the monotonic clock. */
uint64_t sim_now_ms(void);
/* Run fn once, delay_ms from now. The returned handle is valid until fn runs or cancel. */
struct sim_timer *sim_timer_add(struct sim *s, uint64_t delay_ms, sim_timer_fn fn, void *ctx);
void sim_timer_cancel(struct sim *s, struct sim_timer *t);
/* Call fn whenever poll() reports `events` on fd. 0 or negative errno. */
int sim_fd_watch(struct sim *s, int fd, short events, sim_fd_fn fn, void *ctx);
void sim_fd_unwatch(struct sim *s, int fd);

/* ---- Bdevs ----------------------------------------------------------------------- */

struct sim_bdev_ops {
	const char *product_name; /* "NVMe disk", "Raid Volume", "Malloc disk", "Logical Volume" */
	/* The value of "driver_specific" in bdev_get_bdevs (new reference); NULL means {}. */
	json_t *(*driver_specific)(struct sim_bdev *b);
	/* The "supported_io_types" object (new reference); NULL gives a module-neutral default. */
	json_t *(*io_types)(struct sim_bdev *b);
	/*
	 * A read submitted to b reached its module (the examine reads at registration,
	 * see sim_bdev_read). NULL: the bdev is a leaf. A raid forwards it to the base its
	 * read policy picks, with sim_bdev_read, so the base's iostat counts it too.
	 */
	void (*read)(struct sim *s, struct sim_bdev *b, uint64_t offset, uint64_t len);
	/*
	 * Persistent metadata area of the bdev (SPDK raid's superblock lives in the first
	 * blocks of each base). It is stored where the data lives: for an NVMe-oF namespace
	 * on the target's lvol, so it survives a crash of the host process. NULL ops: the
	 * bdev keeps it in memory. read returns a new buffer (caller frees) or -ENODATA.
	 */
	int (*sb_read)(struct sim_bdev *b, void **buf, size_t *len);
	int (*sb_write)(struct sim_bdev *b, const void *buf, size_t len);
	/*
	 * Data blocks (sim_bdev_blocks_*): a namespace sends a write to its target, a raid
	 * to its members past data_offset. NULL ops: the bdev keeps them in `blocks`.
	 * buf NULL writes zeroes.
	 */
	int (*blocks_write)(struct sim *s, struct sim_bdev *b, uint64_t lba, const void *buf,
			    uint64_t n);
	int (*blocks_read)(struct sim *s, struct sim_bdev *b, uint64_t lba, void *buf, uint64_t n);
	/* Called by sim_bdev_unregister after listeners ran; frees module state. */
	void (*destruct)(struct sim_bdev *b);
	/*
	 * Append the calls that recreate this bdev to the "bdev" subsystem's
	 * framework_get_config array (SPDK's fn_table->write_config_json, e.g.
	 * bdev_raid_create, bdev_malloc_create). NULL: nothing (NVMe bdevs: the module's
	 * attach calls recreate them). Runs after every module's config("bdev") hook and
	 * before this bdev's bdev_set_qos_limit entry.
	 */
	void (*write_config)(struct sim *s, struct sim_bdev *b, json_t *arr);
	/* The "memory_domains" array (new reference); NULL op or NULL result: key omitted. */
	json_t *(*memory_domains)(struct sim_bdev *b);
	/*
	 * The "driver_specific" object of a bdev_get_iostat entry (SPDK's
	 * dump_device_stat_json, e.g. {} for NVMe); NULL op: the key is omitted.
	 */
	json_t *(*iostat_driver_specific)(struct sim_bdev *b);
	/*
	 * A channel on b was opened (open = true) or closed on `thread`: a stacking bdev
	 * (raid) opens / closes its members' channels on the same thread, as SPDK's
	 * channel create/destroy callbacks do. NULL: nothing below b.
	 */
	void (*channel_changed)(struct sim *s, struct sim_bdev *b, const char *thread, bool open);
};

/* Rate limits in assigned_rate_limits' order; 0 = unlimited. */
enum sim_qos_kind {
	SIM_QOS_RW_IOPS = 0,  /* rw_ios_per_sec */
	SIM_QOS_RW_MBPS = 1,  /* rw_mbytes_per_sec */
	SIM_QOS_R_MBPS = 2,   /* r_mbytes_per_sec */
	SIM_QOS_W_MBPS = 3,   /* w_mbytes_per_sec */
	SIM_QOS_COUNT = 4,    /* number of limits */
};

struct sim_bdev_stats {
	uint64_t bytes_read, num_read_ops, bytes_written, num_write_ops;
	uint64_t bytes_unmapped, num_unmap_ops;
	/* sums over every I/O, in ticks of SIM_TICK_RATE (SPDK's spdk_get_ticks) */
	uint64_t read_latency_ticks, write_latency_ticks;
	uint64_t max_read_latency_ticks, max_write_latency_ticks;
	uint64_t min_read_latency_ticks, min_write_latency_ticks; /* 0: no I/O yet */
};

/* Ticks per second of the latencies and "ticks" bdev_get_iostat reports. */
#define SIM_TICK_RATE 2100000000ULL

struct sim_bdev {
	char *name;
	char uuid[37];
	json_t *aliases; /* array of strings (owned) */
	uint32_t block_size;
	uint64_t num_blocks;
	uint32_t md_size;
	const char *claim_type;  /* NULL = not claimed; else "exclusive_write", ... */
	char *claim_module;      /* who claimed it, e.g. "raid" */
	uint64_t qos[SIM_QOS_COUNT];
	/*
	 * SPDK's qos->thread: the rate limits run on the thread of a channel of the bdev.
	 * Limits set while the bdev has no channel have none until one opens; until then
	 * every bdev_set_qos_limit is refused (sim_bdev_rpc.c).
	 */
	bool qos_thread;
	struct sim_bdev_stats stats;
	const struct sim_bdev_ops *ops;
	void *ctx; /* the owning module's per-bdev state */
	/* in-memory superblock when ops->sb_read is NULL */
	void *mem_sb;
	size_t mem_sb_len;
	/*
	 * Blocks written with data: {"<lba>": "<hex of one block>"}; a block not listed reads
	 * as zeroes. Only what tests write is kept, so a sparse map is enough.
	 */
	json_t *blocks;
	struct sim_bdev *next; /* registration order, as SPDK lists bdevs */
	/*
	 * Set by the owning module right after registration (all 0 by default):
	 * preferred_write_alignment, preferred_write_granularity, optimal_write_size,
	 * preferred_unmap_alignment, preferred_unmap_granularity, in that order.
	 */
	uint32_t write_geometry[5];
	bool numa_id_valid; /* numa_id is reported only when valid (NVMe: -1) */
	int32_t numa_id;
	/*
	 * Open I/O channels (an nvmf namespace or a vhost session holds one). Modules
	 * count them up and down; bdev_get_iostat per_channel lists one channel when > 0.
	 */
	unsigned channels;
};

/*
 * Create and register a bdev. uuid NULL = a fresh random one. Listeners' added() run
 * before it returns. Returns NULL and sets *err (negative errno; -EEXIST on a name or
 * alias clash) on failure.
 */
struct sim_bdev *sim_bdev_register(struct sim *s, const char *name, const char *uuid,
				   uint32_t block_size, uint64_t num_blocks, uint32_t md_size,
				   const struct sim_bdev_ops *ops, void *ctx, int *err);
/* Remove a bdev: listeners' removed() run first (raid drops the member, vhost nulls). */
void sim_bdev_unregister(struct sim *s, struct sim_bdev *b);
/* Change the size (namespace grew); listeners' resized() run. */
void sim_bdev_resize(struct sim *s, struct sim_bdev *b, uint64_t num_blocks);
/* Add an alias (SPDK's spdk_bdev_alias_add): 0, or -EEXIST when a bdev has that name. */
int sim_bdev_alias_add(struct sim *s, struct sim_bdev *b, const char *alias);
/*
 * Account one read of len bytes at offset on b (bdev_get_iostat's bytes_read and
 * num_read_ops), then pass it to ops->read. The bdev layer itself issues SPDK's examine
 * reads when a bdev registers (bdev_auto_examine): gpt 32 KiB, raid superblock one
 * block, lvol blobstore super block 4 KiB, in the bdev module order -- 37376 bytes in
 * 3 reads for a 512 B-block bdev, as real SPDK's iostat shows. Modules call it for
 * reads of their own (a raid's superblock probe of a new base).
 */
void sim_bdev_read(struct sim *s, struct sim_bdev *b, uint64_t offset, uint64_t len);
/* Look up by name or alias; NULL if none. */
struct sim_bdev *sim_bdev_find(struct sim *s, const char *name);
/* First bdev in registration order; iterate with ->next. */
struct sim_bdev *sim_bdev_first(struct sim *s);
/*
 * Claim for a module; -EPERM if already claimed (SPDK: claimed bdevs refuse a 2nd claim).
 * claim_type must be a string with static storage ("exclusive_write", ...); NULL means
 * "exclusive_write".
 */
int sim_bdev_claim(struct sim_bdev *b, const char *module, const char *claim_type);
void sim_bdev_release(struct sim_bdev *b);
/* Superblock I/O through ops or the in-memory fallback. */
int sim_bdev_sb_read(struct sim_bdev *b, void **buf, size_t *len);
int sim_bdev_sb_write(struct sim_bdev *b, const void *buf, size_t len);
/*
 * Data I/O of n blocks at lba through ops, or the bdev's own `blocks` map. Write with
 * buf NULL writes zeroes. 0, -ERANGE past the end, or another negative errno.
 */
int sim_bdev_blocks_write(struct sim *s, struct sim_bdev *b, uint64_t lba, const void *buf,
			  uint64_t n);
int sim_bdev_blocks_read(struct sim *s, struct sim_bdev *b, uint64_t lba, void *buf, uint64_t n);
/* The `blocks` map itself, for modules whose ops keep a local copy (always in range). */
void sim_bdev_blocks_store(struct sim_bdev *b, uint64_t lba, const void *buf, uint64_t n);
void sim_bdev_blocks_load(const struct sim_bdev *b, uint64_t lba, void *buf, uint64_t n);
/* Replace b's blocks and metadata area by a copy of src's (a snapshot, a clone). */
int sim_bdev_content_copy(struct sim_bdev *dst, struct sim_bdev *src);
/* The full bdev_get_bdevs entry for b (new reference). */
json_t *sim_bdev_to_json(struct sim *s, struct sim_bdev *b);

struct sim_bdev_listener {
	void (*added)(struct sim *s, struct sim_bdev *b, void *ctx);
	void (*removed)(struct sim *s, struct sim_bdev *b, void *ctx);
	void (*resized)(struct sim *s, struct sim_bdev *b, void *ctx);
	void *ctx;
};
/* Listeners are called in the order they were added. */
void sim_bdev_listen(struct sim *s, const struct sim_bdev_listener *l);
/* Stop calling a listener (same callbacks and ctx as given to sim_bdev_listen); a module
 * whose state goes away in fini() calls this first. */
void sim_bdev_unlisten(struct sim *s, const struct sim_bdev_listener *l);

/*
 * I/O channels per SPDK thread (sim_channel.c): "app_thread", "nvmf_tgt_poll_group_000",
 * a vhost session's reactor... bdev_nvme_get_io_paths lists the NVMe bdevs that have
 * one, per thread. Opening counts references per (bdev, thread) and keeps b->channels
 * up to date; ops->channel_changed forwards to the bdevs below. A bdev's channels
 * vanish with it (sim_bdev_unregister); closing one that is gone is a no-op.
 */
void sim_bdev_channel_open(struct sim *s, struct sim_bdev *b, const char *thread);
void sim_bdev_channel_close(struct sim *s, struct sim_bdev *b, const char *thread);
/* I/O went through b's channel on thread (e.g. raid reading a superblock). */
void sim_bdev_channel_io(struct sim *s, struct sim_bdev *b, const char *thread);
/* Threads holding a channel on b, in the order they opened one (new array of strings). */
json_t *sim_bdev_channel_threads(struct sim *s, struct sim_bdev *b);

/* ---- Modules ------------------------------------------------------------------------- */

/* A command of the fault/control channel (never a method name real SPDK has). */
struct sim_control_cmd {
	const char *name;
	/* Returns 0 and sets *result (new ref, may stay NULL) or a negative errno + *errmsg. */
	int (*fn)(struct sim *s, json_t *args, json_t **result, char **errmsg);
};

/*
 * A simulated SPDK subsystem/module. Tables are NULL-name terminated.
 * init() runs in sim_modules order at start-up; fini() in reverse order at a clean
 * exit (SIGTERM): a module unregisters its own bdevs there (the bdev layer, finished
 * after every user of bdevs, frees leftovers without calling listeners or destruct).
 * Requests a module still holds are freed by the server after every fini(); fini()
 * must not answer or free them.
 * config(): append this module's framework_get_config entries for `subsystem` to arr
 * (called for every subsystem name; ignore the ones that are not yours). For "bdev"
 * the bdev layer writes bdev_set_options first, then calls the modules' hooks in SPDK's
 * bdev-module order (raid, target (lvol/malloc), nvme, others), then each bdev's
 * ops->write_config and QoS, then bdev_wait_for_examine.
 * start_init(): optional, runs when the framework initialises (framework_start_init,
 * or at start-up without --wait-for-rpc), before any runtime method can be called.
 */
struct sim_module {
	const char *name;
	const struct sim_method *methods;
	const struct sim_control_cmd *control;
	void (*init)(struct sim *s);
	void (*fini)(struct sim *s);
	void (*config)(struct sim *s, const char *subsystem, json_t *arr);
	void (*start_init)(struct sim *s);
};

extern const struct sim_module sim_module_framework; /* sim_framework.c */
extern const struct sim_module sim_module_bdev;      /* sim_bdev.c: bdev_get_bdevs, qos, iostat */
extern const struct sim_module sim_module_nvme;      /* sim_nvme.c: bdev_nvme_* (host side) */
extern const struct sim_module sim_module_target;    /* sim_target.c: malloc, lvol, nvmf_* */
extern const struct sim_module sim_module_keyring;   /* sim_keyring.c */
extern const struct sim_module sim_module_raid;      /* sim_raid.c */
extern const struct sim_module sim_module_vhost;     /* sim_vhost.c */

/* ---- The simulated process ------------------------------------------------------------ */

struct sim_options {
	const char *rpc_socket;     /* -r */
	const char *control_socket; /* --control (optional) */
	const char *vhost_dir;      /* -S */
	uint64_t core_mask;         /* -m */
	bool wait_for_rpc;          /* --wait-for-rpc */
	uint64_t mem_size_mb;       /* -s (accepted; spdk-sim allocates no hugepages) */
	bool no_pci;                /* -u */
};

struct sim {
	struct sim_options opts;
	bool initialized;            /* framework_start_init done */
	uint64_t reset_window_until; /* monotonic ms; the reset_window control is open before it */
	/*
	 * Tripwire: unfiltered bdev_get_bdevs calls received while a controller reset (real SPDK
	 * answers them; the seed's operators saw such a call crash it, so clients must not send it)
	 */
	uint64_t unfiltered_bdevs_in_reset;
	/* bdev_get_iostat without a name: walks every bdev like bdev_get_bdevs does */
	uint64_t unfiltered_iostat;
	struct sim_bdev *bdevs;      /* registration order */
	/* module state, owned by each module */
	struct sim_framework_state *framework;
	struct sim_bdev_state *bdev;
	struct sim_nvme_state *nvme;
	struct sim_target_state *target;
	struct sim_keyring_state *keyring;
	struct sim_raid_state *raid;
	struct sim_vhost_state *vhost;
	struct sim_core *core; /* server internals (sim_server.c) */
	struct sim_control_state *control; /* --control channel (sim_control.c); NULL if off */
};

/*
 * Is an NVMe controller reset under way: a path resetting (bdev_nvme_reset_controller, or a
 * reconnect after a lost connection) or the reset_window control open?
 */
bool sim_nvme_reset_in_progress(struct sim *s);
/* Find a method by name across modules; NULL if unknown. */
const struct sim_method *sim_method_find(const char *name);
/* Simulate a crash: exit at once without cleanup, as kill -9 would. */
__attribute__((noreturn)) void sim_crash(struct sim *s, const char *why);
/* Leave the poll loop after the current pass and exit cleanly (like SIGTERM). */
void sim_stop(struct sim *s);
/* Run the server until stopped. Returns the process exit code. */
int sim_run(const struct sim_options *opts);

#endif
