/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_DAEMON_GZIP_H
#define DISKENGINE_DAEMON_GZIP_H

/*
 * gzip content coding of the /metrics answer: whether a request's Accept-Encoding allows it
 * (RFC 9110, section 12.5.3), and the compression itself (zlib).
 */

#include <stdbool.h>
#include <stddef.h>

/*
 * True when the Accept-Encoding field value (all the request's Accept-Encoding fields joined
 * with ", "; NULL when it sent none) accepts gzip: "gzip" or "x-gzip" listed with a weight above
 * 0, or, when neither is listed, "*" with a weight above 0. Codings are matched without regard to
 * case; a member with a malformed weight is ignored. "gzip;q=0" refuses gzip.
 */
bool gzip_accepted(const char *accept_encoding);

/* text compressed as one gzip member: 0 and *out (caller frees), *out_len, or -ENOMEM. */
int gzip_encode(const char *text, size_t len, char **out, size_t *out_len);

#endif
