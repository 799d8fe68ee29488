/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_HOST_HOST_FACTS_H
#define DISKENGINE_HOST_HOST_FACTS_H

/*
 * Facts about the local host that the planner consumes. Plain data only: host.h reads them from
 * sysfs/procfs, tests build them by hand.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOST_IFNAME_MAX 16 /* IFNAMSIZ */
#define HOST_ADDR_MAX 64   /* textual IPv4/IPv6 address */
#define HOST_BDF_MAX 16	   /* DDDD:BB:DD.F plus NUL */
#define HOST_DRIVER_MAX 32
#define HOST_PATH_MAX 256

/* One source address from RDMA_IPS, resolved against the local interfaces. */
struct host_src_addr {
	char addr[HOST_ADDR_MAX];     /* as written in RDMA_IPS (normalised) */
	int family;		      /* AF_INET or AF_INET6 */
	char ifname[HOST_IFNAME_MAX]; /* interface carrying it; empty: on no interface */
	bool if_up;		      /* operstate of that interface is "up" (or "unknown") */
};

/* One local PCI function that may carry an NVMe controller. */
struct host_pci_dev {
	char bdf[HOST_BDF_MAX];
	char driver[HOST_DRIVER_MAX];	   /* bound driver ("nvme", "vfio-pci", ...); empty: none */
	int iommu_group;		   /* -1: no IOMMU group */
	bool has_mount;			   /* a kernel namespace of this controller is mounted */
	char mount_example[HOST_PATH_MAX]; /* "/dev/nvme0n1p1 on /data" for error messages */
	bool has_holder; /* a kernel namespace or partition is held (dm, md, LVM) or is swap */
	char holder_example[HOST_PATH_MAX]; /* "nvme0n1p1 is held by dm-0" */
};

/* Hugepages of one size on one NUMA node. */
struct host_hugepages {
	int node;	  /* NUMA node number */
	uint64_t size_kb; /* page size in KiB */
	uint64_t total;	  /* nr_hugepages */
	uint64_t free;	  /* free_hugepages */
};

/* Everything the planner and the device commands need to know about the host. */
struct host_facts {
	struct host_src_addr *src_addrs;
	size_t n_src_addrs;
	struct host_pci_dev *pci;
	size_t n_pci;
	struct host_hugepages *hugepages;
	size_t n_hugepages;
	bool iommu_enabled; /* /sys/kernel/iommu_groups has at least one group */
};

#endif
