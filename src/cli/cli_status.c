/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `diskengine status`: for every live mapping (or every mapping with --all), its database state
 * and what its host last observed: RAID state, members, rebuild progress, last error.
 */
#include "cli/cli.h"
#include "cli/cli_common.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_common.h"
#include "common/util.h"
#include "store/store.h"

struct status_opts {
	const char *db;
	const char *host;
	const char *volume;
	bool json;
	bool all;
};

static void status_usage(FILE *f)
{
	fprintf(f, "usage: diskengine status [--db URL] [--host NAME] [--volume REF] [--all] "
		   "[--json]\n"
		   "  --db URL      database (default: $DISKENGINE_DB, else "
		   "/var/lib/diskengine/diskengine.db)\n"
		   "  --host NAME   only mappings on this host\n"
		   "  --volume REF  only mappings of this volume (name or id)\n"
		   "  --all         include DETACHED mappings\n"
		   "  --json        one JSON document instead of a table\n");
}

static int status_parse(int argc, char **argv, struct status_opts *o)
{
	static const struct option lopts[] = {
		{"db", required_argument, NULL, 'd'},
		{"host", required_argument, NULL, 'H'},
		{"volume", required_argument, NULL, 'v'},
		{"json", no_argument, NULL, 'j'},
		{"all", no_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_ctx ctx = {.cmd = "status"};
	int c;

	o->db = getenv("DISKENGINE_DB");
	if (!o->db || !*o->db)
		o->db = "/var/lib/diskengine/diskengine.db";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", lopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->db = optarg;
			break;
		case 'H':
			o->host = optarg;
			break;
		case 'v':
			o->volume = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'a':
			o->all = true;
			break;
		case 'h':
			status_usage(stdout);
			return 1;
		default:
			cli_option_error(&ctx, c == ':' ? ':' : '?', argc, argv);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "diskengine status: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static json_t *status_json(const struct store_mapping *m, const struct store_observation *obs)
{
	json_t *j = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s}", "mapping", (json_int_t)m->id,
			      "volume_id", (json_int_t)m->volume_id, "volume", m->volume_name,
			      "host", m->host_name, "vm", m->vm_id, "state",
			      store_mapping_state_name(m->state));

	if (!j)
		return NULL;
	if (obs) {
		json_object_set_new(j, "raid_state",
				    obs->raid_state[0] ? json_string(obs->raid_state)
						       : json_null());
		json_object_set_new(j, "members", cli_json_members(obs->members));
		json_object_set_new(j, "rebuild_percent",
				    obs->rebuild_percent >= 0 ? json_integer(obs->rebuild_percent)
							      : json_null());
		json_object_set_new(j, "last_error",
				    obs->last_error[0] ? json_string(obs->last_error)
						       : json_null());
		json_object_set_new(j, "last_error_at", cli_json_last_error_at(obs));
		json_object_set_new(j, "reset_in_progress", json_boolean(obs->reset_in_progress));
		json_object_set_new(j, "path_resets",
				    obs->path_resets[0] ? json_string(obs->path_resets)
							: json_null());
		json_object_set_new(j, "observed_at", json_integer(obs->updated_at));
	} else {
		json_object_set_new(j, "raid_state", json_null());
		json_object_set_new(j, "observed_at", json_null());
	}
	return j;
}

static void status_row(const struct store_mapping *m, const struct store_observation *obs)
{
	char rebuild[16] = "-";
	const char *vol = m->volume_name[0] ? m->volume_name : "-";

	if (obs && obs->rebuild_percent >= 0)
		snprintf(rebuild, sizeof(rebuild), "%d%%", obs->rebuild_percent);
	printf("%-7lld %-16s %-12s %-12s %-16s %-10s %-8s %-40s %s%s\n", (long long)m->id, vol,
	       m->host_name, m->vm_id[0] ? m->vm_id : "-", store_mapping_state_name(m->state),
	       obs && obs->raid_state[0] ? obs->raid_state : "-", rebuild,
	       obs && obs->members[0] ? obs->members : "-",
	       obs && obs->reset_in_progress ? "[controller reset in progress] " : "",
	       obs && obs->last_error[0]       ? obs->last_error
	       : obs && obs->reset_in_progress ? ""
					       : "-");
}

int cli_status_main(int argc, char **argv)
{
	struct status_opts o = {0};
	struct store_error err = {0};
	struct store *store = NULL;
	struct store_mapping *maps = NULL;
	size_t n = 0;
	int r, rc = CLI_EXIT_OK;

	r = status_parse(argc, argv, &o);
	if (r != 0)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	/* A read: a role without schema rights must be able to run it. */
	r = store_open_read(o.db, &store, &err);
	if (r < 0) {
		fprintf(stderr, "diskengine status: %s\n", err.message);
		return cli_exit_code(r);
	}
	struct store_mapping_filter filter = {.include_detached = o.all};
	if (o.host) {
		struct store_host h;
		r = store_host_get(store, o.host, &h, &err);
		if (r < 0)
			goto fail;
		filter.host_id = h.id;
	}
	if (o.volume) {
		struct store_volume v;
		r = store_volume_get(store, o.volume, &v, &err);
		if (r < 0)
			goto fail;
		filter.volume_id = v.id;
	}
	r = store_mapping_list(store, &filter, &maps, &n, &err);
	if (r < 0)
		goto fail;

	json_t *arr = o.json ? json_array() : NULL;
	if (!o.json)
		printf("%-7s %-16s %-12s %-12s %-16s %-10s %-8s %-40s %s\n", "MAPPING", "VOLUME",
		       "HOST", "VM", "STATE", "RAID", "REBUILD", "MEMBERS", "LAST ERROR");
	for (size_t i = 0; i < n; i++) {
		struct store_observation obs;
		struct store_error oerr = {0};
		int g = store_observation_get(store, maps[i].id, &obs, &oerr);

		if (g < 0 && g != -ENOENT) {
			fprintf(stderr, "diskengine status: mapping %lld: %s\n",
				(long long)maps[i].id, oerr.message);
			rc = cli_exit_code(g);
			continue;
		}
		if (o.json)
			json_array_append_new(arr, status_json(&maps[i], g == 0 ? &obs : NULL));
		else
			status_row(&maps[i], g == 0 ? &obs : NULL);
	}
	if (o.json) {
		json_t *doc = json_pack("{s:o}", "mappings", arr);
		json_dumpf(doc, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(doc);
	}
	free(maps);
	store_close(store);
	return rc;
fail:
	fprintf(stderr, "diskengine status: %s\n", err.message);
	store_close(store);
	return cli_exit_code(r);
}
