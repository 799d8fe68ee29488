/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NVMe-oF target (lib/nvmf): transports, subsystems with namespaces and hosts,
 * nvmf_get_subsystems and the saved "nvmf" config. Connected hosts hear about namespace
 * changes (resize, add, remove). Listeners and connections: sim_nvmf_net.c.
 */
#include "sim/sim_fabric.h"
#include "sim/sim_keyring.h"
#include "sim/sim_nvmf_internal.h"

#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------------------- */

const char *nvmf_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

void nvmf_reply_invalid(struct sim_req *req)
{
	sim_reply_error(req, -32602, "Invalid parameters");
}

struct nvmf_subsystem *nvmf_subsys_find(struct sim *s, const char *nqn)
{
	for (struct nvmf_subsystem *ss = nqn ? s->target->subsystems : NULL; ss; ss = ss->next)
		if (strcmp(ss->nqn, nqn) == 0)
			return ss;
	return NULL;
}

/* Canonical transport name, as spdk_nvme_transport_id_populate_trstring writes it. */
const char *nvmf_trtype_canon(const char *t)
{
	static const char *const known[] = {"TCP", "RDMA", "PCIe", "FC", "VFIOUSER"};

	for (size_t i = 0; t && i < ARRAY_SIZE(known); i++)
		if (strcasecmp(t, known[i]) == 0)
			return known[i];
	return NULL;
}

const char *nvmf_adrfam_canon(const char *a)
{
	static const char *const known[] = {"IPv4", "IPv6", "IB", "FC", "INTRA_HOST"};

	for (size_t i = 0; a && i < ARRAY_SIZE(known); i++)
		if (strcasecmp(a, known[i]) == 0)
			return known[i];
	return NULL;
}

json_t *nvmf_transport_find(struct sim *s, const char *trtype)
{
	size_t i;
	json_t *t;

	json_array_foreach(s->target->transports, i,
			   t) if (strcasecmp(nvmf_str(t, "trtype"), trtype) == 0) return t;
	return NULL;
}

/* ---- transports ---------------------------------------------------------------------- */

static json_t *transport_defaults(const char *trtype)
{
	if (strcmp(trtype, "TCP") == 0)
		return json_pack("{s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:I,s:b,s:b,s:b,s:i,s:i,s:i,"
				 "s:i}",
				 "trtype", "TCP", "max_queue_depth", 128, "max_io_qpairs_per_ctrlr",
				 127, "in_capsule_data_size", 4096, "max_io_size", 131072,
				 "io_unit_size", 131072, "max_aq_depth", 128, "num_shared_buffers",
				 511, "buf_cache_size", (json_int_t)4294967295LL,
				 "dif_insert_or_strip", 0, "zcopy", 0, "c2h_success", 1,
				 "sock_priority", 0, "abort_timeout_sec", 1, "ack_timeout", 0,
				 "data_wr_pool_size", 0);
	return json_pack("{s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:I,s:b,s:b,s:i,s:i,s:i,s:b,s:i,"
			 "s:b}",
			 "trtype", trtype, "max_queue_depth", 128, "max_io_qpairs_per_ctrlr", 127,
			 "in_capsule_data_size", 4096, "max_io_size", 131072, "io_unit_size", 8192,
			 "max_aq_depth", 128, "num_shared_buffers", 4095, "buf_cache_size",
			 (json_int_t)4294967295LL, "dif_insert_or_strip", 0, "zcopy", 0,
			 "abort_timeout_sec", 1, "ack_timeout", 0, "data_wr_pool_size", 0, "no_srq",
			 0, "max_srq_depth", 4096, "no_wr_batching", 0);
}

void rpc_nvmf_create_transport(struct sim_req *req)
{
	const char *trtype = nvmf_str(req->params, "trtype"), *canon;
	json_t *t;
	const char *key;
	json_t *v;

	if (!json_is_object(req->params) || !trtype) {
		nvmf_reply_invalid(req);
		return;
	}
	canon = nvmf_trtype_canon(trtype);
	if (!canon || strcmp(canon, "PCIe") == 0 || strcmp(canon, "FC") == 0 ||
	    strcmp(canon, "VFIOUSER") == 0) {
		sim_reply_error(req, -32602, "Invalid transport type '%s'", trtype);
		return;
	}
	if (nvmf_transport_find(req->sim, canon)) {
		sim_reply_error(req, -32603, "Transport type '%s' already exists", trtype);
		return;
	}
	t = transport_defaults(canon);
	json_object_foreach(req->params, key, v)
	{
		if (strcmp(key, "trtype") == 0 || strcmp(key, "tgt_name") == 0)
			continue;
		if (!json_object_get(t, key) && strcmp(key, "max_qpairs_per_ctrlr") != 0) {
			json_decref(t);
			nvmf_reply_invalid(req);
			return;
		}
		if (strcmp(key, "max_qpairs_per_ctrlr") == 0)
			json_object_set_new(t, "max_io_qpairs_per_ctrlr",
					    json_integer(json_integer_value(v) - 1));
		else
			json_object_set(t, key, v);
	}
	json_array_append_new(req->sim->target->transports, t);
	sim_reply(req, json_true());
}

void rpc_nvmf_get_transports(struct sim_req *req)
{
	json_t *arr = json_array();
	size_t i;
	json_t *t;

	json_array_foreach(req->sim->target->transports, i, t) json_array_append(arr, t);
	sim_reply(req, arr);
}

/* ---- subsystems ------------------------------------------------------------------------ */

static void ns_release(struct sim *s, struct nvmf_ns *ns)
{
	if (ns->bdev) {
		sim_bdev_channel_close(s, ns->bdev, NVMF_THREAD);
		sim_bdev_release(ns->bdev);
	}
	free(ns);
}

static void host_free(struct nvmf_host *h)
{
	free(h->nqn);
	free(h->dhchap_key);
	free(h->dhchap_ctrlr_key);
	free(h->psk);
	free(h);
}

static void subsys_free(struct sim *s, struct nvmf_subsystem *ss)
{
	while (ss->ctrlrs)
		nvmf_ctrlr_drop(s, ss->ctrlrs);
	while (ss->listeners) {
		struct nvmf_listener *l = ss->listeners;

		ss->listeners = l->next;
		nvmf_listener_free(s, l);
	}
	while (ss->ns) {
		struct nvmf_ns *ns = ss->ns;

		ss->ns = ns->next;
		ns_release(s, ns);
	}
	while (ss->hosts) {
		struct nvmf_host *h = ss->hosts;

		ss->hosts = h->next;
		host_free(h);
	}
	free(ss->nqn);
	free(ss->serial);
	free(ss->model);
	free(ss);
}

/* SPDK's spdk_nvmf_nqn_is_valid, reduced to its format rules. */
static bool nqn_valid(const char *nqn)
{
	size_t len = strlen(nqn);

	if (len > 223)
		return false;
	if (strncmp(nqn, "nqn.2014-08.org.nvmexpress:uuid:", 32) == 0)
		return len == 32 + 36;
	if (strncmp(nqn, "nqn.", 4) != 0 || len < 12)
		return false;
	for (int i = 4; i < 8; i++)
		if (!isdigit((unsigned char)nqn[i]))
			return false;
	return nqn[8] == '-' && isdigit((unsigned char)nqn[9]) && isdigit((unsigned char)nqn[10]) &&
	       nqn[11] == '.';
}

static bool printable_ascii(const char *s, size_t max)
{
	if (strlen(s) > max)
		return false;
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

void rpc_nvmf_create_subsystem(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"nqn", SIM_J_STRING, false},
		{"serial_number", SIM_J_STRING, true},
		{"model_number", SIM_J_STRING, true},
		{"tgt_name", SIM_J_STRING, true},
		{"max_namespaces", SIM_J_UINT32, true},
		{"allow_any_host", SIM_J_BOOL, true},
		{"ana_reporting", SIM_J_BOOL, true},
		{"min_cntlid", SIM_J_UINT16, true},
		{"max_cntlid", SIM_J_UINT16, true},
		{"max_discard_size_kib", SIM_J_UINT, true},
		{"max_write_zeroes_size_kib", SIM_J_UINT, true},
		{"passthrough", SIM_J_BOOL, true},
		{"enable_nssr", SIM_J_BOOL, true},
	};
	struct sim_target_state *st = req->sim->target;
	const char *nqn, *sn, *mn;
	struct nvmf_subsystem *ss, **tail;
	json_t *v;

	if (!sim_decode_strict(req->params, dec, ARRAY_SIZE(dec))) {
		nvmf_reply_invalid(req);
		return;
	}
	nqn = nvmf_str(req->params, "nqn");
	sn = nvmf_str(req->params, "serial_number");
	mn = nvmf_str(req->params, "model_number");
	if (!nqn_valid(nqn) || nvmf_subsys_find(req->sim, nqn) ||
	    strcmp(nqn, NVMF_DISCOVERY_NQN) == 0) {
		sim_reply_error(req, -32603, "Unable to create subsystem %s", nqn);
		return;
	}
	if (sn && !printable_ascii(sn, 20)) {
		sim_reply_error(req, -32602, "Invalid SN %s", sn);
		return;
	}
	if (mn && !printable_ascii(mn, 40)) {
		sim_reply_error(req, -32602, "Invalid MN %s", mn);
		return;
	}
	ss = calloc(1, sizeof(*ss));
	if (!ss)
		abort();
	ss->nqn = util_xstrdup(nqn);
	ss->serial = util_xstrdup(sn ? sn : "00000000000000000000");
	ss->model = util_xstrdup(mn ? mn : "SPDK bdev Controller");
	ss->allow_any_host = json_is_true(json_object_get(req->params, "allow_any_host"));
	ss->ana_reporting = json_is_true(json_object_get(req->params, "ana_reporting"));
	v = json_object_get(req->params, "max_namespaces");
	ss->max_namespaces = v ? (uint32_t)json_integer_value(v) : 32;
	v = json_object_get(req->params, "min_cntlid");
	ss->min_cntlid = v ? (uint16_t)json_integer_value(v) : 1;
	v = json_object_get(req->params, "max_cntlid");
	ss->max_cntlid = v ? (uint16_t)json_integer_value(v) : 0xffef;
	if (ss->min_cntlid < 1 || ss->max_cntlid > 0xffef || ss->min_cntlid > ss->max_cntlid) {
		sim_reply_error(req, -32602, "Invalid cntlid range [%u-%u]", ss->min_cntlid,
				ss->max_cntlid);
		subsys_free(req->sim, ss);
		return;
	}
	ss->next_cntlid = ss->min_cntlid;
	for (tail = &st->subsystems; *tail; tail = &(*tail)->next)
		;
	*tail = ss;
	sim_reply(req, json_true());
}

void rpc_nvmf_delete_subsystem(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"nqn", SIM_J_STRING, false},
						 {"tgt_name", SIM_J_STRING, true}};
	struct nvmf_subsystem *ss;

	if (!sim_decode_strict(req->params, dec, 2)) {
		nvmf_reply_invalid(req);
		return;
	}
	ss = nvmf_subsys_find(req->sim, nvmf_str(req->params, "nqn"));
	if (!ss) {
		nvmf_reply_invalid(req);
		return;
	}
	for (struct nvmf_subsystem **pp = &req->sim->target->subsystems; *pp; pp = &(*pp)->next) {
		if (*pp == ss) {
			*pp = ss->next;
			break;
		}
	}
	subsys_free(req->sim, ss);
	sim_reply(req, json_true());
}

/* ---- namespaces ---------------------------------------------------------------------------- */

static json_t *ns_wire(struct sim *s, const struct nvmf_ns *ns)
{
	json_t *o = json_pack("{s:i,s:s,s:i,s:I,s:i}", "nsid", (int)ns->nsid, "uuid", ns->uuid,
			      "block_size", (int)ns->bdev->block_size, "num_blocks",
			      (json_int_t)ns->bdev->num_blocks, "md_size", (int)ns->bdev->md_size);
	void *buf = NULL;
	size_t len = 0;

	if (sim_bdev_sb_read(ns->bdev, &buf, &len) == 0) {
		char *hex = fab_hex_encode(buf, len);

		json_object_set_new(o, "sb", hex ? json_string(hex) : json_null());
		free(hex);
		free(buf);
	} else {
		json_object_set_new(o, "sb", json_null());
	}
	if (ns->bdev->blocks)
		json_object_set_new(o, "blocks", json_deep_copy(ns->bdev->blocks));
	return o;
}

json_t *nvmf_ns_list_wire(struct sim *s, struct nvmf_subsystem *ss)
{
	json_t *arr = json_array();

	for (struct nvmf_ns *ns = ss->ns; ns; ns = ns->next)
		json_array_append_new(arr, ns_wire(s, ns));
	return arr;
}

static void subsys_notify_ns(struct sim *s, struct nvmf_subsystem *ss)
{
	for (struct nvmf_ctrlr *c = ss->ctrlrs; c; c = c->next)
		fab_link_send(c->link, json_pack("{s:s,s:o}", "op", "ns_change", "namespaces",
						 nvmf_ns_list_wire(s, ss)));
}

static void uuid_to_nguid(const char *uuid, char out[33])
{
	size_t j = 0;

	for (size_t i = 0; uuid[i] && j < 32; i++)
		if (uuid[i] != '-')
			out[j++] = (char)toupper((unsigned char)uuid[i]);
	out[j] = '\0';
}

void rpc_nvmf_subsystem_add_ns(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"nqn", SIM_J_STRING, false},
		{"namespace", SIM_J_OBJECT, false},
		{"tgt_name", SIM_J_STRING, true},
		{"no_auto_visible", SIM_J_BOOL, true},
	};
	static const struct sim_decoder ns_dec[] = {
		{"bdev_name", SIM_J_STRING, false},  {"nsid", SIM_J_UINT32, true},
		{"ptpl_file", SIM_J_STRING, true},   {"nguid", SIM_J_STRING, true},
		{"eui64", SIM_J_STRING, true},	     {"uuid", SIM_J_STRING, true},
		{"anagrpid", SIM_J_UINT32, true},    {"no_auto_visible", SIM_J_BOOL, true},
		{"hide_metadata", SIM_J_BOOL, true},
	};
	json_t *nsp = json_object_get(req->params, "namespace"), *v;
	struct nvmf_subsystem *ss;
	struct nvmf_ns *ns, **pp;
	struct sim_bdev *b;
	uint32_t nsid;

	if (!sim_decode_strict(req->params, dec, ARRAY_SIZE(dec)) ||
	    !sim_decode_strict(nsp, ns_dec, ARRAY_SIZE(ns_dec))) {
		nvmf_reply_invalid(req);
		return;
	}
	ss = nvmf_subsys_find(req->sim, nvmf_str(req->params, "nqn"));
	if (!ss) {
		sim_reply_error(req, -32602, "Unable to find subsystem with NQN %s",
				nvmf_str(req->params, "nqn"));
		return;
	}
	b = sim_bdev_find(req->sim, nvmf_str(nsp, "bdev_name"));
	v = json_object_get(nsp, "nsid");
	nsid = v ? (uint32_t)json_integer_value(v) : 0;
	if (nsid == 0)
		for (nsid = 1; nsid <= ss->max_namespaces; nsid++) {
			bool used = false;

			for (ns = ss->ns; ns; ns = ns->next)
				used |= ns->nsid == nsid;
			if (!used)
				break;
		}
	for (ns = ss->ns; ns; ns = ns->next)
		if (ns->nsid == nsid)
			b = NULL;
	if (!b || nsid > ss->max_namespaces ||
	    sim_bdev_claim(b, "NVMe-oF Target", "exclusive_write") < 0) {
		sim_reply_error(req, -32602, "Invalid parameters");
		return;
	}
	ns = calloc(1, sizeof(*ns));
	if (!ns)
		abort();
	ns->nsid = nsid;
	ns->bdev = b;
	snprintf(ns->uuid, sizeof(ns->uuid), "%s",
		 nvmf_str(nsp, "uuid") ? nvmf_str(nsp, "uuid") : b->uuid);
	if (nvmf_str(nsp, "nguid"))
		snprintf(ns->nguid, sizeof(ns->nguid), "%s", nvmf_str(nsp, "nguid"));
	else
		uuid_to_nguid(ns->uuid, ns->nguid);
	ns->no_auto_visible = json_is_true(json_object_get(nsp, "no_auto_visible")) ||
			      json_is_true(json_object_get(req->params, "no_auto_visible"));
	for (pp = &ss->ns; *pp && (*pp)->nsid < nsid; pp = &(*pp)->next)
		;
	ns->next = *pp;
	*pp = ns;
	/* the poll groups open an I/O channel on every namespace */
	sim_bdev_channel_open(req->sim, b, NVMF_THREAD);
	subsys_notify_ns(req->sim, ss);
	sim_reply(req, json_integer(nsid));
}

void rpc_nvmf_subsystem_remove_ns(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"nqn", SIM_J_STRING, false},
						 {"nsid", SIM_J_UINT32, false},
						 {"tgt_name", SIM_J_STRING, true}};
	struct nvmf_subsystem *ss;
	uint32_t nsid;

	if (!sim_decode_strict(req->params, dec, ARRAY_SIZE(dec))) {
		nvmf_reply_invalid(req);
		return;
	}
	ss = nvmf_subsys_find(req->sim, nvmf_str(req->params, "nqn"));
	nsid = (uint32_t)json_integer_value(json_object_get(req->params, "nsid"));
	for (struct nvmf_ns **pp = ss ? &ss->ns : NULL; pp && *pp; pp = &(*pp)->next) {
		if ((*pp)->nsid == nsid) {
			struct nvmf_ns *ns = *pp;

			*pp = ns->next;
			ns_release(req->sim, ns);
			subsys_notify_ns(req->sim, ss);
			sim_reply(req, json_true());
			return;
		}
	}
	nvmf_reply_invalid(req);
}

void sim_nvmf_bdev_resized(struct sim *s, struct sim_bdev *b)
{
	if (!s->target)
		return;
	for (struct nvmf_subsystem *ss = s->target->subsystems; ss; ss = ss->next)
		for (struct nvmf_ns *ns = ss->ns; ns; ns = ns->next)
			if (ns->bdev == b)
				subsys_notify_ns(s, ss);
}

void sim_nvmf_bdev_removed(struct sim *s, struct sim_bdev *b)
{
	if (!s->target)
		return;
	for (struct nvmf_subsystem *ss = s->target->subsystems; ss; ss = ss->next) {
		for (struct nvmf_ns **pp = &ss->ns; *pp;) {
			struct nvmf_ns *ns = *pp;

			if (ns->bdev != b) {
				pp = &ns->next;
				continue;
			}
			*pp = ns->next;
			sim_bdev_channel_close(s, b, NVMF_THREAD);
			free(ns);
			subsys_notify_ns(s, ss);
		}
	}
}

/* ---- hosts ------------------------------------------------------------------------------ */

struct nvmf_host *nvmf_host_find(struct nvmf_subsystem *ss, const char *nqn)
{
	for (struct nvmf_host *h = ss->hosts; h; h = h->next)
		if (strcmp(h->nqn, nqn) == 0)
			return h;
	return NULL;
}

static bool key_known(struct sim *s, const char *name)
{
	struct sim_key *k;

	if (!name)
		return true;
	k = sim_keyring_get(s, name);
	sim_keyring_put(s, k);
	return k != NULL;
}

static void host_set_keys(struct nvmf_host *h, json_t *params)
{
	const char *k = nvmf_str(params, "dhchap_key"), *ck = nvmf_str(params, "dhchap_ctrlr_key");

	free(h->dhchap_key);
	free(h->dhchap_ctrlr_key);
	h->dhchap_key = k ? util_xstrdup(k) : NULL;
	h->dhchap_ctrlr_key = ck ? util_xstrdup(ck) : NULL;
}

void rpc_nvmf_subsystem_add_host(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"nqn", SIM_J_STRING, false},	    {"host", SIM_J_STRING, false},
		{"tgt_name", SIM_J_STRING, true},   {"psk", SIM_J_STRING, true},
		{"dhchap_key", SIM_J_STRING, true}, {"dhchap_ctrlr_key", SIM_J_STRING, true},
	};
	struct nvmf_subsystem *ss;
	struct nvmf_host *h, **tail;
	const char *host;

	if (!sim_decode_strict(req->params, dec, ARRAY_SIZE(dec))) {
		nvmf_reply_invalid(req);
		return;
	}
	ss = nvmf_subsys_find(req->sim, nvmf_str(req->params, "nqn"));
	host = nvmf_str(req->params, "host");
	if (!ss || !key_known(req->sim, nvmf_str(req->params, "dhchap_key")) ||
	    !key_known(req->sim, nvmf_str(req->params, "dhchap_ctrlr_key")) ||
	    !key_known(req->sim, nvmf_str(req->params, "psk")) ||
	    (nvmf_str(req->params, "dhchap_ctrlr_key") && !nvmf_str(req->params, "dhchap_key"))) {
		nvmf_reply_invalid(req);
		return;
	}
	if (nvmf_host_find(ss, host)) {
		/* adding a host twice is accepted and changes nothing */
		sim_reply(req, json_true());
		return;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		abort();
	h->nqn = util_xstrdup(host);
	host_set_keys(h, req->params);
	if (nvmf_str(req->params, "psk"))
		h->psk = util_xstrdup(nvmf_str(req->params, "psk"));
	for (tail = &ss->hosts; *tail; tail = &(*tail)->next)
		;
	*tail = h;
	sim_reply(req, json_true());
}

void rpc_nvmf_subsystem_remove_host(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"nqn", SIM_J_STRING, false},
		{"host", SIM_J_STRING, false},
		{"tgt_name", SIM_J_STRING, true},
		{"dhchap_key", SIM_J_STRING, true},
		{"dhchap_ctrlr_key", SIM_J_STRING, true},
	};
	struct nvmf_subsystem *ss;
	const char *host;

	if (!sim_decode_strict(req->params, dec, ARRAY_SIZE(dec))) {
		nvmf_reply_invalid(req);
		return;
	}
	ss = nvmf_subsys_find(req->sim, nvmf_str(req->params, "nqn"));
	if (!ss) {
		nvmf_reply_invalid(req);
		return;
	}
	host = nvmf_str(req->params, "host");
	for (struct nvmf_host **pp = &ss->hosts; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->nqn, host) == 0) {
			struct nvmf_host *h = *pp;

			*pp = h->next;
			host_free(h);
			break;
		}
	}
	/* the host's controllers are disconnected */
	for (struct nvmf_ctrlr *c = ss->ctrlrs, *n; c; c = n) {
		n = c->next;
		if (!ss->allow_any_host && strcmp(c->hostnqn, host) == 0)
			nvmf_ctrlr_drop(req->sim, c);
	}
	sim_reply(req, json_true());
}

void rpc_nvmf_subsystem_allow_any_host(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"nqn", SIM_J_STRING, false},
						 {"allow_any_host", SIM_J_BOOL, false},
						 {"tgt_name", SIM_J_STRING, true}};
	struct nvmf_subsystem *ss;

	if (!sim_decode_strict(req->params, dec, ARRAY_SIZE(dec))) {
		nvmf_reply_invalid(req);
		return;
	}
	ss = nvmf_subsys_find(req->sim, nvmf_str(req->params, "nqn"));
	if (!ss) {
		nvmf_reply_invalid(req);
		return;
	}
	ss->allow_any_host = json_is_true(json_object_get(req->params, "allow_any_host"));
	sim_reply(req, json_true());
}

void rpc_nvmf_subsystem_set_keys(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"nqn", SIM_J_STRING, false},
		{"host", SIM_J_STRING, false},
		{"tgt_name", SIM_J_STRING, true},
		{"dhchap_key", SIM_J_STRING, true},
		{"dhchap_ctrlr_key", SIM_J_STRING, true},
	};
	struct nvmf_subsystem *ss;
	struct nvmf_host *h;

	if (!sim_decode_strict(req->params, dec, ARRAY_SIZE(dec))) {
		nvmf_reply_invalid(req);
		return;
	}
	ss = nvmf_subsys_find(req->sim, nvmf_str(req->params, "nqn"));
	h = ss ? nvmf_host_find(ss, nvmf_str(req->params, "host")) : NULL;
	if (!h || !key_known(req->sim, nvmf_str(req->params, "dhchap_key")) ||
	    !key_known(req->sim, nvmf_str(req->params, "dhchap_ctrlr_key"))) {
		nvmf_reply_invalid(req);
		return;
	}
	host_set_keys(h, req->params);
	sim_reply(req, json_true());
}

/* ---- listing and config ---------------------------------------------------------------------- */

static json_t *subsys_json(const struct nvmf_subsystem *ss)
{
	json_t *o = json_pack("{s:s,s:s}", "nqn", ss->nqn, "subtype", "NVMe");
	json_t *la = json_array(), *hosts = json_array(), *nss = json_array();

	for (const struct nvmf_listener *l = ss->listeners; l; l = l->next)
		json_array_append_new(la, nvmf_listener_json(l));
	for (const struct nvmf_host *h = ss->hosts; h; h = h->next) {
		json_t *ho = json_pack("{s:s}", "nqn", h->nqn);

		if (h->psk)
			json_object_set_new(ho, "psk", json_string(h->psk));
		if (h->dhchap_key)
			json_object_set_new(ho, "dhchap_key", json_string(h->dhchap_key));
		if (h->dhchap_ctrlr_key)
			json_object_set_new(ho, "dhchap_ctrlr_key",
					    json_string(h->dhchap_ctrlr_key));
		json_array_append_new(hosts, ho);
	}
	for (const struct nvmf_ns *ns = ss->ns; ns; ns = ns->next)
		json_array_append_new(nss,
				      json_pack("{s:i,s:s,s:s,s:s,s:s,s:b}", "nsid", (int)ns->nsid,
						"bdev_name", ns->bdev->name, "name", ns->bdev->name,
						"nguid", ns->nguid, "uuid", ns->uuid,
						"no_auto_visible", ns->no_auto_visible));
	json_object_set_new(o, "listen_addresses", la);
	json_object_set_new(o, "allow_any_host", json_boolean(ss->allow_any_host));
	json_object_set_new(o, "hosts", hosts);
	json_object_set_new(o, "serial_number", json_string(ss->serial));
	json_object_set_new(o, "model_number", json_string(ss->model));
	json_object_set_new(o, "max_namespaces", json_integer(ss->max_namespaces));
	json_object_set_new(o, "min_cntlid", json_integer(ss->min_cntlid));
	json_object_set_new(o, "max_cntlid", json_integer(ss->max_cntlid));
	json_object_set_new(o, "namespaces", nss);
	return o;
}

void rpc_nvmf_get_subsystems(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"nqn", SIM_J_STRING, true},
						 {"tgt_name", SIM_J_STRING, true}};
	const char *nqn = nvmf_str(req->params, "nqn");
	json_t *arr;

	if (req->params && !sim_decode_ok(req->params, dec, 2)) {
		nvmf_reply_invalid(req);
		return;
	}
	if (nqn && !nvmf_subsys_find(req->sim, nqn) && strcmp(nqn, NVMF_DISCOVERY_NQN) != 0) {
		nvmf_reply_invalid(req);
		return;
	}
	arr = json_array();
	if (!nqn || strcmp(nqn, NVMF_DISCOVERY_NQN) == 0)
		json_array_append_new(arr,
				      json_pack("{s:s,s:s,s:[],s:b,s:[]}", "nqn",
						NVMF_DISCOVERY_NQN, "subtype", "Discovery",
						"listen_addresses", "allow_any_host", 1, "hosts"));
	for (struct nvmf_subsystem *ss = req->sim->target->subsystems; ss; ss = ss->next)
		if (!nqn || strcmp(nqn, ss->nqn) == 0)
			json_array_append_new(arr, subsys_json(ss));
	sim_reply(req, arr);
}

static void config_add(json_t *arr, const char *method, json_t *params)
{
	json_array_append_new(arr, json_pack("{s:s,s:o}", "method", method, "params", params));
}

void sim_nvmf_config(struct sim *s, json_t *arr)
{
	size_t i;
	json_t *t;

	config_add(arr, "nvmf_set_config",
		   json_pack("{s:s,s:{s:b,s:b},s:[s,s,s],s:[s,s,s,s,s,s]}", "discovery_filter",
			     "match_any", "admin_cmd_passthru", "identify_ctrlr", 0,
			     "vendor_specific", 0, "dhchap_digests", "sha256", "sha384", "sha512",
			     "dhchap_dhgroups", "null", "ffdhe2048", "ffdhe3072", "ffdhe4096",
			     "ffdhe6144", "ffdhe8192"));
	config_add(arr, "nvmf_set_max_subsystems", json_pack("{s:i}", "max_subsystems", 1024));
	config_add(arr, "nvmf_set_crdt",
		   json_pack("{s:i,s:i,s:i}", "crdt1", 0, "crdt2", 0, "crdt3", 0));
	json_array_foreach(s->target->transports, i, t)
		config_add(arr, "nvmf_create_transport", json_deep_copy(t));
	for (struct nvmf_subsystem *ss = s->target->subsystems; ss; ss = ss->next) {
		config_add(arr, "nvmf_create_subsystem",
			   json_pack("{s:s,s:b,s:s,s:s,s:i,s:i,s:i,s:b}", "nqn", ss->nqn,
				     "allow_any_host", ss->allow_any_host, "serial_number",
				     ss->serial, "model_number", ss->model, "max_namespaces",
				     (int)ss->max_namespaces, "min_cntlid", ss->min_cntlid,
				     "max_cntlid", ss->max_cntlid, "ana_reporting",
				     ss->ana_reporting));
		for (struct nvmf_host *h = ss->hosts; h; h = h->next) {
			json_t *p = json_pack("{s:s,s:s}", "nqn", ss->nqn, "host", h->nqn);

			if (h->psk)
				json_object_set_new(p, "psk", json_string(h->psk));
			if (h->dhchap_key)
				json_object_set_new(p, "dhchap_key", json_string(h->dhchap_key));
			if (h->dhchap_ctrlr_key)
				json_object_set_new(p, "dhchap_ctrlr_key",
						    json_string(h->dhchap_ctrlr_key));
			config_add(arr, "nvmf_subsystem_add_host", p);
		}
		for (struct nvmf_ns *ns = ss->ns; ns; ns = ns->next)
			config_add(arr, "nvmf_subsystem_add_ns",
				   json_pack("{s:s,s:{s:i,s:s,s:s,s:s,s:b}}", "nqn", ss->nqn,
					     "namespace", "nsid", (int)ns->nsid, "bdev_name",
					     ns->bdev->name, "nguid", ns->nguid, "uuid", ns->uuid,
					     "no_auto_visible", ns->no_auto_visible));
		for (struct nvmf_listener *l = ss->listeners; l; l = l->next)
			config_add(arr, "nvmf_subsystem_add_listener",
				   json_pack("{s:s,s:o,s:b}", "nqn", ss->nqn, "listen_address",
					     nvmf_listener_json(l), "secure_channel",
					     l->secure_channel));
	}
}

void sim_nvmf_fini(struct sim *s)
{
	while (s->target->subsystems) {
		struct nvmf_subsystem *ss = s->target->subsystems;

		s->target->subsystems = ss->next;
		subsys_free(s, ss);
	}
}
