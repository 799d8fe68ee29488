/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_COMMON_UTIL_H
#define DISKENGINE_COMMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

/* Free / close when the variable leaves scope (systemd style). */
#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))

/* Monotonic clock in milliseconds: for timeouts and backoff, never for timestamps. */
uint64_t util_now_ms(void);

/* Wall clock in seconds since the epoch: for records an operator reads. */
int64_t util_wall_s(void);

/*
 * Replace the clocks above (tests only: a wall clock that steps, a monotonic one that does not).
 * A NULL function, or a NULL argument, restores the system's clock.
 */
struct util_clock {
	uint64_t (*mono_ms)(void);
	int64_t (*wall_s)(void);
};
void util_clock_override(const struct util_clock *c);

/* strdup that aborts on out-of-memory: used only where no caller can recover. */
char *util_xstrdup(const char *s);

/* Bounded copy that always terminates; returns -ENAMETOOLONG if src did not fit. */
int util_strlcpy(char *dst, const char *src, size_t size);

/*
 * Is s well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF?
 * Text that goes into JSON must be: jansson refuses anything else.
 */
bool util_utf8_valid(const char *s);

/*
 * Parse a size with an optional unit (K, M, G, T, P; KiB/MiB/.. binary; KB/MB decimal;
 * B or none = bytes). Returns 0 and sets *out, or -EINVAL / -ERANGE.
 */
int util_parse_size(const char *s, uint64_t *out);

/* Parse a non-negative decimal integer that must fit in max; 0 or -EINVAL / -ERANGE. */
int util_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* Write data to path atomically: temp file in the same directory, fsync, rename, fsync dir. */
int util_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode);

/* Read a whole file (NUL-terminated) into *out; caller frees. 0 or negative errno. */
int util_read_file(const char *path, char **out, size_t *len);

/* Sleep for ms milliseconds (restarting on EINTR). */
void util_sleep_ms(uint64_t ms);

#endif
