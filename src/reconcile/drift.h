/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_RECONCILE_DRIFT_H
#define DISKENGINE_RECONCILE_DRIFT_H

/*
 * Drift: where the three records of a host's storage disagree — the saved SPDK config (what a
 * restart replays), live SPDK and the database (the authority) — and what each difference means.
 * Read-only: it never changes anything. Live SPDK against the database is judged by the planner
 * itself (plan_build), so drift says exactly what the daemon's next pass would do about each
 * difference; the saved config against live SPDK by comparing the two documents call by call.
 */

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "reconcile/model.h"
#include "reconcile/plan.h"

/* What a difference means. */
enum drift_class {
	DRIFT_REPLAY_ARTEFACT = 0, /* saved config vs live SPDK: nothing acts on it; harmless */
	DRIFT_MISSING,		   /* the database wants it, SPDK lacks it: the next pass creates it
				    * (or the detail says what holds it back) */
	DRIFT_ORPHAN,		   /* provably diskengine's, unclaimed or detach requested: the
				    * daemon removes it (next says when) */
	DRIFT_CONFLICT,		   /* a name the database wants, another definition: the daemon
				    * never touches it; a person decides */
	DRIFT_FOREIGN,		   /* named like diskengine's objects, not provably created by it,
				    * or still held by something else: never touched */
	DRIFT_CLASS_COUNT,	   /* number of classes */
};

/* One difference. */
struct drift_item {
	enum drift_class cls;
	const char *kind; /* "controller", "path", "raid", "member", "vhost", "key", "qos",
			   * "option", "config" (static strings) */
	char object[MODEL_NAME_MAX];
	uint64_t volume_id;	   /* 0: none */
	uint64_t mapping_id;	   /* 0: none */
	char detail[PLAN_MSG_MAX]; /* what differs */
	char next[PLAN_MSG_MAX];   /* what happens next, and when */
	json_t *evidence; /* {"saved": .., "live": .., "database": ..}: what shows it (owned) */
};

struct drift_report {
	struct drift_item *items;
	size_t n;
	size_t cap;
};

/*
 * Live SPDK (o, as the daemon's observer reads it: list calls, then bdevs by name) against the
 * database (d). plan_build is run for the next pass (ages unknown: no orphan is old enough), then
 * again with every object old enough and the objects removed so far taken out, to find every
 * orphan and the order the daemon removes them in. hf as for plan_build (may be NULL).
 * Appends to out; 0, -ENOMEM or plan_build's error.
 */
int drift_live(const struct desired *d, const struct observed *o, const struct host_facts *hf,
	       struct drift_report *out);

/*
 * The saved config document (saved_doc; NULL when the file does not exist, path names it)
 * against the live one (live_doc, composed like rpc.py's save_config), both SPDK's
 * {"subsystems": [{"subsystem", "config": [{"method", "params"}]}]}. A difference about an object
 * drift_live already reported is added to that item's evidence instead of a new item.
 * Appends to out; 0, -ENOMEM, or -EBADMSG when live_doc is not such a document (a saved_doc
 * that is not one is reported as an item: a person must look at the file).
 */
int drift_saved(const char *saved_doc, const char *path, const char *live_doc,
		struct drift_report *out);

/* Stable name of a class ("replay_artefact", "missing", ...), as in --json. */
const char *drift_class_name(enum drift_class c);

void drift_report_free(struct drift_report *r);

/* Internal to drift*.c: a new item (zeroed, evidence {}), or NULL on ENOMEM. */
struct drift_item *drift_add(struct drift_report *r, enum drift_class cls, const char *kind,
			     const char *object);
/* The item about object of kind, or NULL. */
struct drift_item *drift_find(struct drift_report *r, const char *kind, const char *object);

#endif
