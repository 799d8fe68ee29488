/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_COMMON_LOG_H
#define DISKENGINE_COMMON_LOG_H

#include <stdarg.h>

/* Severity of a log line; lower value = more severe. */
enum log_level {
	LOG_LVL_ERROR = 0, /* something failed and needs an operator */
	LOG_LVL_WARN = 1,  /* something odd that diskengine works around */
	LOG_LVL_INFO = 2,  /* a state change of an object (daemon only) */
	LOG_LVL_DEBUG = 3, /* detail; the only level library layers use */
};

/* Set the most verbose level that is printed (default LOG_LVL_INFO). */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parse "error", "warn", "info", "debug"; returns 0 or -EINVAL. */
int log_level_parse(const char *s, enum log_level *out);

/* Print one line to stderr, prefixed with a timestamp and the level. Thread-safe. */
void log_printf(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vprintf(enum log_level level, const char *fmt, va_list ap);

#define log_error(...) log_printf(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_printf(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_printf(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_get_level() >= LOG_LVL_DEBUG)                                              \
			log_printf(LOG_LVL_DEBUG, __VA_ARGS__);                                    \
	} while (0)

#endif
