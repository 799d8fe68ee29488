/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_COMMON_CODEC_H
#define DISKENGINE_COMMON_CODEC_H

/*
 * Byte encodings SPDK uses on its RPC interface: URL-safe base64 (bdev_nvme_send_cmd's
 * cmdbuf, data and cpl, as spdk_base64_urlsafe_*) and CRC-32C (the raid superblock's crc).
 */

#include <stddef.h>
#include <stdint.h>

/* URL-safe base64 with padding, as SPDK writes it; a new string (caller frees) or NULL. */
char *codec_base64url_encode(const void *buf, size_t len);
/*
 * Decode URL-safe base64 (padding optional). *out is a new buffer (caller frees, set only
 * on success), *len its size. 0 or -EINVAL / -ENOMEM.
 */
int codec_base64url_decode(const char *text, void **out, size_t *len);
/* CRC-32C (Castagnoli) register update over buf, without inversions, as spdk_crc32c_update. */
uint32_t codec_crc32c(const void *buf, size_t len, uint32_t crc);

#endif
