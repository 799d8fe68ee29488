/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The keyring as other spdk-sim modules see it (SPDK's spdk_keyring_get_key /
 * spdk_keyring_put_key): a reference keeps a removed key alive until released.
 */
#ifndef DISKENGINE_SIM_KEYRING_H
#define DISKENGINE_SIM_KEYRING_H

#include "sim/sim.h"

struct sim_key;

/* Take a reference on the live key `name`; NULL when the keyring has no such key. */
struct sim_key *sim_keyring_get(struct sim *s, const char *name);
/* Drop a reference taken by sim_keyring_get (NULL is ignored). */
void sim_keyring_put(struct sim *s, struct sim_key *k);
const char *sim_key_name(const struct sim_key *k);
/*
 * The key material (the file's contents, trailing whitespace removed) as a new string,
 * read now as keyring_file does on every use; NULL when the file cannot be read.
 */
char *sim_key_material(const struct sim_key *k);

#endif
