/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bdev_nvme_send_cmd (module/bdev/nvme/nvme_rpc.c): a raw NVMe command on a controller,
 * not on a bdev. cmdbuf is the 64-byte submission entry in URL-safe base64; the answer is
 * the 16-byte completion ("cpl", same encoding) whose status the caller decodes, plus the
 * data read for a controller-to-host command. I/O commands modelled: Read, Write and
 * Write Zeroes on the namespace's blocks, byte-exact (the raid superblock a member carries
 * reads back in SPDK's own layout); any other opcode completes with Invalid Opcode.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/util.h"
#include "common/raid_sb.h"
#include "sim/sim_nvme_internal.h"
#include "sim/sim_raid.h"

#define NVME_OPC_WRITE 0x01
#define NVME_OPC_READ 0x02
#define NVME_OPC_WRITE_ZEROES 0x08
#define NVME_SC_SUCCESS 0x00
#define NVME_SC_INVALID_OPCODE 0x01
#define NVME_SC_INVALID_FIELD 0x02
#define NVME_SC_INVALID_NS 0x0b
#define NVME_SC_LBA_OUT_OF_RANGE 0x80
#define SB_AREA (SPDK_RAID_SB_HEADER_SIZE + SPDK_RAID_SB_BASES_MAX * SPDK_RAID_SB_BASE_SIZE)

struct send_cmd {
	bool io, c2h;
	unsigned char sqe[64];
	unsigned char *data;
	size_t data_len;
};

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void reply_cpl(struct sim_req *req, const struct send_cmd *c, unsigned sc)
{
	unsigned char cpl[16] = {0};
	uint16_t status = (uint16_t)(1u | (sc & 0xffu) << 1); /* phase 1, generic status */
	char *text = NULL, *data = NULL;
	json_t *o;

	cpl[10] = c->sqe[2]; /* cid */
	cpl[11] = c->sqe[3];
	cpl[12] = c->io ? 1 : 0; /* sqid */
	cpl[14] = (unsigned char)status;
	cpl[15] = (unsigned char)(status >> 8);
	text = codec_base64url_encode(cpl, sizeof(cpl));
	if (c->c2h && c->data_len)
		data = codec_base64url_encode(c->data, c->data_len);
	if (!text || (c->c2h && c->data_len && !data)) {
		free(text);
		free(data);
		sim_reply_error(req, -32603, "%s", strerror(ENOMEM));
		return;
	}
	o = json_pack("{s:s}", "cpl", text);
	if (data)
		json_object_set_new(o, "data", json_string(data));
	free(text);
	free(data);
	sim_reply(req, o);
}

/* The raw bytes of n blocks at lba: the data, and the raid superblock where it lies. */
static void read_blocks(struct sim *s, struct sim_bdev *b, uint64_t lba, uint64_t n,
			unsigned char *out)
{
	unsigned char *sb = calloc(1, SB_AREA);
	uint64_t start = lba * b->block_size, end = start + n * b->block_size;

	sim_bdev_blocks_read(s, b, lba, out, n);
	if (sb && start < SB_AREA && raid_sb_render(b, sb, SB_AREA) == 0) {
		for (uint64_t off = start; off < end && off < SB_AREA; off++)
			if (sb[off])
				out[off - start] = sb[off];
	}
	free(sb);
}

static unsigned exec_io(struct sim *s, struct nvme_bdev_ctrlr *n, struct send_cmd *c)
{
	uint32_t nsid = (uint32_t)le(c->sqe + 4, 4);
	uint64_t slba = le(c->sqe + 40, 8), nlb = le(c->sqe + 48, 2) + 1;
	struct nvme_bdev *nb = nvme_nbdev_find(n, nsid);
	struct sim_bdev *b;
	uint64_t bytes;

	if (!nb)
		return NVME_SC_INVALID_NS;
	b = nb->bdev;
	if (slba >= b->num_blocks || nlb > b->num_blocks - slba)
		return NVME_SC_LBA_OUT_OF_RANGE;
	bytes = nlb * b->block_size;
	switch (c->sqe[0]) {
	case NVME_OPC_WRITE_ZEROES:
		if (sim_bdev_blocks_write(s, b, slba, NULL, nlb))
			return NVME_SC_INVALID_FIELD;
		/* the superblock lives in the first blocks: zeroing them erases it */
		if (slba * b->block_size < SB_AREA)
			sim_bdev_sb_write(b, "", 0);
		return NVME_SC_SUCCESS;
	case NVME_OPC_READ:
		if (!c->c2h || c->data_len < bytes)
			return NVME_SC_INVALID_FIELD;
		read_blocks(s, b, slba, nlb, c->data);
		return NVME_SC_SUCCESS;
	case NVME_OPC_WRITE:
		if (c->c2h || c->data_len < bytes ||
		    sim_bdev_blocks_write(s, b, slba, c->data, nlb))
			return NVME_SC_INVALID_FIELD;
		if (slba * b->block_size < SB_AREA)
			sim_bdev_sb_write(b, "", 0);
		return NVME_SC_SUCCESS;
	default:
		return NVME_SC_INVALID_OPCODE;
	}
}

static int decode(struct sim_req *req, struct send_cmd *c)
{
	const char *type = json_string_value(json_object_get(req->params, "cmd_type"));
	const char *dir = json_string_value(json_object_get(req->params, "data_direction"));
	const char *cmdbuf = json_string_value(json_object_get(req->params, "cmdbuf"));
	const char *data = json_string_value(json_object_get(req->params, "data"));
	json_t *data_len = json_object_get(req->params, "data_len");
	void *raw;
	size_t len;

	if (!type || !dir || !cmdbuf)
		return -EINVAL;
	if (strcmp(type, "io") != 0 && strcmp(type, "admin") != 0)
		return -EINVAL;
	if (strcmp(dir, "c2h") != 0 && strcmp(dir, "h2c") != 0)
		return -EINVAL;
	c->io = strcmp(type, "io") == 0;
	c->c2h = strcmp(dir, "c2h") == 0;
	if (codec_base64url_decode(cmdbuf, &raw, &len) < 0)
		return -EINVAL;
	if (len != sizeof(c->sqe)) {
		free(raw);
		return -EINVAL;
	}
	memcpy(c->sqe, raw, len);
	free(raw);
	if (data) {
		if (codec_base64url_decode(data, &raw, &len) < 0)
			return -EINVAL;
		if (data_len && (uint64_t)json_integer_value(data_len) != len) {
			free(raw);
			return -EINVAL;
		}
		c->data = raw;
		c->data_len = len;
	} else if (data_len) {
		c->data_len = (size_t)json_integer_value(data_len);
		c->data = calloc(1, c->data_len ? c->data_len : 1);
		if (!c->data)
			return -ENOMEM;
	}
	return 0;
}

void rpc_bdev_nvme_send_cmd(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"name", SIM_J_STRING, false},		 {"cmd_type", SIM_J_STRING, false},
		{"data_direction", SIM_J_STRING, false}, {"cmdbuf", SIM_J_STRING, false},
		{"timeout_ms", SIM_J_UINT32, true},	 {"data_len", SIM_J_UINT32, true},
		{"metadata_len", SIM_J_UINT32, true},	 {"data", SIM_J_STRING, true},
		{"metadata", SIM_J_STRING, true}};
	struct send_cmd c = {0};
	struct nvme_bdev_ctrlr *n;
	bool connected = false;
	unsigned sc;

	if (!sim_decode_strict(req->params, dec, ARRAY_SIZE(dec)) || decode(req, &c) < 0) {
		free(c.data);
		sim_reply_error(req, -32602, "%s", strerror(EINVAL));
		return;
	}
	n = nvme_bdev_ctrlr_find(req->sim, json_string_value(json_object_get(req->params, "name")));
	if (!n) {
		free(c.data);
		sim_reply_error(req, -32602, "%s", strerror(EINVAL));
		return;
	}
	for (struct nvme_ctrlr *p = n->ctrlrs; p; p = p->next)
		connected |= nvme_ctrlr_connected(p);
	if (!connected) {
		/* no qpair to submit on: spdk_nvme_ctrlr_cmd_*_raw fails */
		free(c.data);
		sim_reply_error(req, -32603, "%s", strerror(ENXIO));
		return;
	}
	sc = c.io ? exec_io(req->sim, n, &c) : NVME_SC_INVALID_OPCODE;
	reply_cpl(req, &c, sc);
	free(c.data);
}
