/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_DAEMON_SPDK_H
#define DISKENGINE_DAEMON_SPDK_H

/*
 * The daemon's session with one SPDK process: connect, learn whether the framework is
 * initialised, replay the pre-init part of the saved config, start the framework, notice at
 * once when the socket closes (SPDK died or restarted), save the live config. A session never
 * reconnects by itself: once the socket closed every call fails, and the daemon opens a new
 * session and runs its restart path.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/daemon_config.h"

struct daemon_spdk;
struct rpc_client;

/*
 * Open a session on cfg->spdk_sock with one connect attempt (the daemon's loop owns the retry
 * policy). -ENOENT/-ECONNREFUSED when SPDK is not there (the message names the socket).
 */
int daemon_spdk_open(const struct daemon_config *cfg, struct daemon_spdk **out, char *errbuf,
		     size_t errlen);
void daemon_spdk_close(struct daemon_spdk *s);

/* true once the peer closed the socket; every later call fails with -ECONNRESET. */
bool daemon_spdk_closed(struct daemon_spdk *s);

/*
 * Bring the framework up if it is not: rpc_get_methods(current) tells; before init, replay the
 * pre-init calls of the saved config (if the file exists), then framework_start_init and
 * framework_wait_init. *was_initialised (may be NULL) says whether SPDK was already running
 * (a reconnect to the same process) or had just started. 0 or negative errno + message.
 */
int daemon_spdk_start(struct daemon_spdk *s, const char *saved_config, bool *was_initialised,
		      char *errbuf, size_t errlen);

/* Compose the live config as rpc.py's save_config does and write it to path atomically. */
int daemon_spdk_save_config(struct daemon_spdk *s, const char *path, char *errbuf, size_t errlen);

/* The client, for the observe and act stages. */
struct rpc_client *daemon_spdk_rpc(struct daemon_spdk *s);

#endif
