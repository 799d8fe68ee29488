/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bdev_nvme_* methods (module/bdev/nvme/bdev_nvme_rpc.c) with SPDK's order of
 * checks and its error codes, and the NVMe part of the "bdev" subsystem's config.
 */
#include "sim/sim_keyring.h"
#include "sim/sim_nvme_internal.h"

#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SPDK's SPDK_CONTROLLER_NAME_MAX: names up to 511 characters. */
#define NVME_NAME_MAX 512

static const char *str_param(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void reply_decode_failed(struct sim_req *req)
{
	sim_reply_error(req, -32603, "spdk_json_decode_object failed");
}

static const char *trtype_canon(const char *t)
{
	static const char *const known[] = {"PCIe", "RDMA", "TCP", "FC", "VFIOUSER", "CUSTOM"};

	for (size_t i = 0; t && i < ARRAY_SIZE(known); i++)
		if (strcasecmp(t, known[i]) == 0)
			return known[i];
	return NULL;
}

/* spdk_nvme_transport_id_parse_adrfam: INTRA_HOST has a name but does not parse */
static const char *adrfam_canon(const char *a)
{
	static const char *const known[] = {"IPv4", "IPv6", "IB", "FC"};

	for (size_t i = 0; a && i < ARRAY_SIZE(known); i++)
		if (strcasecmp(a, known[i]) == 0)
			return known[i];
	return NULL;
}

/* ---- bdev_nvme_attach_controller ------------------------------------------------------------- */

static const struct sim_decoder attach_dec[] = {
	{"name", SIM_J_STRING, false},
	{"trtype", SIM_J_STRING, false},
	{"traddr", SIM_J_STRING, false},
	{"adrfam", SIM_J_STRING, true},
	{"trsvcid", SIM_J_STRING, true},
	{"priority", SIM_J_STRING, true},
	{"subnqn", SIM_J_STRING, true},
	{"hostnqn", SIM_J_STRING, true},
	{"hostaddr", SIM_J_STRING, true},
	{"hostsvcid", SIM_J_STRING, true},
	{"prchk_reftag", SIM_J_BOOL, true},
	{"prchk_guard", SIM_J_BOOL, true},
	{"hdgst", SIM_J_BOOL, true},
	{"ddgst", SIM_J_BOOL, true},
	{"fabrics_connect_timeout_us", SIM_J_UINT, true},
	{"multipath", SIM_J_STRING, true},
	{"num_io_queues", SIM_J_UINT32, true},
	{"ctrlr_loss_timeout_sec", SIM_J_INT32, true},
	{"reconnect_delay_sec", SIM_J_UINT32, true},
	{"fast_io_fail_timeout_sec", SIM_J_UINT32, true},
	{"psk", SIM_J_STRING, true},
	{"max_bdevs", SIM_J_UINT32, true},
	{"dhchap_key", SIM_J_STRING, true},
	{"dhchap_ctrlr_key", SIM_J_STRING, true},
	{"allow_unrecognized_csi", SIM_J_BOOL, true},
};

static int mp_mode_parse(const char *v, enum nvme_mp_mode *out)
{
	if (!v || strcmp(v, "multipath") == 0)
		*out = NVME_MP_MULTIPATH;
	else if (strcmp(v, "failover") == 0)
		*out = NVME_MP_FAILOVER;
	else if (strcmp(v, "disable") == 0)
		*out = NVME_MP_DISABLE;
	else
		return -EINVAL;
	return 0;
}

/* A string field copied into a fixed SPDK buffer of `size` bytes must fit with its NUL. */
static bool too_long(const char *v, size_t size)
{
	return v && strnlen(v, size) == size;
}

static int64_t int_param(json_t *p, const char *key, int64_t dflt)
{
	json_t *v = json_object_get(p, key);

	return v ? json_integer_value(v) : dflt;
}

static void rpc_bdev_nvme_attach_controller(struct sim_req *req)
{
	struct sim *s = req->sim;
	json_t *p = req->params, *opts = s->nvme->opts;
	const char *name, *trtype, *traddr, *adrfam, *trsvcid, *subnqn, *hostnqn, *hostaddr;
	const char *hostsvcid, *canon_tr, *canon_af = "";
	struct nvme_bdev_ctrlr *existing;
	enum nvme_mp_mode mp;
	struct nvme_trid trid = {0};
	struct nvme_ctrlr *c;
	int64_t loss, delay, fast;

	if (!sim_decode_strict(p, attach_dec, ARRAY_SIZE(attach_dec)) ||
	    mp_mode_parse(str_param(p, "multipath"), &mp) < 0) {
		reply_decode_failed(req);
		return;
	}
	if (json_object_get(p, "max_bdevs") && int_param(p, "max_bdevs", 0) == 0) {
		sim_reply_error(req, -EINVAL, "max_bdevs cannot be zero");
		return;
	}
	name = str_param(p, "name");
	trtype = str_param(p, "trtype");
	traddr = str_param(p, "traddr");
	adrfam = str_param(p, "adrfam");
	trsvcid = str_param(p, "trsvcid");
	subnqn = str_param(p, "subnqn");
	hostnqn = str_param(p, "hostnqn");
	hostaddr = str_param(p, "hostaddr");
	hostsvcid = str_param(p, "hostsvcid");
	if (too_long(trtype, 32)) {
		sim_reply_error(req, -EINVAL, "Failed to parse trtype: %s", trtype);
		return;
	}
	if (too_long(traddr, 257)) {
		sim_reply_error(req, -EINVAL, "traddr too long: %s", traddr);
		return;
	}
	if (adrfam) {
		canon_af = adrfam_canon(adrfam);
		if (!canon_af) {
			sim_reply_error(req, -EINVAL, "Failed to parse adrfam: %s", adrfam);
			return;
		}
	}
	if (too_long(trsvcid, 33)) {
		sim_reply_error(req, -EINVAL, "trsvcid too long: %s", trsvcid);
		return;
	}
	if (too_long(subnqn, 224)) {
		sim_reply_error(req, -EINVAL, "subnqn too long: %s", subnqn);
		return;
	}
	if (too_long(hostnqn, 224)) {
		sim_reply_error(req, -EINVAL, "hostnqn too long: %s", hostnqn);
		return;
	}
	if (too_long(hostaddr, 257)) {
		sim_reply_error(req, -EINVAL, "hostaddr too long: %s", hostaddr);
		return;
	}
	if (too_long(hostsvcid, 33)) {
		sim_reply_error(req, -EINVAL, "hostsvcid too long: %s", hostsvcid);
		return;
	}
	/* SPDK generates a host NQN from the system's uuid when none is given */
	if (!hostnqn)
		hostnqn = "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000000";
	canon_tr = trtype_canon(trtype);
	snprintf(trid.trtype, sizeof(trid.trtype), "%s", canon_tr ? canon_tr : trtype);
	snprintf(trid.adrfam, sizeof(trid.adrfam), "%s", canon_af);
	trid.traddr = (char *)traddr;
	trid.trsvcid = (char *)(trsvcid ? trsvcid : "");
	trid.subnqn = (char *)(subnqn ? subnqn : "");

	existing = nvme_bdev_ctrlr_find(s, name);
	if (existing) {
		struct nvme_ctrlr *first = existing->ctrlrs;

		if (mp == NVME_MP_DISABLE) {
			sim_reply_error(req, -EALREADY,
					"A controller named %s already exists and "
					"multipath is disabled",
					name);
			return;
		}
		if (strcmp(traddr, first->trid.traddr) == 0 &&
		    strcmp(trid.trsvcid, first->trid.trsvcid) == 0 &&
		    strcmp(hostaddr ? hostaddr : "", first->hostaddr) == 0 &&
		    strcmp(hostsvcid ? hostsvcid : "", first->hostsvcid) == 0) {
			sim_reply_error(req, -EALREADY,
					"A controller named %s already exists with "
					"the specified network path",
					name);
			return;
		}
		if (strcmp(trid.subnqn, first->trid.subnqn) != 0) {
			sim_reply_error(req, -EINVAL,
					"A controller named %s already exists, but "
					"uses a different subnqn (%s)",
					name, first->trid.subnqn);
			return;
		}
		if (strcmp(hostnqn, first->hostnqn) != 0) {
			sim_reply_error(req, -EINVAL,
					"A controller named %s already exists, but "
					"uses a different hostnqn (%s)",
					name, first->hostnqn);
			return;
		}
		if (json_is_true(json_object_get(p, "prchk_reftag")) ||
		    json_is_true(json_object_get(p, "prchk_guard"))) {
			sim_reply_error(req, -EINVAL,
					"A controller named %s already exists. To add "
					"a path, do not specify PI options.",
					name);
			return;
		}
	}
	if (json_object_get(p, "num_io_queues") &&
	    (int_param(p, "num_io_queues", 0) == 0 || int_param(p, "num_io_queues", 0) > 65536)) {
		sim_reply_error(req, -EINVAL, "num_io_queues out of bounds, min: %u max: %u", 1,
				65536);
		return;
	}
	/* spdk_bdev_nvme_create */
	if (nvme_ctrlr_find_trid(s, &trid, hostnqn)) {
		sim_reply_errno(req, EEXIST);
		return;
	}
	if (strlen(name) == 0 || strlen(name) >= NVME_NAME_MAX) {
		sim_reply_errno(req, EINVAL);
		return;
	}
	loss = int_param(p, "ctrlr_loss_timeout_sec",
			 json_integer_value(json_object_get(opts, "ctrlr_loss_timeout_sec")));
	delay = int_param(p, "reconnect_delay_sec",
			  json_integer_value(json_object_get(opts, "reconnect_delay_sec")));
	fast = int_param(p, "fast_io_fail_timeout_sec",
			 json_integer_value(json_object_get(opts, "fast_io_fail_timeout_sec")));
	if (!nvme_resiliency_ok(loss, delay, fast)) {
		sim_reply_errno(req, EINVAL);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	if (str_param(p, "psk") && !sim_keyring_get(s, str_param(p, "psk"))) {
		nvme_ctrlr_free(s, c);
		sim_reply_errno(req, ENOKEY);
		return;
	}
	if (str_param(p, "psk"))
		sim_keyring_put(s, sim_keyring_get(s, str_param(p, "psk")));
	if (str_param(p, "dhchap_key")) {
		c->dhchap_key = sim_keyring_get(s, str_param(p, "dhchap_key"));
		if (!c->dhchap_key) {
			nvme_ctrlr_free(s, c);
			sim_reply_errno(req, ENOKEY);
			return;
		}
	}
	if (str_param(p, "dhchap_ctrlr_key")) {
		c->dhchap_ctrlr_key = sim_keyring_get(s, str_param(p, "dhchap_ctrlr_key"));
		if (!c->dhchap_ctrlr_key) {
			nvme_ctrlr_free(s, c);
			sim_reply_errno(req, ENOKEY);
			return;
		}
	}
	/* all controllers of a name are multipath, or none is */
	if (existing &&
	    (existing->ctrlrs->multipath == NVME_MP_MULTIPATH) != (mp == NVME_MP_MULTIPATH)) {
		nvme_ctrlr_free(s, c);
		sim_reply_errno(req, EINVAL);
		return;
	}
	if (!canon_tr || strcmp(canon_tr, "FC") == 0 || strcmp(canon_tr, "VFIOUSER") == 0 ||
	    strcmp(canon_tr, "CUSTOM") == 0) {
		/* spdk_nvme_connect_async: no such transport in this build */
		nvme_ctrlr_free(s, c);
		sim_reply_errno(req, ENODEV);
		return;
	}
	c->trid = trid;
	c->trid.traddr = util_xstrdup(traddr);
	c->trid.trsvcid = util_xstrdup(trid.trsvcid);
	c->trid.subnqn = util_xstrdup(trid.subnqn);
	c->hostnqn = util_xstrdup(hostnqn);
	c->hostaddr = util_xstrdup(hostaddr ? hostaddr : "");
	c->hostsvcid = util_xstrdup(hostsvcid ? hostsvcid : "");
	c->ctrlr_loss_timeout_sec = (int32_t)loss;
	c->reconnect_delay_sec = (uint32_t)delay;
	c->fast_io_fail_timeout_sec = (uint32_t)fast;
	c->hdgst = json_is_true(json_object_get(p, "hdgst"));
	c->ddgst = json_is_true(json_object_get(p, "ddgst"));
	c->prchk_reftag = json_is_true(json_object_get(p, "prchk_reftag"));
	c->prchk_guard = json_is_true(json_object_get(p, "prchk_guard"));
	c->multipath = mp;
	if (str_param(p, "psk"))
		c->psk_name = util_xstrdup(str_param(p, "psk"));
	if (strcmp(canon_tr, "PCIe") == 0) {
		c->pcie_bdf = util_xstrdup(traddr);
		nvme_hotplug_skip(s, traddr, false);
	}
	nvme_attach_start(s, c, name, req);
}

/* ---- detach, reset ------------------------------------------------------------------------ */

/*
 * _bdev_nvme_delete for one controller: its matching failover trids go, then the active
 * trid if it matches -- the controller with it when no failover trid is left, else the
 * controller fails over to the next one. 0 when something matched, else -ENXIO.
 */
static int detach_ctrlr(struct sim *s, struct nvme_ctrlr *c, const struct nvme_path_sel *sel)
{
	int rc = -ENXIO;

	for (size_t i = json_array_size(c->alternate_trids); i-- > 0;) {
		struct nvme_trid t;
		bool match;

		if (nvme_trid_from_json(json_array_get(c->alternate_trids, i), &t) < 0)
			continue;
		/* a failover trid's path id carries no host address */
		match = nvme_path_sel_match(sel, &t, "", "");
		free(t.traddr);
		free(t.trsvcid);
		free(t.subnqn);
		if (match) {
			json_array_remove(c->alternate_trids, i);
			rc = 0;
		}
	}
	if (!nvme_path_sel_match(sel, &c->trid, c->failed_over ? "" : c->hostaddr,
				 c->failed_over ? "" : c->hostsvcid))
		return rc;
	if (c->pcie_bdf) /* not by hot removal: the hotplug monitor must not take it back */
		nvme_hotplug_skip(s, c->pcie_bdf, true);
	if (json_array_size(c->alternate_trids) == 0)
		nvme_ctrlr_delete(s, c);
	else
		nvme_ctrlr_failover(s, c);
	return 0;
}

/* A detach field copied into a fixed SPDK buffer of `size` bytes must fit with its NUL. */
static bool detach_too_long(struct sim_req *req, const char *key, size_t size)
{
	const char *v = str_param(req->params, key);

	if (!too_long(v, size))
		return false;
	sim_reply_error(req, -EINVAL, "%s too long: %s", key, v);
	return true;
}

static void rpc_bdev_nvme_detach_controller(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"name", SIM_J_STRING, false},	  {"trtype", SIM_J_STRING, true},
		{"traddr", SIM_J_STRING, true},	  {"adrfam", SIM_J_STRING, true},
		{"trsvcid", SIM_J_STRING, true},  {"subnqn", SIM_J_STRING, true},
		{"hostaddr", SIM_J_STRING, true}, {"hostsvcid", SIM_J_STRING, true},
	};
	json_t *p = req->params;
	const char *trtype = str_param(p, "trtype"), *adrfam = str_param(p, "adrfam");
	struct nvme_path_sel sel = {0};
	struct nvme_bdev_ctrlr *n;
	int rc = -ENXIO;

	if (!sim_decode_strict(p, dec, ARRAY_SIZE(dec))) {
		reply_decode_failed(req);
		return;
	}
	/* populate_trstring refuses only what does not fit; parse_trtype takes anything */
	if (trtype) {
		if (too_long(trtype, 32)) {
			sim_reply_error(req, -EINVAL, "Failed to parse trtype: %s", trtype);
			return;
		}
		sel.trtype = trtype_canon(trtype);
		sel.trtype_known = sel.trtype != NULL && strcmp(sel.trtype, "CUSTOM") != 0;
		if (!sel.trtype_known)
			sel.trtype = trtype;
	}
	if (detach_too_long(req, "traddr", 257))
		return;
	if (adrfam) {
		sel.adrfam = adrfam_canon(adrfam);
		if (!sel.adrfam) {
			sim_reply_error(req, -EINVAL, "Failed to parse adrfam: %s", adrfam);
			return;
		}
	}
	if (detach_too_long(req, "trsvcid", 33) || detach_too_long(req, "subnqn", 224) ||
	    detach_too_long(req, "hostaddr", 257) || detach_too_long(req, "hostsvcid", 33))
		return;
	sel.traddr = str_param(p, "traddr");
	sel.trsvcid = str_param(p, "trsvcid");
	sel.subnqn = str_param(p, "subnqn");
	sel.hostaddr = str_param(p, "hostaddr");
	sel.hostsvcid = str_param(p, "hostsvcid");
	n = nvme_bdev_ctrlr_find(req->sim, str_param(p, "name"));
	if (!n) {
		sim_reply_errno(req, ENODEV);
		return;
	}
	for (struct nvme_ctrlr *c = n->ctrlrs, *next; c; c = next) {
		next = c->next;
		/* the last path frees the name: stop before touching n again */
		if (!next && n->ctrlrs == c) {
			if (detach_ctrlr(req->sim, c, &sel) == 0)
				rc = 0;
			break;
		}
		if (detach_ctrlr(req->sim, c, &sel) == 0)
			rc = 0;
	}
	if (rc < 0) {
		sim_reply_errno(req, -rc);
		return;
	}
	sim_reply(req, json_true());
}

/*
 * The paths rpc_bdev_nvme_controller_op acts on (reset, enable, disable): every path of the
 * controller "name", or the one with "cntlid" (0, SPDK's default, means every path). On an error
 * the answer is sent and false returned; else *out (the caller frees it) and *n, which is 0 when
 * no path has that cntlid.
 */
static bool op_paths(struct sim_req *req, struct nvme_ctrlr ***out, size_t *n)
{
	static const struct sim_decoder dec[] = {{"name", SIM_J_STRING, false},
						 {"cntlid", SIM_J_UINT16, true}};
	struct nvme_bdev_ctrlr *nb;
	struct nvme_ctrlr **paths;
	json_int_t cntlid;
	size_t cnt = 0;

	if (!sim_decode_strict(req->params, dec, 2)) {
		reply_decode_failed(req);
		return false;
	}
	nb = nvme_bdev_ctrlr_find(req->sim, str_param(req->params, "name"));
	if (!nb) {
		sim_reply_errno(req, ENODEV);
		return false;
	}
	cntlid = json_integer_value(json_object_get(req->params, "cntlid"));
	for (struct nvme_ctrlr *c = nb->ctrlrs; c; c = c->next)
		cnt++;
	paths = calloc(cnt ? cnt : 1, sizeof(*paths));
	if (!paths)
		abort();
	cnt = 0;
	for (struct nvme_ctrlr *c = nb->ctrlrs; c; c = c->next)
		if (!cntlid || c->cntlid == cntlid)
			paths[cnt++] = c;
	*out = paths;
	*n = cnt;
	return true;
}

static void rpc_bdev_nvme_reset_controller(struct sim_req *req)
{
	struct nvme_ctrlr **paths;
	size_t n, cnt = 0;

	if (!op_paths(req, &paths, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		struct nvme_ctrlr *c = paths[i];

		/* a disabled controller is not reset: -EALREADY, which the RPC counts as done */
		if (c->state == NVME_CTRLR_DISABLED)
			continue;
		if (c->state != NVME_CTRLR_ENABLED && c->state != NVME_CTRLR_FAILED) {
			/* a controller already resetting or reconnecting refuses */
			free(paths);
			sim_reply_errno(req, EBUSY);
			return;
		}
		paths[cnt++] = c;
	}
	if (cnt == 0) {
		free(paths);
		if (n)
			sim_reply(req, json_true());
		else
			sim_reply_errno(req, ENODEV);
		return;
	}
	nvme_reset_start(req->sim, paths, cnt, req);
}

/*
 * bdev_nvme_enable_controller / bdev_nvme_disable_controller (rpc_bdev_nvme_controller_op):
 * every path of the controller in turn, or the one with "cntlid"; a path already in the
 * wanted state counts as done (-EALREADY), any other error ends the walk and is the answer.
 */
static void controller_op(struct sim_req *req, bool enable)
{
	struct nvme_ctrlr **paths;
	size_t n, cnt = 0;
	int rc = 0;

	if (!op_paths(req, &paths, &n))
		return;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct nvme_ctrlr *c = paths[i];

		if (!enable)
			rc = nvme_ctrlr_disable(req->sim, c);
		else if (c->state == NVME_CTRLR_DELETING)
			rc = -ENXIO;
		else if (c->state == NVME_CTRLR_RESETTING || c->state == NVME_CTRLR_CONNECTING)
			rc = -EBUSY;
		else if (c->state == NVME_CTRLR_DISABLED)
			paths[cnt++] = c; /* reconnected at once, answered when it ends */
		else
			rc = -EALREADY;
		if (rc == -EALREADY)
			rc = 0;
	}
	if (n == 0)
		rc = -ENODEV;
	if (rc < 0 || cnt == 0) {
		free(paths);
		if (rc < 0)
			sim_reply_errno(req, -rc);
		else
			sim_reply(req, json_true());
		return;
	}
	nvme_reset_start(req->sim, paths, cnt, req);
}

static void rpc_bdev_nvme_enable_controller(struct sim_req *req)
{
	controller_op(req, true);
}

static void rpc_bdev_nvme_disable_controller(struct sim_req *req)
{
	controller_op(req, false);
}

/* ---- get_controllers, get_io_paths, multipath policy ---------------------------------------- */

static const char *state_str(enum nvme_ctrlr_state st)
{
	switch (st) {
	case NVME_CTRLR_RESETTING:
		return "resetting";
	case NVME_CTRLR_RECONNECT_DELAYED:
		return "reconnect_is_delayed";
	case NVME_CTRLR_DELETING:
		return "deleting";
	case NVME_CTRLR_FAILED:
		return "failed";
	case NVME_CTRLR_DISABLED:
		return "disabled";
	default:
		return "enabled";
	}
}

static json_t *ctrlr_json(const struct nvme_ctrlr *c)
{
	json_t *o = json_pack("{s:s,s:o}", "state", state_str(c->state), "trid",
			      nvme_trid_json(&c->trid));

	if (json_array_size(c->alternate_trids))
		json_object_set(o, "alternate_trids", c->alternate_trids);
	json_object_set_new(o, "cntlid", json_integer(c->cntlid));
	json_object_set_new(o, "host",
			    json_pack("{s:s,s:s,s:s}", "nqn", c->hostnqn, "addr", c->hostaddr,
				      "svcid", c->hostsvcid));
	return o;
}

static json_t *nbdev_ctrlr_json(const struct nvme_bdev_ctrlr *n)
{
	json_t *arr = json_array();

	for (const struct nvme_ctrlr *c = n->ctrlrs; c; c = c->next)
		json_array_append_new(arr, ctrlr_json(c));
	return json_pack("{s:s,s:o}", "name", n->name, "ctrlrs", arr);
}

static void rpc_bdev_nvme_get_controllers(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"name", SIM_J_STRING, true}};
	const char *name = str_param(req->params, "name");
	json_t *arr;

	if (req->params && !sim_decode_ok(req->params, dec, 1)) {
		sim_reply_error(req, -32603, "spdk_json_decode_object failed");
		return;
	}
	nvme_links_poll(req->sim);
	arr = json_array();
	if (name) {
		struct nvme_bdev_ctrlr *n = nvme_bdev_ctrlr_find(req->sim, name);

		if (!n) {
			json_decref(arr);
			/* sic: a positive errno in SPDK */
			sim_reply_error(req, EINVAL, "Controller %s does not exist", name);
			return;
		}
		json_array_append_new(arr, nbdev_ctrlr_json(n));
	} else {
		for (struct nvme_bdev_ctrlr *n = req->sim->nvme->ctrlrs; n; n = n->next)
			json_array_append_new(arr, nbdev_ctrlr_json(n));
	}
	sim_reply(req, arr);
}

static struct nvme_bdev *nvme_bdev_of(struct sim *s, struct sim_bdev *b)
{
	for (struct nvme_bdev_ctrlr *n = s->nvme->ctrlrs; n; n = n->next)
		for (struct nvme_bdev *nb = n->bdevs; nb; nb = nb->next)
			if (nb->bdev == b)
				return nb;
	return NULL;
}

static json_t *io_path_json(const struct nvme_bdev *nb, const struct nvme_ctrlr *c, bool current)
{
	json_t *t = json_pack("{s:s,s:s}", "trtype", c->trid.trtype, "traddr", c->trid.traddr);

	if (c->trid.trsvcid[0])
		json_object_set_new(t, "trsvcid", json_string(c->trid.trsvcid));
	if (c->trid.adrfam[0])
		json_object_set_new(t, "adrfam", json_string(c->trid.adrfam));
	return json_pack("{s:s,s:i,s:b,s:b,s:b,s:o}", "bdev_name", nb->bdev->name, "cntlid",
			 (int)c->cntlid, "current", current, "connected", nvme_ctrlr_connected(c),
			 "accessible", 1, "transport", t);
}

/* The io_paths of one channel (a bdev on a thread), as nvme_io_path_is_current sees them. */
static void channel_paths(struct sim_channel *ch, struct nvme_bdev *nb, json_t *arr)
{
	struct nvme_bdev_ctrlr *n = nb->nbdev_ctrlr;
	const struct nvme_ctrlr *first = NULL;

	for (const struct nvme_ctrlr *c = n->ctrlrs; c && !first; c = c->next)
		if (nvme_ctrlr_connected(c))
			first = c;
	for (const struct nvme_ctrlr *c = n->ctrlrs; c; c = c->next) {
		bool current = false;

		if (nvme_ctrlr_connected(c)) {
			if (n->policy == NVME_POLICY_ACTIVE_ACTIVE)
				current = true;
			else
				current = ch->io_done && c == first;
		}
		json_array_append_new(arr, io_path_json(nb, c, current));
	}
}

static void rpc_bdev_nvme_get_io_paths(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"name", SIM_J_STRING, true}};
	const char *name = str_param(req->params, "name");
	json_t *groups = json_array(), *threads = json_array();
	size_t i;
	json_t *th;

	if (req->params && !sim_decode_ok(req->params, dec, 1)) {
		json_decref(groups);
		json_decref(threads);
		sim_reply_error(req, -32603, "spdk_json_decode_object failed");
		return;
	}
	nvme_links_poll(req->sim);
	/* the app thread exists first; poll groups and others follow in creation order */
	for (struct sim_channel *ch = sim_channel_first(req->sim); ch; ch = ch->next)
		if (strcmp(ch->thread, "app_thread") == 0 && json_array_size(threads) == 0)
			json_array_append_new(threads, json_string("app_thread"));
	for (struct sim_channel *ch = sim_channel_first(req->sim); ch; ch = ch->next) {
		bool seen = false;

		json_array_foreach(threads, i, th) seen |=
			strcmp(json_string_value(th), ch->thread) == 0;
		if (!seen)
			json_array_append_new(threads, json_string(ch->thread));
	}
	json_array_foreach(threads, i, th)
	{
		json_t *paths = json_array();

		for (struct sim_channel *ch = sim_channel_first(req->sim); ch; ch = ch->next) {
			struct nvme_bdev *nb;

			if (strcmp(ch->thread, json_string_value(th)) != 0)
				continue;
			nb = nvme_bdev_of(req->sim, ch->bdev);
			if (!nb || (name && strcmp(name, nb->bdev->name) != 0))
				continue;
			channel_paths(ch, nb, paths);
		}
		if (json_array_size(paths))
			json_array_append_new(
				groups, json_pack("{s:O,s:o}", "thread", th, "io_paths", paths));
		else
			json_decref(paths);
	}
	json_decref(threads);
	sim_reply(req, json_pack("{s:o}", "poll_groups", groups));
}

static void rpc_bdev_nvme_set_multipath_policy(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"name", SIM_J_STRING, false},
		{"policy", SIM_J_STRING, false},
		{"selector", SIM_J_STRING, true},
		{"rr_min_io", SIM_J_UINT32, true},
	};
	const char *policy = str_param(req->params, "policy");
	const char *selector = str_param(req->params, "selector");
	json_t *rr = json_object_get(req->params, "rr_min_io");
	struct sim_bdev *b;
	struct nvme_bdev *nb;
	bool aa;

	if (!sim_decode_strict(req->params, dec, ARRAY_SIZE(dec)) ||
	    (strcmp(policy, "active_passive") && strcmp(policy, "active_active")) ||
	    (selector && strcmp(selector, "round_robin") && strcmp(selector, "queue_depth"))) {
		reply_decode_failed(req);
		return;
	}
	aa = strcmp(policy, "active_active") == 0;
	if (!aa && selector) {
		reply_decode_failed(req);
		return;
	}
	if (aa && (!selector || strcmp(selector, "round_robin") == 0) && rr &&
	    json_integer_value(rr) == 0) {
		sim_reply_errno(req, EINVAL);
		return;
	}
	b = sim_bdev_find(req->sim, str_param(req->params, "name"));
	nb = b ? nvme_bdev_of(req->sim, b) : NULL;
	if (!nb) {
		sim_reply_errno(req, ENODEV);
		return;
	}
	nb->nbdev_ctrlr->policy = aa ? NVME_POLICY_ACTIVE_ACTIVE : NVME_POLICY_ACTIVE_PASSIVE;
	if (aa) {
		nb->nbdev_ctrlr->selector = selector && strcmp(selector, "queue_depth") == 0
						    ? "queue_depth"
						    : "round_robin";
		nb->nbdev_ctrlr->rr_min_io = rr ? (uint32_t)json_integer_value(rr) : 1;
	}
	sim_channel_clear_io(req->sim, b);
	sim_reply(req, json_true());
}

const struct sim_method sim_nvme_methods[] = {
	{"bdev_nvme_set_options", rpc_bdev_nvme_set_options, SIM_STARTUP | SIM_RUNTIME},
	{"bdev_nvme_set_hotplug", rpc_bdev_nvme_set_hotplug, SIM_RUNTIME},
	{"bdev_nvme_attach_controller", rpc_bdev_nvme_attach_controller, SIM_RUNTIME},
	{"bdev_nvme_detach_controller", rpc_bdev_nvme_detach_controller, SIM_RUNTIME},
	{"bdev_nvme_reset_controller", rpc_bdev_nvme_reset_controller, SIM_RUNTIME},
	{"bdev_nvme_enable_controller", rpc_bdev_nvme_enable_controller, SIM_RUNTIME},
	{"bdev_nvme_disable_controller", rpc_bdev_nvme_disable_controller, SIM_RUNTIME},
	{"bdev_nvme_get_controllers", rpc_bdev_nvme_get_controllers, SIM_RUNTIME},
	{"bdev_nvme_get_io_paths", rpc_bdev_nvme_get_io_paths, SIM_RUNTIME},
	{"bdev_nvme_send_cmd", rpc_bdev_nvme_send_cmd, SIM_RUNTIME},
	{"bdev_nvme_set_multipath_policy", rpc_bdev_nvme_set_multipath_policy, SIM_RUNTIME},
	{NULL, NULL, 0},
};
