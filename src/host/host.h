/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_HOST_HOST_H
#define DISKENGINE_HOST_HOST_H

/*
 * Host facts read from sysfs and procfs under a root directory ("/" in production, a fake tree in
 * tests). Read-only: nothing here rebinds drivers or changes the host.
 *
 * Sources, all below root:
 *   PCI          sys/bus/pci/devices/<bdf>/{class,driver,iommu_group}
 *   IOMMU        sys/kernel/iommu_groups/<n>
 *   hugepages    sys/devices/system/node/node<N>/hugepages/hugepages-<size>kB/{nr,free}_hugepages
 *   mounts       proc/mounts; sys/block/<nvme ns>/device resolved to the BDF in its path
 *   IPv4 addrs   proc/net/fib_trie ("/32 host LOCAL" entries) matched to an interface by the
 *                longest link route in proc/net/route
 *   IPv6 addrs   proc/net/if_inet6
 *   link state   sys/class/net/<if>/operstate ("up" or "unknown" count as up)
 */

#include <stddef.h>

#include "host/host_facts.h"

/*
 * Read every fact. rdma_ips: RDMA_IPS, addresses separated by commas or blanks (may be NULL or
 * empty). On success fills *out (free with host_facts_free) and returns 0. Errors: -EINVAL for an
 * RDMA_IPS entry that is no IP address, -ENOENT/-EACCES/... for an unreadable file; err receives
 * a sentence naming the address or path.
 */
int host_facts_read(const char *root, const char *rdma_ips, struct host_facts *out, char *err,
		    size_t err_size);

/* Free what host_facts_read allocated; safe on a zeroed struct. */
void host_facts_free(struct host_facts *f);

/*
 * Resolve RDMA_IPS against the interfaces under root: one entry per address, with the interface
 * carrying it (empty if none) and its state. 0, or -EINVAL / -errno with err as above.
 */
int host_src_addrs_read(const char *root, const char *rdma_ips, struct host_src_addr **out,
			size_t *n_out, char *err, size_t err_size);

/* PCI functions of class mass-storage/NVMe (0x0108xx) with driver, IOMMU group and mounts. */
int host_pci_read(const char *root, struct host_pci_dev **out, size_t *n_out, char *err,
		  size_t err_size);

/* Driver bound to one BDF ("" if none). -ENOENT with err if the device does not exist. */
int host_pci_driver(const char *root, const char *bdf, char *out, size_t size, char *err,
		    size_t err_size);

/* Hugepages per NUMA node and size; a host without NUMA nodes in sysfs yields none. */
int host_hugepages_read(const char *root, struct host_hugepages **out, size_t *n_out, char *err,
			size_t err_size);

/* Does root/sys/kernel/iommu_groups hold at least one group? */
int host_iommu_enabled(const char *root);

/*
 * A sentence saying why a resolved source address cannot be used (on no interface, interface
 * down), or "" if it can. Returns 0 if usable, -EADDRNOTAVAIL or -ENETDOWN otherwise.
 */
int host_src_addr_check(const struct host_src_addr *a, char *err, size_t err_size);

#endif
