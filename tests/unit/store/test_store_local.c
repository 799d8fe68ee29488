/* SPDX-License-Identifier: Apache-2.0 */
/* Store: replicas on local drives, on SQLite and PostgreSQL (scripts/pg-test.sh). */
#include <errno.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/util.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "store_fixture.h"

static void base(struct store *s)
{
	fx_add_host(s, "bm1");
	fx_add_host(s, "bm2");
	fx_add_node(s, "n1", "10.0.0.5");
	fx_add_node(s, "n2", "10.0.0.6");
}

/* Replicas on namespaces of a host's local drives: placement rules and what a host reads. */
static void test_local_replicas(void **state)
{
	struct fixture *f = *state;
	struct store_volume v = {.size_bytes = 1 << 20, .block_size = 512};
	struct store_replica rep[2] = {0}, *list = NULL;
	struct store_desired *d = NULL;
	size_t n = 0;
	int64_t id = 0, mid = 0;

	base(f->s);
	expect_ok(store_device_add, f->s, "bm1", "0000:5e:00.0", NULL, NULL);
	snprintf(v.name, sizeof(v.name), "loc");
	rep[0].transport = STORE_TRANSPORT_PCIE;
	snprintf(rep[0].device_host, sizeof(rep[0].device_host), "bm1");
	snprintf(rep[0].bdf, sizeof(rep[0].bdf), "0000:5E:00.0");
	rep[0].nsid = 2;
	snprintf(rep[1].node_name, sizeof(rep[1].node_name), "n1");
	snprintf(rep[1].nqn, sizeof(rep[1].nqn), "nqn.2016-06.io.spdk:loc-b");
	/* a drive the host does not have */
	snprintf(rep[0].device_host, sizeof(rep[0].device_host), "bm2");
	expect_fail(-ENOENT, "device 0000:5e:00.0 is not registered on host 'bm2'",
		    store_volume_create, f->s, &v, rep, 2, &id);
	snprintf(rep[0].device_host, sizeof(rep[0].device_host), "bm1");
	rep[0].nsid = 0;
	expect_fail(-EINVAL, "namespace id 0", store_volume_create, f->s, &v, rep, 2, &id);
	rep[0].nsid = 2;
	expect_ok(store_volume_create, f->s, &v, rep, 2, &id);
	expect_ok(store_replica_list, f->s, id, &list, &n);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].transport, STORE_TRANSPORT_PCIE);
	assert_string_equal(list[0].bdf, "0000:5e:00.0");
	assert_string_equal(list[0].device_host, "bm1");
	assert_int_equal(list[0].nsid, 2);
	assert_int_equal(list[0].node_id, 0);
	assert_string_equal(list[0].nqn, "");
	assert_int_equal(list[1].transport, STORE_TRANSPORT_TCP);
	free(list);
	/* one replica per drive namespace: another namespace of the drive is free */
	snprintf(v.name, sizeof(v.name), "loc2");
	snprintf(rep[1].nqn, sizeof(rep[1].nqn), "nqn.2016-06.io.spdk:loc2-b");
	expect_fail(-EEXIST,
		    "namespace 2 of device 0000:5e:00.0 on host 'bm1' already holds "
		    "volume 'loc'",
		    store_volume_create, f->s, &v, rep, 2, &id);
	rep[1] = rep[0];
	expect_fail(-EINVAL, "both replicas are namespace 2", store_volume_create, f->s, &v, rep, 2,
		    &id);
	rep[1].nsid = 1;
	rep[0].nsid = 3;
	expect_ok(store_volume_create, f->s, &v, rep, 2, &id);
	/* a local drive serves only its own host */
	expect_fail(-EINVAL, "can be mapped only on 'bm1'", store_volume_attach, f->s, "loc", "bm2",
		    "vm1", &mid);
	expect_ok(store_volume_attach, f->s, "loc", "bm1", "vm1", &mid);
	expect_ok(store_desired_get, f->s, "bm1", &d);
	assert_int_equal(d->n_mappings, 1);
	assert_int_equal(d->mappings[0].n_replicas, 2);
	assert_int_equal(d->mappings[0].replicas[0].transport, STORE_TRANSPORT_PCIE);
	assert_string_equal(d->mappings[0].replicas[0].bdf, "0000:5e:00.0");
	assert_int_equal(d->mappings[0].replicas[0].nsid, 2);
	store_desired_free(d);
	expect_fail(-EBUSY, "holds a replica of volume", store_device_remove, f->s, "bm1",
		    "0000:5e:00.0");
	expect_ok(store_volume_delete, f->s, "loc2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_local_replicas, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
