/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `diskengine diagnose VOLUME`: the on-call walk of a volume's live mapping, layer by layer
 * (mapping, vhost controller, its socket, QEMU's session, raid, each member's namespace bdev,
 * controller and I/O paths). Only read calls: bdevs are asked for by name, never listed, since
 * an unfiltered bdev_get_bdevs is unsafe while a controller resets. Stops at the first broken
 * layer, except below a broken mapping row or raid, where the layers under it say why; the exit
 * code and --json schema are documented in docs/diagnose.md.
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
#include "cli/cli_diagnose.h"
#include "reconcile/names.h"
#include "rpc/rpc.h"
#include "rpc/spdk.h"
#include "store/store.h"

static const char *const verdict_names[] = {"ok", "broken", "unknown"};

struct diag_opts {
	const char *db, *sock, *vhost_dir, *volume;
	bool json;
};

bool diag_step(struct diag *d, const char *layer, const char *object, enum diag_verdict v,
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
	return v == DIAG_BROKEN;
}

json_t *diag_rpc_err(const struct rpc_error *err)
{
	return json_pack("{s:i, s:s}", "code", err->code, "message", err->message);
}

/*
 * raid_up: the raid is listed online. A vhost-blk controller whose bdev SPDK removed (the raid
 * went offline or was deleted) shows "bdev": null; that is judged by the raid step below.
 */
static bool diag_vhost(struct diag *d, struct rpc_client *c, const struct store_mapping *m,
		       const char *raid, bool raid_up, const char *vhost_dir)
{
	struct rpc_vhost_list l = {0};
	struct rpc_error err = {0};
	const struct rpc_vhost_ctrlr *v = NULL;
	char name[32], sock[512];
	struct stat st;
	bool stop;

	names_vhost((uint64_t)m->id, name, sizeof(name));
	if (rpc_vhost_get_controllers(c, &l, &err) < 0)
		return diag_step(d, "vhost", name, DIAG_UNKNOWN, diag_rpc_err(&err),
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
	json_object_set_new(ev, "want", json_string(raid));
	if (!v->bdev && !raid_up) {
		diag_step(d, "vhost", name, DIAG_UNKNOWN, json_incref(ev),
			  "SPDK removed its bdev with the raid (see the raid step): the daemon "
			  "deletes and re-creates the controller once the raid is back; QEMU "
			  "reconnects then",
			  "do not delete the controller by hand while QEMU is connected");
	} else if (!v->bdev) {
		rpc_vhost_list_free(&l);
		return diag_step(d, "vhost", name, DIAG_BROKEN, ev,
				 "the controller lost its bdev and the raid is back: the daemon "
				 "deletes and re-creates it on its next pass",
				 "do not delete the controller by hand while QEMU is connected");
	} else if (strcmp(v->bdev, raid)) {
		rpc_vhost_list_free(&l);
		return diag_step(d, "vhost", name, DIAG_BROKEN, ev,
				 "the controller serves another bdev than the volume's raid: the "
				 "daemon reports a conflict and leaves it alone; find who created "
				 "it, then delete it once the VM is stopped",
				 "do not delete the controller while QEMU is connected");
	} else {
		diag_step(d, "vhost", name, DIAG_OK, json_incref(ev), NULL, NULL);
	}
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

static const struct rpc_raid *raid_find(const struct rpc_raid_list *l, const char *raid)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, raid))
			return &l->v[i];
	return NULL;
}

/*
 * The raid, then its members as the database places them. A broken raid does not end the
 * walk: the first broken member layer below it says why the raid lost that member.
 */
static void diag_raid(struct diag *d, struct rpc_client *c, const char *raid,
		      const struct rpc_raid *rd, const struct diag_member *mem, size_t n_mem)
{
	if (!rd) {
		diag_step(d, "raid", raid, DIAG_BROKEN,
			  json_pack("{s:s, s:s, s:s}", "method", "bdev_raid_get_bdevs", "category",
				    "all", "found", "no"),
			  "SPDK has no such raid: a raid1 whose last member went is unregistered "
			  "and freed; the daemon re-creates or re-assembles it from the members "
			  "once they are back (see the member steps below)",
			  "do not create it by hand: a raid without diskengine's UUID is an "
			  "operator's and is never used");
	} else {
		json_t *members = json_array();

		for (size_t i = 0; i < rd->n_bases; i++)
			json_array_append_new(members, json_pack("{s:s?, s:b}", "name",
								 rd->bases[i].name, "is_configured",
								 rd->bases[i].is_configured));
		json_t *ev = json_pack("{s:s, s:s, s:I, s:I, s:o}", "method", "bdev_raid_get_bdevs",
				       "state", rd->state, "num_base_bdevs",
				       (json_int_t)rd->num_base_bdevs, "num_base_bdevs_operational",
				       (json_int_t)rd->num_base_bdevs_operational, "base_bdevs",
				       members);
		if (rd->has_process)
			json_object_set_new(ev, "rebuild_percent",
					    json_integer(rd->process_percent));
		if (strcmp(rd->state, "online"))
			diag_step(
				d, "raid", raid, DIAG_BROKEN, ev,
				"the raid is not online: bring back a member's storage node; the "
				"daemon re-adds members whose paths return",
				"do not delete the raid or its members: the superblock holds which "
				"replica is current");
		else if (rd->num_base_bdevs_operational < rd->num_base_bdevs && !rd->has_process)
			diag_step(
				d, "raid", raid, DIAG_BROKEN, ev,
				"the raid is degraded and still serves I/O: the member steps "
				"below say which member is missing and why; the daemon re-adds it "
				"when its path returns and SPDK rebuilds it",
				"do not add the member back by hand or detach the volume");
		else
			diag_step(d, "raid", raid, DIAG_OK, ev, NULL, NULL);
	}
	for (size_t i = 0; i < n_mem; i++)
		if (diag_member(d, c, &mem[i]))
			break;
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

/* The volume's members (pending replicas of a resize are not in the raid yet). */
static int diag_members(struct store *s, int64_t volume_id, struct diag_member **out, size_t *n,
			struct store_error *err)
{
	struct store_replica *reps = NULL;
	struct diag_member *mem;
	size_t nr = 0, k = 0;
	int r = store_replica_list(s, volume_id, &reps, &nr, err);

	if (r < 0)
		return r;
	mem = calloc(nr ? nr : 1, sizeof(*mem));
	if (!mem) {
		free(reps);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nr; i++) {
		const struct store_replica *sr = &reps[i];
		struct replica rep = {.nsid = 1};

		if (sr->pending)
			continue;
		if (sr->transport == STORE_TRANSPORT_PCIE) {
			rep.transport = TRANSPORT_PCIE;
			snprintf(rep.addr, sizeof(rep.addr), "%s", sr->bdf);
			rep.nsid = sr->nsid ? sr->nsid : 1;
		} else {
			rep.transport = sr->transport == STORE_TRANSPORT_RDMA ? TRANSPORT_RDMA
									      : TRANSPORT_TCP;
			snprintf(rep.nqn, sizeof(rep.nqn), "%s", sr->nqn);
		}
		if (names_ctrlr(&rep, mem[k].ctrlr, sizeof(mem[k].ctrlr)) < 0)
			continue;
		names_ns_bdev(mem[k].ctrlr, rep.nsid, mem[k].bdev, sizeof(mem[k].bdev));
		mem[k++].nsid = rep.nsid;
	}
	free(reps);
	*out = mem;
	*n = k;
	return 0;
}

/* The live layers: the raid is read first since the vhost step's verdict depends on it. */
static void diag_live(struct diag *d, struct rpc_client *c, const struct store_mapping *m,
		      const char *raid, const char *vhost_dir, const struct diag_member *mem,
		      size_t n_mem)
{
	struct rpc_raid_list rl = {0};
	struct rpc_error err = {0};
	const struct rpc_raid *rd;

	if (rpc_bdev_raid_get_bdevs(c, RPC_RAID_ALL, &rl, &err) < 0) {
		diag_step(d, "raid", raid, DIAG_UNKNOWN, diag_rpc_err(&err),
			  "check that SPDK answers (diskengine rpc spdk_get_version)", NULL);
		return;
	}
	rd = raid_find(&rl, raid);
	if (!diag_vhost(d, c, m, raid, rd && !strcmp(rd->state, "online"), vhost_dir))
		diag_raid(d, c, raid, rd, mem, n_mem);
	rpc_raid_list_free(&rl);
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
	struct diag_member *mem = NULL;
	size_t n_mem = 0;
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
	if (r == 0)
		r = diag_members(store, m.volume_id, &mem, &n_mem, &serr);
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
			  "daemon log; the layers below show what is missing. If every layer "
			  "below is ok, the row is behind SPDK: the daemon moves it forward on "
			  "its next pass (check that it runs)",
			  "do not change the mapping's state in the database by hand");
	else
		diag_step(&d, "mapping", mname, DIAG_OK, ev, NULL, NULL);

	r = rpc_client_open(o.sock, &copts, &c, &err);
	if (r < 0) {
		diag_step(&d, "spdk", o.sock, DIAG_UNKNOWN, diag_rpc_err(&err),
			  "SPDK is not answering on its socket: check that it runs", NULL);
		rc = CLI_EXIT_UNAVAILABLE;
	} else {
		/* The walk goes on past a broken mapping row: the live layers say why. */
		d.stopped = false;
		diag_live(&d, c, &m, raid, o.vhost_dir, mem, n_mem);
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
	free(mem);
	return rc;
}
