/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_RECONCILE_OBSERVE_H
#define DISKENGINE_RECONCILE_OBSERVE_H

/*
 * Observe: read SPDK's live graph with a fixed set of list calls per pass, whatever the number
 * of volumes: bdev_nvme_get_controllers, bdev_raid_get_bdevs {"category":"all"},
 * vhost_get_controllers, keyring_get_keys, and bdev_get_bdevs unfiltered -- the last one only when no NVMe
 * controller is resetting (an unfiltered bdev_get_bdevs during a reset can crash SPDK), else it
 * is skipped and the plan defers what needs bdev geometry. No decisions are made here.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct spdk_conn;

/* The answers of one observation, as SPDK sent them. */
struct observe_raw {
	json_t *controllers; /* bdev_nvme_get_controllers */
	json_t *raids;       /* bdev_raid_get_bdevs all */
	json_t *vhosts;      /* vhost_get_controllers */
	json_t *keys;        /* keyring_get_keys */
	json_t *bdevs;       /* bdev_get_bdevs; NULL when skipped */
	bool bdevs_skipped;  /* a controller was resetting */
	unsigned calls;      /* calls made */
};

/* true when some controller path of bdev_nvme_get_controllers' answer is resetting. */
bool observe_any_resetting(json_t *controllers);

/*
 * Take one observation. 0 and *out filled (clear with observe_raw_clear), or a negative errno
 * with a message naming the call that failed.
 */
int observe_spdk(struct spdk_conn *c, uint32_t timeout_ms, struct observe_raw *out, char *errbuf,
		 size_t errlen);
void observe_raw_clear(struct observe_raw *r);

#endif
