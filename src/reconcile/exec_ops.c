/* SPDX-License-Identifier: Apache-2.0 */
#include "reconcile/exec_ops.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "daemon/spdk_conn.h"
#include "reconcile/exec_answer.h"
#include "reconcile/exec_verify.h"
#include "store/store.h"

void exec_op_describe(const struct exec_op *op, char *buf, size_t len)
{
	switch (op->kind) {
	case EXEC_OP_ATTACH_PATH:
		snprintf(buf, len, "attach %s path %s:%s (%s)", op->name, op->traddr, op->trsvcid,
			 op->subnqn);
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

struct call_out {
	int rc; /* 0, -EREMOTEIO (answer in err), or transport errno */
	struct spdk_conn_error err;
	enum exec_answer answer; /* when rc == -EREMOTEIO */
};

static void call(struct exec_ctx *x, const char *method, json_t *params, json_t **result,
		 struct call_out *o)
{
	memset(o, 0, sizeof(*o));
	o->rc = spdk_conn_call(x->conn, method, params, x->timeout_ms, result, &o->err);
	if (o->rc == -EREMOTEIO)
		o->answer = exec_answer_classify(method, o->err.code, o->err.message);
}

/* Fetch one list (for ownership checks after "already exists"). */
static json_t *fetch(struct exec_ctx *x, const char *method, json_t *params)
{
	json_t *res = NULL;

	if (spdk_conn_call(x->conn, method, params, x->timeout_ms, &res, NULL) < 0)
		return NULL;
	return res;
}

static json_t *attach_params(struct exec_ctx *x, const struct exec_op *op)
{
	json_t *p = json_pack("{s:s, s:s, s:s}", "name", op->name, "trtype", op->trtype, "traddr",
			      op->traddr);

	if (op->adrfam[0])
		json_object_set_new(p, "adrfam", json_string(op->adrfam));
	if (op->trsvcid[0])
		json_object_set_new(p, "trsvcid", json_string(op->trsvcid));
	if (op->subnqn[0])
		json_object_set_new(p, "subnqn", json_string(op->subnqn));
	if (op->hostaddr[0])
		json_object_set_new(p, "hostaddr", json_string(op->hostaddr));
	if (strcasecmp(op->trtype, "pcie") != 0) {
		if (x->hostnqn && x->hostnqn[0])
			json_object_set_new(p, "hostnqn", json_string(x->hostnqn));
		if (op->multipath)
			json_object_set_new(p, "multipath", json_string("multipath"));
		if (op->dhchap_key[0])
			json_object_set_new(p, "dhchap_key", json_string(op->dhchap_key));
		json_object_set_new(p, "reconnect_delay_sec", json_integer(x->reconnect_delay_s));
		json_object_set_new(p, "ctrlr_loss_timeout_sec", json_integer(x->ctrlr_loss_s));
		json_object_set_new(p, "fast_io_fail_timeout_sec", json_integer(x->fast_io_fail_s));
	}
	return p;
}

/* Check an "already exists" answer: is the object there the one we wanted? */
static int check_ours(struct exec_ctx *x, const struct exec_op *op, char *why, size_t len)
{
	json_t *list;
	int r;

	switch (op->kind) {
	case EXEC_OP_ATTACH_PATH:
		list = fetch(x, "bdev_nvme_get_controllers", NULL);
		r = exec_verify_controller(list, op->name, op->subnqn, op->traddr, op->trsvcid, why,
					   len);
		break;
	case EXEC_OP_CREATE_RAID: {
		const char *bases[2] = {op->bases[0], op->bases[1]};
		list = fetch(x, "bdev_raid_get_bdevs", json_pack("{s:s}", "category", "all"));
		r = exec_verify_raid(list, op->name, bases, op->n_bases, why, len);
		break;
	}
	case EXEC_OP_ADD_BASE:
		/* EPERM: already a member (ours), or claimed by something else (conflict) */
		list = fetch(x, "bdev_raid_get_bdevs", json_pack("{s:s}", "category", "all"));
		r = exec_verify_raid_member(list, op->name, op->bases[0], why, len);
		break;
	case EXEC_OP_CREATE_VHOST:
		list = fetch(x, "vhost_get_controllers", NULL);
		r = exec_verify_vhost(list, op->name, op->bdev, why, len);
		break;
	case EXEC_OP_ADD_KEY:
		return 0; /* de_key_<node>: the name says whose key it is */
	default:
		return -EINVAL;
	}
	json_decref(list);
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

static int advance(struct exec_ctx *x, const struct exec_op *op, char *errbuf, size_t errlen)
{
	struct store_error err = {0};
	int r;

	pthread_mutex_lock(x->store_lock);
	r = store_mapping_advance(x->store, op->mapping_id, op->from, op->to, &err);
	pthread_mutex_unlock(x->store_lock);
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
	log_info("volume %lld: replica %lld (%s) %s", (long long)op->volume_id,
		 (long long)op->replica_id, op->name,
		 op->in_sync ? "in sync again" : "left the raid and misses writes");
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

int exec_op_run(void *vctx, const struct exec_chain *chain, const struct exec_step *step,
		char *errbuf, size_t errlen)
{
	struct exec_ctx *x = vctx;
	const struct exec_op *op = step->arg;
	const char *method = NULL;
	json_t *params = NULL, *result = NULL;
	struct call_out o;
	char what[768], who[EXEC_NAME_MAX + 16], why[384];
	bool deleting = false;

	exec_op_describe(op, what, sizeof(what));
	subject(op, who, sizeof(who));
	switch (op->kind) {
	case EXEC_OP_ADVANCE_MAPPING:
		return advance(x, op, errbuf, errlen);
	case EXEC_OP_REPLICA_SYNC:
		return replica_sync(x, op, errbuf, errlen);
	case EXEC_OP_REPLICA_PROMOTE:
		return replica_promote(x, op, errbuf, errlen);
	case EXEC_OP_DETACH_PATH:
		method = "bdev_nvme_detach_controller";
		params = json_pack("{s:s, s:s, s:s}", "name", op->name, "trtype", op->trtype,
				   "traddr", op->traddr);
		if (params && op->trsvcid[0])
			json_object_set_new(params, "trsvcid", json_string(op->trsvcid));
		if (params && op->subnqn[0])
			json_object_set_new(params, "subnqn", json_string(op->subnqn));
		deleting = true;
		break;
	case EXEC_OP_REMOVE_BASE:
		method = "bdev_raid_remove_base_bdev";
		params = json_pack("{s:s}", "name", op->bases[0]);
		deleting = true;
		break;
	case EXEC_OP_ADD_KEY:
		method = "keyring_file_add_key";
		params = json_pack("{s:s, s:s}", "name", op->name, "path", op->key_path);
		break;
	case EXEC_OP_REMOVE_KEY:
		method = "keyring_file_remove_key";
		params = json_pack("{s:s}", "name", op->name);
		deleting = true;
		break;
	case EXEC_OP_ATTACH_PATH:
		method = "bdev_nvme_attach_controller";
		params = attach_params(x, op);
		break;
	case EXEC_OP_DETACH_CONTROLLER:
		method = "bdev_nvme_detach_controller";
		params = json_pack("{s:s}", "name", op->name);
		deleting = true;
		break;
	case EXEC_OP_CREATE_RAID: {
		json_t *bases = json_array();
		for (unsigned i = 0; i < op->n_bases; i++)
			json_array_append_new(bases, json_string(op->bases[i]));
		method = "bdev_raid_create";
		params = json_pack("{s:s, s:s, s:i, s:o, s:b}", "name", op->name, "raid_level",
				   "raid1", "strip_size_kb", 0, "base_bdevs", bases, "superblock",
				   1);
		break;
	}
	case EXEC_OP_WAIT_BDEV:
		method = "bdev_get_bdevs";
		params = json_pack("{s:s, s:i}", "name", op->name, "timeout", (int)op->wait_ms);
		break;
	case EXEC_OP_ADD_BASE:
		method = "bdev_raid_add_base_bdev";
		params = json_pack("{s:s, s:s}", "raid_bdev", op->name, "base_bdev", op->bases[0]);
		break;
	case EXEC_OP_DELETE_RAID:
		method = "bdev_raid_delete";
		params = json_pack("{s:s}", "name", op->name);
		deleting = true;
		break;
	case EXEC_OP_SET_QOS:
		method = "bdev_set_qos_limit";
		params = json_pack("{s:s, s:I, s:I, s:I, s:I}", "name", op->name, "rw_ios_per_sec",
				   (json_int_t)op->rw_iops, "rw_mbytes_per_sec",
				   (json_int_t)op->rw_mbps, "r_mbytes_per_sec",
				   (json_int_t)op->r_mbps, "w_mbytes_per_sec",
				   (json_int_t)op->w_mbps);
		break;
	case EXEC_OP_CREATE_VHOST:
		method = "vhost_create_blk_controller";
		params = json_pack("{s:s, s:s}", "ctrlr", op->name, "dev_name", op->bdev);
		if (x->cpumask && x->cpumask[0])
			json_object_set_new(params, "cpumask", json_string(x->cpumask));
		break;
	case EXEC_OP_DELETE_VHOST:
		method = "vhost_delete_controller";
		params = json_pack("{s:s}", "ctrlr", op->name);
		deleting = true;
		break;
	}
	if (!params) {
		snprintf(errbuf, errlen, "%s: %s: out of memory", who, what);
		return -ENOMEM;
	}
	call(x, method, params, &result, &o);
	json_decref(result);
	if (o.rc == 0) {
		if (op->kind != EXEC_OP_WAIT_BDEV)
			atomic_fetch_add(&x->mutations, 1);
		log_info("%s: %s", who, what);
		return 0;
	}
	if (o.rc != -EREMOTEIO) {
		/* A call that timed out may still have done its work: the next pass looks. */
		snprintf(errbuf, errlen, "%s: %s: %s", who, what, strerror(-o.rc));
		return o.rc == -ETIMEDOUT ? -EAGAIN : o.rc;
	}
	if (op->kind == EXEC_OP_WAIT_BDEV) {
		/* Not reassembled (members missing, or it had no superblock): create it next. */
		log_info("%s: %s did not come back within %u ms (%s); creating it", who, op->name,
			 op->wait_ms, o.err.message);
		return 0;
	}
	switch (o.answer) {
	case EXEC_ANSWER_GONE:
		if (deleting) {
			log_info("%s: %s: already gone", who, what);
			return 0;
		}
		break;
	case EXEC_ANSWER_EXISTS: {
		int r = check_ours(x, op, why, sizeof(why));
		if (r == 0) {
			log_info("%s: %s: already there and ours", who, what);
			return 0;
		}
		if (r == -EEXIST) {
			atomic_fetch_add(&x->conflicts, 1);
			snprintf(errbuf, errlen, "%s: conflict: %s (left untouched)", who, why);
			log_error("%s", errbuf);
			return -EEXIST;
		}
		snprintf(errbuf, errlen, "%s: %s: %s", who, what, why);
		return -EAGAIN;
	}
	case EXEC_ANSWER_CONFLICT:
		atomic_fetch_add(&x->conflicts, 1);
		snprintf(errbuf, errlen, "%s: conflict: %s refused: %d %s (left untouched)", who,
			 what, o.err.code, o.err.message);
		log_error("%s", errbuf);
		return -EEXIST;
	case EXEC_ANSWER_TRANSIENT:
		snprintf(errbuf, errlen, "%s: %s: SPDK %d %s (will retry)", who, what, o.err.code,
			 o.err.message);
		return -EAGAIN;
	case EXEC_ANSWER_FAILED:
		break;
	}
	snprintf(errbuf, errlen, "%s: %s failed: SPDK %d %s", who, what, o.err.code, o.err.message);
	return -EIO;
}
