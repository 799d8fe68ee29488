/* SPDX-License-Identifier: Apache-2.0 */
/* diskengine rpc: raw JSON-RPC pass-through to SPDK, in the manner of SPDK's rpc.py. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "common/util.h"
#include "rpc/rpc.h"

static void rpc_usage(FILE *f)
{
	fprintf(f,
		"usage: diskengine rpc [-s SOCKET] [-t TIMEOUT_S] METHOD [JSON-PARAMS]\n"
		"\n"
		"Send one JSON-RPC call to SPDK and print its result as indented JSON.\n"
		"  -s, --socket SOCKET   SPDK's RPC socket (default: $SPDK_RPC_SOCK, else %s)\n"
		"  -t, --timeout SECS    how long to wait for the answer (default 60)\n"
		"  -h, --help            show this help\n"
		"JSON-PARAMS is a JSON object or array, e.g. '{\"name\":\"nvme0\"}'.\n"
		"Exit codes: 0 ok, 1 SPDK answered with an error or the call failed, 2 usage,\n"
		"5 the socket could not be reached.\n",
		RPC_DEFAULT_SOCKET);
}

int cli_rpc_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 's'},
		{"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *sock = cli_env_spdk_sock();
	struct rpc_client_opts opts = {0};
	struct rpc_client *client = NULL;
	struct rpc_error err = {0};
	uint64_t timeout_s = 60;
	char *result = NULL, *pretty;
	const char *method, *params = NULL;
	char buf[512];
	int opt, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+s:t:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			sock = optarg;
			break;
		case 't':
			if (util_parse_u64(optarg, 86400, &timeout_s) < 0 || timeout_s == 0) {
				fprintf(stderr,
					"diskengine rpc: invalid timeout '%s': expected "
					"whole seconds between 1 and 86400\n",
					optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'h':
			rpc_usage(stdout);
			return CLI_EXIT_OK;
		default:
			rpc_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "diskengine rpc: missing METHOD\n");
		rpc_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	method = argv[optind++];
	if (optind < argc)
		params = argv[optind++];
	if (optind < argc) {
		fprintf(stderr,
			"diskengine rpc: unexpected argument '%s' (params must be one JSON "
			"argument; quote it)\n",
			argv[optind]);
		return CLI_EXIT_USAGE;
	}
	if (params && rpc_params_check(params, buf, sizeof(buf)) < 0) {
		fprintf(stderr, "diskengine rpc: %s: %s\n", method, buf);
		return CLI_EXIT_USAGE;
	}

	opts.timeout_ms = (int)(timeout_s * 1000);
	/* An operator command should not wait long for a socket that is not there. */
	opts.connect_timeout_ms = 1000;
	r = rpc_client_open(sock, &opts, &client, &err);
	if (r < 0) {
		fprintf(stderr, "diskengine rpc: %s\n", err.message);
		return CLI_EXIT_UNAVAILABLE;
	}
	r = rpc_call_raw(client, method, params, opts.timeout_ms, &result, &err);
	rpc_client_close(client);
	if (r < 0) {
		fprintf(stderr, "diskengine rpc: %s\n", rpc_error_str(&err, buf, sizeof(buf)));
		return CLI_EXIT_FAILURE;
	}
	pretty = rpc_json_pretty(result);
	printf("%s\n", pretty ? pretty : result);
	free(pretty);
	free(result);
	return CLI_EXIT_OK;
}
