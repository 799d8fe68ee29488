/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim internals shared by the server core files (sim_server.c, sim_rpc.c,
 * sim_control.c, sim_methods.c). Modules use sim.h only.
 */
#ifndef DISKENGINE_SIM_INTERNAL_H
#define DISKENGINE_SIM_INTERNAL_H

#include "sim/sim.h"

#include <stdbool.h>
#include <stddef.h>

/* SPDK's JSON-RPC server limits (lib/jsonrpc/jsonrpc_internal.h). */
#define SIM_RPC_RECV_BUF_SIZE (32 * 1024)
#define SIM_RPC_MAX_VALUES 1024
#define SIM_RPC_MAX_CONNS 64
#define SIM_RPC_MAX_DEPTH 64 /* SPDK_JSON_MAX_NESTING_DEPTH */

/* JSON-RPC 2.0 error codes SPDK uses (include/spdk/jsonrpc.h). */
#define SIM_RPC_PARSE_ERROR (-32700)
#define SIM_RPC_INVALID_REQUEST (-32600)
#define SIM_RPC_METHOD_NOT_FOUND (-32601)
#define SIM_RPC_INVALID_PARAMS (-32602)
#define SIM_RPC_INTERNAL_ERROR (-32603)
#define SIM_RPC_INVALID_STATE (-1)

/* One entry of SPDK's method list, in the order rpc_get_methods reports it. */
struct sim_method_info {
	const char *name;
	unsigned state_mask;  /* enum sim_method_state bits */
	const char *alias_of; /* deprecated alias of this method; NULL for a real method */
};

/* SPDK v25.09's registered methods (spdk_tgt), list order; NULL-name terminated. */
extern const struct sim_method_info sim_method_registry[];

/* The registry entry of name; NULL when SPDK has no such method. */
const struct sim_method_info *sim_method_info_find(const char *name);

/* Modules linked into this sim, in dispatch order; NULL terminated. */
extern const struct sim_module *const sim_modules[];

/*
 * Feed bytes received on an RPC connection. Complete JSON values are parsed and
 * dispatched as SPDK does; an incomplete tail is kept in the connection's buffer.
 * Returns 0, or -EPROTO when the stream is unparseable (the connection must close,
 * dropping answers not yet sent, like SPDK's jsonrpc server).
 */
int sim_rpc_feed(struct sim *s, struct sim_conn *c);

/* Dispatch one parsed request object (validation, state check, control hooks). */
void sim_rpc_dispatch(struct sim *s, struct sim_conn *c, json_t *value);

/* Run a method's handler for a validated request (after control hooks). */
void sim_rpc_invoke(struct sim_req *req);

/* Connection buffers (sim_server.c). */
char *sim_conn_inbuf(struct sim_conn *c, size_t *len);
void sim_conn_consume(struct sim_conn *c, size_t n);
void sim_conn_send(struct sim_conn *c, const char *data, size_t len);
/* Drop answers queued but not yet written (SPDK frees them when it closes a conn). */
void sim_conn_discard_output(struct sim_conn *c);

/* Request bookkeeping (sim_server.c): tracked so a closing conn detaches its reqs. */
struct sim_req *sim_req_new(struct sim *s, struct sim_conn *c, json_t *request);
void sim_req_free(struct sim_req *req);

/* Control commands of the data blocks (sim_blocks.c). */
extern const struct sim_control_cmd sim_blocks_control[];

/* Control channel (sim_control.c). */
int sim_control_open(struct sim *s, const char *path);
void sim_control_close(struct sim *s);
/* Count a received call for `stats`. */
void sim_control_count(struct sim *s, const char *method);
/*
 * Apply an armed `fail` or `delay` rule to req. true: the control channel took the
 * request (answered it, or will invoke it later); false: dispatch normally.
 */
bool sim_control_intercept(struct sim *s, struct sim_req *req);

/* framework_get_config's answer for one (known) subsystem (new reference). */
json_t *sim_framework_config(struct sim *s, const char *subsystem);
/* The "bdev" subsystem's config array (sim_bdev.c). */
json_t *sim_bdev_config(struct sim *s);

/* Framework initialisation: state to runtime, modules' start_init, wake waiters. */
void sim_framework_start(struct sim *s);

#endif
