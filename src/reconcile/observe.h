/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_RECONCILE_OBSERVE_H
#define DISKENGINE_RECONCILE_OBSERVE_H

/*
 * Observe: read SPDK's live graph with a fixed set of list calls per pass, whatever the number
 * of volumes: bdev_nvme_get_controllers, bdev_raid_get_bdevs {"category":"all"},
 * vhost_get_controllers, keyring_get_keys, and bdev_get_bdevs unfiltered -- the last one only when
 * no NVMe controller is resetting (an unfiltered bdev_get_bdevs during a reset can crash SPDK),
 * else it is skipped and the plan defers what needs bdev geometry. No decisions are made here.
 */

#include <stdbool.h>
#include <stddef.h>

#include "rpc/spdk.h"

/* The answers of one observation, decoded by the typed calls. */
struct observe_raw {
	struct rpc_nvme_ctrlr_list controllers; /* bdev_nvme_get_controllers */
	struct rpc_raid_list raids;		/* bdev_raid_get_bdevs all */
	struct rpc_vhost_list vhosts;		/* vhost_get_controllers */
	struct rpc_key_list keys;		/* keyring_get_keys */
	struct rpc_bdev_list bdevs;		/* bdev_get_bdevs; empty when skipped */
	bool bdevs_listed;			/* false: a controller was resetting */
	unsigned calls;				/* calls made */
};

/* true when some path of some controller is resetting. */
bool observe_any_resetting(const struct rpc_nvme_ctrlr_list *controllers);

/*
 * Take one observation. 0 and *out filled (clear with observe_raw_clear), or a negative errno
 * with a message naming the call that failed (a malformed answer is -EBADMSG naming the field).
 */
int observe_spdk(struct rpc_client *c, struct observe_raw *out, char *errbuf, size_t errlen);
void observe_raw_clear(struct observe_raw *r);

#endif
