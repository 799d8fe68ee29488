/* SPDX-License-Identifier: Apache-2.0 */
#include "daemon/daemon_notify.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "common/util.h"
#include "config.h"

#if HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

void daemon_notify_ready(void)
{
	sd_notify(0, "READY=1");
}

void daemon_notify_watchdog(void)
{
	static uint64_t last_ms;
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return;
	uint64_t now = util_now_ms();
	/* Pinging at half the period tolerates one slow turn without a restart. */
	if (last_ms && now - last_ms < usec / 2000)
		return;
	last_ms = now;
	sd_notify(0, "WATCHDOG=1");
}

void daemon_notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void daemon_notify_status(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", buf);
}
#else
void daemon_notify_ready(void)
{
}

void daemon_notify_watchdog(void)
{
}

void daemon_notify_stopping(void)
{
}

void daemon_notify_status(const char *fmt, ...)
{
	(void)fmt;
}
#endif
