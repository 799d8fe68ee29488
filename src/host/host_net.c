/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Source addresses for fabric attaches (the seed's pickHostAddr / ensureHostAddrInterfaceUp).
 * getifaddrs() cannot be pointed at a fake tree, so addresses come from procfs files that can:
 * IPv6 from proc/net/if_inet6 (address and interface on one line); IPv4 from proc/net/fib_trie,
 * whose "/32 host LOCAL" entries are the local addresses, matched to the interface of the longest
 * link route (no gateway) in proc/net/route that contains them. A /32 address without a covering
 * link route (point-to-point set-ups) is reported as on no interface.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "host/host.h"
#include "host/host_internal.h"

#define RTF_GATEWAY_FLAG 0x0002

/* Is the IPv4 address (network order) one of the host's LOCAL addresses in fib_trie? */
static int fib_has_local(const char *root, uint32_t addr, bool *found, char *err, size_t esz)
{
	char path[512], line[256], last[64] = "";
	FILE *f;
	int rc = host_path(path, sizeof(path), root, "proc/net/fib_trie");

	*found = false;
	if (rc)
		return host_err(rc, err, esz, "%s/proc/net/fib_trie: path too long", root);
	f = fopen(path, "re");
	if (!f)
		return host_err(-errno, err, esz, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "|-- ");
		struct in_addr a;

		if (p) {
			snprintf(last, sizeof(last), "%s", p + 4);
			last[strcspn(last, " \n")] = '\0';
			continue;
		}
		if (strstr(line, "/32 host LOCAL") && inet_pton(AF_INET, last, &a) == 1 &&
		    a.s_addr == addr)
			*found = true;
	}
	fclose(f);
	return 0;
}

/* Interface of the longest link route containing addr (both in network order as in memory). */
static int route_ifname(const char *root, uint32_t addr, char *ifname, size_t size, char *err,
			size_t esz)
{
	char path[512], line[512];
	int best = -1;
	FILE *f;
	int rc = host_path(path, sizeof(path), root, "proc/net/route");

	ifname[0] = '\0';
	if (rc)
		return host_err(rc, err, esz, "%s/proc/net/route: path too long", root);
	f = fopen(path, "re");
	if (!f)
		return host_err(-errno, err, esz, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char ifn[HOST_IFNAME_MAX + 1];
		unsigned dst, gw, flags, mask;
		int bits;

		if (sscanf(line, "%16s %x %x %x %*d %*d %*d %x", ifn, &dst, &gw, &flags, &mask) !=
		    5)
			continue; /* the header line */
		if (flags & RTF_GATEWAY_FLAG)
			continue;
		if ((addr & mask) != (dst & mask))
			continue;
		bits = __builtin_popcount(mask);
		if (bits > best) {
			best = bits;
			host_fmt(ifname, size, "%s", ifn);
		}
	}
	fclose(f);
	return 0;
}

/* Interface carrying an IPv6 address, from if_inet6. */
static int inet6_ifname(const char *root, const struct in6_addr *addr, char *ifname, size_t size,
			char *err, size_t esz)
{
	char path[512], line[256];
	FILE *f;
	int rc = host_path(path, sizeof(path), root, "proc/net/if_inet6");

	ifname[0] = '\0';
	if (rc)
		return host_err(rc, err, esz, "%s/proc/net/if_inet6: path too long", root);
	f = fopen(path, "re");
	if (!f) {
		/* A kernel without IPv6 has no such file: no address is local then. */
		if (errno == ENOENT)
			return 0;
		return host_err(-errno, err, esz, "%s: %s", path, strerror(errno));
	}
	while (fgets(line, sizeof(line), f)) {
		char hex[33], ifn[HOST_IFNAME_MAX + 1];
		struct in6_addr a;

		if (sscanf(line, "%32s %*x %*x %*x %*x %16s", hex, ifn) != 2 || strlen(hex) != 32)
			continue;
		for (int i = 0; i < 16; i++) {
			unsigned b;

			sscanf(hex + 2 * i, "%2x", &b);
			a.s6_addr[i] = (uint8_t)b;
		}
		if (memcmp(&a, addr, sizeof(a)) == 0) {
			host_fmt(ifname, size, "%s", ifn);
			break;
		}
	}
	fclose(f);
	return 0;
}

static int if_up(const char *root, const char *ifname, bool *up, char *err, size_t esz)
{
	char rel[128], path[512], state[32];
	int rc;

	snprintf(rel, sizeof(rel), "sys/class/net/%s/operstate", ifname);
	rc = host_path(path, sizeof(path), root, rel);
	if (rc == 0)
		rc = host_read_line(path, state, sizeof(state));
	if (rc)
		return host_err(rc, err, esz, "interface %s: cannot read %s: %s", ifname, path,
				strerror(-rc));
	/* Loopback and some virtual links report "unknown" while passing traffic. */
	*up = strcmp(state, "up") == 0 || strcmp(state, "unknown") == 0;
	return 0;
}

static int resolve(const char *root, const char *text, struct host_src_addr *out, char *err,
		   size_t esz)
{
	struct in_addr a4;
	struct in6_addr a6;
	int rc;

	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, &a4) == 1) {
		bool local;

		out->family = AF_INET;
		inet_ntop(AF_INET, &a4, out->addr, sizeof(out->addr));
		rc = fib_has_local(root, a4.s_addr, &local, err, esz);
		if (rc == 0 && local)
			rc = route_ifname(root, a4.s_addr, out->ifname, sizeof(out->ifname), err,
					  esz);
	} else if (inet_pton(AF_INET6, text, &a6) == 1) {
		out->family = AF_INET6;
		inet_ntop(AF_INET6, &a6, out->addr, sizeof(out->addr));
		rc = inet6_ifname(root, &a6, out->ifname, sizeof(out->ifname), err, esz);
	} else {
		return host_err(-EINVAL, err, esz,
				"RDMA_IPS entry '%s' is not an IPv4 or IPv6 address", text);
	}
	if (rc == 0 && out->ifname[0])
		rc = if_up(root, out->ifname, &out->if_up, err, esz);
	return rc;
}

int host_src_addrs_read(const char *root, const char *rdma_ips, struct host_src_addr **out,
			size_t *n_out, char *err, size_t err_size)
{
	struct host_src_addr *v = NULL;
	size_t n = 0;
	char *copy, *save = NULL;
	int rc = 0;

	if (!rdma_ips || !*rdma_ips) {
		*out = NULL;
		*n_out = 0;
		return 0;
	}
	copy = strdup(rdma_ips);
	if (!copy)
		return -ENOMEM;
	for (char *tok = strtok_r(copy, ", \t\n", &save); tok;
	     tok = strtok_r(NULL, ", \t\n", &save)) {
		struct host_src_addr *nv = realloc(v, (n + 1) * sizeof(*v));

		if (!nv) {
			rc = -ENOMEM;
			break;
		}
		v = nv;
		rc = resolve(root, tok, &v[n], err, err_size);
		if (rc)
			break;
		n++;
	}
	free(copy);
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*n_out = n;
	return 0;
}

int host_src_addr_check(const struct host_src_addr *a, char *err, size_t err_size)
{
	if (!a->ifname[0])
		return host_err(-EADDRNOTAVAIL, err, err_size,
				"source address %s (RDMA_IPS) is not configured on any interface",
				a->addr);
	if (!a->if_up)
		return host_err(-ENETDOWN, err, err_size,
				"interface %s carrying source address %s is down", a->ifname,
				a->addr);
	if (err && err_size)
		err[0] = '\0';
	return 0;
}
