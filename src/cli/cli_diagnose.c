/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `diskengine diagnose VOLUME`: the on-call walk of a volume's live mapping, layer by layer
 * (mapping, vhost controller, its socket, QEMU's session, raid, each member's namespace bdev,
 * controller and I/O paths). Only read calls: bdevs are asked for by name, never listed, since
 * an unfiltered bdev_get_bdevs is unsafe while a controller resets. Stops at the first broken
 * layer; the exit code and --json schema are documented in docs/diagnose.md.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "reconcile/names.h"
#include "rpc/rpc.h"
#include "rpc/spdk.h"
#include "store/store.h"

enum diag_verdict { DIAG_OK, DIAG_BROKEN, DIAG_UNKNOWN };

static const char *const verdict_names[] = {"ok", "broken", "unknown"};

struct diag {
	json_t *steps;
	bool json;
	bool stopped; /* a broken layer was found: later layers are not walked */
	bool unknown;
};

struct diag_opts {
	const char *db, *sock, *vhost_dir, *volume;
	bool json;
};

/* Records one step; evidence is stolen. Returns true when the walk must stop here. */
static bool diag_step(struct diag *d, const char *layer, const char *object, enum diag_verdict v,
		      json_t *evidence, const char *next, const char *dont)
{
	json_t *s = json_pack("{s:s, s:s, s:s, s:o}", "layer", layer, "object", object, "verdict",
			      verdict_names[v], "evidence", evidence ? evidence : json_null());

	json_object_set_new(s, "next", next ? json_string(next) : json_null());
	json_object_set_new(s, "do_not", dont ? json_string(dont) : json_null());
	if (!d->json) {
		char *ev = json_dumps(json_object_get(s, "evidence"), JSON_COMPACT);

		printf("%-8s %-10s %-24s %s\n", verdict_names[v], layer, object, ev ? ev : "");
		if (next)
			printf("         next: %s\n", next);
		if (dont)
			printf("         do not: %s\n", dont);
		free(ev);
	}
	json_array_append_new(d->steps, s);
	if (v == DIAG_UNKNOWN)
		d->unknown = true;
	if (v == DIAG_BROKEN)
		d->stopped = true;
	return d->stopped;
}

static json_t *rpc_err_json(const struct rpc_error *err)
{
	return json_pack("{s:i, s:s}", "code", err->code, "message", err->message);
}

static bool diag_vhost(struct diag *d, struct rpc_client *c, const struct store_mapping *m,
		       const char *raid, const char *vhost_dir)
{
	struct rpc_vhost_list l = {0};
	struct rpc_error err = {0};
	const struct rpc_vhost_ctrlr *v = NULL;
	char name[32], sock[512];
	struct stat st;
	bool stop;

	names_vhost((uint64_t)m->id, name, sizeof(name));
	if (rpc_vhost_get_controllers(c, &l, &err) < 0)
		return diag_step(d, "vhost", name, DIAG_UNKNOWN, rpc_err_json(&err),
				 "check that SPDK answers (diskengine rpc spdk_get_version)", NULL);
	for (size_t i = 0; i < l.n; i++)
		if (!strcmp(l.v[i].ctrlr, name))
			v = &l.v[i];
	if (!v) {
		json_t *names = json_array();

		for (size_t i = 0; i < l.n; i++)
			json_array_append_new(names, json_string(l.v[i].ctrlr));
		rpc_vhost_list_free(&l);
		return diag_step(
			d, "vhost", name, DIAG_BROKEN,
			json_pack("{s:s, s:o}", "method", "vhost_get_controllers", "controllers",
				  names),
			"the daemon re-creates it on its next pass once the raid is online; "
			"check the daemon log if it does not",
			"do not touch PCI binding, restart SPDK or re-attach the volume");
	}
	json_t *ev = json_pack("{s:s, s:s, s:s?, s:s?, s:I}", "method", "vhost_get_controllers",
			       "ctrlr", v->ctrlr, "socket", v->socket, "bdev", v->bdev, "sessions",
			       (json_int_t)v->n_sessions);
	if (!v->bdev || strcmp(v->bdev, raid)) {
		rpc_vhost_list_free(&l);
		return diag_step(d, "vhost", name, DIAG_BROKEN, ev,
				 "the controller does not serve the volume's raid: the daemon "
				 "re-creates it when the VM disconnects",
				 "do not delete the controller while QEMU is connected");
	}
	diag_step(d, "vhost", name, DIAG_OK, json_incref(ev), NULL, NULL);
	snprintf(sock, sizeof(sock), "%s/%s", vhost_dir, name);
	if (stat(sock, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		json_decref(ev);
		rpc_vhost_list_free(&l);
		return diag_step(d, "socket", sock, DIAG_BROKEN,
				 json_pack("{s:s, s:s}", "path", sock, "error",
					   strerror(errno ? errno : ENOTSOCK)),
				 "SPDK lost the socket file: restart QEMU's device only after the "
				 "daemon re-created the controller (it deletes and re-creates it)",
				 "do not create a file by hand at that path");
	}
	diag_step(d, "socket", sock, DIAG_OK, json_pack("{s:s}", "path", sock), NULL, NULL);
	if (v->n_sessions == 0)
		stop = diag_step(d, "session", name, DIAG_BROKEN, ev,
				 "no QEMU is connected: check that the VM runs and that its "
				 "vhost-user-blk chardev points at the socket",
				 "do not delete or re-create the vhost controller");
	else
		stop = diag_step(d, "session", name, DIAG_OK, ev, NULL, NULL);
	rpc_vhost_list_free(&l);
	return stop;
}

static bool diag_member(struct diag *d, struct rpc_client *c, const char *bdev)
{
	struct rpc_bdev_list bl = {0};
	struct rpc_nvme_ctrlr_list cl = {0};
	struct rpc_io_path_list pl = {0};
	struct rpc_error err = {0};
	char ctrlr[128];
	size_t len = strlen(bdev);
	int r;

	r = rpc_bdev_get_bdev(c, bdev, RPC_UNSET, &bl, &err);
	if (r == -ENODEV)
		return diag_step(
			d, "namespace", bdev, DIAG_BROKEN, rpc_err_json(&err),
			"the namespace bdev is gone: the daemon re-attaches the controller "
			"and re-adds the member on its next pass",
			"do not remove the member from the raid by hand");
	if (r < 0)
		return diag_step(d, "namespace", bdev, DIAG_UNKNOWN, rpc_err_json(&err), NULL,
				 NULL);
	diag_step(d, "namespace", bdev, DIAG_OK,
		  json_pack("{s:s, s:s, s:I, s:b}", "method", "bdev_get_bdevs", "name", bdev,
			    "num_blocks", (json_int_t)bl.v[0].num_blocks, "claimed",
			    bl.v[0].claimed),
		  NULL, NULL);
	rpc_bdev_list_free(&bl);

	/* "<ctrlr>n1" (names_ns_bdev) */
	if (len < 3 || len - 2 >= sizeof(ctrlr) || strcmp(bdev + len - 2, "n1"))
		return diag_step(d, "controller", bdev, DIAG_UNKNOWN, NULL,
				 "not a diskengine namespace bdev name", NULL);
	memcpy(ctrlr, bdev, len - 2);
	ctrlr[len - 2] = '\0';
	if (rpc_bdev_nvme_get_controllers(c, ctrlr, &cl, &err) < 0)
		return diag_step(d, "controller", ctrlr, DIAG_BROKEN, rpc_err_json(&err),
				 "the controller is gone: the daemon re-attaches it", NULL);
	json_t *paths = json_array();
	enum diag_verdict v = DIAG_OK;
	bool resetting = false;

	for (size_t i = 0; i < cl.n; i++)
		for (size_t k = 0; k < cl.v[i].n_paths; k++) {
			const struct rpc_nvme_ctrlr_path *p = &cl.v[i].paths[k];

			json_array_append_new(paths, json_pack("{s:s, s:s, s:s?}", "state",
							       p->state, "traddr", p->traddr,
							       "trsvcid", p->trsvcid));
			if (!strcmp(p->state, "resetting"))
				resetting = true;
			else if (strcmp(p->state, "enabled"))
				v = DIAG_BROKEN;
		}
	rpc_nvme_ctrlr_list_free(&cl);
	json_t *ev = json_pack("{s:s, s:o}", "method", "bdev_nvme_get_controllers", "paths", paths);
	if (resetting)
		return diag_step(d, "reset", ctrlr, DIAG_BROKEN, ev,
				 "a controller reset is in progress: wait for it to finish or for "
				 "the ctrlr-loss timeout; the raid keeps the other member",
				 "do not run an unfiltered bdev_get_bdevs or reset it again");
	if (diag_step(d, "controller", ctrlr, v, ev,
		      v == DIAG_OK ? NULL
				   : "the path to the storage node is down: check the node and "
				     "the network; SPDK reconnects by itself",
		      v == DIAG_OK ? NULL : "do not detach the controller by hand"))
		return true;

	if (rpc_bdev_nvme_get_io_paths(c, bdev, &pl, &err) < 0)
		return diag_step(d, "path", bdev, DIAG_UNKNOWN, rpc_err_json(&err), NULL, NULL);
	paths = json_array();
	v = pl.n ? DIAG_OK : DIAG_UNKNOWN;
	for (size_t i = 0; i < pl.n; i++) {
		const struct rpc_io_path *p = &pl.v[i];

		json_array_append_new(paths, json_pack("{s:s, s:b, s:b, s:b}", "traddr", p->traddr,
						       "current", p->current, "connected",
						       p->connected, "accessible", p->accessible));
		if (!p->connected || !p->accessible)
			v = DIAG_BROKEN;
	}
	rpc_io_path_list_free(&pl);
	return diag_step(
		d, "path", bdev, v,
		json_pack("{s:s, s:o}", "method", "bdev_nvme_get_io_paths", "paths", paths),
		v == DIAG_BROKEN ? "an I/O path is not connected: SPDK reconnects it; "
				   "check the storage node's listener"
				 : NULL,
		v == DIAG_BROKEN ? "do not detach the controller by hand" : NULL);
}

static bool diag_raid(struct diag *d, struct rpc_client *c, const char *raid)
{
	struct rpc_raid_list l = {0};
	struct rpc_error err = {0};
	const struct rpc_raid *rd = NULL;

	if (rpc_bdev_raid_get_bdevs(c, RPC_RAID_ALL, &l, &err) < 0)
		return diag_step(d, "raid", raid, DIAG_UNKNOWN, rpc_err_json(&err), NULL, NULL);
	for (size_t i = 0; i < l.n; i++)
		if (!strcmp(l.v[i].name, raid))
			rd = &l.v[i];
	if (!rd) {
		rpc_raid_list_free(&l);
		return diag_step(
			d, "raid", raid, DIAG_BROKEN,
			json_pack("{s:s, s:s}", "method", "bdev_raid_get_bdevs", "found", "no"),
			"the daemon re-creates the raid from the members on its next pass",
			"do not create it by hand: a raid without diskengine's UUID is an "
			"operator's and is never used");
	}
	json_t *members = json_array();

	for (size_t i = 0; i < rd->n_bases; i++)
		json_array_append_new(members,
				      json_pack("{s:s?, s:b}", "name", rd->bases[i].name,
						"is_configured", rd->bases[i].is_configured));
	json_t *ev = json_pack("{s:s, s:s, s:I, s:I, s:o}", "method", "bdev_raid_get_bdevs",
			       "state", rd->state, "num_base_bdevs", (json_int_t)rd->num_base_bdevs,
			       "num_base_bdevs_operational",
			       (json_int_t)rd->num_base_bdevs_operational, "base_bdevs", members);
	if (rd->has_process)
		json_object_set_new(ev, "rebuild_percent", json_integer(rd->process_percent));
	bool stop;

	if (strcmp(rd->state, "online")) {
		stop = diag_step(
			d, "raid", raid, DIAG_BROKEN, ev,
			"the raid is not online: bring back a member's storage node; the "
			"daemon re-adds members whose paths return",
			"do not delete the raid or its members: the superblock holds which "
			"replica is current");
	} else if (rd->num_base_bdevs_operational < rd->num_base_bdevs && !rd->has_process) {
		stop = diag_step(
			d, "raid", raid, DIAG_BROKEN, ev,
			"the raid is degraded and still serves I/O: the daemon re-adds the "
			"missing member when its path returns and SPDK rebuilds it",
			"do not add the member back by hand or detach the volume");
	} else {
		stop = diag_step(d, "raid", raid, DIAG_OK, ev, NULL, NULL);
	}
	for (size_t i = 0; !stop && i < rd->n_bases; i++)
		if (rd->bases[i].name)
			stop = diag_member(d, c, rd->bases[i].name);
	rpc_raid_list_free(&l);
	return stop;
}

static void diag_usage(FILE *f)
{
	fprintf(f,
		"usage: diskengine diagnose [--db URL] [-s SOCKET] [--vhost-dir DIR] [--json] "
		"VOLUME\n"
		"Walk VOLUME's live mapping on this host layer by layer and stop at the first\n"
		"broken one. Read-only. Exit codes: 0 every layer ok, 1 a layer is broken or\n"
		"unknown, 2 usage, 3 no such volume or no live mapping, 5 database or SPDK\n"
		"unreachable. See docs/diagnose.md.\n"
		"  --db URL          database (default: $DISKENGINE_DB)\n"
		"  -s, --socket SOCK SPDK's RPC socket (default: $SPDK_RPC_SOCK, else %s)\n"
		"  --vhost-dir DIR   where vhost-blk sockets live (default /var/tmp)\n"
		"  --json            one JSON document\n",
		RPC_DEFAULT_SOCKET);
}

static int diag_parse(int argc, char **argv, struct diag_opts *o)
{
	static const struct option lopts[] = {
		{"db", required_argument, NULL, 'd'},
		{"socket", required_argument, NULL, 's'},
		{"vhost-dir", required_argument, NULL, 'V'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	o->db = cli_env_db();
	o->sock = cli_env_spdk_sock();
	o->vhost_dir = "/var/tmp";
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->db = optarg;
			break;
		case 's':
			o->sock = optarg;
			break;
		case 'V':
			o->vhost_dir = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			diag_usage(stdout);
			return 1;
		default:
			diag_usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc - 1) {
		diag_usage(stderr);
		return -EINVAL;
	}
	o->volume = argv[optind];
	return 0;
}

/* The volume's live mapping: the newest one that is not DETACHED. */
static int diag_mapping(struct store *s, const char *volume, struct store_mapping *out,
			struct store_error *err)
{
	struct store_volume v;
	struct store_mapping *maps = NULL;
	size_t n = 0;
	int r = store_volume_get(s, volume, &v, err);

	if (r < 0)
		return r;
	struct store_mapping_filter f = {.volume_id = v.id};
	r = store_mapping_list(s, &f, &maps, &n, err);
	if (r < 0)
		return r;
	if (n == 0) {
		free(maps);
		snprintf(err->message, sizeof(err->message), "volume %s has no live mapping",
			 volume);
		return -ENOENT;
	}
	*out = maps[n - 1];
	free(maps);
	return 0;
}

int cli_diagnose_main(int argc, char **argv)
{
	struct diag_opts o = {0};
	struct diag d = {.steps = json_array()};
	struct store_error serr = {0};
	struct store_observation obs;
	struct store_mapping m;
	struct store *store = NULL;
	struct rpc_client *c = NULL;
	struct rpc_client_opts copts = {.timeout_ms = 10000, .connect_timeout_ms = 1000};
	struct rpc_error err = {0};
	char raid[32];
	int r, rc;

	r = diag_parse(argc, argv, &o);
	if (r != 0) {
		json_decref(d.steps);
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	d.json = o.json;
	r = store_open_read(o.db, &store, &serr);
	if (r == 0)
		r = diag_mapping(store, o.volume, &m, &serr);
	if (r < 0) {
		fprintf(stderr, "diskengine diagnose: %s\n", serr.message);
		store_close(store);
		json_decref(d.steps);
		return cli_exit_code(r);
	}
	names_raid((uint64_t)m.volume_id, raid, sizeof(raid));
	char mname[32];

	snprintf(mname, sizeof(mname), "mapping %lld", (long long)m.id);
	json_t *ev = json_pack("{s:s, s:s}", "state", store_mapping_state_name(m.state), "host",
			       m.host_name);
	if (store_observation_get(store, m.id, &obs, &serr) == 0 && obs.last_error[0])
		json_object_set_new(ev, "last_error", json_string(obs.last_error));
	store_close(store);
	if (m.state != STORE_MAPPING_ATTACHED)
		diag_step(&d, "mapping", mname, DIAG_BROKEN, ev,
			  "the daemon has not finished this mapping: read its last error and the "
			  "daemon log; the layers below show what is missing",
			  "do not change the mapping's state in the database by hand");
	else
		diag_step(&d, "mapping", mname, DIAG_OK, ev, NULL, NULL);

	r = rpc_client_open(o.sock, &copts, &c, &err);
	if (r < 0) {
		diag_step(&d, "spdk", o.sock, DIAG_UNKNOWN, rpc_err_json(&err),
			  "SPDK is not answering on its socket: check that it runs", NULL);
		rc = CLI_EXIT_UNAVAILABLE;
	} else {
		/* The walk goes on past a broken mapping row: the live layers say why. */
		d.stopped = false;
		if (!diag_vhost(&d, c, &m, raid, o.vhost_dir))
			diag_raid(&d, c, raid);
		rpc_client_close(c);
		rc = d.stopped || d.unknown || m.state != STORE_MAPPING_ATTACHED ? CLI_EXIT_FAILURE
										 : CLI_EXIT_OK;
	}
	if (o.json) {
		json_t *doc = json_pack("{s:s, s:I, s:I, s:b, s:o}", "volume", o.volume, "mapping",
					(json_int_t)m.id, "volume_id", (json_int_t)m.volume_id,
					"ok", rc == CLI_EXIT_OK, "steps", d.steps);
		json_dumpf(doc, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(doc);
	} else {
		printf("%s\n", rc == CLI_EXIT_OK ? "every layer ok" : "diagnosis: see above");
		json_decref(d.steps);
	}
	return rc;
}
