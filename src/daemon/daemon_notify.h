/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_DAEMON_NOTIFY_H
#define DISKENGINE_DAEMON_NOTIFY_H

/*
 * systemd notification (Type=notify): READY once the daemon serves, WATCHDOG from a thread of
 * its own, STOPPING on the way out, STATUS for `systemctl status`. Without libsystemd at build
 * time, or when not started by systemd, every call does nothing.
 *
 * The watchdog is fed independently of pass length: a pass over thousands of volumes, or one
 * waiting on a slow SPDK, must not get the daemon killed. The thread pings at a quarter of the
 * watchdog period for as long as the main loop showed progress (daemon_notify_watchdog) within
 * the stall limit; a daemon stuck longer than that stops feeding it and systemd restarts it.
 */

#include <stdint.h>

/* Tell systemd the daemon is up (first successful connection to SPDK). */
void daemon_notify_ready(void);
/*
 * Start the watchdog thread if systemd asked for a watchdog (WATCHDOG_USEC). stall_ms: how long
 * the main loop may go without progress before the pings stop. 0 or a negative errno.
 */
int daemon_notify_watchdog_start(uint64_t stall_ms);
/* Stop the thread (no-op if it does not run). */
void daemon_notify_watchdog_stop(void);
/* The main loop made progress (a pass stage, an SPDK step, a turn of the wait): cheap. */
void daemon_notify_watchdog(void);
/* The daemon is shutting down. */
void daemon_notify_stopping(void);
/* A one-line status shown by systemctl (printf-style). */
void daemon_notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
