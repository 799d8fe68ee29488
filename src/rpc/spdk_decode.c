/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers of the typed calls: strict field decoding and optional-parameter building. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "common/util.h"
#include "rpc/rpc_internal.h"

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

static const char *type_name(json_type t)
{
	switch (t) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_TRUE:
		return "true";
	default:
		return "a value";
	}
}

int rpc_dec_expect(json_t *v, json_type type, const char *what, const char *method,
		   struct rpc_error *err)
{
	if (!v)
		return rpc_error_set(err, -EBADMSG, method, "malformed answer: %s missing", what);
	if (json_typeof(v) != type)
		return rpc_error_set(err, -EBADMSG, method,
				     "malformed answer: %s is %s, expected %s", what,
				     json_type_name(v), type_name(type));
	return 0;
}

static json_t *field(json_t *obj, const char *key, bool required, const char *method,
		     struct rpc_error *err, int *r)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	*r = 0;
	if (!v && required)
		*r = rpc_error_set(err, -EBADMSG, method, "malformed answer: field '%s' missing",
				   key);
	return v;
}

static int wrong(const char *key, json_t *v, const char *want, const char *method,
		 struct rpc_error *err)
{
	return rpc_error_set(err, -EBADMSG, method,
			     "malformed answer: field '%s' is %s, expected %s", key,
			     json_type_name(v), want);
}

int rpc_dec_str(json_t *obj, const char *key, bool required, char **out, const char *method,
		struct rpc_error *err)
{
	int r;
	json_t *v = field(obj, key, required, method, err, &r);
	char *s;

	if (!v)
		return r;
	if (!json_is_string(v))
		return wrong(key, v, "a string", method, err);
	s = strdup(json_string_value(v));
	if (!s)
		return rpc_error_set(err, -ENOMEM, method, "out of memory");
	*out = s;
	return 0;
}

int rpc_dec_str_or_null(json_t *obj, const char *key, char **out, const char *method,
			struct rpc_error *err)
{
	int r;
	json_t *v = field(obj, key, true, method, err, &r);

	if (!v)
		return r;
	if (json_is_null(v)) {
		*out = NULL;
		return 0;
	}
	return rpc_dec_str(obj, key, true, out, method, err);
}

int rpc_dec_int(json_t *obj, const char *key, bool required, int64_t *out, const char *method,
		struct rpc_error *err)
{
	int r;
	json_t *v = field(obj, key, required, method, err, &r);

	if (!v)
		return r;
	if (!json_is_integer(v))
		return wrong(key, v, "an integer", method, err);
	*out = json_integer_value(v);
	return 0;
}

int rpc_dec_bool(json_t *obj, const char *key, bool required, bool *out, const char *method,
		 struct rpc_error *err)
{
	int r;
	json_t *v = field(obj, key, required, method, err, &r);

	if (!v)
		return r;
	if (!json_is_boolean(v))
		return wrong(key, v, "a boolean", method, err);
	*out = json_is_true(v);
	return 0;
}

void rpc_strv_free(struct rpc_strv *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

bool rpc_strv_has(const struct rpc_strv *v, const char *s)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->v[i], s) == 0)
			return true;
	return false;
}

int rpc_dec_strv(json_t *arr, const char *what, struct rpc_strv *out, const char *method,
		 struct rpc_error *err)
{
	struct rpc_strv s = {0};
	size_t i;
	int r;

	r = rpc_dec_expect(arr, JSON_ARRAY, what, method, err);
	if (r < 0)
		return r;
	s.v = calloc(json_array_size(arr) + 1, sizeof(*s.v));
	if (!s.v)
		return rpc_error_set(err, -ENOMEM, method, "out of memory");
	for (i = 0; i < json_array_size(arr); i++) {
		json_t *e = json_array_get(arr, i);

		if (!json_is_string(e)) {
			rpc_strv_free(&s);
			return rpc_error_set(err, -EBADMSG, method,
					     "malformed answer: %s[%zu] is %s, expected a string",
					     what, i, json_type_name(e));
		}
		s.v[s.n] = strdup(json_string_value(e));
		if (!s.v[s.n]) {
			rpc_strv_free(&s);
			return rpc_error_set(err, -ENOMEM, method, "out of memory");
		}
		s.n++;
	}
	*out = s;
	return 0;
}

int rpc_dec_list(json_t *arr, const char *what, const char *method, size_t elem_size,
		 rpc_dec_entry_fn fn, void **v, size_t *n, struct rpc_error *err)
{
	size_t count = json_array_size(arr);
	char *elems;
	int r;

	*v = NULL;
	*n = 0;
	r = rpc_dec_expect(arr, JSON_ARRAY, what, method, err);
	if (r < 0)
		return r;
	elems = calloc(count + 1, elem_size);
	if (!elems)
		return rpc_error_set(err, -ENOMEM, method, "out of memory");
	*v = elems;
	for (size_t i = 0; i < count && r == 0; i++) {
		(*n)++;
		r = fn(json_array_get(arr, i), elems + i * elem_size, err);
	}
	return r;
}

int rpc_decode_strv(json_t *res, const char *method, struct rpc_strv *out, struct rpc_error *err)
{
	return rpc_dec_strv(res, "result", out, method, err);
}

void rpc_par_str(json_t *obj, const char *key, const char *v)
{
	if (!v)
		return;
	if (!util_utf8_valid(v)) {
		json_object_set_new(obj, RPC_PAR_INVALID, json_string(key));
		return;
	}
	json_object_set_new(obj, key, json_string(v));
}

json_t *rpc_par_strs(const char *key, const char *v, ...)
{
	json_t *obj = json_object();
	va_list ap;

	va_start(ap, v);
	while (obj && key) {
		rpc_par_str(obj, key, v);
		key = va_arg(ap, const char *);
		if (key)
			v = va_arg(ap, const char *);
	}
	va_end(ap);
	return obj;
}

void rpc_par_int(json_t *obj, const char *key, int64_t v)
{
	if (v != RPC_UNSET)
		json_object_set_new(obj, key, json_integer(v));
}

void rpc_par_tri(json_t *obj, const char *key, int8_t v)
{
	if (v != RPC_TRI_UNSET)
		json_object_set_new(obj, key, json_boolean(v));
}

int rpc_call_true(struct rpc_client *c, const char *method, json_t *params, struct rpc_error *err)
{
	json_t *res = NULL;
	int r;

	r = rpc_call_json(c, method, params, rpc_client_timeout_ms(c), &res, err);
	if (r < 0)
		return r;
	if (!json_is_true(res))
		r = rpc_error_set(err, -EBADMSG, method, "malformed answer: result is not true");
	json_decref(res);
	return r;
}
