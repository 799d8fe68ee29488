/* SPDX-License-Identifier: Apache-2.0 */
/* Framework calls: version, method lists, init, subsystems, and save_config assembled locally. */
#include <errno.h>
#include <string.h>

#include "rpc/rpc_internal.h"

static const char *const preinit_methods[] = {
	"framework_set_scheduler", "sock_set_default_impl", "sock_impl_set_options",
	"iobuf_set_options",	   "accel_set_options",	    "bdev_set_options",
	"bdev_raid_set_options",   "bdev_nvme_set_options",
};

int rpc_decode_version(json_t *res, struct rpc_version *out, struct rpc_error *err)
{
	static const char *const m = "spdk_get_version";
	struct rpc_version v = {0};
	json_t *f;
	int r;

	r = rpc_dec_expect(res, JSON_OBJECT, "result", m, err);
	if (r == 0)
		r = rpc_dec_str(res, "version", true, &v.version, m, err);
	f = json_object_get(res, "fields");
	if (r == 0)
		r = rpc_dec_expect(f, JSON_OBJECT, "field 'fields'", m, err);
	if (r == 0)
		r = rpc_dec_int(f, "major", true, &v.major, m, err);
	if (r == 0)
		r = rpc_dec_int(f, "minor", true, &v.minor, m, err);
	if (r == 0)
		r = rpc_dec_int(f, "patch", true, &v.patch, m, err);
	if (r == 0)
		r = rpc_dec_str(f, "suffix", false, &v.suffix, m, err);
	if (r == 0)
		r = rpc_dec_str(f, "commit", false, &v.commit, m, err);
	if (r < 0) {
		rpc_version_free(&v);
		return r;
	}
	*out = v;
	return 0;
}

void rpc_version_free(struct rpc_version *v)
{
	if (!v)
		return;
	free(v->version);
	free(v->suffix);
	free(v->commit);
	memset(v, 0, sizeof(*v));
}

int rpc_spdk_get_version(struct rpc_client *c, struct rpc_version *out, struct rpc_error *err)
{
	json_t *res = NULL;
	int r;

	r = rpc_call_json(c, "spdk_get_version", NULL, rpc_client_timeout_ms(c), &res, err);
	if (r < 0)
		return r;
	r = rpc_decode_version(res, out, err);
	json_decref(res);
	return r;
}

int rpc_get_methods(struct rpc_client *c, bool current, struct rpc_strv *out, struct rpc_error *err)
{
	json_t *p = current ? json_pack("{s:b}", "current", 1) : NULL;
	json_t *res = NULL;
	int r;

	r = rpc_call_json(c, "rpc_get_methods", p, rpc_client_timeout_ms(c), &res, err);
	json_decref(p);
	if (r < 0)
		return r;
	r = rpc_decode_strv(res, "rpc_get_methods", out, err);
	json_decref(res);
	return r;
}

int rpc_framework_start_init(struct rpc_client *c, struct rpc_error *err)
{
	return rpc_call_true(c, "framework_start_init", NULL, err);
}

int rpc_framework_wait_init(struct rpc_client *c, struct rpc_error *err)
{
	return rpc_call_true(c, "framework_wait_init", NULL, err);
}

void rpc_subsystem_list_free(struct rpc_subsystem_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		rpc_strv_free(&l->v[i].depends_on);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int decode_subsystem(json_t *e, void *elem, struct rpc_error *err)
{
	static const char *const m = "framework_get_subsystems";
	struct rpc_subsystem *s = elem;
	int r;

	r = rpc_dec_expect(e, JSON_OBJECT, "result entry", m, err);
	if (r == 0)
		r = rpc_dec_str(e, "subsystem", true, &s->name, m, err);
	if (r == 0)
		r = rpc_dec_strv(json_object_get(e, "depends_on"), "field 'depends_on'",
				 &s->depends_on, m, err);
	return r;
}

int rpc_decode_subsystems(json_t *res, struct rpc_subsystem_list *out, struct rpc_error *err)
{
	struct rpc_subsystem_list l = {0};
	void *v;
	int r;

	r = rpc_dec_list(res, "result", "framework_get_subsystems", sizeof(*l.v), decode_subsystem,
			 &v, &l.n, err);
	l.v = v;
	if (r < 0) {
		rpc_subsystem_list_free(&l);
		return r;
	}
	*out = l;
	return 0;
}

int rpc_framework_get_subsystems(struct rpc_client *c, struct rpc_subsystem_list *out,
				 struct rpc_error *err)
{
	json_t *res = NULL;
	int r;

	r = rpc_call_json(c, "framework_get_subsystems", NULL, rpc_client_timeout_ms(c), &res, err);
	if (r < 0)
		return r;
	r = rpc_decode_subsystems(res, out, err);
	json_decref(res);
	return r;
}

/* One subsystem's config; must be an array of objects or null. New reference in *out. */
static int get_config_json(struct rpc_client *c, const char *name, json_t **out,
			   struct rpc_error *err)
{
	static const char *const m = "framework_get_config";
	json_t *p = rpc_par_strs("name", name, NULL);
	json_t *res = NULL;
	int r;

	r = rpc_call_json(c, m, p, rpc_client_timeout_ms(c), &res, err);
	json_decref(p);
	if (r < 0)
		return r;
	if (!json_is_null(res) && !json_is_array(res)) {
		json_decref(res);
		return rpc_error_set(err, -EBADMSG, m,
				     "malformed answer: config of %s is neither an array nor null",
				     name);
	}
	*out = res;
	return 0;
}

int rpc_framework_get_config(struct rpc_client *c, const char *name, char **config_json,
			     struct rpc_error *err)
{
	json_t *res = NULL;
	char *text;
	int r;

	r = get_config_json(c, name, &res, err);
	if (r < 0)
		return r;
	text = json_dumps(res, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(res);
	if (!text)
		return rpc_error_set(err, -ENOMEM, "framework_get_config", "out of memory");
	*config_json = text;
	return 0;
}

int rpc_save_config(struct rpc_client *c, char **doc_json, struct rpc_error *err)
{
	struct rpc_subsystem_list subs;
	json_t *doc, *arr;
	char *text = NULL;
	int r;

	r = rpc_framework_get_subsystems(c, &subs, err);
	if (r < 0)
		return r;
	arr = json_array();
	doc = json_pack("{s:o}", "subsystems", arr);
	for (size_t i = 0; i < subs.n && r == 0; i++) {
		json_t *cfg = NULL;

		r = get_config_json(c, subs.v[i].name, &cfg, err);
		if (r == 0)
			json_array_append_new(arr, json_pack("{s:s, s:o}", "subsystem",
							     subs.v[i].name, "config", cfg));
	}
	rpc_subsystem_list_free(&subs);
	if (r == 0) {
		text = json_dumps(doc, JSON_INDENT(2));
		if (!text)
			r = rpc_error_set(err, -ENOMEM, "save_config", "out of memory");
	}
	json_decref(doc);
	if (r == 0)
		*doc_json = text;
	return r;
}

bool rpc_config_method_is_preinit(const char *method)
{
	for (size_t i = 0; i < sizeof(preinit_methods) / sizeof(preinit_methods[0]); i++)
		if (strcmp(method, preinit_methods[i]) == 0)
			return true;
	return false;
}

/* With the methods SPDK accepts now, rpc.py's rule; without, the fixed set. */
static bool wanted(const char *method, const struct rpc_strv *current)
{
	if (!current)
		return rpc_config_method_is_preinit(method);
	/* the replay's caller starts the framework itself, after the replay */
	return rpc_strv_has(current, method) && strcmp(method, "framework_start_init") != 0 &&
	       strcmp(method, "framework_wait_init") != 0;
}

/* The pre-init calls of a saved document as a new array of {method, params}. */
static int preinit_calls(const char *doc_json, const struct rpc_strv *current, json_t **out,
			 struct rpc_error *err)
{
	static const char *const m = "config";
	json_error_t jerr;
	json_t *doc, *subs, *calls;
	size_t i, j;

	doc = json_loads(doc_json, 0, &jerr);
	if (!doc)
		return rpc_error_set(err, -EINVAL, m, "saved config is not JSON: %s (line %d)",
				     jerr.text, jerr.line);
	subs = json_object_get(doc, "subsystems");
	if (!json_is_array(subs)) {
		json_decref(doc);
		return rpc_error_set(err, -EINVAL, m, "saved config has no \"subsystems\" array");
	}
	calls = json_array();
	for (i = 0; i < json_array_size(subs); i++) {
		json_t *cfg = json_object_get(json_array_get(subs, i), "config");

		if (json_is_null(cfg) || !cfg)
			continue;
		if (!json_is_array(cfg)) {
			json_decref(calls);
			json_decref(doc);
			return rpc_error_set(err, -EINVAL, m,
					     "saved config: subsystems[%zu].config is not an array",
					     i);
		}
		for (j = 0; j < json_array_size(cfg); j++) {
			json_t *call = json_array_get(cfg, j);
			json_t *meth = json_object_get(call, "method");

			if (!json_is_string(meth)) {
				json_decref(calls);
				json_decref(doc);
				return rpc_error_set(err, -EINVAL, m,
						     "saved config: subsystems[%zu].config[%zu] "
						     "has no method",
						     i, j);
			}
			if (wanted(json_string_value(meth), current))
				json_array_append(calls, call);
		}
	}
	json_decref(doc);
	*out = calls;
	return 0;
}

int rpc_config_preinit_calls(const char *doc_json, char **calls_json, struct rpc_error *err)
{
	json_t *calls = NULL;
	char *text;
	int r;

	r = preinit_calls(doc_json, NULL, &calls, err);
	if (r < 0)
		return r;
	text = json_dumps(calls, JSON_COMPACT);
	json_decref(calls);
	if (!text)
		return rpc_error_set(err, -ENOMEM, "config", "out of memory");
	*calls_json = text;
	return 0;
}

int rpc_config_replay_preinit(struct rpc_client *c, const char *doc_json,
			      const struct rpc_strv *current, rpc_replay_refused_fn on_refused,
			      void *arg, unsigned *sent, struct rpc_error *err)
{
	json_t *calls = NULL;
	unsigned n = 0;
	size_t i;
	int r;

	r = preinit_calls(doc_json, current, &calls, err);
	if (r < 0)
		return r;
	for (i = 0; i < json_array_size(calls); i++) {
		json_t *call = json_array_get(calls, i);
		const char *meth = json_string_value(json_object_get(call, "method"));
		json_t *params = json_object_get(call, "params");
		json_t *res = NULL;
		struct rpc_error e = {0};

		r = rpc_call_json(c, meth, params, rpc_client_timeout_ms(c), &res, &e);
		json_decref(res);
		if (r == 0) {
			n++;
			continue;
		}
		/* SPDK refused this one call; the connection and the rest are fine */
		if (e.code != 0 && on_refused && on_refused(&e, arg)) {
			r = 0;
			continue;
		}
		if (err)
			*err = e;
		break;
	}
	json_decref(calls);
	if (r == 0 && sent)
		*sent = n;
	return r;
}
