/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/cli_common.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "common/redact.h"
#include "rpc/rpc.h"
#include "common/util.h"

int cli_dispatch(const char *noun, const struct cli_verb *verbs, size_t n, int argc, char **argv)
{
	FILE *f = stdout;
	int rc = CLI_EXIT_OK;

	if (argc >= 2 && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0 &&
	    strcmp(argv[1], "help") != 0) {
		for (size_t i = 0; i < n; i++)
			if (strcmp(argv[1], verbs[i].name) == 0)
				return verbs[i].fn(argc - 1, argv + 1);
		fprintf(stderr, "diskengine %s: unknown verb '%s'\n", noun, argv[1]);
		f = stderr;
		rc = CLI_EXIT_USAGE;
	} else if (argc < 2) {
		f = stderr;
		rc = CLI_EXIT_USAGE;
	}
	fprintf(f, "usage:\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  diskengine %s %s\n      %s\n", noun, verbs[i].usage, verbs[i].help);
	fprintf(f,
		"\ncommon options: --db URL (or env DISKENGINE_DB; default %s),\n"
		"  --json (machine-readable output), --help\n",
		CLI_DEFAULT_DB);
	return rc;
}

bool cli_common_opt(struct cli_ctx *ctx, int opt, const char *arg)
{
	switch (opt) {
	case CLI_OPT_DB:
		ctx->db_url = arg;
		return true;
	case CLI_OPT_JSON:
		ctx->json = true;
		return true;
	case CLI_OPT_HELP:
		ctx->help = true;
		return true;
	default:
		return false;
	}
}

/*
 * The argument getopt_long refused. A long option or a missing value always used up its
 * element; a bad letter in the middle of a cluster ("-json") has not, so optind still points
 * at it.
 */
static const char *bad_option_arg(int opt, int argc, char **argv)
{
	const char *cur = optind < argc ? argv[optind] : NULL;

	if (opt == '?' && optopt > 0 && optopt < 0x80 && cur && cur[0] == '-' && cur[1] &&
	    cur[1] != '-' && strchr(cur + 1, optopt))
		return cur;
	return argv[optind > 0 ? optind - 1 : 0];
}

int cli_option_error(struct cli_ctx *ctx, int opt, int argc, char **argv)
{
	const char *arg = bad_option_arg(opt, argc, argv);

	if (opt == ':')
		return cli_usage_error(ctx, "missing value for option '%s'", arg);
	/* "-json": getopt reads letters; the operator most likely meant the long option */
	if (arg[0] == '-' && arg[1] && arg[1] != '-' && arg[2])
		return cli_usage_error(ctx,
				       "unknown option '%s' (long options take two dashes: "
				       "'-%s')",
				       arg, arg);
	return cli_usage_error(ctx, "unknown option '%s'", arg);
}

int cli_getopt(struct cli_ctx *ctx, int argc, char **argv, const struct option *opts,
	       int (*cb)(struct cli_ctx *ctx, void *arg, int opt, const char *val), void *arg,
	       int *first_pos)
{
	int opt, rc;

	optind = 0; /* full re-initialisation: verbs may parse more than once per process */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (opt == '?' || opt == ':')
			return cli_option_error(ctx, opt, argc, argv);
		if (cli_common_opt(ctx, opt, optarg))
			continue;
		rc = cb ? cb(ctx, arg, opt, optarg) : CLI_EXIT_USAGE;
		if (rc != CLI_EXIT_OK)
			return rc;
	}
	*first_pos = optind;
	return CLI_EXIT_OK;
}

int cli_verb_start(struct cli_ctx *ctx, const struct cli_verb_spec *spec, int argc, char **argv,
		   int *first_pos)
{
	int pos, n, rc;

	rc = cli_getopt(ctx, argc, argv, spec->opts, spec->opt_cb, spec->opt_arg, &pos);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (ctx->help)
		return cli_verb_help(spec->noun, spec->verb, spec->detail);
	n = argc - pos;
	if (n > 0 && spec->max_args == 0)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[pos]);
	if (n < spec->min_args || (spec->max_args >= 0 && n > spec->max_args))
		return cli_usage_error(ctx, "%s", spec->args_hint);
	switch (spec->store) {
	case CLI_STORE_OPEN:
		rc = cli_store_open(ctx);
		break;
	case CLI_STORE_NOMIGRATE:
		rc = cli_store_open_nomigrate(ctx);
		break;
	case CLI_STORE_READ:
		rc = cli_store_open_read(ctx);
		break;
	case CLI_STORE_NONE:
		break;
	}
	if (rc == CLI_EXIT_OK)
		*first_pos = pos;
	return rc;
}

int cli_verb_help(const char *noun, const struct cli_verb *v, const char *detail)
{
	printf("usage: diskengine %s %s\n\n%s\n", noun, v->usage, v->help);
	if (detail && *detail)
		printf("\n%s", detail);
	printf("\ncommon options: --db URL (or env DISKENGINE_DB), --json, --help\n");
	return CLI_EXIT_OK;
}

int cli_usage_error(struct cli_ctx *ctx, const char *fmt, ...)
{
	char msg[1024], shown[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The argument named may be a database URL given in the wrong place. */
	redact_copy(msg, shown, sizeof(shown));
	fprintf(stderr, "diskengine %s: %s (see 'diskengine %s --help')\n", ctx->cmd, shown,
		ctx->cmd);
	return CLI_EXIT_USAGE;
}

/*
 * The one mapping from a store errno to an exit code, whether the failure came while opening
 * the store or later, so the same failure exits the same way in every command.
 */
int cli_exit_code(int err)
{
	switch (err) {
	case 0:
		return CLI_EXIT_OK;
	case -EINVAL:
	case -ERANGE:
		return CLI_EXIT_USAGE;
	case -ENOENT:
		return CLI_EXIT_NOT_FOUND;
	case -EEXIST:
	case -EBUSY:
	case -ESTALE:
	case -EALREADY:
		return CLI_EXIT_CONFLICT;
	case -ENOTCONN:
	case -ECONNREFUSED:
	case -EHOSTUNREACH:
	case -ETIMEDOUT: /* also a statement that outlived statement_timeout */
		return CLI_EXIT_UNAVAILABLE;
	case -EPROTO: /* the schema is older or newer than this binary */
	case -EACCES: /* the database role may not do this */
	case -EROFS:  /* the database cannot be written */
	case -ENOSPC:
	default:
		return CLI_EXIT_FAILURE;
	}
}

int cli_fail(struct cli_ctx *ctx, const struct store_error *err)
{
	fprintf(stderr, "diskengine %s: %s\n", ctx->cmd,
		err->message[0] ? err->message : strerror(-err->err));
	return cli_exit_code(err->err);
}

const char *cli_env_db(void)
{
	const char *env = getenv("DISKENGINE_DB");

	return env && *env ? env : CLI_DEFAULT_DB;
}

const char *cli_env_spdk_sock(void)
{
	const char *env = getenv("SPDK_RPC_SOCK");

	return env && *env ? env : RPC_DEFAULT_SOCKET;
}

static const char *cli_db_url(struct cli_ctx *ctx)
{
	const char *env = getenv("DISKENGINE_DB");

	if (ctx->db_url)
		return ctx->db_url;
	if (env && *env)
		return env;
	/* The packaged default lives in a directory that may not exist yet. */
	if (mkdir("/var/lib/diskengine", 0755) < 0 && errno != EEXIST)
		fprintf(stderr, "diskengine: cannot create /var/lib/diskengine: %s\n",
			strerror(errno));
	return CLI_DEFAULT_DB;
}

static int cli_open(struct cli_ctx *ctx, enum cli_store_mode mode)
{
	struct store_error err = {0};
	const char *url = cli_db_url(ctx);
	int r;

	if (mode == CLI_STORE_READ)
		r = store_open_read(url, &ctx->store, &err);
	else if (mode == CLI_STORE_NOMIGRATE)
		r = store_open_nomigrate(url, &ctx->store, &err);
	else
		r = store_open(url, &ctx->store, &err);
	if (r == 0)
		return CLI_EXIT_OK;
	return cli_fail(ctx, &err);
}

int cli_store_open(struct cli_ctx *ctx)
{
	return cli_open(ctx, CLI_STORE_OPEN);
}

int cli_store_open_nomigrate(struct cli_ctx *ctx)
{
	return cli_open(ctx, CLI_STORE_NOMIGRATE);
}

int cli_store_open_read(struct cli_ctx *ctx)
{
	return cli_open(ctx, CLI_STORE_READ);
}

void cli_store_close(struct cli_ctx *ctx)
{
	store_close(ctx->store);
	ctx->store = NULL;
}

int cli_json_print(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(v);
	return CLI_EXIT_OK;
}

void cli_format_size(uint64_t bytes, char *buf, size_t size)
{
	static const char units[] = "PTGMK";

	for (int i = 0; i < 5; i++) {
		uint64_t m = 1ull << (10 * (5 - i));

		if (bytes >= m && bytes % m == 0) {
			snprintf(buf, size, "%llu%c", (unsigned long long)(bytes / m), units[i]);
			return;
		}
	}
	snprintf(buf, size, "%llu", (unsigned long long)bytes);
}

void cli_format_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, size, "-");
}

static json_t *opt_str(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

json_t *cli_json_host(const struct store_host *h)
{
	json_t *rdma = json_array(), *tcp = json_array();

	for (unsigned i = 0; i < h->n_rdma_ips; i++)
		json_array_append_new(rdma, json_string(h->rdma_ips[i]));
	for (unsigned i = 0; i < h->n_tcp_ips; i++)
		json_array_append_new(tcp, json_string(h->tcp_ips[i]));
	return json_pack("{sI ss so so sI}", "id", (json_int_t)h->id, "name", h->name, "rdma_ips",
			 rdma, "tcp_ips", tcp, "created_at", (json_int_t)h->created_at);
}

json_t *cli_json_node(const struct store_node *n)
{
	return json_pack("{sI ss ss ss si so}", "id", (json_int_t)n->id, "name", n->name,
			 "transport", store_transport_name(n->transport), "address", n->address,
			 "port", (int)n->port, "auth_key_file", opt_str(n->auth_key_file));
}

json_t *cli_json_volume(const struct store_volume *v)
{
	json_t *qos = json_pack("{sI sI sI sI}", "rw_iops", (json_int_t)v->qos.rw_iops, "rw_mbps",
				(json_int_t)v->qos.rw_mbps, "r_mbps", (json_int_t)v->qos.r_mbps,
				"w_mbps", (json_int_t)v->qos.w_mbps);

	json_t *o =
		json_pack("{sI so sI si so so ss sb sI}", "id", (json_int_t)v->id, "name",
			  opt_str(v->name), "size_bytes", (json_int_t)v->size_bytes, "block_size",
			  (int)v->block_size, "qos", qos, "snapshot_source",
			  opt_str(v->snapshot_source), "state", store_volume_state_name(v->state),
			  "clean_stop", v->clean_stop, "created_at", (json_int_t)v->created_at);

	if (o && v->source_volume_id)
		json_object_set_new(o, "source",
				    json_pack("{sI ss sI}", "volume_id",
					      (json_int_t)v->source_volume_id, "raid_uuid",
					      v->source_raid_uuid, "data_offset",
					      (json_int_t)v->source_data_offset));
	if (o)
		json_object_set_new(o, "raid",
				    v->raid_uuid[0] ? json_pack("{ss sI}", "uuid", v->raid_uuid,
								"data_offset",
								(json_int_t)v->raid_data_offset)
						    : json_null());
	return o;
}

json_t *cli_json_replica(const struct store_replica *r)
{
	if (r->transport == STORE_TRANSPORT_PCIE)
		return json_pack("{sI ss ss ss sI so sb sI sb}", "id", (json_int_t)r->id,
				 "transport", store_transport_name(r->transport), "host",
				 r->device_host, "bdf", r->bdf, "nsid", (json_int_t)r->nsid,
				 "lvol_uuid", opt_str(r->lvol_uuid), "in_sync", r->in_sync,
				 "generation", (json_int_t)r->generation, "pending", r->pending);
	return json_pack("{sI ss ss ss si so ss so sb sI sb}", "id", (json_int_t)r->id, "node",
			 r->node_name, "transport", store_transport_name(r->transport), "address",
			 r->address, "port", (int)r->port, "auth_key_file",
			 opt_str(r->auth_key_file), "nqn", r->nqn, "lvol_uuid",
			 opt_str(r->lvol_uuid), "in_sync", r->in_sync, "generation",
			 (json_int_t)r->generation, "pending", r->pending);
}

json_t *cli_json_mapping(const struct store_mapping *m)
{
	return json_pack("{sI sI so sI ss ss ss sI sI}", "id", (json_int_t)m->id, "volume_id",
			 (json_int_t)m->volume_id, "volume", opt_str(m->volume_name), "host_id",
			 (json_int_t)m->host_id, "host", m->host_name, "vm_id", m->vm_id, "state",
			 store_mapping_state_name(m->state), "created_at",
			 (json_int_t)m->created_at, "updated_at", (json_int_t)m->updated_at);
}

json_t *cli_json_device(const struct store_device *d)
{
	return json_pack("{sI ss ss so}", "id", (json_int_t)d->id, "host", d->host_name, "bdf",
			 d->bdf, "inventory_id", opt_str(d->inventory_id));
}

json_t *cli_json_members(const char *members)
{
	json_t *a = json_array();
	const char *p = members;

	/* the daemon writes "bdev:state,bdev:state"; a bdev name may itself hold ':' */
	while (a && *p) {
		size_t len = strcspn(p, ",");
		const char *colon = NULL;

		for (const char *c = p; c < p + len; c++)
			if (*c == ':')
				colon = c;
		if (len)
			json_array_append_new(a,
					      json_pack("{ss# ss#}", "name", p,
							(int)(colon ? colon - p : (ptrdiff_t)len),
							"state", colon ? colon + 1 : "",
							(int)(colon ? p + len - colon - 1 : 0)));
		p += len + (p[len] == ',');
	}
	return a;
}

json_t *cli_json_last_error_at(const struct store_observation *o)
{
	return o->last_error[0] && o->last_error_at > 0 ? json_integer(o->last_error_at)
							: json_null();
}

json_t *cli_json_observation(const struct store_observation *o)
{
	return json_pack("{sI ss so si so so sI sb so}", "mapping_id", (json_int_t)o->mapping_id,
			 "raid_state", o->raid_state, "members", cli_json_members(o->members),
			 "rebuild_percent", o->rebuild_percent, "last_error",
			 opt_str(o->last_error), "last_error_at", cli_json_last_error_at(o),
			 "updated_at", (json_int_t)o->updated_at, "reset_in_progress",
			 o->reset_in_progress, "path_resets", opt_str(o->path_resets));
}
