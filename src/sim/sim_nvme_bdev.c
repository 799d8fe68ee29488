/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NVMe namespace bdev (SPDK's nvme_bdev): "<name>n<nsid>" with the namespace's uuid,
 * one driver_specific entry and one memory domain per path, and a metadata area kept on
 * the storage node (reads from the copy sent at connect time, writes to every path).
 */
#include "sim/sim_fabric.h"
#include "sim/sim_nvme_internal.h"

#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct nvme_ns_data *nvme_path_ns(const struct nvme_ctrlr *c, uint32_t nsid)
{
	for (size_t i = 0; i < c->nns; i++)
		if (c->ns[i].nsid == nsid)
			return &c->ns[i];
	return NULL;
}

/* ---- the namespace bdev ---------------------------------------------------------------- */

static json_t *nvme_io_types(struct sim_bdev *b)
{
	static const char *const all[] = {"read",	 "write",	  "unmap",
					  "flush",	 "reset",	  "nvme_admin",
					  "nvme_io",	 "nvme_io_md",	  "write_zeroes",
					  "zcopy",	 "get_zone_info", "zone_management",
					  "zone_append", "compare",	  "compare_and_write",
					  "abort",	 "seek_hole",	  "seek_data",
					  "copy",	 "nvme_iov_md",	  "nvme_nssr"};
	static const char *const yes[] = {
		"read",	      "write",	 "unmap",	 "flush",   "reset",
		"nvme_admin", "nvme_io", "write_zeroes", "compare", "compare_and_write",
		"abort",      "copy"};
	json_t *o = json_object();

	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		bool on = false;

		for (size_t j = 0; j < ARRAY_SIZE(yes); j++)
			on |= strcmp(all[i], yes[j]) == 0;
		json_object_set_new(o, all[i], json_boolean(on));
	}
	return o;
}

static json_t *nvme_memory_domains(struct sim_bdev *b)
{
	struct nvme_bdev *nb = b->ctx;
	json_t *arr = json_array();

	/* one per controller of the bdev, whatever its state */
	for (struct nvme_ctrlr *c = nb ? nb->nbdev_ctrlr->ctrlrs : NULL; c; c = c->next)
		if (nvme_path_ns(c, nb->nsid))
			json_array_append_new(arr, json_pack("{s:s,s:i}", "dma_device_id", "system",
							     "dma_device_type", 1));
	return arr;
}

static json_t *path_driver_json(const struct nvme_ctrlr *c, uint32_t nsid)
{
	bool pcie = strcmp(c->trid.trtype, "PCIe") == 0;
	json_t *o = json_pack("{s:o}", "trid", nvme_trid_json(&c->trid));

	if (pcie)
		json_object_set_new(o, "pci_address", json_string(c->trid.traddr));
	json_object_set_new(o, "ctrlr_data",
			    json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:{s:i,s:i,s:i,s:i},s:b,s:b}",
				      "cntlid", (int)c->cntlid, "vendor_id", "0x8086",
				      "model_number", c->model ? c->model : "", "serial_number",
				      c->serial ? c->serial : "", "firmware_revision",
				      c->fw ? c->fw : "", "subnqn", pcie ? "" : c->trid.subnqn,
				      "oacs", "security", 0, "format", pcie, "firmware", pcie,
				      "ns_manage", pcie, "multi_ctrlr", !pcie, "ana_reporting", 0));
	json_object_set_new(o, "vs", json_pack("{s:s}", "nvme_version", "1.4"));
	json_object_set_new(o, "ns_data",
			    json_pack("{s:i,s:b}", "id", (int)nsid, "can_share", !pcie));
	return o;
}

static json_t *nvme_driver_specific(struct sim_bdev *b)
{
	struct nvme_bdev *nb = b->ctx;
	struct nvme_bdev_ctrlr *n;
	json_t *paths, *o;

	if (!nb)
		return NULL;
	n = nb->nbdev_ctrlr;
	paths = json_array();
	for (struct nvme_ctrlr *c = n->ctrlrs; c; c = c->next)
		if (nvme_path_ns(c, nb->nsid))
			json_array_append_new(paths, path_driver_json(c, nb->nsid));
	o = json_pack("{s:o,s:s}", "nvme", paths, "mp_policy",
		      n->policy == NVME_POLICY_ACTIVE_ACTIVE ? "active_active" : "active_passive");
	if (n->policy == NVME_POLICY_ACTIVE_ACTIVE) {
		json_object_set_new(o, "selector", json_string(n->selector));
		json_object_set_new(o, "rr_min_io", json_integer(n->rr_min_io));
	}
	return o;
}

static json_t *nvme_iostat_driver_specific(struct sim_bdev *b)
{
	return json_object();
}

/*
 * The metadata area lives on the target (the lvol behind the namespace): reads come
 * from the copy the target sent at connect time, writes go to every connected path.
 */
static int nvme_sb_read(struct sim_bdev *b, void **buf, size_t *len)
{
	struct nvme_bdev *nb = b->ctx;
	void *copy;

	if (!nb || !b->mem_sb)
		return -ENODATA;
	copy = malloc(b->mem_sb_len ? b->mem_sb_len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, b->mem_sb, b->mem_sb_len);
	*buf = copy;
	*len = b->mem_sb_len;
	return 0;
}

static int nvme_sb_write(struct sim_bdev *b, const void *buf, size_t len)
{
	struct nvme_bdev *nb = b->ctx;
	int sent = 0;
	void *copy;
	char *hex;

	if (!nb)
		return -ENODEV;
	for (struct nvme_ctrlr *c = nb->nbdev_ctrlr->ctrlrs; c; c = c->next) {
		if (!nvme_ctrlr_connected(c) || !nvme_path_ns(c, nb->nsid))
			continue;
		if (c->drive) {
			void *dcopy = malloc(len ? len : 1);

			if (!dcopy)
				return -ENOMEM;
			memcpy(dcopy, buf, len);
			free(c->drive->sb);
			c->drive->sb = dcopy;
			c->drive->sb_len = len;
			sent++;
			continue;
		}
		hex = fab_hex_encode(buf, len);
		if (hex &&
		    fab_link_send(c->link, json_pack("{s:s,s:i,s:s}", "op", "sb_write", "nsid",
						     (int)nb->nsid, "data", hex)) == 0)
			sent++;
		free(hex);
	}
	if (!sent)
		return -EIO;
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	free(b->mem_sb);
	b->mem_sb = copy;
	b->mem_sb_len = len;
	return 0;
}

/*
 * Data goes where the metadata area goes: to the target (or the local drive) of every
 * connected path, and into the copy reads are served from.
 */
static int nvme_blocks_write(struct sim *s, struct sim_bdev *b, uint64_t lba, const void *buf,
			     uint64_t n)
{
	struct nvme_bdev *nb = b->ctx;
	int sent = 0;

	if (!nb)
		return -ENODEV;
	sim_bdev_blocks_store(b, lba, buf, n);
	for (struct nvme_ctrlr *c = nb->nbdev_ctrlr->ctrlrs; c; c = c->next) {
		json_t *msg;
		char *hex = NULL;

		if (!nvme_ctrlr_connected(c) || !nvme_path_ns(c, nb->nsid))
			continue;
		if (c->drive) {
			json_decref(c->drive->blocks);
			c->drive->blocks = json_deep_copy(b->blocks);
			sent++;
			continue;
		}
		if (buf) {
			hex = fab_hex_encode(buf, n * b->block_size);
			if (!hex)
				return -ENOMEM;
		}
		msg = json_pack("{s:s,s:i,s:I,s:I,s:s?}", "op", "blk_write", "nsid", (int)nb->nsid,
				"lba", (json_int_t)lba, "blocks", (json_int_t)n, "data", hex);
		free(hex);
		if (fab_link_send(c->link, msg) == 0)
			sent++;
	}
	return sent ? 0 : -EIO;
}

static void nvme_bdev_destruct(struct sim_bdev *b)
{
	struct nvme_bdev *nb = b->ctx;

	if (!nb)
		return;
	for (struct nvme_bdev **pp = &nb->nbdev_ctrlr->bdevs; *pp; pp = &(*pp)->next) {
		if (*pp == nb) {
			*pp = nb->next;
			break;
		}
	}
	free(nb);
}

static const struct sim_bdev_ops nvme_bdev_ops = {
	.product_name = "NVMe disk",
	.driver_specific = nvme_driver_specific,
	.io_types = nvme_io_types,
	.sb_read = nvme_sb_read,
	.sb_write = nvme_sb_write,
	.blocks_write = nvme_blocks_write,
	.destruct = nvme_bdev_destruct,
	.memory_domains = nvme_memory_domains,
	.iostat_driver_specific = nvme_iostat_driver_specific,
};

struct nvme_bdev *nvme_nbdev_find(struct nvme_bdev_ctrlr *n, uint32_t nsid)
{
	for (struct nvme_bdev *nb = n->bdevs; nb; nb = nb->next)
		if (nb->nsid == nsid)
			return nb;
	return NULL;
}

void nvme_ns_from_wire(struct sim_bdev *b, json_t *ns)
{
	json_t *sb = json_object_get(ns, "sb"), *blocks = json_object_get(ns, "blocks");
	void *buf;
	size_t len;

	if (json_is_object(blocks)) {
		json_decref(b->blocks);
		b->blocks = json_deep_copy(blocks);
	}
	if (!json_is_string(sb) || fab_hex_decode(json_string_value(sb), &buf, &len) < 0)
		return;
	free(b->mem_sb);
	b->mem_sb = buf;
	b->mem_sb_len = len;
}

/* Create the bdev of one namespace; 0 or a negative errno. */
int nvme_nbdev_create(struct sim *s, struct nvme_bdev_ctrlr *n, const struct nvme_ns_data *ns,
		      json_t *wire)
{
	struct nvme_bdev *nb = calloc(1, sizeof(*nb)), **tail;
	size_t len = strlen(n->name) + 16;
	char *name = malloc(len);
	int err = 0;

	if (!nb || !name)
		abort();
	snprintf(name, len, "%sn%u", n->name, ns->nsid);
	nb->nbdev_ctrlr = n;
	nb->nsid = ns->nsid;
	nb->bdev = sim_bdev_register(s, name, ns->uuid[0] ? ns->uuid : NULL, ns->block_size,
				     ns->num_blocks, ns->md_size, &nvme_bdev_ops, nb, &err);
	free(name);
	if (!nb->bdev) {
		free(nb);
		return err;
	}
	for (tail = &n->bdevs; *tail; tail = &(*tail)->next)
		;
	*tail = nb;
	nb->bdev->write_geometry[0] = 1;
	nb->bdev->write_geometry[1] = 1;
	nb->bdev->write_geometry[2] = 256;
	nb->bdev->write_geometry[3] = 1;
	nb->bdev->write_geometry[4] = 1;
	nb->bdev->numa_id_valid = true;
	nb->bdev->numa_id = -1;
	nvme_ns_from_wire(nb->bdev, wire);
	return 0;
}
