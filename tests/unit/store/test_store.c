/* SPDX-License-Identifier: Apache-2.0 */
/* The store's behaviour; the same tests run on SQLite and on PostgreSQL (store_test_db.c). */
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

static void fill_replicas(struct store_replica rep[2], const char *vol)
{
	memset(rep, 0, 2 * sizeof(*rep));
	snprintf(rep[0].node_name, sizeof(rep[0].node_name), "n1");
	snprintf(rep[1].node_name, sizeof(rep[1].node_name), "n2");
	snprintf(rep[0].nqn, sizeof(rep[0].nqn), "nqn.2016-06.io.spdk:%s-a", vol);
	snprintf(rep[1].nqn, sizeof(rep[1].nqn), "nqn.2016-06.io.spdk:%s-b", vol);
}

static int64_t add_volume(struct store *s, const char *name, uint64_t size)
{
	struct store_volume v = {.size_bytes = size, .block_size = 512};
	struct store_replica rep[2];
	int64_t id = 0;

	snprintf(v.name, sizeof(v.name), "%s", name);
	fill_replicas(rep, name);
	expect_ok(store_volume_create, s, &v, rep, 2, &id);
	return id;
}

/* two hosts, two nodes */
static void base(struct store *s)
{
	fx_add_host(s, "bm1");
	fx_add_host(s, "bm2");
	fx_add_node(s, "n1", "10.0.0.5");
	fx_add_node(s, "n2", "10.0.0.6");
}

static void test_migrate_idempotent(void **state)
{
	struct fixture *f = *state;
	struct store *again = NULL;
	struct store_error err = {0};
	int cur = -1, latest = -1, applied = -1;

	expect_ok(store_schema_version, f->s, &cur, &latest);
	assert_int_equal(cur, latest);
	assert_true(latest >= 3);
	expect_ok(store_migrate, f->s, &applied);
	assert_int_equal(applied, 0);
	/* a second process opening the same database applies nothing and keeps the data */
	fx_add_host(f->s, "keep");
	assert_int_equal(store_open(f->db.url, &again, &err), 0);
	expect_ok(store_migrate, again, &applied);
	assert_int_equal(applied, 0);
	{
		struct store_host h;

		expect_ok(store_host_get, again, "keep", &h);
	}
	store_close(again);
}

static void test_fresh_database_migrates_from_zero(void **state)
{
	struct test_db db;
	struct store *s = NULL;
	struct store_error err = {0};
	int cur = -1, applied = -1;

	(void)state;
	test_db_create(&db);
	assert_int_equal(store_open_nomigrate(db.url, &s, &err), 0);
	expect_ok(store_schema_version, s, &cur, NULL);
	assert_int_equal(cur, 0);
	expect_ok(store_migrate, s, &applied);
	assert_int_equal(applied, 6);
	expect_ok(store_schema_version, s, &cur, NULL);
	assert_int_equal(cur, 6);
	store_close(s);
	test_db_destroy(&db);
}

/* A database at an older version, with data in it, upgrades in place. */
static void test_upgrade_keeps_data(void **state)
{
	struct test_db db;
	struct store *s = NULL;
	struct store_error err = {0};
	struct store_volume v;
	struct store_replica *reps = NULL;
	size_t nr = 0;
	int cur = -1, applied = -1;

	(void)state;
	test_db_create(&db);
	assert_int_equal(store_open_nomigrate(db.url, &s, &err), 0);
	expect_ok(store_schema_apply_to, s, 2, &applied);
	assert_int_equal(applied, 2);
	expect_ok(store_schema_version, s, &cur, NULL);
	assert_int_equal(cur, 2);
	base(s);
	add_volume(s, "old", 1 << 20);
	store_close(s);
	/* the next open brings it to the latest version */
	assert_int_equal(store_open(db.url, &s, &err), 0);
	expect_ok(store_schema_version, s, &cur, NULL);
	assert_int_equal(cur, 6);
	expect_ok(store_volume_get, s, "old", &v);
	assert_true(v.clean_stop); /* a volume from before the column existed: never ran */
	/* the replicas table was rebuilt for local drives: fabric replicas come through whole */
	expect_ok(store_replica_list, s, v.id, &reps, &nr);
	assert_int_equal(nr, 2);
	for (size_t i = 0; i < nr; i++) {
		assert_int_not_equal(reps[i].transport, STORE_TRANSPORT_PCIE);
		assert_true(reps[i].node_id > 0);
		assert_true(reps[i].nqn[0] != '\0');
	}
	free(reps);
	store_close(s);
	test_db_destroy(&db);
}

static void test_host_crud(void **state)
{
	struct fixture *f = *state;
	struct store_host h = {0}, got;
	struct store_host *list = NULL;
	size_t n = 0;

	snprintf(h.name, sizeof(h.name), "bm1");
	snprintf(h.rdma_ips[0], STORE_ADDR_MAX, "10.0.0.1");
	snprintf(h.rdma_ips[1], STORE_ADDR_MAX, "fe80::1");
	h.n_rdma_ips = 2;
	snprintf(h.tcp_ips[0], STORE_ADDR_MAX, "192.168.1.1");
	h.n_tcp_ips = 1;
	expect_ok(store_host_add, f->s, &h, NULL);
	expect_fail(-EEXIST, "host 'bm1' exists already", store_host_add, f->s, &h, NULL);
	expect_ok(store_host_get, f->s, "bm1", &got);
	assert_int_equal(got.n_rdma_ips, 2);
	assert_string_equal(got.rdma_ips[1], "fe80::1");
	assert_int_equal(got.n_tcp_ips, 1);
	assert_string_equal(got.tcp_ips[0], "192.168.1.1");
	fx_add_host(f->s, "a-first");
	expect_ok(store_host_list, f->s, &list, &n);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "a-first");
	free(list);
	expect_ok(store_host_remove, f->s, "bm1");
	expect_fail(-ENOENT, "host 'bm1' does not exist", store_host_get, f->s, "bm1", &got);
	expect_fail(-ENOENT, "host 'bm1' does not exist", store_host_remove, f->s, "bm1");
}

static void test_host_bad_values(void **state)
{
	struct fixture *f = *state;
	struct store_host h = {0};

	snprintf(h.name, sizeof(h.name), "bm1");
	snprintf(h.rdma_ips[0], STORE_ADDR_MAX, "10.0.0.300");
	h.n_rdma_ips = 1;
	expect_fail(-EINVAL, "RDMA '10.0.0.300' is not an IPv4 or IPv6 address", store_host_add,
		    f->s, &h, NULL);
	snprintf(h.rdma_ips[0], STORE_ADDR_MAX, "10.0.0.1");
	snprintf(h.rdma_ips[1], STORE_ADDR_MAX, "10.0.0.1");
	h.n_rdma_ips = 2;
	expect_fail(-EINVAL, "given twice", store_host_add, f->s, &h, NULL);
	h.n_rdma_ips = 0;
	snprintf(h.name, sizeof(h.name), "bad\nname");
	expect_fail(-EINVAL, "host name must not contain control characters", store_host_add, f->s,
		    &h, NULL);
	h.name[0] = '\0';
	expect_fail(-EINVAL, "host name must not be empty", store_host_add, f->s, &h, NULL);
}

/* Quotes and SQL in values are data, never code. */
static void test_sql_in_values_round_trips(void **state)
{
	static const char evil[] = "x'); DROP TABLE hosts; --";
	static const char vm[] = "vm\"; DELETE FROM mappings; --'";
	static const char error_text[] = "line one\nline 'two'; DROP TABLE volumes; --\n\ttab";
	struct fixture *f = *state;
	struct store_observation obs = {.rebuild_percent = 42, .last_error_at = 1700000000};
	struct store_observation got;
	struct store_host h;
	struct store_mapping m;
	struct store_host *list = NULL;
	struct store_volume *vols = NULL;
	size_t n = 0;
	int64_t mid;

	base(f->s);
	fx_add_host(f->s, evil);
	expect_ok(store_host_get, f->s, evil, &h);
	assert_string_equal(h.name, evil);
	add_volume(f->s, "v'1", 1 << 20);
	expect_ok(store_volume_attach, f->s, "v'1", evil, vm, &mid);
	expect_ok(store_mapping_get, f->s, mid, &m);
	assert_string_equal(m.vm_id, vm);
	assert_string_equal(m.host_name, evil);
	obs.mapping_id = mid;
	snprintf(obs.raid_state, sizeof(obs.raid_state), "online'--");
	snprintf(obs.members, sizeof(obs.members), "a:ok,b:'missing'");
	snprintf(obs.last_error, sizeof(obs.last_error), "%s", error_text);
	snprintf(obs.path_resets, sizeof(obs.path_resets), "de_1':resets=3,failed=1,given_up");
	obs.reset_in_progress = true;
	expect_ok(store_observation_put, f->s, &obs);
	expect_ok(store_observation_get, f->s, mid, &got);
	assert_string_equal(got.last_error, error_text);
	assert_string_equal(got.path_resets, "de_1':resets=3,failed=1,given_up");
	assert_true(got.reset_in_progress);
	assert_string_equal(got.members, "a:ok,b:'missing'");
	assert_int_equal(got.rebuild_percent, 42);
	assert_int_equal(got.last_error_at, 1700000000);
	/* every table is still there and holds exactly what was written */
	expect_ok(store_host_list, f->s, &list, &n);
	assert_int_equal(n, 3);
	free(list);
	expect_ok(store_volume_list, f->s, &vols, &n);
	assert_int_equal(n, 1);
	assert_string_equal(vols[0].name, "v'1");
	free(vols);
}

static void test_node_rules(void **state)
{
	struct fixture *f = *state;
	struct store_node n = {.transport = STORE_TRANSPORT_RDMA, .port = 4420};
	struct store_node got;

	base(f->s);
	snprintf(n.name, sizeof(n.name), "n1");
	snprintf(n.address, sizeof(n.address), "10.0.0.9");
	expect_fail(-EEXIST, "storage node 'n1' exists already", store_node_add, f->s, &n, NULL);
	snprintf(n.name, sizeof(n.name), "n3");
	snprintf(n.address, sizeof(n.address), "node3.example");
	expect_fail(-EINVAL, "address 'node3.example' is not an IPv4 or IPv6 address",
		    store_node_add, f->s, &n, NULL);
	snprintf(n.address, sizeof(n.address), "10.0.0.9");
	snprintf(n.auth_key_file, sizeof(n.auth_key_file), "keys/n3.key");
	expect_fail(-EINVAL, "must be an absolute path", store_node_add, f->s, &n, NULL);
	snprintf(n.auth_key_file, sizeof(n.auth_key_file), "/etc/diskengine/keys/n3.key");
	n.port = 0;
	expect_fail(-EINVAL, "port 0", store_node_add, f->s, &n, NULL);
	n.port = 4421;
	expect_ok(store_node_add, f->s, &n, NULL);
	expect_ok(store_node_get, f->s, "n3", &got);
	assert_string_equal(got.auth_key_file, "/etc/diskengine/keys/n3.key");
	assert_int_equal(got.port, 4421);
	assert_int_equal(got.transport, STORE_TRANSPORT_RDMA);
	add_volume(f->s, "v1", 1 << 20);
	expect_fail(-EBUSY, "storage node 'n1' still holds 1 replica(s)", store_node_remove, f->s,
		    "n1");
	expect_ok(store_node_remove, f->s, "n3");
	expect_fail(-ENOENT, "storage node 'n3' does not exist", store_node_remove, f->s, "n3");
}

static void test_volume_create_rules(void **state)
{
	struct fixture *f = *state;
	struct store_volume v = {.size_bytes = 1 << 20, .block_size = 512};
	struct store_replica rep[2];
	struct store_volume got;

	base(f->s);
	snprintf(v.name, sizeof(v.name), "v1");
	fill_replicas(rep, "v1");
	expect_fail(-EINVAL, "exactly 2 replicas", store_volume_create, f->s, &v, rep, 1, NULL);
	snprintf(rep[1].node_name, sizeof(rep[1].node_name), "n1");
	expect_fail(-EINVAL, "both replicas are on storage node 'n1'", store_volume_create, f->s,
		    &v, rep, 2, NULL);
	snprintf(rep[1].node_name, sizeof(rep[1].node_name), "n9");
	expect_fail(-ENOENT, "storage node 'n9' does not exist", store_volume_create, f->s, &v, rep,
		    2, NULL);
	fill_replicas(rep, "v1");
	snprintf(rep[1].nqn, sizeof(rep[1].nqn), "nqn.2016-13.io.spdk:x");
	expect_fail(-EINVAL, "invalid date", store_volume_create, f->s, &v, rep, 2, NULL);
	fill_replicas(rep, "v1");
	snprintf(rep[0].lvol_uuid, sizeof(rep[0].lvol_uuid), "not-a-uuid");
	expect_fail(-EINVAL, "'not-a-uuid' is not a UUID", store_volume_create, f->s, &v, rep, 2,
		    NULL);
	fill_replicas(rep, "v1");
	v.size_bytes = 1000;
	expect_fail(-EINVAL, "not a multiple of the block size 512", store_volume_create, f->s, &v,
		    rep, 2, NULL);
	v.size_bytes = 0;
	expect_fail(-EINVAL, "size must not be zero", store_volume_create, f->s, &v, rep, 2, NULL);
	v.size_bytes = 1 << 20;
	v.block_size = 1024;
	expect_fail(-EINVAL, "block size 1024 is not supported", store_volume_create, f->s, &v, rep,
		    2, NULL);
	v.block_size = 4096;
	v.qos.rw_iops = 1500;
	expect_fail(-EINVAL, "not a multiple of 1000", store_volume_create, f->s, &v, rep, 2, NULL);
	v.qos.rw_iops = 2000;
	snprintf(v.name, sizeof(v.name), "123");
	expect_fail(-EINVAL, "all digits", store_volume_create, f->s, &v, rep, 2, NULL);
	snprintf(v.name, sizeof(v.name), "v1");
	snprintf(rep[0].lvol_uuid, sizeof(rep[0].lvol_uuid),
		 "0b5d7c2e-3f4a-4b6c-9d8e-1f2a3b4c5d6e");
	expect_ok(store_volume_create, f->s, &v, rep, 2, NULL);
	expect_fail(-EEXIST, "volume 'v1' exists already", store_volume_create, f->s, &v, rep, 2,
		    NULL);
	snprintf(v.name, sizeof(v.name), "v2");
	expect_fail(-EEXIST, "NQN nqn.2016-06.io.spdk:v1-a is already used by volume 'v1'",
		    store_volume_create, f->s, &v, rep, 2, NULL);
	/* the failed create left nothing behind */
	expect_fail(-ENOENT, "volume 'v2' does not exist", store_volume_get, f->s, "v2", &got);
	expect_ok(store_volume_get, f->s, "v1", &got);
	assert_int_equal(got.block_size, 4096);
	assert_int_equal(got.qos.rw_iops, 2000);
	{
		char ref[24];
		struct store_replica *reps = NULL;
		size_t n = 0;

		snprintf(ref, sizeof(ref), "%lld", (long long)got.id);
		expect_ok(store_volume_get, f->s, ref, &got);
		assert_string_equal(got.name, "v1");
		expect_ok(store_replica_list, f->s, got.id, &reps, &n);
		assert_int_equal(n, 2);
		assert_string_equal(reps[0].lvol_uuid, "0b5d7c2e-3f4a-4b6c-9d8e-1f2a3b4c5d6e");
		assert_string_equal(reps[0].node_name, "n1");
		assert_string_equal(reps[0].address, "10.0.0.5");
		assert_true(reps[0].in_sync);
		assert_false(reps[0].pending);
		free(reps);
	}
}

static void test_volume_resize(void **state)
{
	struct fixture *f = *state;
	struct store_replica rep[2], *reps = NULL;
	struct store_volume v;
	int64_t id;
	size_t n = 0;

	base(f->s);
	id = add_volume(f->s, "v1", 2 << 20);
	expect_fail(-EINVAL, "cannot shrink from 2097152 to 1048576 bytes", store_volume_resize,
		    f->s, "v1", 1 << 20, NULL, 0);
	expect_fail(-EINVAL, "already 2097152 bytes", store_volume_resize, f->s, "v1", 2 << 20,
		    NULL, 0);
	expect_fail(-EINVAL, "not a multiple of the block size", store_volume_resize, f->s, "v1",
		    (2 << 20) + 100, NULL, 0);
	expect_fail(-ENOENT, "volume 'nope' does not exist", store_volume_resize, f->s, "nope",
		    4 << 20, NULL, 0);
	/* only a host that serves the volume can grow it */
	expect_fail(-EBUSY, "volume 'v1' is not mapped to any host", store_volume_resize, f->s,
		    "v1", 4 << 20, NULL, 0);
	expect_ok(store_volume_attach, f->s, "v1", "bm1", "vm-1", NULL);
	expect_ok(store_volume_resize, f->s, "v1", 4 << 20, NULL, 0);
	expect_ok(store_volume_get, f->s, "v1", &v);
	assert_int_equal(v.size_bytes, 4 << 20);
	assert_int_equal(v.state, STORE_VOLUME_RESIZING);
	expect_fail(-EBUSY, "still resizing", store_volume_resize, f->s, "v1", 8 << 20, NULL, 0);
	expect_ok(store_volume_resize_finish, f->s, id);
	/* onto two new, pending replicas */
	fill_replicas(rep, "v1-big");
	expect_ok(store_volume_resize, f->s, "v1", 8 << 20, rep, 2);
	expect_ok(store_replica_list, f->s, id, &reps, &n);
	assert_int_equal(n, 4);
	assert_false(reps[0].pending);
	assert_true(reps[2].pending);
	assert_false(reps[2].in_sync);
	free(reps);
	expect_ok(store_volume_resize_finish, f->s, id);
	expect_ok(store_replica_list, f->s, id, &reps, &n);
	assert_int_equal(n, 2);
	assert_string_equal(reps[0].nqn, "nqn.2016-06.io.spdk:v1-big-a");
	assert_false(reps[0].pending);
	free(reps);
	expect_ok(store_volume_get, f->s, "v1", &v);
	assert_int_equal(v.state, STORE_VOLUME_READY);
	expect_fail(-EINVAL, "is not resizing", store_volume_resize_finish, f->s, id);
	/* the RAID's clean-stop record */
	assert_true(v.clean_stop);
	expect_ok(store_volume_set_clean_stop, f->s, id, false);
	expect_ok(store_volume_get, f->s, "v1", &v);
	assert_false(v.clean_stop);
	expect_fail(-ENOENT, "volume 999 does not exist", store_volume_set_clean_stop, f->s, 999,
		    true);
}

/* The k-th replica of a volume in id order. */
static int64_t replica_id_at(struct store *s, int64_t vid, size_t k)
{
	struct store_replica *reps = NULL;
	size_t n = 0;
	int64_t id;

	expect_ok(store_replica_list, s, vid, &reps, &n);
	assert_true(k < n);
	id = reps[k].id;
	free(reps);
	return id;
}

static void test_replica_promote(void **state)
{
	struct fixture *f = *state;
	struct store_replica rep[2], *reps = NULL;
	struct store_volume v;
	int64_t id, other, a, b, p0, p1, o0;
	char msg[64];
	size_t n = 0;

	base(f->s);
	id = add_volume(f->s, "v1", 2 << 20);
	other = add_volume(f->s, "v2", 2 << 20);
	o0 = replica_id_at(f->s, other, 0);
	fill_replicas(rep, "v1-big");
	expect_ok(store_volume_attach, f->s, "v1", "bm1", "vm-1", NULL);
	expect_ok(store_volume_resize, f->s, "v1", 8 << 20, rep, 2);
	a = replica_id_at(f->s, id, 0);
	b = replica_id_at(f->s, id, 1);
	p0 = replica_id_at(f->s, id, 2);
	p1 = replica_id_at(f->s, id, 3);

	/* wrong volume, unknown ids, a member as the new one, a pending one as the old one */
	expect_fail(-ENOENT, "volume '999' does not exist", store_replica_promote, f->s, 999, a,
		    p0);
	snprintf(msg, sizeof(msg), "replica %lld belongs to volume %lld", (long long)p0,
		 (long long)id);
	expect_fail(-EINVAL, msg, store_replica_promote, f->s, other, o0, p0);
	snprintf(msg, sizeof(msg), "replica %lld belongs to volume %lld", (long long)o0,
		 (long long)other);
	expect_fail(-EINVAL, msg, store_replica_promote, f->s, id, o0, p0);
	expect_fail(-ENOENT, "replica 999 does not exist", store_replica_promote, f->s, id, a, 999);
	expect_fail(-ENOENT, "replica 999 does not exist", store_replica_promote, f->s, id, 999,
		    p0);
	snprintf(msg, sizeof(msg), "replica %lld of volume %lld is not pending", (long long)b,
		 (long long)id);
	expect_fail(-EINVAL, msg, store_replica_promote, f->s, id, a, b);
	snprintf(msg, sizeof(msg), "replica %lld of volume %lld is pending", (long long)p1,
		 (long long)id);
	expect_fail(-EINVAL, msg, store_replica_promote, f->s, id, p1, p0);
	expect_fail(-EINVAL, "cannot replace itself", store_replica_promote, f->s, id, p0, p0);
	/* nothing of that changed anything */
	expect_ok(store_replica_list, f->s, id, &reps, &n);
	assert_int_equal(n, 4);
	free(reps);

	/* slot 0: a goes, p0 is a member holding every write; still resizing */
	expect_ok(store_replica_promote, f->s, id, a, p0);
	expect_ok(store_replica_list, f->s, id, &reps, &n);
	assert_int_equal(n, 3);
	assert_int_equal(reps[0].id, b);
	assert_int_equal(reps[1].id, p0);
	assert_false(reps[1].pending);
	assert_true(reps[1].in_sync);
	assert_int_equal(reps[2].id, p1);
	assert_true(reps[2].pending);
	assert_false(reps[2].in_sync);
	free(reps);
	expect_ok(store_volume_get, f->s, "v1", &v);
	assert_int_equal(v.state, STORE_VOLUME_RESIZING);
	/* the same promotion again after a crash is done already */
	expect_ok(store_replica_promote, f->s, id, a, p0);
	/* p0 is a member now: it cannot be promoted in place of b */
	snprintf(msg, sizeof(msg), "replica %lld of volume %lld is not pending", (long long)p0,
		 (long long)id);
	expect_fail(-EINVAL, msg, store_replica_promote, f->s, id, b, p0);

	/* slot 1: the last pending replica; the volume waits for the raid to grow */
	expect_ok(store_replica_promote, f->s, id, b, p1);
	expect_ok(store_replica_list, f->s, id, &reps, &n);
	assert_int_equal(n, 2);
	assert_int_equal(reps[0].id, p0);
	assert_int_equal(reps[1].id, p1);
	assert_string_equal(reps[0].nqn, "nqn.2016-06.io.spdk:v1-big-a");
	assert_string_equal(reps[1].nqn, "nqn.2016-06.io.spdk:v1-big-b");
	assert_false(reps[0].pending || reps[1].pending);
	assert_true(reps[0].in_sync && reps[1].in_sync);
	free(reps);
	expect_ok(store_volume_get, f->s, "v1", &v);
	assert_int_equal(v.state, STORE_VOLUME_RESIZING);
	assert_int_equal(v.size_bytes, 8 << 20);
	expect_ok(store_replica_promote, f->s, id, b, p1);
	expect_ok(store_replica_promote, f->s, id, a, p0);
	/* the raid serves the new size: the resize ends, the members stay */
	expect_ok(store_volume_resize_finish, f->s, id);
	expect_ok(store_volume_get, f->s, "v1", &v);
	assert_int_equal(v.state, STORE_VOLUME_READY);
	expect_ok(store_replica_list, f->s, id, &reps, &n);
	assert_int_equal(n, 2);
	assert_int_equal(reps[0].id, p0);
	assert_int_equal(reps[1].id, p1);
	free(reps);
	/* the other volume was never touched */
	expect_ok(store_replica_list, f->s, other, &reps, &n);
	assert_int_equal(n, 2);
	assert_int_equal(reps[0].id, o0);
	free(reps);
	/* a new resize can start once READY */
	fill_replicas(rep, "v1-huge");
	expect_ok(store_volume_resize, f->s, "v1", 16 << 20, rep, 2);
}

static void test_attach_detach_rules(void **state)
{
	struct fixture *f = *state;
	struct store_mapping m;
	int64_t mid, mid2, did;

	base(f->s);
	add_volume(f->s, "v1", 1 << 20);
	add_volume(f->s, "v2", 1 << 20);
	expect_fail(-ENOENT, "volume 'v1' is not mapped to any host", store_volume_detach, f->s,
		    "v1", NULL, NULL);
	expect_fail(-ENOENT, "host 'bm9' does not exist", store_volume_attach, f->s, "v1", "bm9",
		    "vm-1", NULL);
	expect_fail(-ENOENT, "volume 'v9' does not exist", store_volume_attach, f->s, "v9", "bm1",
		    "vm-1", NULL);
	expect_fail(-EINVAL, "VM id must not be empty", store_volume_attach, f->s, "v1", "bm1", "",
		    NULL);
	expect_ok(store_volume_attach, f->s, "v1", "bm1", "vm-1", &mid);
	expect_fail(-EBUSY, "volume 'v1' is already mapped to VM 'vm-1' on host 'bm1'",
		    store_volume_attach, f->s, "v1", "bm2", "vm-2", NULL);
	expect_fail(-EBUSY, "volume 'v1' is mapped to host 'bm1'", store_volume_delete, f->s, "v1");
	expect_fail(-ENOENT, "not mapped to host 'bm2' (it is mapped to 'bm1')",
		    store_volume_detach, f->s, "v1", "bm2", NULL);
	expect_fail(-EBUSY, "host 'bm1' still has 1 mapping(s)", store_host_remove, f->s, "bm1");
	expect_ok(store_volume_detach, f->s, "v1", "bm1", &did);
	assert_int_equal(did, mid);
	expect_ok(store_mapping_get, f->s, mid, &m);
	assert_int_equal(m.state, STORE_MAPPING_DETACH_REQUESTED);
	expect_fail(-EALREADY, "already requested", store_volume_detach, f->s, "v1", NULL, NULL);
	expect_fail(-EBUSY, "DETACH_REQUESTED); wait for DETACHED", store_volume_delete, f->s,
		    "v1");
	expect_ok(store_mapping_advance, f->s, mid, STORE_MAPPING_DETACH_REQUESTED,
		  STORE_MAPPING_DETACHED);
	/* DETACHED is history: the volume can be mapped again, or deleted */
	expect_ok(store_volume_attach, f->s, "v1", "bm2", "vm-2", &mid2);
	assert_true(mid2 != mid);
	expect_ok(store_volume_detach, f->s, "v1", NULL, NULL);
	expect_ok(store_mapping_advance, f->s, mid2, STORE_MAPPING_DETACH_REQUESTED,
		  STORE_MAPPING_DETACHED);
	expect_ok(store_volume_delete, f->s, "v1");
	expect_fail(-ENOENT, "volume 'v1' does not exist", store_volume_delete, f->s, "v1");
	expect_ok(store_host_remove, f->s, "bm1");
}

static void test_mapping_advance_cas(void **state)
{
	struct fixture *f = *state;
	struct store_mapping *list = NULL;
	struct store_mapping_filter filt = {0};
	size_t n = 0;
	int64_t mid;

	base(f->s);
	add_volume(f->s, "v1", 1 << 20);
	expect_ok(store_volume_attach, f->s, "v1", "bm1", "vm-1", &mid);
	expect_ok(store_mapping_advance, f->s, mid, STORE_MAPPING_ASSIGNED,
		  STORE_MAPPING_INITIALISED);
	expect_fail(-ESTALE, "is INITIALISED, not ASSIGNED", store_mapping_advance, f->s, mid,
		    STORE_MAPPING_ASSIGNED, STORE_MAPPING_INITIALISED);
	expect_fail(-EINVAL, "cannot go from ATTACHED to ASSIGNED", store_mapping_advance, f->s,
		    mid, STORE_MAPPING_ATTACHED, STORE_MAPPING_ASSIGNED);
	expect_fail(-EINVAL, "cannot go from ASSIGNED to ATTACHED", store_mapping_advance, f->s,
		    mid, STORE_MAPPING_ASSIGNED, STORE_MAPPING_ATTACHED);
	expect_fail(-ENOENT, "mapping 999 does not exist", store_mapping_advance, f->s, 999,
		    STORE_MAPPING_ASSIGNED, STORE_MAPPING_INITIALISED);
	expect_ok(store_mapping_advance, f->s, mid, STORE_MAPPING_INITIALISED,
		  STORE_MAPPING_ATTACHED);
	expect_ok(store_volume_detach, f->s, "v1", NULL, NULL);
	expect_fail(-ESTALE, "is DETACH_REQUESTED, not ATTACHED", store_mapping_advance, f->s, mid,
		    STORE_MAPPING_ATTACHED, STORE_MAPPING_DETACH_REQUESTED);
	expect_ok(store_mapping_advance, f->s, mid, STORE_MAPPING_DETACH_REQUESTED,
		  STORE_MAPPING_DETACHED);
	expect_ok(store_mapping_list, f->s, &filt, &list, &n);
	assert_int_equal(n, 0);
	free(list);
	filt.include_detached = true;
	expect_ok(store_mapping_list, f->s, &filt, &list, &n);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].state, STORE_MAPPING_DETACHED);
	free(list);
}

/* A batch of transitions: each as its single call would go, one commit for those that apply. */
static void test_transitions_batch(void **state)
{
	struct fixture *f = *state;
	struct store_observation obs[2] = {{.rebuild_percent = -1}, {.rebuild_percent = -1}}, got;
	struct store_mapping m;
	struct store_volume v;
	bool written[2];
	int64_t m1, m2, vid;

	base(f->s);
	vid = add_volume(f->s, "v1", 1 << 20);
	add_volume(f->s, "v2", 1 << 20);
	expect_ok(store_volume_attach, f->s, "v1", "bm1", "vm-1", &m1);
	expect_ok(store_volume_attach, f->s, "v2", "bm1", "vm-2", &m2);
	struct store_transition t[4] = {
		{.kind = STORE_TRANSITION_MAPPING,
		 .id = m1,
		 .from = STORE_MAPPING_ASSIGNED,
		 .to = STORE_MAPPING_INITIALISED},
		/* moved meanwhile: changes nothing, the others still commit */
		{.kind = STORE_TRANSITION_MAPPING,
		 .id = m2,
		 .from = STORE_MAPPING_INITIALISED,
		 .to = STORE_MAPPING_ATTACHED},
		{.kind = STORE_TRANSITION_CLEAN_STOP, .id = vid, .clean = true},
		{.kind = STORE_TRANSITION_MAPPING,
		 .id = 999,
		 .from = STORE_MAPPING_ASSIGNED,
		 .to = STORE_MAPPING_INITIALISED},
	};
	expect_ok(store_transitions_apply, f->s, t, 4);
	assert_int_equal(t[0].result, 0);
	assert_int_equal(t[1].result, -ESTALE);
	assert_non_null(strstr(t[1].err.message, "is ASSIGNED, not INITIALISED"));
	assert_int_equal(t[2].result, 0);
	assert_int_equal(t[3].result, -ENOENT);
	expect_ok(store_mapping_get, f->s, m1, &m);
	assert_int_equal(m.state, STORE_MAPPING_INITIALISED);
	expect_ok(store_mapping_get, f->s, m2, &m);
	assert_int_equal(m.state, STORE_MAPPING_ASSIGNED);
	expect_ok(store_volume_get, f->s, "v1", &v);
	assert_true(v.clean_stop);

	obs[0].mapping_id = m1;
	obs[1].mapping_id = 4242; /* gone: skipped, not an error */
	snprintf(obs[0].raid_state, sizeof(obs[0].raid_state), "online");
	expect_ok(store_observation_put_many, f->s, obs, 2, written);
	assert_true(written[0]);
	assert_false(written[1]);
	expect_ok(store_observation_get, f->s, m1, &got);
	assert_string_equal(got.raid_state, "online");
	obs[0].rebuild_percent = 101;
	expect_fail(-EINVAL, "invalid", store_observation_put_many, f->s, obs, 2, written);
}

static void test_desired_get(void **state)
{
	struct fixture *f = *state;
	struct store_desired *d = NULL;
	int64_t m1, m3, v1;

	base(f->s);
	v1 = add_volume(f->s, "v1", 1 << 20);
	add_volume(f->s, "v2", 2 << 20);
	add_volume(f->s, "v3", 4 << 20);
	expect_ok(store_volume_attach, f->s, "v1", "bm1", "vm-1", &m1);
	expect_ok(store_volume_attach, f->s, "v2", "bm2", "vm-2", NULL);
	expect_ok(store_volume_attach, f->s, "v3", "bm1", "vm-3", &m3);
	expect_ok(store_device_add, f->s, "bm1", "0000:82:00.0", "inv-1", NULL);
	expect_ok(store_device_add, f->s, "bm2", "0000:83:00.0", NULL, NULL);
	/* v3 is done with: DETACHED mappings are not desired */
	expect_ok(store_volume_detach, f->s, "v3", NULL, NULL);
	expect_ok(store_mapping_advance, f->s, m3, STORE_MAPPING_DETACH_REQUESTED,
		  STORE_MAPPING_DETACHED);
	expect_ok(store_desired_get, f->s, "bm1", &d);
	assert_string_equal(d->host.name, "bm1");
	assert_int_equal(d->n_mappings, 1);
	assert_int_equal(d->mappings[0].mapping.id, m1);
	assert_int_equal(d->mappings[0].mapping.state, STORE_MAPPING_ASSIGNED);
	assert_int_equal(d->mappings[0].volume.id, v1);
	assert_int_equal(d->mappings[0].volume.size_bytes, 1 << 20);
	assert_int_equal(d->mappings[0].n_replicas, 2);
	assert_string_equal(d->mappings[0].replicas[0].nqn, "nqn.2016-06.io.spdk:v1-a");
	assert_string_equal(d->mappings[0].replicas[1].address, "10.0.0.6");
	assert_int_equal(d->mappings[0].replicas[1].port, 4420);
	assert_int_equal(d->mappings[0].replicas[1].transport, STORE_TRANSPORT_TCP);
	assert_int_equal(d->n_devices, 1);
	assert_string_equal(d->devices[0].bdf, "0000:82:00.0");
	assert_string_equal(d->devices[0].inventory_id, "inv-1");
	store_desired_free(d);
	expect_fail(-ENOENT, "host 'bm7' does not exist", store_desired_get, f->s, "bm7", &d);
}

/*
 * Each mapping holds its own volume's replicas and nothing more: an array sized for every
 * replica of the host per mapping made the read quadratic (1.5 GB at 1,000 volumes).
 */
static void test_desired_get_replicas_per_volume(void **state)
{
	struct fixture *f = *state;
	struct store_desired *d = NULL;
	char name[32];
	const size_t n = 60;

	base(f->s);
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "v%zu", i);
		add_volume(f->s, name, 1 << 20);
	}
	/* attached in another order than created: mappings and replicas are sorted apart */
	for (size_t i = n; i-- > 0;) {
		snprintf(name, sizeof(name), "v%zu", i);
		expect_ok(store_volume_attach, f->s, name, i % 7 ? "bm1" : "bm2", name, NULL);
	}
	expect_ok(store_desired_get, f->s, "bm1", &d);
	assert_true(d->n_mappings > n / 2);
	for (size_t i = 0; i < d->n_mappings; i++) {
		const struct store_desired_mapping *dm = &d->mappings[i];
		char nqn[STORE_NAME_MAX + 32];

		assert_int_equal(dm->n_replicas, 2);
		for (size_t k = 0; k < dm->n_replicas; k++)
			assert_int_equal(dm->replicas[k].volume_id, dm->volume.id);
		snprintf(nqn, sizeof(nqn), "nqn.2016-06.io.spdk:%s-a", dm->volume.name);
		assert_string_equal(dm->replicas[0].nqn, nqn);
		/* room for this volume's replicas, not for every replica of the host */
		assert_true(malloc_usable_size(dm->replicas) < 4 * sizeof(*dm->replicas));
	}
	store_desired_free(d);
}

static void test_devices(void **state)
{
	struct fixture *f = *state;
	struct store_device *list = NULL;
	size_t n = 0;

	base(f->s);
	expect_ok(store_device_add, f->s, "bm1", "0000:AF:1f.7", NULL, NULL);
	expect_fail(-EEXIST, "device 0000:af:1f.7 is already registered on host 'bm1'",
		    store_device_add, f->s, "bm1", "0000:af:1f.7", NULL, NULL);
	/* the same BDF on another host is another device */
	expect_ok(store_device_add, f->s, "bm2", "0000:af:1f.7", NULL, NULL);
	expect_fail(-EINVAL, "device 20 is above 1f", store_device_add, f->s, "bm1", "0000:82:20.0",
		    NULL, NULL);
	expect_fail(-ENOENT, "host 'bm9' does not exist", store_device_add, f->s, "bm9",
		    "0000:82:00.0", NULL, NULL);
	expect_ok(store_device_list, f->s, "bm1", &list, &n);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].bdf, "0000:af:1f.7");
	free(list);
	expect_ok(store_device_list, f->s, NULL, &list, &n);
	assert_int_equal(n, 2);
	free(list);
	expect_ok(store_device_remove, f->s, "bm1", "0000:af:1f.7");
	expect_fail(-ENOENT, "is not registered on host 'bm1'", store_device_remove, f->s, "bm1",
		    "0000:af:1f.7");
	/* a host's devices go with it */
	expect_ok(store_host_remove, f->s, "bm2");
	expect_ok(store_device_list, f->s, NULL, &list, &n);
	assert_int_equal(n, 0);
	free(list);
}

static void test_observation_and_in_sync(void **state)
{
	struct fixture *f = *state;
	struct store_observation o = {.rebuild_percent = -1}, got;
	struct store_replica *reps = NULL;
	size_t n = 0;
	int64_t mid, vid;

	base(f->s);
	vid = add_volume(f->s, "v1", 1 << 20);
	expect_ok(store_volume_attach, f->s, "v1", "bm1", "vm-1", &mid);
	expect_fail(-ENOENT, "nothing observed yet for mapping", store_observation_get, f->s, mid,
		    &got);
	o.mapping_id = 4242;
	expect_fail(-ENOENT, "mapping 4242 does not exist", store_observation_put, f->s, &o);
	o.mapping_id = mid;
	o.rebuild_percent = 101;
	expect_fail(-EINVAL, "rebuild percent 101", store_observation_put, f->s, &o);
	o.rebuild_percent = 10;
	snprintf(o.raid_state, sizeof(o.raid_state), "online");
	expect_ok(store_observation_put, f->s, &o);
	o.rebuild_percent = 60;
	expect_ok(store_observation_put, f->s, &o);
	expect_ok(store_observation_get, f->s, mid, &got);
	assert_int_equal(got.rebuild_percent, 60);
	assert_true(got.updated_at > 0);
	expect_ok(store_replica_list, f->s, vid, &reps, &n);
	expect_ok(store_replica_set_in_sync, f->s, reps[1].id, false, 7);
	expect_fail(-ESTALE, "newer than 6", store_replica_set_in_sync, f->s, reps[1].id, true, 6);
	expect_fail(-ENOENT, "replica 999 does not exist", store_replica_set_in_sync, f->s, 999,
		    true, 1);
	free(reps);
	expect_ok(store_replica_list, f->s, vid, &reps, &n);
	assert_false(reps[1].in_sync);
	assert_int_equal(reps[1].generation, 7);
	assert_true(reps[0].in_sync);
	free(reps);
}

static void test_open_errors(void **state)
{
	struct store *s = NULL;
	struct store_error err = {0};

	(void)state;
	assert_int_equal(store_open("", &s, &err), -EINVAL);
	assert_non_null(strstr(err.message, "no database given"));
	assert_int_equal(store_open("mysql://x/y", &s, &err), -EINVAL);
	assert_non_null(strstr(err.message, "names no known backend"));
	assert_int_equal(store_open("/nonexistent-dir/x/de.db", &s, &err), -ENOTCONN);
	assert_non_null(
		strstr(err.message, "cannot open SQLite database /nonexistent-dir/x/de.db"));
	assert_int_equal(store_open("host=/nonexistent-dir dbname=x connect_timeout=2", &s, &err),
			 -ENOTCONN);
	assert_non_null(strstr(err.message, "cannot connect to PostgreSQL"));
	assert_null(s);
}

/* Every URL form names the same database. */
static void test_url_forms(void **state)
{
	struct fixture *f = *state;
	char forms[3][1200];
	int n = 0;

	fx_add_host(f->s, "seen");
	if (f->db.pg) {
		char host[512] = "";
		const char *h = strstr(getenv("PG_TEST_CONNINFO"), "host=");

		assert_non_null(h);
		sscanf(h, "host=%511s", host);
		snprintf(forms[n++], sizeof(forms[0]), "postgresql://postgres@/%s?host=%s",
			 f->db.dir, host);
		snprintf(forms[n++], sizeof(forms[0]), "postgres://postgres@/%s?host=%s", f->db.dir,
			 host);
		snprintf(forms[n++], sizeof(forms[0]), "host=%s user=postgres dbname=%s", host,
			 f->db.dir);
	} else {
		snprintf(forms[n++], sizeof(forms[0]), "%s/test.db", f->db.dir);
		snprintf(forms[n++], sizeof(forms[0]), "sqlite://%s/test.db", f->db.dir);
		snprintf(forms[n++], sizeof(forms[0]), "sqlite:%s/test.db", f->db.dir);
	}
	for (int i = 0; i < n; i++) {
		struct store_error err = {0};
		struct store *s = NULL;
		struct store_host h;

		if (store_open(forms[i], &s, &err) < 0)
			fail_msg("%s: %s", forms[i], err.message);
		assert_string_equal(store_backend_name(s), f->db.pg ? "postgresql" : "sqlite");
		expect_ok(store_host_get, s, "seen", &h);
		store_close(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_idempotent, fx_setup, fx_teardown),
		cmocka_unit_test(test_fresh_database_migrates_from_zero),
		cmocka_unit_test(test_upgrade_keeps_data),
		cmocka_unit_test_setup_teardown(test_host_crud, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_host_bad_values, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_sql_in_values_round_trips, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_node_rules, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_volume_create_rules, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_volume_resize, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_replica_promote, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_attach_detach_rules, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_mapping_advance_cas, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_transitions_batch, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_desired_get, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_desired_get_replicas_per_volume, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_devices, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_observation_and_in_sync, fx_setup, fx_teardown),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test_setup_teardown(test_url_forms, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
