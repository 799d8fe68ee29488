/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_RPC_RPC_H
#define DISKENGINE_RPC_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * JSON-RPC 2.0 client for SPDK's Unix stream socket.
 *
 * One client owns one connection. Any number of threads may call on it at once: each request gets
 * a unique id, requests are pipelined on the socket, and answers (which SPDK may send out of
 * order) are matched back to their caller by id. See docs/rpc.md for the guarantees.
 */

struct rpc_client;

/* Default cap on the size of one answer: a saved config of ~1,000 volumes fits comfortably. */
#define RPC_DEFAULT_MAX_ANSWER (64u * 1024 * 1024)
#define RPC_DEFAULT_TIMEOUT_MS 30000
#define RPC_DEFAULT_SOCKET "/var/tmp/spdk.sock"

/*
 * What went wrong with one call. err is always set on failure; code and message carry SPDK's own
 * error object when SPDK answered with one (code 0 means the failure was local: transport,
 * timeout, malformed answer).
 */
struct rpc_error {
	int err;	   /* negative errno */
	int code;	   /* SPDK's original JSON-RPC error code, 0 if the failure was local */
	char method[64];   /* the method that was called */
	char message[256]; /* SPDK's message, or a description of the local failure */
};

struct rpc_client_opts {
	size_t max_answer; /* largest accepted answer in bytes; 0 = RPC_DEFAULT_MAX_ANSWER */
	int timeout_ms;	   /* timeout of the typed calls (spdk.h); 0 = RPC_DEFAULT_TIMEOUT_MS */
	int connect_timeout_ms; /* how long rpc_client_open keeps trying; 0 = timeout_ms */
	/*
	 * false: a call made after SPDK closed the socket connects again by itself.
	 * true: once the connection is lost every call fails with -ECONNRESET until
	 * rpc_client_reconnect, so that a caller holding a view of SPDK's state never acts on a
	 * restarted SPDK (which has lost that state) without noticing.
	 */
	bool manual_reconnect;
};

/*
 * Connect to the SPDK socket at path. A missing socket or a refused connection is retried until
 * connect_timeout_ms passes (SPDK may be starting); not-a-socket and permission errors fail at
 * once. Returns 0 and *out, or -ENOENT, -ENOTSOCK, -EACCES, -ECONNREFUSED, -EAGAIN (backlog
 * full), -ENAMETOOLONG, -ENOMEM with err describing it. opts may be NULL.
 */
int rpc_client_open(const char *path, const struct rpc_client_opts *opts, struct rpc_client **out,
		    struct rpc_error *err);

/* Close the connection and free the client. No call may be in progress. NULL is ignored. */
void rpc_client_close(struct rpc_client *client);

/*
 * Drop the current connection (failing calls in flight on it with -ECONNRESET) and connect again,
 * trying for at most timeout_ms. Returns 0 or a negative errno as rpc_client_open.
 */
int rpc_client_reconnect(struct rpc_client *client, int timeout_ms, struct rpc_error *err);

/*
 * Number of successful connects so far (1 after rpc_client_open). A call made after SPDK closed
 * the socket reconnects by itself; a caller that sees this number change knows SPDK may have
 * restarted and lost its state.
 */
uint64_t rpc_client_generation(struct rpc_client *client);

/*
 * true when the current connection is gone (SPDK closed the socket, the stream broke, or a
 * request could not be written). The reader thread notices a close at once, with no call in
 * flight, so polling this is how a caller learns that SPDK died or restarted.
 */
bool rpc_client_closed(struct rpc_client *client);

/*
 * A file descriptor that becomes readable (POLLIN) when a connection of this client ends, so a
 * caller can sleep in poll() and still learn of an SPDK restart at once. The caller drains it
 * (read 8 bytes) and then asks rpc_client_closed; -1 when the system gave no eventfd (poll
 * rpc_client_closed instead). Owned by the client.
 */
int rpc_client_closed_fd(struct rpc_client *client);

/* Number of requests sent on this client so far, over all connections (metrics, tests). */
uint64_t rpc_client_calls(struct rpc_client *client);

/*
 * Called after every call of every client in the process, from the calling thread: the method,
 * how long it took (microseconds) and its result (0 or a negative errno). For metrics; fn must be
 * thread-safe and quick. NULL turns it off. Set it before any client exists.
 */
typedef void (*rpc_observe_fn)(const char *method, uint64_t usec, int rc, void *arg);
void rpc_observe_set(rpc_observe_fn fn, void *arg);

/* The timeout typed calls use (from opts); callers may pass it to rpc_call_raw. */
int rpc_client_timeout_ms(const struct rpc_client *client);

/*
 * Call method with params (JSON text of an object or array, or NULL for none) and wait at most
 * timeout_ms (> 0) for the answer (reconnecting first if the connection was lost, unless
 * manual_reconnect: then -ECONNRESET). On success
 * returns 0 and *result_json (compact JSON text of "result", caller frees). On failure returns a
 * negative errno and fills err: SPDK's error object (see rpc_error_from_code for the errno
 * mapping), -EINVAL for params that are not JSON, -ETIMEDOUT, -EMSGSIZE (answer above the cap),
 * -EBADMSG (answer not JSON; the connection is reset), -ECONNRESET / -EPIPE (connection lost).
 */
int rpc_call_raw(struct rpc_client *client, const char *method, const char *params_json,
		 int timeout_ms, char **result_json, struct rpc_error *err);

/*
 * Map SPDK's JSON-RPC error code to a negative errno. SPDK sends most errors as -errno; a few
 * methods send +errno (bdev_nvme_get_controllers: 22); the JSON-RPC codes map to -EINVAL
 * (-32600 invalid request, -32602 invalid params, -32603 internal error), -ENOSYS (-32601
 * method not found) and -EBADMSG (-32700 parse error). Anything else gives -EIO.
 */
int rpc_error_from_code(int code);

/*
 * One line for a human naming the method, e.g.
 * "bdev_raid_create: Failed to create RAID bdev raid_1: File exists (SPDK code -17)".
 * Writes into buf (always terminated) and returns buf.
 */
const char *rpc_error_str(const struct rpc_error *err, char *buf, size_t size);

/*
 * Check that text is a JSON object or array usable as params. 0, or -EINVAL with a reason in
 * why (position included).
 */
int rpc_params_check(const char *text, char *why, size_t why_size);

/* text (any JSON value) re-indented for a human; caller frees. NULL if text is not JSON. */
char *rpc_json_pretty(const char *text);

#endif
