/* SPDX-License-Identifier: Apache-2.0 */
/* diskengine volume create | list | show | resize | delete | attach | detach */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "common/util.h"

static int volume_create(int argc, char **argv);
static int volume_list(int argc, char **argv);
static int volume_show(int argc, char **argv);
static int volume_resize(int argc, char **argv);
static int volume_delete(int argc, char **argv);
static int volume_attach(int argc, char **argv);
static int volume_detach(int argc, char **argv);

enum { V_CREATE, V_LIST, V_SHOW, V_RESIZE, V_DELETE, V_ATTACH, V_DETACH };

static const struct cli_verb verbs[] = {
	[V_CREATE] = {"create", volume_create,
		      "create NAME --size SIZE --replica NODE:NQN|local:HOST:BDF[:NSID] (twice) "
		      "[--block-size 512|4096] [--lvol-uuid UUID]... [--qos-rw-iops N] "
		      "[--qos-rw-mbps N] [--qos-r-mbps N] [--qos-w-mbps N] [--snapshot SRC]",
		      "create a volume mirrored over two replicas (storage nodes or local drives)"},
	[V_LIST] = {"list", volume_list, "list", "list volumes"},
	[V_SHOW] = {"show", volume_show, "show VOLUME",
		    "show a volume, its replicas, its mapping and what the host observed"},
	[V_RESIZE] = {"resize", volume_resize,
		      "resize VOLUME --size SIZE [--replica NODE:NQN --replica NODE:NQN "
		      "[--lvol-uuid UUID]...]",
		      "grow a volume (never shrink), in place or onto two new replicas"},
	[V_DELETE] = {"delete", volume_delete, "delete VOLUME",
		      "delete a volume (refused while it is mapped)"},
	[V_ATTACH] = {"attach", volume_attach, "attach VOLUME --host HOST --vm VM",
		      "map a volume to a VM on a host; prints the mapping id"},
	[V_DETACH] = {"detach", volume_detach, "detach VOLUME [--host HOST]",
		      "ask the host to tear the volume's mapping down (-> DETACH_REQUESTED)"},
};

static const char create_help[] =
	"--size SIZE           e.g. 10G, 512M, 1T (binary units), a multiple of the block size\n"
	"--block-size N        512 (default) or 4096\n"
	"--replica NODE:NQN    a replica: storage node name and the subsystem NQN exporting it\n"
	"                      (give it twice, on two nodes)\n"
	"--replica local:HOST:BDF[:NSID]\n"
	"                      a replica on namespace NSID (default 1) of a drive of HOST that\n"
	"                      `device add` registered; the volume can then map only on HOST\n"
	"--lvol-uuid UUID      lvol uuid of the replica given in the same position (optional)\n"
	"--qos-rw-iops N       read+write I/O per second, a multiple of 1000 (0 = unlimited)\n"
	"--qos-rw-mbps N       read+write MiB/s; --qos-r-mbps / --qos-w-mbps read / write only\n"
	"--snapshot SRC        fill the volume from a snapshot of volume SRC (name or id): the\n"
	"                      replicas are clones of one snapshot of a replica of SRC (see\n"
	"                      docs/snapshots.md); same block size as SRC, size at least SRC's\n";

static const char resize_help[] =
	"--size SIZE           the new size, larger than today's: e.g. 20G (binary units), a\n"
	"                      multiple of the volume's block size\n"
	"--replica NODE:NQN    a larger replica to move onto (give it twice, on two nodes); "
	"without\n"
	"                      it the replicas were grown in place on their nodes\n"
	"--lvol-uuid UUID      lvol uuid of the replica given in the same position (optional)\n"
	"The volume must be mapped: its host grows the RAID, or copies the data onto the new\n"
	"replicas.\n";

/* The largest value the database holds for a size or a limit. */
#define VOL_SIZE_MAX ((uint64_t)INT64_MAX)
#define VOL_MBPS_MAX ((uint64_t)INT64_MAX >> 20)

/* Options shared by create and resize. */
struct vol_args {
	struct store_volume v;
	struct store_replica rep[STORE_REPLICAS + 1];
	size_t n_rep;
	size_t n_uuid;
	bool have_size;
	const char *size_arg; /* as typed, for the decimal-unit hint */
	const char *host;
	const char *vm;
};

static int too_large(struct cli_ctx *ctx, const char *name, const char *val, uint64_t max,
		     const char *unit)
{
	return cli_usage_error(ctx, "%s '%s' is too large (at most %llu%s)", name, val,
			       (unsigned long long)max, unit);
}

static int parse_u64_opt(struct cli_ctx *ctx, const char *name, const char *val, uint64_t max,
			 uint64_t *out)
{
	int r = util_parse_u64(val, max, out);

	if (r == -ERANGE)
		return too_large(ctx, name, val, max, "");
	if (r < 0)
		return cli_usage_error(ctx, "%s '%s' is not a non-negative number", name, val);
	return CLI_EXIT_OK;
}

/*
 * "4MB" is 4,000,000 bytes, which no block size divides: the operator almost always meant the
 * binary unit. Says so when a decimal unit is what makes the size misaligned.
 */
static int size_misaligned(struct cli_ctx *ctx, const char *arg, uint64_t size, uint32_t bs)
{
	size_t n = strspn(arg, "0123456789");
	const char *u = arg + n;

	if (!bs || size % bs == 0 || strlen(u) != 2 || (u[1] != 'B' && u[1] != 'b') ||
	    !strchr("KMGTPkmgtp", u[0]))
		return CLI_EXIT_OK;
	return cli_usage_error(ctx,
			       "size '%s' is %llu bytes, not a multiple of the block size %u; did "
			       "you mean %.*s%c?",
			       arg, (unsigned long long)size, bs, (int)n, arg,
			       (char)(u[0] & ~0x20));
}

/*
 * local:HOST:BDF[:NSID] — a namespace of a drive registered with `device add`. The BDF carries
 * two colons itself, so a fourth field is the namespace id.
 */
static int local_replica_opt(struct cli_ctx *ctx, struct vol_args *a, const char *val)
{
	const char *host = val + 6, *bdf = strchr(host, ':'), *ns;
	struct store_replica *r = &a->rep[a->n_rep];
	uint64_t nsid = 1;

	if (a->n_rep >= STORE_REPLICAS)
		return cli_usage_error(ctx, "more than %d --replica options", STORE_REPLICAS);
	if (!bdf || bdf == host || !bdf[1])
		return cli_usage_error(ctx, "--replica '%s' is not local:HOST:BDF[:NSID]", val);
	bdf++;
	ns = strchr(bdf, ':');
	ns = ns ? strchr(ns + 1, ':') : NULL;
	ns = ns ? strchr(ns + 1, ':') : NULL;
	if (ns && util_parse_u64(ns + 1, 0xfffffffeu, &nsid) < 0)
		return cli_usage_error(
			ctx, "--replica '%s': namespace id '%s' is not 1..4294967294", val, ns + 1);
	if (nsid == 0)
		return cli_usage_error(ctx, "--replica '%s': namespace ids start at 1", val);
	if ((size_t)(bdf - 1 - host) >= STORE_NAME_MAX ||
	    (size_t)(ns ? ns - bdf : (ptrdiff_t)strlen(bdf)) >= STORE_BDF_MAX)
		return cli_usage_error(ctx, "--replica '%.40s...' is too long", val);
	memset(r, 0, sizeof(*r));
	r->transport = STORE_TRANSPORT_PCIE;
	memcpy(r->device_host, host, (size_t)(bdf - 1 - host));
	memcpy(r->bdf, bdf, ns ? (size_t)(ns - bdf) : strlen(bdf));
	r->nsid = (uint32_t)nsid;
	a->n_rep++;
	return CLI_EXIT_OK;
}

static int vol_opt(struct cli_ctx *ctx, void *arg, int opt, const char *val)
{
	struct vol_args *a = arg;
	uint64_t bs;
	const char *colon;

	switch (opt) {
	case 's':
		switch (util_parse_size(val, &a->v.size_bytes)) {
		case 0:
			break;
		case -ERANGE:
			return too_large(ctx, "size", val, VOL_SIZE_MAX, " bytes");
		default:
			return cli_usage_error(
				ctx, "size '%s' is not a size (e.g. 10G, 512M, 4096)", val);
		}
		if (a->v.size_bytes > VOL_SIZE_MAX)
			return too_large(ctx, "size", val, VOL_SIZE_MAX, " bytes");
		a->have_size = true;
		a->size_arg = val;
		return CLI_EXIT_OK;
	case 'b':
		if (util_parse_u64(val, UINT32_MAX, &bs) < 0 || (bs != 512 && bs != 4096))
			return cli_usage_error(ctx, "block size '%s' is not 512 or 4096", val);
		a->v.block_size = (uint32_t)bs;
		return CLI_EXIT_OK;
	case 'r':
		if (strncmp(val, "local:", 6) == 0)
			return local_replica_opt(ctx, a, val);
		colon = strchr(val, ':');
		if (!colon || colon == val || !colon[1])
			return cli_usage_error(ctx, "--replica '%s' is not NODE:NQN", val);
		if (a->n_rep >= STORE_REPLICAS)
			return cli_usage_error(ctx, "more than %d --replica options",
					       STORE_REPLICAS);
		if ((size_t)(colon - val) >= STORE_NAME_MAX ||
		    util_strlcpy(a->rep[a->n_rep].nqn, colon + 1, STORE_NQN_MAX) < 0)
			return cli_usage_error(ctx, "--replica '%.40s...' is too long", val);
		memcpy(a->rep[a->n_rep].node_name, val, (size_t)(colon - val));
		a->n_rep++;
		return CLI_EXIT_OK;
	case 'u':
		if (a->n_uuid >= STORE_REPLICAS)
			return cli_usage_error(ctx, "more than %d --lvol-uuid options",
					       STORE_REPLICAS);
		if (util_strlcpy(a->rep[a->n_uuid].lvol_uuid, val, STORE_UUID_MAX) < 0)
			return cli_usage_error(ctx, "'%.40s' is not a UUID", val);
		a->n_uuid++;
		return CLI_EXIT_OK;
	case 'I':
		return parse_u64_opt(ctx, "--qos-rw-iops", val, INT64_MAX, &a->v.qos.rw_iops);
	case 'M':
		return parse_u64_opt(ctx, "--qos-rw-mbps", val, VOL_MBPS_MAX, &a->v.qos.rw_mbps);
	case 'R':
		return parse_u64_opt(ctx, "--qos-r-mbps", val, VOL_MBPS_MAX, &a->v.qos.r_mbps);
	case 'W':
		return parse_u64_opt(ctx, "--qos-w-mbps", val, VOL_MBPS_MAX, &a->v.qos.w_mbps);
	case 'S':
		if (util_strlcpy(a->v.snapshot_source, val, STORE_NAME_MAX) < 0)
			return cli_usage_error(ctx, "--snapshot is longer than %d bytes",
					       STORE_NAME_MAX - 1);
		return CLI_EXIT_OK;
	case 'H':
		a->host = val;
		return CLI_EXIT_OK;
	case 'V':
		a->vm = val;
		return CLI_EXIT_OK;
	default:
		return CLI_EXIT_USAGE;
	}
}

#define VOL_SIZE_OPTIONS                                                                           \
	{"size", required_argument, NULL, 's'}, {"replica", required_argument, NULL, 'r'},         \
	{                                                                                          \
		"lvol-uuid", required_argument, NULL, 'u'                                          \
	}

/* Parse, print help, check the positional VOLUME; returns CLI_EXIT_OK to go on, or -1 for done. */
static int vol_parse(struct cli_ctx *ctx, int v, const char *detail, int argc, char **argv,
		     const struct option *opts, struct vol_args *a, const char **ref, int *rc)
{
	const struct cli_verb_spec spec = {
		.noun = "volume",
		.verb = &verbs[v],
		.detail = detail,
		.opts = opts,
		.opt_cb = vol_opt,
		.opt_arg = a,
		.min_args = ref ? 1 : 0,
		.max_args = ref ? 1 : 0,
		.args_hint = "expected one VOLUME (name or id)",
		.store = CLI_STORE_NONE, /* the options are checked first */
	};
	int pos;

	*rc = cli_verb_start(ctx, &spec, argc, argv, &pos);
	if (*rc != CLI_EXIT_OK || ctx->help)
		return -1;
	if (ref)
		*ref = argv[pos];
	if (a->n_uuid > a->n_rep) {
		*rc = cli_usage_error(ctx, "more --lvol-uuid than --replica options");
		return -1;
	}
	*rc = v == V_LIST || v == V_SHOW ? cli_store_open_read(ctx) : cli_store_open(ctx);
	return *rc == CLI_EXIT_OK ? 0 : -1;
}

/* What create refuses before it asks the store; returns CLI_EXIT_OK or the exit code. */
static int create_check(struct cli_ctx *ctx, struct vol_args *a, const char *name)
{
	/* the store takes "" for a volume without a name; an operator's "" is a mistake */
	if (!*name)
		return cli_usage_error(ctx, "volume name must not be empty");
	if (util_strlcpy(a->v.name, name, sizeof(a->v.name)) < 0)
		return cli_usage_error(ctx, "volume name is longer than %d bytes",
				       STORE_NAME_MAX - 1);
	if (!a->have_size)
		return cli_usage_error(ctx, "--size is required");
	return size_misaligned(ctx, a->size_arg, a->v.size_bytes, a->v.block_size);
}

static int volume_create(int argc, char **argv)
{
	static const struct option opts[] = {VOL_SIZE_OPTIONS,
					     {"block-size", required_argument, NULL, 'b'},
					     {"qos-rw-iops", required_argument, NULL, 'I'},
					     {"qos-rw-mbps", required_argument, NULL, 'M'},
					     {"qos-r-mbps", required_argument, NULL, 'R'},
					     {"qos-w-mbps", required_argument, NULL, 'W'},
					     {"snapshot", required_argument, NULL, 'S'},
					     CLI_COMMON_OPTIONS,
					     {0}};
	struct cli_ctx ctx = {.cmd = "volume create"};
	struct vol_args a = {.v.block_size = 512};
	struct store_error err = {0};
	const char *name;
	int64_t id;
	int rc;

	if (vol_parse(&ctx, V_CREATE, create_help, argc, argv, opts, &a, &name, &rc) < 0)
		return rc;
	rc = create_check(&ctx, &a, name);
	if (rc != CLI_EXIT_OK) {
		cli_store_close(&ctx);
		return rc;
	}
	if (store_volume_create(ctx.store, &a.v, a.rep, a.n_rep, &id, &err) < 0)
		rc = cli_fail(&ctx, &err);
	else if (ctx.json)
		cli_json_print(json_pack("{sI ss}", "id", (json_int_t)id, "name", a.v.name));
	else
		printf("volume %s created (id %" PRId64 ")\n", a.v.name, id);
	cli_store_close(&ctx);
	return rc;
}

static void qos_text(const struct store_qos *q, char *buf, size_t size)
{
	if (!q->rw_iops && !q->rw_mbps && !q->r_mbps && !q->w_mbps) {
		snprintf(buf, size, "-");
		return;
	}
	snprintf(buf, size, "iops=%llu rw=%llu r=%llu w=%llu MiB/s", (unsigned long long)q->rw_iops,
		 (unsigned long long)q->rw_mbps, (unsigned long long)q->r_mbps,
		 (unsigned long long)q->w_mbps);
}

static int volume_list(int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};
	static const char *const hdr[] = {"ID", "NAME", "SIZE", "BLOCK", "STATE", "QOS"};
	struct cli_ctx ctx = {.cmd = "volume list"};
	struct store_error err = {0};
	struct store_volume *vols = NULL;
	struct vol_args a = {0};
	size_t n = 0;
	int rc;

	if (vol_parse(&ctx, V_LIST, NULL, argc, argv, opts, &a, NULL, &rc) < 0)
		return rc;
	if (store_volume_list(ctx.store, &vols, &n, &err) < 0) {
		rc = cli_fail(&ctx, &err);
	} else if (ctx.json) {
		json_t *arr = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, cli_json_volume(&vols[i]));
		cli_json_print(arr);
	} else {
		struct cli_table *t = cli_table_new(6, hdr);

		for (size_t i = 0; i < n; i++) {
			char id[24], size[32], bs[16], qos[128];
			const char *row[] = {
				id, vols[i].name, size, bs, store_volume_state_name(vols[i].state),
				qos};

			snprintf(id, sizeof(id), "%" PRId64, vols[i].id);
			cli_format_size(vols[i].size_bytes, size, sizeof(size));
			snprintf(bs, sizeof(bs), "%u", vols[i].block_size);
			qos_text(&vols[i].qos, qos, sizeof(qos));
			cli_table_add(t, row);
		}
		cli_table_print(t, stdout);
		cli_table_free(t);
	}
	free(vols);
	cli_store_close(&ctx);
	return rc;
}

static void show_text(const struct store_volume *v, const struct store_replica *reps, size_t nr,
		      const struct store_mapping *maps, size_t nm, struct store *store)
{
	static const char *const hdr[] = {"REPLICA", "NODE",	"TRANSPORT", "ADDRESS",
					  "NQN",     "IN_SYNC", "GEN",	     "PENDING"};
	char size[32], qos[128], created[32];
	struct cli_table *t = cli_table_new(8, hdr);

	cli_format_size(v->size_bytes, size, sizeof(size));
	qos_text(&v->qos, qos, sizeof(qos));
	cli_format_time(v->created_at, created, sizeof(created));
	printf("volume:     %s (id %" PRId64 ")\nsize:       %s (%llu bytes)\nblock size: %u\n"
	       "state:      %s\nqos:        %s\nsnapshot:   %s\nraid:       %s (data_offset "
	       "%llu)\nclean stop: %s\ncreated:    %s\n\n",
	       v->name[0] ? v->name : "-", v->id, size, (unsigned long long)v->size_bytes,
	       v->block_size, store_volume_state_name(v->state), qos,
	       v->snapshot_source[0] ? v->snapshot_source : "-",
	       v->raid_uuid[0] ? v->raid_uuid : "-", (unsigned long long)v->raid_data_offset,
	       v->clean_stop ? "yes" : "no", created);
	for (size_t i = 0; i < nr; i++) {
		bool local = reps[i].transport == STORE_TRANSPORT_PCIE;
		char id[24], addr[STORE_ADDR_MAX + 8], gen[24], node[STORE_NAME_MAX + 8], ns[24];
		const char *row[] = {id,
				     local ? node : reps[i].node_name,
				     store_transport_name(reps[i].transport),
				     addr,
				     local ? ns : reps[i].nqn,
				     reps[i].in_sync ? "yes" : "no",
				     gen,
				     reps[i].pending ? "yes" : "no"};

		snprintf(id, sizeof(id), "%" PRId64, reps[i].id);
		if (local) {
			/* a local drive has no node: its host, BDF and namespace say where */
			snprintf(node, sizeof(node), "local:%s", reps[i].device_host);
			snprintf(addr, sizeof(addr), "%s", reps[i].bdf);
			snprintf(ns, sizeof(ns), "nsid %u", reps[i].nsid);
		} else {
			snprintf(addr, sizeof(addr), "%s:%u", reps[i].address, reps[i].port);
		}
		snprintf(gen, sizeof(gen), "%" PRId64, reps[i].generation);
		cli_table_add(t, row);
	}
	cli_table_print(t, stdout);
	cli_table_free(t);
	printf("\n");
	if (nm == 0)
		printf("mapping:    none\n");
	for (size_t i = 0; i < nm; i++) {
		struct store_observation o;

		printf("mapping:    %" PRId64 "  host %s  vm %s  %s\n", maps[i].id,
		       maps[i].host_name, maps[i].vm_id, store_mapping_state_name(maps[i].state));
		if (store_observation_get(store, maps[i].id, &o, NULL) == 0) {
			char when[32];

			cli_format_time(o.last_error_at, when, sizeof(when));
			printf("observed:   raid %s  members %s  rebuild %d%%\n",
			       o.raid_state[0] ? o.raid_state : "-", o.members[0] ? o.members : "-",
			       o.rebuild_percent < 0 ? 0 : o.rebuild_percent);
			if (o.last_error[0])
				printf("last error: %s (%s)\n", o.last_error, when);
		}
	}
}

static int volume_show(int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};
	struct cli_ctx ctx = {.cmd = "volume show"};
	struct store_mapping_filter f = {0};
	struct store_error err = {0};
	struct store_replica *reps = NULL;
	struct store_mapping *maps = NULL;
	struct vol_args a = {0};
	struct store_volume v;
	size_t nr = 0, nm = 0;
	const char *ref;
	int rc;

	if (vol_parse(&ctx, V_SHOW, NULL, argc, argv, opts, &a, &ref, &rc) < 0)
		return rc;
	if (store_volume_get(ctx.store, ref, &v, &err) < 0 ||
	    store_replica_list(ctx.store, v.id, &reps, &nr, &err) < 0 ||
	    (f.volume_id = v.id, store_mapping_list(ctx.store, &f, &maps, &nm, &err) < 0)) {
		rc = cli_fail(&ctx, &err);
	} else if (ctx.json) {
		json_t *o = cli_json_volume(&v), *jr = json_array(), *jm = json_array();

		for (size_t i = 0; i < nr; i++)
			json_array_append_new(jr, cli_json_replica(&reps[i]));
		for (size_t i = 0; i < nm; i++) {
			json_t *m = cli_json_mapping(&maps[i]);
			struct store_observation ob;

			if (store_observation_get(ctx.store, maps[i].id, &ob, NULL) == 0)
				json_object_set_new(m, "observation", cli_json_observation(&ob));
			json_array_append_new(jm, m);
		}
		json_object_set_new(o, "replicas", jr);
		json_object_set_new(o, "mappings", jm);
		cli_json_print(o);
	} else {
		show_text(&v, reps, nr, maps, nm, ctx.store);
	}
	free(reps);
	free(maps);
	cli_store_close(&ctx);
	return rc;
}

static int volume_resize(int argc, char **argv)
{
	static const struct option opts[] = {VOL_SIZE_OPTIONS, CLI_COMMON_OPTIONS, {0}};
	struct cli_ctx ctx = {.cmd = "volume resize"};
	struct store_error err = {0};
	struct store_volume cur;
	struct vol_args a = {0};
	const char *ref;
	int rc;

	if (vol_parse(&ctx, V_RESIZE, resize_help, argc, argv, opts, &a, &ref, &rc) < 0)
		return rc;
	if (!a.have_size) {
		cli_store_close(&ctx);
		return cli_usage_error(&ctx, "--size is required");
	}
	if (store_volume_get(ctx.store, ref, &cur, &err) < 0) {
		rc = cli_fail(&ctx, &err);
		cli_store_close(&ctx);
		return rc;
	}
	rc = size_misaligned(&ctx, a.size_arg, a.v.size_bytes, cur.block_size);
	if (rc != CLI_EXIT_OK) {
		cli_store_close(&ctx);
		return rc;
	}
	if (store_volume_resize(ctx.store, ref, a.v.size_bytes, a.rep, a.n_rep, &err) < 0)
		rc = cli_fail(&ctx, &err);
	else if (ctx.json)
		cli_json_print(json_pack("{ss sI}", "volume", ref, "size_bytes",
					 (json_int_t)a.v.size_bytes));
	else
		printf("volume %s resizing to %llu bytes\n", ref,
		       (unsigned long long)a.v.size_bytes);
	cli_store_close(&ctx);
	return rc;
}

static int volume_delete(int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};
	struct cli_ctx ctx = {.cmd = "volume delete"};
	struct store_error err = {0};
	struct vol_args a = {0};
	const char *ref;
	int rc;

	if (vol_parse(&ctx, V_DELETE, NULL, argc, argv, opts, &a, &ref, &rc) < 0)
		return rc;
	if (store_volume_delete(ctx.store, ref, &err) < 0)
		rc = cli_fail(&ctx, &err);
	else if (ctx.json)
		cli_json_print(json_pack("{ss sb}", "volume", ref, "deleted", 1));
	else
		printf("volume %s deleted\n", ref);
	cli_store_close(&ctx);
	return rc;
}

static int volume_attach(int argc, char **argv)
{
	static const struct option opts[] = {{"host", required_argument, NULL, 'H'},
					     {"vm", required_argument, NULL, 'V'},
					     CLI_COMMON_OPTIONS,
					     {0}};
	struct cli_ctx ctx = {.cmd = "volume attach"};
	struct store_error err = {0};
	struct vol_args a = {0};
	const char *ref;
	int64_t id;
	int rc;

	if (vol_parse(&ctx, V_ATTACH, NULL, argc, argv, opts, &a, &ref, &rc) < 0)
		return rc;
	if (!a.host || !a.vm) {
		cli_store_close(&ctx);
		return cli_usage_error(&ctx, "--host and --vm are required");
	}
	if (store_volume_attach(ctx.store, ref, a.host, a.vm, &id, &err) < 0)
		rc = cli_fail(&ctx, &err);
	else if (ctx.json)
		cli_json_print(json_pack("{sI ss ss ss}", "mapping_id", (json_int_t)id, "volume",
					 ref, "host", a.host, "state", "ASSIGNED"));
	else
		printf("%" PRId64 "\n", id);
	cli_store_close(&ctx);
	return rc;
}

static int volume_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{"host", required_argument, NULL, 'H'}, CLI_COMMON_OPTIONS, {0}};
	struct cli_ctx ctx = {.cmd = "volume detach"};
	struct store_error err = {0};
	struct vol_args a = {0};
	const char *ref;
	int64_t id;
	int rc;

	if (vol_parse(&ctx, V_DETACH, NULL, argc, argv, opts, &a, &ref, &rc) < 0)
		return rc;
	if (store_volume_detach(ctx.store, ref, a.host, &id, &err) < 0)
		rc = cli_fail(&ctx, &err);
	else if (ctx.json)
		cli_json_print(json_pack("{sI ss ss}", "mapping_id", (json_int_t)id, "volume", ref,
					 "state", "DETACH_REQUESTED"));
	else
		printf("mapping %" PRId64 " of volume %s: DETACH_REQUESTED\n", id, ref);
	cli_store_close(&ctx);
	return rc;
}

int cli_volume_main(int argc, char **argv)
{
	return cli_dispatch("volume", verbs, ARRAY_SIZE(verbs), argc, argv);
}
