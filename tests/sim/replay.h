/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Conformance replay of real SPDK's recorded JSON-RPC transcripts against spdk-sim:
 * process control and connections (replay_proc.c), normalisation and comparison
 * (replay_norm.c), the table of answers real SPDK does not reproduce (replay_alt.c),
 * the transcript driver (replay.c).
 */
#ifndef DISKENGINE_TESTS_SIM_REPLAY_H
#define DISKENGINE_TESTS_SIM_REPLAY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- processes and connections (replay_proc.c) ---------------------------------------- */

/* The simulated SPDK processes a transcript talks to. */
enum replay_node {
	NODE_STORAGE = 0, /* storage node: -m 0x1 -r <dir>/storage.sock */
	NODE_HOST = 1,	  /* compute host: -m 0x2 --wait-for-rpc -S <dir>/vhost */
	NODE_COUNT = 2,	  /* number of nodes */
};

struct replay_conn {
	int fd;
	char *buf; /* received bytes not yet parsed */
	size_t len, cap;
	json_t *pending; /* parsed answers not yet claimed (array) */
};

struct replay_env {
	const char *sim_bin;
	char dir[256];	     /* the scratch <conf_dir> */
	char key_dir[300];   /* <conf_dir>/keys */
	char vhost_dir[300]; /* <conf_dir>/vhost */
	pid_t pid[NODE_COUNT];
	/* connections by target: storage, host, host#2 */
	struct replay_conn conn[3];
};

/* Start node n fresh; 0 when its RPC socket accepts connections. */
int replay_node_start(struct replay_env *e, enum replay_node n);
/* SIGTERM (clean stop) or SIGKILL (crash) and reap; closes its connections. */
void replay_node_stop(struct replay_env *e, enum replay_node n, bool kill9);
const char *replay_node_sock(struct replay_env *e, enum replay_node n, char *buf, size_t len);

/* Connection index of a transcript target ("storage", "host", "host#2"); -1 unknown. */
int replay_target_index(const char *target);
/* Node a connection index talks to. */
enum replay_node replay_target_node(int idx);
void replay_conn_close(struct replay_conn *c);
/* Connect c to node n's socket if not connected. 0 or -errno. */
int replay_conn_ensure(struct replay_env *e, int idx);
int replay_conn_send(struct replay_conn *c, const char *data, size_t len);
/*
 * Wait up to timeout_ms for an answer with this id (json_equal; NULL id = "id": null)
 * and return it (new reference), or NULL on timeout or a closed connection.
 */
json_t *replay_conn_wait_id(struct replay_conn *c, const json_t *id, int timeout_ms);
/* Wait up to timeout_ms for any new answer; the answer (new ref) or NULL. */
json_t *replay_conn_wait_any(struct replay_conn *c, int timeout_ms);
/* One request/answer on a private connection to node n (harness-internal polls). */
json_t *replay_call(struct replay_env *e, enum replay_node n, const char *method, json_t *params,
		    int timeout_ms);

/* ---- normalisation and comparison (replay_norm.c) ---------------------------------------- */

/* Replace placeholders (<conf_dir>, <key_dir>, <vhost_dir>) by real paths (new string). */
char *replay_subst_paths(const struct replay_env *e, const char *text);
/* Normalise a value in place per the README (uuids, ticks, paths, cntlid, progress). */
json_t *replay_normalise(const struct replay_env *e, json_t *v);
/* Remove every member named `key` anywhere in v. */
void replay_drop_key(json_t *v, const char *key);
/* "path: want X, got Y" for the first difference (caller frees); NULL when equal. */
char *replay_diff(const json_t *want, const json_t *got);
/* Compact one-line rendering for reports (caller frees). */
char *replay_show(const json_t *v);

/* ---- answers real SPDK does not reproduce (replay_alt.c) ----------------------------------- */

/* How a listed answer may differ from the recording. */
enum replay_alt_kind {
	ALT_OTHER_RUN,	 /* the same step of another recorded run of the scenario is also valid */
	ALT_IGNORE_KEYS, /* compare after dropping the listed keys everywhere */
	ALT_ERROR_OK,	 /* an error answer with one of the listed codes is also valid */
	ALT_NAMES_ONLY,	 /* compare only the "name" members of the result array, as a set */
	ALT_NAMES_IN,	 /* the result array's names are any subset of the listed names */
	ALT_SUBSEQUENCE, /* timed polls: the distinct states may skip intermediate ones */
};

struct replay_alt {
	const char *file;
	const char *step; /* "25", or "timed:host:bdev_nvme_get_controllers" */
	enum replay_alt_kind kind;
	/*
	 * ALT_OTHER_RUN: file; ALT_IGNORE_KEYS, ALT_NAMES_IN: comma list; ALT_ERROR_OK: codes;
	 * ALT_SUBSEQUENCE: NULL, or "degraded" (states with a degraded raid may also appear)
	 */
	const char *arg;
	const char *reason; /* why real SPDK can answer differently */
};

/* The entry for file#step, or NULL when the answer must match exactly. */
const struct replay_alt *replay_alt_find(const char *file, const char *step);
/*
 * true when `got` is acceptable for the listed step: `want` is the recorded answer;
 * `dir` the conformance directory (ALT_OTHER_RUN reads the other run). Normalised input.
 */
bool replay_alt_accept(const struct replay_alt *a, const char *dir, int step, const json_t *want,
		       const json_t *got);

#endif
