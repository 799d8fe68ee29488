/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Planner rules as a table: each row builds a (desired, observed) world and lists the exact
 * actions expected, in order. Objects "$c0"/"$c1" and "$b0"/"$b1" stand for the controller and
 * namespace bdev of volume 1's replicas 0 and 1.
 */
#include <setjmp.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

struct expect {
	enum action_kind kind;
	const char *object; /* NULL: any */
	int step;	    /* -1: any */
};

struct rule_case {
	const char *name;
	void (*setup)(struct fx *f);
	struct expect want[12];
	size_t n_want;
};

static struct fx F;

static void resolve(const struct fx *f, const char *in, char *out, size_t size)
{
	char inner[MODEL_NAME_MAX - 8];

	/* "path:$c0": the group of a replica's attach chain */
	if (strncmp(in, "path:", 5) == 0) {
		resolve(f, in + 5, inner, sizeof(inner));
		snprintf(out, size, "path:%s", inner);
		return;
	}
	if (in[0] == '$' && (in[1] == 'c' || in[1] == 'b')) {
		size_t i = (size_t)(in[2] - '0');

		if (in[1] == 'c')
			fx_ctrlr_name(&f->vols[0], i, out, size);
		else
			fx_bdev_name(&f->vols[0], i, out, size);
		return;
	}
	snprintf(out, size, "%s", in);
}

/* --- worlds ----------------------------------------------------------------------------- */

static void w_fresh(struct fx *f)
{
	fx_volume(f, 1);
	fx_mapping(f, 7, 1, MAPPING_ASSIGNED);
}

static void w_paths(struct fx *f)
{
	w_fresh(f);
	fx_obs_paths(f, &f->vols[0]);
}

static void w_raid_assigned(struct fx *f)
{
	w_paths(f);
	fx_obs_raid(f, &f->vols[0]);
}

static void snapshot_source(struct volume *v)
{
	v->has_snapshot_source = true;
	v->snapshot_id = 99;
	snprintf(v->source_raid_uuid, sizeof(v->source_raid_uuid),
		 "00000000-0000-4000-8000-000000000063");
	v->source_data_offset = 2048;
}

/* the raid is there (a crash after its create): checked and recorded before INITIALISED */
static void w_snapshot(struct fx *f)
{
	w_raid_assigned(f);
	snapshot_source(&f->vols[0]);
}

/* clones attached: verified, wipe marked, wiped, then the raid */
static void w_snap_clones(struct fx *f)
{
	w_paths(f);
	snapshot_source(&f->vols[0]);
}

static void w_snap_clones_wiped(struct fx *f)
{
	w_snap_clones(f);
	f->vols[0].init_wiped = true;
}

/* a volume that served a VM holds its data: never verified or wiped again */
static void w_snap_ever_attached(struct fx *f)
{
	w_snap_clones(f);
	f->vols[0].ever_attached = true;
}

static void w_snap_unrecorded(struct fx *f)
{
	w_snap_clones(f);
	f->vols[0].source_raid_uuid[0] = '\0';
}

static void w_snap_claimed(struct fx *f)
{
	w_snap_clones(f);
	f->bdevs[0].claimed = true;
}

static void w_initialised_qos(struct fx *f)
{
	w_raid_assigned(f);
	f->maps[0].state = MAPPING_INITIALISED;
	f->vols[0].qos.rw_ios_per_sec = 1500;
	f->vols[0].qos.w_mbytes_per_sec = 100;
	f->bdevs[f->nb - 1].qos = (struct qos_limits){0};
}

static void w_attached(struct fx *f)
{
	fx_attached(f, 1, 7);
}

static void w_qos_rounded(struct fx *f)
{
	/* SPDK reports 1500 IOPS as 2000: no endless SET_QOS. */
	w_attached(f);
	f->vols[0].qos.rw_ios_per_sec = 1500;
	f->bdevs[f->nb - 1].qos.rw_ios_per_sec = 2000;
}

static void w_vhost_null(struct fx *f)
{
	w_attached(f);
	f->vhosts[0].has_bdev = false;
}

static void w_geometry(struct fx *f)
{
	w_paths(f);
	f->bdevs[1].block_size = 4096;
}

static void w_md_mismatch(struct fx *f)
{
	w_paths(f);
	f->bdevs[0].md_size = 8;
}

static void w_no_superblock_room(struct fx *f)
{
	w_paths(f);
	f->bdevs[0].num_blocks = f->bdevs[1].num_blocks = (16ULL << 20) / 512;
}

static void w_addr_nowhere(struct fx *f)
{
	w_fresh(f);
	f->addrs[0].ifname[0] = '\0';
}

static void w_if_down(struct fx *f)
{
	w_fresh(f);
	f->addrs[0].if_up = false;
}

static void w_no_rdma_ips(struct fx *f)
{
	w_fresh(f);
	f->hf.n_src_addrs = 0;
}

static void w_key(struct fx *f)
{
	w_fresh(f);
	for (int i = 0; i < 2; i++) {
		snprintf(f->vols[0].replicas[i].key_name, MODEL_KEY_MAX, "node%d", i);
		snprintf(f->vols[0].replicas[i].key_path, MODEL_PATH_MAX, "/etc/de/keys/node%d", i);
	}
}

static void w_conflict_ctrlr(struct fx *f)
{
	char name[MODEL_NAME_MAX];

	w_fresh(f);
	fx_ctrlr_name(&f->vols[0], 0, name, sizeof(name));
	fx_obs_ctrlr(f, name, TRANSPORT_RDMA, "10.0.1.1", "4420", "nqn.2024-01.io.other:x");
}

static void w_conflict_path_owner(struct fx *f)
{
	w_fresh(f);
	fx_obs_ctrlr(f, "Nvme0", TRANSPORT_RDMA, "10.0.1.1", "4420", f->vols[0].replicas[0].nqn);
}

static void w_conflict_raid(struct fx *f)
{
	w_raid_assigned(f);
	snprintf(f->rbases[0][1].name, MODEL_NAME_MAX, "Malloc0");
}

static void w_conflict_vhost(struct fx *f)
{
	w_attached(f);
	snprintf(f->vhosts[0].bdev, MODEL_NAME_MAX, "Malloc0");
}

static void w_lost_member_back(struct fx *f)
{
	w_attached(f);
	f->rbases[0][1].has_name = false;
	f->rbases[0][1].is_configured = false;
	f->raids[0].operational = f->raids[0].discovered = 1;
	f->bdevs[1].claimed = false;
}

static void w_lost_member_gone(struct fx *f)
{
	/* Controller and bdev vanished after ctrlr_loss_timeout: SPDK never re-attaches. */
	w_lost_member_back(f);
	f->nc = 1;
	memmove(&f->bdevs[1], &f->bdevs[2], (f->nb - 2) * sizeof(f->bdevs[0]));
	f->nb--;
}

static void w_degraded_vhost_null(struct fx *f)
{
	w_lost_member_gone(f);
	f->vhosts[0].has_bdev = false;
}

static void w_rebuilding(struct fx *f)
{
	w_attached(f);
	f->vols[0].replicas[1].in_sync = false;
	/* the survivor's generation went above the lost member's when it left */
	f->vols[0].replicas[0].generation = 4;
	f->vols[0].replicas[1].generation = 3;
	f->raids[0].has_process = true;
	fx_copy(f->raids[0].process_target, MODEL_NAME_MAX, f->bdevs[1].name);
}

static void w_rebuilt(struct fx *f)
{
	w_rebuilding(f);
	f->raids[0].has_process = false;
}

static void w_reconnecting(struct fx *f)
{
	w_attached(f);
	f->paths[1][0].state = CTRLR_RECONNECT_DELAYED;
}

static void w_resetting(struct fx *f)
{
	w_vhost_null(f);
	f->paths[0][0].state = CTRLR_RESETTING;
}

static void w_stale_path(struct fx *f)
{
	w_attached(f);
	f->paths[0][1] = f->paths[0][0];
	snprintf(f->paths[0][1].traddr, MODEL_ADDR_MAX, "10.0.9.9");
	f->ctrls[0].n_paths = 2;
}

static void w_reassemble(struct fx *f)
{
	w_paths(f);
	f->vols[0].raid_created = true;
	fx_seen(f, f->bdevs[0].name, f->o.now_s - 1);
	fx_seen(f, f->bdevs[1].name, f->o.now_s - 2);
}

static void w_reassemble_stuck(struct fx *f)
{
	w_paths(f);
	f->vols[0].raid_created = true;
	fx_seen(f, f->bdevs[0].name, f->o.now_s - 600);
	fx_seen(f, f->bdevs[1].name, f->o.now_s - 600);
}

/* Stopped in order with both in sync: the superblocks cannot be read, a new raid loses nothing. */
static void w_reassemble_stuck_clean(struct fx *f)
{
	w_reassemble_stuck(f);
	f->vols[0].clean_stop = true;
}

/* Stopped in order, but one member missed writes since: an operator decides. */
static void w_reassemble_stuck_clean_stale(struct fx *f)
{
	w_reassemble_stuck_clean(f);
	f->vols[0].replicas[1].in_sync = false;
}

/* The raid assembled after a clean stop: the mark goes. */
static void w_attached_after_clean_stop(struct fx *f)
{
	w_attached(f);
	f->vols[0].clean_stop = true;
}

/* Teardown of a whole raid with both members in sync: an orderly stop. */
static void w_teardown_whole(struct fx *f)
{
	w_attached(f);
	f->maps[0].state = MAPPING_DETACH_REQUESTED;
	f->nvh = 0; /* vhost gone */
}

/* Teardown of a degraded raid: not a clean stop. */
static void w_teardown_degraded(struct fx *f)
{
	w_teardown_whole(f);
	f->rbases[0][1].has_name = false;
	f->rbases[0][1].is_configured = false;
	f->raids[0].operational = 1;
}

static void w_configuring(struct fx *f)
{
	w_raid_assigned(f);
	snprintf(f->raids[0].state, MODEL_STATE_MAX, "configuring");
	f->raids[0].discovered = 1;
	f->rbases[0][1].is_configured = false;
	f->nb--; /* a configuring raid is no bdev yet */
}

static void w_out_of_sync_create(struct fx *f)
{
	w_paths(f);
	f->vols[0].replicas[1].in_sync = false;
}

static void w_pcie(struct fx *f)
{
	struct replica *r;

	w_fresh(f);
	r = &f->vols[0].replicas[0];
	r->transport = TRANSPORT_PCIE;
	snprintf(r->addr, sizeof(r->addr), "0000:82:00.0");
	r->nqn[0] = '\0';
	r->port = 0;
	snprintf(f->devs[0].bdf, sizeof(f->devs[0].bdf), "0000:82:00.0");
	f->nd = 1;
	snprintf(f->pci[0].bdf, sizeof(f->pci[0].bdf), "0000:82:00.0");
	snprintf(f->pci[0].driver, sizeof(f->pci[0].driver), "vfio-pci");
	f->pci[0].iommu_group = 12;
	f->hf.n_pci = 1;
}

static void w_pcie_kernel(struct fx *f)
{
	w_pcie(f);
	snprintf(f->pci[0].driver, sizeof(f->pci[0].driver), "nvme");
	f->pci[0].has_mount = true;
	snprintf(f->pci[0].mount_example, HOST_PATH_MAX, "/dev/nvme0n1p1 on /data");
}

/* vfio-pci, yet a partition is still held by device-mapper */
static void w_pcie_holder(struct fx *f)
{
	w_pcie(f);
	f->pci[0].has_holder = true;
	snprintf(f->pci[0].holder_example, HOST_PATH_MAX, "nvme0n1p1 is held by dm-0");
}

/* uio on a host without an IOMMU: no DMA isolation */
static void w_pcie_uio_noiommu(struct fx *f)
{
	w_pcie(f);
	snprintf(f->pci[0].driver, sizeof(f->pci[0].driver), "uio_pci_generic");
	f->pci[0].iommu_group = -1;
	f->hf.iommu_enabled = false;
}

/* ... which the operator allowed explicitly */
static void w_pcie_uio_allowed(struct fx *f)
{
	w_pcie_uio_noiommu(f);
	f->d.config.allow_unsafe_noiommu = true;
}

static void w_pcie_not_local(struct fx *f)
{
	w_pcie(f);
	f->nd = 0;
}

static void w_unknown_volume(struct fx *f)
{
	fx_mapping(f, 8, 42, MAPPING_ASSIGNED);
}

static void w_pending_attach(struct fx *f)
{
	struct volume *v;
	struct replica *r;

	w_attached(f);
	v = &f->vols[0];
	r = &v->replicas[2];
	*r = v->replicas[0];
	r->pending = true;
	snprintf(r->nqn, sizeof(r->nqn), "nqn.2024-01.io.test:vol1-0-grown");
	v->n_replicas = 3;
	v->size_bytes = 32ULL << 20;
}

static void w_pending_bad_block(struct fx *f)
{
	struct obs_bdev *b;

	w_pending_attach(f);
	b = fx_obs_replica(f, &f->vols[0], 2);
	b->block_size = 4096;
	b->num_blocks = 16384;
}

static void w_pending_too_small(struct fx *f)
{
	struct obs_bdev *b;

	w_pending_attach(f);
	b = fx_obs_replica(f, &f->vols[0], 2);
	b->num_blocks = (32ULL << 20) / 512; /* no room for the 2048-block data offset */
}

static void w_pending_ok(struct fx *f)
{
	w_pending_attach(f);
	fx_obs_replica(f, &f->vols[0], 2)->num_blocks = (32ULL << 20) / 512 + 2048;
}

static void w_pending_rebuilt(struct fx *f)
{
	w_pending_ok(f);
	fx_bdev_name(&f->vols[0], 2, f->rbases[0][0].name, MODEL_NAME_MAX);
}

static void w_pending_rebuilding(struct fx *f)
{
	w_pending_rebuilt(f);
	f->raids[0].has_process = true;
	snprintf(f->raids[0].process_target, MODEL_NAME_MAX, "%s", f->rbases[0][0].name);
}

static void w_pending_degraded(struct fx *f)
{
	w_pending_ok(f);
	f->raids[0].operational = 1;
}

/* No pending replica left, the raid serves the volume's size: the resize is over. */
static void w_resize_grown(struct fx *f)
{
	w_attached(f);
	f->vols[0].resizing = true;
}

/* The raid has not grown yet (and SPDK lost the vhost meanwhile): wait, but keep serving. */
static void w_resize_waits_vhost_gone(struct fx *f)
{
	w_attached(f);
	f->vols[0].resizing = true;
	f->vols[0].size_bytes = 32ULL << 20;
	fx_remove_vhost(f, "vhost7");
}

/* A mismatching pending namespace stops the resize, not the volume. */
static void w_pending_bad_block_vhost_gone(struct fx *f)
{
	w_pending_bad_block(f);
	fx_remove_vhost(f, "vhost7");
}

static void w_unknown_volume_leaving(struct fx *f)
{
	struct volume tmp = {.id = 42, .size_bytes = 1 << 20, .n_replicas = 2};

	for (unsigned s = 0; s < 2; s++) {
		tmp.replicas[s].slot = s;
		snprintf(tmp.replicas[s].nqn, MODEL_NQN_MAX, "nqn.gone:%u", s);
	}
	fx_mapping(f, 8, 42, MAPPING_DETACH_REQUESTED);
	fx_obs_raid(f, &tmp);
	fx_obs_vhost(f, 8, "raid_42");
}

static void w_unknown_volume_vhost_gone(struct fx *f)
{
	w_unknown_volume_leaving(f);
	f->nvh = 0;
}

static void w_second_mapping_leaves(struct fx *f)
{
	w_attached(f);
	fx_mapping(f, 9, 1, MAPPING_DETACH_REQUESTED);
	fx_obs_vhost(f, 9, "raid_1")->sessions = 0;
}

static void w_second_mapping_gone(struct fx *f)
{
	w_second_mapping_leaves(f);
	f->nvh = 1;
}

static void w_foreign_vhost_on_leaving_raid(struct fx *f)
{
	w_attached(f);
	f->maps[0].state = MAPPING_DETACH_REQUESTED;
	fx_copy(f->vhosts[0].name, MODEL_NAME_MAX, "operator_vhost");
}

/* --- the table -------------------------------------------------------------------------- */

static const struct rule_case cases[] = {
	/* the volume's chain goes on once both attaches answered: checked, created, served */
	{"fresh volume: both replicas attach together, the raid follows",
	 w_fresh,
	 {{ACTION_ATTACH_PATH, "$c0", 0},
	  {ACTION_ATTACH_PATH, "$c1", 0},
	  {ACTION_AWAIT_PATH, "path:$c0", 0},
	  {ACTION_AWAIT_PATH, "path:$c1", 0},
	  {ACTION_CHECK_MEMBERS, "raid_1", 0},
	  {ACTION_CREATE_RAID, "raid_1", 1},
	  {ACTION_MAPPING_ADVANCE, NULL, 2},
	  {ACTION_CREATE_VHOST, "vhost7", 3},
	  {ACTION_MAPPING_ADVANCE, NULL, 4}},
	 9},
	{"paths present: raid created, then served",
	 w_paths,
	 {{ACTION_CREATE_RAID, "raid_1", 0},
	  {ACTION_MAPPING_ADVANCE, NULL, 1},
	  {ACTION_CREATE_VHOST, "vhost7", 2},
	  {ACTION_MAPPING_ADVANCE, NULL, 3}},
	 4},
	{"raid exists: ASSIGNED -> INITIALISED, then the vhost",
	 w_raid_assigned,
	 {{ACTION_MAPPING_ADVANCE, NULL, 0},
	  {ACTION_CREATE_VHOST, "vhost7", 1},
	  {ACTION_MAPPING_ADVANCE, NULL, 2}},
	 3},
	{"snapshot source, raid there: checked and recorded, then served",
	 w_snapshot,
	 {{ACTION_INIT_CHECK_RAID, "raid_1", 0},
	  {ACTION_MAPPING_ADVANCE, NULL, 1},
	  {ACTION_CREATE_VHOST, "vhost7", 2},
	  {ACTION_MAPPING_ADVANCE, NULL, 3}},
	 4},
	{"snapshot clones: verified, wipe marked, wiped, raid, served",
	 w_snap_clones,
	 {{ACTION_INIT_VERIFY, "$c0", 0},
	  {ACTION_INIT_VERIFY, "$c1", 0},
	  {ACTION_INIT_MARK_WIPED, "raid_1", 1},
	  {ACTION_INIT_WIPE, "$c0", 2},
	  {ACTION_INIT_WIPE, "$c1", 2},
	  {ACTION_CREATE_RAID, "raid_1", 3},
	  {ACTION_MAPPING_ADVANCE, NULL, 4},
	  {ACTION_CREATE_VHOST, "vhost7", 5},
	  {ACTION_MAPPING_ADVANCE, NULL, 6}},
	 9},
	{"snapshot clones after a crash mid-wipe: verified, wiped again, no second mark",
	 w_snap_clones_wiped,
	 {{ACTION_INIT_VERIFY, "$c0", 0},
	  {ACTION_INIT_VERIFY, "$c1", 0},
	  {ACTION_INIT_WIPE, "$c0", 1},
	  {ACTION_INIT_WIPE, "$c1", 1},
	  {ACTION_CREATE_RAID, "raid_1", 2},
	  {ACTION_MAPPING_ADVANCE, NULL, 3},
	  {ACTION_CREATE_VHOST, "vhost7", 4},
	  {ACTION_MAPPING_ADVANCE, NULL, 5}},
	 8},
	{"snapshot volume that was ever ATTACHED: no verify, no wipe",
	 w_snap_ever_attached,
	 {{ACTION_CREATE_RAID, "raid_1", 0},
	  {ACTION_MAPPING_ADVANCE, NULL, 1},
	  {ACTION_CREATE_VHOST, "vhost7", 2},
	  {ACTION_MAPPING_ADVANCE, NULL, 3}},
	 4},
	{"snapshot source not recorded: status only",
	 w_snap_unrecorded,
	 {{ACTION_SET_STATUS, NULL, -1}},
	 1},
	{"snapshot clone claimed by something: conflict, nothing wiped",
	 w_snap_claimed,
	 {{ACTION_REPORT_CONFLICT, NULL, -1}},
	 1},
	{"INITIALISED: qos, vhost, ATTACHED",
	 w_initialised_qos,
	 {{ACTION_SET_QOS, "raid_1", 0},
	  {ACTION_CREATE_VHOST, "vhost7", 1},
	  {ACTION_MAPPING_ADVANCE, NULL, 2}},
	 3},
	{"attached and healthy: nothing", w_attached, {{0}}, 0},
	{"qos rounded by SPDK: nothing", w_qos_rounded, {{0}}, 0},
	{"vhost with bdev null: delete, re-create",
	 w_vhost_null,
	 {{ACTION_DELETE_VHOST, "vhost7", 0}, {ACTION_CREATE_VHOST, "vhost7", 1}},
	 2},
	{"block size mismatch: status only", w_geometry, {{ACTION_SET_STATUS, NULL, -1}}, 1},
	{"md size mismatch: status only", w_md_mismatch, {{ACTION_SET_STATUS, NULL, -1}}, 1},
	{"no room for the superblock: status only",
	 w_no_superblock_room,
	 {{ACTION_SET_STATUS, NULL, -1}},
	 1},
	{"source address on no interface", w_addr_nowhere, {{ACTION_SET_STATUS, NULL, -1}}, 1},
	{"source interface down", w_if_down, {{ACTION_SET_STATUS, NULL, -1}}, 1},
	{"RDMA_IPS empty", w_no_rdma_ips, {{ACTION_SET_STATUS, NULL, -1}}, 1},
	{"DH-HMAC-CHAP keys before attach",
	 w_key,
	 {{ACTION_ADD_KEY, "de_key_node0", 0},
	  {ACTION_ATTACH_PATH, "$c0", 1},
	  {ACTION_ADD_KEY, "de_key_node1", 0},
	  {ACTION_ATTACH_PATH, "$c1", 1},
	  {ACTION_AWAIT_PATH, "path:$c0", 0},
	  {ACTION_AWAIT_PATH, "path:$c1", 0},
	  {ACTION_CHECK_MEMBERS, "raid_1", 0},
	  {ACTION_CREATE_RAID, "raid_1", 1},
	  {ACTION_MAPPING_ADVANCE, NULL, 2},
	  {ACTION_CREATE_VHOST, "vhost7", 3},
	  {ACTION_MAPPING_ADVANCE, NULL, 4}},
	 11},
	{"our controller name, other subsystem",
	 w_conflict_ctrlr,
	 {{ACTION_REPORT_CONFLICT, "$c0", -1}},
	 1},
	{"our path under a foreign controller",
	 w_conflict_path_owner,
	 {{ACTION_REPORT_CONFLICT, "Nvme0", -1}},
	 1},
	{"our raid with a foreign base",
	 w_conflict_raid,
	 {{ACTION_REPORT_CONFLICT, "raid_1", -1}},
	 1},
	{"our vhost serving another bdev",
	 w_conflict_vhost,
	 {{ACTION_REPORT_CONFLICT, "vhost7", -1}},
	 1},
	{"lost member back: marked out of sync, re-added",
	 w_lost_member_back,
	 {{ACTION_REPLICA_SET_SYNC, "$b1", 0},
	  {ACTION_REPLICA_SET_SYNC, "$b0", 0},
	  {ACTION_SET_STATUS, NULL, -1},
	  {ACTION_ADD_RAID_BASE, "raid_1", 0}},
	 4},
	{"lost member's controller gone: re-attached",
	 w_lost_member_gone,
	 {{ACTION_ATTACH_PATH, "$c1", 0},
	  {ACTION_REPLICA_SET_SYNC, "$b1", 0},
	  {ACTION_REPLICA_SET_SYNC, "$b0", 0},
	  {ACTION_SET_STATUS, NULL, -1}},
	 4},
	{"degraded raid still serves: vhost re-created",
	 w_degraded_vhost_null,
	 {{ACTION_ATTACH_PATH, "$c1", 0},
	  {ACTION_REPLICA_SET_SYNC, "$b1", 0},
	  {ACTION_REPLICA_SET_SYNC, "$b0", 0},
	  {ACTION_SET_STATUS, NULL, -1},
	  {ACTION_DELETE_VHOST, "vhost7", 0},
	  {ACTION_CREATE_VHOST, "vhost7", 1}},
	 6},
	{"rebuild running: not in sync yet", w_rebuilding, {{0}}, 0},
	{"rebuild done: marked in sync, both at a new generation",
	 w_rebuilt,
	 {{ACTION_REPLICA_SET_SYNC, "$b0", 0}, {ACTION_REPLICA_SET_SYNC, "$b1", 0}},
	 2},
	{"path reconnecting: left to SPDK", w_reconnecting, {{0}}, 0},
	{"controller resetting: no change", w_resetting, {{0}}, 0},
	{"stale second path: detached", w_stale_path, {{ACTION_DETACH_PATH, "$c0", 0}}, 1},
	{"superblock raid: wait for re-assembly, then served",
	 w_reassemble,
	 {{ACTION_WAIT_RAID_ASSEMBLY, "raid_1", 0},
	  {ACTION_MAPPING_ADVANCE, NULL, 1},
	  {ACTION_CREATE_VHOST, "vhost7", 2},
	  {ACTION_MAPPING_ADVANCE, NULL, 3}},
	 4},
	{"superblock raid never came back: ask",
	 w_reassemble_stuck,
	 {{ACTION_SET_STATUS, NULL, -1}},
	 1},
	{"superblocks unreadable after a clean stop: created again",
	 w_reassemble_stuck_clean,
	 {{ACTION_CREATE_RAID, "raid_1", 0},
	  {ACTION_SET_CLEAN_STOP, "raid_1", 1},
	  {ACTION_MAPPING_ADVANCE, NULL, 1},
	  {ACTION_CREATE_VHOST, "vhost7", 2},
	  {ACTION_MAPPING_ADVANCE, NULL, 3}},
	 5},
	{"superblocks unreadable, a member stale since the clean stop: ask",
	 w_reassemble_stuck_clean_stale,
	 {{ACTION_SET_STATUS, NULL, -1}},
	 1},
	{"raid assembled: clean-stop mark cleared",
	 w_attached_after_clean_stop,
	 {{ACTION_SET_CLEAN_STOP, "raid_1", 0}},
	 1},
	/* each layer after the one above in the same chain: a success means gone */
	{"teardown of a whole raid: deleted, a clean stop, controllers, DETACHED",
	 w_teardown_whole,
	 {{ACTION_DELETE_RAID, "raid_1", 0},
	  {ACTION_SET_CLEAN_STOP, "raid_1", 1},
	  {ACTION_DETACH_CONTROLLER, "$c0", 2},
	  {ACTION_DETACH_CONTROLLER, "$c1", 2},
	  {ACTION_MAPPING_ADVANCE, NULL, 3}},
	 5},
	{"teardown of a degraded raid: no clean stop",
	 w_teardown_degraded,
	 {{ACTION_DELETE_RAID, "raid_1", 0},
	  {ACTION_DETACH_CONTROLLER, "$c0", 1},
	  {ACTION_DETACH_CONTROLLER, "$c1", 1},
	  {ACTION_MAPPING_ADVANCE, NULL, 2}},
	 4},
	{"raid configuring, members present: wait, then served",
	 w_configuring,
	 {{ACTION_WAIT_RAID_ASSEMBLY, "raid_1", 0},
	  {ACTION_MAPPING_ADVANCE, NULL, 1},
	  {ACTION_CREATE_VHOST, "vhost7", 2},
	  {ACTION_MAPPING_ADVANCE, NULL, 3}},
	 4},
	{"missed writes and no raid: ask",
	 w_out_of_sync_create,
	 {{ACTION_SET_STATUS, NULL, -1}},
	 1},
	{"PCIe: attach without multipath",
	 w_pcie,
	 {{ACTION_ATTACH_PATH, "de_pci_0000_82_00_0", 0},
	  {ACTION_ATTACH_PATH, "$c1", 0},
	  {ACTION_AWAIT_PATH, "path:de_pci_0000_82_00_0", 0},
	  {ACTION_AWAIT_PATH, "path:$c1", 0},
	  {ACTION_CHECK_MEMBERS, "raid_1", 0},
	  {ACTION_CREATE_RAID, "raid_1", 1},
	  {ACTION_MAPPING_ADVANCE, NULL, 2},
	  {ACTION_CREATE_VHOST, "vhost7", 3},
	  {ACTION_MAPPING_ADVANCE, NULL, 4}},
	 9},
	{"PCIe on uio without IOMMU, allowed: attached",
	 w_pcie_uio_allowed,
	 {{ACTION_ATTACH_PATH, "de_pci_0000_82_00_0", 0},
	  {ACTION_ATTACH_PATH, "$c1", 0},
	  {ACTION_AWAIT_PATH, "path:de_pci_0000_82_00_0", 0},
	  {ACTION_AWAIT_PATH, "path:$c1", 0},
	  {ACTION_CHECK_MEMBERS, "raid_1", 0},
	  {ACTION_CREATE_RAID, "raid_1", 1},
	  {ACTION_MAPPING_ADVANCE, NULL, 2},
	  {ACTION_CREATE_VHOST, "vhost7", 3},
	  {ACTION_MAPPING_ADVANCE, NULL, 4}},
	 9},
	{"PCIe bound to kernel nvme: status", w_pcie_kernel, {{ACTION_SET_STATUS, NULL, -1}}, 1},
	{"PCIe not a local device: status", w_pcie_not_local, {{ACTION_SET_STATUS, NULL, -1}}, 1},
	{"PCIe held by the kernel: status", w_pcie_holder, {{ACTION_SET_STATUS, NULL, -1}}, 1},
	{"PCIe on uio without IOMMU: status",
	 w_pcie_uio_noiommu,
	 {{ACTION_SET_STATUS, NULL, -1}},
	 1},
	{"mapping of an unknown volume", w_unknown_volume, {{ACTION_SET_STATUS, NULL, -1}}, 1},
	{"leaving mapping of a vanished volume: vhost first, then the raid",
	 w_unknown_volume_leaving,
	 {{ACTION_DELETE_VHOST, "vhost8", 0},
	  {ACTION_DELETE_RAID, "raid_42", 1},
	  {ACTION_MAPPING_ADVANCE, NULL, 2}},
	 3},
	{"vanished volume, vhost gone: raid next",
	 w_unknown_volume_vhost_gone,
	 {{ACTION_DELETE_RAID, "raid_42", 0}, {ACTION_MAPPING_ADVANCE, NULL, 1}},
	 2},
	{"one of two mappings leaves: only its vhost, then DETACHED",
	 w_second_mapping_leaves,
	 {{ACTION_DELETE_VHOST, "vhost9", 0}, {ACTION_MAPPING_ADVANCE, NULL, 1}},
	 2},
	{"one of two mappings left: DETACHED, raid stays",
	 w_second_mapping_gone,
	 {{ACTION_MAPPING_ADVANCE, NULL, 0}},
	 1},
	{"foreign vhost serves the raid: teardown waits",
	 w_foreign_vhost_on_leaving_raid,
	 {{ACTION_SET_STATUS, NULL, -1}},
	 1},
	{"resize: pending namespace attached first",
	 w_pending_attach,
	 {{ACTION_ATTACH_PATH, NULL, 0}},
	 1},
	{"resize: pending block size differs",
	 w_pending_bad_block,
	 {{ACTION_SET_STATUS, NULL, -1}},
	 1},
	{"resize: pending has no room for offset",
	 w_pending_too_small,
	 {{ACTION_SET_STATUS, NULL, -1}},
	 1},
	{"resize: swap slot 0",
	 w_pending_ok,
	 {{ACTION_REMOVE_RAID_BASE, "raid_1", 0}, {ACTION_ADD_RAID_BASE, "raid_1", 1}},
	 2},
	{"resize: rebuilt, promoted", w_pending_rebuilt, {{ACTION_REPLICA_PROMOTE, NULL, 0}}, 1},
	{"resize: rebuild running, waits", w_pending_rebuilding, {{0}}, 0},
	{"resize: raid degraded, no member removed", w_pending_degraded, {{0}}, 0},
	{"resize: raid serves the new size, finished",
	 w_resize_grown,
	 {{ACTION_RESIZE_FINISH, "raid_1", 0}},
	 1},
	{"resize: raid not grown yet, waits; the lost vhost comes back",
	 w_resize_waits_vhost_gone,
	 {{ACTION_SET_STATUS, NULL, -1}, {ACTION_CREATE_VHOST, "vhost7", -1}},
	 2},
	{"resize stopped by geometry; the lost vhost comes back",
	 w_pending_bad_block_vhost_gone,
	 {{ACTION_SET_STATUS, NULL, -1}, {ACTION_CREATE_VHOST, "vhost7", -1}},
	 2},
};

static bool run_case(const struct rule_case *c)
{
	const struct plan *p;
	char obj[MODEL_NAME_MAX];
	bool ok;

	fx_init(&F);
	c->setup(&F);
	p = fx_plan(&F);
	ok = p->n_actions == c->n_want;
	for (size_t i = 0; ok && i < c->n_want; i++) {
		const struct action *a = &p->actions[i];

		ok = a->kind == c->want[i].kind;
		if (ok && c->want[i].object) {
			resolve(&F, c->want[i].object, obj, sizeof(obj));
			ok = strcmp(a->object, obj) == 0;
		}
		if (ok && c->want[i].step >= 0)
			ok = a->step == (unsigned)c->want[i].step;
	}
	if (!ok) {
		fprintf(stderr, "case '%s': got\n", c->name);
		fx_dump(p);
	}
	fx_done(&F);
	return ok;
}

static void test_rule_table(void **state)
{
	size_t bad = 0;

	/* every case runs, so one failure shows every rule that changed */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		bad += !run_case(&cases[i]);
	assert_int_equal(bad, 0);
}

/* Messages must name what is wrong. */
static void expect_status(void (*setup)(struct fx *), const char *needle)
{
	const struct action *a;

	fx_init(&F);
	setup(&F);
	a = fx_find(fx_plan(&F), ACTION_SET_STATUS, NULL);
	assert_non_null(a);
	if (!strstr(a->message, needle))
		fprintf(stderr, "message '%s' lacks '%s'\n", a->message, needle);
	assert_non_null(strstr(a->message, needle));
	fx_done(&F);
}

static void test_status_messages(void **state)
{
	expect_status(w_addr_nowhere, "10.0.0.1");
	expect_status(w_addr_nowhere, "not configured on any interface");
	expect_status(w_if_down, "interface ib0");
	expect_status(w_no_rdma_ips, "RDMA_IPS is empty");
	expect_status(w_geometry, "4096-byte blocks");
	expect_status(w_no_superblock_room, "raid superblock");
	expect_status(w_snap_unrecorded, "not recorded");
	expect_status(w_pcie_kernel, "bound to nvme");
	expect_status(w_pcie_kernel, "/data");
	expect_status(w_pcie_holder, "held by dm-0");
	expect_status(w_pcie_uio_noiommu, "--allow-unsafe-noiommu");
	expect_status(w_pending_bad_block, "resize stopped");
	expect_status(w_resize_waits_vhost_gone, "serves 16777216 of 33554432 bytes");
	expect_status(w_reassemble_stuck, "operator decision");
	expect_status(w_out_of_sync_create, "missed writes");
	expect_status(w_unknown_volume, "volume 42");
}

static void test_attach_parameters(void **state)
{
	const struct action *a;
	char c0[MODEL_NAME_MAX];

	fx_init(&F);
	w_key(&F);
	fx_ctrlr_name(&F.vols[0], 0, c0, sizeof(c0));
	a = fx_find(fx_plan(&F), ACTION_ATTACH_PATH, c0);
	assert_non_null(a);
	assert_string_equal(a->path.trtype, "RDMA");
	assert_string_equal(a->path.traddr, "10.0.1.1");
	assert_string_equal(a->path.trsvcid, "4420");
	assert_string_equal(a->path.adrfam, "IPv4");
	assert_string_equal(a->path.subnqn, "nqn.2024-01.io.test:vol1-0");
	assert_string_equal(a->path.hostnqn, "nqn.2024-01.io.diskengine:host1");
	assert_string_equal(a->path.hostaddr, "10.0.0.1");
	assert_true(a->path.multipath);
	assert_int_equal(a->path.reconnect_delay_s, 1);
	assert_int_equal(a->path.ctrlr_loss_s, 10);
	assert_int_equal(a->path.fast_io_fail_s, 0);
	assert_string_equal(a->path.dhchap_key, "de_key_node0");
	a = fx_find(&F.p, ACTION_ADD_KEY, "de_key_node0");
	assert_string_equal(a->key.path, "/etc/de/keys/node0");
	fx_done(&F);

	/* PCIe: the BDF is the identity, nothing of fabrics. */
	fx_init(&F);
	w_pcie(&F);
	a = fx_find(fx_plan(&F), ACTION_ATTACH_PATH, "de_pci_0000_82_00_0");
	assert_non_null(a);
	assert_string_equal(a->path.trtype, "PCIe");
	assert_string_equal(a->path.traddr, "0000:82:00.0");
	assert_false(a->path.multipath);
	assert_string_equal(a->path.subnqn, "");
	assert_string_equal(a->path.hostaddr, "");
	fx_done(&F);

	/* A second, usable source address is taken when the first one's interface is down. */
	fx_init(&F);
	w_if_down(&F);
	F.addrs[1] = F.addrs[0];
	snprintf(F.addrs[1].addr, HOST_ADDR_MAX, "10.0.0.2");
	snprintf(F.addrs[1].ifname, HOST_IFNAME_MAX, "ib1");
	F.addrs[1].if_up = true;
	F.hf.n_src_addrs = 2;
	a = fx_find(fx_plan(&F), ACTION_ATTACH_PATH, NULL);
	assert_non_null(a);
	assert_string_equal(a->path.hostaddr, "10.0.0.2");
	fx_done(&F);
}

static void test_create_raid_parameters(void **state)
{
	const struct action *a;
	char b0[MODEL_NAME_MAX], b1[MODEL_NAME_MAX];

	fx_init(&F);
	w_paths(&F);
	fx_bdev_name(&F.vols[0], 0, b0, sizeof(b0));
	fx_bdev_name(&F.vols[0], 1, b1, sizeof(b1));
	a = fx_find(fx_plan(&F), ACTION_CREATE_RAID, "raid_1");
	assert_non_null(a);
	assert_int_equal(a->raid.n_bases, 2);
	assert_string_equal(a->raid.bases[0], b0);
	assert_string_equal(a->raid.bases[1], b1);
	assert_true(a->raid.superblock);
	fx_done(&F);

	fx_init(&F);
	w_initialised_qos(&F);
	a = fx_find(fx_plan(&F), ACTION_SET_QOS, "raid_1");
	assert_int_equal(a->qos.rw_ios_per_sec, 1500);
	assert_int_equal(a->qos.w_mbytes_per_sec, 100);
	a = fx_find(&F.p, ACTION_CREATE_VHOST, "vhost7");
	assert_string_equal(a->vhost.bdev, "raid_1");
	assert_string_equal(a->vhost.cpumask, "0x2");
	a = fx_find(&F.p, ACTION_MAPPING_ADVANCE, NULL);
	assert_int_equal(a->mapping_id, 7);
	assert_int_equal(a->from, MAPPING_INITIALISED);
	assert_int_equal(a->to, MAPPING_ATTACHED);
	fx_done(&F);
}

static void test_bad_replica_sets(void **state)
{
	fx_init(&F);
	w_fresh(&F);
	F.vols[0].replicas[1].slot = 0;
	assert_int_equal(fx_count(fx_plan(&F), ACTION_ATTACH_PATH), 0);
	assert_non_null(strstr(fx_find(&F.p, ACTION_SET_STATUS, NULL)->message, "two member"));
	fx_done(&F);

	fx_init(&F);
	w_fresh(&F);
	F.vols[0].replicas[1].nqn[0] = '\0';
	assert_non_null(
		strstr(fx_find(fx_plan(&F), ACTION_SET_STATUS, NULL)->message, "NQN is empty"));
	fx_done(&F);

	fx_init(&F);
	w_fresh(&F);
	F.vols[0].n_replicas = 1;
	assert_non_null(
		strstr(fx_find(fx_plan(&F), ACTION_SET_STATUS, NULL)->message, "slots 0 and 1"));
	fx_done(&F);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_table),
		cmocka_unit_test(test_status_messages),
		cmocka_unit_test(test_attach_parameters),
		cmocka_unit_test(test_create_raid_parameters),
		cmocka_unit_test(test_bad_replica_sets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
