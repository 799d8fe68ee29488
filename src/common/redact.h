/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_COMMON_REDACT_H
#define DISKENGINE_COMMON_REDACT_H

/*
 * Passwords in database URLs, hidden wherever diskengine prints a URL or a message that may
 * quote one. Recognised, in any text:
 *   scheme://user:PASSWORD@host/...      (URL userinfo, percent-encoded or not)
 *   ...?password=PASSWORD&...            (a password given as a URL query parameter)
 *   password=PASSWORD, password = 'PASS WORD'   (libpq key=value; sslpassword too)
 * Keywords match in any case. When in doubt more is hidden, never less.
 */

#include <stdbool.h>
#include <stddef.h>

/* What a hidden password reads as. */
#define REDACT_MASK "***"

/*
 * Find the first password in s at or after byte offset from. whole: s is one value (a URL or
 * key=value string, as given with --db), where a URL ends only with s; otherwise s is a message,
 * where a URL also ends at a blank or a quote. Returns 0 and sets *start and *len (len may be
 * 0: "user:@host"), or -ENOENT when there is none (or s is NULL).
 */
int redact_find(const char *s, size_t from, bool whole, size_t *start, size_t *len);

/*
 * Copy s into buf with every password replaced by REDACT_MASK; buf is always terminated (NULL
 * s gives ""). Returns 0, or -ENAMETOOLONG when the result was cut to fit.
 */
int redact_copy(const char *s, char *buf, size_t size);

/*
 * Hide the passwords of one value in place (argv strings: their memory is what
 * /proc/PID/cmdline shows). The whole value is one URL or key=value string, so a password is
 * taken up to its end, spaces included. Each password becomes REDACT_MASK and the bytes it frees
 * become NULs, so nothing of it stays in the string's memory; a password shorter than the mask
 * becomes as many '*'. Returns how many passwords were hidden.
 */
int redact_mask(char *s);

/*
 * Replace in place every occurrence of secret (at least 3 bytes; shorter ones are left, as they
 * would match ordinary words) in text by REDACT_MASK, for messages that quote a password
 * without its keyword. Returns how many were replaced.
 */
int redact_secret(char *text, const char *secret);

#endif
