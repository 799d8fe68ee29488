/* SPDX-License-Identifier: Apache-2.0 */
/* Finding and hiding passwords in database URLs and in messages that quote them. */
#include "common/redact.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#define MASK_LEN (sizeof(REDACT_MASK) - 1)

/*
 * In a message a URL ends at a blank or a quote around it; a single value (argv) ends only at
 * its NUL, so a password with a raw blank in it is still hidden whole there.
 */
static bool url_end(char c, bool text)
{
	return c == '\0' || (text && (isspace((unsigned char)c) || c == '\'' || c == '"'));
}

static const char *find_char(const char *p, const char *end, char c, bool last)
{
	const char *hit = NULL;

	for (; p < end; p++)
		if (*p == c) {
			hit = p;
			if (!last)
				break;
		}
	return hit;
}

/*
 * The password of the first "scheme://user:password@" at or after from. libpq ends the
 * userinfo at the first '@' or '/'; a raw '@', '/' or '?' inside a password (not encoded, as it
 * should be) would end it early and leave the rest in view, so the userinfo is taken up to the
 * last '@' of the authority, or failing that, the first '@' of the whole URL.
 */
static bool find_userinfo(const char *s, size_t from, bool text, size_t *start, size_t *len)
{
	for (const char *p = strstr(s + from, "://"); p; p = strstr(p + 3, "://")) {
		const char *a = p + 3, *e1 = a, *e2, *at, *colon;

		while (!url_end(*e1, text) && *e1 != '/' && *e1 != '?' && *e1 != '#')
			e1++;
		at = find_char(a, e1, '@', true);
		if (!at) {
			for (e2 = e1; !url_end(*e2, text); e2++)
				;
			at = find_char(e1, e2, '@', false);
		}
		if (!at)
			continue;
		colon = find_char(a, at, ':', false);
		if (!colon)
			continue;
		*start = (size_t)(colon + 1 - s);
		*len = (size_t)(at - colon - 1);
		return true;
	}
	return false;
}

static bool is_word(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static bool secret_keyword(const char *k, size_t n)
{
	return (n == 8 && strncasecmp(k, "password", 8) == 0) ||
	       (n == 11 && strncasecmp(k, "sslpassword", 11) == 0);
}

/* End of a libpq key=value value starting at v: quoted with backslash escapes, or a word. */
static const char *kv_value_end(const char *v)
{
	const char *p = v;

	if (*p == '\'') {
		for (p++; *p && *p != '\''; p++)
			if (*p == '\\' && p[1])
				p++;
		return *p == '\'' ? p + 1 : p;
	}
	for (; *p && !isspace((unsigned char)*p); p++)
		if (*p == '\\' && p[1])
			p++;
	return p;
}

/* The value of the first "password=" (or sslpassword) keyword at or after from. */
static bool find_keyword(const char *s, size_t from, bool text, size_t *start, size_t *len)
{
	for (const char *eq = strchr(s + from, '='); eq; eq = strchr(eq + 1, '=')) {
		const char *ke = eq, *kb, *v, *end;
		bool query;

		while (ke > s + from && (*(ke - 1) == ' ' || *(ke - 1) == '\t'))
			ke--;
		for (kb = ke; kb > s + from && is_word(*(kb - 1)); kb--)
			;
		if (!secret_keyword(kb, (size_t)(ke - kb)))
			continue;
		/* After '?' or '&' it is a URL query parameter, which ends at the next '&'. */
		query = kb > s && (*(kb - 1) == '?' || *(kb - 1) == '&');
		v = eq + 1;
		if (query) {
			for (end = v; *end != '&' && !url_end(*end, text); end++)
				;
		} else {
			/* libpq skips blanks after '=' ("password= x" is the password "x"). */
			while (isspace((unsigned char)*v))
				v++;
			end = kv_value_end(v);
		}
		*start = (size_t)(v - s);
		*len = (size_t)(end - v);
		return true;
	}
	return false;
}

static int find_mode(const char *s, size_t from, bool text, size_t *start, size_t *len)
{
	size_t us = 0, ul = 0, ks = 0, kl = 0;
	bool u, k;

	if (!s || from > strlen(s))
		return -ENOENT;
	u = find_userinfo(s, from, text, &us, &ul);
	k = find_keyword(s, from, text, &ks, &kl);
	if (!u && !k)
		return -ENOENT;
	if (u && (!k || us <= ks)) {
		*start = us;
		*len = ul;
	} else {
		*start = ks;
		*len = kl;
	}
	return 0;
}

int redact_find(const char *s, size_t from, bool whole, size_t *start, size_t *len)
{
	return find_mode(s, from, !whole, start, len);
}

/* Append n bytes of src to buf (capacity size, *used so far); false once something was cut. */
static bool append(char *buf, size_t size, size_t *used, const char *src, size_t n)
{
	size_t room = size - 1 - *used;
	bool whole = n <= room;

	if (!whole)
		n = room;
	memcpy(buf + *used, src, n);
	*used += n;
	buf[*used] = '\0';
	return whole;
}

int redact_copy(const char *s, char *buf, size_t size)
{
	size_t pos = 0, used = 0, start, len;
	bool whole = true;

	if (!buf || size == 0)
		return -ENAMETOOLONG;
	buf[0] = '\0';
	if (!s)
		return 0;
	while (find_mode(s, pos, true, &start, &len) == 0) {
		whole &= append(buf, size, &used, s + pos, start - pos);
		if (len > 0)
			whole &= append(buf, size, &used, REDACT_MASK, MASK_LEN);
		pos = start + len;
	}
	whole &= append(buf, size, &used, s + pos, strlen(s + pos));
	return whole ? 0 : -ENAMETOOLONG;
}

/* Replace n bytes at p by the mask; the bytes freed at the end of the string become NULs. */
static size_t mask_at(char *p, size_t n)
{
	size_t tail;

	if (n < MASK_LEN) {
		memset(p, '*', n);
		return n;
	}
	tail = strlen(p + n);
	memcpy(p, REDACT_MASK, MASK_LEN);
	memmove(p + MASK_LEN, p + n, tail + 1);
	memset(p + MASK_LEN + tail + 1, '\0', n - MASK_LEN);
	return MASK_LEN;
}

int redact_mask(char *s)
{
	size_t pos = 0, start, len;
	int n = 0;

	while (find_mode(s, pos, false, &start, &len) == 0) {
		pos = start + (len > 0 ? mask_at(s + start, len) : 0);
		n += len > 0;
	}
	return n;
}

int redact_secret(char *text, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	char *p = text;
	int count = 0;

	if (!text || n < MASK_LEN)
		return 0;
	while ((p = strstr(p, secret))) {
		p += mask_at(p, n);
		count++;
	}
	return count;
}
