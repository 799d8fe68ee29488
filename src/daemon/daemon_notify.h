/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_DAEMON_NOTIFY_H
#define DISKENGINE_DAEMON_NOTIFY_H

/*
 * systemd notification (Type=notify): READY once the daemon serves, WATCHDOG once per loop
 * turn, STOPPING on the way out, STATUS for `systemctl status`. Without libsystemd at build
 * time, or when not started by systemd, every call does nothing.
 */

/* Tell systemd the daemon is up (first successful connection to SPDK). */
void daemon_notify_ready(void);
/* Ping the watchdog; rate-limited to half the watchdog period, so callable every turn. */
void daemon_notify_watchdog(void);
/* The daemon is shutting down. */
void daemon_notify_stopping(void);
/* A one-line status shown by systemctl (printf-style). */
void daemon_notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
