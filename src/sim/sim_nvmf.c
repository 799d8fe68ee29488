/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NVMe-oF target (lib/nvmf): transports, subsystems with namespaces, hosts and
 * listeners. Listeners are real TCP sockets (sim_fabric.h); a connecting host is
 * checked as SPDK does (subsystem exists and listens there, host allowed, DH-HMAC-CHAP
 * keys), gets a controller id from the subsystem's counter and the namespaces, and
 * afterwards receives namespace changes. Superblocks written by hosts are stored on
 * the namespace's bdev here, so they outlive the host process.
 */
#include "sim/sim_fabric.h"
#include "sim/sim_keyring.h"
#include "sim/sim_target_internal.h"

#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DISCOVERY_NQN "nqn.2014-08.org.nvmexpress.discovery"
#define NVMF_THREAD "nvmf_tgt_poll_group_000"

struct nvmf_ns {
	uint32_t nsid;
	struct sim_bdev *bdev;
	char uuid[37];
	char nguid[33];
	bool no_auto_visible;
	struct nvmf_ns *next;
};

struct nvmf_listener {
	char trtype[16], adrfam[16];
	char *traddr, *trsvcid;
	bool secure_channel;
	struct nvmf_port *port;
	struct nvmf_listener *next;
};

struct nvmf_host {
	char *nqn;
	char *dhchap_key, *dhchap_ctrlr_key, *psk; /* key names in this node's keyring */
	struct nvmf_host *next;
};

/* A connected host controller. */
struct nvmf_ctrlr {
	struct nvmf_subsystem *subsys;
	struct nvmf_listener *listener;
	struct fab_link *link;
	char *hostnqn;
	uint16_t cntlid;
	struct nvmf_ctrlr *next;
};

struct nvmf_subsystem {
	char *nqn;
	char *serial, *model;
	bool allow_any_host, ana_reporting;
	uint32_t max_namespaces;
	uint16_t min_cntlid, max_cntlid, next_cntlid;
	struct nvmf_ns *ns;
	struct nvmf_listener *listeners; /* newest first, as SPDK lists them */
	struct nvmf_host *hosts;
	struct nvmf_ctrlr *ctrlrs;
	struct nvmf_subsystem *next;
};

/* A listening socket; several subsystems may listen on one address. */
struct nvmf_port {
	char *traddr, *trsvcid;
	int fd;
	unsigned refs;
	struct nvmf_port *next;
};

/* ---- helpers ------------------------------------------------------------------------- */

static const char *str_param(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void reply_invalid(struct sim_req *req)
{
	sim_reply_error(req, -32602, "Invalid parameters");
}

static struct nvmf_subsystem *subsys_find(struct sim *s, const char *nqn)
{
	for (struct nvmf_subsystem *ss = nqn ? s->target->subsystems : NULL; ss; ss = ss->next)
		if (strcmp(ss->nqn, nqn) == 0)
			return ss;
	return NULL;
}

/* Canonical transport name, as spdk_nvme_transport_id_populate_trstring writes it. */
static const char *trtype_canon(const char *t)
{
	static const char *const known[] = {"TCP", "RDMA", "PCIe", "FC", "VFIOUSER"};

	for (size_t i = 0; t && i < ARRAY_SIZE(known); i++)
		if (strcasecmp(t, known[i]) == 0)
			return known[i];
	return NULL;
}

static const char *adrfam_canon(const char *a)
{
	static const char *const known[] = {"IPv4", "IPv6", "IB", "FC", "INTRA_HOST"};

	for (size_t i = 0; a && i < ARRAY_SIZE(known); i++)
		if (strcasecmp(a, known[i]) == 0)
			return known[i];
	return NULL;
}

static json_t *transport_find(struct sim *s, const char *trtype)
{
	size_t i;
	json_t *t;

	json_array_foreach(s->target->transports, i,
			   t) if (strcasecmp(str_param(t, "trtype"), trtype) == 0) return t;
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
	const char *trtype = str_param(req->params, "trtype"), *canon;
	json_t *t;
	const char *key;
	json_t *v;

	if (!json_is_object(req->params) || !trtype) {
		reply_invalid(req);
		return;
	}
	canon = trtype_canon(trtype);
	if (!canon || strcmp(canon, "PCIe") == 0 || strcmp(canon, "FC") == 0 ||
	    strcmp(canon, "VFIOUSER") == 0) {
		sim_reply_error(req, -32602, "Invalid transport type '%s'", trtype);
		return;
	}
	if (transport_find(req->sim, canon)) {
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
			reply_invalid(req);
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

static void ctrlr_drop(struct sim *s, struct nvmf_ctrlr *c)
{
	for (struct nvmf_ctrlr **pp = &c->subsys->ctrlrs; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	fab_link_close(s, c->link);
	free(c->hostnqn);
	free(c);
}

static void port_put(struct sim *s, struct nvmf_port *p)
{
	if (--p->refs > 0)
		return;
	for (struct nvmf_port **pp = &s->target->ports; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	sim_fd_unwatch(s, p->fd);
	close(p->fd);
	free(p->traddr);
	free(p->trsvcid);
	free(p);
}

static void listener_free(struct sim *s, struct nvmf_listener *l)
{
	if (l->port)
		port_put(s, l->port);
	free(l->traddr);
	free(l->trsvcid);
	free(l);
}

static void subsys_free(struct sim *s, struct nvmf_subsystem *ss)
{
	while (ss->ctrlrs)
		ctrlr_drop(s, ss->ctrlrs);
	while (ss->listeners) {
		struct nvmf_listener *l = ss->listeners;

		ss->listeners = l->next;
		listener_free(s, l);
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
		reply_invalid(req);
		return;
	}
	nqn = str_param(req->params, "nqn");
	sn = str_param(req->params, "serial_number");
	mn = str_param(req->params, "model_number");
	if (!nqn_valid(nqn) || subsys_find(req->sim, nqn) || strcmp(nqn, DISCOVERY_NQN) == 0) {
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
		reply_invalid(req);
		return;
	}
	ss = subsys_find(req->sim, str_param(req->params, "nqn"));
	if (!ss) {
		reply_invalid(req);
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
	return o;
}

static json_t *ns_list_wire(struct sim *s, struct nvmf_subsystem *ss)
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
						 ns_list_wire(s, ss)));
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
		reply_invalid(req);
		return;
	}
	ss = subsys_find(req->sim, str_param(req->params, "nqn"));
	if (!ss) {
		sim_reply_error(req, -32602, "Unable to find subsystem with NQN %s",
				str_param(req->params, "nqn"));
		return;
	}
	b = sim_bdev_find(req->sim, str_param(nsp, "bdev_name"));
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
		 str_param(nsp, "uuid") ? str_param(nsp, "uuid") : b->uuid);
	if (str_param(nsp, "nguid"))
		snprintf(ns->nguid, sizeof(ns->nguid), "%s", str_param(nsp, "nguid"));
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
		reply_invalid(req);
		return;
	}
	ss = subsys_find(req->sim, str_param(req->params, "nqn"));
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
	reply_invalid(req);
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

static struct nvmf_host *host_find(struct nvmf_subsystem *ss, const char *nqn)
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
	const char *k = str_param(params, "dhchap_key"),
		   *ck = str_param(params, "dhchap_ctrlr_key");

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
		reply_invalid(req);
		return;
	}
	ss = subsys_find(req->sim, str_param(req->params, "nqn"));
	host = str_param(req->params, "host");
	if (!ss || !key_known(req->sim, str_param(req->params, "dhchap_key")) ||
	    !key_known(req->sim, str_param(req->params, "dhchap_ctrlr_key")) ||
	    !key_known(req->sim, str_param(req->params, "psk")) ||
	    (str_param(req->params, "dhchap_ctrlr_key") && !str_param(req->params, "dhchap_key"))) {
		reply_invalid(req);
		return;
	}
	if (host_find(ss, host)) {
		/* adding a host twice is accepted and changes nothing */
		sim_reply(req, json_true());
		return;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		abort();
	h->nqn = util_xstrdup(host);
	host_set_keys(h, req->params);
	if (str_param(req->params, "psk"))
		h->psk = util_xstrdup(str_param(req->params, "psk"));
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
		reply_invalid(req);
		return;
	}
	ss = subsys_find(req->sim, str_param(req->params, "nqn"));
	if (!ss) {
		reply_invalid(req);
		return;
	}
	host = str_param(req->params, "host");
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
			ctrlr_drop(req->sim, c);
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
		reply_invalid(req);
		return;
	}
	ss = subsys_find(req->sim, str_param(req->params, "nqn"));
	if (!ss) {
		reply_invalid(req);
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
		reply_invalid(req);
		return;
	}
	ss = subsys_find(req->sim, str_param(req->params, "nqn"));
	h = ss ? host_find(ss, str_param(req->params, "host")) : NULL;
	if (!h || !key_known(req->sim, str_param(req->params, "dhchap_key")) ||
	    !key_known(req->sim, str_param(req->params, "dhchap_ctrlr_key"))) {
		reply_invalid(req);
		return;
	}
	host_set_keys(h, req->params);
	sim_reply(req, json_true());
}

/* ---- connections ---------------------------------------------------------------------------- */

static uint16_t subsys_next_cntlid(struct nvmf_subsystem *ss)
{
	for (unsigned tries = 0; tries <= (unsigned)(ss->max_cntlid - ss->min_cntlid); tries++) {
		uint16_t id = ss->next_cntlid;
		bool used = false;

		ss->next_cntlid = id >= ss->max_cntlid ? ss->min_cntlid : (uint16_t)(id + 1);
		for (struct nvmf_ctrlr *c = ss->ctrlrs; c; c = c->next)
			used |= c->cntlid == id;
		if (!used)
			return id;
	}
	return 0;
}

/* true when the key named `name` in this node's keyring holds exactly `material`. */
static bool key_matches(struct sim *s, const char *name, const char *material)
{
	struct sim_key *k = sim_keyring_get(s, name);
	char *mine = k ? sim_key_material(k) : NULL;
	bool ok = mine && material && strcmp(mine, material) == 0;

	free(mine);
	sim_keyring_put(s, k);
	return ok;
}

/*
 * DH-HMAC-CHAP as the target runs it after the controller exists: required when the
 * host entry has a key; a host asking for bidirectional authentication needs a
 * controller key on our side too.
 */
static bool auth_ok(struct sim *s, struct nvmf_host *h, json_t *msg)
{
	const char *hk = str_param(msg, "dhchap_key"), *hck = str_param(msg, "dhchap_ctrlr_key");

	if (!h || !h->dhchap_key)
		return hck == NULL;
	if (!hk || !key_matches(s, h->dhchap_key, hk))
		return false;
	if (hck && (!h->dhchap_ctrlr_key || !key_matches(s, h->dhchap_ctrlr_key, hck)))
		return false;
	return true;
}

static void reject(struct sim *s, struct fab_link *l, const char *reason)
{
	fab_link_send(l, json_pack("{s:s,s:s}", "op", "rejected", "reason", reason));
	fab_link_close(s, l);
}

static void ctrlr_on_close(struct sim *s, struct fab_link *l, void *ctx)
{
	struct nvmf_ctrlr *c = ctx;

	c->link = NULL;
	ctrlr_drop(s, c);
}

static void ctrlr_on_msg(struct sim *s, struct fab_link *l, json_t *msg, void *ctx)
{
	struct nvmf_ctrlr *c = ctx;
	const char *op = str_param(msg, "op");

	if (op && strcmp(op, "sb_write") == 0) {
		uint32_t nsid = (uint32_t)json_integer_value(json_object_get(msg, "nsid"));
		const char *hex = str_param(msg, "data");
		void *buf;
		size_t len;

		for (struct nvmf_ns *ns = c->subsys->ns; ns; ns = ns->next) {
			if (ns->nsid == nsid && hex && fab_hex_decode(hex, &buf, &len) == 0) {
				sim_bdev_sb_write(ns->bdev, buf, len);
				free(buf);
			}
		}
	}
}

static void port_on_msg(struct sim *s, struct fab_link *l, json_t *msg, void *ctx)
{
	struct nvmf_port *port = ctx;
	const char *op = str_param(msg, "op"), *subnqn = str_param(msg, "subnqn");
	const char *hostnqn = str_param(msg, "hostnqn"), *trtype = str_param(msg, "trtype");
	struct nvmf_subsystem *ss = subsys_find(s, subnqn);
	struct nvmf_listener *li = NULL;
	struct nvmf_host *h;
	struct nvmf_ctrlr *c, **tail;

	if (!op || strcmp(op, "connect") != 0 || !hostnqn) {
		reject(s, l, "expected a connect");
		return;
	}
	for (struct nvmf_listener *x = ss ? ss->listeners : NULL; x; x = x->next)
		if (x->port == port && trtype && strcasecmp(x->trtype, trtype) == 0)
			li = x;
	if (!ss || !li) {
		reject(s, l, "subsystem not found at this address");
		return;
	}
	h = host_find(ss, hostnqn);
	if (!ss->allow_any_host && !h) {
		reject(s, l, "host not allowed");
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->subsys = ss;
	c->listener = li;
	c->hostnqn = util_xstrdup(hostnqn);
	c->cntlid = subsys_next_cntlid(ss);
	if (c->cntlid == 0 || !auth_ok(s, h, msg)) {
		/* the controller existed (its id is used up) and fails authentication */
		free(c->hostnqn);
		free(c);
		reject(s, l, "authentication failed");
		return;
	}
	c->link = l;
	for (tail = &ss->ctrlrs; *tail; tail = &(*tail)->next)
		;
	*tail = c;
	fab_link_set_ctx(l, c);
	fab_link_set_handlers(l, ctrlr_on_msg, ctrlr_on_close);
	fab_link_send(l, json_pack("{s:s,s:i,s:s,s:s,s:s,s:o}", "op", "connected", "cntlid",
				   (int)c->cntlid, "serial_number", ss->serial, "model_number",
				   ss->model, "firmware_revision", "25.09", "namespaces",
				   ns_list_wire(s, ss)));
}

static void port_on_close(struct sim *s, struct fab_link *l, void *ctx)
{
}

static void port_on_accept(struct sim *s, int fd, short revents, void *ctx)
{
	struct nvmf_port *port = ctx;
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (cfd >= 0)
		fab_link_new(s, cfd, port_on_msg, port_on_close, port);
}

/* ---- listeners ------------------------------------------------------------------------------- */

struct listen_args {
	const char *trtype, *adrfam, *traddr, *trsvcid;
};

static bool listen_args_get(json_t *la, struct listen_args *a)
{
	static const struct sim_decoder dec[] = {
		{"trtype", SIM_J_STRING, false},
		{"adrfam", SIM_J_STRING, true},
		{"traddr", SIM_J_STRING, false},
		{"trsvcid", SIM_J_STRING, true},
	};

	if (!sim_decode_strict(la, dec, ARRAY_SIZE(dec)))
		return false;
	a->trtype = trtype_canon(str_param(la, "trtype"));
	a->adrfam = str_param(la, "adrfam") ? adrfam_canon(str_param(la, "adrfam")) : "IPv4";
	a->traddr = str_param(la, "traddr");
	a->trsvcid = str_param(la, "trsvcid");
	return a->trtype && a->adrfam;
}

static bool listener_is(const struct nvmf_listener *l, const struct listen_args *a)
{
	return strcmp(l->trtype, a->trtype) == 0 && strcmp(l->traddr, a->traddr) == 0 &&
	       strcmp(l->trsvcid, a->trsvcid ? a->trsvcid : "") == 0;
}

static struct nvmf_port *port_get(struct sim *s, const char *traddr, const char *trsvcid)
{
	struct nvmf_port *p;
	int fd;

	for (p = s->target->ports; p; p = p->next) {
		if (strcmp(p->traddr, traddr) == 0 && strcmp(p->trsvcid, trsvcid) == 0) {
			p->refs++;
			return p;
		}
	}
	fd = fab_tcp_listen(traddr, trsvcid);
	if (fd < 0)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		abort();
	p->traddr = util_xstrdup(traddr);
	p->trsvcid = util_xstrdup(trsvcid);
	p->fd = fd;
	p->refs = 1;
	p->next = s->target->ports;
	s->target->ports = p;
	sim_fd_watch(s, fd, POLLIN, port_on_accept, p);
	return p;
}

void rpc_nvmf_subsystem_add_listener(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"nqn", SIM_J_STRING, false},	   {"listen_address", SIM_J_OBJECT, false},
		{"tgt_name", SIM_J_STRING, true},  {"secure_channel", SIM_J_BOOL, true},
		{"ana_state", SIM_J_STRING, true}, {"sock_impl", SIM_J_STRING, true},
	};
	struct nvmf_subsystem *ss;
	struct listen_args a;
	struct nvmf_listener *l;

	if (!sim_decode_strict(req->params, dec, ARRAY_SIZE(dec)) ||
	    !listen_args_get(json_object_get(req->params, "listen_address"), &a)) {
		reply_invalid(req);
		return;
	}
	ss = subsys_find(req->sim, str_param(req->params, "nqn"));
	if (!ss) {
		sim_reply_error(req, -32602, "Unable to find subsystem with NQN %s",
				str_param(req->params, "nqn"));
		return;
	}
	if (!a.trsvcid) {
		sim_reply_error(req, -32603, "Service ID is required.");
		return;
	}
	if (!transport_find(req->sim, a.trtype)) {
		reply_invalid(req);
		return;
	}
	for (l = ss->listeners; l; l = l->next) {
		if (listener_is(l, &a)) {
			sim_reply_error(req, -32602, "Invalid parameters");
			return;
		}
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		abort();
	snprintf(l->trtype, sizeof(l->trtype), "%s", a.trtype);
	snprintf(l->adrfam, sizeof(l->adrfam), "%s", a.adrfam);
	l->traddr = util_xstrdup(a.traddr);
	l->trsvcid = util_xstrdup(a.trsvcid);
	l->secure_channel = json_is_true(json_object_get(req->params, "secure_channel"));
	l->port = port_get(req->sim, a.traddr, a.trsvcid);
	if (!l->port) {
		listener_free(req->sim, l);
		sim_reply_error(req, -32602, "Invalid parameters");
		return;
	}
	l->next = ss->listeners;
	ss->listeners = l;
	sim_reply(req, json_true());
}

void rpc_nvmf_subsystem_remove_listener(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"nqn", SIM_J_STRING, false},	   {"listen_address", SIM_J_OBJECT, false},
		{"tgt_name", SIM_J_STRING, true},  {"secure_channel", SIM_J_BOOL, true},
		{"ana_state", SIM_J_STRING, true}, {"sock_impl", SIM_J_STRING, true},
	};
	struct nvmf_subsystem *ss;
	struct listen_args a;

	if (!sim_decode_strict(req->params, dec, ARRAY_SIZE(dec)) ||
	    !listen_args_get(json_object_get(req->params, "listen_address"), &a)) {
		reply_invalid(req);
		return;
	}
	ss = subsys_find(req->sim, str_param(req->params, "nqn"));
	if (!ss) {
		sim_reply_error(req, -32602, "Unable to find subsystem with NQN %s",
				str_param(req->params, "nqn"));
		return;
	}
	for (struct nvmf_listener **pp = &ss->listeners; *pp; pp = &(*pp)->next) {
		struct nvmf_listener *l = *pp;

		if (!listener_is(l, &a))
			continue;
		*pp = l->next;
		/* the qpairs that came in through this listener are disconnected */
		for (struct nvmf_ctrlr *c = ss->ctrlrs, *n; c; c = n) {
			n = c->next;
			if (c->listener == l)
				ctrlr_drop(req->sim, c);
		}
		listener_free(req->sim, l);
		sim_reply(req, json_true());
		return;
	}
	reply_invalid(req);
}

/* ---- listing and config ---------------------------------------------------------------------- */

static json_t *listener_json(const struct nvmf_listener *l)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "trtype", l->trtype, "adrfam", l->adrfam, "traddr",
			 l->traddr, "trsvcid", l->trsvcid);
}

static json_t *subsys_json(const struct nvmf_subsystem *ss)
{
	json_t *o = json_pack("{s:s,s:s}", "nqn", ss->nqn, "subtype", "NVMe");
	json_t *la = json_array(), *hosts = json_array(), *nss = json_array();

	for (const struct nvmf_listener *l = ss->listeners; l; l = l->next)
		json_array_append_new(la, listener_json(l));
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
	const char *nqn = str_param(req->params, "nqn");
	json_t *arr;

	if (req->params && !sim_decode_ok(req->params, dec, 2)) {
		reply_invalid(req);
		return;
	}
	if (nqn && !subsys_find(req->sim, nqn) && strcmp(nqn, DISCOVERY_NQN) != 0) {
		reply_invalid(req);
		return;
	}
	arr = json_array();
	if (!nqn || strcmp(nqn, DISCOVERY_NQN) == 0)
		json_array_append_new(arr,
				      json_pack("{s:s,s:s,s:[],s:b,s:[]}", "nqn", DISCOVERY_NQN,
						"subtype", "Discovery", "listen_addresses",
						"allow_any_host", 1, "hosts"));
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
					     listener_json(l), "secure_channel",
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
