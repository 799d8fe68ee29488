/* SPDX-License-Identifier: Apache-2.0 */
#include "common/codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *codec_base64url_encode(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t left = len - i;

		if (left > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		*o++ = b64url[(v >> 18) & 63];
		*o++ = b64url[(v >> 12) & 63];
		*o++ = left > 1 ? b64url[(v >> 6) & 63] : '=';
		*o++ = left > 2 ? b64url[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64url, c) : NULL;

	return p ? (int)(p - b64url) : -1;
}

int codec_base64url_decode(const char *text, void **out, size_t *len)
{
	size_t n = strlen(text), k = 0;
	unsigned char *buf;
	uint32_t acc = 0;
	int bits = 0;

	while (n > 0 && text[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -EINVAL;
	buf = malloc(n * 3 / 4 + 1);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(text[i]);

		if (v < 0) {
			free(buf);
			return -EINVAL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[k++] = (unsigned char)(acc >> bits);
		}
	}
	*out = buf;
	*len = k;
	return 0;
}

uint32_t codec_crc32c(const void *buf, size_t len, uint32_t crc)
{
	const unsigned char *p = buf;

	/* spdk_crc32c_update is the raw register update: no inversion before or after */
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
	}
	return crc;
}
