/* SPDX-License-Identifier: Apache-2.0 */
/* NVMe-oF controllers: attach/detach paths, controller and io-path listings, reset. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "rpc/rpc_internal.h"

int rpc_bdev_nvme_attach_controller(struct rpc_client *c, const struct rpc_nvme_attach *a,
				    struct rpc_strv *bdevs, struct rpc_error *err)
{
	static const char *const m = "bdev_nvme_attach_controller";
	json_t *p, *res = NULL;
	int r;

	if (!a->name || !a->trtype || !a->traddr)
		return rpc_error_set(err, -EINVAL, m, "name, trtype and traddr are required");
	p = json_object();
	rpc_par_str(p, "name", a->name);
	rpc_par_str(p, "trtype", a->trtype);
	rpc_par_str(p, "adrfam", a->adrfam);
	rpc_par_str(p, "traddr", a->traddr);
	rpc_par_str(p, "trsvcid", a->trsvcid);
	rpc_par_str(p, "subnqn", a->subnqn);
	rpc_par_str(p, "hostnqn", a->hostnqn);
	rpc_par_str(p, "hostaddr", a->hostaddr);
	rpc_par_str(p, "hostsvcid", a->hostsvcid);
	rpc_par_str(p, "multipath", a->multipath);
	rpc_par_int(p, "reconnect_delay_sec", a->reconnect_delay_sec);
	rpc_par_int(p, "ctrlr_loss_timeout_sec", a->ctrlr_loss_timeout_sec);
	rpc_par_int(p, "fast_io_fail_timeout_sec", a->fast_io_fail_timeout_sec);
	rpc_par_str(p, "psk", a->psk);
	rpc_par_str(p, "dhchap_key", a->dhchap_key);
	rpc_par_str(p, "dhchap_ctrlr_key", a->dhchap_ctrlr_key);
	r = rpc_call_json(c, m, p, rpc_client_timeout_ms(c), &res, err);
	json_decref(p);
	if (r < 0)
		return r;
	r = rpc_decode_strv(res, m, bdevs, err);
	json_decref(res);
	return r;
}

int rpc_bdev_nvme_detach_controller(struct rpc_client *c, const char *name,
				    const struct rpc_nvme_path_sel *path, struct rpc_error *err)
{
	json_t *p = json_object();
	int r;

	rpc_par_str(p, "name", name);
	if (path) {
		rpc_par_str(p, "trtype", path->trtype);
		rpc_par_str(p, "traddr", path->traddr);
		rpc_par_str(p, "adrfam", path->adrfam);
		rpc_par_str(p, "trsvcid", path->trsvcid);
		rpc_par_str(p, "subnqn", path->subnqn);
		rpc_par_str(p, "hostaddr", path->hostaddr);
		rpc_par_str(p, "hostsvcid", path->hostsvcid);
	}
	r = rpc_call_true(c, "bdev_nvme_detach_controller", p, err);
	json_decref(p);
	return r;
}

int rpc_bdev_nvme_reset_controller(struct rpc_client *c, const char *name, struct rpc_error *err)
{
	json_t *p = rpc_par_strs("name", name, NULL);
	int r = rpc_call_true(c, "bdev_nvme_reset_controller", p, err);

	json_decref(p);
	return r;
}

void rpc_nvme_ctrlr_list_free(struct rpc_nvme_ctrlr_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		struct rpc_nvme_ctrlr *ct = &l->v[i];

		for (size_t j = 0; j < ct->n_paths; j++) {
			struct rpc_nvme_ctrlr_path *p = &ct->paths[j];

			free(p->state);
			free(p->trtype);
			free(p->adrfam);
			free(p->traddr);
			free(p->trsvcid);
			free(p->subnqn);
			free(p->host_nqn);
			free(p->host_addr);
			free(p->host_svcid);
		}
		free(ct->paths);
		free(ct->name);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int decode_ctrlr_path(json_t *e, void *elem, struct rpc_error *err)
{
	static const char *const m = "bdev_nvme_get_controllers";
	struct rpc_nvme_ctrlr_path *p = elem;
	json_t *trid = json_object_get(e, "trid");
	json_t *host = json_object_get(e, "host");
	int r;

	r = rpc_dec_expect(e, JSON_OBJECT, "ctrlrs entry", m, err);
	if (r == 0)
		r = rpc_dec_str(e, "state", true, &p->state, m, err);
	if (r == 0)
		r = rpc_dec_int(e, "cntlid", true, &p->cntlid, m, err);
	if (r == 0)
		r = rpc_dec_expect(trid, JSON_OBJECT, "field 'trid'", m, err);
	if (r == 0)
		r = rpc_dec_str(trid, "trtype", true, &p->trtype, m, err);
	if (r == 0)
		r = rpc_dec_str(trid, "traddr", true, &p->traddr, m, err);
	if (r == 0)
		r = rpc_dec_str(trid, "adrfam", false, &p->adrfam, m, err);
	if (r == 0)
		r = rpc_dec_str(trid, "trsvcid", false, &p->trsvcid, m, err);
	if (r == 0)
		r = rpc_dec_str(trid, "subnqn", false, &p->subnqn, m, err);
	if (r == 0 && host) {
		r = rpc_dec_expect(host, JSON_OBJECT, "field 'host'", m, err);
		if (r == 0)
			r = rpc_dec_str(host, "nqn", true, &p->host_nqn, m, err);
		if (r == 0)
			r = rpc_dec_str(host, "addr", false, &p->host_addr, m, err);
		if (r == 0)
			r = rpc_dec_str(host, "svcid", false, &p->host_svcid, m, err);
	}
	return r;
}

static int decode_ctrlr(json_t *e, void *elem, struct rpc_error *err)
{
	static const char *const m = "bdev_nvme_get_controllers";
	struct rpc_nvme_ctrlr *ct = elem;
	void *v;
	int r;

	r = rpc_dec_expect(e, JSON_OBJECT, "result entry", m, err);
	if (r == 0)
		r = rpc_dec_str(e, "name", true, &ct->name, m, err);
	if (r < 0)
		return r;
	r = rpc_dec_list(json_object_get(e, "ctrlrs"), "field 'ctrlrs'", m, sizeof(*ct->paths),
			 decode_ctrlr_path, &v, &ct->n_paths, err);
	ct->paths = v;
	return r;
}

int rpc_decode_nvme_controllers(json_t *res, struct rpc_nvme_ctrlr_list *out, struct rpc_error *err)
{
	struct rpc_nvme_ctrlr_list l = {0};
	void *v;
	int r;

	r = rpc_dec_list(res, "result", "bdev_nvme_get_controllers", sizeof(*l.v), decode_ctrlr, &v,
			 &l.n, err);
	l.v = v;
	if (r < 0) {
		rpc_nvme_ctrlr_list_free(&l);
		return r;
	}
	*out = l;
	return 0;
}

int rpc_bdev_nvme_get_controllers(struct rpc_client *c, const char *name,
				  struct rpc_nvme_ctrlr_list *out, struct rpc_error *err)
{
	json_t *p = name ? rpc_par_strs("name", name, NULL) : NULL;
	json_t *res = NULL;
	int r;

	r = rpc_call_json(c, "bdev_nvme_get_controllers", p, rpc_client_timeout_ms(c), &res, err);
	json_decref(p);
	if (r < 0)
		return r;
	r = rpc_decode_nvme_controllers(res, out, err);
	json_decref(res);
	return r;
}

void rpc_io_path_list_free(struct rpc_io_path_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		struct rpc_io_path *p = &l->v[i];

		free(p->thread);
		free(p->bdev_name);
		free(p->trtype);
		free(p->traddr);
		free(p->trsvcid);
		free(p->adrfam);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int decode_io_path(json_t *e, const char *thread, struct rpc_io_path *p,
			  struct rpc_error *err)
{
	static const char *const m = "bdev_nvme_get_io_paths";
	json_t *tr = json_object_get(e, "transport");
	int r;

	p->thread = strdup(thread);
	if (!p->thread)
		return rpc_error_set(err, -ENOMEM, m, "out of memory");
	r = rpc_dec_expect(e, JSON_OBJECT, "io_paths entry", m, err);
	if (r == 0)
		r = rpc_dec_str(e, "bdev_name", true, &p->bdev_name, m, err);
	if (r == 0)
		r = rpc_dec_int(e, "cntlid", true, &p->cntlid, m, err);
	if (r == 0)
		r = rpc_dec_bool(e, "current", true, &p->current, m, err);
	if (r == 0)
		r = rpc_dec_bool(e, "connected", true, &p->connected, m, err);
	if (r == 0)
		r = rpc_dec_bool(e, "accessible", true, &p->accessible, m, err);
	if (r == 0)
		r = rpc_dec_expect(tr, JSON_OBJECT, "field 'transport'", m, err);
	if (r == 0)
		r = rpc_dec_str(tr, "trtype", true, &p->trtype, m, err);
	if (r == 0)
		r = rpc_dec_str(tr, "traddr", true, &p->traddr, m, err);
	if (r == 0)
		r = rpc_dec_str(tr, "trsvcid", false, &p->trsvcid, m, err);
	if (r == 0)
		r = rpc_dec_str(tr, "adrfam", false, &p->adrfam, m, err);
	return r;
}

int rpc_decode_io_paths(json_t *res, struct rpc_io_path_list *out, struct rpc_error *err)
{
	static const char *const m = "bdev_nvme_get_io_paths";
	struct rpc_io_path_list l = {0};
	json_t *groups = json_object_get(res, "poll_groups");
	size_t total = 0, i;
	int r;

	r = rpc_dec_expect(res, JSON_OBJECT, "result", m, err);
	if (r == 0)
		r = rpc_dec_expect(groups, JSON_ARRAY, "field 'poll_groups'", m, err);
	if (r < 0)
		return r;
	for (i = 0; i < json_array_size(groups); i++) {
		json_t *g = json_array_get(groups, i);
		json_t *paths = json_object_get(g, "io_paths");

		r = rpc_dec_expect(g, JSON_OBJECT, "poll_groups entry", m, err);
		if (r == 0 && !json_is_string(json_object_get(g, "thread")))
			r = rpc_error_set(
				err, -EBADMSG, m,
				"malformed answer: field 'thread' missing or not a string");
		if (r == 0)
			r = rpc_dec_expect(paths, JSON_ARRAY, "field 'io_paths'", m, err);
		if (r < 0)
			return r;
		total += json_array_size(paths);
	}
	l.v = calloc(total + 1, sizeof(*l.v));
	if (!l.v)
		return rpc_error_set(err, -ENOMEM, m, "out of memory");
	for (i = 0; i < json_array_size(groups) && r == 0; i++) {
		json_t *g = json_array_get(groups, i);
		json_t *paths = json_object_get(g, "io_paths");
		const char *thread = json_string_value(json_object_get(g, "thread"));

		for (size_t j = 0; j < json_array_size(paths) && r == 0; j++)
			r = decode_io_path(json_array_get(paths, j), thread, &l.v[l.n++], err);
	}
	if (r < 0) {
		rpc_io_path_list_free(&l);
		return r;
	}
	*out = l;
	return 0;
}

int rpc_bdev_nvme_get_io_paths(struct rpc_client *c, const char *name, struct rpc_io_path_list *out,
			       struct rpc_error *err)
{
	json_t *p = name ? rpc_par_strs("name", name, NULL) : NULL;
	json_t *res = NULL;
	int r;

	r = rpc_call_json(c, "bdev_nvme_get_io_paths", p, rpc_client_timeout_ms(c), &res, err);
	json_decref(p);
	if (r < 0)
		return r;
	r = rpc_decode_io_paths(res, out, err);
	json_decref(res);
	return r;
}

int rpc_bdev_nvme_send_cmd(struct rpc_client *c, const struct rpc_nvme_cmd *cmd,
			   struct rpc_nvme_cmd_result *out, struct rpc_error *err)
{
	static const char *const m = "bdev_nvme_send_cmd";
	struct rpc_nvme_cmd_result res = {0};
	const char *cpl, *data;
	json_t *p, *ans = NULL;
	char *cmdbuf;
	void *raw;
	size_t len;
	int r;

	cmdbuf = codec_base64url_encode(cmd->sqe, sizeof(cmd->sqe));
	if (!cmdbuf)
		return rpc_error_set(err, -ENOMEM, m, "out of memory");
	p = json_object();
	rpc_par_str(p, "name", cmd->name);
	rpc_par_str(p, "cmd_type", cmd->io ? "io" : "admin");
	rpc_par_str(p, "data_direction", cmd->c2h ? "c2h" : "h2c");
	rpc_par_str(p, "cmdbuf", cmdbuf);
	free(cmdbuf);
	if (cmd->c2h && cmd->data_len)
		json_object_set_new(p, "data_len", json_integer((json_int_t)cmd->data_len));
	if (cmd->timeout_ms)
		json_object_set_new(p, "timeout_ms", json_integer(cmd->timeout_ms));
	r = rpc_call_json(c, m, p, rpc_client_timeout_ms(c), &ans, err);
	json_decref(p);
	if (r < 0)
		return r;
	cpl = json_string_value(json_object_get(ans, "cpl"));
	data = json_string_value(json_object_get(ans, "data"));
	r = -EPROTO;
	if (!cpl || codec_base64url_decode(cpl, &raw, &len) < 0)
		goto bad;
	if (len != sizeof(res.cpl)) {
		free(raw);
		goto bad;
	}
	memcpy(res.cpl, raw, len);
	free(raw);
	if (data) {
		if (codec_base64url_decode(data, &raw, &len) < 0)
			goto bad;
		res.data = raw;
		res.data_len = len;
	}
	json_decref(ans);
	/* the completion's status field: phase bit 0, then SC (8 bits), SCT (3 bits) */
	res.sc = (unsigned)((res.cpl[14] | res.cpl[15] << 8) >> 1) & 0xffu;
	res.sct = (unsigned)((res.cpl[14] | res.cpl[15] << 8) >> 9) & 0x7u;
	*out = res;
	return 0;
bad:
	json_decref(ans);
	return rpc_error_set(err, r, m, "answer without a valid cpl / data (base64)");
}
