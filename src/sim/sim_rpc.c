/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON-RPC 2.0 as SPDK's lib/jsonrpc and lib/rpc speak it: framing of a byte stream
 * into JSON values, request validation, the startup/runtime state check, dispatch
 * into the module tables, and the reply encoders.
 */
#include "sim/sim_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * In SPDK's subsystem dependency order: init runs in this order, fini in reverse, so a
 * module finishes before the ones it uses (nvme and the nvmf target before the keyring,
 * every bdev user before the bdev layer).
 */
const struct sim_module *const sim_modules[] = {
	&sim_module_framework, &sim_module_keyring, &sim_module_bdev,  &sim_module_nvme,
	&sim_module_target,    &sim_module_raid,    &sim_module_vhost, NULL,
};

/* ---- framing ------------------------------------------------------------------------ */

/* Values as spdk_json_parse counts them: names and container ends count too. */
static size_t json_value_count(const json_t *v)
{
	size_t n = 1;
	const char *key;
	json_t *item;
	size_t i;

	if (json_is_object(v)) {
		n = 2;
		json_object_foreach((json_t *)v, key, item)
			n += 1 + json_value_count(item);
	} else if (json_is_array(v)) {
		n = 2;
		json_array_foreach(v, i, item)
			n += json_value_count(item);
	}
	return n;
}

/* Nesting depth of v (a scalar is 0); SPDK's parser refuses more than 64 levels. */
static size_t json_depth(const json_t *v)
{
	size_t d = 0, i;
	const char *key;
	json_t *item;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, item) {
			size_t x = json_depth(item);

			d = x > d ? x : d;
		}
		return d + 1;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, item) {
			size_t x = json_depth(item);

			d = x > d ? x : d;
		}
		return d + 1;
	}
	return 0;
}

/* "-", "1.", "1e", "1e+": a number that more bytes can still complete. */
static bool number_prefix(const char *t, size_t n)
{
	size_t i = 0;

	if (i < n && t[i] == '-')
		i++;
	if (i == n)
		return true;
	if (t[i] < '0' || t[i] > '9')
		return false;
	while (i < n && t[i] >= '0' && t[i] <= '9')
		i++;
	if (i < n && t[i] == '.') {
		i++;
		while (i < n && t[i] >= '0' && t[i] <= '9')
			i++;
	}
	if (i < n && (t[i] == 'e' || t[i] == 'E')) {
		i++;
		if (i < n && (t[i] == '+' || t[i] == '-'))
			i++;
		while (i < n && t[i] >= '0' && t[i] <= '9')
			i++;
	}
	return i == n;
}

/*
 * jansson failed right at the end of the buffer on a token that more bytes can still
 * complete (a literal, number or string escape cut short): SPDK's parser reports
 * such a stream as incomplete and waits, so the sim does too.
 */
static bool token_may_continue(const char *buf, size_t len, size_t pos)
{
	static const char *const literals[] = {"true", "false", "null"};
	size_t start = len, bs;

	if (pos != len || len == 0)
		return false;
	/* a cut escape: "\" or "\u" with fewer than four hex digits */
	for (bs = len; bs > 0 && len - bs < 5 && buf[bs - 1] != '\\'; bs--)
		;
	if (bs > 0 && buf[bs - 1] == '\\') {
		size_t n = len - bs;
		bool hex = n >= 1 && buf[bs] == 'u';

		for (size_t i = bs + 1; hex && i < len; i++)
			hex = strchr("0123456789abcdefABCDEF", buf[i]) != NULL;
		if (n == 0 || (hex && n <= 4))
			return true;
	}
	while (start > 0 && strchr("0123456789+-.eEtruflsan", buf[start - 1]))
		start--;
	if (start == len)
		return false;
	for (size_t i = 0; i < 3; i++)
		if (len - start < strlen(literals[i]) &&
		    strncmp(buf + start, literals[i], len - start) == 0)
			return true;
	return number_prefix(buf + start, len - start);
}

/*
 * Where a duplicated member name sits in the request text (jansson keeps the last one,
 * SPDK's decoders refuse the object): 1 = the request object itself, 2 = inside
 * "params", 0 = elsewhere.
 */
static int duplicate_site(const char *buf, size_t pos)
{
	int depth = 0, site = 0;
	bool in_str = false;
	size_t key_start = 0;

	for (size_t i = 0; i < pos; i++) {
		char ch = buf[i];

		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"') {
				in_str = false;
				/* a member name of the request object */
				if (depth == 1 && i + 1 < pos)
					site = (i - key_start == 6 &&
						strncmp(buf + key_start, "params", 6) == 0)
						       ? 2
						       : 0;
			}
			continue;
		}
		if (ch == '"') {
			in_str = true;
			key_start = i + 1;
		} else if (ch == '{' || ch == '[') {
			depth++;
		} else if (ch == '}' || ch == ']') {
			depth--;
		}
	}
	return depth == 1 ? 1 : depth > 1 && site == 2 ? 2 : 0;
}

/* Make a request with duplicated member names fail where SPDK's decoding would. */
static json_t *apply_duplicates(const char *buf, size_t len, json_t *v)
{
	json_error_t err;
	json_t *strict = json_loadb(buf, len, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY |
					      JSON_REJECT_DUPLICATES, &err);

	if (strict) {
		json_decref(strict);
		return v;
	}
	if (json_error_code(&err) != json_error_duplicate_key)
		return v;
	switch (duplicate_site(buf, (size_t)err.position)) {
	case 1:
		/* not a valid request object: answered "Invalid request" */
		json_decref(v);
		return json_array();
	case 2:
		/* params no decoder accepts: the method answers its decode error */
		json_object_set_new(v, "params", json_array());
		return v;
	default:
		return v;
	}
}

/*
 * Integers beyond int64 (valid JSON, and SPDK decodes up to UINT64_MAX into uint64
 * fields) overflow jansson. Such a digit run is re-read as a marked string that
 * sim_decode_ok accepts only for SIM_J_UINT within uint64 and sim_json_u64 reads.
 */
#define SIM_BIG_MARK "\x01u64:"

static json_t *parse_value(const char *buf, size_t len, size_t *used, json_error_t *err)
{
	static const char open_mark[] = "\"\\u0001u64:";
	const size_t grow = sizeof(open_mark) - 1 + 1;
	const int flags = JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY;
	char *copy = NULL;
	const char *p = buf;
	size_t plen = len, added = 0;
	json_t *v;

	for (int round = 0;; round++) {
		size_t end, start;
		char *n;

		v = json_loadb(p, plen, flags, err);
		if (v || json_error_code(err) != json_error_numeric_overflow || round == 64)
			break;
		end = (size_t)err->position;
		for (start = end; start > 0 && p[start - 1] >= '0' && p[start - 1] <= '9'; start--)
			;
		if (start == end || end > plen || (start > 0 && p[start - 1] == '-') ||
		    (end < plen && strchr(".eE", p[end])))
			break; /* a real or negative number: leave the overflow to the caller */
		n = malloc(plen + grow + 1);
		if (!n)
			abort();
		memcpy(n, p, start);
		memcpy(n + start, open_mark, sizeof(open_mark) - 1);
		memcpy(n + start + sizeof(open_mark) - 1, p + start, end - start);
		n[start + sizeof(open_mark) - 1 + end - start] = '"';
		memcpy(n + end + grow, p + end, plen - end);
		free(copy);
		copy = n;
		p = n;
		plen += grow;
		added += grow;
	}
	if (v)
		*used = (size_t)err->position - added;
	free(copy);
	return v;
}

int sim_rpc_feed(struct sim *s, struct sim_conn *c)
{
	for (;;) {
		size_t len;
		const char *buf = sim_conn_inbuf(c, &len);
		json_error_t err;
		json_t *v;

		if (len == 0)
			return 0;
		size_t used = 0;

		v = parse_value(buf, len, &used, &err);
		if (!v) {
			if (json_error_code(&err) == json_error_premature_end_of_input ||
			    token_may_continue(buf, len, (size_t)err.position))
				return 0; /* wait for the rest */
			/* SPDK answers "Parse error" but closes the connection before sending */
			return -EPROTO;
		}
		v = apply_duplicates(buf, used, v);
		sim_conn_consume(c, used);
		if (json_value_count(v) > SIM_RPC_MAX_VALUES || json_depth(v) > SIM_RPC_MAX_DEPTH) {
			json_decref(v);
			return -EPROTO;
		}
		sim_rpc_dispatch(s, c, v);
	}
}

/* ---- replies ------------------------------------------------------------------------ */

static void reply_send(struct sim_req *req, json_t *body)
{
	char *text;

	if (req->conn) {
		/* SPDK's writer escapes every non-ASCII code point (\u escapes) */
		text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
		if (text) {
			sim_conn_send(req->conn, text, strlen(text));
			sim_conn_send(req->conn, "\n", 1);
			free(text);
		}
	}
	json_decref(body);
	sim_req_free(req);
}

static json_t *reply_begin(struct sim_req *req)
{
	json_t *o = json_object();

	json_object_set_new(o, "jsonrpc", json_string("2.0"));
	json_object_set(o, "id", req->id ? req->id : json_null());
	return o;
}

void sim_reply(struct sim_req *req, json_t *result)
{
	json_t *o;

	/* SPDK skips the answer of a request without id (or with id null) */
	if (!req->id || json_is_null(req->id)) {
		json_decref(result);
		sim_req_free(req);
		return;
	}
	o = reply_begin(req);
	json_object_set_new(o, "result", result ? result : json_null());
	reply_send(req, o);
}

static void reply_verror(struct sim_req *req, int code, const char *fmt, va_list ap)
{
	char *msg = NULL;
	json_t *o, *e;

	/* no length limit: SPDK's messages may embed names of any length */
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	/* errors are sent even for notifications, with "id": null */
	o = reply_begin(req);
	e = json_object();
	json_object_set_new(e, "code", json_integer(code));
	json_object_set_new(e, "message", json_string(msg ? msg : "Internal error"));
	json_object_set_new(o, "error", e);
	free(msg);
	reply_send(req, o);
}

void sim_reply_error(struct sim_req *req, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_verror(req, code, fmt, ap);
	va_end(ap);
}

void sim_reply_errno(struct sim_req *req, int errno_value)
{
	sim_reply_error(req, -errno_value, "%s", strerror(errno_value));
}

/* ---- decoding ------------------------------------------------------------------------ */

/* The digits of a number beyond int64 as parse_value marks it; NULL for anything else. */
static const char *big_digits(const json_t *v)
{
	const char *t = json_string_value(v);

	return t && strncmp(t, SIM_BIG_MARK, strlen(SIM_BIG_MARK)) == 0 ? t + strlen(SIM_BIG_MARK)
									: NULL;
}

/* A marked number that fits uint64 (SPDK's spdk_json_decode_uint64 takes it). */
static bool big_u64(const json_t *v, uint64_t *out)
{
	const char *d = big_digits(v);
	unsigned long long x;
	char *end;

	if (!d)
		return false;
	errno = 0;
	x = strtoull(d, &end, 10);
	if (errno || *end)
		return false;
	*out = x;
	return true;
}

uint64_t sim_json_u64(const json_t *v)
{
	uint64_t x;

	if (big_u64(v, &x))
		return x;
	return (uint64_t)json_integer_value(v);
}

static bool kind_ok(const json_t *v, enum sim_json_kind kind)
{
	uint64_t big;

	if (big_digits(v))
		return kind == SIM_J_ANY || (kind == SIM_J_UINT && big_u64(v, &big));
	switch (kind) {
	case SIM_J_STRING:
		return json_is_string(v);
	case SIM_J_INT:
		return json_is_integer(v);
	case SIM_J_UINT:
		return json_is_integer(v) && json_integer_value(v) >= 0;
	case SIM_J_BOOL:
		return json_is_boolean(v);
	case SIM_J_OBJECT:
		return json_is_object(v);
	case SIM_J_ARRAY:
		return json_is_array(v);
	case SIM_J_ANY:
		return true;
	case SIM_J_UINT32:
		return json_is_integer(v) && json_integer_value(v) >= 0 &&
		       json_integer_value(v) <= UINT32_MAX;
	case SIM_J_INT32:
		return json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
		       json_integer_value(v) <= INT32_MAX;
	case SIM_J_UINT16:
		return json_is_integer(v) && json_integer_value(v) >= 0 &&
		       json_integer_value(v) <= UINT16_MAX;
	}
	return false;
}

bool sim_decode_ok(const json_t *params, const struct sim_decoder *d, size_t n)
{
	const char *key;
	json_t *v;

	if (!params) {
		for (size_t i = 0; i < n; i++)
			if (!d[i].optional)
				return false;
		return true;
	}
	if (!json_is_object(params))
		return false;
	json_object_foreach((json_t *)params, key, v) {
		size_t i;

		for (i = 0; i < n; i++)
			if (strcmp(d[i].key, key) == 0)
				break;
		if (i == n || !kind_ok(v, d[i].kind))
			return false;
	}
	for (size_t i = 0; i < n; i++)
		if (!d[i].optional && !json_object_get(params, d[i].key))
			return false;
	return true;
}

bool sim_decode_strict(const json_t *params, const struct sim_decoder *d, size_t n)
{
	return params && sim_decode_ok(params, d, n);
}

/* ---- dispatch ------------------------------------------------------------------------ */

const struct sim_method *sim_method_find(const char *name)
{
	for (const struct sim_module *const *m = sim_modules; *m; m++) {
		if (!(*m)->methods)
			continue;
		for (const struct sim_method *sm = (*m)->methods; sm->name; sm++)
			if (strcmp(sm->name, name) == 0)
				return sm;
	}
	return NULL;
}

void sim_rpc_invoke(struct sim_req *req)
{
	struct sim *s = req->sim;
	const struct sim_method_info *info = sim_method_info_find(req->method);
	const char *base = info && info->alias_of ? info->alias_of : req->method;
	const struct sim_method *m = sim_method_find(base);
	unsigned state = s->initialized ? SIM_RUNTIME : SIM_STARTUP;
	unsigned mask;

	if (!m && !info) {
		sim_reply_error(req, SIM_RPC_METHOD_NOT_FOUND, "Method not found");
		return;
	}
	if (m)
		mask = m->state_mask;
	else
		mask = sim_method_info_find(base) ? sim_method_info_find(base)->state_mask : 0;
	if ((mask & state) != state) {
		if (state == SIM_STARTUP)
			sim_reply_error(req, SIM_RPC_INVALID_STATE,
					"Method may only be called after framework is initialized "
					"using framework_start_init RPC.");
		else
			sim_reply_error(req, SIM_RPC_INVALID_STATE,
					"Method may only be called before framework is "
					"initialized. Use --wait-for-rpc command line parameter "
					"and then issue this RPC before the framework_start_init "
					"RPC.");
		return;
	}
	if (!m) {
		/* SPDK has it, spdk-sim does not model it: say so instead of guessing */
		sim_reply_error(req, SIM_RPC_INTERNAL_ERROR, "%s: not modelled by spdk-sim",
				req->method);
		return;
	}
	m->fn(req);
}

static bool request_valid(json_t *v, json_t **id)
{
	const char *key;
	json_t *item, *version, *method, *params, *rid;

	*id = NULL;
	if (!json_is_object(v))
		return false;
	/* spdk_json_decode_object: only these four members are allowed */
	json_object_foreach(v, key, item) {
		if (strcmp(key, "jsonrpc") && strcmp(key, "method") && strcmp(key, "params") &&
		    strcmp(key, "id"))
			return false;
	}
	version = json_object_get(v, "jsonrpc");
	if (version && (!json_is_string(version) || strcmp(json_string_value(version), "2.0")))
		return false;
	method = json_object_get(v, "method");
	if (!method || !json_is_string(method))
		return false;
	rid = json_object_get(v, "id");
	if (rid) {
		if (!json_is_string(rid) && !json_is_number(rid) && !json_is_null(rid))
			return false;
		*id = rid;
	}
	params = json_object_get(v, "params");
	if (params && !json_is_null(params) && !json_is_array(params) && !json_is_object(params))
		return false;
	return true;
}

void sim_rpc_dispatch(struct sim *s, struct sim_conn *c, json_t *value)
{
	struct sim_req *req = sim_req_new(s, c, value);
	json_t *id, *params;

	if (!request_valid(value, &id)) {
		req->id = NULL;
		req->method = NULL;
		sim_reply_error(req, SIM_RPC_INVALID_REQUEST, "Invalid request");
		return;
	}
	req->id = id;
	req->method = json_string_value(json_object_get(value, "method"));
	params = json_object_get(value, "params");
	/* "params": null is as if there were no parameters */
	req->params = params && !json_is_null(params) ? params : NULL;
	sim_control_count(s, req->method);
	if (sim_control_intercept(s, req))
		return;
	sim_rpc_invoke(req);
}
