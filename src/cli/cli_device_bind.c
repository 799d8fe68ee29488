/* SPDX-License-Identifier: Apache-2.0 */
/*
 * diskengine device bind | rollback: the operator hands a local drive to a userspace driver for
 * SPDK, or gives it back to the kernel. Run on the host, never by the daemon. Every file written
 * is under --sysfs-root (sysfs writes, the recorded original driver, the lock), so tests run on a
 * fake tree.
 */
#include <errno.h>
#include <stdarg.h>
#include <strings.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "cli/cli_device_bind.h"
#include "common/util.h"
#include "host/host.h"
#include "host/host_internal.h"
#include "rpc/rpc.h"

#define BIND_WAIT_MS 10000

struct bind_args {
	const char *root;
	const char *driver;
	const char *sock;
	bool allow_noiommu;
	bool dry_run;
};

struct sysfs_write {
	char path[PATH_MAX];
	char value[64];
};

static int bind_opt(struct cli_ctx *ctx, void *arg, int opt, const char *val)
{
	struct bind_args *a = arg;

	switch (opt) {
	case 'r':
		a->root = val;
		return CLI_EXIT_OK;
	case 'D':
		if (strcmp(val, "vfio-pci") != 0 && strcmp(val, "uio_pci_generic") != 0)
			return cli_usage_error(
				ctx, "driver '%s' is not vfio-pci or uio_pci_generic", val);
		a->driver = val;
		return CLI_EXIT_OK;
	case 's':
		a->sock = val;
		return CLI_EXIT_OK;
	case 'u':
		a->allow_noiommu = true;
		return CLI_EXIT_OK;
	case 'n':
		a->dry_run = true;
		return CLI_EXIT_OK;
	}
	return CLI_EXIT_USAGE;
}

static int refuse(const char *cmd, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(const char *cmd, int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "diskengine %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static int rooted(char *out, const char *root, const char *fmt, const char *a, const char *b)
{
	char rel[PATH_MAX];

	snprintf(rel, sizeof(rel), fmt, a, b);
	return host_path(out, PATH_MAX, root, rel);
}

/* Make the directories above path (all under the root). */
static void mkparents(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(tmp, 0755);
		*p = '/';
	}
}

static int write_value(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC); /* as the shell's > does */
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	if (n < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return close(fd) < 0 ? -errno : 0;
}

/* The sysfs writes, in order; dry-run prints them instead. */
static int apply(const char *cmd, const struct sysfs_write *w, size_t n, bool dry_run)
{
	for (size_t i = 0; i < n; i++) {
		int r;

		if (dry_run) {
			printf("write '%s' to %s\n", w[i].value[0] == '\n' ? "\\n" : w[i].value,
			       w[i].path);
			continue;
		}
		r = write_value(w[i].path, w[i].value);
		if (r < 0)
			return refuse(cmd, CLI_EXIT_FAILURE, "writing '%s' to %s: %s", w[i].value,
				      w[i].path, strerror(-r));
	}
	return CLI_EXIT_OK;
}

/* Serialise binds and rollbacks on this host; the lock goes with the process. */
static int take_lock(const char *cmd, const char *root, int *fd)
{
	char path[PATH_MAX];

	if (host_path(path, sizeof(path), root, "run/diskengine/device.lock"))
		return refuse(cmd, CLI_EXIT_FAILURE, "lock path too long");
	mkparents(path);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return refuse(cmd, CLI_EXIT_FAILURE, "%s: %s", path, strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB) < 0)
		return refuse(cmd, CLI_EXIT_CONFLICT,
			      "another device bind or rollback runs on this host (%s); try again "
			      "when it is done",
			      path);
	return CLI_EXIT_OK;
}

static const struct host_pci_dev *find_dev(const struct host_facts *f, const char *bdf)
{
	for (size_t i = 0; i < f->n_pci; i++)
		if (strcmp(f->pci[i].bdf, bdf) == 0)
			return &f->pci[i];
	return NULL;
}

/* Poll the driver link until it names want ("" = any driver but the one in `not`). */
static bool wait_driver(const char *root, const char *bdf, const char *want)
{
	for (int waited = 0; waited <= BIND_WAIT_MS; waited += 50) {
		char drv[64] = "", err[128];

		if (host_pci_driver(root, bdf, drv, sizeof(drv), err, sizeof(err)) == 0 &&
		    strcmp(drv, want) == 0)
			return true;
		nanosleep(&(struct timespec){.tv_nsec = 50 * 1000000L}, NULL);
	}
	return false;
}

/* The kernel's nvme driver made the controller again: <dev>/nvme/nvmeN exists. */
static bool wait_kernel_ctrlr(const char *root, const char *bdf)
{
	char path[PATH_MAX];

	if (rooted(path, root, "sys/bus/pci/devices/%s/nvme%s", bdf, ""))
		return false;
	for (int waited = 0; waited <= BIND_WAIT_MS; waited += 50) {
		struct stat st;

		if (stat(path, &st) == 0)
			return true;
		nanosleep(&(struct timespec){.tv_nsec = 50 * 1000000L}, NULL);
	}
	return false;
}

static int bind_start(struct cli_ctx *ctx, const struct cli_verb *verb, const char *detail,
		      const struct option *opts, struct bind_args *a, int argc, char **argv,
		      char bdf[16])
{
	struct store_device *devs = NULL;
	struct store_error err = {0};
	size_t n = 0;
	bool known = false;
	int pos, rc;
	const struct cli_verb_spec spec = {
		.noun = "device",
		.verb = verb,
		.detail = detail,
		.opts = opts,
		.opt_cb = bind_opt,
		.opt_arg = a,
		.min_args = 2,
		.max_args = 2,
		.args_hint = "expected HOST and BDF",
		.store = CLI_STORE_READ,
	};

	rc = cli_verb_start(ctx, &spec, argc, argv, &pos);
	if (rc != CLI_EXIT_OK || ctx->help)
		return rc == CLI_EXIT_OK ? -1 : rc;
	if (store_device_list(ctx->store, argv[pos], &devs, &n, &err) < 0)
		return cli_fail(ctx, &err);
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(devs[i].bdf, argv[pos + 1]) == 0) {
			known = true;
			snprintf(bdf, 16, "%s", devs[i].bdf);
		}
	free(devs);
	if (!known)
		return refuse(ctx->cmd, CLI_EXIT_NOT_FOUND,
			      "device %s is not registered on host '%s' (diskengine device add %s "
			      "%s)",
			      argv[pos + 1], argv[pos], argv[pos], argv[pos + 1]);
	return CLI_EXIT_OK;
}

int device_bind(int argc, char **argv)
{
	static const struct option opts[] = {{"sysfs-root", required_argument, NULL, 'r'},
					     {"driver", required_argument, NULL, 'D'},
					     {"allow-unsafe-noiommu", no_argument, NULL, 'u'},
					     {"dry-run", no_argument, NULL, 'n'},
					     CLI_COMMON_OPTIONS,
					     {0}};
	static const struct cli_verb verb = {
		"bind", device_bind,
		"bind HOST BDF [--driver vfio-pci|uio_pci_generic] [--allow-unsafe-noiommu] "
		"[--dry-run] [--sysfs-root DIR]",
		"hand a local drive to a userspace driver for SPDK (run on the host)"};
	struct bind_args a = {.root = "/", .driver = "vfio-pci"};
	struct cli_ctx ctx = {.cmd = "device bind"};
	struct sysfs_write w[3];
	struct host_facts f;
	const struct host_pci_dev *d;
	char bdf[16], herr[256] = "", state[PATH_MAX], drvdir[PATH_MAX];
	size_t nw = 0;
	int lock = -1, rc;

	rc = bind_start(
		&ctx, &verb,
		"--driver D              vfio-pci (default) or uio_pci_generic\n"
		"--allow-unsafe-noiommu  accept uio on a host without an IOMMU\n"
		"--dry-run               print the sysfs writes, change nothing\n"
		"--sysfs-root DIR        where /sys, /proc, /run and /var are (default /)\n",
		opts, &a, argc, argv, bdf);
	if (rc != CLI_EXIT_OK)
		goto out_store;
	if (!a.dry_run && (rc = take_lock(ctx.cmd, a.root, &lock)) != CLI_EXIT_OK)
		goto out_store;
	if (host_facts_read(a.root, NULL, &f, herr, sizeof(herr)) != 0) {
		rc = refuse(ctx.cmd, CLI_EXIT_FAILURE, "cannot read host facts: %s", herr);
		goto out_lock;
	}
	d = find_dev(&f, bdf);
	if (!d)
		rc = refuse(ctx.cmd, CLI_EXIT_NOT_FOUND, "no NVMe function at %s under %s", bdf,
			    a.root);
	else if (d->has_mount)
		rc = refuse(ctx.cmd, CLI_EXIT_CONFLICT,
			    "device %s has a mounted filesystem (%s): unmount it first", bdf,
			    d->mount_example);
	else if (d->has_holder)
		rc = refuse(ctx.cmd, CLI_EXIT_CONFLICT, "device %s is in use: %s; release it first",
			    bdf, d->holder_example);
	else if (strcmp(a.driver, "vfio-pci") == 0 && !f.iommu_enabled)
		rc = refuse(ctx.cmd, CLI_EXIT_CONFLICT,
			    "no IOMMU on this host: vfio-pci cannot take %s. Enable the IOMMU, or "
			    "use --driver uio_pci_generic --allow-unsafe-noiommu",
			    bdf);
	else if (strcmp(a.driver, "vfio-pci") != 0 && !f.iommu_enabled && !a.allow_noiommu)
		rc = refuse(ctx.cmd, CLI_EXIT_CONFLICT,
			    "no IOMMU on this host: %s would give %s DMA to all memory; refused "
			    "without --allow-unsafe-noiommu",
			    a.driver, bdf);
	else if (strcmp(d->driver, a.driver) == 0)
		printf("device %s is already bound to %s\n", bdf, a.driver);
	if (rc != CLI_EXIT_OK || strcmp(d->driver, a.driver) == 0)
		goto out_facts;
	if (rooted(drvdir, a.root, "sys/bus/pci/drivers/%s%s", a.driver, "") ||
	    access(drvdir, F_OK) != 0) {
		rc = refuse(ctx.cmd, CLI_EXIT_FAILURE, "driver %s is not loaded: modprobe %s",
			    a.driver, strcmp(a.driver, "vfio-pci") == 0 ? "vfio-pci" : a.driver);
		goto out_facts;
	}
	/* the original driver, kept for rollback (a second bind keeps the first record) */
	if (rooted(state, a.root, "var/lib/diskengine/drivers/%s%s", bdf, "") == 0 && !a.dry_run &&
	    access(state, F_OK) != 0) {
		FILE *sf;

		mkparents(state);
		sf = fopen(state, "we");
		if (sf) {
			fprintf(sf, "%s\n", d->driver[0] ? d->driver : "nvme");
			fclose(sf);
		}
	}
	/* override first, so that nothing but the wanted driver can take the device */
	rooted(w[nw].path, a.root, "sys/bus/pci/devices/%s/driver_override%s", bdf, "");
	snprintf(w[nw++].value, sizeof(w[0].value), "%s", a.driver);
	if (d->driver[0]) {
		rooted(w[nw].path, a.root, "sys/bus/pci/devices/%s/driver/unbind%s", bdf, "");
		snprintf(w[nw++].value, sizeof(w[0].value), "%s", bdf);
	}
	rooted(w[nw].path, a.root, "sys/bus/pci/drivers_probe%s%s", "", "");
	snprintf(w[nw++].value, sizeof(w[0].value), "%s", bdf);
	rc = apply(ctx.cmd, w, nw, a.dry_run);
	if (rc == CLI_EXIT_OK && !a.dry_run) {
		if (!wait_driver(a.root, bdf, a.driver))
			rc = refuse(ctx.cmd, CLI_EXIT_FAILURE,
				    "device %s was not bound to %s within %d s", bdf, a.driver,
				    BIND_WAIT_MS / 1000);
		else
			printf("device %s bound to %s (was %s)\n", bdf, a.driver,
			       d->driver[0] ? d->driver : "no driver");
	}
out_facts:
	host_facts_free(&f);
out_lock:
	if (lock >= 0)
		close(lock);
out_store:
	cli_store_close(&ctx);
	return rc < 0 ? CLI_EXIT_OK : rc;
}

/* A replica on the device in the database: the name of its volume in *vol. */
static int device_used(struct store *s, const char *host, const char *bdf, char *vol, size_t size)
{
	struct store_volume *v = NULL;
	struct store_error err = {0};
	size_t n = 0;
	bool used = false;

	if (store_volume_list(s, &v, &n, &err) < 0)
		return -EIO;
	for (size_t i = 0; i < n && !used; i++) {
		struct store_replica *r = NULL;
		size_t nr = 0;

		if (store_replica_list(s, v[i].id, &r, &nr, &err) < 0)
			continue;
		for (size_t j = 0; j < nr; j++)
			if (r[j].transport == STORE_TRANSPORT_PCIE &&
			    strcmp(r[j].device_host, host) == 0 && strcmp(r[j].bdf, bdf) == 0) {
				snprintf(vol, size, "%s", v[i].name);
				used = true;
			}
		free(r);
	}
	free(v);
	return used;
}

/* SPDK's controller on the BDF, if any: its name in *ctrlr. 0 none, 1 one, <0 SPDK unreadable. */
static int spdk_uses(const char *sock, const char *bdf, char *ctrlr, size_t size)
{
	struct rpc_client_opts o = {.timeout_ms = 5000, .connect_timeout_ms = 1000};
	struct rpc_client *c = NULL;
	struct rpc_error err = {0};
	char *res = NULL;
	json_t *arr, *ct, *p;
	size_t i, k;
	int found = 0;

	if (access(sock, F_OK) != 0)
		return 0; /* no SPDK runs on this host: nothing can use the drive */
	if (rpc_client_open(sock, &o, &c, &err) < 0)
		return -ENOTCONN;
	if (rpc_call_raw(c, "bdev_nvme_get_controllers", NULL, o.timeout_ms, &res, &err) < 0) {
		rpc_client_close(c);
		return -EIO;
	}
	rpc_client_close(c);
	arr = json_loads(res, 0, NULL);
	free(res);
	json_array_foreach(arr, i, ct)
	{
		json_array_foreach(json_object_get(ct, "ctrlrs"), k, p)
		{
			json_t *trid = json_object_get(p, "trid");
			const char *tt = json_string_value(json_object_get(trid, "trtype"));
			const char *ta = json_string_value(json_object_get(trid, "traddr"));

			if (tt && ta && strcasecmp(tt, "PCIe") == 0 && strcasecmp(ta, bdf) == 0) {
				snprintf(ctrlr, size, "%s",
					 json_string_value(json_object_get(ct, "name")));
				found = 1;
			}
		}
	}
	json_decref(arr);
	return found;
}

int device_rollback(int argc, char **argv)
{
	static const struct option opts[] = {{"sysfs-root", required_argument, NULL, 'r'},
					     {"spdk-sock", required_argument, NULL, 's'},
					     {"dry-run", no_argument, NULL, 'n'},
					     CLI_COMMON_OPTIONS,
					     {0}};
	static const struct cli_verb verb = {
		"rollback", device_rollback,
		"rollback HOST BDF [--spdk-sock SOCK] [--dry-run] [--sysfs-root DIR]",
		"give a local drive back to the kernel nvme driver (run on the host)"};
	struct bind_args a = {.root = "/"};
	struct cli_ctx ctx = {.cmd = "device rollback"};
	struct sysfs_write w[3];
	char bdf[16], herr[256] = "", drv[64] = "", vol[STORE_NAME_MAX], ctrlr[128],
		      state[PATH_MAX];
	size_t nw = 0;
	int lock = -1, rc, u;

	a.sock = cli_env_spdk_sock();
	rc = bind_start(&ctx, &verb,
			"--spdk-sock SOCK    SPDK's socket, to check that no controller uses the "
			"drive\n"
			"                    (default $SPDK_RPC_SOCK, else " RPC_DEFAULT_SOCKET
			")\n"
			"--dry-run           print the sysfs writes, change nothing\n"
			"--sysfs-root DIR    where /sys, /proc, /run and /var are (default /)\n",
			opts, &a, argc, argv, bdf);
	if (rc != CLI_EXIT_OK)
		goto out;
	u = device_used(ctx.store, argv[argc - 2], bdf, vol, sizeof(vol));
	if (u > 0) {
		rc = refuse(ctx.cmd, CLI_EXIT_CONFLICT,
			    "volume '%s' has a replica on %s: detach and delete it first "
			    "(diskengine volume detach %s; diskengine volume delete %s)",
			    vol, bdf, vol, vol);
		goto out;
	}
	u = spdk_uses(a.sock, bdf, ctrlr, sizeof(ctrlr));
	if (u != 0) {
		rc = u > 0 ? refuse(ctx.cmd, CLI_EXIT_CONFLICT,
				    "SPDK controller %s uses %s: detach it first (diskengine rpc "
				    "bdev_nvme_detach_controller '{\"name\":\"%s\"}')",
				    ctrlr, bdf, ctrlr)
			   : refuse(ctx.cmd, CLI_EXIT_UNAVAILABLE,
				    "cannot ask SPDK at %s whether it uses %s", a.sock, bdf);
		goto out;
	}
	if (!a.dry_run && (rc = take_lock(ctx.cmd, a.root, &lock)) != CLI_EXIT_OK)
		goto out;
	if (host_pci_driver(a.root, bdf, drv, sizeof(drv), herr, sizeof(herr)) < 0) {
		rc = refuse(ctx.cmd, CLI_EXIT_NOT_FOUND, "%s", herr);
		goto out;
	}
	if (strcmp(drv, "nvme") == 0) {
		printf("device %s is bound to nvme already\n", bdf);
		goto out;
	}
	rooted(w[nw].path, a.root, "sys/bus/pci/devices/%s/driver_override%s", bdf, "");
	snprintf(w[nw++].value, sizeof(w[0].value), "\n");
	if (drv[0]) {
		rooted(w[nw].path, a.root, "sys/bus/pci/devices/%s/driver/unbind%s", bdf, "");
		snprintf(w[nw++].value, sizeof(w[0].value), "%s", bdf);
	}
	rooted(w[nw].path, a.root, "sys/bus/pci/drivers_probe%s%s", "", "");
	snprintf(w[nw++].value, sizeof(w[0].value), "%s", bdf);
	rc = apply(ctx.cmd, w, nw, a.dry_run);
	if (rc != CLI_EXIT_OK || a.dry_run)
		goto out;
	if (!wait_driver(a.root, bdf, "nvme") || !wait_kernel_ctrlr(a.root, bdf)) {
		rc = refuse(ctx.cmd, CLI_EXIT_FAILURE,
			    "device %s: the kernel nvme driver did not take it back within %d s",
			    bdf, BIND_WAIT_MS / 1000);
		goto out;
	}
	if (rooted(state, a.root, "var/lib/diskengine/drivers/%s%s", bdf, "") == 0)
		unlink(state);
	printf("device %s is back with the kernel nvme driver\n", bdf);
out:
	if (lock >= 0)
		close(lock);
	cli_store_close(&ctx);
	return rc < 0 ? CLI_EXIT_OK : rc;
}
