/* SPDX-License-Identifier: Apache-2.0 */
#include "daemon/daemon_names.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

void daemon_name_ctrlr_for_nqn(const char *nqn, char *out, size_t len)
{
	const char *tail = strrchr(nqn, ':');
	char t[24];
	size_t n = 0;

	tail = tail ? tail + 1 : nqn;
	for (; *tail && n < sizeof(t) - 1; tail++)
		t[n++] = isalnum((unsigned char)*tail) ? *tail : '_';
	t[n] = '\0';
	snprintf(out, len, "nvme_%s_%08x", t, fnv1a(nqn));
}

void daemon_name_ctrlr_for_bdf(const char *bdf, char *out, size_t len)
{
	char t[32];
	size_t n = 0;

	for (; *bdf && n < sizeof(t) - 1; bdf++)
		t[n++] = isalnum((unsigned char)*bdf) ? (char)tolower((unsigned char)*bdf) : '_';
	t[n] = '\0';
	snprintf(out, len, "pcie_%s", t);
}

void daemon_name_raid(int64_t volume_id, char *out, size_t len)
{
	snprintf(out, len, "raid_%lld", (long long)volume_id);
}

void daemon_name_vhost(int64_t mapping_id, char *out, size_t len)
{
	snprintf(out, len, "vhost%lld", (long long)mapping_id);
}

/* "<prefix><decimal id>" with nothing after the digits. */
static bool prefixed_id(const char *name, const char *prefix, int64_t *id)
{
	size_t pl = strlen(prefix);
	const char *p = name + pl;
	long long v = 0;

	if (strncmp(name, prefix, pl) != 0 || !*p || *p == '0')
		return false;
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p) || v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (*p - '0');
	}
	if (id)
		*id = v;
	return true;
}

bool daemon_name_is_raid(const char *name, int64_t *volume_id)
{
	return prefixed_id(name, "raid_", volume_id);
}

bool daemon_name_is_vhost(const char *name, int64_t *mapping_id)
{
	return prefixed_id(name, "vhost", mapping_id);
}

bool daemon_name_is_ctrlr(const char *name)
{
	size_t n = strlen(name);

	if (strncmp(name, "pcie_", 5) == 0)
		return n > 5;
	/* nvme_<tail>_<8 hex> */
	if (strncmp(name, "nvme_", 5) != 0 || n < 5 + 1 + 8 || name[n - 9] != '_')
		return false;
	for (size_t i = n - 8; i < n; i++)
		if (!isxdigit((unsigned char)name[i]) || isupper((unsigned char)name[i]))
			return false;
	return true;
}
