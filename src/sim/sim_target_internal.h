/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared state of the storage-node model: malloc and lvol bdevs (sim_target.c) and the
 * NVMe-oF target (sim_nvmf.c, listening on the fabric of sim_fabric.c).
 */
#ifndef DISKENGINE_SIM_TARGET_INTERNAL_H
#define DISKENGINE_SIM_TARGET_INTERNAL_H

#include "sim/sim.h"

struct lvs;
struct nvmf_subsystem;
struct nvmf_port;

struct sim_target_state {
	struct lvs *stores;		   /* lvol stores, creation order */
	unsigned malloc_seq;		   /* next automatic MallocN name */
	json_t *transports;		   /* nvmf_create_transport params as saved, by trtype */
	struct nvmf_subsystem *subsystems; /* creation order */
	struct nvmf_port *ports;	   /* open TCP listening sockets */
};

/* nvmf target methods (sim_nvmf.c). */
void rpc_nvmf_create_transport(struct sim_req *req);
void rpc_nvmf_get_transports(struct sim_req *req);
void rpc_nvmf_create_subsystem(struct sim_req *req);
void rpc_nvmf_delete_subsystem(struct sim_req *req);
void rpc_nvmf_subsystem_add_ns(struct sim_req *req);
void rpc_nvmf_subsystem_remove_ns(struct sim_req *req);
void rpc_nvmf_subsystem_add_listener(struct sim_req *req);
void rpc_nvmf_subsystem_remove_listener(struct sim_req *req);
void rpc_nvmf_subsystem_add_host(struct sim_req *req);
void rpc_nvmf_subsystem_remove_host(struct sim_req *req);
void rpc_nvmf_subsystem_allow_any_host(struct sim_req *req);
void rpc_nvmf_subsystem_set_keys(struct sim_req *req);
void rpc_nvmf_get_subsystems(struct sim_req *req);

/* The "nvmf" subsystem's framework_get_config entries. */
void sim_nvmf_config(struct sim *s, json_t *arr);
/* A bdev used as a namespace changed size or vanished: tell connected hosts. */
void sim_nvmf_bdev_resized(struct sim *s, struct sim_bdev *b);
void sim_nvmf_bdev_removed(struct sim *s, struct sim_bdev *b);
/* Free every subsystem, listener and connection (process exit). */
void sim_nvmf_fini(struct sim *s);

#endif
