/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_DAEMON_FLAP_H
#define DISKENGINE_DAEMON_FLAP_H

/*
 * Resets per NVMe path, counted across passes from what bdev_nvme_get_controllers reports.
 * SPDK's bdev_nvme owns resets (diskengine never calls bdev_nvme_reset_controller); it reports
 * per path a state and the cntlid of the controller it is connected to. A reconnect that
 * succeeded shows as a new cntlid (the target hands out a new one per connect): one reset. A
 * path seen entering "reconnect_is_delayed" had a reconnect attempt fail: one failed reset.
 * A path with flap_limit resets within flap_window_s is given up (its controller's namespace
 * leaves the raid); it is taken back when it is enabled and had no reset for flap_window_s.
 * Entries of paths that are no longer listed are dropped (a controller deleted or detached).
 */

#include <stddef.h>
#include <stdint.h>

#include "reconcile/model.h"
#include "rpc/spdk.h"

struct flap_table;

struct flap_table *flap_table_new(int limit, int window_s);
void flap_table_free(struct flap_table *t);

/* Account one observation of the controllers at now_s (monotonic seconds). */
void flap_observe(struct flap_table *t, const struct rpc_nvme_ctrlr_list *l, int64_t now_s);

/*
 * Per controller, what its paths add up to (given up: some path is, and no other path is
 * enabled and quiet), sorted by controller name. *out is the caller's to free; 0 or -ENOMEM.
 */
int flap_summary(const struct flap_table *t, struct obs_flap **out, size_t *n_out);

#endif
