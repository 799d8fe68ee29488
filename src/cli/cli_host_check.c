/* SPDX-License-Identifier: Apache-2.0 */
/*
 * diskengine host check: is this machine ready for SPDK to own its local drives? Reads sysfs and
 * procfs only (under --sysfs-root), changes nothing, and names a fix for every problem.
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "cli/cli_host_check.h"
#include "common/util.h"
#include "host/host.h"
#include "host/host_internal.h"

#define CHECK_DEVICES_MAX 64

struct check_args {
	const char *root;
	const char *host;
	const char *bdfs[CHECK_DEVICES_MAX];
	size_t n_bdfs;
};

struct check {
	json_t *problems;
	bool text;
};

static void problem(struct check *c, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct check *c, const char *fix, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	json_array_append_new(c->problems, json_pack("{s:s,s:s}", "problem", what, "fix", fix));
}

static bool module_loaded(const char *root, const char *name)
{
	char rel[64], path[PATH_MAX];

	snprintf(rel, sizeof(rel), "sys/module/%s", name);
	return host_path(path, sizeof(path), root, rel) == 0 && access(path, F_OK) == 0;
}

static int numa_node(const char *root, const char *bdf)
{
	char rel[96], path[PATH_MAX], line[32];

	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/numa_node", bdf);
	if (host_path(path, sizeof(path), root, rel) || host_read_line(path, line, sizeof(line)))
		return -1;
	return atoi(line);
}

static uint64_t hugepages_on(const struct host_facts *f, int node, bool free_only)
{
	uint64_t kb = 0;

	for (size_t i = 0; i < f->n_hugepages; i++)
		if (node < 0 || f->hugepages[i].node == node)
			kb += (free_only ? f->hugepages[i].free : f->hugepages[i].total) *
			      f->hugepages[i].size_kb;
	return kb;
}

static json_t *check_device(struct check *c, const char *root, const struct host_facts *f,
			    const char *bdf)
{
	const struct host_pci_dev *d = NULL;
	int node = numa_node(root, bdf);
	bool uio;

	for (size_t i = 0; i < f->n_pci; i++)
		if (strcmp(f->pci[i].bdf, bdf) == 0)
			d = &f->pci[i];
	if (!d) {
		problem(c, "check the BDF (lspci -D) and that the drive is plugged in",
			"device %s: no NVMe function at this address", bdf);
		return json_pack("{s:s,s:b}", "bdf", bdf, "found", 0);
	}
	uio = strcmp(d->driver, "uio_pci_generic") == 0 || strcmp(d->driver, "igb_uio") == 0;
	if (d->has_mount)
		problem(c, "unmount it (and remove it from /etc/fstab)",
			"device %s: a namespace is mounted: %s", bdf, d->mount_example);
	if (d->has_holder)
		problem(c, "release it (dmsetup remove, mdadm --stop, vgchange -an, swapoff)",
			"device %s: %s", bdf, d->holder_example);
	if (!d->driver[0] || strcmp(d->driver, "nvme") == 0)
		problem(c, "bind it to vfio-pci (README, \"Local drives\": prepare)",
			"device %s: bound to %s, not to a userspace driver", bdf,
			d->driver[0] ? "the kernel nvme driver" : "no driver");
	else if (strcmp(d->driver, "vfio-pci") != 0 && !uio)
		problem(c, "bind it to vfio-pci", "device %s: bound to %s", bdf, d->driver);
	if (uio && !f->iommu_enabled)
		problem(c,
			"enable the IOMMU and use vfio-pci, or run the daemon with "
			"--allow-unsafe-noiommu",
			"device %s: uio without an IOMMU gives the drive DMA to all memory", bdf);
	if (node >= 0 && f->n_hugepages && hugepages_on(f, node, false) == 0)
		problem(c, "reserve hugepages on that node (nodeN/hugepages/.../nr_hugepages)",
			"device %s: NUMA node %d has no hugepages", bdf, node);
	return json_pack("{s:s,s:b,s:s?,s:i,s:i,s:b,s:b}", "bdf", bdf, "found", 1, "driver",
			 d->driver[0] ? d->driver : NULL, "numa_node", node, "iommu_group",
			 d->iommu_group, "mounted", d->has_mount, "held", d->has_holder);
}

static int check_opt(struct cli_ctx *ctx, void *arg, int opt, const char *val)
{
	struct check_args *a = arg;

	switch (opt) {
	case 'r':
		a->root = val;
		return CLI_EXIT_OK;
	case 'H':
		a->host = val;
		return CLI_EXIT_OK;
	case 'd':
		if (a->n_bdfs >= CHECK_DEVICES_MAX)
			return cli_usage_error(ctx, "at most %d --device options",
					       CHECK_DEVICES_MAX);
		a->bdfs[a->n_bdfs++] = val;
		return CLI_EXIT_OK;
	}
	return CLI_EXIT_USAGE;
}

static void print_text(json_t *report)
{
	json_t *v;
	size_t i;

	printf("iommu:      %s\n", json_is_true(json_object_get(report, "iommu")) ? "on" : "off");
	printf("modules:    vfio_pci %s, uio_pci_generic %s\n",
	       json_is_true(json_object_get(report, "vfio_pci")) ? "loaded" : "not loaded",
	       json_is_true(json_object_get(report, "uio_pci_generic")) ? "loaded" : "not loaded");
	json_array_foreach(json_object_get(report, "hugepages"), i, v)
		printf("hugepages:  node %" JSON_INTEGER_FORMAT " %" JSON_INTEGER_FORMAT
		       " kB: %" JSON_INTEGER_FORMAT " total, %" JSON_INTEGER_FORMAT " free\n",
		       json_integer_value(json_object_get(v, "node")),
		       json_integer_value(json_object_get(v, "size_kb")),
		       json_integer_value(json_object_get(v, "total")),
		       json_integer_value(json_object_get(v, "free")));
	json_array_foreach(json_object_get(report, "devices"), i, v)
		printf("device:     %s driver %s numa %" JSON_INTEGER_FORMAT
		       " iommu_group %" JSON_INTEGER_FORMAT "\n",
		       json_string_value(json_object_get(v, "bdf")),
		       json_string_value(json_object_get(v, "driver"))
			       ? json_string_value(json_object_get(v, "driver"))
			       : "-",
		       json_integer_value(json_object_get(v, "numa_node")),
		       json_integer_value(json_object_get(v, "iommu_group")));
	json_array_foreach(json_object_get(report, "problems"), i, v)
		printf("problem:    %s\n            fix: %s\n",
		       json_string_value(json_object_get(v, "problem")),
		       json_string_value(json_object_get(v, "fix")));
	printf("%s\n", json_is_true(json_object_get(report, "ready")) ? "ready" : "not ready");
}

/* The BDFs to check: --device, else the host's registered devices, else every NVMe function. */
static int check_bdfs(struct cli_ctx *ctx, struct check_args *a, const struct host_facts *f,
		      json_t *out)
{
	struct store_device *devs = NULL;
	struct store_error err = {0};
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < a->n_bdfs; i++)
		json_array_append_new(out, json_string(a->bdfs[i]));
	if (a->n_bdfs)
		return CLI_EXIT_OK;
	if (!a->host) {
		for (size_t i = 0; i < f->n_pci; i++)
			json_array_append_new(out, json_string(f->pci[i].bdf));
		return CLI_EXIT_OK;
	}
	rc = cli_store_open_read(ctx);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (store_device_list(ctx->store, a->host, &devs, &n, &err) < 0)
		return cli_fail(ctx, &err);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(out, json_string(devs[i].bdf));
	free(devs);
	return CLI_EXIT_OK;
}

int host_check(int argc, char **argv)
{
	static const struct option opts[] = {{"sysfs-root", required_argument, NULL, 'r'},
					     {"host", required_argument, NULL, 'H'},
					     {"device", required_argument, NULL, 'd'},
					     CLI_COMMON_OPTIONS,
					     {0}};
	static const struct cli_verb verb = {
		"check", host_check, "check [--host NAME | --device BDF...] [--sysfs-root DIR]",
		"is this machine ready for SPDK to own its local drives? (exit 0: ready)"};
	struct check_args a = {.root = "/"};
	struct cli_ctx ctx = {.cmd = "host check"};
	struct check c = {.problems = json_array()};
	struct host_facts f;
	char herr[256] = "";
	json_t *bdfs = json_array(), *devices = json_array(), *huge = json_array(), *report, *v;
	size_t i;
	int pos, rc;
	const struct cli_verb_spec spec = {
		.noun = "host",
		.verb = &verb,
		.detail = "--host NAME       check the devices registered for NAME (reads the "
			  "database)\n"
			  "--device BDF      check this device (repeat); default: every NVMe "
			  "function\n"
			  "--sysfs-root DIR  where /sys and /proc are (default /)\n",
		.opts = opts,
		.opt_cb = check_opt,
		.opt_arg = &a,
		.min_args = 0,
		.max_args = 0,
		.args_hint = "expected no arguments",
		.store = CLI_STORE_NONE,
	};

	rc = cli_verb_start(&ctx, &spec, argc, argv, &pos);
	if (rc != CLI_EXIT_OK || ctx.help)
		goto out;
	if (host_facts_read(a.root, NULL, &f, herr, sizeof(herr)) != 0) {
		fprintf(stderr, "diskengine host check: cannot read host facts under %s: %s\n",
			a.root, herr);
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	rc = check_bdfs(&ctx, &a, &f, bdfs);
	if (rc != CLI_EXIT_OK) {
		host_facts_free(&f);
		goto out;
	}
	if (!f.iommu_enabled)
		problem(&c,
			"enable it (intel_iommu=on or amd_iommu=on on the kernel command line); "
			"without it only uio with --allow-unsafe-noiommu works",
			"no IOMMU: vfio-pci cannot isolate the drives' DMA");
	if (!module_loaded(a.root, "vfio_pci") && !module_loaded(a.root, "uio_pci_generic"))
		problem(&c, "modprobe vfio-pci", "neither vfio_pci nor uio_pci_generic is loaded");
	if (hugepages_on(&f, -1, false) == 0)
		problem(&c,
			"reserve them: echo 1024 > "
			"/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages",
			"no hugepages reserved for SPDK");
	else if (hugepages_on(&f, -1, true) == 0)
		problem(&c, "reserve more, or stop what uses them",
			"every reserved hugepage is in use");
	for (i = 0; i < f.n_hugepages; i++)
		json_array_append_new(huge,
				      json_pack("{s:i,s:I,s:I,s:I}", "node", f.hugepages[i].node,
						"size_kb", (json_int_t)f.hugepages[i].size_kb,
						"total", (json_int_t)f.hugepages[i].total, "free",
						(json_int_t)f.hugepages[i].free));
	json_array_foreach(bdfs, i, v)
		json_array_append_new(devices, check_device(&c, a.root, &f, json_string_value(v)));
	report = json_pack("{s:b,s:b,s:b,s:b,s:O,s:O,s:O}", "ready",
			   json_array_size(c.problems) == 0, "iommu", f.iommu_enabled, "vfio_pci",
			   module_loaded(a.root, "vfio_pci"), "uio_pci_generic",
			   module_loaded(a.root, "uio_pci_generic"), "hugepages", huge, "devices",
			   devices, "problems", c.problems);
	host_facts_free(&f);
	rc = json_array_size(c.problems) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
	if (ctx.json) {
		cli_json_print(report);
	} else {
		print_text(report);
		json_decref(report);
	}
out:
	json_decref(bdfs);
	json_decref(devices);
	json_decref(huge);
	json_decref(c.problems);
	cli_store_close(&ctx);
	return rc;
}
