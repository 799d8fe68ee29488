/* SPDX-License-Identifier: Apache-2.0 */
/* Host facts from fake sysfs/procfs trees built in a temporary directory. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/host.h"
#include "reconcile/plan.h"

static char root[PATH_MAX];

/* root + "/" + rel, checked to fit. */
static void tpath(char *out, const char *rel)
{
	assert_true(strlen(root) + 1 + strlen(rel) < PATH_MAX);
	strcpy(out, root);
	strcat(out, "/");
	strcat(out, rel);
}

static void mkdirs(const char *rel)
{
	char path[PATH_MAX];

	tpath(path, rel);
	for (char *p = path + strlen(root) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
}

static void put(const char *rel, const char *content)
{
	char path[PATH_MAX], dir[PATH_MAX];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", rel);
	if (strrchr(dir, '/')) {
		*strrchr(dir, '/') = '\0';
		mkdirs(dir);
	}
	tpath(path, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void link_to(const char *rel, const char *target)
{
	char path[PATH_MAX], dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", rel);
	*strrchr(dir, '/') = '\0';
	mkdirs(dir);
	tpath(path, rel);
	assert_int_equal(symlink(target, path), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	snprintf(root, sizeof(root), "%s/de-host-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(root));
	/* The files every read needs: no routes, no mounts, one interface. */
	put("proc/net/fib_trie", "Main:\n  +-- 0.0.0.0/0 3 0 5\n"
				 "     |-- 10.0.0.0\n        /24 link UNICAST\n"
				 "     |-- 10.0.0.1\n        /32 host LOCAL\n"
				 "     |-- 192.168.5.7\n        /32 host LOCAL\n");
	put("proc/net/route",
	    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	    /* 10.0.0.0/24 on ib0, 192.168.5.0/24 on eth1, default via eth1 */
	    "ib0\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
	    "eth1\t0005A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
	    "eth1\t00000000\t0105A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n");
	put("proc/net/if_inet6", "fd000000000000000000000000000005 03 40 00 80     ib1\n");
	put("sys/class/net/ib0/operstate", "up\n");
	put("sys/class/net/ib1/operstate", "up\n");
	put("sys/class/net/eth1/operstate", "down\n");
	put("proc/mounts", "/dev/sda1 / ext4 rw 0 0\n");
	return 0;
}

static int teardown(void **state)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void test_source_address_up(void **state)
{
	struct host_src_addr *a = NULL;
	size_t n = 0;
	char err[256] = "";

	assert_int_equal(host_src_addrs_read(root, "10.0.0.1, fd00::5", &a, &n, err, sizeof(err)),
			 0);
	assert_int_equal(n, 2);
	assert_string_equal(a[0].addr, "10.0.0.1");
	assert_int_equal(a[0].family, AF_INET);
	assert_string_equal(a[0].ifname, "ib0");
	assert_true(a[0].if_up);
	assert_int_equal(host_src_addr_check(&a[0], err, sizeof(err)), 0);
	assert_string_equal(a[1].addr, "fd00::5");
	assert_int_equal(a[1].family, AF_INET6);
	assert_string_equal(a[1].ifname, "ib1");
	assert_true(a[1].if_up);
	free(a);
}

static void test_interface_down(void **state)
{
	struct host_src_addr *a = NULL;
	size_t n = 0;
	char err[256] = "";

	assert_int_equal(host_src_addrs_read(root, "192.168.5.7", &a, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(a[0].ifname, "eth1");
	assert_false(a[0].if_up);
	assert_int_equal(host_src_addr_check(&a[0], err, sizeof(err)), -ENETDOWN);
	assert_non_null(strstr(err, "interface eth1"));
	assert_non_null(strstr(err, "192.168.5.7"));
	free(a);
}

static void test_address_on_no_interface(void **state)
{
	struct host_src_addr *a = NULL;
	size_t n = 0;
	char err[256] = "";

	/* In a routed subnet but not local; and an IPv6 address nobody has. */
	assert_int_equal(host_src_addrs_read(root, "10.0.0.9 fd00::9", &a, &n, err, sizeof(err)),
			 0);
	assert_int_equal(n, 2);
	assert_string_equal(a[0].ifname, "");
	assert_string_equal(a[1].ifname, "");
	assert_int_equal(host_src_addr_check(&a[0], err, sizeof(err)), -EADDRNOTAVAIL);
	assert_non_null(strstr(err, "10.0.0.9"));
	assert_non_null(strstr(err, "not configured on any interface"));
	free(a);
}

static void test_bad_rdma_ips(void **state)
{
	struct host_src_addr *a = NULL;
	size_t n = 0;
	char err[256] = "";

	assert_int_equal(host_src_addrs_read(root, "10.0.0.1,10.0.0.300", &a, &n, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "'10.0.0.300'"));
	assert_int_equal(host_src_addrs_read(root, "", &a, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
}

static void test_missing_operstate(void **state)
{
	struct host_src_addr *a = NULL;
	size_t n = 0;
	char err[512] = "";

	teardown(state);
	setup(state);
	put("proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n"
			      "ib9\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\n");
	assert_int_equal(host_src_addrs_read(root, "10.0.0.1", &a, &n, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "interface ib9"));
	assert_non_null(strstr(err, "operstate"));
}

/* A PCI function at 0000:82:00.0 the way sysfs lays it out. */
static void nvme_device(const char *driver)
{
	mkdirs("sys/devices/pci0000:80/0000:82:00.0/nvme/nvme0");
	put("sys/devices/pci0000:80/0000:82:00.0/class", "0x010802\n");
	link_to("sys/bus/pci/devices/0000:82:00.0", "../../../devices/pci0000:80/0000:82:00.0");
	if (driver) {
		char target[128];

		snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
		link_to("sys/devices/pci0000:80/0000:82:00.0/driver", target);
	}
}

static void test_nvme_bound_and_mounted(void **state)
{
	struct host_facts f;
	char err[256] = "", drv[32];

	nvme_device("nvme");
	link_to("sys/block/nvme0n1/device", "../../devices/pci0000:80/0000:82:00.0/nvme/nvme0");
	put("proc/mounts", "/dev/sda1 / ext4 rw 0 0\n/dev/nvme0n1p2 /data xfs rw 0 0\n");
	/* A network card is not an NVMe device. */
	put("sys/devices/pci0000:00/0000:00:03.0/class", "0x020000\n");
	link_to("sys/bus/pci/devices/0000:00:03.0", "../../../devices/pci0000:00/0000:00:03.0");

	assert_int_equal(host_facts_read(root, "10.0.0.1", &f, err, sizeof(err)), 0);
	assert_int_equal(f.n_pci, 1);
	assert_string_equal(f.pci[0].bdf, "0000:82:00.0");
	assert_string_equal(f.pci[0].driver, "nvme");
	assert_true(f.pci[0].has_mount);
	assert_non_null(strstr(f.pci[0].mount_example, "/dev/nvme0n1p2 on /data"));
	assert_int_equal(f.pci[0].iommu_group, -1);
	assert_false(f.iommu_enabled);
	assert_int_equal(f.n_src_addrs, 1);
	host_facts_free(&f);

	assert_int_equal(host_pci_driver(root, "0000:82:00.0", drv, sizeof(drv), err, sizeof(err)),
			 0);
	assert_string_equal(drv, "nvme");
}

/* A partition held by device-mapper (LVM, dm-crypt) is in use although nothing is mounted. */
static void test_nvme_partition_held(void **state)
{
	struct host_facts f;
	char err[256] = "";

	nvme_device("nvme");
	link_to("sys/block/nvme0n1/device", "../../devices/pci0000:80/0000:82:00.0/nvme/nvme0");
	mkdirs("sys/block/nvme0n1/holders");
	mkdirs("sys/block/nvme0n1/nvme0n1p1/holders/dm-0");
	put("proc/mounts", "/dev/sda1 / ext4 rw 0 0\n");
	assert_int_equal(host_facts_read(root, NULL, &f, err, sizeof(err)), 0);
	assert_int_equal(f.n_pci, 1);
	assert_false(f.pci[0].has_mount);
	assert_true(f.pci[0].has_holder);
	assert_string_equal(f.pci[0].holder_example, "nvme0n1p1 is held by dm-0");
	host_facts_free(&f);
}

/* A namespace in use as swap. */
static void test_nvme_swap(void **state)
{
	struct host_facts f;
	char err[256] = "";

	nvme_device("nvme");
	link_to("sys/block/nvme0n1/device", "../../devices/pci0000:80/0000:82:00.0/nvme/nvme0");
	put("proc/mounts", "/dev/sda1 / ext4 rw 0 0\n");
	put("proc/swaps", "Filename Type Size Used Priority\n"
			  "/dev/nvme0n1p3 partition 8388604 0 -2\n");
	assert_int_equal(host_facts_read(root, NULL, &f, err, sizeof(err)), 0);
	assert_true(f.pci[0].has_holder);
	assert_string_equal(f.pci[0].holder_example, "nvme0n1p3 is held by swap");
	host_facts_free(&f);
}

static void test_vfio_bound_with_iommu(void **state)
{
	struct host_facts f;
	char err[256] = "";

	nvme_device("vfio-pci");
	mkdirs("sys/kernel/iommu_groups/12/devices");
	link_to("sys/devices/pci0000:80/0000:82:00.0/iommu_group",
		"../../../kernel/iommu_groups/12");
	assert_int_equal(host_facts_read(root, NULL, &f, err, sizeof(err)), 0);
	assert_int_equal(f.n_pci, 1);
	assert_string_equal(f.pci[0].driver, "vfio-pci");
	assert_false(f.pci[0].has_mount);
	assert_int_equal(f.pci[0].iommu_group, 12);
	assert_true(f.iommu_enabled);
	host_facts_free(&f);
}

static void test_unbound_no_iommu(void **state)
{
	struct host_facts f;
	char err[256] = "", drv[32] = "x";

	nvme_device(NULL);
	assert_int_equal(host_facts_read(root, NULL, &f, err, sizeof(err)), 0);
	assert_string_equal(f.pci[0].driver, "");
	assert_false(f.iommu_enabled);
	host_facts_free(&f);
	assert_int_equal(host_pci_driver(root, "0000:82:00.0", drv, sizeof(drv), err, sizeof(err)),
			 0);
	assert_string_equal(drv, "");
	assert_int_equal(host_pci_driver(root, "0000:99:00.0", drv, sizeof(drv), err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "0000:99:00.0"));
	assert_non_null(strstr(err, "does not exist"));
}

static void test_hugepages(void **state)
{
	struct host_hugepages *h = NULL;
	size_t n = 0;
	char err[512] = "";

	put("sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages", "256\n");
	put("sys/devices/system/node/node1/hugepages/hugepages-2048kB/free_hugepages", "0\n");
	put("sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages", "512\n");
	put("sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages", "100\n");
	put("sys/devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages", "2\n");
	put("sys/devices/system/node/node0/hugepages/hugepages-1048576kB/free_hugepages", "2\n");
	mkdirs("sys/devices/system/node/possible_is_not_a_node");
	assert_int_equal(host_hugepages_read(root, &h, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_int_equal(h[0].node, 0);
	assert_int_equal(h[0].size_kb, 2048);
	assert_int_equal(h[0].total, 512);
	assert_int_equal(h[0].free, 100);
	assert_int_equal(h[1].size_kb, 1048576);
	assert_int_equal(h[2].node, 1);
	assert_int_equal(h[2].free, 0);
	free(h);

	put("sys/devices/system/node/node1/hugepages/hugepages-2048kB/free_hugepages", "lots\n");
	assert_int_equal(host_hugepages_read(root, &h, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "node1/hugepages/hugepages-2048kB/free_hugepages"));
}

static void test_missing_mounts_file(void **state)
{
	struct host_facts f;
	char path[PATH_MAX], err[512] = "";

	nvme_device("vfio-pci");
	tpath(path, "proc/mounts");
	unlink(path);
	assert_int_equal(host_facts_read(root, NULL, &f, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "proc/mounts"));
	assert_int_equal(host_facts_read(NULL, NULL, &f, err, sizeof(err)), -EINVAL);
}

/* The facts read from a tree reach the planner's statuses, naming interface and mount. */
static void test_facts_drive_plan(void **state)
{
	static struct volume v;
	struct mapping m = {.id = 7, .volume_id = 1, .state = MAPPING_ASSIGNED};
	struct local_device dev = {.bdf = "0000:82:00.0"};
	struct desired d = {.mappings = &m,
			    .n_mappings = 1,
			    .volumes = &v,
			    .n_volumes = 1,
			    .devices = &dev,
			    .n_devices = 1};
	struct observed o = {.bdevs_listed = true};
	struct host_facts f;
	struct plan p;
	char err[256] = "";

	plan_config_defaults(&d.config);
	memset(&v, 0, sizeof(v));
	v.id = 1;
	v.size_bytes = 1 << 20;
	v.block_size = 512;
	v.n_replicas = 2;
	for (unsigned s = 0; s < 2; s++) {
		v.replicas[s].slot = s;
		v.replicas[s].in_sync = true;
		v.replicas[s].port = 4420;
		snprintf(v.replicas[s].addr, sizeof(v.replicas[s].addr), "10.0.1.%u", s + 1);
		snprintf(v.replicas[s].nqn, sizeof(v.replicas[s].nqn), "nqn.x:vol1-%u", s);
	}

	/* RDMA_IPS names an address whose interface (eth1) is down. */
	assert_int_equal(host_facts_read(root, "192.168.5.7", &f, err, sizeof(err)), 0);
	assert_int_equal(plan_build(&d, &o, &f, &p), 0);
	assert_int_equal(p.n_actions, 1);
	assert_int_equal(p.actions[0].kind, ACTION_SET_STATUS);
	assert_non_null(strstr(p.actions[0].message, "interface eth1"));
	plan_free(&p);
	host_facts_free(&f);

	/* A local replica on a drive the kernel still owns, with a mounted filesystem. */
	nvme_device("nvme");
	link_to("sys/block/nvme0n1/device", "../../devices/pci0000:80/0000:82:00.0/nvme/nvme0");
	put("proc/mounts", "/dev/nvme0n1 /srv ext4 rw 0 0\n");
	v.replicas[0].transport = TRANSPORT_PCIE;
	snprintf(v.replicas[0].addr, sizeof(v.replicas[0].addr), "0000:82:00.0");
	v.replicas[0].nqn[0] = '\0';
	assert_int_equal(host_facts_read(root, "10.0.0.1", &f, err, sizeof(err)), 0);
	assert_int_equal(plan_build(&d, &o, &f, &p), 0);
	assert_int_equal(p.n_actions, 1);
	assert_non_null(strstr(p.actions[0].message, "bound to nvme"));
	assert_non_null(strstr(p.actions[0].message, "/dev/nvme0n1 on /srv"));
	plan_free(&p);
	host_facts_free(&f);

	/* Rebound to vfio-pci by the operator: both replicas attach. */
	teardown(state);
	setup(state);
	nvme_device("vfio-pci");
	assert_int_equal(host_facts_read(root, "10.0.0.1", &f, err, sizeof(err)), 0);
	assert_int_equal(plan_build(&d, &o, &f, &p), 0);
	/* both attaches, then the volume's chain that awaits them */
	assert_true(p.n_actions >= 2);
	assert_int_equal(p.actions[0].kind, ACTION_ATTACH_PATH);
	assert_int_equal(p.actions[1].kind, ACTION_ATTACH_PATH);
	assert_string_equal(p.actions[1].path.hostaddr, "10.0.0.1");
	for (size_t i = 2; i < p.n_actions; i++)
		assert_int_not_equal(p.actions[i].kind, ACTION_ATTACH_PATH);
	plan_free(&p);
	host_facts_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_source_address_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interface_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_address_on_no_interface, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_rdma_ips, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_operstate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nvme_bound_and_mounted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vfio_bound_with_iommu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unbound_no_iommu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hugepages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_mounts_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_facts_drive_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nvme_partition_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nvme_swap, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
