/* SPDX-License-Identifier: Apache-2.0 */
#include "reconcile/exec_ops.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "rpc/spdk.h"
#include "reconcile/exec_answer.h"
#include "reconcile/exec_commit.h"
#include "reconcile/exec_verify.h"
#include "reconcile/geometry.h"
#include "store/store.h"

void exec_op_describe(const struct exec_op *op, char *buf, size_t len)
{
	switch (op->kind) {
	case EXEC_OP_ATTACH_PATH:
		if (strcasecmp(op->trtype, "pcie") == 0)
			snprintf(buf, len, "attach %s local drive %s", op->name, op->traddr);
		else
			snprintf(buf, len, "attach %s path %s:%s (%s)", op->name, op->traddr,
				 op->trsvcid, op->subnqn);
		break;
	case EXEC_OP_DETACH_CONTROLLER:
		snprintf(buf, len, "detach controller %s", op->name);
		break;
	case EXEC_OP_CREATE_RAID:
		snprintf(buf, len, "create %s over %s, %s", op->name, op->bases[0],
			 op->n_bases > 1 ? op->bases[1] : "-");
		break;
	case EXEC_OP_WAIT_BDEV:
		snprintf(buf, len, "wait up to %u ms for %s to reassemble", op->wait_ms, op->name);
		break;
	case EXEC_OP_CHECK_MEMBERS:
		snprintf(buf, len, "check %s and %s for %s", op->bases[0], op->bases[1], op->name);
		break;
	case EXEC_OP_INIT_VERIFY:
		snprintf(buf, len, "check the superblock on %s (%s)", op->bdev, op->name);
		break;
	case EXEC_OP_INIT_MARK_WIPED:
		snprintf(buf, len, "mark the clones of %s wiped", op->name);
		break;
	case EXEC_OP_INIT_WIPE:
		snprintf(buf, len, "zero the superblock area of %s (%s)", op->bdev, op->name);
		break;
	case EXEC_OP_INIT_CHECK_RAID:
		snprintf(buf, len, "check and record %s", op->name);
		break;
	case EXEC_OP_ADD_BASE:
		snprintf(buf, len, "re-add %s to %s (rebuild)", op->bases[0], op->name);
		break;
	case EXEC_OP_DELETE_RAID:
		snprintf(buf, len, "delete %s", op->name);
		break;
	case EXEC_OP_SET_QOS:
		snprintf(buf, len, "set QoS on %s", op->name);
		break;
	case EXEC_OP_CREATE_VHOST:
		snprintf(buf, len, "create %s serving %s", op->name, op->bdev);
		break;
	case EXEC_OP_DELETE_VHOST:
		snprintf(buf, len, "delete %s", op->name);
		break;
	case EXEC_OP_ADVANCE_MAPPING:
		snprintf(buf, len, "mapping %lld %s -> %s", (long long)op->mapping_id,
			 store_mapping_state_name(op->from), store_mapping_state_name(op->to));
		break;
	case EXEC_OP_DETACH_PATH:
		snprintf(buf, len, "detach path %s:%s of %s", op->traddr, op->trsvcid, op->name);
		break;
	case EXEC_OP_REMOVE_BASE:
		snprintf(buf, len, "remove %s from %s", op->bases[0], op->name);
		break;
	case EXEC_OP_ADD_KEY:
		snprintf(buf, len, "add key %s (%s)", op->name, op->key_path);
		break;
	case EXEC_OP_REMOVE_KEY:
		snprintf(buf, len, "remove key %s", op->name);
		break;
	case EXEC_OP_REPLICA_SYNC:
		snprintf(buf, len, "replica %lld (%s) %s", (long long)op->replica_id, op->name,
			 op->in_sync ? "in sync" : "missing writes");
		break;
	case EXEC_OP_RESIZE_FINISH:
		snprintf(buf, len, "resize of volume %lld done: %s serves its size",
			 (long long)op->volume_id, op->name);
		break;
	case EXEC_OP_CLEAN_STOP:
		snprintf(buf, len, "%s %s", op->name,
			 op->clean_stop ? "stopped cleanly" : "assembled: not stopped cleanly");
		break;
	case EXEC_OP_REPLICA_PROMOTE:
		snprintf(buf, len, "promote replica %lld (%s) in place of replica %lld",
			 (long long)op->pending_id, op->name, (long long)op->replica_id);
		break;
	}
}

/* The object a log line or error is about. */
static void subject(const struct exec_op *op, char *buf, size_t len)
{
	if (op->volume_id)
		snprintf(buf, len, "volume %lld", (long long)op->volume_id);
	else
		snprintf(buf, len, "%s", op->name);
}

static const char *nz(const char *s)
{
	return s[0] ? s : NULL;
}

static int attach(struct exec_ctx *x, const struct exec_op *op, struct rpc_error *e)
{
	struct rpc_nvme_attach a = RPC_NVME_ATTACH_INIT;
	struct rpc_strv bdevs = {0};
	int r;

	a.name = op->name;
	a.trtype = op->trtype;
	a.traddr = op->traddr;
	a.adrfam = nz(op->adrfam);
	a.trsvcid = nz(op->trsvcid);
	a.subnqn = nz(op->subnqn);
	a.hostaddr = nz(op->hostaddr);
	/* a local drive has no host identity, paths or reconnect policy */
	if (strcasecmp(op->trtype, "pcie") != 0) {
		a.hostnqn = x->hostnqn && x->hostnqn[0] ? x->hostnqn : NULL;
		a.multipath = op->multipath ? "multipath" : NULL;
		a.dhchap_key = nz(op->dhchap_key);
		a.reconnect_delay_sec = x->reconnect_delay_s;
		a.ctrlr_loss_timeout_sec = x->ctrlr_loss_s;
		a.fast_io_fail_timeout_sec = x->fast_io_fail_s;
	}
	r = rpc_bdev_nvme_attach_controller(x->rpc, &a, &bdevs, e);
	rpc_strv_free(&bdevs);
	return r;
}

/* The one SPDK call of op. */
static int spdk_call(struct exec_ctx *x, const struct exec_op *op, struct rpc_error *e)
{
	switch (op->kind) {
	case EXEC_OP_ATTACH_PATH:
		return attach(x, op, e);
	case EXEC_OP_DETACH_PATH: {
		struct rpc_nvme_path_sel sel = {
			.trtype = op->trtype,
			.traddr = op->traddr,
			.trsvcid = nz(op->trsvcid),
			.subnqn = nz(op->subnqn),
		};
		return rpc_bdev_nvme_detach_controller(x->rpc, op->name, &sel, e);
	}
	case EXEC_OP_DETACH_CONTROLLER:
		return rpc_bdev_nvme_detach_controller(x->rpc, op->name, NULL, e);
	case EXEC_OP_CREATE_RAID: {
		const char *bases[2] = {op->bases[0], op->bases[1]};
		struct rpc_raid_create rc = {
			.name = op->name,
			.raid_level = "raid1",
			.base_bdevs = bases,
			.n_base_bdevs = op->n_bases,
			.strip_size_kb = 0,
			.superblock = 1, /* design invariant 5: members know their array */
			.uuid = op->uuid[0] ? op->uuid : NULL, /* proof of ownership */
		};
		return rpc_bdev_raid_create(x->rpc, &rc, e);
	}
	case EXEC_OP_WAIT_BDEV: {
		struct rpc_bdev_list l = {0};
		int r = rpc_bdev_get_bdev(x->rpc, op->name, op->wait_ms, &l, e);
		rpc_bdev_list_free(&l);
		return r;
	}
	case EXEC_OP_ADD_BASE:
		return rpc_bdev_raid_add_base_bdev(x->rpc, op->name, op->bases[0], e);
	case EXEC_OP_REMOVE_BASE:
		return rpc_bdev_raid_remove_base_bdev(x->rpc, op->bases[0], e);
	case EXEC_OP_DELETE_RAID:
		return rpc_bdev_raid_delete(x->rpc, op->name, e);
	case EXEC_OP_SET_QOS: {
		/* every limit sent: 0 lifts one that an earlier definition set */
		struct rpc_qos_limits l = {
			.rw_ios_per_sec = (int64_t)op->rw_iops,
			.rw_mbytes_per_sec = (int64_t)op->rw_mbps,
			.r_mbytes_per_sec = (int64_t)op->r_mbps,
			.w_mbytes_per_sec = (int64_t)op->w_mbps,
		};
		return rpc_bdev_set_qos_limit(x->rpc, op->name, &l, e);
	}
	case EXEC_OP_CREATE_VHOST:
		return rpc_vhost_create_blk_controller(
			x->rpc, op->name, op->bdev, x->cpumask && x->cpumask[0] ? x->cpumask : NULL,
			e);
	case EXEC_OP_DELETE_VHOST:
		return rpc_vhost_delete_controller(x->rpc, op->name, e);
	case EXEC_OP_ADD_KEY:
		return rpc_keyring_file_add_key(x->rpc, op->name, op->key_path, e);
	case EXEC_OP_REMOVE_KEY:
		return rpc_keyring_file_remove_key(x->rpc, op->name, e);
	case EXEC_OP_ADVANCE_MAPPING:
	case EXEC_OP_REPLICA_SYNC:
	case EXEC_OP_REPLICA_PROMOTE:
	case EXEC_OP_RESIZE_FINISH:
	case EXEC_OP_CLEAN_STOP:
	case EXEC_OP_CHECK_MEMBERS:
	case EXEC_OP_INIT_VERIFY:
	case EXEC_OP_INIT_MARK_WIPED:
	case EXEC_OP_INIT_WIPE:
	case EXEC_OP_INIT_CHECK_RAID:
		break;
	}
	return -EINVAL;
}

static bool is_delete(enum exec_op_kind k)
{
	return k == EXEC_OP_DETACH_PATH || k == EXEC_OP_DETACH_CONTROLLER ||
	       k == EXEC_OP_REMOVE_BASE || k == EXEC_OP_DELETE_RAID || k == EXEC_OP_DELETE_VHOST ||
	       k == EXEC_OP_REMOVE_KEY;
}

/* Check an "already exists" answer: is the object there the one we wanted? */
static int check_ours(struct exec_ctx *x, const struct exec_op *op, char *why, size_t len)
{
	struct rpc_error e = {0};
	char line[512];
	int r;

	switch (op->kind) {
	case EXEC_OP_ATTACH_PATH: {
		struct rpc_nvme_ctrlr_list l = {0};
		r = rpc_bdev_nvme_get_controllers(x->rpc, NULL, &l, &e);
		if (r == 0)
			r = exec_verify_controller(&l, op->name, op->subnqn, op->traddr,
						   op->trsvcid, why, len);
		rpc_nvme_ctrlr_list_free(&l);
		break;
	}
	case EXEC_OP_CREATE_RAID:
	case EXEC_OP_ADD_BASE: {
		const char *bases[2] = {op->bases[0], op->bases[1]};
		struct rpc_raid_list l = {0};
		r = rpc_bdev_raid_get_bdevs(x->rpc, RPC_RAID_ALL, &l, &e);
		if (r == 0 && op->kind == EXEC_OP_CREATE_RAID)
			r = exec_verify_raid(&l, op->name, bases, op->n_bases, why, len);
		/* EPERM: already a member (ours), or claimed by something else (conflict) */
		else if (r == 0)
			r = exec_verify_raid_member(&l, op->name, op->bases[0], why, len);
		rpc_raid_list_free(&l);
		break;
	}
	case EXEC_OP_CREATE_VHOST: {
		struct rpc_vhost_list l = {0};
		r = rpc_vhost_get_controllers(x->rpc, &l, &e);
		if (r == 0)
			r = exec_verify_vhost(&l, op->name, op->bdev, why, len);
		rpc_vhost_list_free(&l);
		break;
	}
	case EXEC_OP_ADD_KEY:
		return 0; /* de_key_<node>: the name says whose key it is */
	default:
		return -EINVAL;
	}
	if (e.err) {
		/* could not look: no verdict either way */
		snprintf(why, len, "looking after \"exists\": %s",
			 rpc_error_str(&e, line, sizeof(line)));
		return -EAGAIN;
	}
	if (r == -ENOENT && op->kind == EXEC_OP_CREATE_RAID) {
		/* SPDK says it exists but lists no such raid: a base carries the superblock of
		 * another array. SPDK cannot decide which record wins; neither do we. */
		snprintf(why, len,
			 "%s refused: a base carries another array's superblock; SPDK did not "
			 "assemble it, an operator must decide",
			 op->name);
		return -EEXIST;
	}
	/* Vanished between the answer and the look: try again next pass. */
	return r == -ENOENT ? -EAGAIN : r;
}

/*
 * The planner's checks of a raid's members (unclaimed, geometry), made on the bdevs a path
 * chain attached earlier in this pass, right before the raid is created over them.
 */
static int check_members(struct exec_ctx *x, const struct exec_op *op, char *errbuf,
			 size_t errlen)
{
	struct rpc_bdev_list l[2] = {0};
	struct geometry_member g[2];
	struct rpc_error e = {0};
	char line[512];
	int r = 0;

	for (unsigned i = 0; i < 2 && r == 0; i++) {
		r = rpc_bdev_get_bdev(x->rpc, op->bases[i], RPC_UNSET, &l[i], &e);
		if (r == 0 && l[i].n != 1)
			r = -ENODEV;
		if (r < 0) {
			snprintf(errbuf, errlen, "volume %lld: reading %s: %s",
				 (long long)op->volume_id, op->bases[i],
				 e.err ? rpc_error_str(&e, line, sizeof(line)) : strerror(-r));
			r = -EAGAIN; /* gone since its attach: the next pass sees why */
			break;
		}
		if (l[i].v[0].claimed) {
			snprintf(errbuf, errlen,
				 "volume %lld: conflict: bdev %s is claimed by something other than "
				 "%s (left untouched)",
				 (long long)op->volume_id, op->bases[i], op->name);
			r = -EEXIST;
			break;
		}
		g[i] = (struct geometry_member){op->bases[i], (uint32_t)l[i].v[0].block_size,
						(uint32_t)l[i].v[0].md_size,
						(uint64_t)l[i].v[0].num_blocks};
	}
	if (r == 0 && geometry_check((uint64_t)op->volume_id, op->block_size, op->size_bytes, &g[0],
				     &g[1], errbuf, errlen) < 0)
		r = -EINVAL;
	rpc_bdev_list_free(&l[0]);
	rpc_bdev_list_free(&l[1]);
	return r;
}

static int advance(struct exec_ctx *x, const struct exec_op *op, char *errbuf, size_t errlen)
{
	struct store_error err = {0};
	int r;

	if (x->commit) {
		struct store_transition t = {.kind = STORE_TRANSITION_MAPPING,
					     .id = op->mapping_id,
					     .from = op->from,
					     .to = op->to};
		r = exec_commit_run(x->commit, &t);
		err = t.err;
	} else {
		pthread_mutex_lock(x->store_lock);
		r = store_mapping_advance(x->store, op->mapping_id, op->from, op->to, &err);
		pthread_mutex_unlock(x->store_lock);
	}
	if (r == -ESTALE) {
		/* Someone (an operator's detach) moved it meanwhile: the next pass sees why. */
		snprintf(errbuf, errlen, "mapping %lld: state changed meanwhile (%s)",
			 (long long)op->mapping_id, err.message);
		return -EAGAIN;
	}
	if (r < 0) {
		snprintf(errbuf, errlen, "mapping %lld: %s", (long long)op->mapping_id,
			 err.message);
		return r;
	}
	log_info("mapping %lld (volume %lld): %s -> %s", (long long)op->mapping_id,
		 (long long)op->volume_id, store_mapping_state_name(op->from),
		 store_mapping_state_name(op->to));
	return 0;
}

static int replica_sync(struct exec_ctx *x, const struct exec_op *op, char *errbuf, size_t errlen)
{
	struct store_error err = {0};
	int r;

	pthread_mutex_lock(x->store_lock);
	r = store_replica_set_in_sync(x->store, op->replica_id, op->in_sync, op->generation, &err);
	pthread_mutex_unlock(x->store_lock);
	if (r < 0) {
		snprintf(errbuf, errlen, "volume %lld: replica %lld: %s", (long long)op->volume_id,
			 (long long)op->replica_id, err.message);
		return r;
	}
	log_info("volume %lld: replica %lld (%s) %s, generation %lld", (long long)op->volume_id,
		 (long long)op->replica_id, op->name,
		 op->in_sync ? "holds every write" : "left the raid and misses writes",
		 (long long)op->generation);
	return 0;
}

static int replica_promote(struct exec_ctx *x, const struct exec_op *op, char *errbuf,
			   size_t errlen)
{
	struct store_error err = {0};
	int r;

	pthread_mutex_lock(x->store_lock);
	r = store_replica_promote(x->store, op->volume_id, op->replica_id, op->pending_id, &err);
	pthread_mutex_unlock(x->store_lock);
	if (r < 0) {
		snprintf(errbuf, errlen, "volume %lld: promote replica %lld in place of %lld: %s",
			 (long long)op->volume_id, (long long)op->pending_id,
			 (long long)op->replica_id, err.message);
		return r;
	}
	log_info("volume %lld: replica %lld (%s) rebuilt and promoted; replica %lld removed",
		 (long long)op->volume_id, (long long)op->pending_id, op->name,
		 (long long)op->replica_id);
	return 0;
}

static int resize_finish(struct exec_ctx *x, const struct exec_op *op, char *errbuf, size_t errlen)
{
	struct store_error err = {0};
	int r;

	pthread_mutex_lock(x->store_lock);
	r = store_volume_resize_finish(x->store, op->volume_id, &err);
	pthread_mutex_unlock(x->store_lock);
	if (r < 0) {
		snprintf(errbuf, errlen, "volume %lld: finishing the resize: %s",
			 (long long)op->volume_id, err.message);
		return r;
	}
	log_info("volume %lld: resize done, %s serves the new size; volume READY",
		 (long long)op->volume_id, op->name);
	return 0;
}

static int clean_stop(struct exec_ctx *x, const struct exec_op *op, char *errbuf, size_t errlen)
{
	struct store_error err = {0};
	int r;

	if (x->commit) {
		struct store_transition t = {.kind = STORE_TRANSITION_CLEAN_STOP,
					     .id = op->volume_id,
					     .clean = op->clean_stop};
		r = exec_commit_run(x->commit, &t);
		err = t.err;
	} else {
		pthread_mutex_lock(x->store_lock);
		r = store_volume_set_clean_stop(x->store, op->volume_id, op->clean_stop, &err);
		pthread_mutex_unlock(x->store_lock);
	}
	if (r < 0) {
		snprintf(errbuf, errlen, "volume %lld: recording clean stop: %s",
			 (long long)op->volume_id, err.message);
		return r;
	}
	log_info("volume %lld: %s", (long long)op->volume_id,
		 op->clean_stop ? "raid stopped in order with every member in sync"
				: "raid assembled: clean-stop mark cleared");
	return 0;
}

int exec_op_run(void *vctx, const struct exec_chain *chain, const struct exec_step *step,
		char *errbuf, size_t errlen)
{
	struct exec_ctx *x = vctx;
	const struct exec_op *op = step->arg;
	struct rpc_error e = {0};
	char what[768], who[EXEC_NAME_MAX + 16], why[384], line[512];
	enum exec_answer answer;
	const char *hint;
	int r;

	(void)chain;
	exec_op_describe(op, what, sizeof(what));
	subject(op, who, sizeof(who));
	switch (op->kind) {
	case EXEC_OP_ADVANCE_MAPPING:
		return advance(x, op, errbuf, errlen);
	case EXEC_OP_REPLICA_SYNC:
		return replica_sync(x, op, errbuf, errlen);
	case EXEC_OP_REPLICA_PROMOTE:
		return replica_promote(x, op, errbuf, errlen);
	case EXEC_OP_RESIZE_FINISH:
		return resize_finish(x, op, errbuf, errlen);
	case EXEC_OP_CLEAN_STOP:
		return clean_stop(x, op, errbuf, errlen);
	case EXEC_OP_CHECK_MEMBERS:
		return check_members(x, op, errbuf, errlen);
	case EXEC_OP_INIT_VERIFY:
		return exec_init_verify(x, op, errbuf, errlen);
	case EXEC_OP_INIT_MARK_WIPED:
		return exec_init_mark_wiped(x, op, errbuf, errlen);
	case EXEC_OP_INIT_WIPE:
		return exec_init_wipe(x, op, errbuf, errlen);
	case EXEC_OP_INIT_CHECK_RAID:
		return exec_raid_record(x, op, errbuf, errlen);
	default:
		break;
	}
	r = spdk_call(x, op, &e);
	if (r == 0) {
		if (op->kind != EXEC_OP_WAIT_BDEV)
			atomic_fetch_add(&x->mutations, 1);
		log_info("%s: %s", who, what);
		if (op->kind == EXEC_OP_CREATE_RAID && op->volume_id && x->store)
			return exec_raid_record(x, op, errbuf, errlen);
		return 0;
	}
	if (e.code == 0) {
		/* Local: transport, timeout, malformed answer. A call that timed out may still
		 * have done its work: the next pass looks. */
		snprintf(errbuf, errlen, "%s: %s: %s", who, what,
			 rpc_error_str(&e, line, sizeof(line)));
		return r == -ETIMEDOUT ? -EAGAIN : r;
	}
	if (op->kind == EXEC_OP_WAIT_BDEV && op->strict) {
		/* the chain's later steps need it: stop here, the next pass looks again */
		snprintf(errbuf, errlen, "%s: %s did not come back within %u ms (%s)", who,
			 op->name, op->wait_ms, e.message);
		return -EAGAIN;
	}
	if (op->kind == EXEC_OP_WAIT_BDEV) {
		/* Not reassembled (members missing, or it had no superblock): create it next. */
		log_info("%s: %s did not come back within %u ms (%s); creating it", who, op->name,
			 op->wait_ms, e.message);
		return 0;
	}
	answer = exec_answer_classify(e.method, e.code, e.message);
	switch (answer) {
	case EXEC_ANSWER_GONE:
		if (is_delete(op->kind)) {
			log_info("%s: %s: already gone", who, what);
			return 0;
		}
		break;
	case EXEC_ANSWER_EXISTS:
		r = check_ours(x, op, why, sizeof(why));
		if (r == 0) {
			log_info("%s: %s: already there and ours", who, what);
			if (op->kind == EXEC_OP_CREATE_RAID && op->volume_id && x->store)
				return exec_raid_record(x, op, errbuf, errlen);
			return 0;
		}
		if (r == -EEXIST) {
			atomic_fetch_add(&x->conflicts, 1);
			snprintf(errbuf, errlen, "%s: conflict: %s (left untouched)", who, why);
			log_debug("%s", errbuf); /* the daemon says it, once */
			return -EEXIST;
		}
		snprintf(errbuf, errlen, "%s: %s: %s", who, what, why);
		return -EAGAIN;
	case EXEC_ANSWER_CONFLICT:
		atomic_fetch_add(&x->conflicts, 1);
		snprintf(errbuf, errlen, "%s: conflict: %s refused: %d %s (left untouched)", who,
			 what, e.code, e.message);
		log_debug("%s", errbuf); /* the daemon says it, once */
		return -EEXIST;
	case EXEC_ANSWER_TRANSIENT:
		snprintf(errbuf, errlen, "%s: %s: SPDK %d %s (will retry)", who, what, e.code,
			 e.message);
		return -EAGAIN;
	case EXEC_ANSWER_FAILED:
		break;
	}
	hint = exec_answer_hint(e.method, e.code, e.message);
	snprintf(errbuf, errlen, "%s: %s failed: SPDK %d %s%s%s", who, what, e.code, e.message,
		 hint ? ": " : "", hint ? hint : "");
	return -EIO;
}
