/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_COMMON_HMAP_H
#define DISKENGINE_COMMON_HMAP_H

/*
 * A hash table from a string key to a fixed-size value the table owns. The daemon keeps
 * per-object state across passes (backoff windows, first-seen times, last status written) for
 * thousands of objects and looks each one up every pass: a linear scan there makes a pass
 * quadratic in the number of volumes. Open addressing with linear probing; removal shifts the
 * following entries back, so there are no tombstones and the table never degrades.
 *
 * Value pointers stay valid until the next hmap_put of a new key or hmap_del; not thread-safe.
 */

#include <stdbool.h>
#include <stddef.h>

struct hmap;

/* A table of values of val_size bytes (zeroed when a key is added). NULL on -ENOMEM. */
struct hmap *hmap_new(size_t val_size);
void hmap_free(struct hmap *m);

/* The value of key, or NULL. */
void *hmap_get(const struct hmap *m, const char *key);
/* The value of key, added (zeroed) if absent; *added says which. NULL on -ENOMEM. */
void *hmap_put(struct hmap *m, const char *key, bool *added);
/* Remove key; 0, or -ENOENT. */
int hmap_del(struct hmap *m, const char *key);
/* Remove every key. */
void hmap_clear(struct hmap *m);
size_t hmap_size(const struct hmap *m);

/*
 * Visit every entry; keep(key, value, arg) returning false removes the entry. Entries may be
 * visited once more after a removal shifted them; keep must be idempotent.
 */
void hmap_filter(struct hmap *m, bool (*keep)(const char *key, void *val, void *arg), void *arg);

/* Iterate: start with *pos = 0; NULL at the end. Do not add or remove while iterating. */
void *hmap_next(const struct hmap *m, size_t *pos, const char **key);

#endif
