/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "reconcile/names.h"

static uint64_t fnv1a64(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return 1;
}

int names_bdf_valid(const char *bdf)
{
	/* DDDD:BB:DD.F, F in 0-7 */
	if (strlen(bdf) != 12 || bdf[4] != ':' || bdf[7] != ':' || bdf[10] != '.')
		return 0;
	return all_hex(bdf, 4) && all_hex(bdf + 5, 2) && all_hex(bdf + 8, 2) && bdf[11] >= '0' &&
	       bdf[11] <= '7';
}

int names_ctrlr(const struct replica *r, char *out, size_t size)
{
	if (r->transport == TRANSPORT_PCIE) {
		if (!names_bdf_valid(r->addr))
			return -EINVAL;
		snprintf(out, size, "de_pci_%.4s_%.2s_%.2s_%c", r->addr, r->addr + 5, r->addr + 8,
			 r->addr[11]);
		return 0;
	}
	if (r->nqn[0] == '\0')
		return -EINVAL;
	/* A hash, not the NQN itself: NQNs reach 223 characters and carry ':' and '.'. */
	snprintf(out, size, "de_%016" PRIx64, fnv1a64(r->nqn));
	return 0;
}

void names_ns_bdev(const char *ctrlr, uint32_t nsid, char *out, size_t size)
{
	snprintf(out, size, "%sn%u", ctrlr, nsid ? nsid : 1);
}

void names_raid(uint64_t volume_id, char *out, size_t size)
{
	snprintf(out, size, "raid_%" PRIu64, volume_id);
}

void names_raid_uuid(uint64_t volume_id, char *out, size_t size)
{
	char seed[64];
	uint64_t hi, lo;

	snprintf(seed, sizeof(seed), "diskengine raid_%" PRIu64, volume_id);
	hi = fnv1a64(seed);
	snprintf(seed, sizeof(seed), "raid_%" PRIu64 " of diskengine", volume_id);
	lo = fnv1a64(seed);
	/* version 8 (vendor-specific) and the RFC variant, so it reads as a valid UUID */
	hi = (hi & ~0xf000ull) | 0x8000ull;
	lo = (lo & ~(3ull << 62)) | (2ull << 62);
	snprintf(out, size, "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
		 hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48, lo & UINT64_C(0xffffffffffff));
}

void names_vhost(uint64_t mapping_id, char *out, size_t size)
{
	snprintf(out, size, "vhost%" PRIu64, mapping_id);
}

int names_key(const char *key_name, char *out, size_t size)
{
	if (key_name[0] == '\0')
		return -EINVAL;
	for (const char *p = key_name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
			return -EINVAL;
	if ((size_t)snprintf(out, size, "de_key_%s", key_name) >= size)
		return -EINVAL;
	return 0;
}

/* Parse a decimal id without sign or leading zero; 0 on success. */
static int parse_id(const char *s, uint64_t *id)
{
	uint64_t v = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*id = v;
	return 0;
}

enum name_kind names_classify(const char *name, uint64_t *id)
{
	uint64_t v;

	if (strncmp(name, "raid_", 5) == 0 && parse_id(name + 5, &v) == 0) {
		if (id)
			*id = v;
		return NAME_RAID;
	}
	if (strncmp(name, "vhost", 5) == 0 && parse_id(name + 5, &v) == 0) {
		if (id)
			*id = v;
		return NAME_VHOST;
	}
	if (strncmp(name, "de_key_", 7) == 0 && name[7] != '\0')
		return NAME_KEY;
	if (strncmp(name, "de_pci_", 7) == 0) {
		const char *b = name + 7;

		/* DDDD_BB_DD_F */
		if (strlen(b) == 12 && b[4] == '_' && b[7] == '_' && b[10] == '_' &&
		    all_hex(b, 4) && all_hex(b + 5, 2) && all_hex(b + 8, 2) && b[11] >= '0' &&
		    b[11] <= '7')
			return NAME_CTRLR_PCIE;
		return NAME_FOREIGN;
	}
	if (strncmp(name, "de_", 3) == 0 && strlen(name) == 19 && all_hex(name + 3, 16))
		return NAME_CTRLR_FABRIC;
	return NAME_FOREIGN;
}
