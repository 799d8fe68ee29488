/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_TESTS_RECONCILE_FIXTURE_H
#define DISKENGINE_TESTS_RECONCILE_FIXTURE_H

/* A small world of desired and observed state for planner tests, built step by step. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reconcile/names.h"
#include "reconcile/plan.h"

#define FX_MAX 64

struct fx {
	struct mapping maps[FX_MAX];
	size_t nm;
	struct volume vols[FX_MAX];
	size_t nv;
	struct local_device devs[8];
	size_t nd;
	struct obs_controller ctrls[FX_MAX];
	struct obs_path paths[FX_MAX][2];
	size_t nc;
	struct obs_bdev bdevs[FX_MAX * 2];
	size_t nb;
	struct obs_raid raids[FX_MAX];
	struct obs_raid_base rbases[FX_MAX][2];
	size_t nr;
	struct obs_vhost vhosts[FX_MAX];
	size_t nvh;
	struct obs_key keys[8];
	size_t nk;
	struct obs_first_seen seen[FX_MAX * 4];
	size_t ns;
	struct host_src_addr addrs[4];
	struct host_pci_dev pci[4];
	struct host_facts hf;
	struct desired d;
	struct observed o;
	struct plan p;
	bool built;
};

/* Bounded copy that always terminates. */
void fx_copy(char *dst, size_t size, const char *src);

/* Defaults: seed timers, one RDMA source 10.0.0.1 on ib0 (up), now = 100000, bdevs listed. */
void fx_init(struct fx *f);
/* Volume <id>: two in-sync RDMA replicas 10.0.1.1/10.0.1.2:4420, 16 MiB of 512-byte blocks. */
struct volume *fx_volume(struct fx *f, uint64_t id);
struct mapping *fx_mapping(struct fx *f, uint64_t id, uint64_t volume_id, enum mapping_state s);
/* Name of replica i's controller / namespace bdev (static buffer per call site is not used). */
void fx_ctrlr_name(const struct volume *v, size_t i, char *out, size_t size);
void fx_bdev_name(const struct volume *v, size_t i, char *out, size_t size);
/* Observed: replica i's controller (enabled path) and its bdev. Returns the bdev. */
struct obs_bdev *fx_obs_replica(struct fx *f, const struct volume *v, size_t i);
/* Observed: both members' controllers and bdevs. */
void fx_obs_paths(struct fx *f, const struct volume *v);
/* Observed: raid_<id> online over both members (claimed), and its bdev. */
struct obs_raid *fx_obs_raid(struct fx *f, const struct volume *v);
struct obs_vhost *fx_obs_vhost(struct fx *f, uint64_t mapping_id, const char *bdev);
struct obs_bdev *fx_obs_bdev(struct fx *f, const char *name, uint64_t num_blocks);
struct obs_controller *fx_obs_ctrlr(struct fx *f, const char *name, enum transport_type t,
				    const char *traddr, const char *trsvcid, const char *subnqn);
void fx_seen(struct fx *f, const char *name, int64_t first_seen_s);
/* A fully built, attached volume: mapping ATTACHED, paths, raid, QoS, vhost. */
struct volume *fx_attached(struct fx *f, uint64_t vol_id, uint64_t mapping_id);

/* Build the plan (asserting success); frees the previous one. */
const struct plan *fx_plan(struct fx *f);
void fx_done(struct fx *f);

size_t fx_count(const struct plan *p, enum action_kind k);
/* First action of that kind (and object, if not NULL); NULL if none. */
const struct action *fx_find(const struct plan *p, enum action_kind k, const char *object);
/* Index in the plan of that action, or -1. */
int fx_index(const struct plan *p, enum action_kind k, const char *object);
/* Print the plan to stderr (for failing tests). */
void fx_dump(const struct plan *p);

#endif

/*
 * Apply a plan's actions to the observed world as SPDK and the store would if every call
 * succeeded (skip_kind: a kind whose calls "fail" and leave the world unchanged, or
 * ACTION_KIND_COUNT for none). Returns the number of actions applied.
 */
size_t fx_apply(struct fx *f, const struct plan *p, enum action_kind skip_kind);
void fx_remove_ctrlr(struct fx *f, const char *name);
void fx_remove_bdev(struct fx *f, const char *name);
void fx_remove_raid(struct fx *f, const char *name);
void fx_remove_vhost(struct fx *f, const char *name);
