/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_DAEMON_EXPO_H
#define DISKENGINE_DAEMON_EXPO_H

/*
 * A writer of Prometheus' text exposition format 0.0.4: one family (# HELP, # TYPE) then its
 * samples, label values and help text escaped as the format requires. Memory runs out only once:
 * after that every call does nothing and expo_finish fails.
 */

#include <stddef.h>

struct expo {
	char *buf;
	size_t len, cap;
	int err; /* 0, or -ENOMEM once a write failed */
};

/* Start a family: type is "counter", "gauge", "summary", "histogram" or "untyped". */
void expo_family(struct expo *e, const char *name, const char *type, const char *help);

/*
 * One sample: name (the family's, or with _sum, _count, _bucket), n label pairs
 * (labels[2i] = name, labels[2i+1] = value, escaped here), and the value (NaN and infinities
 * written as the format spells them).
 */
void expo_sample(struct expo *e, const char *name, const char *const *labels, size_t n,
		 double value);

/* The text (NUL-terminated, the caller's to free) in *out and its length; 0 or -ENOMEM. */
int expo_finish(struct expo *e, char **out, size_t *len);
void expo_free(struct expo *e);

#endif
