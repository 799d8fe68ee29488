/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The executor's steps of a volume filled from a snapshot (plan_initialise.c says why): read a
 * clone's first blocks and check the superblock there, mark the wipe, zero the superblock area
 * with NVMe Write Zeroes, and check and record the raid created over the clones. Commands go to
 * the controller with bdev_nvme_send_cmd: SPDK has no other way to write under a bdev that a
 * raid will claim, and the raw completion tells exactly what the drive (target) did.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/raid_sb.h"
#include "reconcile/exec_ops.h"
#include "rpc/spdk.h"
#include "store/store.h"

#define NVME_OPC_READ 0x02
#define NVME_OPC_WRITE_ZEROES 0x08
#define NVME_NLB_MAX 65536u /* NLB is a 16-bit, 0-based field */
#define SB_READ_BYTES 4096u /* room for the superblock of any raid diskengine makes */

static void sqe_io(unsigned char sqe[64], unsigned opc, uint64_t slba, uint32_t nlb)
{
	memset(sqe, 0, 64);
	sqe[0] = (unsigned char)opc;
	sqe[4] = 1; /* nsid: every namespace bdev diskengine uses is <ctrlr>n1 */
	for (int i = 0; i < 8; i++)
		sqe[40 + i] = (unsigned char)(slba >> (8 * i));
	sqe[48] = (unsigned char)((nlb - 1) & 0xff);
	sqe[49] = (unsigned char)((nlb - 1) >> 8);
}

/* One I/O command; 0, or a message and -EAGAIN (no answer) / -EIO (an error status). */
static int send_io(struct exec_ctx *x, const struct exec_op *op, struct rpc_nvme_cmd *cmd,
		   struct rpc_nvme_cmd_result *res, const char *what, char *errbuf, size_t errlen)
{
	struct rpc_error e = {0};
	char line[512];
	int r;

	cmd->name = op->name;
	cmd->io = true;
	r = rpc_bdev_nvme_send_cmd(x->rpc, cmd, res, &e);
	if (r < 0) {
		snprintf(errbuf, errlen, "volume %lld: %s on %s: %s", (long long)op->volume_id,
			 what, op->name, rpc_error_str(&e, line, sizeof(line)));
		return -EAGAIN;
	}
	if (res->sc || res->sct) {
		snprintf(errbuf, errlen,
			 "volume %lld: %s on %s: NVMe status SCT %u SC 0x%02x; nothing else done",
			 (long long)op->volume_id, what, op->name, res->sct, res->sc);
		free(res->data);
		res->data = NULL;
		return -EIO;
	}
	return 0;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Is sb the source raid's, with the geometry this volume expects? why says what differs. */
static bool sb_fits(const struct exec_op *op, const struct raid_sb_info *sb, char *why, size_t len)
{
	if (strcasecmp(sb->uuid, op->source_uuid) != 0) {
		snprintf(why, len, "the superblock of raid %.64s (uuid %s), not the source's %s",
			 sb->name, sb->uuid, op->source_uuid);
		return false;
	}
	if (sb->block_size != op->block_size || sb->level != 1 || sb->num_base_bdevs != 2) {
		snprintf(why, len,
			 "the source's superblock, but block size %u, raid level %u, %u members "
			 "(want %u, raid1, 2)",
			 sb->block_size, sb->level, sb->num_base_bdevs, op->block_size);
		return false;
	}
	/*
	 * raid_size is the source raid's whole data region (its members' size less data_offset),
	 * not the guest's size: the volume sizes were compared when the volume was created.
	 */
	for (uint8_t i = 0; i < sb->base_bdevs_size; i++) {
		if (sb->base[i].data_offset != op->init_offset) {
			snprintf(why, len,
				 "the source's superblock, but data_offset %" PRIu64 " in slot %u, "
				 "not the recorded %" PRIu64,
				 sb->base[i].data_offset, sb->base[i].slot, op->init_offset);
			return false;
		}
	}
	return true;
}

int exec_init_verify(struct exec_ctx *x, const struct exec_op *op, char *errbuf, size_t errlen)
{
	uint32_t bs = op->block_size ? op->block_size : 512;
	uint32_t nlb = SB_READ_BYTES / bs ? SB_READ_BYTES / bs : 1;
	struct rpc_nvme_cmd cmd = {.c2h = true, .data_len = nlb * bs};
	struct rpc_nvme_cmd_result res = {0};
	struct raid_sb_info *sb = calloc(1, sizeof(*sb));
	char why[384];
	int r;

	if (!sb)
		return -ENOMEM;
	sqe_io(cmd.sqe, NVME_OPC_READ, 0, nlb);
	r = send_io(x, op, &cmd, &res, "reading the superblock area", errbuf, errlen);
	if (r < 0)
		goto out;
	r = -EINVAL;
	if (!res.data || res.data_len < cmd.data_len) {
		snprintf(errbuf, errlen, "volume %lld: reading %s: %zu bytes came back, not %u",
			 (long long)op->volume_id, op->bdev, res.data_len, cmd.data_len);
		r = -EAGAIN;
		goto out;
	}
	switch (raid_sb_decode_spdk(res.data, res.data_len, sb)) {
	case 0:
		if (strcasecmp(sb->uuid, op->uuid) == 0) {
			/* the raid was created over it: SPDK reassembles it; never wiped again */
			snprintf(errbuf, errlen,
				 "volume %lld: %s carries this volume's own raid superblock: the "
				 "raid was created; waiting for SPDK to assemble it",
				 (long long)op->volume_id, op->bdev);
			r = -EAGAIN;
			goto out;
		}
		if (!sb_fits(op, sb, why, sizeof(why)))
			goto refuse;
		r = 0;
		break;
	case -ENODATA:
		if (op->init_wiped && all_zero(res.data, res.data_len)) {
			r = 0; /* this volume's own wipe, before a crash */
			break;
		}
		snprintf(why, sizeof(why), "no raid superblock%s",
			 op->init_wiped ? ""
					: ": not a clone of a snapshot of the source's replica");
		goto refuse;
	default:
		snprintf(why, sizeof(why), "a raid superblock that fails its length or crc check");
		goto refuse;
	}
	log_info("volume %lld: %s carries %s", (long long)op->volume_id, op->bdev,
		 r == 0 && sb->uuid[0] ? "the source raid's superblock" : "zeroes (wiped before)");
	goto out;
refuse:
	snprintf(errbuf, errlen,
		 "volume %lld: initialisation from snapshot stopped: %s carries %s; nothing "
		 "wiped, operator decision needed",
		 (long long)op->volume_id, op->bdev, why);
	r = -EINVAL;
out:
	free(res.data);
	free(sb);
	return r;
}

int exec_init_mark_wiped(struct exec_ctx *x, const struct exec_op *op, char *errbuf, size_t errlen)
{
	struct store_error err = {0};
	int r;

	pthread_mutex_lock(x->store_lock);
	r = store_volume_set_init_wiped(x->store, op->volume_id, &err);
	pthread_mutex_unlock(x->store_lock);
	if (r < 0)
		snprintf(errbuf, errlen, "volume %lld: recording the wipe: %s",
			 (long long)op->volume_id, err.message);
	return r;
}

int exec_init_wipe(struct exec_ctx *x, const struct exec_op *op, char *errbuf, size_t errlen)
{
	uint64_t done = 0;
	int r;

	while (done < op->init_offset) {
		uint64_t left = op->init_offset - done;
		uint32_t n = left > NVME_NLB_MAX ? NVME_NLB_MAX : (uint32_t)left;
		struct rpc_nvme_cmd cmd = {.c2h = false};
		struct rpc_nvme_cmd_result res = {0};

		sqe_io(cmd.sqe, NVME_OPC_WRITE_ZEROES, done, n);
		r = send_io(x, op, &cmd, &res, "Write Zeroes over the superblock area", errbuf,
			    errlen);
		free(res.data);
		if (r < 0)
			return r;
		done += n;
	}
	atomic_fetch_add(&x->mutations, 1);
	log_info("volume %lld: %s: superblock area zeroed (%" PRIu64 " blocks)",
		 (long long)op->volume_id, op->bdev, op->init_offset);
	return 0;
}

int exec_raid_record(struct exec_ctx *x, const struct exec_op *op, char *errbuf, size_t errlen)
{
	struct rpc_raid_list l = {0};
	struct rpc_error e = {0};
	struct store_error err = {0};
	const struct rpc_raid *raid = NULL;
	int64_t off = -1;
	char line[512];
	int r;

	/* by name: a full list after every create would cost raids x raids at provisioning */
	r = rpc_bdev_get_raid(x->rpc, op->name, &l, &e);
	if (r < 0) {
		snprintf(errbuf, errlen, "volume %lld: reading %s back: %s",
			 (long long)op->volume_id, op->name, rpc_error_str(&e, line, sizeof(line)));
		return -EAGAIN;
	}
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i].name && strcmp(l.v[i].name, op->name) == 0)
			raid = &l.v[i];
	for (size_t i = 0; raid && i < raid->n_bases; i++) {
		if (!raid->bases[i].name || !raid->bases[i].is_configured)
			continue;
		if (off >= 0 && raid->bases[i].data_offset != off)
			off = -2; /* members disagree */
		else if (off == -1)
			off = raid->bases[i].data_offset;
	}
	r = 0;
	if (!raid || !raid->uuid || off == -1) {
		snprintf(errbuf, errlen, "volume %lld: %s is not there to record",
			 (long long)op->volume_id, op->name);
		r = -EAGAIN;
	} else if (off < 0 || (op->init_offset && (uint64_t)off != op->init_offset)) {
		snprintf(errbuf, errlen,
			 "volume %lld: %s's data_offset (%" PRId64 ") is not the snapshot source's "
			 "(%" PRIu64 "): the guest would see shifted data; not INITIALISED, "
			 "operator decision needed",
			 (long long)op->volume_id, op->name, off, op->init_offset);
		r = -EINVAL;
	}
	if (r == 0) {
		pthread_mutex_lock(x->store_lock);
		r = store_volume_record_raid(x->store, op->volume_id, raid->uuid, (uint64_t)off,
					     &err);
		pthread_mutex_unlock(x->store_lock);
		if (r < 0)
			snprintf(errbuf, errlen, "volume %lld: recording %s: %s",
				 (long long)op->volume_id, op->name, err.message);
		else
			log_info("volume %lld: %s recorded: uuid %s, data_offset %" PRId64,
				 (long long)op->volume_id, op->name, raid->uuid, off);
	}
	rpc_raid_list_free(&l);
	return r;
}
