/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCI facts: which driver owns each NVMe function, its IOMMU group, and whether one of its
 * kernel namespaces is mounted (proc/mounts source -> sys/block/<ns>/device -> the BDF found in
 * the resolved path). A mount through device-mapper or md on top of the namespace is not
 * followed: such a namespace has a holder (sys/block/<ns>[/<part>]/holders) instead, and
 * proc/swaps names one used as swap.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/host.h"
#include "host/host_internal.h"

static bool is_bdf(const char *s, size_t len)
{
	static const char pat[] = "xxxx:xx:xx.x";

	if (len != sizeof(pat) - 1)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (pat[i] == 'x' ? !isxdigit((unsigned char)s[i]) : s[i] != pat[i])
			return false;
	}
	return true;
}

/* Last path component of a symlink's target, or "" if the link does not exist. */
static int link_base(const char *path, char *out, size_t size)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	const char *b;

	out[0] = '\0';
	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	buf[n] = '\0';
	b = strrchr(buf, '/');
	snprintf(out, size, "%s", b ? b + 1 : buf);
	return 0;
}

int host_pci_driver(const char *root, const char *bdf, char *out, size_t size, char *err,
		    size_t err_size)
{
	char rel[128], path[PATH_MAX];
	int rc;

	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", bdf);
	rc = host_path(path, sizeof(path), root, rel);
	if (rc)
		return host_err(rc, err, err_size, "PCI device %s: path too long", bdf);
	if (access(path, F_OK) != 0)
		return host_err(-ENOENT, err, err_size, "PCI device %s: %s does not exist", bdf,
				path);
	strncat(path, "/driver", sizeof(path) - strlen(path) - 1);
	rc = link_base(path, out, size);
	if (rc)
		return host_err(rc, err, err_size, "PCI device %s: cannot read %s: %s", bdf, path,
				strerror(-rc));
	return 0;
}

/* "nvme0n1p2" -> "nvme0n1"; other names stay as they are. */
static void strip_partition(char *dev)
{
	char *p = strrchr(dev, 'p');

	if (strncmp(dev, "nvme", 4) != 0 || !p || !strchr(dev, 'n'))
		return;
	if (p > dev && isdigit((unsigned char)p[-1]) && isdigit((unsigned char)p[1]))
		*p = '\0';
}

/* BDF of a kernel namespace block device, or "" if sysfs does not lead to one. */
static void ns_bdf(const char *root, const char *ns, char *bdf, size_t size)
{
	char rel[128], path[PATH_MAX], real[PATH_MAX];
	char *tok, *save = NULL;

	bdf[0] = '\0';
	if (host_fmt(rel, sizeof(rel), "sys/block/%s/device", ns) ||
	    host_path(path, sizeof(path), root, rel) || !realpath(path, real))
		return;
	for (tok = strtok_r(real, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
		if (is_bdf(tok, strlen(tok)))
			snprintf(bdf, size, "%s", tok);
}

static int mark_mounts(const char *root, struct host_pci_dev *v, size_t n, char *err,
		       size_t err_size)
{
	char path[PATH_MAX], line[1024];
	FILE *f;
	int rc = host_path(path, sizeof(path), root, "proc/mounts");

	if (rc)
		return host_err(rc, err, err_size, "%s/proc/mounts: path too long", root);
	f = fopen(path, "re");
	if (!f)
		return host_err(-errno, err, err_size, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char src[256], target[256], dev[256], bdf[HOST_BDF_MAX];

		if (sscanf(line, "%255s %255s", src, target) != 2 || strncmp(src, "/dev/nvme", 9))
			continue;
		snprintf(dev, sizeof(dev), "%s", src + 5);
		strip_partition(dev);
		ns_bdf(root, dev, bdf, sizeof(bdf));
		for (size_t i = 0; i < n; i++) {
			if (strcmp(v[i].bdf, bdf) != 0 || v[i].has_mount)
				continue;
			v[i].has_mount = true;
			host_fmt(v[i].mount_example, sizeof(v[i].mount_example), "%.120s on %.120s",
				 src, target);
		}
	}
	fclose(f);
	return 0;
}

static struct host_pci_dev *dev_by_bdf(struct host_pci_dev *v, size_t n, const char *bdf)
{
	for (size_t i = 0; bdf[0] && i < n; i++)
		if (strcmp(v[i].bdf, bdf) == 0)
			return &v[i];
	return NULL;
}

/* First entry of a holders directory, or "" when it is empty or absent. */
static void first_holder(const char *root, const char *rel, char *out, size_t size)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;

	out[0] = '\0';
	if (host_path(path, sizeof(path), root, rel) || !(d = opendir(path)))
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(out, size, "%s", e->d_name);
			break;
		}
	closedir(d);
}

static void set_holder(struct host_pci_dev *dev, const char *what, const char *by)
{
	if (dev->has_holder)
		return;
	dev->has_holder = true;
	host_fmt(dev->holder_example, sizeof(dev->holder_example), "%.100s is held by %.100s", what,
		 by);
}

/* Namespaces (and their partitions) that device-mapper, md or LVM hold. */
static void mark_holders(const char *root, struct host_pci_dev *v, size_t n)
{
	char path[PATH_MAX], rel[PATH_MAX], by[256], bdf[HOST_BDF_MAX];
	struct dirent *e, *pe;
	DIR *d, *pd;

	if (host_path(path, sizeof(path), root, "sys/block") || !(d = opendir(path)))
		return;
	while ((e = readdir(d))) {
		struct host_pci_dev *dev;

		if (strncmp(e->d_name, "nvme", 4) != 0)
			continue;
		ns_bdf(root, e->d_name, bdf, sizeof(bdf));
		dev = dev_by_bdf(v, n, bdf);
		if (!dev)
			continue;
		if (host_fmt(rel, sizeof(rel), "sys/block/%s/holders", e->d_name) == 0) {
			first_holder(root, rel, by, sizeof(by));
			if (by[0])
				set_holder(dev, e->d_name, by);
		}
		if (host_fmt(rel, sizeof(rel), "sys/block/%s", e->d_name) ||
		    host_path(path, sizeof(path), root, rel) || !(pd = opendir(path)))
			continue;
		while ((pe = readdir(pd))) {
			if (strncmp(pe->d_name, e->d_name, strlen(e->d_name)) != 0 ||
			    host_fmt(rel, sizeof(rel), "sys/block/%s/%s/holders", e->d_name,
				     pe->d_name))
				continue;
			first_holder(root, rel, by, sizeof(by));
			if (by[0])
				set_holder(dev, pe->d_name, by);
		}
		closedir(pd);
	}
	closedir(d);
}

/* Namespaces or partitions in use as swap (proc/swaps; absent on some containers). */
static void mark_swaps(const char *root, struct host_pci_dev *v, size_t n)
{
	char path[PATH_MAX], line[512], src[256], dev[256], bdf[HOST_BDF_MAX];
	FILE *f;

	if (host_path(path, sizeof(path), root, "proc/swaps") || !(f = fopen(path, "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		struct host_pci_dev *d;

		if (sscanf(line, "%255s", src) != 1 || strncmp(src, "/dev/nvme", 9) != 0)
			continue;
		snprintf(dev, sizeof(dev), "%s", src + 5);
		strip_partition(dev);
		ns_bdf(root, dev, bdf, sizeof(bdf));
		d = dev_by_bdf(v, n, bdf);
		if (d)
			set_holder(d, src + 5, "swap");
	}
	fclose(f);
}

static int read_dev(const char *dir, const char *bdf, struct host_pci_dev *d)
{
	char path[PATH_MAX], cls[32], grp[32];
	int rc;

	memset(d, 0, sizeof(*d));
	d->iommu_group = -1;
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	if (host_fmt(path, sizeof(path), "%s/%s/class", dir, bdf))
		return -ENAMETOOLONG;
	/* Only mass storage / non-volatile memory (class 0x0108xx) matters here. */
	if (host_read_line(path, cls, sizeof(cls)) != 0 || strncmp(cls, "0x0108", 6) != 0)
		return 1;
	if (host_fmt(path, sizeof(path), "%s/%s/driver", dir, bdf))
		return -ENAMETOOLONG;
	rc = link_base(path, d->driver, sizeof(d->driver));
	if (rc)
		return rc;
	if (host_fmt(path, sizeof(path), "%s/%s/iommu_group", dir, bdf))
		return -ENAMETOOLONG;
	rc = link_base(path, grp, sizeof(grp));
	if (rc)
		return rc;
	if (grp[0])
		d->iommu_group = atoi(grp);
	return 0;
}

static int cmp_dev(const void *a, const void *b)
{
	return strcmp(((const struct host_pci_dev *)a)->bdf, ((const struct host_pci_dev *)b)->bdf);
}

int host_pci_read(const char *root, struct host_pci_dev **out, size_t *n_out, char *err,
		  size_t err_size)
{
	char dir[PATH_MAX];
	struct host_pci_dev *v = NULL;
	size_t n = 0;
	struct dirent *e;
	DIR *d;
	int rc = host_path(dir, sizeof(dir), root, "sys/bus/pci/devices");

	if (rc)
		return host_err(rc, err, err_size, "%s/sys/bus/pci/devices: path too long", root);
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT) { /* a host (or container) without PCI */
			*out = NULL;
			*n_out = 0;
			return 0;
		}
		return host_err(-errno, err, err_size, "%s: %s", dir, strerror(errno));
	}
	while ((e = readdir(d))) {
		struct host_pci_dev dev, *nv;

		if (!is_bdf(e->d_name, strlen(e->d_name)))
			continue;
		rc = read_dev(dir, e->d_name, &dev);
		if (rc > 0) {
			rc = 0; /* not an NVMe function */
			continue;
		}
		if (rc < 0) {
			host_err(rc, err, err_size, "PCI device %s under %s: %s", e->d_name, dir,
				 strerror(-rc));
			break;
		}
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			rc = -ENOMEM;
			break;
		}
		v = nv;
		v[n++] = dev;
	}
	closedir(d);
	if (rc == 0 && n)
		qsort(v, n, sizeof(*v), cmp_dev);
	if (rc == 0)
		rc = mark_mounts(root, v, n, err, err_size);
	if (rc == 0) {
		mark_holders(root, v, n);
		mark_swaps(root, v, n);
	}
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*n_out = n;
	return 0;
}

int host_iommu_enabled(const char *root)
{
	char dir[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int found = 0;

	if (host_path(dir, sizeof(dir), root, "sys/kernel/iommu_groups"))
		return -ENAMETOOLONG;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			found = 1;
	closedir(d);
	return found;
}
