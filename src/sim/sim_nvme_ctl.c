/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NVMe host's control-channel commands (never SPDK methods): network partitions
 * towards a target address, and local PCIe drives that can be plugged and hot-removed.
 *
 *   path_down {traddr, trsvcid?}  drop live connections to the address, refuse new ones
 *   path_up   {traddr, trsvcid?}  end that partition
 *   pcie_add  {traddr, num_blocks, block_size?, serial?, model?, uuid?, nsid?}
 *             (nsid: the id of the drive's one namespace, default 1)
 *   pcie_remove {traddr}          hot removal: controllers on it vanish with their bdevs
 *   sb_write {bdev, data}         write a bdev's metadata area (hex), as raid does
 *   sb_read {bdev}                read it back: {"data": hex} (-ENODATA when never written)
 */
#include "sim/sim_fabric.h"
#include "sim/sim_nvme_internal.h"

#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static int arg_string(json_t *args, const char *key, bool required, const char **out, char **errmsg)
{
	json_t *v = json_object_get(args, key);

	*out = NULL;
	if (!v && !required)
		return 0;
	if (!json_is_string(v) || !*json_string_value(v)) {
		if (asprintf(errmsg, "'%s' must be a non-empty string", key) < 0)
			*errmsg = NULL;
		return -EINVAL;
	}
	*out = json_string_value(v);
	return 0;
}

static int cmd_path_down(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	const char *traddr, *trsvcid;
	struct nvme_blocked *b;
	int rc;

	if ((rc = arg_string(args, "traddr", true, &traddr, errmsg)) ||
	    (rc = arg_string(args, "trsvcid", false, &trsvcid, errmsg)))
		return rc;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->traddr = util_xstrdup(traddr);
	b->trsvcid = trsvcid ? util_xstrdup(trsvcid) : NULL;
	b->next = s->nvme->blocked;
	s->nvme->blocked = b;
	nvme_partition_apply(s);
	return 0;
}

static int cmd_path_up(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	const char *traddr, *trsvcid;
	bool found = false;
	int rc;

	if ((rc = arg_string(args, "traddr", true, &traddr, errmsg)) ||
	    (rc = arg_string(args, "trsvcid", false, &trsvcid, errmsg)))
		return rc;
	for (struct nvme_blocked **pp = &s->nvme->blocked; *pp;) {
		struct nvme_blocked *b = *pp;

		if (strcmp(b->traddr, traddr) == 0 &&
		    ((!trsvcid && !b->trsvcid) ||
		     (trsvcid && b->trsvcid && strcmp(trsvcid, b->trsvcid) == 0))) {
			*pp = b->next;
			free(b->traddr);
			free(b->trsvcid);
			free(b);
			found = true;
			continue;
		}
		pp = &b->next;
	}
	if (!found) {
		*errmsg = util_xstrdup("no partition to that address (see path_down)");
		return -ENOENT;
	}
	return 0;
}

static int cmd_pcie_add(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	json_t *nb = json_object_get(args, "num_blocks"), *bs = json_object_get(args, "block_size");
	json_t *nsid = json_object_get(args, "nsid");
	const char *bdf, *serial, *model, *uuid;
	struct nvme_pcie_drive *d, **tail;
	int rc;

	if ((rc = arg_string(args, "traddr", true, &bdf, errmsg)) ||
	    (rc = arg_string(args, "serial", false, &serial, errmsg)) ||
	    (rc = arg_string(args, "model", false, &model, errmsg)) ||
	    (rc = arg_string(args, "uuid", false, &uuid, errmsg)))
		return rc;
	if (!json_is_integer(nb) || json_integer_value(nb) <= 0) {
		*errmsg = util_xstrdup("'num_blocks' (a positive integer) is required");
		return -EINVAL;
	}
	if (bs && (!json_is_integer(bs) || json_integer_value(bs) < 512 ||
		   json_integer_value(bs) % 512)) {
		*errmsg = util_xstrdup("'block_size' must be a multiple of 512");
		return -EINVAL;
	}
	if (nsid && (!json_is_integer(nsid) || json_integer_value(nsid) < 1 ||
		     json_integer_value(nsid) > 0xfffffffe)) {
		*errmsg = util_xstrdup("'nsid' must be 1..4294967294");
		return -EINVAL;
	}
	if (uuid && strlen(uuid) != 36) {
		*errmsg = util_xstrdup("'uuid' must be a uuid (8-4-4-4-12 hex digits)");
		return -EINVAL;
	}
	for (d = s->nvme->drives; d; d = d->next) {
		if (strcasecmp(d->bdf, bdf) == 0) {
			*errmsg = util_xstrdup("a PCIe drive with that traddr exists");
			return -EEXIST;
		}
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->bdf = util_xstrdup(bdf);
	d->serial = util_xstrdup(serial ? serial : "SPDKSIM00000000000001");
	d->model = util_xstrdup(model ? model : "spdk-sim NVMe drive");
	d->block_size = bs ? (uint32_t)json_integer_value(bs) : 512;
	d->num_blocks = (uint64_t)json_integer_value(nb);
	d->nsid = nsid ? (uint32_t)json_integer_value(nsid) : 1;
	d->next_cntlid = 1;
	if (uuid) {
		snprintf(d->uuid, sizeof(d->uuid), "%s", uuid);
	} else {
		unsigned char r[16];

		if (getrandom(r, sizeof(r), 0) != sizeof(r))
			memset(r, 0x5a, sizeof(r));
		r[6] = (r[6] & 0x0f) | 0x40;
		r[8] = (r[8] & 0x3f) | 0x80;
		snprintf(d->uuid, sizeof(d->uuid),
			 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11],
			 r[12], r[13], r[14], r[15]);
	}
	for (tail = &s->nvme->drives; *tail; tail = &(*tail)->next)
		;
	*tail = d;
	nvme_hotplug_scan(s);
	*result = json_pack("{s:s,s:s}", "traddr", d->bdf, "uuid", d->uuid);
	return 0;
}

static int cmd_pcie_remove(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	const char *bdf;
	int rc;

	if ((rc = arg_string(args, "traddr", true, &bdf, errmsg)))
		return rc;
	for (struct nvme_pcie_drive **pp = &s->nvme->drives; *pp; pp = &(*pp)->next) {
		struct nvme_pcie_drive *d = *pp;

		if (strcasecmp(d->bdf, bdf) != 0)
			continue;
		*pp = d->next;
		nvme_drive_removed(s, d);
		free(d->bdf);
		free(d->serial);
		free(d->model);
		free(d->sb);
		json_decref(d->blocks);
		free(d);
		return 0;
	}
	*errmsg = util_xstrdup("no PCIe drive with that traddr (see pcie_add)");
	return -ENOENT;
}

static int cmd_sb_write(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	const char *name, *hex;
	struct sim_bdev *b;
	void *buf;
	size_t len;
	int rc;

	if ((rc = arg_string(args, "bdev", true, &name, errmsg)) ||
	    (rc = arg_string(args, "data", true, &hex, errmsg)))
		return rc;
	b = sim_bdev_find(s, name);
	if (!b) {
		*errmsg = util_xstrdup("no such bdev");
		return -ENODEV;
	}
	if (fab_hex_decode(hex, &buf, &len) < 0) {
		*errmsg = util_xstrdup("'data' must be hex digits, two per byte");
		return -EINVAL;
	}
	rc = sim_bdev_sb_write(b, buf, len);
	free(buf);
	return rc;
}

static int cmd_sb_read(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	const char *name;
	struct sim_bdev *b;
	void *buf;
	size_t len;
	char *hex;
	int rc;

	if ((rc = arg_string(args, "bdev", true, &name, errmsg)))
		return rc;
	b = sim_bdev_find(s, name);
	if (!b) {
		*errmsg = util_xstrdup("no such bdev");
		return -ENODEV;
	}
	rc = sim_bdev_sb_read(b, &buf, &len);
	if (rc < 0)
		return rc;
	hex = fab_hex_encode(buf, len);
	free(buf);
	if (!hex)
		return -ENOMEM;
	*result = json_pack("{s:s}", "data", hex);
	free(hex);
	return 0;
}

const struct sim_control_cmd sim_nvme_control[] = {
	{"sb_write", cmd_sb_write},
	{"sb_read", cmd_sb_read},
	{"path_down", cmd_path_down},
	{"path_up", cmd_path_up},
	{"pcie_add", cmd_pcie_add},
	{"pcie_remove", cmd_pcie_remove},
	{NULL, NULL},
};
