/* SPDX-License-Identifier: Apache-2.0 */
#include "store/store_validate.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "store/store_internal.h"

#define NQN_UUID_PREFIX "nqn.2014-08.org.nvmexpress:uuid:"
#define NQN_DISCOVERY "nqn.2014-08.org.nvmexpress.discovery"

/* Messages quote user text; keep a quoted value short enough that the message still fits. */
static const char *q(const char *s, char *buf, size_t size)
{
	size_t n = strlen(s);

	if (n < size) {
		memcpy(buf, s, n + 1);
		return buf;
	}
	snprintf(buf, size, "%.*s...", (int)(size - 4), s);
	return buf;
}

static bool has_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

/* Text goes into JSON and terminals: it must be well-formed UTF-8. */
static bool utf8_valid(const char *s)
{
	return util_utf8_valid(s);
}

int store_validate_name(const char *what, const char *s, struct store_error *err)
{
	char b[64];

	if (!s || !*s)
		return store_seterr(err, -EINVAL, "%s must not be empty", what);
	/* a name of spaces cannot be told apart in a table, nor typed back reliably */
	if (s[strspn(s, " ")] == '\0')
		return store_seterr(err, -EINVAL, "%s must not be blank", what);
	if (strlen(s) >= STORE_NAME_MAX)
		return store_seterr(err, -EINVAL, "%s '%s' is too long (%zu bytes, at most %d)",
				    what, q(s, b, sizeof(b)), strlen(s), STORE_NAME_MAX - 1);
	if (has_control(s))
		return store_seterr(err, -EINVAL,
				    "%s must not contain control characters (newline, tab, ...)",
				    what);
	if (!utf8_valid(s))
		return store_seterr(err, -EINVAL, "%s is not valid UTF-8", what);
	return 0;
}

int store_validate_volume_name(const char *s, struct store_error *err)
{
	int r = store_validate_name("volume name", s, err);

	if (r < 0)
		return r;
	if (strspn(s, "0123456789") == strlen(s))
		return store_seterr(
			err, -EINVAL,
			"volume name '%s' is all digits; digits alone refer to a volume id", s);
	return 0;
}

int store_validate_uuid(const char *s, struct store_error *err)
{
	static const int groups[] = {8, 4, 4, 4, 12};
	const char *p = s;
	char b[64];

	for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
		for (int i = 0; i < groups[g]; i++, p++)
			if (!isxdigit((unsigned char)*p))
				goto bad;
		if (g + 1 < ARRAY_SIZE(groups) && *p++ != '-')
			goto bad;
	}
	if (*p == '\0')
		return 0;
bad:
	return store_seterr(err, -EINVAL,
			    "'%s' is not a UUID (expected 8-4-4-4-12 hex digits, e.g. "
			    "0b5d7c2e-3f4a-4b6c-9d8e-1f2a3b4c5d6e)",
			    q(s, b, sizeof(b)));
}

/* Reverse domain: labels start with a letter, hold letters/digits/'-', end alphanumeric. */
static int nqn_domain_check(const char *nqn, const char *d, size_t len, struct store_error *err)
{
	size_t label = 0;
	char b[96];

	if (len == 0)
		return store_seterr(err, -EINVAL, "NQN '%s' has no domain after the date",
				    q(nqn, b, sizeof(b)));
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? d[i] : '.';

		if (c == '.') {
			if (label == 0 || d[i - 1] == '-')
				return store_seterr(err, -EINVAL,
						    "NQN '%s': domain labels must not be empty and "
						    "must end with a letter or digit",
						    q(nqn, b, sizeof(b)));
			label = 0;
			continue;
		}
		if (label == 0 && !isalpha((unsigned char)c))
			return store_seterr(err, -EINVAL,
					    "NQN '%s': domain labels must start with a letter",
					    q(nqn, b, sizeof(b)));
		if (!isalnum((unsigned char)c) && c != '-')
			return store_seterr(
				err, -EINVAL,
				"NQN '%s': the domain may hold only letters, digits, '-' "
				"and '.'",
				q(nqn, b, sizeof(b)));
		if (++label > 63)
			return store_seterr(err, -EINVAL,
					    "NQN '%s': a domain label is longer than 63 characters",
					    q(nqn, b, sizeof(b)));
	}
	return 0;
}

int store_validate_nqn(const char *s, struct store_error *err)
{
	size_t len = s ? strlen(s) : 0;
	const char *colon;
	int year, month;
	char b[96];

	if (len == 0)
		return store_seterr(err, -EINVAL, "NQN must not be empty");
	if (len >= STORE_NQN_MAX)
		return store_seterr(err, -EINVAL,
				    "NQN '%s' is %zu bytes long; at most %d are allowed",
				    q(s, b, sizeof(b)), len, STORE_NQN_MAX - 1);
	if (has_control(s))
		return store_seterr(err, -EINVAL, "NQN must not contain control characters");
	if (!utf8_valid(s))
		return store_seterr(err, -EINVAL, "NQN is not valid UTF-8");
	if (strcmp(s, NQN_DISCOVERY) == 0)
		return store_seterr(err, -EINVAL,
				    "NQN '%s' is the discovery service, not a subsystem", s);
	if (strncmp(s, NQN_UUID_PREFIX, strlen(NQN_UUID_PREFIX)) == 0) {
		if (store_validate_uuid(s + strlen(NQN_UUID_PREFIX), NULL) < 0)
			return store_seterr(err, -EINVAL,
					    "NQN '%s': after '" NQN_UUID_PREFIX
					    "' a UUID (8-4-4-4-12 hex digits) must follow",
					    q(s, b, sizeof(b)));
		return 0;
	}
	if (strncmp(s, "nqn.", 4) != 0)
		return store_seterr(
			err, -EINVAL,
			"NQN '%s' must start with 'nqn.' (nqn.yyyy-mm.reverse.domain:name "
			"or " NQN_UUID_PREFIX "UUID)",
			q(s, b, sizeof(b)));
	if (len < 12 || !isdigit((unsigned char)s[4]) || !isdigit((unsigned char)s[5]) ||
	    !isdigit((unsigned char)s[6]) || !isdigit((unsigned char)s[7]) || s[8] != '-' ||
	    !isdigit((unsigned char)s[9]) || !isdigit((unsigned char)s[10]) || s[11] != '.')
		return store_seterr(err, -EINVAL,
				    "NQN '%s' must have a date 'yyyy-mm.' after 'nqn.' (e.g. "
				    "nqn.2016-06.io.spdk:cnode1)",
				    q(s, b, sizeof(b)));
	year = (s[4] - '0') * 1000 + (s[5] - '0') * 100 + (s[6] - '0') * 10 + (s[7] - '0');
	month = (s[9] - '0') * 10 + (s[10] - '0');
	if (month < 1 || month > 12 || year < 1970)
		return store_seterr(err, -EINVAL, "NQN '%s' has an invalid date %.7s",
				    q(s, b, sizeof(b)), s + 4);
	colon = strchr(s + 12, ':');
	if (!colon || colon[1] == '\0')
		return store_seterr(err, -EINVAL,
				    "NQN '%s' must end with ':' and a name after the domain",
				    q(s, b, sizeof(b)));
	return nqn_domain_check(s, s + 12, (size_t)(colon - (s + 12)), err);
}

static int hexfield(const char *s, size_t n, unsigned max, unsigned *out)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 16 + (unsigned)(isdigit((unsigned char)s[i])
						? s[i] - '0'
						: tolower((unsigned char)s[i]) - 'a' + 10);
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int store_validate_bdf(const char *s, char out[STORE_BDF_MAX], struct store_error *err)
{
	unsigned dom, bus, dev, fn;
	char b[64];

	if (!s || strlen(s) != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.')
		return store_seterr(
			err, -EINVAL,
			"PCI address '%s' is not of the form DDDD:BB:DD.F (e.g. 0000:82:00.0)",
			s ? q(s, b, sizeof(b)) : "");
	if (hexfield(s, 4, 0xffff, &dom) < 0 || hexfield(s + 5, 2, 0xff, &bus) < 0 ||
	    !isxdigit((unsigned char)s[8]) || !isxdigit((unsigned char)s[9]) ||
	    !isxdigit((unsigned char)s[11]))
		return store_seterr(err, -EINVAL,
				    "PCI address '%s' must be hexadecimal (DDDD:BB:DD.F)", s);
	if (hexfield(s + 8, 2, 0x1f, &dev) < 0)
		return store_seterr(err, -EINVAL, "PCI address '%s': device %.2s is above 1f", s,
				    s + 8);
	if (hexfield(s + 11, 1, 7, &fn) < 0)
		return store_seterr(err, -EINVAL, "PCI address '%s': function %c is above 7", s,
				    s[11]);
	snprintf(out, STORE_BDF_MAX, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

/* Why an address cannot be one end of a path, or NULL when it can. */
static const char *ip_unusable(int af, const unsigned char *a)
{
	static const unsigned char zero[16];

	if (af == AF_INET) {
		if (memcmp(a, zero, 4) == 0)
			return "the unspecified address";
		if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)
			return "the broadcast address";
		if ((a[0] & 0xf0) == 0xe0)
			return "a multicast address";
		return NULL;
	}
	if (memcmp(a, zero, 16) == 0)
		return "the unspecified address";
	if (a[0] == 0xff)
		return "a multicast address";
	return NULL;
}

int store_validate_ip(const char *what, const char *s, struct store_error *err)
{
	unsigned char buf[sizeof(struct in6_addr)];
	const char *why;
	char b[64];
	int af;

	if (!s || strlen(s) >= STORE_ADDR_MAX)
		af = 0;
	else if (inet_pton(AF_INET, s, buf) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, s, buf) == 1)
		af = AF_INET6;
	else
		af = 0;
	if (!af)
		return store_seterr(err, -EINVAL, "%s '%s' is not an IPv4 or IPv6 address", what,
				    s ? q(s, b, sizeof(b)) : "");
	why = ip_unusable(af, buf);
	if (why)
		return store_seterr(err, -EINVAL,
				    "%s '%s' is %s; a path needs the address of one interface",
				    what, s, why);
	return 0;
}

int store_ip_equal(const char *a, const char *b)
{
	unsigned char x[sizeof(struct in6_addr)], y[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, a, x) == 1)
		return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
	if (inet_pton(AF_INET6, a, x) == 1)
		return inet_pton(AF_INET6, b, y) == 1 && memcmp(x, y, 16) == 0;
	return strcmp(a, b) == 0;
}

int store_validate_port(const char *s, uint16_t *out, struct store_error *err)
{
	uint64_t v;
	char b[64];

	if (!s || util_parse_u64(s, 65535, &v) < 0 || v == 0)
		return store_seterr(err, -EINVAL, "port '%s' is not a number from 1 to 65535",
				    s ? q(s, b, sizeof(b)) : "");
	*out = (uint16_t)v;
	return 0;
}

int store_validate_block_size(uint64_t bs, struct store_error *err)
{
	if (bs == 512 || bs == 4096)
		return 0;
	return store_seterr(err, -EINVAL, "block size %llu is not supported (use 512 or 4096)",
			    (unsigned long long)bs);
}

int store_validate_size(uint64_t size, uint32_t block_size, struct store_error *err)
{
	if (size == 0)
		return store_seterr(err, -EINVAL, "size must not be zero");
	if (size > (uint64_t)INT64_MAX)
		return store_seterr(err, -EINVAL,
				    "size %llu bytes is too large (at most %lld bytes)",
				    (unsigned long long)size, (long long)INT64_MAX);
	if (block_size && size % block_size)
		return store_seterr(err, -EINVAL,
				    "size %llu bytes is not a multiple of the block size %u",
				    (unsigned long long)size, block_size);
	return 0;
}

int store_validate_qos(const struct store_qos *qos, struct store_error *err)
{
	if (qos->rw_iops % 1000)
		return store_seterr(err, -EINVAL,
				    "QoS rw_iops %llu is not a multiple of 1000 (SPDK's unit)",
				    (unsigned long long)qos->rw_iops);
	const struct {
		const char *name;
		uint64_t v, max;
	} lim[] = {
		{"rw_iops", qos->rw_iops, INT64_MAX},
		{"rw_mbps", qos->rw_mbps, INT64_MAX >> 20},
		{"r_mbps", qos->r_mbps, INT64_MAX >> 20},
		{"w_mbps", qos->w_mbps, INT64_MAX >> 20},
	};

	for (size_t i = 0; i < ARRAY_SIZE(lim); i++)
		if (lim[i].v > lim[i].max)
			return store_seterr(err, -EINVAL, "QoS %s %llu is too large (at most %llu)",
					    lim[i].name, (unsigned long long)lim[i].v,
					    (unsigned long long)lim[i].max);
	return 0;
}

int store_validate_key_path(const char *s, struct store_error *err)
{
	/* The value is never quoted back: an operator may have pasted the key itself. */
	if (s && strncmp(s, "DHHC-1:", 7) == 0)
		return store_seterr(
			err, -EINVAL,
			"auth key file looks like a DH-HMAC-CHAP key itself; give the path "
			"of a file that holds it (the key is never stored or shown)");
	if (!s || s[0] != '/')
		return store_seterr(
			err, -EINVAL,
			"auth key file must be an absolute path (the database holds only "
			"the reference, never the key)");
	if (strlen(s) >= STORE_PATH_MAX)
		return store_seterr(err, -EINVAL, "auth key file path is longer than %d bytes",
				    STORE_PATH_MAX - 1);
	if (has_control(s) || !utf8_valid(s))
		return store_seterr(err, -EINVAL,
				    "auth key file path must be UTF-8 without control characters");
	return 0;
}
