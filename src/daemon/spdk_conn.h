/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_DAEMON_SPDK_CONN_H
#define DISKENGINE_DAEMON_SPDK_CONN_H

/*
 * The daemon's connection to SPDK's JSON-RPC socket: one Unix socket, many calls in flight
 * (answers matched by id; SPDK may answer out of order), usable from any number of threads.
 * A reader thread notices at once when SPDK closes the socket: every pending and later call
 * fails with -ECONNRESET, so the daemon can reconnect.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct spdk_conn;

/* SPDK's error answer: {"code", "message"}. */
struct spdk_conn_error {
	int code;          /* JSON-RPC code as SPDK sent it (often a negative errno) */
	char message[256]; /* SPDK's message */
};

/* Connect to path. 0, or -ENOENT / -ECONNREFUSED / -errno. */
int spdk_conn_open(const char *path, struct spdk_conn **out);
/* Close; pending calls fail with -ECONNRESET. NULL is fine. */
void spdk_conn_close(struct spdk_conn *c);
/* true once SPDK closed the socket (or the stream broke). */
bool spdk_conn_closed(struct spdk_conn *c);

/*
 * Call method with params (stolen; NULL = no "params") and wait up to timeout_ms for its
 * answer. Thread-safe. Returns 0 and *result (new reference; may be NULL to discard),
 * -EREMOTEIO with *err (may be NULL) filled when SPDK answered an error, -ETIMEDOUT when no
 * answer came in time (the call may still take effect later), -ECONNRESET when the connection
 * is gone, -ENOMEM.
 */
int spdk_conn_call(struct spdk_conn *c, const char *method, json_t *params, uint32_t timeout_ms,
		   json_t **result, struct spdk_conn_error *err);

/* Number of calls sent on this connection (for tests and metrics). */
uint64_t spdk_conn_calls(struct spdk_conn *c);

#endif
