/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The saved config against live SPDK, call by call. The daemon replays only the pre-init options
 * of the saved config (docs/operations.md); the objects in it (controllers, vhosts, keys, QoS)
 * are never replayed, because the database is the authority and a replayed object would race the
 * pass that builds it. So a difference in an object is a replay artefact: the file is older or
 * newer than SPDK, and the daemon's next save rewrites it. A difference in an option matters at
 * the next SPDK restart, which replays the saved value: that is what the item says.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/drift_internal.h"
#include "rpc/spdk.h"

/* One {method, params} call of a config document, and what it is about. */
struct call {
	char key[2 * MODEL_NAME_MAX]; /* method + what it names: the identity compared */
	const char *kind;
	char object[MODEL_NAME_MAX];
	json_t *call; /* borrowed from the document */
};

struct calls {
	struct call *v;
	size_t n;
};

static const char *str(json_t *params, const char *field)
{
	const char *s = json_string_value(json_object_get(params, field));

	return s ? s : "";
}

/* What a call is about: the object it creates, or the option it sets. */
static void call_identify(struct call *c, const char *method, json_t *params)
{
	if (!strcmp(method, "bdev_nvme_attach_controller")) {
		/* one call per path: a multipath controller has several */
		c->kind = "controller";
		snprintf(c->object, sizeof(c->object), "%s", str(params, "name"));
		snprintf(c->key, sizeof(c->key), "%s %s %s:%s %s", method, c->object,
			 str(params, "traddr"), str(params, "trsvcid"), str(params, "subnqn"));
		return;
	}
	if (!strcmp(method, "vhost_create_blk_controller")) {
		c->kind = "vhost";
		snprintf(c->object, sizeof(c->object), "%s", str(params, "ctrlr"));
	} else if (!strcmp(method, "bdev_raid_create")) {
		c->kind = "raid";
		snprintf(c->object, sizeof(c->object), "%s", str(params, "name"));
	} else if (!strcmp(method, "keyring_file_add_key")) {
		c->kind = "key";
		snprintf(c->object, sizeof(c->object), "%s", str(params, "name"));
	} else if (!strcmp(method, "bdev_set_qos_limit")) {
		c->kind = "qos";
		snprintf(c->object, sizeof(c->object), "%s", str(params, "name"));
	} else {
		/* options, and objects of other modules: named by what they name, if anything */
		const char *id = str(params, "name");

		if (!*id)
			id = str(params, "impl_name");
		if (!*id)
			id = str(params, "nqn");
		c->kind = rpc_config_method_is_preinit(method) || strstr(method, "_set_options") ||
					  strstr(method, "_set_scheduler")
				  ? "option"
				  : "call";
		snprintf(c->object, sizeof(c->object), "%s%s%s", method, *id ? " " : "", id);
	}
	snprintf(c->key, sizeof(c->key), "%s %s", method, c->object);
}

static int cmp_call(const void *a, const void *b)
{
	return strcmp(((const struct call *)a)->key, ((const struct call *)b)->key);
}

/* The calls of a document {"subsystems": [{"subsystem", "config": [...]}]}, sorted by key. */
static int calls_parse(json_t *doc, struct calls *out, char *err, size_t errlen)
{
	json_t *subs = json_object_get(doc, "subsystems"), *s, *cfg, *call;
	size_t i, j, n = 0;
	struct calls c = {0};

	if (!json_is_array(subs)) {
		snprintf(err, errlen, "no \"subsystems\" array");
		return -EBADMSG;
	}
	json_array_foreach(subs, i, s)
	{
		cfg = json_object_get(s, "config");
		n += json_is_array(cfg) ? json_array_size(cfg) : 0;
	}
	c.v = calloc(n ? n : 1, sizeof(*c.v));
	if (!c.v)
		return -ENOMEM;
	json_array_foreach(subs, i, s)
	{
		cfg = json_object_get(s, "config");
		if (!json_is_object(s) || (!json_is_array(cfg) && !json_is_null(cfg) && cfg)) {
			snprintf(err, errlen,
				 "subsystem %zu is not {\"subsystem\", \"config\": [...]}", i);
			free(c.v);
			return -EBADMSG;
		}
		json_array_foreach(cfg, j, call)
		{
			const char *method = json_string_value(json_object_get(call, "method"));

			if (!method) {
				snprintf(err, errlen, "subsystem %s: call %zu has no method",
					 str(s, "subsystem"), j);
				free(c.v);
				return -EBADMSG;
			}
			c.v[c.n].call = call;
			call_identify(&c.v[c.n++], method, json_object_get(call, "params"));
		}
	}
	qsort(c.v, c.n, sizeof(*c.v), cmp_call);
	*out = c;
	return 0;
}

/* The params whose values differ, as "a, b" (names only: the evidence has the values). */
static void fields_differ(json_t *a, json_t *b, char *buf, size_t size)
{
	const char *k;
	json_t *v;
	size_t used = 0;

	buf[0] = '\0';
	json_object_foreach(a, k, v)
	{
		if (!json_equal(v, json_object_get(b, k)) && used + 1 < size)
			used += snprintf(buf + used, size - used, "%s%s", used ? ", " : "", k);
	}
	json_object_foreach(b, k, v)
	{
		if (!json_object_get(a, k) && used + 1 < size)
			used += snprintf(buf + used, size - used, "%s%s", used ? ", " : "", k);
	}
}

/* Add a call to evidence[field] (an array of calls). */
static void evidence_call(struct drift_item *it, const char *field, json_t *call)
{
	json_t *arr = json_object_get(it->evidence, field);

	if (!json_is_array(arr)) {
		arr = json_array();
		json_object_set_new(it->evidence, field, arr);
	}
	if (call)
		json_array_append(arr, call);
}

static int differ(struct drift_report *out, const struct call *saved, const struct call *live)
{
	const struct call *c = saved ? saved : live;
	bool option = !strcmp(c->kind, "option");
	struct drift_item *it = drift_find(out, c->kind, c->object);
	char fields[PLAN_MSG_MAX];

	if (!it && !strcmp(c->kind, "controller"))
		it = drift_find(out, "path", c->object);
	if (it) {
		/* drift_live told it already: the saved config is more evidence */
		evidence_call(it, "saved", saved ? saved->call : NULL);
		return 0;
	}
	it = drift_add(out, DRIFT_REPLAY_ARTEFACT, c->kind, c->object);
	if (!it)
		return -ENOMEM;
	evidence_call(it, "saved", saved ? saved->call : NULL);
	evidence_call(it, "live_config", live ? live->call : NULL);
	if (saved && live) {
		fields_differ(json_object_get(saved->call, "params"),
			      json_object_get(live->call, "params"), fields, sizeof(fields));
		drift_text(it->detail, sizeof(it->detail),
			   "the saved config's %s differs from live SPDK's in: %s", c->object,
			   fields);
	} else if (saved) {
		drift_text(it->detail, sizeof(it->detail),
			   "the saved config has %s, live SPDK does not", c->object);
	} else {
		drift_text(it->detail, sizeof(it->detail),
			   "live SPDK has %s, the saved config does not yet", c->object);
	}
	if (option)
		drift_text(it->next, sizeof(it->next),
			   "harmless now; an SPDK restart replays the saved %s until the daemon's "
			   "next save (after its next change) writes the live one",
			   rpc_config_method_is_preinit(
				   json_string_value(json_object_get(c->call, "method")))
				   ? "value"
				   : "state (this call is not replayed by the daemon)");
	else
		drift_text(it->next, sizeof(it->next),
			   "harmless: the daemon never replays objects from the saved config (the "
			   "database is the authority); its next save rewrites the file");
	return 0;
}

static int config_item(struct drift_report *out, enum drift_class cls, const char *path,
		       const char *detail, const char *next)
{
	struct drift_item *it = drift_add(out, cls, "config", path);

	if (!it)
		return -ENOMEM;
	drift_text(it->detail, sizeof(it->detail), "%s", detail);
	drift_text(it->next, sizeof(it->next), "%s", next);
	json_object_set_new(it->evidence, "saved", json_null());
	return 0;
}

int drift_saved(const char *saved_doc, const char *path, const char *live_doc,
		struct drift_report *out)
{
	json_t *sdoc = NULL, *ldoc;
	struct calls s = {0}, l = {0};
	json_error_t jerr;
	char err[256], detail[PLAN_MSG_MAX];
	size_t i = 0, j = 0;
	int r;

	ldoc = json_loads(live_doc, 0, &jerr);
	if (!ldoc)
		return -EBADMSG;
	r = calls_parse(ldoc, &l, err, sizeof(err));
	if (r < 0)
		goto out;
	if (!saved_doc) {
		r = config_item(
			out, DRIFT_REPLAY_ARTEFACT, path, "there is no saved config",
			"the daemon writes it after its next change; an SPDK restart before "
			"then starts with SPDK's default options");
		goto out;
	}
	sdoc = json_loads(saved_doc, 0, &jerr);
	if (sdoc)
		r = calls_parse(sdoc, &s, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "line %d: %s", jerr.line, jerr.text);
	if (!sdoc || r == -EBADMSG) {
		drift_text(detail, sizeof(detail), "the saved config is not an SPDK config: %s",
			   err);
		r = config_item(out, DRIFT_CONFLICT, path, detail,
				"a person must look: an SPDK restart cannot replay its options "
				"from it; the daemon replaces it at its next save");
		goto out;
	}
	if (r < 0)
		goto out;
	while (r == 0 && (i < s.n || j < l.n)) {
		int c = i == s.n ? 1 : j == l.n ? -1 : strcmp(s.v[i].key, l.v[j].key);

		if (c == 0) {
			json_t *sp = json_object_get(s.v[i].call, "params");
			json_t *lp = json_object_get(l.v[j].call, "params");
			struct drift_item *it = drift_find(out, s.v[i].kind, s.v[i].object);

			if (!json_equal(sp, lp) && !(sp == NULL && lp == NULL))
				r = differ(out, &s.v[i], &l.v[j]);
			else if (it)
				evidence_call(it, "saved", s.v[i].call);
			i++;
			j++;
		} else if (c < 0) {
			r = differ(out, &s.v[i++], NULL);
		} else {
			r = differ(out, NULL, &l.v[j++]);
		}
	}
out:
	free(s.v);
	free(l.v);
	json_decref(sdoc);
	json_decref(ldoc);
	return r;
}
