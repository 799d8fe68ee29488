/* SPDX-License-Identifier: Apache-2.0 */
/* vhost-blk controllers and keyring keys. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc_internal.h"

int rpc_vhost_create_blk_controller(struct rpc_client *c, const char *ctrlr, const char *dev_name,
				    const char *cpumask, struct rpc_error *err)
{
	/* SPDK's decoder takes dev_name; its schema's bdev_name is wrong (see the errata). */
	json_t *p = rpc_par_strs("ctrlr", ctrlr, "dev_name", dev_name, NULL);
	int r;

	rpc_par_str(p, "cpumask", cpumask);
	r = rpc_call_true(c, "vhost_create_blk_controller", p, err);
	json_decref(p);
	return r;
}

int rpc_vhost_delete_controller(struct rpc_client *c, const char *ctrlr, struct rpc_error *err)
{
	json_t *p = rpc_par_strs("ctrlr", ctrlr, NULL);
	int r = rpc_call_true(c, "vhost_delete_controller", p, err);

	json_decref(p);
	return r;
}

void rpc_vhost_list_free(struct rpc_vhost_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].ctrlr);
		free(l->v[i].cpumask);
		free(l->v[i].socket);
		free(l->v[i].bdev);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int decode_vhost(json_t *e, void *elem, struct rpc_error *err)
{
	struct rpc_vhost_ctrlr *v = elem;
	static const char *const m = "vhost_get_controllers";
	json_t *bs = json_object_get(e, "backend_specific");
	json_t *blk = json_object_get(bs, "block");
	json_t *sessions = json_object_get(e, "sessions");
	int r;

	r = rpc_dec_expect(e, JSON_OBJECT, "result entry", m, err);
	if (r == 0)
		r = rpc_dec_str(e, "ctrlr", true, &v->ctrlr, m, err);
	if (r == 0)
		r = rpc_dec_str(e, "cpumask", true, &v->cpumask, m, err);
	if (r == 0)
		r = rpc_dec_str(e, "socket", true, &v->socket, m, err);
	if (r == 0)
		r = rpc_dec_expect(sessions, JSON_ARRAY, "field 'sessions'", m, err);
	if (r == 0)
		v->n_sessions = json_array_size(sessions);
	if (r == 0)
		r = rpc_dec_expect(bs, JSON_OBJECT, "field 'backend_specific'", m, err);
	/* vhost-scsi controllers carry "scsi" instead: listed, with no bdev of their own */
	if (r < 0 || !blk)
		return r;
	v->blk = true;
	r = rpc_dec_expect(blk, JSON_OBJECT, "field 'backend_specific.block'", m, err);
	if (r == 0)
		r = rpc_dec_str_or_null(blk, "bdev", &v->bdev, m, err);
	if (r == 0)
		r = rpc_dec_bool(blk, "readonly", false, &v->readonly, m, err);
	return r;
}

int rpc_decode_vhost_controllers(json_t *res, struct rpc_vhost_list *out, struct rpc_error *err)
{
	struct rpc_vhost_list l = {0};
	void *v;
	int r;

	r = rpc_dec_list(res, "result", "vhost_get_controllers", sizeof(*l.v), decode_vhost, &v,
			 &l.n, err);
	l.v = v;
	if (r < 0) {
		rpc_vhost_list_free(&l);
		return r;
	}
	*out = l;
	return 0;
}

int rpc_vhost_get_controllers(struct rpc_client *c, struct rpc_vhost_list *out,
			      struct rpc_error *err)
{
	json_t *res = NULL;
	int r;

	r = rpc_call_json(c, "vhost_get_controllers", NULL, rpc_client_timeout_ms(c), &res, err);
	if (r < 0)
		return r;
	r = rpc_decode_vhost_controllers(res, out, err);
	json_decref(res);
	return r;
}

int rpc_keyring_file_add_key(struct rpc_client *c, const char *name, const char *path,
			     struct rpc_error *err)
{
	json_t *p = rpc_par_strs("name", name, "path", path, NULL);
	int r = rpc_call_true(c, "keyring_file_add_key", p, err);

	json_decref(p);
	return r;
}

int rpc_keyring_file_remove_key(struct rpc_client *c, const char *name, struct rpc_error *err)
{
	json_t *p = rpc_par_strs("name", name, NULL);
	int r = rpc_call_true(c, "keyring_file_remove_key", p, err);

	json_decref(p);
	return r;
}

void rpc_key_list_free(struct rpc_key_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].module);
		free(l->v[i].path);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int decode_key(json_t *e, void *elem, struct rpc_error *err)
{
	static const char *const m = "keyring_get_keys";
	struct rpc_key *k = elem;
	int r;

	r = rpc_dec_expect(e, JSON_OBJECT, "result entry", m, err);
	if (r == 0)
		r = rpc_dec_str(e, "name", true, &k->name, m, err);
	if (r == 0)
		r = rpc_dec_str(e, "module", false, &k->module, m, err);
	/* a removed key that a controller still holds is listed without its path */
	if (r == 0)
		r = rpc_dec_str(e, "path", false, &k->path, m, err);
	if (r == 0)
		r = rpc_dec_bool(e, "removed", false, &k->removed, m, err);
	return r;
}

int rpc_decode_keys(json_t *res, struct rpc_key_list *out, struct rpc_error *err)
{
	struct rpc_key_list l = {0};
	void *v;
	int r;

	r = rpc_dec_list(res, "result", "keyring_get_keys", sizeof(*l.v), decode_key, &v, &l.n,
			 err);
	l.v = v;
	if (r < 0) {
		rpc_key_list_free(&l);
		return r;
	}
	*out = l;
	return 0;
}

int rpc_keyring_get_keys(struct rpc_client *c, struct rpc_key_list *out, struct rpc_error *err)
{
	json_t *res = NULL;
	int r;

	r = rpc_call_json(c, "keyring_get_keys", NULL, rpc_client_timeout_ms(c), &res, err);
	if (r < 0)
		return r;
	r = rpc_decode_keys(res, out, err);
	json_decref(res);
	return r;
}
