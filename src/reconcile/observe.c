/* SPDX-License-Identifier: Apache-2.0 */
#include "reconcile/observe.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/spdk_conn.h"

bool observe_any_resetting(json_t *controllers)
{
	size_t i, j;
	json_t *ctrl, *path;

	json_array_foreach(controllers, i, ctrl) {
		json_array_foreach(json_object_get(ctrl, "ctrlrs"), j, path) {
			const char *st = json_string_value(json_object_get(path, "state"));
			if (st && strcmp(st, "resetting") == 0)
				return true;
		}
	}
	return false;
}

static int list(struct spdk_conn *c, uint32_t timeout_ms, const char *method, json_t *params,
		json_t **out, unsigned *calls, char *errbuf, size_t errlen)
{
	struct spdk_conn_error e = {0};
	json_t *res = NULL;
	int r;

	(*calls)++;
	r = spdk_conn_call(c, method, params, timeout_ms, &res, &e);
	if (r == -EREMOTEIO) {
		snprintf(errbuf, errlen, "observe: %s: SPDK error %d: %s", method, e.code, e.message);
		return r;
	}
	if (r < 0) {
		snprintf(errbuf, errlen, "observe: %s: %s", method, strerror(-r));
		return r;
	}
	if (!json_is_array(res)) {
		snprintf(errbuf, errlen, "observe: %s: answer is not a list", method);
		json_decref(res);
		return -EPROTO;
	}
	*out = res;
	return 0;
}

int observe_spdk(struct spdk_conn *c, uint32_t timeout_ms, struct observe_raw *out, char *errbuf,
		 size_t errlen)
{
	struct observe_raw r = {0};
	int rc;

	rc = list(c, timeout_ms, "bdev_nvme_get_controllers", NULL, &r.controllers, &r.calls,
		  errbuf, errlen);
	if (rc == 0)
		rc = list(c, timeout_ms, "bdev_raid_get_bdevs", json_pack("{s:s}", "category", "all"),
			  &r.raids, &r.calls, errbuf, errlen);
	if (rc == 0)
		rc = list(c, timeout_ms, "vhost_get_controllers", NULL, &r.vhosts, &r.calls, errbuf,
			  errlen);
	if (rc == 0)
		rc = list(c, timeout_ms, "keyring_get_keys", NULL, &r.keys, &r.calls, errbuf, errlen);
	if (rc == 0) {
		r.bdevs_skipped = observe_any_resetting(r.controllers);
		if (!r.bdevs_skipped)
			rc = list(c, timeout_ms, "bdev_get_bdevs", NULL, &r.bdevs, &r.calls, errbuf,
				  errlen);
	}
	if (rc < 0) {
		observe_raw_clear(&r);
		return rc;
	}
	*out = r;
	return 0;
}

void observe_raw_clear(struct observe_raw *r)
{
	json_decref(r->controllers);
	json_decref(r->raids);
	json_decref(r->vhosts);
	json_decref(r->keys);
	json_decref(r->bdevs);
	memset(r, 0, sizeof(*r));
}
