/* SPDX-License-Identifier: Apache-2.0 */
/* Hugepages per NUMA node: SPDK cannot start without them, whatever the NVMe side says. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"
#include "host/host_internal.h"

static int read_u64(const char *path, uint64_t *v)
{
	char line[64], *end;
	int rc = host_read_line(path, line, sizeof(line));

	if (rc)
		return rc;
	errno = 0;
	*v = strtoull(line, &end, 10);
	if (errno || end == line)
		return -EINVAL;
	return 0;
}

static int read_node(const char *nodes, int node, struct host_hugepages **v, size_t *n, char *err,
		     size_t esz)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (host_fmt(dir, sizeof(dir), "%s/node%d/hugepages", nodes, node))
		return host_err(-ENAMETOOLONG, err, esz, "%s/node%d: path too long", nodes, node);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0
				       : host_err(-errno, err, esz, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d)) && rc == 0) {
		struct host_hugepages h = {.node = node}, *nv;
		unsigned long long kb;

		if (sscanf(e->d_name, "hugepages-%llukB", &kb) != 1)
			continue;
		h.size_kb = kb;
		rc = host_fmt(path, sizeof(path), "%s/%s/nr_hugepages", dir, e->d_name);
		if (rc == 0)
			rc = read_u64(path, &h.total);
		if (rc == 0) {
			rc = host_fmt(path, sizeof(path), "%s/%s/free_hugepages", dir, e->d_name);
			if (rc == 0)
				rc = read_u64(path, &h.free);
		}
		if (rc) {
			host_err(rc, err, esz, "%s: %s", path, strerror(-rc));
			break;
		}
		nv = realloc(*v, (*n + 1) * sizeof(**v));
		if (!nv) {
			rc = -ENOMEM;
			break;
		}
		*v = nv;
		(*v)[(*n)++] = h;
	}
	closedir(d);
	return rc;
}

static int cmp_hp(const void *a, const void *b)
{
	const struct host_hugepages *x = a, *y = b;

	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	return x->size_kb < y->size_kb ? -1 : x->size_kb > y->size_kb;
}

int host_hugepages_read(const char *root, struct host_hugepages **out, size_t *n_out, char *err,
			size_t err_size)
{
	char nodes[PATH_MAX];
	struct host_hugepages *v = NULL;
	size_t n = 0;
	struct dirent *e;
	DIR *d;
	int rc = host_path(nodes, sizeof(nodes), root, "sys/devices/system/node");

	if (rc)
		return host_err(rc, err, err_size, "%s/sys/devices/system/node: path too long",
				root);
	d = opendir(nodes);
	if (!d && errno != ENOENT)
		return host_err(-errno, err, err_size, "%s: %s", nodes, strerror(errno));
	while (d && (e = readdir(d)) && rc == 0) {
		int node;
		char tail;

		if (sscanf(e->d_name, "node%d%c", &node, &tail) == 1)
			rc = read_node(nodes, node, &v, &n, err, err_size);
	}
	if (d)
		closedir(d);
	if (rc) {
		free(v);
		return rc;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_hp);
	*out = v;
	*n_out = n;
	return 0;
}
