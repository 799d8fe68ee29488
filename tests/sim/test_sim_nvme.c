/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim's NVMe host model against a second spdk-sim playing the storage node, over
 * real loopback TCP on ports the kernel hands out: attach, path loss and recovery,
 * the controller loss timeout, disable / enable, a namespace removed on the target, a crashed
 * target, superblocks kept on the target, namespace resize, PCIe drives, DH-HMAC-CHAP and
 * network partitions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvme_harness.h"

struct pair {
	struct node storage, host;
	char port[8];
	char *uuid; /* lv0's uuid */
};

static void pair_up(struct pair *p)
{
	memset(p, 0, sizeof(*p));
	node_start(&p->storage);
	node_start(&p->host);
	free_port(p->port);
	p->uuid = storage_export(&p->storage, "lv0", 16, p->port, true);
}

static void pair_down(struct pair *p)
{
	if (p->host.t.pid)
		node_stop(&p->host);
	if (p->storage.t.pid)
		node_stop(&p->storage);
	free(p->uuid);
}

static json_t *listen_addr(const char *port)
{
	return json_pack("{s:s,s:{s:s,s:s,s:s,s:s}}", "nqn", "nqn.2016-06.io.spdk:lv0",
			 "listen_address", "trtype", "tcp", "adrfam", "ipv4", "traddr", "127.0.0.1",
			 "trsvcid", port);
}

static void test_attach_shows_namespace_and_detach_removes_it(void **state)
{
	struct pair p;
	json_t *r, *b;
	int cntlid = 0;
	char *st;

	pair_up(&p);
	assert_json(call_ok(&p.host, "bdev_nvme_attach_controller",
			    attach_params("nvme0", "lv0", p.port, 10)),
		    "[\"nvme0n1\"]");
	r = call_ok(&p.host, "bdev_get_bdevs", json_pack("{s:s}", "name", "nvme0n1"));
	b = json_array_get(r, 0);
	assert_int_equal(json_integer_value(json_object_get(b, "num_blocks")), 32768);
	/* the namespace (and so the NVMe bdev) carries the lvol's uuid */
	assert_string_equal(json_string_value(json_object_get(b, "uuid")), p.uuid);
	assert_string_equal(json_string_value(json_object_get(b, "product_name")), "NVMe disk");
	json_decref(r);
	st = ctrlr_state(&p.host, "nvme0", &cntlid);
	assert_string_equal(st, "enabled");
	assert_int_equal(cntlid, 1);
	free(st);
	/* the same path again under the same name */
	free(call_err(&p.host, "bdev_nvme_attach_controller",
		      attach_params("nvme0", "lv0", p.port, 10), -114));
	json_decref(call_ok(&p.host, "bdev_nvme_detach_controller",
			    json_pack("{s:s}", "name", "nvme0")));
	assert_json(call_ok(&p.host, "bdev_nvme_get_controllers", NULL), "[]");
	free(call_err(&p.host, "bdev_get_bdevs", json_pack("{s:s}", "name", "nvme0n1"), -19));
	pair_down(&p);
}

static void test_attach_failures_are_eio(void **state)
{
	struct pair p;
	char other[8];
	char *msg;

	pair_up(&p);
	free_port(other);
	msg = call_err(&p.host, "bdev_nvme_attach_controller",
		       attach_params("nvme1", "lv0", other, 10), -5);
	assert_string_equal(msg, "Input/output error");
	free(msg);
	msg = call_err(&p.host, "bdev_nvme_attach_controller",
		       attach_params("nvme1", "nosuch", p.port, 10), -5);
	assert_string_equal(msg, "Input/output error");
	free(msg);
	assert_json(call_ok(&p.host, "bdev_nvme_get_controllers", NULL), "[]");
	pair_down(&p);
}

static void test_loss_timeout_deletes_controller_and_bdev(void **state)
{
	struct pair p;

	pair_up(&p);
	json_decref(call_ok(&p.host, "bdev_nvme_attach_controller",
			    attach_params("nvme0", "lv0", p.port, 2)));
	json_decref(call_ok(&p.storage, "nvmf_subsystem_remove_listener", listen_addr(p.port)));
	assert_true(wait_state(&p.host, "nvme0", "reconnect_is_delayed", 1000));
	/* the bdev stays while the path is retried */
	json_decref(call_ok(&p.host, "bdev_get_bdevs", json_pack("{s:s}", "name", "nvme0n1")));
	assert_true(wait_state(&p.host, "nvme0", NULL, 4000));
	free(call_err(&p.host, "bdev_get_bdevs", json_pack("{s:s}", "name", "nvme0n1"), -19));
	/* nothing comes back by itself once the listener returns */
	json_decref(call_ok(&p.storage, "nvmf_subsystem_add_listener", listen_addr(p.port)));
	usleep(1500000);
	assert_json(call_ok(&p.host, "bdev_nvme_get_controllers", NULL), "[]");
	pair_down(&p);
}

static void test_no_reconnect_delay_leaves_controller_failed(void **state)
{
	struct pair p;
	json_t *ap;

	pair_up(&p);
	ap = attach_params("nvme0", "lv0", p.port, 0);
	json_object_set_new(ap, "reconnect_delay_sec", json_integer(0));
	json_decref(call_ok(&p.host, "bdev_nvme_attach_controller", ap));
	json_decref(call_ok(&p.storage, "nvmf_subsystem_remove_listener", listen_addr(p.port)));
	assert_true(wait_state(&p.host, "nvme0", "failed", 1000));
	/* nothing retries and nothing is deleted */
	usleep(1200000);
	assert_true(wait_state(&p.host, "nvme0", "failed", 0));
	json_decref(call_ok(&p.host, "bdev_get_bdevs", json_pack("{s:s}", "name", "nvme0n1")));
	/* a reset reconnects once the listener is back */
	json_decref(call_ok(&p.storage, "nvmf_subsystem_add_listener", listen_addr(p.port)));
	json_decref(call_ok(&p.host, "bdev_nvme_reset_controller",
			    json_pack("{s:s}", "name", "nvme0")));
	assert_true(wait_state(&p.host, "nvme0", "enabled", 500));
	pair_down(&p);
}

static int64_t tripwire(struct node *n)
{
	json_t *v = ctl(&n->t, "{\"cmd\":\"tripwires\"}");
	int64_t k = json_integer_value(json_object_get(json_object_get(v, "result"),
						       "unfiltered_bdev_get_bdevs_during_reset"));

	json_decref(v);
	return k;
}

/*
 * An unfiltered bdev_get_bdevs while a controller resets -- bdev_nvme_reset_controller, or a lost
 * path reconnecting -- is answered (as SPDK v25.09 does) and counted; outside a reset it is not.
 */
static void test_unfiltered_listing_during_reset_counted(void **state)
{
	struct pair p;
	struct tconn c;
	json_t *v;

	pair_up(&p);
	json_decref(call_ok(&p.host, "bdev_nvme_attach_controller",
			    attach_params("nvme0", "lv0", p.port, 10)));
	json_decref(call_ok(&p.host, "bdev_get_bdevs", NULL));
	assert_int_equal(tripwire(&p.host), 0);
	/* pipelined behind a reset on one connection: it arrives while the path reconnects */
	conn_open(&c, p.host.t.rpc);
	conn_send(&c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"bdev_nvme_reset_controller\","
		      "\"params\":{\"name\":\"nvme0\"}}"
		      "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"bdev_get_bdevs\"}");
	for (int i = 0; i < 2; i++) {
		v = conn_recv(&c, 3000, NULL);
		assert_non_null(v);
		assert_null(json_object_get(v, "error"));
		json_decref(v);
	}
	close(c.fd);
	assert_int_equal(tripwire(&p.host), 1);
	/* a lost path reconnecting counts too */
	json_decref(call_ok(&p.storage, "nvmf_subsystem_remove_listener", listen_addr(p.port)));
	assert_true(wait_state(&p.host, "nvme0", "reconnect_is_delayed", 1000));
	json_decref(call_ok(&p.storage, "nvmf_subsystem_add_listener", listen_addr(p.port)));
	/* list back to back until the path is enabled again: some calls land in its reconnect */
	for (int i = 0; i < 20000; i++) {
		int cntlid = 0;
		char *st = ctrlr_state(&p.host, "nvme0", &cntlid);
		bool back = st && strcmp(st, "enabled") == 0;

		free(st);
		if (back)
			break;
		json_decref(call_ok(&p.host, "bdev_get_bdevs", NULL));
	}
	assert_true(wait_state(&p.host, "nvme0", "enabled", 0));
	assert_true(tripwire(&p.host) > 1);
	pair_down(&p);
}

/* Call and require the answer true. */
static void expect_true(struct node *n, const char *method, json_t *params)
{
	json_t *r = call_ok(n, method, params);

	assert_true(json_is_true(r));
	json_decref(r);
}

/*
 * bdev_nvme_disable_controller (SPDK v25.09 bdev_nvme_disable_ctrlr): the path disconnects and
 * is listed "disabled", its bdev stays, nothing retries it and a reset leaves it (-EALREADY,
 * counted as done); bdev_nvme_enable_controller reconnects it.
 */
static void test_disable_and_enable_controller(void **state)
{
	struct pair p;
	int cntlid = 0;
	char *st;

	pair_up(&p);
	json_decref(call_ok(&p.host, "bdev_nvme_attach_controller",
			    attach_params("nvme0", "lv0", p.port, 10)));
	expect_true(&p.host, "bdev_nvme_disable_controller", json_pack("{s:s}", "name", "nvme0"));
	assert_true(wait_state(&p.host, "nvme0", "disabled", 0));
	json_decref(call_ok(&p.host, "bdev_get_bdevs", json_pack("{s:s}", "name", "nvme0n1")));
	expect_true(&p.host, "bdev_nvme_disable_controller", json_pack("{s:s}", "name", "nvme0"));
	expect_true(&p.host, "bdev_nvme_reset_controller", json_pack("{s:s}", "name", "nvme0"));
	usleep(1200000); /* past reconnect_delay_sec: still nothing retried */
	assert_true(wait_state(&p.host, "nvme0", "disabled", 0));
	free(call_err(&p.host, "bdev_nvme_disable_controller",
		      json_pack("{s:s}", "name", "nvme9"), -19));
	expect_true(&p.host, "bdev_nvme_enable_controller", json_pack("{s:s}", "name", "nvme0"));
	assert_true(wait_state(&p.host, "nvme0", "enabled", 0));
	st = ctrlr_state(&p.host, "nvme0", &cntlid);
	assert_int_equal(cntlid, 2);
	free(st);
	expect_true(&p.host, "bdev_nvme_enable_controller", json_pack("{s:s}", "name", "nvme0"));
	pair_down(&p);
}

/* A namespace removed on the target: the namespace-change notice deletes the bdev only. */
static void test_namespace_removal_deletes_bdev_keeps_controller(void **state)
{
	struct pair p;
	json_t *ans = NULL;

	pair_up(&p);
	json_decref(call_ok(&p.host, "bdev_nvme_attach_controller",
			    attach_params("nvme0", "lv0", p.port, 10)));
	expect_true(&p.storage, "nvmf_subsystem_remove_ns",
		    json_pack("{s:s,s:i}", "nqn", "nqn.2016-06.io.spdk:lv0", "nsid", 1));
	for (int i = 0; i < 100; i++) {
		json_decref(ans);
		ans = call(&p.host, "bdev_get_bdevs", json_pack("{s:s}", "name", "nvme0n1"));
		if (json_object_get(ans, "error"))
			break;
		usleep(50000);
	}
	assert_int_equal(json_integer_value(json_object_get(json_object_get(ans, "error"), "code")),
			 -19);
	json_decref(ans);
	assert_true(wait_state(&p.host, "nvme0", "enabled", 0));
	pair_down(&p);
}

static void test_short_outage_recovers_with_new_cntlid(void **state)
{
	struct pair p;
	int cntlid = 0;
	char *st;

	pair_up(&p);
	json_decref(call_ok(&p.host, "bdev_nvme_attach_controller",
			    attach_params("nvme0", "lv0", p.port, 10)));
	json_decref(call_ok(&p.storage, "nvmf_subsystem_remove_listener", listen_addr(p.port)));
	assert_true(wait_state(&p.host, "nvme0", "reconnect_is_delayed", 1000));
	usleep(1200000);
	json_decref(call_ok(&p.storage, "nvmf_subsystem_add_listener", listen_addr(p.port)));
	assert_true(wait_state(&p.host, "nvme0", "enabled", 3000));
	st = ctrlr_state(&p.host, "nvme0", &cntlid);
	assert_int_equal(cntlid, 2);
	free(st);
	pair_down(&p);
}

static void test_target_crash_loses_path(void **state)
{
	struct pair p;

	pair_up(&p);
	json_decref(call_ok(&p.host, "bdev_nvme_attach_controller",
			    attach_params("nvme0", "lv0", p.port, 1)));
	node_kill9(&p.storage);
	assert_true(wait_state(&p.host, "nvme0", "reconnect_is_delayed", 1000));
	assert_true(wait_state(&p.host, "nvme0", NULL, 3000));
	pair_down(&p);
}

static void test_superblock_survives_host_restart(void **state)
{
	struct pair p;
	json_t *ans;

	pair_up(&p);
	json_decref(call_ok(&p.host, "bdev_nvme_attach_controller",
			    attach_params("nvme0", "lv0", p.port, 10)));
	ans = ctl(&p.host.t, "{\"cmd\":\"sb_write\",\"bdev\":\"nvme0n1\",\"data\":\"deadbeef01\"}");
	assert_true(json_is_true(json_object_get(ans, "ok")));
	json_decref(ans);
	/* the bytes live on the storage node's lvol */
	usleep(100000);
	assert_json(ctl(&p.storage.t, "{\"cmd\":\"sb_read\",\"bdev\":\"lvs0/lv0\"}"),
		    "{\"ok\":true,\"result\":{\"data\":\"deadbeef01\"}}");
	node_kill9(&p.host);
	node_start(&p.host);
	json_decref(call_ok(&p.host, "bdev_nvme_attach_controller",
			    attach_params("nvme0", "lv0", p.port, 10)));
	assert_json(ctl(&p.host.t, "{\"cmd\":\"sb_read\",\"bdev\":\"nvme0n1\"}"),
		    "{\"ok\":true,\"result\":{\"data\":\"deadbeef01\"}}");
	pair_down(&p);
}

static void test_resize_reaches_host(void **state)
{
	struct pair p;
	uint64_t deadline;
	json_int_t nb = 0;

	pair_up(&p);
	json_decref(call_ok(&p.host, "bdev_nvme_attach_controller",
			    attach_params("nvme0", "lv0", p.port, 10)));
	json_decref(call_ok(&p.storage, "bdev_lvol_resize",
			    json_pack("{s:s,s:i}", "name", "lvs0/lv0", "size_in_mib", 24)));
	for (deadline = now_ms() + 1000; now_ms() < deadline && nb != 49152; usleep(20000)) {
		json_t *r =
			call_ok(&p.host, "bdev_get_bdevs", json_pack("{s:s}", "name", "nvme0n1"));

		nb = json_integer_value(json_object_get(json_array_get(r, 0), "num_blocks"));
		json_decref(r);
	}
	assert_int_equal(nb, 49152);
	pair_down(&p);
}

static void test_partition_and_heal(void **state)
{
	struct pair p;
	json_t *ans;
	char cmd[160];

	pair_up(&p);
	json_decref(call_ok(&p.host, "bdev_nvme_attach_controller",
			    attach_params("nvme0", "lv0", p.port, 10)));
	snprintf(cmd, sizeof(cmd),
		 "{\"cmd\":\"path_down\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"%s\"}", p.port);
	ans = ctl(&p.host.t, cmd);
	assert_true(json_is_true(json_object_get(ans, "ok")));
	json_decref(ans);
	assert_true(wait_state(&p.host, "nvme0", "reconnect_is_delayed", 500));
	snprintf(cmd, sizeof(cmd),
		 "{\"cmd\":\"path_up\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"%s\"}", p.port);
	ans = ctl(&p.host.t, cmd);
	assert_true(json_is_true(json_object_get(ans, "ok")));
	json_decref(ans);
	assert_true(wait_state(&p.host, "nvme0", "enabled", 2500));
	/* healing an address that is not partitioned is an error naming the command */
	ans = ctl(&p.host.t, cmd);
	assert_false(json_is_true(json_object_get(ans, "ok")));
	json_decref(ans);
	pair_down(&p);
}

static void test_pcie_drive_attach_and_hot_remove(void **state)
{
	struct node h = {0};
	json_t *r, *ans;
	char *msg;

	node_start(&h);
	ans = ctl(&h.t, "{\"cmd\":\"pcie_add\",\"traddr\":\"0000:5e:00.0\",\"num_blocks\":4096}");
	assert_true(json_is_true(json_object_get(ans, "ok")));
	json_decref(ans);
	ans = ctl(&h.t, "{\"cmd\":\"pcie_add\",\"traddr\":\"0000:5e:00.0\",\"num_blocks\":4096}");
	assert_false(json_is_true(json_object_get(ans, "ok")));
	json_decref(ans);
	assert_json(call_ok(&h, "bdev_nvme_attach_controller",
			    json_pack("{s:s,s:s,s:s}", "name", "local", "trtype", "PCIe", "traddr",
				      "0000:5e:00.0")),
		    "[\"localn1\"]");
	r = call_ok(&h, "bdev_get_bdevs", json_pack("{s:s}", "name", "localn1"));
	assert_int_equal(json_integer_value(json_object_get(json_array_get(r, 0), "num_blocks")),
			 4096);
	json_decref(r);
	msg = call_err(&h, "bdev_nvme_attach_controller",
		       json_pack("{s:s,s:s,s:s}", "name", "other", "trtype", "PCIe", "traddr",
				 "0000:99:00.0"),
		       -5);
	free(msg);
	ans = ctl(&h.t, "{\"cmd\":\"pcie_remove\",\"traddr\":\"0000:5e:00.0\"}");
	assert_true(json_is_true(json_object_get(ans, "ok")));
	json_decref(ans);
	free(call_err(&h, "bdev_get_bdevs", json_pack("{s:s}", "name", "localn1"), -19));
	assert_json(call_ok(&h, "bdev_nvme_get_controllers", NULL), "[]");
	node_stop(&h);
}

/* The controller names bdev_nvme_get_controllers lists, comma-separated, after a few polls. */
static char *ctrlr_names_after(struct node *h, const char *want)
{
	char *out = NULL;

	for (int i = 0; i < 200; i++) {
		json_t *r = call_ok(h, "bdev_nvme_get_controllers", NULL);
		size_t k;
		json_t *c;

		free(out);
		out = calloc(1, 512);
		json_array_foreach(r, k, c)
		{
			snprintf(out + strlen(out), 512 - strlen(out), "%s%s", k ? "," : "",
				 json_string_value(json_object_get(c, "name")));
		}
		json_decref(r);
		if (strcmp(out, want) == 0)
			break;
		usleep(10000);
	}
	return out;
}

/*
 * SPDK's hotplug monitor (bdev_nvme_hotplug, attach_cb): with it enabled, a drive nobody
 * claims is attached as HotInNvme<N>; one detached by RPC goes on the skip list and stays
 * free until an attach names it again. Hot removal deletes the controller (remove_cb), which
 * leaves the drive off the skip list: back in, it is taken again.
 */
static void test_pcie_hotplug_monitor(void **state)
{
	struct node h = {0};
	json_t *ans;
	char *names;

	node_start(&h);
	json_decref(call_ok(&h, "bdev_nvme_set_hotplug", json_pack("{s:b}", "enable", 1)));
	ans = ctl(&h.t, "{\"cmd\":\"pcie_add\",\"traddr\":\"0000:5e:00.0\",\"num_blocks\":4096}");
	assert_true(json_is_true(json_object_get(ans, "ok")));
	json_decref(ans);
	names = ctrlr_names_after(&h, "HotInNvme0");
	assert_string_equal(names, "HotInNvme0");
	free(names);
	/* an attach by RPC of the same drive finds it taken */
	free(call_err(&h, "bdev_nvme_attach_controller",
		      json_pack("{s:s,s:s,s:s}", "name", "mine", "trtype", "PCIe", "traddr",
				"0000:5e:00.0"),
		      -17));
	json_decref(call_ok(&h, "bdev_nvme_detach_controller",
			    json_pack("{s:s}", "name", "HotInNvme0")));
	/* skipped now: another drive plugged in is taken, this one is left alone */
	ans = ctl(&h.t, "{\"cmd\":\"pcie_add\",\"traddr\":\"0000:5f:00.0\",\"num_blocks\":4096}");
	json_decref(ans);
	names = ctrlr_names_after(&h, "HotInNvme1");
	assert_string_equal(names, "HotInNvme1");
	free(names);
	assert_json(call_ok(&h, "bdev_nvme_attach_controller",
			    json_pack("{s:s,s:s,s:s}", "name", "mine", "trtype", "PCIe", "traddr",
				      "0000:5e:00.0")),
		    "[\"minen1\"]");
	/* hot removal and re-insertion: the monitor takes the drive back under a new name */
	json_decref(ctl(&h.t, "{\"cmd\":\"pcie_remove\",\"traddr\":\"0000:5e:00.0\"}"));
	names = ctrlr_names_after(&h, "HotInNvme1");
	assert_string_equal(names, "HotInNvme1");
	free(names);
	json_decref(ctl(&h.t,
			"{\"cmd\":\"pcie_add\",\"traddr\":\"0000:5e:00.0\",\"num_blocks\":4096}"));
	names = ctrlr_names_after(&h, "HotInNvme1,HotInNvme2");
	assert_string_equal(names, "HotInNvme1,HotInNvme2");
	free(names);
	node_stop(&h);
}

static void test_failover_trid_joins_first_controller(void **state)
{
	struct pair p;
	char second[8];
	json_t *ap, *r, *ctrlr;

	pair_up(&p);
	free_port(second);
	json_decref(call_ok(&p.storage, "nvmf_subsystem_add_listener", listen_addr(second)));
	ap = attach_params("nvme0", "lv0", p.port, 10);
	json_object_set_new(ap, "multipath", json_string("failover"));
	assert_json(call_ok(&p.host, "bdev_nvme_attach_controller", ap), "[\"nvme0n1\"]");
	/* a multipath path under a failover name mixes the two modes */
	free(call_err(&p.host, "bdev_nvme_attach_controller",
		      attach_params("nvme0", "lv0", second, 10), -22));
	ap = attach_params("nvme0", "lv0", second, 10);
	json_object_set_new(ap, "multipath", json_string("failover"));
	assert_json(call_ok(&p.host, "bdev_nvme_attach_controller", ap), "[\"nvme0n1\"]");
	r = call_ok(&p.host, "bdev_nvme_get_controllers", json_pack("{s:s}", "name", "nvme0"));
	ctrlr = json_array_get(json_object_get(json_array_get(r, 0), "ctrlrs"), 0);
	assert_int_equal(json_array_size(json_object_get(json_array_get(r, 0), "ctrlrs")), 1);
	assert_string_equal(
		json_string_value(json_object_get(
			json_array_get(json_object_get(ctrlr, "alternate_trids"), 0), "trsvcid")),
		second);
	json_decref(r);
	/* detaching the failover trid leaves the controller */
	json_decref(call_ok(&p.host, "bdev_nvme_detach_controller",
			    json_pack("{s:s,s:s}", "name", "nvme0", "trsvcid", second)));
	assert_true(wait_state(&p.host, "nvme0", "enabled", 100));
	pair_down(&p);
}

static void expect_ctl_error(struct node *n, const char *cmd, const char *needle)
{
	json_t *ans = ctl(&n->t, cmd);
	const char *err = json_string_value(json_object_get(ans, "error"));

	assert_false(json_is_true(json_object_get(ans, "ok")));
	assert_non_null(err);
	if (!strstr(err, needle))
		fail_msg("%s: error \"%s\" does not name \"%s\"", cmd, err, needle);
	json_decref(ans);
}

static void test_control_commands_reject_bad_arguments(void **state)
{
	struct node h = {0};

	node_start(&h);
	expect_ctl_error(&h, "{\"cmd\":\"path_down\"}", "traddr");
	expect_ctl_error(&h, "{\"cmd\":\"path_up\",\"traddr\":\"10.0.0.1\"}", "partition");
	expect_ctl_error(&h, "{\"cmd\":\"pcie_add\",\"traddr\":\"0000:01:00.0\"}", "num_blocks");
	expect_ctl_error(&h,
			 "{\"cmd\":\"pcie_add\",\"traddr\":\"0000:01:00.0\",\"num_blocks\":8,"
			 "\"block_size\":100}",
			 "block_size");
	expect_ctl_error(&h, "{\"cmd\":\"pcie_remove\",\"traddr\":\"0000:01:00.0\"}", "PCIe");
	expect_ctl_error(&h, "{\"cmd\":\"sb_read\",\"bdev\":\"nope\"}", "bdev");
	expect_ctl_error(&h, "{\"cmd\":\"sb_write\",\"bdev\":\"nope\",\"data\":\"00\"}", "bdev");
	node_stop(&h);
}

static void write_key(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	chmod(path, 0600);
}

static void test_dhchap_auth(void **state)
{
	struct pair p;
	char dir[] = "/tmp/simkeys.XXXXXX", k0[64], kbad[64];
	json_t *ap;

	assert_non_null(mkdtemp(dir));
	snprintf(k0, sizeof(k0), "%s/key0", dir);
	snprintf(kbad, sizeof(kbad), "%s/kbad", dir);
	write_key(k0, "DHHC-1:00:c2VjcmV0LWtleS1udW1iZXItb25lLWZvci10ZXN0cw==:\n");
	write_key(kbad, "DHHC-1:00:b3RoZXIta2V5LW51bWJlci10d28tZm9yLXRlc3RzISE=:\n");
	pair_up(&p);
	json_decref(call_ok(&p.storage, "keyring_file_add_key",
			    json_pack("{s:s,s:s}", "name", "key0", "path", k0)));
	json_decref(call_ok(
		&p.storage, "nvmf_subsystem_allow_any_host",
		json_pack("{s:s,s:b}", "nqn", "nqn.2016-06.io.spdk:lv0", "allow_any_host", 0)));
	json_decref(call_ok(&p.storage, "nvmf_subsystem_add_host",
			    json_pack("{s:s,s:s,s:s}", "nqn", "nqn.2016-06.io.spdk:lv0", "host",
				      "nqn.2024-01.io.diskengine:test", "dhchap_key", "key0")));
	json_decref(call_ok(&p.host, "keyring_file_add_key",
			    json_pack("{s:s,s:s}", "name", "key0", "path", k0)));
	json_decref(call_ok(&p.host, "keyring_file_add_key",
			    json_pack("{s:s,s:s}", "name", "kbad", "path", kbad)));
	/* no key, a wrong key, an unknown key name */
	free(call_err(&p.host, "bdev_nvme_attach_controller",
		      attach_params("nvme0", "lv0", p.port, 10), -5));
	ap = attach_params("nvme0", "lv0", p.port, 10);
	json_object_set_new(ap, "dhchap_key", json_string("kbad"));
	free(call_err(&p.host, "bdev_nvme_attach_controller", ap, -5));
	ap = attach_params("nvme0", "lv0", p.port, 10);
	json_object_set_new(ap, "dhchap_key", json_string("nokey"));
	free(call_err(&p.host, "bdev_nvme_attach_controller", ap, -126));
	/* bidirectional without a controller key on the target */
	ap = attach_params("nvme0", "lv0", p.port, 10);
	json_object_set_new(ap, "dhchap_key", json_string("key0"));
	json_object_set_new(ap, "dhchap_ctrlr_key", json_string("key0"));
	free(call_err(&p.host, "bdev_nvme_attach_controller", ap, -5));
	ap = attach_params("nvme0", "lv0", p.port, 10);
	json_object_set_new(ap, "dhchap_key", json_string("key0"));
	assert_json(call_ok(&p.host, "bdev_nvme_attach_controller", ap), "[\"nvme0n1\"]");
	pair_down(&p);
	unlink(k0);
	unlink(kbad);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_shows_namespace_and_detach_removes_it),
		cmocka_unit_test(test_attach_failures_are_eio),
		cmocka_unit_test(test_loss_timeout_deletes_controller_and_bdev),
		cmocka_unit_test(test_no_reconnect_delay_leaves_controller_failed),
		cmocka_unit_test(test_short_outage_recovers_with_new_cntlid),
		cmocka_unit_test(test_disable_and_enable_controller),
		cmocka_unit_test(test_namespace_removal_deletes_bdev_keeps_controller),
		cmocka_unit_test(test_target_crash_loses_path),
		cmocka_unit_test(test_unfiltered_listing_during_reset_counted),
		cmocka_unit_test(test_superblock_survives_host_restart),
		cmocka_unit_test(test_resize_reaches_host),
		cmocka_unit_test(test_partition_and_heal),
		cmocka_unit_test(test_pcie_drive_attach_and_hot_remove),
		cmocka_unit_test(test_pcie_hotplug_monitor),
		cmocka_unit_test(test_dhchap_auth),
		cmocka_unit_test(test_failover_trid_joins_first_controller),
		cmocka_unit_test(test_control_commands_reject_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, kill_children);
}
