/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_RECONCILE_OBSERVE_WANT_H
#define DISKENGINE_RECONCILE_OBSERVE_WANT_H

/*
 * Which bdevs a pass reads by name, from the desired state and the list answers of the pass
 * (controllers, raids, vhosts; no bdevs yet). A volume whose raid is online with every member,
 * with no rebuild, resize or pending replica, whose mappings are all ATTACHED with their vhost
 * serving the raid, and whose QoS was last seen as wanted, is idle: none of its bdevs is read, so
 * an idle pass makes a constant number of calls. A volume whose controller resets is frozen for
 * the pass: nothing of it is read. Every other live volume is in transition: its raid bdev (when
 * the raid is listed) and the namespace bdev of each replica whose controller is listed are
 * read; a bdev whose controller is not listed cannot exist. The planner treats a bdev that was not
 * read as unknown (obs_bdev_known), never as absent.
 */

#include <stddef.h>
#include <stdint.h>

#include "reconcile/model.h"

/* The assigned_rate_limits last read on a volume's raid bdev. */
struct obs_qos_seen {
	uint64_t volume_id;
	struct qos_limits qos;
};

/*
 * The names to read, in *out (caller frees; NULL when none) and *n_out. qos/n_qos: what the
 * caller last saw (observe_qos_seen_update); a volume not in it, or seen with other limits than
 * desired, gets its raid bdev read. 0 or -ENOMEM.
 */
int observe_want_bdevs(const struct desired *d, const struct observed *o,
		       const struct obs_qos_seen *qos, size_t n_qos, struct obs_name **out,
		       size_t *n_out);

/*
 * The QoS seen after a pass: for each raid listed in o, its bdev's limits when it was read in
 * this pass, else what old held for it; raids no longer listed are dropped (an SPDK restart
 * forgets QoS, and a re-created raid is read again). *out is the caller's to free. 0 or -ENOMEM.
 */
int observe_qos_seen_update(const struct observed *o, const struct obs_qos_seen *old, size_t n_old,
			    struct obs_qos_seen **out, size_t *n_out);

#endif
