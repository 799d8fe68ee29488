/* SPDX-License-Identifier: Apache-2.0 */
/* Normalisation of answers as the conformance README prescribes, and path placeholders. */
#include "replay.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Replace every `from` in s by `to` (new string; s is freed). */
static char *replace_all(char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0;
	char *p, *out, *o;

	if (!fl)
		return s;
	for (p = strstr(s, from); p; p = strstr(p + fl, from))
		n++;
	if (!n)
		return s;
	out = malloc(strlen(s) + n * (tl > fl ? tl - fl : 0) + 1);
	if (!out)
		abort();
	o = out;
	for (p = s;;) {
		char *hit = strstr(p, from);

		if (!hit) {
			strcpy(o, p);
			break;
		}
		memcpy(o, p, (size_t)(hit - p));
		o += hit - p;
		memcpy(o, to, tl);
		o += tl;
		p = hit + fl;
	}
	free(s);
	return out;
}

char *replay_subst_paths(const struct replay_env *e, const char *text)
{
	char *s = strdup(text);

	if (!s)
		abort();
	s = replace_all(s, "<vhost_dir>", e->vhost_dir);
	s = replace_all(s, "<key_dir>", e->key_dir);
	return replace_all(s, "<conf_dir>", e->dir);
}

static bool is_uuid_at(const char *p)
{
	static const int groups[] = {8, 4, 4, 4, 12};

	for (int g = 0; g < 5; g++) {
		for (int i = 0; i < groups[g]; i++, p++)
			if (!isxdigit((unsigned char)*p))
				return false;
		if (g < 4 && *p++ != '-')
			return false;
	}
	return true;
}

static char *normalise_string(const struct replay_env *e, const char *in)
{
	char *s = strdup(in), *out, *o;
	size_t len;

	if (!s)
		abort();
	s = replace_all(s, e->vhost_dir, "<vhost_dir>");
	s = replace_all(s, e->key_dir, "<key_dir>");
	s = replace_all(s, e->dir, "<conf_dir>");
	len = strlen(s);
	out = malloc(len + 1);
	if (!out)
		abort();
	o = out;
	for (size_t i = 0; i < len;) {
		if (len - i >= 36 && is_uuid_at(s + i)) {
			memcpy(o, "<uuid>", 6);
			o += 6;
			i += 36;
		} else {
			*o++ = s[i++];
		}
	}
	*o = '\0';
	free(s);
	return out;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool is_tick_key(const char *k)
{
	return strcmp(k, "ticks") == 0 || strcmp(k, "tick_rate") == 0 || ends_with(k, "_ticks") ||
	       strncmp(k, "time_in_", 8) == 0;
}

json_t *replay_normalise(const struct replay_env *e, json_t *v)
{
	const char *key;
	json_t *item;
	void *tmp;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach_safe(v, tmp, key, item) {
			if (strcmp(key, "cntlid") == 0 || strcmp(key, "progress") == 0) {
				/* order-dependent values the README says to ignore */
				json_object_del(v, key);
			} else if (is_tick_key(key) && json_is_number(item)) {
				json_object_set_new(v, key, json_string("<ticks>"));
			} else if (strcmp(key, "src_svcid") == 0) {
				json_object_set_new(v, key, json_string("<port>"));
			} else if (strcmp(key, "pid") == 0) {
				json_object_set_new(v, key, json_string("<pid>"));
			} else {
				replay_normalise(e, item);
			}
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item) {
			if (json_is_string(item)) {
				char *s = normalise_string(e, json_string_value(item));

				json_array_set_new(v, i, json_string(s));
				free(s);
			} else {
				replay_normalise(e, item);
			}
		}
	}
	/* object string members */
	if (json_is_object(v)) {
		json_object_foreach(v, key, item) {
			if (json_is_string(item)) {
				char *s = normalise_string(e, json_string_value(item));

				json_string_set(item, s);
				free(s);
			}
		}
	}
	return v;
}

void replay_drop_key(json_t *v, const char *key)
{
	const char *k;
	json_t *item;
	size_t i;

	if (json_is_object(v)) {
		json_object_del(v, key);
		json_object_foreach(v, k, item)
			replay_drop_key(item, key);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			replay_drop_key(item, key);
	}
}

char *replay_show(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	/* REPLAY_FULL=1 prints whole answers */
	if (s && strlen(s) > 600 && !getenv("REPLAY_FULL"))
		strcpy(s + 590, " ...");
	return s ? s : strdup("(null)");
}

/* Append the first difference between a and b under path to out. true when found. */
static bool diff_at(const json_t *a, const json_t *b, char *path, size_t cap, char *out,
		    size_t outcap)
{
	size_t len = strlen(path);

	if (json_equal(a, b))
		return false;
	if (json_is_object(a) && json_is_object(b)) {
		const char *key;
		json_t *va;

		json_object_foreach((json_t *)a, key, va) {
			snprintf(path + len, cap - len, ".%s", key);
			if (diff_at(va, json_object_get(b, key), path, cap, out, outcap))
				return true;
		}
		json_object_foreach((json_t *)b, key, va) {
			if (!json_object_get(a, key)) {
				snprintf(path + len, cap - len, ".%s", key);
				return diff_at(NULL, va, path, cap, out, outcap);
			}
		}
	} else if (json_is_array(a) && json_is_array(b)) {
		size_t n = json_array_size(a) > json_array_size(b) ? json_array_size(a)
								     : json_array_size(b);

		for (size_t i = 0; i < n; i++) {
			snprintf(path + len, cap - len, "[%zu]", i);
			if (diff_at(json_array_get(a, i), json_array_get(b, i), path, cap, out,
				    outcap))
				return true;
		}
	}
	path[len] = '\0';
	char *x = a ? json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("(absent)");
	char *y = b ? json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("(absent)");

	snprintf(out, outcap, "%s: want %.200s, got %.200s", *path ? path : "(top)", x, y);
	free(x);
	free(y);
	return true;
}

char *replay_diff(const json_t *want, const json_t *got)
{
	char path[512] = "", out[1024] = "";

	if (!diff_at(want, got, path, sizeof(path), out, sizeof(out)))
		return NULL;
	return strdup(out);
}
