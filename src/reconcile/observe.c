/* SPDX-License-Identifier: Apache-2.0 */
#include "reconcile/observe.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

bool observe_any_resetting(const struct rpc_nvme_ctrlr_list *controllers)
{
	for (size_t i = 0; i < controllers->n; i++)
		for (size_t j = 0; j < controllers->v[i].n_paths; j++)
			if (strcmp(controllers->v[i].paths[j].state, "resetting") == 0)
				return true;
	return false;
}

static int failed(int r, const struct rpc_error *e, char *errbuf, size_t errlen)
{
	char line[512];

	snprintf(errbuf, errlen, "observe: %s", rpc_error_str(e, line, sizeof(line)));
	return r;
}

int observe_spdk(struct rpc_client *c, struct observe_raw *out, char *errbuf, size_t errlen)
{
	struct observe_raw o = {0};
	struct rpc_error e = {0};
	int r;

	o.calls++;
	r = rpc_bdev_nvme_get_controllers(c, NULL, &o.controllers, &e);
	if (r == 0) {
		o.calls++;
		r = rpc_bdev_raid_get_bdevs(c, RPC_RAID_ALL, &o.raids, &e);
	}
	if (r == 0) {
		o.calls++;
		r = rpc_vhost_get_controllers(c, &o.vhosts, &e);
	}
	if (r == 0) {
		o.calls++;
		r = rpc_keyring_get_keys(c, &o.keys, &e);
	}
	if (r == 0 && !observe_any_resetting(&o.controllers)) {
		/* safe: no controller is resetting (design invariant 4) */
		o.calls++;
		r = rpc_bdev_get_bdevs_all_unsafe(c, &o.bdevs, &e);
		o.bdevs_listed = r == 0;
	}
	if (r < 0) {
		observe_raw_clear(&o);
		return failed(r, &e, errbuf, errlen);
	}
	*out = o;
	return 0;
}

void observe_raw_clear(struct observe_raw *r)
{
	rpc_nvme_ctrlr_list_free(&r->controllers);
	rpc_raid_list_free(&r->raids);
	rpc_vhost_list_free(&r->vhosts);
	rpc_key_list_free(&r->keys);
	rpc_bdev_list_free(&r->bdevs);
	memset(r, 0, sizeof(*r));
}
