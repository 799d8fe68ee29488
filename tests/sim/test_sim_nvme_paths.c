/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim's NVMe-oF path addressing against SPDK v25.09's host side: hostaddr /
 * hostsvcid on bdev_nvme_attach_controller (what the qpair connect makes of them, through
 * nvme_parse_addr and lib/sock's source bind) and the path selector of
 * bdev_nvme_detach_controller (nvme_path_id_compare: empty fields select everything, a
 * host address selects only paths attached with it, failover trids carry none).
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

struct pair {
	struct node storage, host;
	char port[8];
	char *uuid;
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
	/* a clean exit: a sanitized build reports leaks (held requests included) here */
	if (p->host.c.fd >= 0)
		close(p->host.c.fd);
	p->host.c.fd = -1;
	assert_int_equal(sim_stop_proc(&p->host.t), 0);
	node_stop(&p->storage);
	free(p->uuid);
}

static json_t *attach_from(const char *name, const char *port, const char *hostaddr,
			   const char *hostsvcid)
{
	json_t *ap = attach_params(name, "lv0", port, 10);

	if (hostaddr)
		json_object_set_new(ap, "hostaddr", json_string(hostaddr));
	if (hostsvcid)
		json_object_set_new(ap, "hostsvcid", json_string(hostsvcid));
	return ap;
}

/* The attach fails like every refused connect of SPDK, and leaves nothing behind. */
static void expect_attach_eio(struct pair *p, json_t *ap)
{
	char *msg = call_err(&p->host, "bdev_nvme_attach_controller", ap, -5);

	assert_string_equal(msg, "Input/output error");
	free(msg);
	assert_json(call_ok(&p->host, "bdev_nvme_get_controllers", NULL), "[]");
	free(call_err(&p->host, "bdev_get_bdevs", json_pack("{s:s}", "name", "nvme0n1"), -19));
}

static void test_source_address_must_be_usable(void **state)
{
	struct pair p;
	json_t *ap;

	pair_up(&p);
	/* not an address: the source does not parse */
	expect_attach_eio(&p, attach_from("nvme0", p.port, "not-an-address", NULL));
	/* an address of the other family than the target's adrfam */
	expect_attach_eio(&p, attach_from("nvme0", p.port, "::1", NULL));
	/* an address this host does not have: bind() refuses it */
	expect_attach_eio(&p, attach_from("nvme0", p.port, "192.0.2.77", NULL));
	/* ports outside 1..65535 or not a number */
	expect_attach_eio(&p, attach_from("nvme0", p.port, "127.0.0.1", "0"));
	expect_attach_eio(&p, attach_from("nvme0", p.port, "127.0.0.1", "70000"));
	expect_attach_eio(&p, attach_from("nvme0", p.port, NULL, "http"));
	/* the path's own address family must be an IP one */
	ap = attach_params("nvme0", "lv0", p.port, 10);
	json_object_del(ap, "adrfam");
	expect_attach_eio(&p, ap);
	/* INTRA_HOST is a name SPDK prints but does not parse */
	ap = attach_params("nvme0", "lv0", p.port, 10);
	json_object_set_new(ap, "adrfam", json_string("INTRA_HOST"));
	free(call_err(&p.host, "bdev_nvme_attach_controller", ap, -22));
	/* a local address works, and the controller reports it */
	assert_json(call_ok(&p.host, "bdev_nvme_attach_controller",
			    attach_from("nvme0", p.port, "127.0.0.1", NULL)),
		    "[\"nvme0n1\"]");
	pair_down(&p);
}

static const char *host_addr_of(json_t *ctrlrs, size_t i)
{
	json_t *c = json_array_get(json_object_get(json_array_get(ctrlrs, 0), "ctrlrs"), i);

	return json_string_value(json_object_get(json_object_get(c, "host"), "addr"));
}

static void test_empty_host_address_is_no_host_address(void **state)
{
	struct pair p;
	json_t *r, *cfg;
	size_t i;
	json_t *e;

	pair_up(&p);
	assert_json(call_ok(&p.host, "bdev_nvme_attach_controller",
			    attach_from("nvme0", p.port, "", "")),
		    "[\"nvme0n1\"]");
	r = call_ok(&p.host, "bdev_nvme_get_controllers", NULL);
	assert_string_equal(host_addr_of(r, 0), "");
	json_decref(r);
	/* the same network path as the first one: "" is the absent host address */
	free(call_err(&p.host, "bdev_nvme_attach_controller",
		      attach_from("nvme0", p.port, NULL, NULL), -114));
	cfg = call_ok(&p.host, "framework_get_config", json_pack("{s:s}", "name", "bdev"));
	json_array_foreach(cfg, i, e)
	{
		json_t *params = json_object_get(e, "params");

		if (strcmp(json_string_value(json_object_get(e, "method")),
			   "bdev_nvme_attach_controller") != 0)
			continue;
		assert_null(json_object_get(params, "hostaddr"));
		assert_null(json_object_get(params, "hostsvcid"));
	}
	json_decref(cfg);
	/* empty fields of a detach select anything, as absent ones: the controller goes */
	json_decref(call_ok(&p.host, "bdev_nvme_detach_controller",
			    json_pack("{s:s,s:s,s:s,s:s}", "name", "nvme0", "traddr", "", "trsvcid",
				      "", "hostaddr", "")));
	assert_json(call_ok(&p.host, "bdev_nvme_get_controllers", NULL), "[]");
	pair_down(&p);
}

static void add_listener(struct pair *p, const char *port)
{
	json_decref(call_ok(&p->storage, "nvmf_subsystem_add_listener",
			    json_pack("{s:s,s:{s:s,s:s,s:s,s:s}}", "nqn", "nqn.2016-06.io.spdk:lv0",
				      "listen_address", "trtype", "tcp", "adrfam", "ipv4", "traddr",
				      "127.0.0.1", "trsvcid", port)));
}

static size_t paths_of(struct pair *p, const char *name)
{
	json_t *r =
		call_ok(&p->host, "bdev_nvme_get_controllers", json_pack("{s:s}", "name", name));
	size_t n = json_array_size(json_object_get(json_array_get(r, 0), "ctrlrs"));

	json_decref(r);
	return n;
}

static void test_detach_selects_by_host_address(void **state)
{
	struct pair p;
	char second[8];

	pair_up(&p);
	free_port(second);
	add_listener(&p, second);
	/* two paths of one controller, from two source addresses */
	json_decref(call_ok(&p.host, "bdev_nvme_attach_controller",
			    attach_from("nvme0", p.port, "127.0.0.1", NULL)));
	json_decref(call_ok(&p.host, "bdev_nvme_attach_controller",
			    attach_from("nvme0", second, "127.0.0.2", NULL)));
	assert_int_equal(paths_of(&p, "nvme0"), 2);
	/* no path has that host address */
	free(call_err(&p.host, "bdev_nvme_detach_controller",
		      json_pack("{s:s,s:s}", "name", "nvme0", "hostaddr", "127.0.0.3"), -6));
	/* the host address is compared with the path's, together with the other fields */
	free(call_err(&p.host, "bdev_nvme_detach_controller",
		      json_pack("{s:s,s:s,s:s}", "name", "nvme0", "trsvcid", p.port, "hostaddr",
				"127.0.0.2"),
		      -6));
	/* an unknown trtype is a custom transport that matches no path, not a parse error */
	free(call_err(&p.host, "bdev_nvme_detach_controller",
		      json_pack("{s:s,s:s}", "name", "nvme0", "trtype", "foo"), -6));
	free(call_err(&p.host, "bdev_nvme_detach_controller",
		      json_pack("{s:s,s:s}", "name", "nvme0", "adrfam", "INTRA_HOST"), -22));
	assert_int_equal(paths_of(&p, "nvme0"), 2);
	/* the host address alone selects the second path */
	json_decref(call_ok(&p.host, "bdev_nvme_detach_controller",
			    json_pack("{s:s,s:s}", "name", "nvme0", "hostaddr", "127.0.0.2")));
	assert_int_equal(paths_of(&p, "nvme0"), 1);
	json_decref(call_ok(&p.host, "bdev_nvme_detach_controller",
			    json_pack("{s:s,s:s}", "name", "nvme0", "hostaddr", "127.0.0.1")));
	assert_json(call_ok(&p.host, "bdev_nvme_get_controllers", NULL), "[]");
	pair_down(&p);
}

static void test_detach_of_active_trid_fails_over(void **state)
{
	struct pair p;
	char second[8];
	json_t *ap, *r, *c, *trid;

	pair_up(&p);
	free_port(second);
	add_listener(&p, second);
	ap = attach_from("nvme0", p.port, "127.0.0.1", NULL);
	json_object_set_new(ap, "multipath", json_string("failover"));
	json_decref(call_ok(&p.host, "bdev_nvme_attach_controller", ap));
	ap = attach_from("nvme0", second, "127.0.0.1", NULL);
	json_object_set_new(ap, "multipath", json_string("failover"));
	json_decref(call_ok(&p.host, "bdev_nvme_attach_controller", ap));
	/* the failover trid was recorded without a host address: this selects nothing */
	free(call_err(&p.host, "bdev_nvme_detach_controller",
		      json_pack("{s:s,s:s,s:s}", "name", "nvme0", "trsvcid", second, "hostaddr",
				"127.0.0.1"),
		      -6));
	/* the host address selects the active trid: the controller moves to the other one */
	json_decref(call_ok(&p.host, "bdev_nvme_detach_controller",
			    json_pack("{s:s,s:s}", "name", "nvme0", "hostaddr", "127.0.0.1")));
	assert_true(wait_state(&p.host, "nvme0", "enabled", 5000));
	r = call_ok(&p.host, "bdev_nvme_get_controllers", json_pack("{s:s}", "name", "nvme0"));
	c = json_array_get(json_object_get(json_array_get(r, 0), "ctrlrs"), 0);
	trid = json_object_get(c, "trid");
	assert_string_equal(json_string_value(json_object_get(trid, "trsvcid")), second);
	/* SPDK lists alternate_trids only while there are some */
	assert_null(json_object_get(c, "alternate_trids"));
	json_decref(r);
	json_decref(call_ok(&p.host, "bdev_get_bdevs", json_pack("{s:s}", "name", "nvme0n1")));
	/* and no longer answers to the host address */
	free(call_err(&p.host, "bdev_nvme_detach_controller",
		      json_pack("{s:s,s:s}", "name", "nvme0", "hostaddr", "127.0.0.1"), -6));
	pair_down(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_address_must_be_usable),
		cmocka_unit_test(test_empty_host_address_is_no_host_address),
		cmocka_unit_test(test_detach_selects_by_host_address),
		cmocka_unit_test(test_detach_of_active_trid_fails_over),
	};

	return cmocka_run_group_tests(tests, NULL, kill_children);
}
