/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ways out of stuck states and refused input, on SQLite and PostgreSQL: a host declared dead
 * releases its mappings, a resize needs a host that serves the volume, one endpoint is one
 * storage node, addresses that name no interface and blank names are refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/store.h"
#include "store/store_internal.h"
#include "store_fixture.h"

static void set_node(struct store_node *n, const char *name, const char *addr, uint16_t port)
{
	memset(n, 0, sizeof(*n));
	n->transport = STORE_TRANSPORT_TCP;
	n->port = port;
	snprintf(n->name, sizeof(n->name), "%s", name);
	snprintf(n->address, sizeof(n->address), "%s", addr);
}

static void add_volume(struct store *s, const char *name)
{
	struct store_volume v = {.size_bytes = 2 << 20, .block_size = 512};
	struct store_replica rep[2] = {0};

	snprintf(v.name, sizeof(v.name), "%s", name);
	for (int i = 0; i < 2; i++) {
		snprintf(rep[i].node_name, sizeof(rep[i].node_name), "n%d", i + 1);
		snprintf(rep[i].nqn, sizeof(rep[i].nqn), "nqn.2016-06.io.spdk:%s-%d", name, i);
	}
	expect_ok(store_volume_create, s, &v, rep, 2, NULL);
}

static void base(struct store *s)
{
	struct store_node n;

	fx_add_host(s, "bm1");
	fx_add_host(s, "bm2");
	set_node(&n, "n1", "10.0.0.5", 4420);
	expect_ok(store_node_add, s, &n, NULL);
	set_node(&n, "n2", "10.0.0.6", 4420);
	expect_ok(store_node_add, s, &n, NULL);
}

static void test_declare_dead_releases_mappings(void **state)
{
	struct fixture *f = *state;
	struct store_mapping *rel = NULL, *left = NULL;
	struct store_mapping_filter all = {.include_detached = true};
	int64_t m1, m2, m3;
	size_t n = 0;

	base(f->s);
	add_volume(f->s, "v1");
	add_volume(f->s, "v2");
	add_volume(f->s, "v3");
	expect_ok(store_volume_attach, f->s, "v1", "bm1", "vm-1", &m1);
	expect_ok(store_volume_attach, f->s, "v2", "bm1", "vm-2", &m2);
	expect_ok(store_volume_attach, f->s, "v3", "bm2", "vm-3", &m3);
	expect_ok(store_mapping_advance, f->s, m1, STORE_MAPPING_ASSIGNED,
		  STORE_MAPPING_INITIALISED);
	expect_ok(store_mapping_advance, f->s, m1, STORE_MAPPING_INITIALISED,
		  STORE_MAPPING_ATTACHED);
	expect_ok(store_volume_detach, f->s, "v1", NULL, NULL);
	/* the host is gone: nothing moves DETACH_REQUESTED on, and every way out is refused */
	expect_fail(-EBUSY, "diskengine host declare-dead bm1", store_volume_delete, f->s, "v1");
	expect_fail(-EBUSY, "diskengine host declare-dead bm1", store_host_remove, f->s, "bm1");
	expect_fail(-EALREADY, "diskengine host declare-dead bm1", store_volume_detach, f->s, "v1",
		    NULL, NULL);
	expect_fail(-ENOENT, "host 'bm9' does not exist", store_host_declare_dead, f->s, "bm9",
		    NULL, NULL);

	expect_ok(store_host_declare_dead, f->s, "bm1", &rel, &n);
	assert_int_equal(n, 2);
	assert_int_equal(rel[0].id, m1);
	assert_int_equal(rel[0].state, STORE_MAPPING_DETACH_REQUESTED);
	assert_int_equal(rel[1].id, m2);
	assert_int_equal(rel[1].state, STORE_MAPPING_ASSIGNED);
	free(rel);
	/* the other host's mapping is untouched */
	expect_ok(store_mapping_list, f->s, &all, &left, &n);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(left[i].state, left[i].id == m3 ? STORE_MAPPING_ASSIGNED
								 : STORE_MAPPING_DETACHED);
	free(left);
	/* the way out: the volumes can be deleted or mapped elsewhere, the host removed */
	expect_ok(store_volume_delete, f->s, "v1");
	expect_ok(store_volume_attach, f->s, "v2", "bm2", "vm-2", NULL);
	expect_ok(store_host_remove, f->s, "bm1");
	/* a second declaration of a host without mappings releases nothing */
	expect_ok(store_host_declare_dead, f->s, "bm2", NULL, &n);
	assert_int_equal(n, 2);
	expect_ok(store_host_declare_dead, f->s, "bm2", NULL, &n);
	assert_int_equal(n, 0);
}

static void test_resize_needs_a_host(void **state)
{
	struct fixture *f = *state;
	struct store_volume v;
	int64_t m;

	base(f->s);
	add_volume(f->s, "v1");
	expect_fail(-EBUSY, "volume 'v1' is not mapped to any host", store_volume_resize, f->s,
		    "v1", 4 << 20, NULL, 0);
	expect_ok(store_volume_get, f->s, "v1", &v);
	assert_int_equal(v.state, STORE_VOLUME_READY);
	assert_int_equal(v.size_bytes, 2 << 20);
	/* a mapping being torn down does not serve a resize either */
	expect_ok(store_volume_attach, f->s, "v1", "bm1", "vm-1", &m);
	expect_ok(store_volume_detach, f->s, "v1", NULL, NULL);
	expect_fail(-EBUSY, "not mapped to any host", store_volume_resize, f->s, "v1", 4 << 20,
		    NULL, 0);
	expect_ok(store_mapping_advance, f->s, m, STORE_MAPPING_DETACH_REQUESTED,
		  STORE_MAPPING_DETACHED);
	expect_ok(store_volume_attach, f->s, "v1", "bm2", "vm-1", NULL);
	expect_ok(store_volume_resize, f->s, "v1", 4 << 20, NULL, 0);
	expect_ok(store_volume_get, f->s, "v1", &v);
	assert_int_equal(v.state, STORE_VOLUME_RESIZING);
}

static void test_one_endpoint_is_one_node(void **state)
{
	struct fixture *f = *state;
	struct store_node n;

	base(f->s);
	set_node(&n, "n3", "10.0.0.5", 4420);
	expect_fail(-EEXIST, "storage node 'n1' is already tcp 10.0.0.5 port 4420", store_node_add,
		    f->s, &n, NULL);
	set_node(&n, "n3", "fe80::1", 4420);
	expect_ok(store_node_add, f->s, &n, NULL);
	/* the same address written differently */
	set_node(&n, "n4", "fe80:0:0::1", 4420);
	expect_fail(-EEXIST, "storage node 'n3'", store_node_add, f->s, &n, NULL);
	/* another port or transport is another endpoint */
	set_node(&n, "n4", "10.0.0.5", 4421);
	expect_ok(store_node_add, f->s, &n, NULL);
	set_node(&n, "n5", "10.0.0.5", 4420);
	n.transport = STORE_TRANSPORT_RDMA;
	expect_ok(store_node_add, f->s, &n, NULL);
}

/* Two names for one endpoint, registered before node add refused that: no mirror over them. */
static void test_no_mirror_on_one_endpoint(void **state)
{
	struct fixture *f = *state;
	struct store_volume v = {.size_bytes = 2 << 20, .block_size = 512};
	struct store_replica rep[2] = {0};

	base(f->s);
	expect_ok(store_exec, f->s,
		  "INSERT INTO nodes (name, transport, address, port, created_at) VALUES "
		  "('n1-again', 'tcp', '10.0.0.5', 4420, 0)",
		  NULL, 0);
	snprintf(v.name, sizeof(v.name), "v1");
	snprintf(rep[0].node_name, sizeof(rep[0].node_name), "n1");
	snprintf(rep[1].node_name, sizeof(rep[1].node_name), "n1-again");
	snprintf(rep[0].nqn, sizeof(rep[0].nqn), "nqn.2016-06.io.spdk:v1-a");
	snprintf(rep[1].nqn, sizeof(rep[1].nqn), "nqn.2016-06.io.spdk:v1-b");
	expect_fail(-EINVAL, "storage nodes 'n1' and 'n1-again' are one endpoint",
		    store_volume_create, f->s, &v, rep, 2, NULL);
}

static void test_addresses_of_no_interface(void **state)
{
	static const struct {
		const char *addr, *why;
	} bad[] = {
		{"0.0.0.0", "the unspecified address"},	      {"::", "the unspecified address"},
		{"255.255.255.255", "the broadcast address"}, {"224.0.0.1", "a multicast address"},
		{"239.1.2.3", "a multicast address"},	      {"ff02::1", "a multicast address"},
	};
	struct fixture *f = *state;
	struct store_host h = {0};
	struct store_node n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_node(&n, "n1", bad[i].addr, 4420);
		expect_fail(-EINVAL, bad[i].why, store_node_add, f->s, &n, NULL);
		snprintf(h.name, sizeof(h.name), "bm1");
		snprintf(h.tcp_ips[0], sizeof(h.tcp_ips[0]), "%s", bad[i].addr);
		h.n_tcp_ips = 1;
		expect_fail(-EINVAL, bad[i].why, store_host_add, f->s, &h, NULL);
	}
}

static void test_blank_names(void **state)
{
	struct fixture *f = *state;
	struct store_volume v = {.size_bytes = 2 << 20, .block_size = 512};
	struct store_replica rep[2] = {0};
	struct store_host h = {0};

	base(f->s);
	snprintf(h.name, sizeof(h.name), "   ");
	expect_fail(-EINVAL, "host name must not be blank", store_host_add, f->s, &h, NULL);
	snprintf(v.name, sizeof(v.name), " ");
	for (int i = 0; i < 2; i++) {
		snprintf(rep[i].node_name, sizeof(rep[i].node_name), "n%d", i + 1);
		snprintf(rep[i].nqn, sizeof(rep[i].nqn), "nqn.2016-06.io.spdk:b-%d", i);
	}
	expect_fail(-EINVAL, "volume name must not be blank", store_volume_create, f->s, &v, rep, 2,
		    NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_declare_dead_releases_mappings, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_resize_needs_a_host, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_one_endpoint_is_one_node, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_no_mirror_on_one_endpoint, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_addresses_of_no_interface, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_blank_names, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
