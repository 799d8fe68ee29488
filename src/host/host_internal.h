/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_HOST_HOST_INTERNAL_H
#define DISKENGINE_HOST_HOST_INTERNAL_H

#include <stddef.h>

/* root + "/" + rel into out; -ENAMETOOLONG if it does not fit. */
int host_path(char *out, size_t size, const char *root, const char *rel);

/*
 * snprintf that reports truncation as -ENAMETOOLONG instead of cutting a path short; used where
 * the compiler cannot prove a sysfs path fits.
 */
int host_fmt(char *out, size_t size, const char *fmt, ...);

/* First line of a small file, without the newline. 0 or negative errno. */
int host_read_line(const char *path, char *out, size_t size);

/* printf into err if err is not NULL; returns rc so callers can `return host_err(...)`. */
int host_err(int rc, char *err, size_t err_size, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
