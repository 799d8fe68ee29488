/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_STORE_VALIDATE_H
#define DISKENGINE_STORE_VALIDATE_H

/*
 * Validation of every value that enters the store. Each function returns 0 or -EINVAL and
 * fills err (may be NULL) with a message that quotes the bad value and says what is allowed.
 * `what` names the field in the message ("host name", "--tcp-ip", ...).
 */

#include <stdint.h>

#include "store/store.h"

/* 1..127 bytes, not only spaces, no control characters (quotes and other text are fine). */
int store_validate_name(const char *what, const char *s, struct store_error *err);
/* A name that can also be told apart from an id: not all digits. */
int store_validate_volume_name(const char *s, struct store_error *err);
/* NVMe Qualified Name: nqn.yyyy-mm.reverse.domain:string or the uuid form; <= 223 bytes. */
int store_validate_nqn(const char *s, struct store_error *err);
/* PCI address DDDD:BB:DD.F (hex; device <= 0x1f, function <= 7); out gets lower case. */
int store_validate_bdf(const char *s, char out[STORE_BDF_MAX], struct store_error *err);
/* An IPv4 or IPv6 address (inet_pton) of one interface: not unspecified, broadcast, multicast. */
int store_validate_ip(const char *what, const char *s, struct store_error *err);
/* 1 when two addresses are the same one however written ("fe80::1", "fe80:0::1"), else 0. */
int store_ip_equal(const char *a, const char *b);
/* A TCP/RDMA service port 1..65535 given as text. */
int store_validate_port(const char *s, uint16_t *out, struct store_error *err);
/* 512 or 4096. */
int store_validate_block_size(uint64_t bs, struct store_error *err);
/* Non-zero, a multiple of block_size, fits the database (< 2^63). */
int store_validate_size(uint64_t size, uint32_t block_size, struct store_error *err);
/* 8-4-4-4-12 hex digits. */
int store_validate_uuid(const char *s, struct store_error *err);
/* rw_iops a multiple of 1000 (SPDK's minimum step), every limit < 2^63. */
int store_validate_qos(const struct store_qos *q, struct store_error *err);
/* An absolute path to a key file, <= 255 bytes, no control characters. */
int store_validate_key_path(const char *s, struct store_error *err);

#endif
