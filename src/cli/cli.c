/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "config.h"

struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
	bool has_verbs; /* "host list": options follow the verb */
};

static const struct cli_command commands[] = {
	{"host", cli_host_main, "compute hosts: add, list, show, remove, declare-dead", true},
	{"node", cli_node_main, "storage nodes: add, list, remove", true},
	{"volume", cli_volume_main, "volumes: create, list, show, resize, delete, attach, detach",
	 true},
	{"device", cli_device_main, "local PCIe devices: add, list, remove", true},
	{"db", cli_db_main, "database: migrate, status", true},
	{"status", cli_status_main, "what each mapping's host observed", false},
	{"diagnose", cli_diagnose_main,
	 "walk a volume's layers on this host to the first broken one", false},
	{"graph", cli_graph_main, "this host's live objects as Graphviz DOT", false},
	{"drift", cli_drift_main, "saved SPDK config vs live SPDK vs database, classified", false},
	{"rpc", cli_rpc_main, "send one raw JSON-RPC call to SPDK", false},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: diskengine -mode baremetal [OPTIONS]   run the host reconciler\n"
		   "       diskengine [--db URL] [--json] COMMAND [ARGS]\n"
		   "                                               operator commands\n\n"
		   "commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n'diskengine COMMAND --help' describes each command.\n");
}

/* How many leading elements of argv (from 1) are common options: --db URL, --db=URL, --json. */
static int leading_common_opts(int argc, char **argv, int *n)
{
	int i = 1;

	while (i < argc) {
		if (strcmp(argv[i], "--json") == 0 || strncmp(argv[i], "--db=", 5) == 0) {
			i++;
		} else if (strcmp(argv[i], "--db") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "diskengine: missing value for option '--db'\n");
				return -1;
			}
			i += 2;
		} else {
			break;
		}
	}
	*n = i - 1;
	return 0;
}

/*
 * Run a command whose common options came before the noun: they move behind the verb (or the
 * noun, for commands without verbs), where every verb parses them.
 */
static int run_moved(const struct cli_command *c, int argc, char **argv, int nlead)
{
	int noun = 1 + nlead, at = noun + 1, rc, k = 0;
	char **av = calloc((size_t)argc + 1, sizeof(*av));

	if (!av) {
		fprintf(stderr, "diskengine: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	if (c->has_verbs && at < argc && argv[at][0] != '-')
		at++;
	av[k++] = argv[noun];
	for (int i = noun + 1; i < at; i++)
		av[k++] = argv[i];
	for (int i = 1; i < noun; i++)
		av[k++] = argv[i];
	for (int i = at; i < argc; i++)
		av[k++] = argv[i];
	rc = c->fn(k, av);
	free(av);
	return rc;
}

int cli_main(int argc, char **argv)
{
	int nlead = 0;
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strncmp(argv[1], "-mode", 5) == 0 || strncmp(argv[1], "--mode", 6) == 0)
		return cli_daemon_main(argc, argv);
	if (leading_common_opts(argc, argv, &nlead) < 0)
		return CLI_EXIT_USAGE;
	if (nlead + 1 >= argc) {
		fprintf(stderr, "diskengine: a COMMAND must follow the options\n");
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	cmd = argv[1 + nlead];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("diskengine %s\n", DISKENGINE_VERSION);
		return CLI_EXIT_OK;
	}
	/* the daemon parses --db itself, wherever it stands */
	if (strncmp(cmd, "-mode", 5) == 0 || strncmp(cmd, "--mode", 6) == 0)
		return cli_daemon_main(argc, argv);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		if (nlead == 0)
			return commands[i].fn(argc - 1, argv + 1);
		return run_moved(&commands[i], argc, argv, nlead);
	}
	fprintf(stderr, "diskengine: unknown command '%s'\n", cmd);
	usage(stderr);
	return CLI_EXIT_USAGE;
}
