/* SPDX-License-Identifier: Apache-2.0 */
#include "daemon/daemon_expo.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void grow(struct expo *e, size_t more)
{
	char *p;
	size_t cap;

	if (e->err || e->len + more + 1 <= e->cap)
		return;
	cap = e->cap ? e->cap : 4096;
	while (cap < e->len + more + 1)
		cap *= 2;
	p = realloc(e->buf, cap);
	if (!p) {
		e->err = -ENOMEM;
		return;
	}
	e->buf = p;
	e->cap = cap;
}

static void put(struct expo *e, const char *s, size_t n)
{
	grow(e, n);
	if (e->err)
		return;
	memcpy(e->buf + e->len, s, n);
	e->len += n;
	e->buf[e->len] = '\0';
}

static void puts_(struct expo *e, const char *s)
{
	put(e, s, strlen(s));
}

/* HELP escapes backslash and newline; label values also the double quote. */
static void put_escaped(struct expo *e, const char *s, int quote)
{
	for (const char *p = s; *p; p++) {
		if (*p == '\\')
			put(e, "\\\\", 2);
		else if (*p == '\n')
			put(e, "\\n", 2);
		else if (quote && *p == '"')
			put(e, "\\\"", 2);
		else
			put(e, p, 1);
	}
}

void expo_family(struct expo *e, const char *name, const char *type, const char *help)
{
	puts_(e, "# HELP ");
	puts_(e, name);
	puts_(e, " ");
	put_escaped(e, help, 0);
	puts_(e, "\n# TYPE ");
	puts_(e, name);
	puts_(e, " ");
	puts_(e, type);
	puts_(e, "\n");
}

static void put_value(struct expo *e, double v)
{
	char num[40];

	if (isnan(v))
		snprintf(num, sizeof(num), "NaN");
	else if (isinf(v))
		snprintf(num, sizeof(num), "%sInf", v > 0 ? "+" : "-");
	else if (fabs(v) < 9e15 && v == (double)(long long)v)
		snprintf(num, sizeof(num), "%lld", (long long)v);
	else if (snprintf(num, sizeof(num), "%.15g", v), strtod(num, NULL) != v)
		snprintf(num, sizeof(num), "%.17g", v); /* the shortest that reads back the same */
	puts_(e, num);
}

void expo_sample(struct expo *e, const char *name, const char *const *labels, size_t n,
		 double value)
{
	puts_(e, name);
	if (n) {
		puts_(e, "{");
		for (size_t i = 0; i < n; i++) {
			if (i)
				puts_(e, ",");
			puts_(e, labels[2 * i]);
			puts_(e, "=\"");
			put_escaped(e, labels[2 * i + 1], 1);
			puts_(e, "\"");
		}
		puts_(e, "}");
	}
	puts_(e, " ");
	put_value(e, value);
	puts_(e, "\n");
}

int expo_finish(struct expo *e, char **out, size_t *len)
{
	if (e->err)
		return e->err;
	grow(e, 0);
	if (e->err)
		return e->err;
	e->buf[e->len] = '\0';
	*out = e->buf;
	*len = e->len;
	e->buf = NULL;
	e->len = e->cap = 0;
	return 0;
}

void expo_free(struct expo *e)
{
	free(e->buf);
	memset(e, 0, sizeof(*e));
}
