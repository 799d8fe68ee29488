/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Addresses of NVMe-oF paths as SPDK's host side uses them: the target and source
 * (hostaddr / hostsvcid) addresses of a connect (lib/nvme nvme_tcp.c / nvme_rdma.c
 * with nvme_parse_addr, lib/sock's source bind), and the path selector of
 * bdev_nvme_detach_controller (bdev_nvme.c nvme_path_id_compare).
 */
#include "sim/sim_fabric.h"
#include "sim/sim_nvme_internal.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* spdk_strtol(s, 10) as nvme_parse_addr uses it: a port is 1..65535 */
static bool port_ok(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return errno == 0 && *end == '\0' && v > 0 && v < 65536;
}

/*
 * nvme_parse_addr(): resolve addr/service for one address family. SPDK lets
 * getaddrinfo resolve names here; TCP later insists on numeric hosts, so a name only
 * matters for RDMA, and for TCP it is refused without asking a resolver.
 */
static int parse_addr(const char *addr, const char *service, int family, bool numeric,
		      struct sockaddr_storage *out, socklen_t *outlen)
{
	struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int rc = 0;

	if (service && !port_ok(service))
		return -EINVAL;
	if (numeric)
		hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(addr, service, &hints, &res) != 0 || !res)
		return -EINVAL;
	if (res->ai_addrlen > sizeof(*out)) {
		rc = -EINVAL;
	} else {
		memcpy(out, res->ai_addr, res->ai_addrlen);
		*outlen = res->ai_addrlen;
	}
	freeaddrinfo(res);
	return rc;
}

/*
 * lib/sock's source bind for TCP: numeric host and service only, passive (a missing host
 * is the wildcard), any family -- the first answer is bound, as sock_posix_fd_connect does.
 */
static int tcp_source(const char *addr, const char *svcid, struct sockaddr_storage *out,
		      socklen_t *outlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV | AI_NUMERICHOST | AI_PASSIVE};
	struct addrinfo *res = NULL;
	char port[8] = "0";
	int rc = 0;

	if (svcid)
		snprintf(port, sizeof(port), "%ld", strtol(svcid, NULL, 10));
	if (getaddrinfo(addr, svcid ? port : NULL, &hints, &res) != 0 || !res)
		return -EINVAL;
	if (res->ai_addrlen > sizeof(*out)) {
		rc = -EINVAL;
	} else {
		memcpy(out, res->ai_addr, res->ai_addrlen);
		*outlen = res->ai_addrlen;
	}
	freeaddrinfo(res);
	return rc;
}

int nvme_fabric_connect(const struct nvme_ctrlr *c)
{
	const char *addr = c->hostaddr[0] ? c->hostaddr : NULL;
	const char *svcid = c->hostsvcid[0] ? c->hostsvcid : NULL;
	bool tcp = strcmp(c->trid.trtype, "TCP") == 0;
	struct sockaddr_storage src;
	socklen_t srclen = 0;
	int family, rc;

	/* nvme_tcp/nvme_rdma_qpair_connect: only IP address families can connect */
	if (strcmp(c->trid.adrfam, "IPv4") == 0)
		family = AF_INET;
	else if (strcmp(c->trid.adrfam, "IPv6") == 0)
		family = AF_INET6;
	else
		return -EINVAL;
	if (!c->trid.trsvcid[0] || !port_ok(c->trid.trsvcid))
		return -EINVAL;
	if (addr || svcid) {
		rc = parse_addr(addr, svcid, family, tcp, &src, &srclen);
		/* TCP binds what lib/sock makes of the text; RDMA the address resolved here */
		if (rc == 0 && tcp)
			rc = tcp_source(addr, svcid, &src, &srclen);
		if (rc < 0)
			return rc;
	}
	return fab_tcp_connect(c->trid.traddr, c->trid.trsvcid, family,
			       srclen ? (const struct sockaddr *)&src : NULL, srclen);
}

/* ---- bdev_nvme_detach_controller's path selector -------------------------------------- */

static bool given(const char *v)
{
	return v && v[0];
}

bool nvme_path_sel_match(const struct nvme_path_sel *sel, const struct nvme_trid *t,
			 const char *hostaddr, const char *hostsvcid)
{
	/* an unknown trtype is SPDK's CUSTOM, compared by name: no modelled path has one */
	if (sel->trtype && (!sel->trtype_known || strcmp(sel->trtype, t->trtype) != 0))
		return false;
	if (given(sel->traddr) && strcasecmp(sel->traddr, t->traddr) != 0)
		return false;
	if (sel->adrfam && strcmp(sel->adrfam, t->adrfam) != 0)
		return false;
	if (given(sel->trsvcid) && strcasecmp(sel->trsvcid, t->trsvcid) != 0)
		return false;
	if (given(sel->subnqn) && strcmp(sel->subnqn, t->subnqn) != 0)
		return false;
	if (given(sel->hostaddr) && strcmp(sel->hostaddr, hostaddr) != 0)
		return false;
	if (given(sel->hostsvcid) && strcmp(sel->hostsvcid, hostsvcid) != 0)
		return false;
	return true;
}
