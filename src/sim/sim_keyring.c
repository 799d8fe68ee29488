/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The keyring with its file module (lib/keyring, module/keyring/file): keys are files
 * that only their owner may read, referenced by name from NVMe attach and nvmf hosts.
 * A removed key leaves the list of live keys but survives (shown "removed": true) while
 * a controller still holds a reference.
 */
#include "sim/sim_keyring.h"

#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct sim_key {
	char *name;
	char *path;
	unsigned refcnt; /* the keyring's own reference (until removed) plus users' */
	bool removed;
	struct sim_key *next;
};

struct sim_keyring_state {
	struct sim_key *keys;	 /* live keys, in the order they were added */
	struct sim_key *removed; /* removed keys still referenced, in removal order */
};

static void key_append(struct sim_key **list, struct sim_key *k)
{
	while (*list)
		list = &(*list)->next;
	k->next = NULL;
	*list = k;
}

static void key_unlink(struct sim_key **list, struct sim_key *k)
{
	for (; *list; list = &(*list)->next) {
		if (*list == k) {
			*list = k->next;
			return;
		}
	}
}

static void key_free(struct sim_key *k)
{
	free(k->name);
	free(k->path);
	free(k);
}

static struct sim_key *key_find(struct sim_keyring_state *st, const char *name)
{
	for (struct sim_key *k = st->keys; k; k = k->next)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

struct sim_key *sim_keyring_get(struct sim *s, const char *name)
{
	struct sim_key *k = name ? key_find(s->keyring, name) : NULL;

	if (k)
		k->refcnt++;
	return k;
}

void sim_keyring_put(struct sim *s, struct sim_key *k)
{
	if (!k)
		return;
	if (--k->refcnt == 0) {
		/* after keyring_fini a key still referenced was left on no list */
		if (s->keyring)
			key_unlink(&s->keyring->removed, k);
		key_free(k);
	}
}

const char *sim_key_name(const struct sim_key *k)
{
	return k->name;
}

char *sim_key_material(const struct sim_key *k)
{
	char *data = NULL;
	size_t len = 0;

	if (!k->path || util_read_file(k->path, &data, &len) < 0)
		return NULL;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == ' ' || data[len - 1] == '\r'))
		data[--len] = '\0';
	return data;
}

/* keyring_file's checks: an absolute path to a file nobody but its owner can read. */
static int key_file_check(const char *path)
{
	struct stat st;

	if (path[0] != '/')
		return -EPERM;
	if (stat(path, &st) < 0)
		return -errno;
	if (st.st_mode & 0077)
		return -EPERM;
	return 0;
}

static void rpc_keyring_file_add_key(struct sim_req *req)
{
	struct sim_keyring_state *st = req->sim->keyring;
	json_t *name = json_object_get(req->params, "name");
	json_t *path = json_object_get(req->params, "path");
	struct sim_key *k;
	int rc;

	/* a relaxed decode: unknown keys are ignored, the two strings are required */
	if (!json_is_object(req->params) || !json_is_string(name) || !json_is_string(path)) {
		sim_reply_error(req, -32602, "%s", strerror(EINVAL));
		return;
	}
	if (strchr(json_string_value(name), ':') != NULL && json_string_value(name)[0] != ':') {
		/* "keyring:key" names a keyring other than the global one */
		sim_reply_errno(req, EINVAL);
		return;
	}
	if (key_find(st, json_string_value(name))) {
		sim_reply_errno(req, EEXIST);
		return;
	}
	rc = key_file_check(json_string_value(path));
	if (rc < 0) {
		sim_reply_errno(req, -rc);
		return;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		sim_reply_errno(req, ENOMEM);
		return;
	}
	k->name = util_xstrdup(json_string_value(name));
	k->path = util_xstrdup(json_string_value(path));
	k->refcnt = 1;
	key_append(&st->keys, k);
	sim_reply(req, json_true());
}

static void rpc_keyring_file_remove_key(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"name", SIM_J_STRING, false}};
	struct sim_keyring_state *st = req->sim->keyring;
	struct sim_key *k;

	if (!sim_decode_strict(req->params, dec, 1)) {
		sim_reply_error(req, -32602, "%s", strerror(EINVAL));
		return;
	}
	k = key_find(st, json_string_value(json_object_get(req->params, "name")));
	if (!k) {
		sim_reply_errno(req, ENOKEY);
		return;
	}
	key_unlink(&st->keys, k);
	k->removed = true;
	free(k->path);
	k->path = NULL;
	key_append(&st->removed, k);
	sim_keyring_put(req->sim, k);
	sim_reply(req, json_true());
}

static json_t *key_json(const struct sim_key *k)
{
	json_t *o = json_pack("{s:s,s:s,s:b,s:b,s:i}", "name", k->name, "module", "keyring_file",
			      "removed", k->removed, "probed", 0, "refcnt", (int)k->refcnt);

	if (!k->removed)
		json_object_set_new(o, "path", json_string(k->path));
	return o;
}

static void rpc_keyring_get_keys(struct sim_req *req)
{
	struct sim_keyring_state *st = req->sim->keyring;
	json_t *arr;

	if (req->params) {
		sim_reply_error(req, -32602, "keyring_get_keys requires no parameters");
		return;
	}
	arr = json_array();
	for (struct sim_key *k = st->keys; k; k = k->next)
		json_array_append_new(arr, key_json(k));
	for (struct sim_key *k = st->removed; k; k = k->next)
		json_array_append_new(arr, key_json(k));
	sim_reply(req, arr);
}

static void keyring_config(struct sim *s, const char *subsystem, json_t *arr)
{
	if (strcmp(subsystem, "keyring") != 0)
		return;
	for (struct sim_key *k = s->keyring->keys; k; k = k->next)
		json_array_append_new(arr, json_pack("{s:s,s:{s:s,s:s}}", "method",
						     "keyring_file_add_key", "params", "name",
						     k->name, "path", k->path));
}

static void keyring_init(struct sim *s)
{
	s->keyring = calloc(1, sizeof(*s->keyring));
	if (!s->keyring)
		abort();
}

static void keyring_fini(struct sim *s)
{
	struct sim_keyring_state *st = s->keyring;

	if (!st)
		return;
	/* keys other modules still hold outlive the keyring until they put them */
	for (struct sim_key *k = st->keys, *n; k; k = n) {
		n = k->next;
		k->next = NULL;
		if (--k->refcnt == 0)
			key_free(k);
	}
	for (struct sim_key *k = st->removed, *n; k; k = n) {
		n = k->next;
		k->next = NULL;
	}
	free(st);
	s->keyring = NULL;
}

static const struct sim_method keyring_methods[] = {
	{"keyring_file_add_key", rpc_keyring_file_add_key, SIM_RUNTIME},
	{"keyring_file_remove_key", rpc_keyring_file_remove_key, SIM_RUNTIME},
	{"keyring_get_keys", rpc_keyring_get_keys, SIM_RUNTIME},
	{NULL, NULL, 0},
};

const struct sim_module sim_module_keyring = {
	.name = "keyring",
	.methods = keyring_methods,
	.init = keyring_init,
	.fini = keyring_fini,
	.config = keyring_config,
};
