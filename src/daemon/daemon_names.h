/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_DAEMON_NAMES_H
#define DISKENGINE_DAEMON_NAMES_H

/*
 * Deterministic SPDK names, so retries are idempotent and a restarted daemon finds its objects:
 * fabric controller "nvme_<tail of the NQN>_<8 hex of a hash of the whole NQN>", local PCIe
 * controller "pcie_<BDF with ':' and '.' as '_'>", namespace bdev "<ctrlr>n1", RAID
 * "raid_<volume id>", vhost-blk controller "vhost<mapping id>". Anything else is foreign.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DAEMON_NAME_MAX 64

void daemon_name_ctrlr_for_nqn(const char *nqn, char *out, size_t len);
void daemon_name_ctrlr_for_bdf(const char *bdf, char *out, size_t len);
void daemon_name_raid(int64_t volume_id, char *out, size_t len);
void daemon_name_vhost(int64_t mapping_id, char *out, size_t len);

/* Whether a name follows one of diskengine's patterns (and which id it carries). */
bool daemon_name_is_ctrlr(const char *name);
bool daemon_name_is_raid(const char *name, int64_t *volume_id);
bool daemon_name_is_vhost(const char *name, int64_t *mapping_id);

#endif
