/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bdev_nvme_set_options / bdev_nvme_set_hotplug (module/bdev/nvme/bdev_nvme_rpc.c) and
 * the NVMe part of the "bdev" subsystem's saved config: the options, then one
 * bdev_nvme_attach_controller per path and per failover trid, then the hotplug setting.
 */
#include "sim/sim_keyring.h"
#include "sim/sim_nvme_internal.h"

#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reply_decode_failed(struct sim_req *req)
{
	sim_reply_error(req, -32603, "spdk_json_decode_object failed");
}

/* ---- bdev_nvme_set_options --------------------------------------------------------------- */

json_t *nvme_default_opts(void)
{
	json_t *o = json_pack("{s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:b,s:i,s:i,s:i,s:i,"
			      "s:i,s:i}",
			      "action_on_timeout", "none", "timeout_us", 0, "timeout_admin_us", 0,
			      "keep_alive_timeout_ms", 10000, "arbitration_burst", 0,
			      "low_priority_weight", 0, "medium_priority_weight", 0,
			      "high_priority_weight", 0, "nvme_adminq_poll_period_us", 10000,
			      "nvme_ioq_poll_period_us", 0, "io_queue_requests", 512,
			      "delay_cmd_submit", 1, "transport_retry_count", 4, "bdev_retry_count",
			      3, "transport_ack_timeout", 0, "ctrlr_loss_timeout_sec", 0,
			      "reconnect_delay_sec", 0, "fast_io_fail_timeout_sec", 0);
	json_t *rest = json_pack(
		"{s:b,s:b,s:i,s:b,s:i,s:b,s:b,s:i,s:i,s:[s,s,s],"
		"s:[s,s,s,s,s,s],s:b,s:i,s:b}",
		"disable_auto_failback", 0, "generate_uuids", 0, "transport_tos", 0,
		"nvme_error_stat", 0, "rdma_srq_size", 0, "io_path_stat", 0, "allow_accel_sequence",
		0, "rdma_max_cq_size", 0, "rdma_cm_event_timeout_ms", 0, "dhchap_digests", "sha256",
		"sha384", "sha512", "dhchap_dhgroups", "null", "ffdhe2048", "ffdhe3072",
		"ffdhe4096", "ffdhe6144", "ffdhe8192", "rdma_umr_per_io", 0,
		"tcp_connect_timeout_ms", 0, "enable_flush", 0);

	json_object_update(o, rest);
	json_decref(rest);
	return o;
}

bool nvme_resiliency_ok(int64_t loss, int64_t delay, int64_t fast)
{
	if (loss < -1)
		return false;
	if (loss == -1)
		return delay != 0 && !(fast != 0 && fast < delay);
	if (loss != 0) {
		if (delay == 0 || delay > loss)
			return false;
		return fast == 0 || (fast >= delay && fast <= loss);
	}
	return delay == 0 && fast == 0;
}

static bool str_in(const char *v, const char *const *list, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		if (strcmp(v, list[i]) == 0)
			return true;
	return false;
}

static bool string_array_in(json_t *arr, const char *const *list, size_t n)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr))
		return false;
	json_array_foreach(arr, i, v) if (!str_in(json_string_value(v), list, n)) return false;
	return true;
}

void rpc_bdev_nvme_set_options(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"action_on_timeout", SIM_J_STRING, true},
		{"keep_alive_timeout_ms", SIM_J_UINT32, true},
		{"timeout_us", SIM_J_UINT, true},
		{"timeout_admin_us", SIM_J_UINT, true},
		{"arbitration_burst", SIM_J_UINT32, true},
		{"low_priority_weight", SIM_J_UINT32, true},
		{"medium_priority_weight", SIM_J_UINT32, true},
		{"high_priority_weight", SIM_J_UINT32, true},
		{"io_queue_requests", SIM_J_UINT32, true},
		{"nvme_adminq_poll_period_us", SIM_J_UINT, true},
		{"nvme_ioq_poll_period_us", SIM_J_UINT, true},
		{"delay_cmd_submit", SIM_J_BOOL, true},
		{"transport_retry_count", SIM_J_UINT32, true},
		{"bdev_retry_count", SIM_J_INT32, true},
		{"ctrlr_loss_timeout_sec", SIM_J_INT32, true},
		{"reconnect_delay_sec", SIM_J_UINT32, true},
		{"fast_io_fail_timeout_sec", SIM_J_UINT32, true},
		{"transport_ack_timeout", SIM_J_UINT, true},
		{"disable_auto_failback", SIM_J_BOOL, true},
		{"generate_uuids", SIM_J_BOOL, true},
		{"transport_tos", SIM_J_UINT, true},
		{"nvme_error_stat", SIM_J_BOOL, true},
		{"io_path_stat", SIM_J_BOOL, true},
		{"allow_accel_sequence", SIM_J_BOOL, true},
		{"rdma_srq_size", SIM_J_UINT32, true},
		{"rdma_max_cq_size", SIM_J_UINT32, true},
		{"rdma_cm_event_timeout_ms", SIM_J_UINT16, true},
		{"dhchap_digests", SIM_J_ARRAY, true},
		{"dhchap_dhgroups", SIM_J_ARRAY, true},
		{"rdma_umr_per_io", SIM_J_BOOL, true},
		{"tcp_connect_timeout_ms", SIM_J_UINT32, true},
		{"enable_flush", SIM_J_BOOL, true},
	};
	static const char *const actions[] = {"none", "reset", "abort"};
	static const char *const digests[] = {"sha256", "sha384", "sha512"};
	static const char *const groups[] = {"null",	  "ffdhe2048", "ffdhe3072",
					     "ffdhe4096", "ffdhe6144", "ffdhe8192"};
	struct sim_nvme_state *st = req->sim->nvme;
	json_t *p = req->params, *merged, *v;

	if (p &&
	    (!sim_decode_ok(p, dec, ARRAY_SIZE(dec)) ||
	     ((v = json_object_get(p, "action_on_timeout")) &&
	      !str_in(json_string_value(v), actions, 3)) ||
	     ((v = json_object_get(p, "dhchap_digests")) && !string_array_in(v, digests, 3)) ||
	     ((v = json_object_get(p, "dhchap_dhgroups")) && !string_array_in(v, groups, 6)) ||
	     ((v = json_object_get(p, "transport_ack_timeout")) && json_integer_value(v) > 255) ||
	     ((v = json_object_get(p, "transport_tos")) && json_integer_value(v) > 255))) {
		reply_decode_failed(req);
		return;
	}
	merged = json_deep_copy(st->opts);
	if (p)
		json_object_update_existing(merged, p);
	if ((json_integer_value(json_object_get(merged, "timeout_us")) == 0 &&
	     json_integer_value(json_object_get(merged, "timeout_admin_us")) != 0) ||
	    json_integer_value(json_object_get(merged, "bdev_retry_count")) < -1 ||
	    !nvme_resiliency_ok(
		    json_integer_value(json_object_get(merged, "ctrlr_loss_timeout_sec")),
		    json_integer_value(json_object_get(merged, "reconnect_delay_sec")),
		    json_integer_value(json_object_get(merged, "fast_io_fail_timeout_sec")))) {
		json_decref(merged);
		sim_reply_errno(req, EINVAL);
		return;
	}
	if (req->sim->initialized && st->ctrlrs) {
		json_decref(merged);
		sim_reply_error(req, -EPERM,
				"RPC not permitted with nvme controllers already attached");
		return;
	}
	json_decref(st->opts);
	st->opts = merged;
	sim_reply(req, json_true());
}

void rpc_bdev_nvme_set_hotplug(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"enable", SIM_J_BOOL, false},
						 {"period_us", SIM_J_UINT, true}};
	struct sim_nvme_state *st = req->sim->nvme;
	json_t *v;

	if (!sim_decode_strict(req->params, dec, 2)) {
		reply_decode_failed(req);
		return;
	}
	st->hotplug_enabled = json_is_true(json_object_get(req->params, "enable"));
	v = json_object_get(req->params, "period_us");
	if (v && json_integer_value(v))
		st->hotplug_period_us = (uint64_t)json_integer_value(v);
	/* bdev_nvme_set_hotplug probes at once when it enables the monitor */
	nvme_hotplug_scan(req->sim);
	sim_reply(req, json_true());
}

/* ---- config ------------------------------------------------------------------------------ */

static const char *mp_mode_str(enum nvme_mp_mode m)
{
	return m == NVME_MP_FAILOVER ? "failover" : m == NVME_MP_DISABLE ? "disable" : "multipath";
}

static json_t *attach_config(const struct nvme_bdev_ctrlr *n, const struct nvme_ctrlr *c)
{
	json_t *p = json_pack("{s:s,s:s}", "name", n->name, "trtype", c->trid.trtype);

	if (c->trid.adrfam[0])
		json_object_set_new(p, "adrfam", json_string(c->trid.adrfam));
	json_object_set_new(p, "traddr", json_string(c->trid.traddr));
	if (c->trid.trsvcid[0])
		json_object_set_new(p, "trsvcid", json_string(c->trid.trsvcid));
	if (c->trid.subnqn[0])
		json_object_set_new(p, "subnqn", json_string(c->trid.subnqn));
	json_object_set_new(p, "prchk_reftag", json_boolean(c->prchk_reftag));
	json_object_set_new(p, "prchk_guard", json_boolean(c->prchk_guard));
	json_object_set_new(p, "ctrlr_loss_timeout_sec", json_integer(c->ctrlr_loss_timeout_sec));
	json_object_set_new(p, "reconnect_delay_sec", json_integer(c->reconnect_delay_sec));
	json_object_set_new(p, "fast_io_fail_timeout_sec",
			    json_integer(c->fast_io_fail_timeout_sec));
	if (c->psk_name)
		json_object_set_new(p, "psk", json_string(c->psk_name));
	if (c->dhchap_key)
		json_object_set_new(p, "dhchap_key", json_string(sim_key_name(c->dhchap_key)));
	if (c->dhchap_ctrlr_key)
		json_object_set_new(p, "dhchap_ctrlr_key",
				    json_string(sim_key_name(c->dhchap_ctrlr_key)));
	json_object_set_new(p, "hostnqn", json_string(c->hostnqn));
	if (c->hostaddr[0])
		json_object_set_new(p, "hostaddr", json_string(c->hostaddr));
	if (c->hostsvcid[0])
		json_object_set_new(p, "hostsvcid", json_string(c->hostsvcid));
	json_object_set_new(p, "hdgst", json_boolean(c->hdgst));
	json_object_set_new(p, "ddgst", json_boolean(c->ddgst));
	json_object_set_new(p, "multipath", json_string(mp_mode_str(c->multipath)));
	return json_pack("{s:s,s:o}", "method", "bdev_nvme_attach_controller", "params", p);
}

void sim_nvme_config(struct sim *s, const char *subsystem, json_t *arr)
{
	struct sim_nvme_state *st = s->nvme;

	if (strcmp(subsystem, "bdev") != 0)
		return;
	json_array_append_new(
		arr, json_pack("{s:s,s:O}", "method", "bdev_nvme_set_options", "params", st->opts));
	for (struct nvme_bdev_ctrlr *n = st->ctrlrs; n; n = n->next) {
		for (struct nvme_ctrlr *c = n->ctrlrs; c; c = c->next) {
			size_t i;
			json_t *alt;

			json_array_append_new(arr, attach_config(n, c));
			/* each failover trid is one more attach of the same name */
			json_array_foreach(c->alternate_trids, i, alt)
			{
				json_t *e = attach_config(n, c), *p = json_object_get(e, "params");

				json_object_update(p, alt);
				json_array_append_new(arr, e);
			}
		}
	}
	json_array_append_new(arr,
			      json_pack("{s:s,s:{s:I,s:b}}", "method", "bdev_nvme_set_hotplug",
					"params", "period_us", (json_int_t)st->hotplug_period_us,
					"enable", st->hotplug_enabled));
}
