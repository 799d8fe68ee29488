/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_DAEMON_DAEMON_H
#define DISKENGINE_DAEMON_DAEMON_H

#include "daemon/daemon_config.h"

/*
 * Run `diskengine -mode baremetal` until SIGTERM/SIGINT (or one pass with cfg->once).
 * Checks at start that SPDK's socket exists and the database opens; if SPDK goes away later
 * it waits and reconnects with backoff. Returns an enum cli_exit value: 0 after a clean stop
 * (or a converged --once pass), 1 when a --once pass left work undone, 5 when SPDK's socket
 * or the database is missing at start.
 */
int daemon_run(const struct daemon_config *cfg);

#endif
