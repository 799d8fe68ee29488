/* SPDX-License-Identifier: Apache-2.0 */
#include "daemon/daemon_spdk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/spdk_conn.h"

struct daemon_spdk {
	const struct daemon_config *cfg;
	struct spdk_conn *conn;
};

int daemon_spdk_open(const struct daemon_config *cfg, struct daemon_spdk **out, char *errbuf,
		     size_t errlen)
{
	struct daemon_spdk *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->cfg = cfg;
	r = spdk_conn_open(cfg->spdk_sock, &s->conn);
	if (r < 0) {
		snprintf(errbuf, errlen, "connect %s: %s", cfg->spdk_sock, strerror(-r));
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

void daemon_spdk_close(struct daemon_spdk *s)
{
	if (!s)
		return;
	spdk_conn_close(s->conn);
	free(s);
}

bool daemon_spdk_closed(struct daemon_spdk *s)
{
	return spdk_conn_closed(s->conn);
}

struct spdk_conn *daemon_spdk_conn(struct daemon_spdk *s)
{
	return s->conn;
}

/* One call with the configured timeout; message names the method on failure. */
static int call(struct daemon_spdk *s, const char *method, json_t *params, json_t **result,
		char *errbuf, size_t errlen)
{
	struct spdk_conn_error e = {0};
	int r = spdk_conn_call(s->conn, method, params, s->cfg->rpc_timeout_ms, result, &e);

	if (r == -EREMOTEIO)
		snprintf(errbuf, errlen, "%s: SPDK error %d: %s", method, e.code, e.message);
	else if (r < 0)
		snprintf(errbuf, errlen, "%s: %s", method, strerror(-r));
	return r;
}

static bool list_has(json_t *arr, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
			return true;
	return false;
}

/*
 * Replay the calls of the saved config that SPDK accepts before init (the methods it lists as
 * current in that state), in the file's order. Everything else is rebuilt from the database.
 */
static int replay_preinit(struct daemon_spdk *s, const char *path, json_t *current, char *errbuf,
			  size_t errlen)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr);
	json_t *subs, *sub, *entry;
	size_t i, j;
	unsigned n = 0, skipped = 0;
	int r = 0;

	if (!doc) {
		if (access(path, F_OK) != 0) {
			log_info("no saved SPDK config at %s: starting with SPDK's defaults", path);
			return 0;
		}
		snprintf(errbuf, errlen, "saved config %s:%d: %s", path, jerr.line, jerr.text);
		return -EINVAL;
	}
	subs = json_object_get(doc, "subsystems");
	json_array_foreach(subs, i, sub) {
		json_array_foreach(json_object_get(sub, "config"), j, entry) {
			const char *m = json_string_value(json_object_get(entry, "method"));
			json_t *params = json_object_get(entry, "params");

			if (!m || !list_has(current, m) || strcmp(m, "framework_start_init") == 0 ||
			    strcmp(m, "framework_wait_init") == 0)
				continue;
			r = call(s, m, params ? json_incref(params) : NULL, NULL, errbuf, errlen);
			if (r == -EREMOTEIO) {
				/* An option this SPDK refuses must not keep every VM's disk away:
				 * start with SPDK's default for it and say so. */
				log_warn("saved config %s: %s; continuing without it", path, errbuf);
				skipped++;
				r = 0;
				continue;
			}
			if (r < 0)
				goto out;
			n++;
		}
	}
	log_info("replayed %u pre-init calls from %s (%u refused)", n, path, skipped);
out:
	json_decref(doc);
	return r;
}

int daemon_spdk_start(struct daemon_spdk *s, const char *saved_config, bool *was_initialised,
		      char *errbuf, size_t errlen)
{
	json_t *current = NULL;
	int r;

	r = call(s, "rpc_get_methods", json_pack("{s:b}", "current", 1), &current, errbuf, errlen);
	if (r < 0)
		return r;
	/* framework_start_init is callable only before init. */
	bool init = !list_has(current, "framework_start_init");
	if (!init) {
		r = replay_preinit(s, saved_config, current, errbuf, errlen);
		if (r == 0)
			r = call(s, "framework_start_init", NULL, NULL, errbuf, errlen);
	}
	json_decref(current);
	if (r < 0)
		return r;
	r = call(s, "framework_wait_init", NULL, NULL, errbuf, errlen);
	if (r < 0)
		return r;
	if (was_initialised)
		*was_initialised = init;
	return 0;
}

int daemon_spdk_save_config(struct daemon_spdk *s, const char *path, char *errbuf, size_t errlen)
{
	json_t *subs = NULL, *doc = NULL, *arr, *sub;
	char *text = NULL;
	size_t i;
	int r;

	r = call(s, "framework_get_subsystems", NULL, &subs, errbuf, errlen);
	if (r < 0)
		return r;
	arr = json_array();
	doc = json_pack("{s:o}", "subsystems", arr);
	json_array_foreach(subs, i, sub) {
		const char *name = json_string_value(json_object_get(sub, "subsystem"));
		json_t *cfg = NULL;

		if (!name)
			continue;
		r = call(s, "framework_get_config", json_pack("{s:s}", "name", name), &cfg, errbuf,
			 errlen);
		if (r < 0)
			goto out;
		json_array_append_new(arr, json_pack("{s:s, s:o}", "subsystem", name, "config",
						     cfg ? cfg : json_null()));
	}
	text = json_dumps(doc, JSON_INDENT(2));
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	r = util_write_file_atomic(path, text, strlen(text), 0644);
	if (r < 0)
		snprintf(errbuf, errlen, "write %s: %s", path, strerror(-r));
out:
	free(text);
	json_decref(doc);
	json_decref(subs);
	return r;
}
