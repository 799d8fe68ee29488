/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim's model of a volume filled from a snapshot, as real SPDK v25.09 behaves: bytes
 * written through a raid land on its members past data_offset; a snapshot and its clones
 * (bdev_lvol_clone on the same node, bdev_lvol_clone_bdev of the snapshot's export on
 * another) carry them, superblock included; on the host examine leaves such a clone alone,
 * bdev_raid_create refuses it with -17 until bdev_nvme_send_cmd Write Zeroes clears the
 * superblock area, and Read returns the superblock in SPDK's layout.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/codec.h"
#include "common/raid_sb.h"
#include "nvme_harness.h"

#define SRC_UUID "11111111-2222-4333-8444-555555555555"
#define NEW_UUID "66666666-7777-4888-9999-aaaaaaaaaaaa"

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Export an existing bdev (alias) as nqn.2016-06.io.spdk:<id> on port. */
static void export_bdev(struct node *n, const char *alias, const char *id, const char *port)
{
	char nqn[128];

	snprintf(nqn, sizeof(nqn), "nqn.2016-06.io.spdk:%s", id);
	json_decref(call_ok(n, "nvmf_create_subsystem",
			    json_pack("{s:s,s:b}", "nqn", nqn, "allow_any_host", 1)));
	json_decref(
		call_ok(n, "nvmf_subsystem_add_ns",
			json_pack("{s:s,s:{s:s}}", "nqn", nqn, "namespace", "bdev_name", alias)));
	json_decref(call_ok(n, "nvmf_subsystem_add_listener",
			    json_pack("{s:s,s:{s:s,s:s,s:s,s:s}}", "nqn", nqn, "listen_address",
				      "trtype", "tcp", "adrfam", "ipv4", "traddr", "127.0.0.1",
				      "trsvcid", port)));
}

static void attach(struct node *n, const char *name, const char *id, const char *port)
{
	json_decref(call_ok(n, "bdev_nvme_attach_controller", attach_params(name, id, port, 10)));
}

static char *hex_block(unsigned char fill)
{
	unsigned char blk[512];

	for (int i = 0; i < 512; i++)
		blk[i] = (unsigned char)(fill + i);
	{
		static const char d[] = "0123456789abcdef";
		char *h = malloc(1025);

		for (int i = 0; i < 512; i++) {
			h[2 * i] = d[blk[i] >> 4];
			h[2 * i + 1] = d[blk[i] & 15];
		}
		h[1024] = '\0';
		return h;
	}
}

/* The hex of one block at lba of bdev, read through the sim's control channel. */
static char *blk_read(struct node *n, const char *bdev, long lba)
{
	char cmd[256];
	json_t *r;
	char *hex;

	snprintf(cmd, sizeof(cmd),
		 "{\"cmd\":\"blk_read\",\"bdev\":\"%s\",\"lba\":%ld,\"blocks\":1}", bdev, lba);
	r = ctl(&n->t, cmd);
	assert_true(json_is_true(json_object_get(r, "ok")));
	hex = strdup(json_string_value(json_object_get(json_object_get(r, "result"), "data")));
	json_decref(r);
	return hex;
}

/* send_cmd io on ctrlr: opcode, slba, nlb (1-based); *status and the data for a read. */
static void *send_io(struct node *n, const char *ctrlr, int opc, uint64_t slba, unsigned nlb,
		     unsigned *status)
{
	unsigned char sqe[64] = {0}, *cpl;
	char *cmdbuf;
	void *data = NULL;
	size_t len;
	json_t *params, *r;

	sqe[0] = (unsigned char)opc;
	sqe[4] = 1; /* nsid */
	for (int i = 0; i < 8; i++)
		sqe[40 + i] = (unsigned char)(slba >> (8 * i));
	sqe[48] = (unsigned char)(nlb - 1);
	sqe[49] = (unsigned char)((nlb - 1) >> 8);
	cmdbuf = codec_base64url_encode(sqe, sizeof(sqe));
	params = json_pack("{s:s,s:s,s:s,s:s}", "name", ctrlr, "cmd_type", "io", "data_direction",
			   opc == 0x02 ? "c2h" : "h2c", "cmdbuf", cmdbuf);
	if (opc == 0x02)
		json_object_set_new(params, "data_len", json_integer(nlb * 512));
	free(cmdbuf);
	r = call_ok(n, "bdev_nvme_send_cmd", params);
	assert_int_equal(codec_base64url_decode(json_string_value(json_object_get(r, "cpl")),
						(void **)&cpl, &len),
			 0);
	assert_int_equal(len, 16);
	*status = (unsigned)(cpl[14] | cpl[15] << 8) >> 1;
	free(cpl);
	if (opc == 0x02)
		assert_int_equal(
			codec_base64url_decode(json_string_value(json_object_get(r, "data")), &data,
					       &len),
			0);
	json_decref(r);
	return data;
}

static void raid_create(json_t *params, const char *name, const char *uuid, const char *b0,
			const char *b1)
{
	json_object_set_new(params, "name", json_string(name));
	json_object_set_new(params, "raid_level", json_string("raid1"));
	json_object_set_new(params, "uuid", json_string(uuid));
	json_object_set_new(params, "superblock", json_true());
	json_object_set_new(params, "base_bdevs", json_pack("[s,s]", b0, b1));
}

static void test_clone_of_a_raid_member(void **state)
{
	struct node st = {0}, st2 = {0}, host = {0};
	char port[8], port2[8], cmd[2048], *x = hex_block(7), *got;
	struct raid_sb_info sb;
	unsigned status;
	void *data;
	json_t *r, *p;
	int i;

	node_start(&st);
	node_start(&st2);
	node_start(&host);
	free_port(port);
	free_port(port2);
	free(storage_export(&st, "lv0", 8, port, true));
	free(storage_export(&st, "lv1", 8, port, false));
	attach(&host, "s0", "lv0", port);
	attach(&host, "s1", "lv1", port);
	raid_create(p = json_object(), "raid_1", SRC_UUID, "s0n1", "s1n1");
	json_decref(call_ok(&host, "bdev_raid_create", p));

	/* the guest's block 0 lands past data_offset (1 MiB) on both members' lvols */
	snprintf(cmd, sizeof(cmd),
		 "{\"cmd\":\"blk_write\",\"bdev\":\"raid_1\",\"lba\":0,\"data\":\"%s\"}", x);
	json_decref(ctl(&host.t, cmd));
	for (i = 0; i < 200; i++) {
		got = blk_read(&st, "lvs0/lv1", 2048);
		if (strcmp(got, x) == 0)
			break;
		free(got);
		sleep_ms(50);
	}
	assert_true(i < 200);
	free(got);

	/* snapshot of one member, a clone beside it, an esnap clone of its export elsewhere */
	json_decref(
		call_ok(&st, "bdev_lvol_snapshot",
			json_pack("{s:s,s:s}", "lvol_name", "lvs0/lv0", "snapshot_name", "snap")));
	json_decref(
		call_ok(&st, "bdev_lvol_clone",
			json_pack("{s:s,s:s}", "snapshot_name", "lvs0/snap", "clone_name", "ca")));
	export_bdev(&st, "lvs0/ca", "ca", port);
	export_bdev(&st, "lvs0/snap", "snap", port);
	free(storage_export(&st2, "unused", 4, port2, true));
	attach(&st2, "esnap", "snap", port);
	json_decref(call_ok(&st2, "bdev_lvol_clone_bdev",
			    json_pack("{s:s,s:s,s:s}", "bdev", "esnapn1", "lvs_name", "lvs0",
				      "clone_name", "cb")));
	export_bdev(&st2, "lvs0/cb", "cb", port2);

	attach(&host, "na", "ca", port);
	attach(&host, "nb", "cb", port2);
	/* examine leaves a clone alone: its superblock does not list the clone's uuid */
	r = call_ok(&host, "bdev_get_bdevs", json_pack("{s:s}", "name", "nbn1"));
	assert_true(json_is_false(json_object_get(json_array_get(r, 0), "claimed")));
	json_decref(r);

	/* a raw read of block 0 is the source raid's superblock, in SPDK's layout */
	data = send_io(&host, "nb", 0x02, 0, 1, &status);
	assert_int_equal(status, 0);
	assert_int_equal(raid_sb_decode_spdk(data, 512, &sb), 0);
	assert_string_equal(sb.uuid, SRC_UUID);
	assert_string_equal(sb.name, "raid_1");
	assert_int_equal(sb.base_bdevs_size, 2);
	assert_int_equal(sb.base[0].data_offset, 2048);
	free(data);

	/* another raid's superblock: bdev_raid_create refuses the bases */
	raid_create(p = json_object(), "raid_2", NEW_UUID, "nan1", "nbn1");
	free(call_err(&host, "bdev_raid_create", p, -17));

	/* Write Zeroes over data_offset blocks clears it; out of range is refused */
	free(send_io(&host, "na", 0x08, 0, 2048, &status));
	assert_int_equal(status, 0);
	free(send_io(&host, "nb", 0x08, 0, 2048, &status));
	assert_int_equal(status, 0);
	free(send_io(&host, "nb", 0x08, 16384, 1, &status));
	assert_int_equal(status, 0x80);
	data = send_io(&host, "na", 0x02, 0, 1, &status);
	assert_int_equal(raid_sb_decode_spdk(data, 512, &sb), -ENODATA);
	free(data);

	raid_create(p = json_object(), "raid_2", NEW_UUID, "nan1", "nbn1");
	json_decref(call_ok(&host, "bdev_raid_create", p));
	r = call_ok(&host, "bdev_raid_get_bdevs", json_pack("{s:s}", "category", "online"));
	assert_int_equal(json_array_size(r), 2);
	json_decref(r);
	/* the new raid's block 0 is the source's */
	got = blk_read(&host, "raid_2", 0);
	assert_string_equal(got, x);
	free(got);

	free(x);
	node_stop(&host);
	node_stop(&st2);
	node_stop(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clone_of_a_raid_member),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
