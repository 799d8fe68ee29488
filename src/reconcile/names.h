/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_RECONCILE_NAMES_H
#define DISKENGINE_RECONCILE_NAMES_H

/*
 * Deterministic SPDK object names, so a retried call names the same object, and the patterns that
 * tell diskengine's objects from anybody else's (orphan removal touches only these).
 *   fabric controller  de_<16 hex: FNV-1a 64 of the subsystem NQN>
 *   PCIe controller    de_pci_<DDDD>_<BB>_<DD>_<F>
 *   namespace bdev     <controller>n1
 *   raid               raid_<volume id>
 *   vhost              vhost<mapping id>
 *   keyring key        de_key_<node key name>
 * All fit SPDK's 511-character controller limit and keep vhost socket paths short.
 */

#include <stddef.h>
#include <stdint.h>

#include "reconcile/model.h"

/* What a name says about its owner. */
enum name_kind {
	NAME_FOREIGN = 0,  /* not one of diskengine's patterns: never touched */
	NAME_CTRLR_FABRIC, /* de_<16 hex> */
	NAME_CTRLR_PCIE,   /* de_pci_... */
	NAME_RAID,	   /* raid_<digits> */
	NAME_VHOST,	   /* vhost<digits> */
	NAME_KEY,	   /* de_key_... */
};

/* Controller name for a replica (from NQN or BDF); 0 or -EINVAL (empty NQN, malformed BDF). */
int names_ctrlr(const struct replica *r, char *out, size_t size);

/* Namespace bdev name of a controller: "<ctrlr>n1". */
void names_ns_bdev(const char *ctrlr, uint32_t nsid, char *out, size_t size);

void names_raid(uint64_t volume_id, char *out, size_t size);
/*
 * The UUID diskengine gives raid_<volume id> when it creates it (bdev_raid_create "uuid"):
 * derived from the volume id, so the raid carries proof of its creator. SPDK keeps it in the
 * superblock, so it survives restarts; an operator's raid with the same name has another one.
 * out needs 37 bytes: a lower-case RFC 9562 UUID, version 8.
 */
void names_raid_uuid(uint64_t volume_id, char *out, size_t size);
void names_vhost(uint64_t mapping_id, char *out, size_t size);

/* Keyring name for a node key; -EINVAL if key_name has characters other than [A-Za-z0-9_.-]. */
int names_key(const char *key_name, char *out, size_t size);

/* Classify a name; for NAME_RAID / NAME_VHOST *id receives the number (id may be NULL). */
enum name_kind names_classify(const char *name, uint64_t *id);

/* A PCI address "DDDD:BB:DD.F" in lower-case hex? */
int names_bdf_valid(const char *bdf);

#endif
