/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_STORE_STORE_H
#define DISKENGINE_STORE_STORE_H

/*
 * The desired-state store: hosts, storage nodes, volumes, replicas, mappings, local devices and
 * what each host observed, in SQLite or PostgreSQL behind one interface.
 *
 * Every function returns 0 or a negative errno and, on failure, fills *err (which may be NULL)
 * with the errno and a message naming the object. Out-parameters are set only on success.
 * Errno conventions, identical on both backends:
 *   -EINVAL   a value is invalid (bad NQN, size, state transition, ...)
 *   -ENOENT   a named object does not exist
 *   -EEXIST   the object (name, NQN, BDF) exists already
 *   -EBUSY    the object is in use (mapped volume, node with replicas, host with mappings)
 *   -ESTALE   a compare-and-set lost: the state changed meanwhile
 *   -ENOTCONN the database could not be reached or went away
 *   -ETIMEDOUT a statement ran longer than the session's statement_timeout (PostgreSQL)
 *   -EPROTO   the database's schema is not the one this build knows (store_open_read)
 *   -EROFS, -ENOSPC, -EACCES, -EIO   the database could not write; nothing was half-written
 * A struct store is used by one thread at a time; open one per thread.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_NAME_MAX 128  /* host, node, volume names, VM ids: at most 127 bytes */
#define STORE_NQN_MAX 224   /* NVMe: an NQN is at most 223 bytes */
#define STORE_ADDR_MAX 64   /* an IPv4/IPv6 address in text */
#define STORE_PATH_MAX 256  /* auth key file references */
#define STORE_UUID_MAX 40   /* lvol uuid in text (36) */
#define STORE_BDF_MAX 16    /* DDDD:BB:DD.F */
#define STORE_TEXT_MAX 1024 /* observation members / last error */
#define STORE_HOST_ADDRS 8  /* source addresses per transport on one host */
#define STORE_REPLICAS 2    /* a volume is a RAID1 over two replicas */

/* Filled by every function on failure. */
struct store_error {
	int err;	   /* the negative errno the function returned */
	char message[256]; /* what went wrong, naming the object */
};

/* How a replica is reached: a storage node's NVMe-oF transport, or a local PCIe drive. */
enum store_transport {
	STORE_TRANSPORT_RDMA = 0, /* NVMe-oF over RDMA (the seed's default) */
	STORE_TRANSPORT_TCP = 1,  /* NVMe-oF over TCP */
	STORE_TRANSPORT_PCIE = 2, /* a local drive of the host (replicas only, never a node) */
};

/* Life of a volume-to-VM mapping; the daemon moves it forward only. */
enum store_mapping_state {
	STORE_MAPPING_ASSIGNED = 0,	    /* the operator asked for it; nothing built yet */
	STORE_MAPPING_INITIALISED = 1,	    /* paths and RAID exist, snapshot copy done */
	STORE_MAPPING_ATTACHED = 2,	    /* the vhost-blk controller serves the VM */
	STORE_MAPPING_DETACH_REQUESTED = 3, /* the operator asked to tear it down */
	STORE_MAPPING_DETACHED = 4,	    /* torn down; kept as history */
};

/* Volume-level state. */
enum store_volume_state {
	STORE_VOLUME_READY = 0,	   /* size and replicas are settled */
	STORE_VOLUME_RESIZING = 1, /* size grew; hosts grow the RAID or swap in pending replicas */
};

struct store_host {
	int64_t id;
	char name[STORE_NAME_MAX];
	char rdma_ips[STORE_HOST_ADDRS][STORE_ADDR_MAX]; /* source addresses for RDMA paths */
	unsigned n_rdma_ips;
	char tcp_ips[STORE_HOST_ADDRS][STORE_ADDR_MAX]; /* source addresses for TCP paths */
	unsigned n_tcp_ips;
	int64_t created_at; /* seconds since the epoch */
};

struct store_node {
	int64_t id;
	char name[STORE_NAME_MAX];
	enum store_transport transport;
	char address[STORE_ADDR_MAX];
	uint16_t port;
	char auth_key_file[STORE_PATH_MAX]; /* path of a key file, "" = none; never the secret */
};

/* QoS limits; 0 means unlimited. rw_iops is a multiple of 1000 (SPDK's rule). */
struct store_qos {
	uint64_t rw_iops;
	uint64_t rw_mbps;
	uint64_t r_mbps;
	uint64_t w_mbps;
};

struct store_volume {
	int64_t id;
	char name[STORE_NAME_MAX]; /* "" = unnamed */
	uint64_t size_bytes;	   /* what the guest sees */
	uint32_t block_size;	   /* 512 or 4096 */
	struct store_qos qos;
	char snapshot_source[STORE_NAME_MAX]; /* snapshot copied before first use; "" = none */
	enum store_volume_state state;
	int64_t created_at;
	/*
	 * The RAID was last stopped in order with every member in sync (or never ran). The daemon
	 * clears it when it assembles the RAID and sets it after an orderly teardown; after a crash
	 * it stays clear, and with superblocks that cannot decide, the daemon stops and asks.
	 */
	bool clean_stop;
	/*
	 * Filled from a snapshot (snapshot_source names the source volume): its replicas are
	 * clones of a snapshot of one of the source's replicas, so they carry the source raid's
	 * superblock (source_raid_uuid) with the data past source_data_offset blocks.
	 */
	int64_t source_volume_id; /* 0 = none */
	char source_raid_uuid[STORE_UUID_MAX];
	uint64_t source_data_offset;
	/* The raid as the daemon created it (bdev_raid_get_bdevs); "" / 0 until then. */
	char raid_uuid[STORE_UUID_MAX];
	uint64_t raid_data_offset;
	bool ever_attached; /* a mapping reached ATTACHED once: its replicas hold a VM's data */
	bool init_wiped;    /* the clones' superblock areas were (being) zeroed: never again */
};

/*
 * A replica with the storage node it lives on (joined, so a host needs nothing else), or, with
 * transport STORE_TRANSPORT_PCIE, with the local device holding it: then node_id is 0, node_name,
 * address and nqn are "", and device_host/bdf/nsid name the drive namespace.
 */
struct store_replica {
	int64_t id;
	int64_t volume_id;
	int64_t node_id;
	char node_name[STORE_NAME_MAX];
	enum store_transport transport;
	int64_t device_id;		   /* local replicas: the device's id */
	char device_host[STORE_NAME_MAX]; /* local replicas: the host owning the device */
	char bdf[STORE_BDF_MAX];	   /* local replicas: DDDD:BB:DD.F, lower case */
	uint32_t nsid;			   /* local replicas: namespace id (1 unless given) */
	char address[STORE_ADDR_MAX];
	uint16_t port;
	char auth_key_file[STORE_PATH_MAX];
	char nqn[STORE_NQN_MAX];
	char lvol_uuid[STORE_UUID_MAX]; /* "" = unknown */
	bool in_sync;	    /* holds every write; may be listed as a RAID base when (re)created */
	int64_t generation; /* mirrors the RAID superblock sequence this replica last saw */
	bool pending;	    /* added by a resize; swapped in once connected and checked */
};

struct store_mapping {
	int64_t id;
	int64_t volume_id;
	char volume_name[STORE_NAME_MAX];
	int64_t host_id;
	char host_name[STORE_NAME_MAX];
	char vm_id[STORE_NAME_MAX];
	enum store_mapping_state state;
	int64_t created_at;
	int64_t updated_at;
};

struct store_device {
	int64_t id;
	int64_t host_id;
	char host_name[STORE_NAME_MAX];
	char bdf[STORE_BDF_MAX];	   /* normalised to lower-case DDDD:BB:DD.F */
	char inventory_id[STORE_NAME_MAX]; /* "" = none */
};

/* What a host last saw of one mapping's RAID. */
struct store_observation {
	int64_t mapping_id;
	char raid_state[32];		 /* SPDK's raid state string, "" = no raid */
	char members[STORE_TEXT_MAX];	 /* e.g. "nvme_a n1:ok,nvme_b n1:missing" */
	int rebuild_percent;		 /* -1 = no rebuild running */
	bool reset_in_progress;		 /* a controller of the volume was resetting */
	char path_resets[STORE_TEXT_MAX]; /* "de_x:resets=3,failed=1,given_up;..." "" = none */
	char last_error[STORE_TEXT_MAX]; /* "" = none */
	int64_t last_error_at;		 /* 0 = never */
	int64_t updated_at;
};

/* One mapping as a host must act on it. */
struct store_desired_mapping {
	struct store_mapping mapping;
	struct store_volume volume;
	struct store_replica *replicas; /* ordered by id; pending ones included */
	size_t n_replicas;
};

/* Everything one host must act on, read in one transaction. */
struct store_desired {
	struct store_host host;
	struct store_desired_mapping *mappings; /* every state but DETACHED, ordered by id */
	size_t n_mappings;
	struct store_device *devices;
	size_t n_devices;
};

struct store;
struct store_watch;

/* Filter for store_mapping_list; zero fields match everything. */
struct store_mapping_filter {
	int64_t volume_id;
	int64_t host_id;
	bool include_detached;
};

/*
 * Open a store. url: "sqlite:///abs/path", "sqlite:relative/path", a plain path (SQLite),
 * "postgresql://...", "postgres://..." or a libpq "key=value" string ("host=... dbname=...").
 * Applies pending schema migrations (see store_migrate) before returning.
 * -EINVAL for a URL that names no backend, -ENOTCONN when the database cannot be reached.
 */
int store_open(const char *url, struct store **out, struct store_error *err);

/* The file a SQLite URL names (inside url); NULL for PostgreSQL or a URL naming no backend. */
const char *store_url_sqlite_path(const char *url);

/* Like store_open but leaves the schema as it is (for `db migrate` and `db status`). */
int store_open_nomigrate(const char *url, struct store **out, struct store_error *err);

/*
 * Open a store to read it: the schema is never changed, so a role without DDL rights will do.
 * The schema must be the one this build knows: older (an empty database included) or newer is
 * -EPROTO, with a message saying which and what to run.
 */
int store_open_read(const char *url, struct store **out, struct store_error *err);

/* Close a store (NULL is fine). */
void store_close(struct store *store);

/* "sqlite" or "postgresql". */
const char *store_backend_name(const struct store *store);

/* The schema version the database is at (0 = empty) and the newest this build knows. */
int store_schema_version(struct store *store, int *current, int *latest, struct store_error *err);

/*
 * Apply every migration newer than the database's version, each in its own transaction,
 * serialised against other processes migrating at the same time. Idempotent. *applied (may be
 * NULL) gets how many ran. -EPROTO if the database is newer than this build.
 */
int store_migrate(struct store *store, int *applied, struct store_error *err);

/* Hosts. store_host_add ignores h->id/created_at and sets *id (may be NULL). */
int store_host_add(struct store *store, const struct store_host *h, int64_t *id,
		   struct store_error *err);
int store_host_get(struct store *store, const char *name, struct store_host *out,
		   struct store_error *err);
int store_host_list(struct store *store, struct store_host **out, size_t *n,
		    struct store_error *err);
/* Refuses (-EBUSY) while the host has a mapping that is not DETACHED; devices go with it. */
int store_host_remove(struct store *store, const char *name, struct store_error *err);

/*
 * The operator's word that a host is gone for good: every mapping of the host that is not
 * DETACHED becomes DETACHED at once, without the host tearing anything down. *released (may be
 * NULL; free() it) gets those mappings as they were, *n how many. -ENOENT for an unknown host.
 */
int store_host_declare_dead(struct store *store, const char *host_name,
			    struct store_mapping **released, size_t *n, struct store_error *err);

/* Storage nodes. Removal refuses (-EBUSY) while a replica lives on the node. */
int store_node_add(struct store *store, const struct store_node *n, int64_t *id,
		   struct store_error *err);
int store_node_get(struct store *store, const char *name, struct store_node *out,
		   struct store_error *err);
int store_node_list(struct store *store, struct store_node **out, size_t *n,
		    struct store_error *err);
int store_node_remove(struct store *store, const char *name, struct store_error *err);

/*
 * Create a volume and its replicas in one transaction. From each replica only node_name, nqn
 * and lvol_uuid are used; exactly STORE_REPLICAS replicas on distinct nodes. Sets *id.
 */
int store_volume_create(struct store *store, const struct store_volume *v,
			const struct store_replica *replicas, size_t n_replicas, int64_t *id,
			struct store_error *err);
/* ref: a volume name, or its id in decimal. */
int store_volume_get(struct store *store, const char *ref, struct store_volume *out,
		     struct store_error *err);
int store_volume_list(struct store *store, struct store_volume **out, size_t *n,
		      struct store_error *err);
/*
 * Grow a volume (a shrink is -EINVAL). With n_pending == STORE_REPLICAS, the given replicas
 * are added with pending set, to replace the current ones; with 0 the replicas grow in place.
 * Either way the volume becomes RESIZING until store_volume_resize_finish (the daemon calls it
 * once the raid serves the new size). -EBUSY while resizing, or when no mapping of the volume is
 * ASSIGNED, INITIALISED or ATTACHED (no host would ever carry the resize out).
 */
int store_volume_resize(struct store *store, const char *ref, uint64_t new_size,
			const struct store_replica *pending, size_t n_pending,
			struct store_error *err);
/* The daemon finished a resize: replaced replicas go, pending ones become members, READY. */
int store_volume_resize_finish(struct store *store, int64_t volume_id, struct store_error *err);
/*
 * One slot of a replica-swapping resize is done: SPDK rebuilt the pending replica new_replica_id
 * into the RAID in place of the member old_replica_id. In one transaction the old replica goes,
 * the new one becomes a member (pending and missed writes cleared); the volume stays RESIZING
 * (store_volume_resize_finish ends it). Explicit ids, so promoting one slot cannot change
 * which replica another slot's promotion names. Repeating a promotion that committed (old gone,
 * new a member) is 0. -ENOENT for an unknown volume or replica, -EINVAL for a replica of
 * another volume, a new replica that is not pending while the old one still exists, or an old
 * one that is pending.
 */
int store_replica_promote(struct store *store, int64_t volume_id, int64_t old_replica_id,
			  int64_t new_replica_id, struct store_error *err);
/* Record whether the volume's RAID was stopped cleanly (see struct store_volume). */
/* The raid the daemon created for the volume: its uuid and data_offset (blocks). */
int store_volume_record_raid(struct store *store, int64_t volume_id, const char *uuid,
			     uint64_t data_offset, struct store_error *err);
/*
 * The clones' superblock areas of a volume filled from a snapshot are zeroed from now on:
 * recorded before the first Write Zeroes, so a pass after a crash knows the empty areas are
 * its own doing.
 */
int store_volume_set_init_wiped(struct store *store, int64_t volume_id, struct store_error *err);
int store_volume_set_clean_stop(struct store *store, int64_t volume_id, bool clean,
				struct store_error *err);
/* Refuses (-EBUSY) while a mapping of the volume is not DETACHED. */
int store_volume_delete(struct store *store, const char *ref, struct store_error *err);

int store_replica_list(struct store *store, int64_t volume_id, struct store_replica **out,
		       size_t *n, struct store_error *err);
/*
 * Record whether a replica holds every write, and the generation it was seen at. A generation
 * never goes back: an older one than stored is -ESTALE (a late writer must not undo news).
 */
int store_replica_set_in_sync(struct store *store, int64_t replica_id, bool in_sync,
			      int64_t generation, struct store_error *err);

/*
 * Map a volume to a VM on a host: a new mapping in ASSIGNED. -EBUSY if the volume already has
 * a mapping that is not DETACHED. Sets *mapping_id.
 */
int store_volume_attach(struct store *store, const char *volume_ref, const char *host_name,
			const char *vm_id, int64_t *mapping_id, struct store_error *err);
/*
 * Ask for the volume's live mapping to be torn down (-> DETACH_REQUESTED). host_name (may be
 * NULL) must match the mapping's host. -ENOENT if the volume is not mapped, -EALREADY if a
 * detach is already requested. Sets *mapping_id (may be NULL).
 */
int store_volume_detach(struct store *store, const char *volume_ref, const char *host_name,
			int64_t *mapping_id, struct store_error *err);
int store_mapping_get(struct store *store, int64_t id, struct store_mapping *out,
		      struct store_error *err);
int store_mapping_list(struct store *store, const struct store_mapping_filter *filter,
		       struct store_mapping **out, size_t *n, struct store_error *err);
/*
 * Compare-and-set a mapping's state: from -> to only if it is still `from`. Only forward
 * transitions are valid (ASSIGNED -> INITIALISED -> ATTACHED -> DETACH_REQUESTED -> DETACHED,
 * and ASSIGNED/INITIALISED -> DETACH_REQUESTED); anything else is -EINVAL. -ESTALE when the
 * state is no longer `from`, -ENOENT for an unknown mapping.
 */
int store_mapping_advance(struct store *store, int64_t mapping_id, enum store_mapping_state from,
			  enum store_mapping_state to, struct store_error *err);

/* Local PCIe devices of a host; bdf is validated and normalised. */
int store_device_add(struct store *store, const char *host_name, const char *bdf,
		     const char *inventory_id, int64_t *id, struct store_error *err);
/* host_name NULL = every host. */
int store_device_list(struct store *store, const char *host_name, struct store_device **out,
		      size_t *n, struct store_error *err);
int store_device_remove(struct store *store, const char *host_name, const char *bdf,
			struct store_error *err);

/* Replace what a host observed of a mapping (obs->updated_at is set here). */
int store_observation_put(struct store *store, const struct store_observation *obs,
			  struct store_error *err);
/* One state change of a batch (store_transitions_apply). */
enum store_transition_kind {
	STORE_TRANSITION_MAPPING = 0,	 /* store_mapping_advance(id, from, to) */
	STORE_TRANSITION_CLEAN_STOP = 1, /* store_volume_set_clean_stop(id, clean) */
};
struct store_transition {
	enum store_transition_kind kind;
	int64_t id; /* mapping id, or volume id */
	enum store_mapping_state from, to;
	bool clean;
	/* filled: what the single call would have returned, and its message */
	int result;
	struct store_error err;
};
/*
 * Several state changes in one transaction, each with the single call's semantics. One that
 * finds its row moved (-ESTALE) or gone (-ENOENT) changes nothing and leaves the others be;
 * any other failure rolls them all back and is returned.
 */
int store_transitions_apply(struct store *store, struct store_transition *t, size_t n,
			    struct store_error *err);

/*
 * Several observations in one transaction (one commit for a whole pass). written[i] (n entries,
 * set only on success) says whether obs[i] was stored: false when its mapping no longer exists.
 */
int store_observation_put_many(struct store *store, const struct store_observation *obs, size_t n,
			       bool *written, struct store_error *err);
/* -ENOENT if nothing was observed yet. */
int store_observation_get(struct store *store, int64_t mapping_id, struct store_observation *out,
			  struct store_error *err);

/* Everything host_name must act on, in one consistent read. Free with store_desired_free. */
int store_desired_get(struct store *store, const char *host_name, struct store_desired **out,
		      struct store_error *err);
void store_desired_free(struct store_desired *d);

/*
 * Wake-ups. A watch notices any committed change that host_name must act on (its mappings,
 * their volumes, replicas and nodes, its devices, the host row); observations do not count.
 * Open the watch before reading the desired state, so no change falls between the two.
 * store_watch_wait returns 1 when something changed since the last call (or since open),
 * 0 on timeout, negative errno if the watch broke (reopen it). The watch uses its own
 * connection; the store must outlive it.
 */
int store_watch_open(struct store *store, const char *host_name, struct store_watch **out,
		     struct store_error *err);
int store_watch_wait(struct store_watch *watch, int timeout_ms, struct store_error *err);
/*
 * The descriptor a change arrives on (PostgreSQL's socket), so a caller can poll it together
 * with others and then call store_watch_wait(watch, 0); -1 when changes are found by polling
 * (SQLite): call store_watch_wait on a timer instead.
 */
int store_watch_fd(struct store_watch *watch);
void store_watch_close(struct store_watch *watch);

/* Names of enum values as stored and printed; parse returns 0 or -EINVAL. */
const char *store_transport_name(enum store_transport t);
int store_transport_parse(const char *s, enum store_transport *out);
const char *store_mapping_state_name(enum store_mapping_state s);
int store_mapping_state_parse(const char *s, enum store_mapping_state *out);
const char *store_volume_state_name(enum store_volume_state s);
int store_volume_state_parse(const char *s, enum store_volume_state *out);

/* ---------------------------------------------------------------------------------------- */
/* Backend contract. Everything above is written once over this table (store_common.c and   */
/* friends); a backend only moves SQL and rows.                                            */

/* A bound parameter; SQL text uses '?' placeholders, never spliced values. */
struct store_param {
	enum {
		STORE_PARAM_NULL = 0, /* SQL NULL */
		STORE_PARAM_INT = 1,  /* 64-bit integer */
		STORE_PARAM_TEXT = 2, /* UTF-8 text */
	} type;
	int64_t i;
	const char *s;
};

/* A result set in text form; cells[row * ncols + col] is NULL for SQL NULL. */
struct store_rows {
	size_t nrows;
	size_t ncols;
	char **cells;
};

/*
 * struct store_ops: one database backend. Every function returns 0 or a negative errno and
 * fills err on failure, mapping the database's own codes to the errno conventions above
 * (unique violation -EEXIST, foreign key -EBUSY, lock/serialisation conflict -EAGAIN,
 * connection lost -ENOTCONN, disk full -ENOSPC, read-only -EROFS).
 *  open        connect; conninfo is the URL with any "sqlite://" prefix removed for SQLite.
 *  close       disconnect; an open transaction is rolled back.
 *  begin       start a transaction; write=true takes the write lock at once (SQLite
 *              IMMEDIATE), write=false gives one consistent snapshot for every read in it.
 *  commit      commit; on failure the transaction is rolled back.
 *  rollback    roll back; never fails visibly.
 *  exec_script run several ';'-separated statements without parameters (migrations).
 *  query       run one statement with bound parameters; *rows (may be NULL) gets the rows.
 *  schema_lock inside a write transaction, serialise schema changes across processes.
 *  watch_open  open a second connection that waits for host_id's wake-ups.
 *  watch_wait  1 = host_id's wake-up counter moved, 0 = timeout, negative = broken.
 *  watch_close release the watch connection.
 *  watch_fd    optional: the descriptor a wake-up arrives on, or -1.
 * The dialect strings pick the SQL that differs between backends.
 */
struct store_ops {
	const char *name;
	int (*open)(const char *conninfo, void **db, struct store_error *err);
	void (*close)(void *db);
	int (*begin)(void *db, bool write, struct store_error *err);
	int (*commit)(void *db, struct store_error *err);
	void (*rollback)(void *db);
	int (*exec_script)(void *db, const char *sql, struct store_error *err);
	int (*query)(void *db, const char *sql, const struct store_param *params, size_t n_params,
		     struct store_rows **rows, struct store_error *err);
	int (*schema_lock)(void *db, struct store_error *err);
	int (*watch_open)(void *db, const char *conninfo, int64_t host_id, void **watch,
			  struct store_error *err);
	int (*watch_wait)(void *watch, int timeout_ms, struct store_error *err);
	void (*watch_close)(void *watch);
	int (*watch_fd)(void *watch);
};

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;

#endif
