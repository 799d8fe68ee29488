/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_RECONCILE_OBSERVE_H
#define DISKENGINE_RECONCILE_OBSERVE_H

/*
 * Observe: read SPDK's live graph in two steps. First a fixed set of list calls, whatever the
 * number of volumes: bdev_nvme_get_controllers, bdev_raid_get_bdevs {"category":"all"},
 * vhost_get_controllers, keyring_get_keys. Then bdev_get_bdevs by name, only for the bdevs that
 * volumes in transition need (observe_want.h names them), all in flight at once. bdev_get_bdevs
 * is never sent without a name: the seed's operators saw such a call crash SPDK during a
 * controller reset, and a reset can start between two calls. No decisions are made here.
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
	struct rpc_bdev_list bdevs;		/* bdev_get_bdevs by name: those found */
	char **bdevs_read;			/* the names asked for (found or not) */
	size_t n_bdevs_read;
	unsigned calls;				/* calls made */
};

/* true when some path of some controller is resetting. */
bool observe_any_resetting(const struct rpc_nvme_ctrlr_list *controllers);

/*
 * The list calls of one observation (no bdevs yet). 0 and *out filled (clear with
 * observe_raw_clear), or a negative errno with a message naming the call that failed (a
 * malformed answer is -EBADMSG naming the field).
 */
int observe_spdk(struct rpc_client *c, struct observe_raw *out, char *errbuf, size_t errlen);

/*
 * Ask for each of the n names with bdev_get_bdevs {"name": ...}, up to OBSERVE_BDEV_INFLIGHT in
 * flight at once, and add what SPDK answers to raw (an unknown name is simply absent). 0, or a
 * negative errno with a message naming the bdev; raw keeps what it had then.
 */
#define OBSERVE_BDEV_INFLIGHT 32
int observe_bdevs(struct rpc_client *c, const char *const *names, size_t n, struct observe_raw *raw,
		  char *errbuf, size_t errlen);
/*
 * The bdevs a pass over d needs (observe_want_bdevs: volumes in transition, QoS not yet seen),
 * read by name into raw after observe_spdk filled its lists. 0, or a negative errno with a
 * message.
 */
struct desired;
struct obs_qos_seen;
int observe_bdevs_wanted(struct rpc_client *c, const struct desired *d,
			 const struct obs_qos_seen *qos_seen, size_t n_qos_seen,
			 struct observe_raw *raw, char *errbuf, size_t errlen);

void observe_raw_clear(struct observe_raw *r);

#endif
