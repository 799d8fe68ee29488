/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim raid after calls that fail half-way, against SPDK v25.09's bdev_raid.c: a member
 * removal whose superblock update cannot be written (the other member's only path is down)
 * fails, keeps the member, and leaves the array quiesced for good -- later removals are
 * never answered and a rebuild copies nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvme_harness.h"

struct mirror {
	struct node storage, host;
	char port[3][8];
};

/*
 * lv0, lv1 (and lv2) exported on their own ports, attached as nvme0, nvme1 (nvme2), and
 * raid_1 with superblock over them.
 */
static void mirror_up(struct mirror *m, int members)
{
	static const char *const lv[] = {"lv0", "lv1", "lv2"};
	static const char *const ctrlr[] = {"nvme0", "nvme1", "nvme2"};
	json_t *bases = json_array();

	memset(m, 0, sizeof(*m));
	node_start(&m->storage);
	node_start(&m->host);
	for (int i = 0; i < members; i++) {
		char bdev[16];

		free_port(m->port[i]);
		free(storage_export(&m->storage, lv[i], 16, m->port[i], i == 0));
		json_decref(call_ok(&m->host, "bdev_nvme_attach_controller",
				    attach_params(ctrlr[i], lv[i], m->port[i], 30)));
		snprintf(bdev, sizeof(bdev), "%sn1", ctrlr[i]);
		json_array_append_new(bases, json_string(bdev));
	}
	json_decref(call_ok(&m->host, "bdev_raid_create",
			    json_pack("{s:s,s:s,s:o,s:b}", "name", "raid_1", "raid_level", "raid1",
				      "base_bdevs", bases, "superblock", 1)));
}

static void mirror_down(struct mirror *m)
{
	/* a clean exit: a sanitized build reports leaks (held requests included) here */
	if (m->host.c.fd >= 0)
		close(m->host.c.fd);
	m->host.c.fd = -1;
	assert_int_equal(sim_stop_proc(&m->host.t), 0);
	node_stop(&m->storage);
}

static void path(struct mirror *m, const char *cmd, const char *port)
{
	char text[160];
	json_t *ans;

	snprintf(text, sizeof(text), "{\"cmd\":\"%s\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"%s\"}",
		 cmd, port);
	ans = ctl(&m->host.t, text);
	assert_true(json_is_true(json_object_get(ans, "ok")));
	json_decref(ans);
}

static json_t *raid_of(struct mirror *m)
{
	json_t *r = call_ok(&m->host, "bdev_raid_get_bdevs", json_pack("{s:s}", "category", "all"));
	json_t *one = json_incref(json_array_get(r, 0));

	json_decref(r);
	return one;
}

static int64_t jint(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* Send a removal and see that no answer comes within ms. */
static void expect_no_answer(struct mirror *m, const char *member, int id, int ms)
{
	char text[160];
	bool closed = false;
	json_t *ans;

	snprintf(text, sizeof(text),
		 "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"bdev_raid_remove_base_bdev\","
		 "\"params\":{\"name\":\"%s\"}}",
		 id, member);
	conn_send(&m->host.c, text);
	ans = conn_recv(&m->host.c, ms, &closed);
	if (ans) {
		char *t = json_dumps(ans, JSON_COMPACT);

		fail_msg("removal of %s was answered: %s", member, t);
	}
	assert_false(closed);
}

static void test_failed_removal_leaves_array_quiesced(void **state)
{
	struct mirror m;
	bool closed = false;
	json_t *r, *b;
	char *msg;

	mirror_up(&m, 2);
	path(&m, "path_down", m.port[1]);
	assert_true(wait_state(&m.host, "nvme1", "reconnect_is_delayed", 5000));
	/* the loss of nvme0n1 must be recorded on nvme1n1, which cannot be written */
	msg = call_err(&m.host, "bdev_raid_remove_base_bdev", json_pack("{s:s}", "name", "nvme0n1"),
		       -5);
	assert_string_equal(msg, "Failed to remove base bdev from raid bdev");
	free(msg);
	/* the member stays, claimed */
	r = raid_of(&m);
	assert_int_equal(jint(r, "num_base_bdevs_discovered"), 2);
	assert_int_equal(jint(r, "num_base_bdevs_operational"), 2);
	json_decref(r);
	r = call_ok(&m.host, "bdev_get_bdevs", json_pack("{s:s}", "name", "nvme0n1"));
	b = json_array_get(r, 0);
	assert_true(json_is_true(json_object_get(b, "claimed")));
	json_decref(r);
	/* the array was never unquiesced: the next removal waits for good, path back or not */
	expect_no_answer(&m, "nvme0n1", 9001, 300);
	path(&m, "path_up", m.port[1]);
	assert_true(wait_state(&m.host, "nvme1", "enabled", 5000));
	assert_null(conn_recv(&m.host.c, 300, &closed));
	/* that member's removal is scheduled: asking again finds nothing to remove */
	free(call_err(&m.host, "bdev_raid_remove_base_bdev", json_pack("{s:s}", "name", "nvme0n1"),
		      -19));
	mirror_down(&m);
}

static void test_rebuild_on_quiesced_array_copies_nothing(void **state)
{
	struct mirror m;
	json_t *r, *proc, *ans;
	char *msg;

	/* three members, one removed at once: its slot is free for a rebuild */
	mirror_up(&m, 3);
	json_decref(call_ok(&m.host, "bdev_raid_remove_base_bdev",
			    json_pack("{s:s}", "name", "nvme0n1")));
	/* a removal that cannot be recorded on nvme1n1 quiesces the array for good */
	path(&m, "path_down", m.port[1]);
	assert_true(wait_state(&m.host, "nvme1", "reconnect_is_delayed", 5000));
	msg = call_err(&m.host, "bdev_raid_remove_base_bdev", json_pack("{s:s}", "name", "nvme2n1"),
		       -5);
	free(msg);
	path(&m, "path_up", m.port[1]);
	assert_true(wait_state(&m.host, "nvme1", "enabled", 5000));
	/* a rebuild into the free slot starts but never copies a window */
	json_decref(call_ok(&m.host, "bdev_raid_set_options",
			    json_pack("{s:i,s:i}", "process_window_size_kb", 64,
				      "process_max_bandwidth_mb_sec", 1000)));
	ans = ctl(&m.host.t, "{\"cmd\":\"scratch_bdev_add\",\"name\":\"d9\",\"num_blocks\":32768}");
	assert_true(json_is_true(json_object_get(ans, "ok")));
	json_decref(ans);
	json_decref(call_ok(&m.host, "bdev_raid_add_base_bdev",
			    json_pack("{s:s,s:s}", "raid_bdev", "raid_1", "base_bdev", "d9")));
	/* unquiesced, 7 MiB at 1000 MB/s would be copied within a few ms */
	usleep(300000);
	r = raid_of(&m);
	proc = json_object_get(r, "process");
	assert_non_null(proc);
	assert_int_equal(jint(json_object_get(proc, "progress"), "blocks"), 0);
	json_decref(r);
	mirror_down(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_removal_leaves_array_quiesced),
		cmocka_unit_test(test_rebuild_on_quiesced_array_copies_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, kill_children);
}
