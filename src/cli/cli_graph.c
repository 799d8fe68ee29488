/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `diskengine graph [VOLUME]`: the live object graph of this host's mappings as Graphviz DOT,
 * vhost -> raid -> namespace bdevs -> controllers -> paths -> storage nodes. What the database
 * wants comes from the reconciler's desired model, so the names are the daemon's; what SPDK has
 * is asked with read-only calls (bdevs by name). Missing objects are drawn dashed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "daemon/daemon_config.h"
#include "reconcile/desired.h"
#include "reconcile/names.h"
#include "rpc/rpc.h"
#include "rpc/spdk.h"
#include "store/store.h"

#define GRAPH_OK "forestgreen"
#define GRAPH_WARN "orange"
#define GRAPH_BAD "red"
#define GRAPH_GONE "gray50"

struct graph_opts {
	const char *db, *sock, *host, *volume;
	bool svg;
};

static void graph_node(FILE *f, const char *id, const char *label, const char *color, bool missing)
{
	fprintf(f, "  \"%s\" [label=\"%s\", color=%s, fontcolor=%s%s];\n", id, label, color, color,
		missing ? ", style=dashed" : "");
}

static void graph_edge(FILE *f, const char *from, const char *to, bool missing)
{
	fprintf(f, "  \"%s\" -> \"%s\"%s;\n", from, to, missing ? " [style=dashed]" : "");
}

static void graph_vhost(FILE *f, const struct rpc_vhost_list *vl, const struct mapping *m,
			const char *raid)
{
	const struct rpc_vhost_ctrlr *v = NULL;
	char name[32], label[96];

	names_vhost(m->id, name, sizeof(name));
	for (size_t i = 0; i < vl->n; i++)
		if (!strcmp(vl->v[i].ctrlr, name))
			v = &vl->v[i];
	if (v)
		snprintf(label, sizeof(label), "%s\\nsessions %zu", name, v->n_sessions);
	else
		snprintf(label, sizeof(label), "%s\\nmissing", name);
	graph_node(f, name, label, !v ? GRAPH_GONE : v->n_sessions ? GRAPH_OK : GRAPH_WARN, !v);
	graph_edge(f, name, raid, !v);
}

static void graph_member(FILE *f, struct rpc_client *c, const char *raid, const struct replica *r)
{
	struct rpc_bdev_list bl = {0};
	struct rpc_nvme_ctrlr_list cl = {0};
	struct rpc_error err = {0};
	char ctrlr[128], ns[140], node[160], path[200], label[256];
	bool has_ns, has_ctrlr;

	if (names_ctrlr(r, ctrlr, sizeof(ctrlr)) < 0)
		return;
	names_ns_bdev(ctrlr, r->nsid ? r->nsid : 1, ns, sizeof(ns));
	has_ns = rpc_bdev_get_bdev(c, ns, RPC_UNSET, &bl, &err) == 0;
	rpc_bdev_list_free(&bl);
	graph_node(f, ns, has_ns ? ns : "missing", has_ns ? GRAPH_OK : GRAPH_GONE, !has_ns);
	graph_edge(f, raid, ns, !has_ns);
	has_ctrlr = rpc_bdev_nvme_get_controllers(c, ctrlr, &cl, &err) == 0;
	graph_edge(f, ns, ctrlr, !has_ctrlr);
	snprintf(node, sizeof(node), "node %s:%u", r->addr, (unsigned)r->port);
	graph_node(f, node, node, GRAPH_OK, false);
	if (!has_ctrlr || cl.n == 0 || cl.v[0].n_paths == 0) {
		graph_node(f, ctrlr, ctrlr, GRAPH_GONE, true);
		graph_edge(f, ctrlr, node, true);
		rpc_nvme_ctrlr_list_free(&cl);
		return;
	}
	const char *ccolor = GRAPH_OK;

	for (size_t k = 0; k < cl.v[0].n_paths; k++) {
		const struct rpc_nvme_ctrlr_path *p = &cl.v[0].paths[k];
		const char *color = !strcmp(p->state, "enabled")     ? GRAPH_OK
				    : !strcmp(p->state, "resetting") ? GRAPH_WARN
								     : GRAPH_BAD;

		if (strcmp(color, GRAPH_OK))
			ccolor = color;
		snprintf(path, sizeof(path), "%s path %s:%s", ctrlr, p->traddr,
			 p->trsvcid ? p->trsvcid : "");
		snprintf(label, sizeof(label), "%s:%s\\n%s", p->traddr,
			 p->trsvcid ? p->trsvcid : "", p->state);
		graph_node(f, path, label, color, false);
		graph_edge(f, ctrlr, path, false);
		graph_edge(f, path, node, false);
	}
	graph_node(f, ctrlr, ctrlr, ccolor, false);
	rpc_nvme_ctrlr_list_free(&cl);
}

static void graph_volume(FILE *f, struct rpc_client *c, const struct rpc_raid_list *rl,
			 const struct rpc_vhost_list *vl, const struct desired *d,
			 const struct volume *v)
{
	const struct rpc_raid *rd = NULL;
	char raid[32], label[128];

	names_raid(v->id, raid, sizeof(raid));
	for (size_t i = 0; i < rl->n; i++)
		if (!strcmp(rl->v[i].name, raid))
			rd = &rl->v[i];
	for (size_t i = 0; i < d->n_mappings; i++)
		if (d->mappings[i].volume_id == v->id)
			graph_vhost(f, vl, &d->mappings[i], raid);
	if (rd)
		snprintf(label, sizeof(label), "%s\\n%s %lld/%lld", raid, rd->state,
			 (long long)rd->num_base_bdevs_operational, (long long)rd->num_base_bdevs);
	else
		snprintf(label, sizeof(label), "%s\\nmissing", raid);
	graph_node(f, raid, label,
		   !rd							 ? GRAPH_GONE
		   : strcmp(rd->state, "online")			 ? GRAPH_BAD
		   : rd->num_base_bdevs_operational < rd->num_base_bdevs ? GRAPH_WARN
									 : GRAPH_OK,
		   !rd);
	for (size_t i = 0; i < v->n_replicas; i++)
		graph_member(f, c, raid, &v->replicas[i]);
}

static void graph_usage(FILE *f)
{
	fprintf(f, "usage: diskengine graph [--db URL] [-s SOCKET] [--host NAME] [--svg] [VOLUME]\n"
		   "Print this host's live graph (vhost -> raid -> namespace bdevs -> controllers\n"
		   "-> paths -> storage nodes) as Graphviz DOT, coloured by health; objects the\n"
		   "database wants but SPDK lacks are dashed. Read-only. See docs/graph.md.\n"
		   "  --host NAME   this host's name in the database (default $BAREMETAL_ID)\n"
		   "  --svg         render with Graphviz's dot (exit 1 if it is not installed)\n");
}

static int graph_parse(int argc, char **argv, struct graph_opts *o)
{
	static const struct option lopts[] = {
		{"db", required_argument, NULL, 'd'},	{"socket", required_argument, NULL, 's'},
		{"host", required_argument, NULL, 'H'}, {"svg", no_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},	{NULL, 0, NULL, 0},
	};
	int c;

	o->db = cli_env_db();
	o->sock = cli_env_spdk_sock();
	o->host = getenv("BAREMETAL_ID");
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:h", lopts, NULL)) != -1) {
		switch (c) {
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
			o->svg = true;
			break;
		case 'h':
			graph_usage(stdout);
			return 1;
		default:
			graph_usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc)
		o->volume = argv[optind++];
	if (!o->host || !*o->host) {
		fprintf(stderr, "diskengine graph: --host (or $BAREMETAL_ID) is required\n");
		return -EINVAL;
	}
	if (optind < argc) {
		graph_usage(stderr);
		return -EINVAL;
	}
	return 0;
}

int cli_graph_main(int argc, char **argv)
{
	struct graph_opts o = {0};
	struct store_error serr = {0};
	struct store *store = NULL;
	struct store_desired *sd = NULL;
	struct desired_model dm = {0};
	struct daemon_config cfg;
	struct rpc_client *c = NULL;
	struct rpc_client_opts copts = {.timeout_ms = 10000, .connect_timeout_ms = 1000};
	struct rpc_error err = {0};
	struct rpc_raid_list rl = {0};
	struct rpc_vhost_list vl = {0};
	int64_t only = -1;
	FILE *f = stdout;
	int r;

	r = graph_parse(argc, argv, &o);
	if (r != 0)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	r = store_open_read(o.db, &store, &serr);
	if (r == 0 && o.volume) {
		struct store_volume v;

		r = store_volume_get(store, o.volume, &v, &serr);
		only = v.id;
	}
	if (r == 0)
		r = store_desired_get(store, o.host, &sd, &serr);
	store_close(store);
	if (r < 0) {
		fprintf(stderr, "diskengine graph: %s\n", serr.message);
		return cli_exit_code(r);
	}
	daemon_config_defaults(&cfg);
	r = desired_from_store(sd, &cfg, &dm);
	store_desired_free(sd);
	if (r < 0) {
		fprintf(stderr, "diskengine graph: %s\n", strerror(-r));
		return CLI_EXIT_FAILURE;
	}
	r = rpc_client_open(o.sock, &copts, &c, &err);
	if (r == 0)
		r = rpc_bdev_raid_get_bdevs(c, RPC_RAID_ALL, &rl, &err);
	if (r == 0)
		r = rpc_vhost_get_controllers(c, &vl, &err);
	if (r < 0) {
		fprintf(stderr, "diskengine graph: %s\n", err.message);
		rpc_client_close(c);
		desired_model_free(&dm);
		return CLI_EXIT_UNAVAILABLE;
	}
	if (o.svg) {
		f = popen("dot -Tsvg", "w");
		if (!f) {
			fprintf(stderr, "diskengine graph: cannot run dot: %s\n", strerror(errno));
			r = -errno;
		}
	}
	if (f) {
		fprintf(f, "digraph diskengine {\n  rankdir=LR;\n  node [shape=box];\n");
		for (size_t i = 0; i < dm.d.n_volumes; i++)
			if (only < 0 || dm.d.volumes[i].id == (uint64_t)only)
				graph_volume(f, c, &rl, &vl, &dm.d, &dm.d.volumes[i]);
		fprintf(f, "}\n");
	}
	if (o.svg && f && pclose(f) != 0) {
		fprintf(stderr, "diskengine graph: dot failed (is graphviz installed?)\n");
		r = -EIO;
	}
	rpc_raid_list_free(&rl);
	rpc_vhost_list_free(&vl);
	rpc_client_close(c);
	desired_model_free(&dm);
	return r < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}
