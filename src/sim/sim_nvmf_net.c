/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NVMe-oF target on the fabric: listeners are real TCP sockets (shared by the
 * subsystems listening on one address); a connecting host is checked as SPDK does --
 * the subsystem listens there, the host is allowed, DH-HMAC-CHAP keys match -- and gets
 * the next controller id and the namespaces. Superblocks hosts write are stored on the
 * namespace's bdev here, so they outlive the host process.
 */
#include "sim/sim_fabric.h"
#include "sim/sim_keyring.h"
#include "sim/sim_nvmf_internal.h"

#include "common/util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void nvmf_ctrlr_drop(struct sim *s, struct nvmf_ctrlr *c)
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

void nvmf_listener_free(struct sim *s, struct nvmf_listener *l)
{
	if (l->port)
		port_put(s, l->port);
	free(l->traddr);
	free(l->trsvcid);
	free(l);
}

json_t *nvmf_listener_json(const struct nvmf_listener *l)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "trtype", l->trtype, "adrfam", l->adrfam, "traddr",
			 l->traddr, "trsvcid", l->trsvcid);
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
	const char *hk = nvmf_str(msg, "dhchap_key"), *hck = nvmf_str(msg, "dhchap_ctrlr_key");

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
	nvmf_ctrlr_drop(s, c);
}

static void ctrlr_on_msg(struct sim *s, struct fab_link *l, json_t *msg, void *ctx)
{
	struct nvmf_ctrlr *c = ctx;
	const char *op = nvmf_str(msg, "op");

	if (op && strcmp(op, "blk_write") == 0) {
		uint32_t nsid = (uint32_t)json_integer_value(json_object_get(msg, "nsid"));
		uint64_t lba = (uint64_t)json_integer_value(json_object_get(msg, "lba"));
		uint64_t n = (uint64_t)json_integer_value(json_object_get(msg, "blocks"));
		const char *hex = nvmf_str(msg, "data");
		void *buf = NULL;
		size_t len;

		if (hex && fab_hex_decode(hex, &buf, &len) < 0)
			return;
		for (struct nvmf_ns *ns = c->subsys->ns; ns; ns = ns->next)
			if (ns->nsid == nsid)
				sim_bdev_blocks_write(s, ns->bdev, lba, buf, n);
		free(buf);
		return;
	}
	if (op && strcmp(op, "sb_write") == 0) {
		uint32_t nsid = (uint32_t)json_integer_value(json_object_get(msg, "nsid"));
		const char *hex = nvmf_str(msg, "data");
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
	const char *op = nvmf_str(msg, "op"), *subnqn = nvmf_str(msg, "subnqn");
	const char *hostnqn = nvmf_str(msg, "hostnqn"), *trtype = nvmf_str(msg, "trtype");
	struct nvmf_subsystem *ss = nvmf_subsys_find(s, subnqn);
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
	h = nvmf_host_find(ss, hostnqn);
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
				   nvmf_ns_list_wire(s, ss)));
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
	a->trtype = nvmf_trtype_canon(nvmf_str(la, "trtype"));
	a->adrfam = nvmf_str(la, "adrfam") ? nvmf_adrfam_canon(nvmf_str(la, "adrfam")) : "IPv4";
	a->traddr = nvmf_str(la, "traddr");
	a->trsvcid = nvmf_str(la, "trsvcid");
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
		nvmf_reply_invalid(req);
		return;
	}
	ss = nvmf_subsys_find(req->sim, nvmf_str(req->params, "nqn"));
	if (!ss) {
		sim_reply_error(req, -32602, "Unable to find subsystem with NQN %s",
				nvmf_str(req->params, "nqn"));
		return;
	}
	if (!a.trsvcid) {
		sim_reply_error(req, -32603, "Service ID is required.");
		return;
	}
	if (!nvmf_transport_find(req->sim, a.trtype)) {
		nvmf_reply_invalid(req);
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
		nvmf_listener_free(req->sim, l);
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
		nvmf_reply_invalid(req);
		return;
	}
	ss = nvmf_subsys_find(req->sim, nvmf_str(req->params, "nqn"));
	if (!ss) {
		sim_reply_error(req, -32602, "Unable to find subsystem with NQN %s",
				nvmf_str(req->params, "nqn"));
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
				nvmf_ctrlr_drop(req->sim, c);
		}
		nvmf_listener_free(req->sim, l);
		sim_reply(req, json_true());
		return;
	}
	nvmf_reply_invalid(req);
}
