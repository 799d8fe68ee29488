/* SPDX-License-Identifier: Apache-2.0 */
/* diskengine host add | list | show | remove */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "cli/cli_host_check.h"
#include "common/util.h"

static int host_add(int argc, char **argv);
static int host_list(int argc, char **argv);
static int host_show(int argc, char **argv);
static int host_remove(int argc, char **argv);
static int host_declare_dead(int argc, char **argv);

static const struct cli_verb verbs[] = {
	{"add", host_add, "add NAME [--rdma-ip IP]... [--tcp-ip IP]...",
	 "register a compute host and the source addresses its paths use"},
	{"list", host_list, "list", "list compute hosts"},
	{"show", host_show, "show NAME", "show a host, its devices and its mappings"},
	{"remove", host_remove, "remove NAME",
	 "remove a host (refused while it has mappings that are not DETACHED)"},
	{"declare-dead", host_declare_dead, "declare-dead NAME --yes",
	 "a host gone for good: release its mappings (-> DETACHED) without it"},
	{"check", host_check, "check [--host NAME | --device BDF...] [--sysfs-root DIR]",
	 "is this machine ready for SPDK to own its local drives? (exit 0: ready)"},
};

static int add_opt(struct cli_ctx *ctx, void *arg, int opt, const char *val)
{
	struct store_host *h = arg;
	unsigned *n = opt == 'r' ? &h->n_rdma_ips : &h->n_tcp_ips;
	char(*a)[STORE_ADDR_MAX] = opt == 'r' ? h->rdma_ips : h->tcp_ips;

	if (opt != 'r' && opt != 't')
		return CLI_EXIT_USAGE;
	if (*n >= STORE_HOST_ADDRS)
		return cli_usage_error(ctx, "at most %d addresses per transport", STORE_HOST_ADDRS);
	if (util_strlcpy(a[*n], val, STORE_ADDR_MAX) < 0)
		return cli_usage_error(ctx, "'%s' is not an IPv4 or IPv6 address", val);
	(*n)++;
	return CLI_EXIT_OK;
}

static int host_add(int argc, char **argv)
{
	static const struct option opts[] = {{"rdma-ip", required_argument, NULL, 'r'},
					     {"tcp-ip", required_argument, NULL, 't'},
					     CLI_COMMON_OPTIONS,
					     {0}};
	struct cli_ctx ctx = {.cmd = "host add"};
	struct store_error err = {0};
	struct store_host h = {0};
	int64_t id;
	int pos, rc;

	const struct cli_verb_spec spec = {
		.noun = "host",
		.verb = &verbs[0],
		.detail = "--rdma-ip IP   a local source address for RDMA paths (repeat)\n"
			  "--tcp-ip IP    a local source address for TCP paths (repeat)\n",
		.opts = opts,
		.opt_cb = add_opt,
		.opt_arg = &h,
		.min_args = 1,
		.max_args = 1,
		.args_hint = "expected one host NAME",
		.store = CLI_STORE_NONE, /* the name is checked first */
	};

	rc = cli_verb_start(&ctx, &spec, argc, argv, &pos);
	if (rc != CLI_EXIT_OK || ctx.help)
		return rc;
	if (strlen(argv[pos]) >= sizeof(h.name))
		return cli_usage_error(&ctx, "host name is longer than %d bytes",
				       STORE_NAME_MAX - 1);
	strcpy(h.name, argv[pos]);
	rc = cli_store_open(&ctx);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (store_host_add(ctx.store, &h, &id, &err) < 0)
		rc = cli_fail(&ctx, &err);
	else if (ctx.json)
		cli_json_print(json_pack("{sI ss}", "id", (json_int_t)id, "name", h.name));
	else
		printf("host %s added (id %" PRId64 ")\n", h.name, id);
	cli_store_close(&ctx);
	return rc;
}

static void join(const char (*a)[STORE_ADDR_MAX], unsigned n, char *buf, size_t size)
{
	size_t k = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < n && k < size; i++)
		k += (size_t)snprintf(buf + k, size - k, "%s%s", i ? "," : "", a[i]);
}

static int host_list(int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};
	static const char *const hdr[] = {"ID", "NAME", "RDMA_IPS", "TCP_IPS", "CREATED"};
	struct cli_ctx ctx = {.cmd = "host list"};
	struct store_error err = {0};
	struct store_host *hosts = NULL;
	size_t n = 0;
	int pos, rc;

	const struct cli_verb_spec spec = {
		.noun = "host", .verb = &verbs[1], .opts = opts, .store = CLI_STORE_READ};

	rc = cli_verb_start(&ctx, &spec, argc, argv, &pos);
	if (rc != CLI_EXIT_OK || ctx.help)
		return rc;
	if (store_host_list(ctx.store, &hosts, &n, &err) < 0) {
		rc = cli_fail(&ctx, &err);
	} else if (ctx.json) {
		json_t *a = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, cli_json_host(&hosts[i]));
		cli_json_print(a);
	} else {
		struct cli_table *t = cli_table_new(5, hdr);

		for (size_t i = 0; i < n; i++) {
			char id[24], rdma[STORE_HOST_ADDRS * STORE_ADDR_MAX],
				tcp[STORE_HOST_ADDRS * STORE_ADDR_MAX], created[32];
			const char *row[] = {id, hosts[i].name, rdma, tcp, created};

			snprintf(id, sizeof(id), "%" PRId64, hosts[i].id);
			join(hosts[i].rdma_ips, hosts[i].n_rdma_ips, rdma, sizeof(rdma));
			join(hosts[i].tcp_ips, hosts[i].n_tcp_ips, tcp, sizeof(tcp));
			cli_format_time(hosts[i].created_at, created, sizeof(created));
			cli_table_add(t, row);
		}
		cli_table_print(t, stdout);
		cli_table_free(t);
	}
	free(hosts);
	cli_store_close(&ctx);
	return rc;
}

static int host_show(int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};
	struct cli_ctx ctx = {.cmd = "host show"};
	struct store_mapping_filter f = {0};
	struct store_error err = {0};
	struct store_device *devs = NULL;
	struct store_mapping *maps = NULL;
	size_t nd = 0, nm = 0;
	struct store_host h;
	int pos, rc;

	const struct cli_verb_spec spec = {.noun = "host",
					   .verb = &verbs[2],
					   .opts = opts,
					   .min_args = 1,
					   .max_args = 1,
					   .args_hint = "expected one host NAME",
					   .store = CLI_STORE_READ};

	rc = cli_verb_start(&ctx, &spec, argc, argv, &pos);
	if (rc != CLI_EXIT_OK || ctx.help)
		return rc;
	if (store_host_get(ctx.store, argv[pos], &h, &err) < 0 ||
	    store_device_list(ctx.store, h.name, &devs, &nd, &err) < 0 ||
	    (f.host_id = h.id, store_mapping_list(ctx.store, &f, &maps, &nm, &err) < 0)) {
		rc = cli_fail(&ctx, &err);
	} else if (ctx.json) {
		json_t *o = cli_json_host(&h), *jd = json_array(), *jm = json_array();

		for (size_t i = 0; i < nd; i++)
			json_array_append_new(jd, cli_json_device(&devs[i]));
		for (size_t i = 0; i < nm; i++)
			json_array_append_new(jm, cli_json_mapping(&maps[i]));
		json_object_set_new(o, "devices", jd);
		json_object_set_new(o, "mappings", jm);
		cli_json_print(o);
	} else {
		char rdma[STORE_HOST_ADDRS * STORE_ADDR_MAX],
			tcp[STORE_HOST_ADDRS * STORE_ADDR_MAX];
		char created[32];

		join(h.rdma_ips, h.n_rdma_ips, rdma, sizeof(rdma));
		join(h.tcp_ips, h.n_tcp_ips, tcp, sizeof(tcp));
		cli_format_time(h.created_at, created, sizeof(created));
		printf("host:      %s (id %" PRId64 ")\nrdma ips:  %s\ntcp ips:   %s\n"
		       "created:   %s\ndevices:   %zu\n",
		       h.name, h.id, *rdma ? rdma : "-", *tcp ? tcp : "-", created, nd);
		for (size_t i = 0; i < nd; i++)
			printf("  %s  %s\n", devs[i].bdf,
			       devs[i].inventory_id[0] ? devs[i].inventory_id : "-");
		printf("mappings:  %zu\n", nm);
		for (size_t i = 0; i < nm; i++)
			printf("  %" PRId64 "  volume %s  vm %s  %s\n", maps[i].id,
			       maps[i].volume_name, maps[i].vm_id,
			       store_mapping_state_name(maps[i].state));
	}
	free(devs);
	free(maps);
	cli_store_close(&ctx);
	return rc;
}

static int host_remove(int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};
	struct cli_ctx ctx = {.cmd = "host remove"};
	struct store_error err = {0};
	int pos, rc;

	const struct cli_verb_spec spec = {.noun = "host",
					   .verb = &verbs[3],
					   .opts = opts,
					   .min_args = 1,
					   .max_args = 1,
					   .args_hint = "expected one host NAME"};

	rc = cli_verb_start(&ctx, &spec, argc, argv, &pos);
	if (rc != CLI_EXIT_OK || ctx.help)
		return rc;
	if (store_host_remove(ctx.store, argv[pos], &err) < 0)
		rc = cli_fail(&ctx, &err);
	else if (!ctx.json)
		printf("host %s removed\n", argv[pos]);
	else
		cli_json_print(json_pack("{ss sb}", "name", argv[pos], "removed", 1));
	cli_store_close(&ctx);
	return rc;
}

static int dead_opt(struct cli_ctx *ctx, void *arg, int opt, const char *val)
{
	if (opt != 'y')
		return CLI_EXIT_USAGE;
	*(bool *)arg = true;
	return CLI_EXIT_OK;
}

static void dead_list(FILE *f, const struct store_mapping *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  mapping %" PRId64 "  volume %s  vm %s  %s\n", m[i].id,
			m[i].volume_name[0] ? m[i].volume_name : "-", m[i].vm_id,
			store_mapping_state_name(m[i].state));
}

/* What the operator takes on: the store cannot see the host, only forget it. */
static void dead_warning(FILE *f, const char *host)
{
	fprintf(f,
		"diskengine cannot know whether host '%s' is really gone. If it still runs, its\n"
		"VMs keep writing to these volumes through RAIDs and NVMe-oF connections nobody\n"
		"tears down, and a volume mapped to another host would be written by two hosts at\n"
		"once. Power the host off or fence it first. Should its daemon come back, it "
		"finds\n"
		"no mapping and removes what it had built.\n",
		host);
}

static int host_declare_dead(int argc, char **argv)
{
	static const struct option opts[] = {
		{"yes", no_argument, NULL, 'y'}, CLI_COMMON_OPTIONS, {0}};
	struct cli_ctx ctx = {.cmd = "host declare-dead"};
	struct store_mapping_filter f = {0};
	struct store_error err = {0};
	struct store_mapping *maps = NULL;
	struct store_host h;
	bool yes = false;
	size_t n = 0;
	int pos, rc;

	const struct cli_verb_spec spec = {
		.noun = "host",
		.verb = &verbs[4],
		.detail =
			"--yes   confirm: every mapping of the host that is not DETACHED becomes\n"
			"        DETACHED at once, without the host tearing anything down. Only "
			"for\n"
			"        a host that is powered off or fenced for good.\n",
		.opts = opts,
		.opt_cb = dead_opt,
		.opt_arg = &yes,
		.min_args = 1,
		.max_args = 1,
		.args_hint = "expected one host NAME",
	};

	rc = cli_verb_start(&ctx, &spec, argc, argv, &pos);
	if (rc != CLI_EXIT_OK || ctx.help)
		return rc;
	if (!yes) {
		if (store_host_get(ctx.store, argv[pos], &h, &err) < 0 ||
		    (f.host_id = h.id, store_mapping_list(ctx.store, &f, &maps, &n, &err) < 0)) {
			rc = cli_fail(&ctx, &err);
		} else {
			fprintf(stderr,
				"diskengine host declare-dead: not confirmed; with --yes it "
				"releases "
				"%zu mapping(s) of host '%s':\n",
				n, argv[pos]);
			dead_list(stderr, maps, n);
			dead_warning(stderr, argv[pos]);
			rc = CLI_EXIT_USAGE;
		}
		free(maps);
		cli_store_close(&ctx);
		return rc;
	}
	if (store_host_declare_dead(ctx.store, argv[pos], &maps, &n, &err) < 0) {
		rc = cli_fail(&ctx, &err);
	} else if (ctx.json) {
		json_t *a = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, cli_json_mapping(&maps[i]));
		cli_json_print(json_pack("{ss so}", "host", argv[pos], "released", a));
	} else {
		printf("host %s declared dead: released %zu mapping(s) (now DETACHED):\n",
		       argv[pos], n);
		dead_list(stdout, maps, n);
		printf("'diskengine host remove %s' now removes the host.\n", argv[pos]);
	}
	if (rc == CLI_EXIT_OK && n)
		dead_warning(stderr, argv[pos]);
	free(maps);
	cli_store_close(&ctx);
	return rc;
}

int cli_host_main(int argc, char **argv)
{
	return cli_dispatch("host", verbs, ARRAY_SIZE(verbs), argc, argv);
}
