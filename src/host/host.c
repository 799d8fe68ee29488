/* SPDX-License-Identifier: Apache-2.0 */
/* host_facts_read: gathers the facts of host_net.c, host_pci.c and host_mem.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"
#include "host/host_internal.h"

int host_path(char *out, size_t size, const char *root, const char *rel)
{
	size_t n = strlen(root);
	int len;

	while (n > 1 && root[n - 1] == '/')
		n--;
	len = snprintf(out, size, "%.*s/%s", (int)n, root, rel);
	if (len < 0 || (size_t)len >= size)
		return -ENAMETOOLONG;
	return 0;
}

int host_fmt(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= size)
		return -ENAMETOOLONG;
	return 0;
}

int host_read_line(const char *path, char *out, size_t size)
{
	FILE *f = fopen(path, "re");
	int rc = 0;

	if (!f)
		return -errno;
	if (!fgets(out, (int)size, f))
		rc = ferror(f) ? -EIO : -ENODATA;
	fclose(f);
	if (rc == 0)
		out[strcspn(out, "\n")] = '\0';
	return rc;
}

int host_err(int rc, char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (err && err_size) {
		va_start(ap, fmt);
		vsnprintf(err, err_size, fmt, ap);
		va_end(ap);
	}
	return rc;
}

void host_facts_free(struct host_facts *f)
{
	free(f->src_addrs);
	free(f->pci);
	free(f->hugepages);
	memset(f, 0, sizeof(*f));
}

int host_facts_read(const char *root, const char *rdma_ips, struct host_facts *out, char *err,
		    size_t err_size)
{
	struct host_facts f = {0};
	int rc;

	if (!root || !out)
		return host_err(-EINVAL, err, err_size, "host facts: no root directory given");
	rc = host_src_addrs_read(root, rdma_ips, &f.src_addrs, &f.n_src_addrs, err, err_size);
	if (rc == 0)
		rc = host_pci_read(root, &f.pci, &f.n_pci, err, err_size);
	if (rc == 0)
		rc = host_hugepages_read(root, &f.hugepages, &f.n_hugepages, err, err_size);
	if (rc == 0) {
		rc = host_iommu_enabled(root);
		if (rc >= 0) {
			f.iommu_enabled = rc > 0;
			rc = 0;
		} else {
			host_err(rc, err, err_size, "%s/sys/kernel/iommu_groups: %s", root,
				 strerror(-rc));
		}
	}
	if (rc != 0) {
		host_facts_free(&f);
		return rc;
	}
	*out = f;
	return 0;
}
