/* SPDX-License-Identifier: Apache-2.0 */
/* diskengine db migrate | status */
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "common/util.h"

static int db_migrate(int argc, char **argv);
static int db_status(int argc, char **argv);

static const struct cli_verb verbs[] = {
	{"migrate", db_migrate, "migrate",
	 "bring the database schema up to date (every write command also does this at start)"},
	{"status", db_status, "status", "show the backend and the schema version"},
};

static int db_run(int argc, char **argv, int v, bool migrate)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};
	struct cli_ctx ctx = {.cmd = migrate ? "db migrate" : "db status"};
	struct store_error err = {0};
	int pos, rc, applied = 0, cur = 0, latest = 0;

	const struct cli_verb_spec spec = {
		.noun = "db", .verb = &verbs[v], .opts = opts, .store = CLI_STORE_NOMIGRATE};

	rc = cli_verb_start(&ctx, &spec, argc, argv, &pos);
	if (rc != CLI_EXIT_OK || ctx.help)
		return rc;
	if ((migrate && store_migrate(ctx.store, &applied, &err) < 0) ||
	    store_schema_version(ctx.store, &cur, &latest, &err) < 0) {
		rc = cli_fail(&ctx, &err);
	} else if (ctx.json) {
		json_t *o = json_pack("{ss si si si}", "backend", store_backend_name(ctx.store),
				      "schema_version", cur, "latest_version", latest, "pending",
				      latest > cur ? latest - cur : 0);

		if (migrate)
			json_object_set_new(o, "applied", json_integer(applied));
		cli_json_print(o);
	} else if (migrate) {
		printf("%s: applied %d migration(s); schema version %d\n",
		       store_backend_name(ctx.store), applied, cur);
	} else {
		printf("backend:        %s\nschema version: %d\nlatest:         %d\n",
		       store_backend_name(ctx.store), cur, latest);
		/* status leaves the schema as it is; a write command would migrate it */
		if (cur < latest)
			printf("pending:        %d migration(s); 'diskengine db migrate' or any "
			       "write command applies them\n",
			       latest - cur);
	}
	cli_store_close(&ctx);
	return rc;
}

static int db_migrate(int argc, char **argv)
{
	return db_run(argc, argv, 0, true);
}

static int db_status(int argc, char **argv)
{
	return db_run(argc, argv, 1, false);
}

int cli_db_main(int argc, char **argv)
{
	return cli_dispatch("db", verbs, ARRAY_SIZE(verbs), argc, argv);
}
