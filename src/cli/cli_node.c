/* SPDX-License-Identifier: Apache-2.0 */
/* diskengine node add | list | remove */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "common/util.h"
#include "store/store_validate.h"

static int node_add(int argc, char **argv);
static int node_list(int argc, char **argv);
static int node_remove(int argc, char **argv);

static const struct cli_verb verbs[] = {
	{"add", node_add,
	 "add NAME --transport rdma|tcp --address ADDR --port PORT [--auth-key-file PATH]",
	 "register a storage node that exports replicas over NVMe-oF"},
	{"list", node_list, "list", "list storage nodes"},
	{"remove", node_remove, "remove NAME",
	 "remove a storage node (refused while it holds replicas)"},
};

struct add_args {
	struct store_node n;
	bool transport, address, port;
};

static int add_opt(struct cli_ctx *ctx, void *arg, int opt, const char *val)
{
	struct add_args *a = arg;
	struct store_error err = {0};

	switch (opt) {
	case 't':
		if (store_transport_parse(val, &a->n.transport) < 0)
			return cli_usage_error(ctx, "transport '%s' is not rdma or tcp", val);
		a->transport = true;
		return CLI_EXIT_OK;
	case 'a':
		if (store_validate_ip("address", val, &err) < 0)
			return cli_usage_error(ctx, "%s", err.message);
		util_strlcpy(a->n.address, val, sizeof(a->n.address));
		a->address = true;
		return CLI_EXIT_OK;
	case 'p':
		if (store_validate_port(val, &a->n.port, &err) < 0)
			return cli_usage_error(ctx, "%s", err.message);
		a->port = true;
		return CLI_EXIT_OK;
	case 'k':
		if (store_validate_key_path(val, &err) < 0)
			return cli_usage_error(ctx, "%s", err.message);
		util_strlcpy(a->n.auth_key_file, val, sizeof(a->n.auth_key_file));
		return CLI_EXIT_OK;
	default:
		return CLI_EXIT_USAGE;
	}
}

static int node_add(int argc, char **argv)
{
	static const struct option opts[] = {{"transport", required_argument, NULL, 't'},
					     {"address", required_argument, NULL, 'a'},
					     {"port", required_argument, NULL, 'p'},
					     {"auth-key-file", required_argument, NULL, 'k'},
					     CLI_COMMON_OPTIONS,
					     {0}};
	struct cli_ctx ctx = {.cmd = "node add"};
	struct store_error err = {0};
	struct add_args a = {0};
	int64_t id;
	int pos, rc;

	const struct cli_verb_spec spec = {
		.noun = "node",
		.verb = &verbs[0],
		.detail = "--transport rdma|tcp   NVMe-oF transport the node exports on\n"
			  "--address ADDR         its IPv4 or IPv6 address\n"
			  "--port PORT            its service port (1-65535; 4420 is NVMe-oF's)\n"
			  "--auth-key-file PATH   a key file on each host for DH-HMAC-CHAP; only "
			  "the\n"
			  "                       path is stored, never the key\n",
		.opts = opts,
		.opt_cb = add_opt,
		.opt_arg = &a,
		.min_args = 1,
		.max_args = 1,
		.args_hint = "expected one node NAME",
		.store = CLI_STORE_NONE, /* the options are checked first */
	};

	rc = cli_verb_start(&ctx, &spec, argc, argv, &pos);
	if (rc != CLI_EXIT_OK || ctx.help)
		return rc;
	if (!a.transport || !a.address || !a.port)
		return cli_usage_error(&ctx, "--transport, --address and --port are required");
	if (util_strlcpy(a.n.name, argv[pos], sizeof(a.n.name)) < 0)
		return cli_usage_error(&ctx, "node name is longer than %d bytes",
				       STORE_NAME_MAX - 1);
	rc = cli_store_open(&ctx);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (store_node_add(ctx.store, &a.n, &id, &err) < 0)
		rc = cli_fail(&ctx, &err);
	else if (ctx.json)
		cli_json_print(json_pack("{sI ss}", "id", (json_int_t)id, "name", a.n.name));
	else
		printf("storage node %s added (id %" PRId64 ")\n", a.n.name, id);
	cli_store_close(&ctx);
	return rc;
}

static int node_list(int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};
	static const char *const hdr[] = {"ID",	     "NAME", "TRANSPORT",
					  "ADDRESS", "PORT", "AUTH_KEY_FILE"};
	struct cli_ctx ctx = {.cmd = "node list"};
	struct store_error err = {0};
	struct store_node *nodes = NULL;
	size_t n = 0;
	int pos, rc;

	const struct cli_verb_spec spec = {
		.noun = "node", .verb = &verbs[1], .opts = opts, .store = CLI_STORE_READ};

	rc = cli_verb_start(&ctx, &spec, argc, argv, &pos);
	if (rc != CLI_EXIT_OK || ctx.help)
		return rc;
	if (store_node_list(ctx.store, &nodes, &n, &err) < 0) {
		rc = cli_fail(&ctx, &err);
	} else if (ctx.json) {
		json_t *arr = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, cli_json_node(&nodes[i]));
		cli_json_print(arr);
	} else {
		struct cli_table *t = cli_table_new(6, hdr);

		for (size_t i = 0; i < n; i++) {
			char id[24], port[8];
			const char *row[] = {id,
					     nodes[i].name,
					     store_transport_name(nodes[i].transport),
					     nodes[i].address,
					     port,
					     nodes[i].auth_key_file};

			snprintf(id, sizeof(id), "%" PRId64, nodes[i].id);
			snprintf(port, sizeof(port), "%u", nodes[i].port);
			cli_table_add(t, row);
		}
		cli_table_print(t, stdout);
		cli_table_free(t);
	}
	free(nodes);
	cli_store_close(&ctx);
	return rc;
}

static int node_remove(int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};
	struct cli_ctx ctx = {.cmd = "node remove"};
	struct store_error err = {0};
	int pos, rc;

	const struct cli_verb_spec spec = {.noun = "node",
					   .verb = &verbs[2],
					   .opts = opts,
					   .min_args = 1,
					   .max_args = 1,
					   .args_hint = "expected one node NAME"};

	rc = cli_verb_start(&ctx, &spec, argc, argv, &pos);
	if (rc != CLI_EXIT_OK || ctx.help)
		return rc;
	if (store_node_remove(ctx.store, argv[pos], &err) < 0)
		rc = cli_fail(&ctx, &err);
	else if (ctx.json)
		cli_json_print(json_pack("{ss sb}", "name", argv[pos], "removed", 1));
	else
		printf("storage node %s removed\n", argv[pos]);
	cli_store_close(&ctx);
	return rc;
}

int cli_node_main(int argc, char **argv)
{
	return cli_dispatch("node", verbs, ARRAY_SIZE(verbs), argc, argv);
}
