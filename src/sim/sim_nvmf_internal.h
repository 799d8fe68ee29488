/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NVMe-oF target's state, shared by sim_nvmf.c (transports, subsystems, namespaces,
 * hosts, listing, config) and sim_nvmf_net.c (listeners, TCP ports, host connections).
 */
#ifndef DISKENGINE_SIM_NVMF_INTERNAL_H
#define DISKENGINE_SIM_NVMF_INTERNAL_H

#include "sim/sim_target_internal.h"

#include <stdbool.h>
#include <stdint.h>

struct fab_link;

#define NVMF_DISCOVERY_NQN "nqn.2014-08.org.nvmexpress.discovery"
/* The thread whose poll group opens a channel on every namespace. */
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

/* Shared helpers (sim_nvmf.c). */
const char *nvmf_str(json_t *o, const char *key);
/* SPDK's usual answer for a bad nvmf request: -32602 "Invalid parameters". */
void nvmf_reply_invalid(struct sim_req *req);
struct nvmf_subsystem *nvmf_subsys_find(struct sim *s, const char *nqn);
struct nvmf_host *nvmf_host_find(struct nvmf_subsystem *ss, const char *nqn);
/* Canonical names ("TCP", "IPv4"), NULL when unknown. */
const char *nvmf_trtype_canon(const char *t);
const char *nvmf_adrfam_canon(const char *a);
/* The saved params of the transport of that type, NULL when not created. */
json_t *nvmf_transport_find(struct sim *s, const char *trtype);
/* The namespaces as the fabric sends them to hosts (new reference). */
json_t *nvmf_ns_list_wire(struct sim *s, struct nvmf_subsystem *ss);

/* Connections and listeners (sim_nvmf_net.c). */
/* Disconnect a host controller and free it. */
void nvmf_ctrlr_drop(struct sim *s, struct nvmf_ctrlr *c);
/* Free a listener, closing its port when no other listener uses it. */
void nvmf_listener_free(struct sim *s, struct nvmf_listener *l);
json_t *nvmf_listener_json(const struct nvmf_listener *l);

#endif
