/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_RECONCILE_EXEC_VERIFY_H
#define DISKENGINE_RECONCILE_EXEC_VERIFY_H

/*
 * "Already exists" answers mean: look, and check that the object is ours. These compare an
 * object in SPDK's list answer with the definition diskengine wanted. Each returns 0 when it is
 * ours, -EEXIST when something else holds the name (why says what differs: a conflict for the
 * operator, never deleted), -ENOENT when the object is not in the list (it vanished meanwhile:
 * try again).
 */

#include <stddef.h>

#include "rpc/spdk.h"

/* A controller `name` (bdev_nvme_get_controllers) with a path to subnqn at traddr:trsvcid. */
int exec_verify_controller(const struct rpc_nvme_ctrlr_list *controllers, const char *name,
			   const char *subnqn, const char *traddr, const char *trsvcid, char *why,
			   size_t whylen);

/* A raid1 `name` (bdev_raid_get_bdevs all) whose base slots are exactly `bases` (any order). */
int exec_verify_raid(const struct rpc_raid_list *raids, const char *name, const char *const *bases,
		     size_t n_bases, char *why, size_t whylen);

/* raid `name` lists `base` among its configured members (a re-add that already happened). */
int exec_verify_raid_member(const struct rpc_raid_list *raids, const char *name, const char *base,
			    char *why, size_t whylen);

/* A vhost controller `ctrlr` (vhost_get_controllers) serving bdev. */
int exec_verify_vhost(const struct rpc_vhost_list *vhosts, const char *ctrlr, const char *bdev,
		      char *why, size_t whylen);

#endif
