/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim vhost-blk internals (sim_vhost.c), exposed for the module's own tests.
 */
#ifndef DISKENGINE_SIM_VHOST_H
#define DISKENGINE_SIM_VHOST_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/sim.h"

struct vhost_ctrlr;

/* The controller with that name, or NULL. */
struct vhost_ctrlr *vhost_find(struct sim *s, const char *name);
/*
 * spdk_vhost_blk_construct: checks in SPDK's order (bdev exists -ENODEV, not claimed
 * -EPERM, cpumask -EINVAL, unique name -EEXIST, bad_options -EINVAL, socket -EIO) and
 * binds the socket <-S dir>/<name>. 0 or negative errno.
 */
int vhost_blk_create(struct sim *s, const char *name, const char *dev_name, const char *cpumask,
		     bool readonly, bool bad_options);
/* Delete a controller and its socket; -EBUSY while a VM is connected. */
int vhost_delete(struct sim *s, struct vhost_ctrlr *c);
/* A VM connects: a session with the lowest free vid. 0 or negative errno. */
int vhost_session_open(struct sim *s, struct vhost_ctrlr *c, uint32_t max_queues, uint32_t *vid);
/* The VM with that vid (any when vid < 0) leaves; deferred deletes then complete. */
int vhost_session_close(struct sim *s, struct vhost_ctrlr *c, int64_t vid);
/* spdk_cpuset_parse restricted to 64 cores: 0 or -EINVAL. */
int vhost_cpumask_parse(const char *mask, uint64_t *out);
/* spdk_cpuset_fmt: lower-case hex without 0x. */
void vhost_cpumask_fmt(uint64_t mask, char out[20]);

#endif
