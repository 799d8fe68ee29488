/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_TEST_FAKE_SPDK_H
#define DISKENGINE_TEST_FAKE_SPDK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * A scripted stand-in for SPDK's RPC socket: a thread accepts connections on a Unix socket in a
 * temporary directory, frames the requests and hands each to a handler, one connection at a time.
 */
struct fake;

/* What the server does after a handler ran. */
enum fake_next {
	FAKE_CONTINUE = 0, /* read the next request */
	FAKE_CLOSE,	   /* close this connection and accept the next */
};

/* Called for each request (borrowed) on the server thread; writes answers with fake_send*. */
typedef enum fake_next (*fake_handler)(struct fake *f, int fd, json_t *req, void *arg);

/* Start a server in a new temp dir (path = fake_path()). Aborts the test on failure. */
struct fake *fake_start(fake_handler h, void *arg);
/*
 * As fake_start, and while a connection is open but quiet for tick_ms, call the handler with
 * req NULL (to send answers it held back).
 */
struct fake *fake_start_ticking(fake_handler h, void *arg, int tick_ms);
/* Start a server on the socket path of an earlier one (a "restarted SPDK"). */
struct fake *fake_start_at(const char *path, fake_handler h, void *arg);
/* Stop and remove the socket; keep_dir leaves the directory for a restart. */
void fake_stop(struct fake *f, bool keep_dir);
const char *fake_path(struct fake *f);
const char *fake_dir(struct fake *f);
/* Number of requests seen so far. */
int fake_requests(struct fake *f);

/* Write text whole / in chunks of chunk bytes with a pause between them. */
void fake_send(int fd, const char *text);
void fake_send_split(int fd, const char *text, size_t chunk, int pause_us);
/* Write {"jsonrpc":"2.0","id":id,"result":result} (result is stolen). */
void fake_answer(int fd, json_t *id, json_t *result);
/* The same as text, for several answers in one write. */
char *fake_answer_text(json_t *id, json_t *result);

#endif
