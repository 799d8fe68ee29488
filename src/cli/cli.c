/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "config.h"

struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct cli_command commands[] = {
	{"host", cli_host_main, "compute hosts: add, list, show, remove"},
	{"node", cli_node_main, "storage nodes: add, list, remove"},
	{"volume", cli_volume_main, "volumes: create, list, show, resize, delete, attach, detach"},
	{"device", cli_device_main, "local PCIe devices: add, list, remove"},
	{"db", cli_db_main, "database: migrate"},
	{"status", cli_status_main, "what each mapping's host observed"},
	{"rpc", cli_rpc_main, "send one raw JSON-RPC call to SPDK"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: diskengine -mode baremetal [OPTIONS]   run the host reconciler\n"
		   "       diskengine COMMAND [ARGS]               operator commands\n\n"
		   "commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n'diskengine COMMAND --help' describes each command.\n");
}

int cli_main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("diskengine %s\n", DISKENGINE_VERSION);
		return CLI_EXIT_OK;
	}
	if (strncmp(argv[1], "-mode", 5) == 0 || strncmp(argv[1], "--mode", 6) == 0)
		return cli_daemon_main(argc, argv);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "diskengine: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CLI_EXIT_USAGE;
}
