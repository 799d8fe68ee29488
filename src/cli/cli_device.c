/* SPDX-License-Identifier: Apache-2.0 */
/* diskengine device add | list | remove */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "cli/cli_device_bind.h"
#include "common/util.h"

static int device_add(int argc, char **argv);
static int device_list(int argc, char **argv);
static int device_remove(int argc, char **argv);

static const struct cli_verb verbs[] = {
	{"add", device_add, "add HOST BDF [--inventory-id ID]",
	 "register a local PCIe NVMe drive (DDDD:BB:DD.F) that SPDK on HOST owns"},
	{"list", device_list, "list [HOST]", "list local devices, of one host or of all"},
	{"remove", device_remove, "remove HOST BDF", "forget a local device"},
	{"bind", device_bind,
	 "bind HOST BDF [--driver vfio-pci|uio_pci_generic] [--allow-unsafe-noiommu] [--dry-run] "
	 "[--sysfs-root DIR]",
	 "hand a local drive to a userspace driver for SPDK (run on the host)"},
	{"rollback", device_rollback,
	 "rollback HOST BDF [--spdk-sock SOCK] [--dry-run] [--sysfs-root DIR]",
	 "give a local drive back to the kernel nvme driver (run on the host)"},
};

static int add_opt(struct cli_ctx *ctx, void *arg, int opt, const char *val)
{
	if (opt != 'i')
		return CLI_EXIT_USAGE;
	*(const char **)arg = val;
	return CLI_EXIT_OK;
}

static int device_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{"inventory-id", required_argument, NULL, 'i'}, CLI_COMMON_OPTIONS, {0}};
	struct cli_ctx ctx = {.cmd = "device add"};
	struct store_error err = {0};
	const char *inventory = NULL;
	int64_t id;
	int pos, rc;

	const struct cli_verb_spec spec = {
		.noun = "device",
		.verb = &verbs[0],
		.detail = "--inventory-id ID   the drive's id in an asset inventory\n",
		.opts = opts,
		.opt_cb = add_opt,
		.opt_arg = &inventory,
		.min_args = 2,
		.max_args = 2,
		.args_hint = "expected HOST and BDF"};

	rc = cli_verb_start(&ctx, &spec, argc, argv, &pos);
	if (rc != CLI_EXIT_OK || ctx.help)
		return rc;
	if (store_device_add(ctx.store, argv[pos], argv[pos + 1], inventory, &id, &err) < 0)
		rc = cli_fail(&ctx, &err);
	else if (ctx.json)
		cli_json_print(json_pack("{sI ss ss}", "id", (json_int_t)id, "host", argv[pos],
					 "bdf", argv[pos + 1]));
	else
		printf("device %s added to host %s (id %" PRId64 ")\n", argv[pos + 1], argv[pos],
		       id);
	cli_store_close(&ctx);
	return rc;
}

static int device_list(int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};
	static const char *const hdr[] = {"ID", "HOST", "BDF", "INVENTORY_ID"};
	struct cli_ctx ctx = {.cmd = "device list"};
	struct store_error err = {0};
	struct store_device *devs = NULL;
	size_t n = 0;
	int pos, rc;

	const struct cli_verb_spec spec = {.noun = "device",
					   .verb = &verbs[1],
					   .opts = opts,
					   .min_args = 0,
					   .max_args = 1,
					   .args_hint = "expected at most one HOST",
					   .store = CLI_STORE_READ};

	rc = cli_verb_start(&ctx, &spec, argc, argv, &pos);
	if (rc != CLI_EXIT_OK || ctx.help)
		return rc;
	if (store_device_list(ctx.store, pos < argc ? argv[pos] : NULL, &devs, &n, &err) < 0) {
		rc = cli_fail(&ctx, &err);
	} else if (ctx.json) {
		json_t *arr = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, cli_json_device(&devs[i]));
		cli_json_print(arr);
	} else {
		struct cli_table *t = cli_table_new(4, hdr);

		for (size_t i = 0; i < n; i++) {
			char id[24];
			const char *row[] = {id, devs[i].host_name, devs[i].bdf,
					     devs[i].inventory_id};

			snprintf(id, sizeof(id), "%" PRId64, devs[i].id);
			cli_table_add(t, row);
		}
		cli_table_print(t, stdout);
		cli_table_free(t);
	}
	free(devs);
	cli_store_close(&ctx);
	return rc;
}

static int device_remove(int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};
	struct cli_ctx ctx = {.cmd = "device remove"};
	struct store_error err = {0};
	int pos, rc;

	const struct cli_verb_spec spec = {.noun = "device",
					   .verb = &verbs[2],
					   .opts = opts,
					   .min_args = 2,
					   .max_args = 2,
					   .args_hint = "expected HOST and BDF"};

	rc = cli_verb_start(&ctx, &spec, argc, argv, &pos);
	if (rc != CLI_EXIT_OK || ctx.help)
		return rc;
	if (store_device_remove(ctx.store, argv[pos], argv[pos + 1], &err) < 0)
		rc = cli_fail(&ctx, &err);
	else if (ctx.json)
		cli_json_print(json_pack("{ss ss sb}", "host", argv[pos], "bdf", argv[pos + 1],
					 "removed", 1));
	else
		printf("device %s removed from host %s\n", argv[pos + 1], argv[pos]);
	cli_store_close(&ctx);
	return rc;
}

int cli_device_main(int argc, char **argv)
{
	return cli_dispatch("device", verbs, ARRAY_SIZE(verbs), argc, argv);
}
