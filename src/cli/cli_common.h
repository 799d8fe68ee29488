/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_CLI_COMMON_H
#define DISKENGINE_CLI_COMMON_H

/* Helpers shared by the operator commands: options, the database, errors, output. */

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "store/store.h"

/* Where the database is when neither --db nor DISKENGINE_DB says otherwise. */
#define CLI_DEFAULT_DB "/var/lib/diskengine/diskengine.db"

/* Options every verb understands; long option values below 0x100 are free for verbs. */
enum cli_common_opt {
	CLI_OPT_DB = 0x100,   /* --db URL */
	CLI_OPT_JSON = 0x101, /* --json */
	CLI_OPT_HELP = 'h',   /* --help, -h */
};

#define CLI_COMMON_OPTIONS                                                                         \
	{"db", required_argument, NULL, CLI_OPT_DB}, {"json", no_argument, NULL, CLI_OPT_JSON},    \
	{                                                                                          \
		"help", no_argument, NULL, CLI_OPT_HELP                                            \
	}

/* State of one command invocation. */
struct cli_ctx {
	const char *cmd; /* "host add": prefixes every error message */
	const char *db_url;
	bool json;
	bool help;
	struct store *store;
};

/* One verb of a noun: argv[0] is the verb; returns an enum cli_exit value. */
struct cli_verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage; /* "add NAME [--rdma-ip IP]..." */
	const char *help;  /* one line */
};

/*
 * Run the verb argv[1] of a noun (argv[0]); prints the noun's help for --help, no verb or an
 * unknown verb (exit 2 for the last two).
 */
int cli_dispatch(const char *noun, const struct cli_verb *verbs, size_t n, int argc, char **argv);

/*
 * Handle a common option inside a verb's getopt loop. Returns true if opt was one
 * (CLI_OPT_DB, CLI_OPT_JSON, CLI_OPT_HELP), false otherwise.
 */
bool cli_common_opt(struct cli_ctx *ctx, int opt, const char *arg);

/*
 * Parse a verb's options with getopt_long: common options are handled here, every other one is
 * passed to cb (which returns CLI_EXIT_OK or an exit code). On success *first_pos is the index of
 * the first positional argument. Returns CLI_EXIT_OK or an exit code (bad option: usage).
 */
int cli_getopt(struct cli_ctx *ctx, int argc, char **argv, const struct option *opts,
	       int (*cb)(struct cli_ctx *ctx, void *arg, int opt, const char *val), void *arg,
	       int *first_pos);

/*
 * Report the option getopt_long refused (opt is '?' or ':', as it returned it), naming the
 * argument as the operator typed it; returns CLI_EXIT_USAGE.
 */
int cli_option_error(struct cli_ctx *ctx, int opt, int argc, char **argv);

/* How a verb opens the store once its arguments are fine. */
enum cli_store_mode {
	CLI_STORE_OPEN = 0,	 /* open and apply migrations (write verbs) */
	CLI_STORE_NOMIGRATE = 1, /* open as is (db status / migrate) */
	CLI_STORE_NONE = 2,	 /* the verb opens nothing, or opens it later itself */
	CLI_STORE_READ = 3,	 /* open to read: no migration, the schema must be current */
};

/* What a verb accepts before it runs. */
struct cli_verb_spec {
	const char *noun;	     /* "host" */
	const struct cli_verb *verb; /* usage and help line for --help */
	const char *detail;	     /* the verb's own options for --help; NULL: none */
	const struct option *opts;   /* CLI_COMMON_OPTIONS included */
	int (*opt_cb)(struct cli_ctx *ctx, void *arg, int opt, const char *val);
	void *opt_arg;
	int min_args, max_args;	   /* positional arguments; max_args < 0: no limit */
	const char *args_hint;	   /* "expected one host NAME" when their number is wrong */
	enum cli_store_mode store; /* what to open at the end */
};

/*
 * The start every verb shares: options (cli_getopt), --help, the number of positional arguments,
 * then the store. Returns CLI_EXIT_OK with *first_pos at the first positional argument and the
 * store open as asked, or the code the verb must return at once -- CLI_EXIT_OK after printing
 * --help, with ctx->help set, so callers return when rc != CLI_EXIT_OK || ctx->help.
 */
int cli_verb_start(struct cli_ctx *ctx, const struct cli_verb_spec *spec, int argc, char **argv,
		   int *first_pos);

/* Print the verb's usage and detail text to stdout (for --help) and return CLI_EXIT_OK. */
int cli_verb_help(const char *noun, const struct cli_verb *v, const char *detail);

/* Print "diskengine CMD: message (see ... --help)" on one line; return CLI_EXIT_USAGE. */
int cli_usage_error(struct cli_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Open the store (URL from --db, DISKENGINE_DB, or the default path). Returns an exit code. */
int cli_store_open(struct cli_ctx *ctx);
/* Like cli_store_open but without applying migrations. */
int cli_store_open_nomigrate(struct cli_ctx *ctx);
/* For read verbs: never changes the schema, so a role with read rights only will do. */
int cli_store_open_read(struct cli_ctx *ctx);
void cli_store_close(struct cli_ctx *ctx);

/* Map a store errno to an exit code (docs/cli.md lists them). */
int cli_exit_code(int err);

/*
 * Defaults of the commands that reach SPDK and the database by themselves (rpc, diagnose,
 * graph, device): $DISKENGINE_DB else CLI_DEFAULT_DB, $SPDK_RPC_SOCK else SPDK's default
 * socket; an empty variable counts as unset.
 */
const char *cli_env_db(void);
const char *cli_env_spdk_sock(void);

/* Print err to stderr, prefixed with the command; return its exit code. */
int cli_fail(struct cli_ctx *ctx, const struct store_error *err);

/* Print a JSON value to stdout (indented) and free it; CLI_EXIT_OK. */
int cli_json_print(json_t *v);

/* "10G", "512M", or plain bytes when no binary unit divides the size. */
void cli_format_size(uint64_t bytes, char *buf, size_t size);

/* "2026-11-23 21:54:47" (UTC), or "-" for 0. */
void cli_format_time(int64_t t, char *buf, size_t size);

/* JSON objects for the store's structs. */
json_t *cli_json_host(const struct store_host *h);
json_t *cli_json_node(const struct store_node *n);
json_t *cli_json_volume(const struct store_volume *v);
json_t *cli_json_replica(const struct store_replica *r);
json_t *cli_json_mapping(const struct store_mapping *m);
json_t *cli_json_device(const struct store_device *d);
json_t *cli_json_observation(const struct store_observation *o);
/* The daemon's "bdev:state,bdev:state" as [{"name": ..., "state": ...}, ...]. */
json_t *cli_json_members(const char *members);
/* When the last error happened, or null when there is none. */
json_t *cli_json_last_error_at(const struct store_observation *o);

/* An aligned text table; columns sized to their widest cell. */
struct cli_table;
struct cli_table *cli_table_new(size_t ncols, const char *const *headers);
/* Append a row of ncols cells (copied; NULL prints as "-"). */
void cli_table_add(struct cli_table *t, const char *const *cells);
void cli_table_print(const struct cli_table *t, FILE *f);
void cli_table_free(struct cli_table *t);

#endif
