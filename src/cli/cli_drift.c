/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `diskengine drift`: the saved SPDK config, live SPDK and the database of one host compared,
 * every difference classified (docs/drift.md). It reads what the daemon reads, the way the
 * daemon reads it (the same configuration, list calls, then bdevs by name), and asks the planner
 * what the next pass would do; it never changes anything.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "common/util.h"
#include "daemon/daemon_config.h"
#include "daemon/daemon_orphan.h"
#include "host/host.h"
#include "reconcile/desired.h"
#include "reconcile/drift.h"
#include "reconcile/observe.h"
#include "reconcile/observe_model.h"
#include "rpc/rpc.h"
#include "rpc/spdk.h"
#include "store/store.h"

struct drift_opts {
	const char *config, *db, *sock, *host, *saved;
	bool json;
};

static void drift_usage(FILE *f)
{
	fprintf(f,
		"usage: diskengine drift [--config FILE] [--db URL] [-s SOCKET] [--host HOST]\n"
		"                        [--saved-config FILE] [--json]\n"
		"Compare the saved SPDK config, live SPDK and the database of this host and "
		"classify\n"
		"every difference: replay_artefact, missing, orphan, conflict, foreign. Changes "
		"nothing.\n"
		"  --config FILE        the daemon's config file (its orphan grace, saved config,\n"
		"                       socket, host); the other options override it\n"
		"  --db URL             database (default $DISKENGINE_DB)\n"
		"  -s, --socket SOCKET  SPDK's JSON-RPC socket (default $SPDK_RPC_SOCK)\n"
		"  --host HOST          this host's name in the database (default $BAREMETAL_ID)\n"
		"  --saved-config FILE  the daemon's --saved-config\n"
		"  --json               one JSON object (docs/drift.md)\n"
		"Exit: 0 no difference, 1 differences, 2 usage, 3 unknown host, 5 database or "
		"SPDK\n"
		"unavailable.\n");
}

static int drift_parse(int argc, char **argv, struct drift_opts *o)
{
	static const struct option lopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"db", required_argument, NULL, 'd'},
		{"socket", required_argument, NULL, 's'},
		{"host", required_argument, NULL, 'H'},
		{"saved-config", required_argument, NULL, 'S'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'd':
			o->db = optarg;
			break;
		case 's':
			o->sock = optarg;
			break;
		case 'H':
			o->host = optarg;
			break;
		case 'S':
			o->saved = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			drift_usage(stdout);
			return 1;
		default:
			drift_usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "diskengine drift: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* The daemon's configuration (file, environment), then this command's options. */
static int drift_config(const struct drift_opts *o, struct daemon_config *cfg)
{
	char *av[] = {"diskengine", "--config", (char *)o->config, NULL};
	char err[512] = "";
	int r;

	r = daemon_config_load(cfg, o->config ? 3 : 1, av, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "diskengine drift: %s\n", err);
		return r;
	}
	if (o->db)
		util_strlcpy(cfg->db_url, o->db, sizeof(cfg->db_url));
	else if (!cfg->db_url[0])
		util_strlcpy(cfg->db_url, cli_env_db(), sizeof(cfg->db_url));
	if (o->sock)
		util_strlcpy(cfg->spdk_sock, o->sock, sizeof(cfg->spdk_sock));
	else if (!cfg->spdk_sock[0])
		util_strlcpy(cfg->spdk_sock, cli_env_spdk_sock(), sizeof(cfg->spdk_sock));
	if (o->host)
		util_strlcpy(cfg->host, o->host, sizeof(cfg->host));
	if (o->saved)
		util_strlcpy(cfg->saved_config, o->saved, sizeof(cfg->saved_config));
	if (!cfg->host[0]) {
		fprintf(stderr, "diskengine drift: --host (or $BAREMETAL_ID) is required\n");
		return -EINVAL;
	}
	return 0;
}

/* Live SPDK as the daemon's observer reads it: the list calls, then the bdevs it would read. */
static int drift_observe(struct rpc_client *c, const struct desired *d, struct observe_raw *raw,
			 struct observed_model *om, char *err, size_t errlen)
{
	int r = observe_spdk(c, raw, err, errlen);

	if (r == 0)
		r = observe_bdevs_wanted(c, d, NULL, 0, raw, err, errlen);
	if (r == 0 && (r = observed_from_raw(raw, NULL, 0, orphan_clock_now_s(), om)) < 0)
		snprintf(err, errlen, "observe: %s", strerror(-r));
	return r;
}

/* The saved config file's text; NULL with r = 0 when it does not exist. */
static int drift_read_saved(const char *path, char **out)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	*out = NULL;
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	FILE *m = open_memstream(&buf, &len);
	char chunk[65536];
	size_t got;

	if (!m) {
		fclose(f);
		return -ENOMEM;
	}
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, got, m);
	int bad = ferror(f);

	fclose(f);
	fclose(m);
	if (bad) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	return 0;
}

static json_t *drift_json(const struct daemon_config *cfg, const struct drift_report *rep)
{
	json_t *items = json_array(), *counts = json_object();

	for (int c = 0; c < DRIFT_CLASS_COUNT; c++)
		json_object_set_new(counts, drift_class_name(c), json_integer(0));
	for (size_t i = 0; i < rep->n; i++) {
		const struct drift_item *it = &rep->items[i];
		const char *cls = drift_class_name(it->cls);

		json_object_set_new(
			counts, cls,
			json_integer(json_integer_value(json_object_get(counts, cls)) + 1));
		json_array_append_new(
			items, json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:O}", "class", cls,
					 "kind", it->kind, "object", it->object, "volume",
					 it->volume_id ? json_integer((json_int_t)it->volume_id)
						       : json_null(),
					 "mapping",
					 it->mapping_id ? json_integer((json_int_t)it->mapping_id)
							: json_null(),
					 "detail", it->detail, "next", it->next, "evidence",
					 it->evidence));
	}
	return json_pack("{s:s, s:s, s:b, s:o, s:o}", "host", cfg->host, "saved_config",
			 cfg->saved_config, "ok", rep->n == 0, "counts", counts, "differences",
			 items);
}

static void drift_print(const struct drift_report *rep)
{
	unsigned counts[DRIFT_CLASS_COUNT] = {0};

	for (size_t i = 0; i < rep->n; i++) {
		const struct drift_item *it = &rep->items[i];

		counts[it->cls]++;
		printf("%-15s %-10s %s: %s\n", drift_class_name(it->cls), it->kind, it->object,
		       it->detail);
		printf("%-15s next: %s\n", "", it->next);
	}
	if (!rep->n) {
		printf("no drift: the saved config, live SPDK and the database agree\n");
		return;
	}
	printf("%zu difference%s:", rep->n, rep->n == 1 ? "" : "s");
	for (int c = 0; c < DRIFT_CLASS_COUNT; c++)
		if (counts[c])
			printf(" %u %s", counts[c], drift_class_name(c));
	printf("\n");
}

int cli_drift_main(int argc, char **argv)
{
	struct drift_opts o = {0};
	struct daemon_config cfg;
	struct store_error serr = {0};
	struct store *store = NULL;
	struct store_desired *sd = NULL;
	struct desired_model dm = {0};
	struct rpc_client_opts copts = {.timeout_ms = 10000, .connect_timeout_ms = 1000};
	struct rpc_client *c = NULL;
	struct rpc_error rerr = {0};
	struct observe_raw raw = {0};
	struct observed_model om = {0};
	struct host_facts hf = {0};
	struct drift_report rep = {0};
	char err[512] = "", *saved = NULL, *live = NULL;
	bool have_facts = false;
	char ips[DAEMON_MAX_RDMA_IPS * 65] = "";
	int r, rc = CLI_EXIT_FAILURE;

	r = drift_parse(argc, argv, &o);
	if (r != 0)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	daemon_config_defaults(&cfg);
	cfg.db_url[0] = cfg.spdk_sock[0] = '\0';
	if (drift_config(&o, &cfg) < 0)
		return CLI_EXIT_USAGE;
	r = store_open_read(cfg.db_url, &store, &serr);
	if (r == 0)
		r = store_desired_get(store, cfg.host, &sd, &serr);
	store_close(store);
	if (r < 0) {
		fprintf(stderr, "diskengine drift: %s\n", serr.message);
		return cli_exit_code(r);
	}
	r = desired_from_store(sd, &cfg, &dm);
	store_desired_free(sd);
	if (r < 0) {
		fprintf(stderr, "diskengine drift: %s\n", strerror(-r));
		return CLI_EXIT_FAILURE;
	}
	r = rpc_client_open(cfg.spdk_sock, &copts, &c, &rerr);
	if (r == 0)
		r = rpc_save_config(c, &live, &rerr);
	if (r < 0) {
		fprintf(stderr, "diskengine drift: SPDK at %s: %s\n", cfg.spdk_sock, rerr.message);
		rc = CLI_EXIT_UNAVAILABLE;
		goto out;
	}
	r = drift_observe(c, &dm.d, &raw, &om, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "diskengine drift: SPDK at %s: %s\n", cfg.spdk_sock, err);
		rc = CLI_EXIT_UNAVAILABLE;
		goto out;
	}
	r = drift_read_saved(cfg.saved_config, &saved);
	if (r < 0) {
		fprintf(stderr, "diskengine drift: %s: %s\n", cfg.saved_config, strerror(-r));
		goto out;
	}
	daemon_config_rdma_ips(&cfg, ips, sizeof(ips));
	/* without host facts the planner reports sources and PCIe drivers as unknown */
	have_facts = host_facts_read(cfg.sysfs_root, ips, &hf, err, sizeof(err)) == 0;
	om.o.flap_window_s = cfg.flap_window_s;
	r = drift_live(&dm.d, &om.o, have_facts ? &hf : NULL, &rep);
	if (r == 0)
		r = drift_saved(saved, cfg.saved_config, live, &rep);
	if (r < 0) {
		fprintf(stderr, "diskengine drift: %s\n", strerror(-r));
		goto out;
	}
	if (o.json) {
		cli_json_print(drift_json(&cfg, &rep));
	} else {
		drift_print(&rep);
	}
	rc = rep.n ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
out:
	drift_report_free(&rep);
	if (have_facts)
		host_facts_free(&hf);
	observed_model_free(&om);
	observe_raw_clear(&raw);
	free(saved);
	free(live);
	rpc_client_close(c);
	desired_model_free(&dm);
	return rc;
}
