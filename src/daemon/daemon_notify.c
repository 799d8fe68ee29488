/* SPDX-License-Identifier: Apache-2.0 */
#include "daemon/daemon_notify.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "config.h"

static _Atomic uint64_t g_progress_ms;

void daemon_notify_watchdog(void)
{
	atomic_store(&g_progress_ms, util_now_ms());
}

#if HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

static struct {
	pthread_t th;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool running, stop;
	uint64_t period_ms, stall_ms;
} g_wd = {.lock = PTHREAD_MUTEX_INITIALIZER};

void daemon_notify_ready(void)
{
	sd_notify(0, "READY=1");
}

static void *watchdog_thread(void *arg)
{
	/* a quarter of the period: one late wake-up still leaves two pings per period */
	uint64_t every_ms = g_wd.period_ms / 4 ? g_wd.period_ms / 4 : 1;
	bool said = false;

	(void)arg;
	pthread_mutex_lock(&g_wd.lock);
	while (!g_wd.stop) {
		uint64_t now = util_now_ms();
		uint64_t last = atomic_load(&g_progress_ms);

		if (now - last <= g_wd.stall_ms) {
			sd_notify(0, "WATCHDOG=1");
			said = false;
		} else if (!said) {
			log_error("no progress for %llu ms: no longer feeding the systemd watchdog",
				  (unsigned long long)(now - last));
			said = true;
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(every_ms / 1000);
		ts.tv_nsec += (long)(every_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g_wd.cond, &g_wd.lock, &ts);
	}
	pthread_mutex_unlock(&g_wd.lock);
	return NULL;
}

int daemon_notify_watchdog_start(uint64_t stall_ms)
{
	pthread_condattr_t ca;
	uint64_t usec = 0;
	int r;

	if (g_wd.running || sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	g_wd.period_ms = usec / 1000 ? usec / 1000 : 1;
	g_wd.stall_ms = stall_ms;
	g_wd.stop = false;
	daemon_notify_watchdog();
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g_wd.cond, &ca);
	pthread_condattr_destroy(&ca);
	r = pthread_create(&g_wd.th, NULL, watchdog_thread, NULL);
	if (r != 0) {
		pthread_cond_destroy(&g_wd.cond);
		return -r;
	}
	g_wd.running = true;
	return 0;
}

void daemon_notify_watchdog_stop(void)
{
	if (!g_wd.running)
		return;
	pthread_mutex_lock(&g_wd.lock);
	g_wd.stop = true;
	pthread_cond_signal(&g_wd.cond);
	pthread_mutex_unlock(&g_wd.lock);
	pthread_join(g_wd.th, NULL);
	pthread_cond_destroy(&g_wd.cond);
	g_wd.running = false;
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

int daemon_notify_watchdog_start(uint64_t stall_ms)
{
	(void)stall_ms;
	return 0;
}

void daemon_notify_watchdog_stop(void)
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
