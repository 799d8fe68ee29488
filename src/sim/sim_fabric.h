/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim's NVMe-oF fabric: real TCP connections on loopback between a host's
 * controller path (sim_nvme.c) and a target's subsystem (sim_nvmf.c), carrying one
 * JSON object per line. RDMA listeners and paths use the same sockets.
 *
 * Messages (field "op"):
 *   host -> target  connect {subnqn, hostnqn, trtype, dhchap_key, dhchap_ctrlr_key}
 *                   sb_write {nsid, data (hex)}
 *   target -> host  connected {cntlid, serial_number, model_number, firmware_revision,
 *                              namespaces: [{nsid, uuid, block_size, num_blocks, md_size,
 *                              sb (hex or null)}]}
 *                   rejected {reason}  (then the target closes the connection)
 *                   ns_change {namespaces: [...]}  (a namespace was resized/added/removed)
 * Either side closing the socket is a lost path.
 */
#ifndef DISKENGINE_SIM_FABRIC_H
#define DISKENGINE_SIM_FABRIC_H

#include "sim/sim.h"

#include <stdbool.h>
#include <sys/socket.h>

struct fab_link;

/* A complete message arrived (msg borrowed). */
typedef void (*fab_msg_fn)(struct sim *s, struct fab_link *l, json_t *msg, void *ctx);
/* The peer closed the connection or it broke; the link is freed after the call. */
typedef void (*fab_close_fn)(struct sim *s, struct fab_link *l, void *ctx);

/* Wrap a connected, non-blocking socket. Takes ownership of fd; NULL on failure (fd closed). */
struct fab_link *fab_link_new(struct sim *s, int fd, fab_msg_fn on_msg, fab_close_fn on_close,
			      void *ctx);
/* Change the callbacks' context (a target hands the link from the port to a controller). */
void fab_link_set_ctx(struct fab_link *l, void *ctx);
/* Change the callbacks (from a port's handshake to a controller's). */
void fab_link_set_handlers(struct fab_link *l, fab_msg_fn on_msg, fab_close_fn on_close);
/* Queue one message (stolen). 0, or a negative errno when the connection is broken. */
int fab_link_send(struct fab_link *l, json_t *msg);
/*
 * Handle what already arrived on the link (a message or the peer's close) now, as
 * SPDK's pollers would have before an RPC is served. May free the link.
 */
void fab_link_poll(struct sim *s, struct fab_link *l);
/* Close and free without calling on_close (the local side chose to disconnect). */
void fab_link_close(struct sim *s, struct fab_link *l);

/*
 * Connect to traddr:trsvcid, a literal of `family` (AF_UNSPEC: either), from the source
 * address src when it is not NULL. Returns a connected non-blocking socket or a negative
 * errno (-ECONNREFUSED when nothing listens, -EADDRNOTAVAIL for a source not on this host).
 */
int fab_tcp_connect(const char *traddr, const char *trsvcid, int family, const struct sockaddr *src,
		    socklen_t srclen);
/* A listening non-blocking socket on traddr:trsvcid, or a negative errno. */
int fab_tcp_listen(const char *traddr, const char *trsvcid);

/* Hex encoding of superblock bytes (new string) and back (0 or -EINVAL). */
char *fab_hex_encode(const void *buf, size_t len);
int fab_hex_decode(const char *hex, void **buf, size_t *len);

#endif
