/* SPDX-License-Identifier: Apache-2.0 */
/* Recorded or raw answers (JSON text) through the same decoders as the typed calls. */
#include <errno.h>

#include "rpc/rpc_internal.h"

typedef int (*decode_fn)(json_t *res, void *out, struct rpc_error *err);

static int parse(const char *text, const char *method, decode_fn fn, void *out,
		 struct rpc_error *err)
{
	json_error_t jerr;
	json_t *res = json_loads(text, JSON_DECODE_ANY, &jerr);
	int r;

	if (!res)
		return rpc_error_set(err, -EBADMSG, method, "answer is not JSON: %s (line %d)",
				     jerr.text, jerr.line);
	r = fn(res, out, err);
	json_decref(res);
	return r;
}

static int dec_ctrlrs(json_t *res, void *out, struct rpc_error *err)
{
	return rpc_decode_nvme_controllers(res, out, err);
}

static int dec_raids(json_t *res, void *out, struct rpc_error *err)
{
	return rpc_decode_raid_bdevs(res, out, err);
}

static int dec_bdevs(json_t *res, void *out, struct rpc_error *err)
{
	return rpc_decode_bdevs(res, out, err);
}

static int dec_vhosts(json_t *res, void *out, struct rpc_error *err)
{
	return rpc_decode_vhost_controllers(res, out, err);
}

static int dec_keys(json_t *res, void *out, struct rpc_error *err)
{
	return rpc_decode_keys(res, out, err);
}

int rpc_parse_nvme_controllers(const char *text, struct rpc_nvme_ctrlr_list *out,
			       struct rpc_error *err)
{
	return parse(text, "bdev_nvme_get_controllers", dec_ctrlrs, out, err);
}

int rpc_parse_raid_bdevs(const char *text, struct rpc_raid_list *out, struct rpc_error *err)
{
	return parse(text, "bdev_raid_get_bdevs", dec_raids, out, err);
}

int rpc_parse_bdevs(const char *text, struct rpc_bdev_list *out, struct rpc_error *err)
{
	return parse(text, "bdev_get_bdevs", dec_bdevs, out, err);
}

int rpc_parse_vhost_controllers(const char *text, struct rpc_vhost_list *out, struct rpc_error *err)
{
	return parse(text, "vhost_get_controllers", dec_vhosts, out, err);
}

int rpc_parse_keys(const char *text, struct rpc_key_list *out, struct rpc_error *err)
{
	return parse(text, "keyring_get_keys", dec_keys, out, err);
}
