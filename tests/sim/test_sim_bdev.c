/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bdev registry in-process (no server): names and aliases, listeners and their
 * order, claims, superblock storage, the bdev_get_bdevs entry and the saved config.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim/sim_bdev_internal.h"

static char trace[256];

static void trace_add(const char *what, struct sim_bdev *b)
{
	strcat(trace, what);
	strcat(trace, ":");
	strcat(trace, b->name);
	strcat(trace, " ");
}

static void l1_added(struct sim *s, struct sim_bdev *b, void *ctx)
{
	trace_add("1a", b);
}

static void l1_removed(struct sim *s, struct sim_bdev *b, void *ctx)
{
	trace_add("1r", b);
}

static void l2_added(struct sim *s, struct sim_bdev *b, void *ctx)
{
	trace_add("2a", b);
}

static void l2_resized(struct sim *s, struct sim_bdev *b, void *ctx)
{
	trace_add("2z", b);
}

static void destruct(struct sim_bdev *b)
{
	trace_add("d", b);
}

static void write_config(struct sim *s, struct sim_bdev *b, json_t *arr)
{
	json_array_append_new(arr, json_pack("{s:s,s:{s:s}}", "method", "test_create", "params",
					     "name", b->name));
}

static const struct sim_bdev_ops ops = {
	.product_name = "Test disk",
	.destruct = destruct,
	.write_config = write_config,
};

static void test_names_and_aliases(void **state)
{
	struct sim s = {0};
	int err = 0;
	struct sim_bdev *a = sim_bdev_register(&s, "a", "11111111-2222-3333-4444-555555555555",
					       512, 100, 0, &ops, NULL, &err);

	assert_non_null(a);
	/* the uuid is an alias; the name and the alias both find it */
	assert_ptr_equal(sim_bdev_find(&s, "a"), a);
	assert_ptr_equal(sim_bdev_find(&s, "11111111-2222-3333-4444-555555555555"), a);
	assert_null(sim_bdev_find(&s, "b"));
	/* a name clashing with a name or an alias is refused */
	assert_null(sim_bdev_register(&s, "a", NULL, 512, 1, 0, &ops, NULL, &err));
	assert_int_equal(err, -EEXIST);
	assert_null(sim_bdev_register(&s, "11111111-2222-3333-4444-555555555555", NULL, 512, 1, 0,
				      &ops, NULL, &err));
	assert_int_equal(err, -EEXIST);
	assert_null(sim_bdev_register(&s, "", NULL, 512, 1, 0, &ops, NULL, &err));
	assert_int_equal(err, -EINVAL);
	/* a bdev named by its uuid gets no alias */
	struct sim_bdev *u = sim_bdev_register(&s, "99999999-2222-3333-4444-555555555555",
					       "99999999-2222-3333-4444-555555555555", 512, 1, 0,
					       &ops, NULL, &err);
	assert_non_null(u);
	assert_int_equal(json_array_size(u->aliases), 0);
	assert_int_equal(sim_bdev_alias_add(&s, u, "lvs0/lv0"), 0);
	assert_int_equal(sim_bdev_alias_add(&s, a, "lvs0/lv0"), -EEXIST);
	assert_ptr_equal(sim_bdev_find(&s, "lvs0/lv0"), u);
	/* registration order */
	assert_ptr_equal(sim_bdev_first(&s), a);
	assert_ptr_equal(a->next, u);
	sim_bdev_state_free(&s);
}

static void test_listeners(void **state)
{
	struct sim s = {0};
	struct sim_bdev_listener l1 = {.added = l1_added, .removed = l1_removed};
	struct sim_bdev_listener l2 = {.added = l2_added, .resized = l2_resized};
	int err;

	trace[0] = '\0';
	sim_bdev_listen(&s, &l1);
	sim_bdev_listen(&s, &l2);
	struct sim_bdev *b = sim_bdev_register(&s, "b", NULL, 512, 8, 0, &ops, NULL, &err);
	sim_bdev_resize(&s, b, 8); /* same size: no event */
	sim_bdev_resize(&s, b, 16);
	assert_int_equal(b->num_blocks, 16);
	sim_bdev_unregister(&s, b);
	assert_string_equal(trace, "1a:b 2a:b 2z:b 1r:b d:b ");
	assert_null(sim_bdev_first(&s));
	trace[0] = '\0';
	sim_bdev_unlisten(&s, &l1);
	b = sim_bdev_register(&s, "c", NULL, 512, 8, 0, &ops, NULL, &err);
	assert_string_equal(trace, "2a:c ");
	sim_bdev_state_free(&s);
}

static void test_claims_and_superblock(void **state)
{
	struct sim s = {0};
	int err;
	struct sim_bdev *b = sim_bdev_register(&s, "b", NULL, 512, 8, 0, &ops, NULL, &err);
	void *buf;
	size_t len;

	assert_int_equal(sim_bdev_claim(b, "raid", NULL), 0);
	assert_string_equal(b->claim_type, "exclusive_write");
	assert_int_equal(sim_bdev_claim(b, "vhost", "read_many_write_one"), -EPERM);
	json_t *e = sim_bdev_to_json(&s, b);
	assert_true(json_is_true(json_object_get(e, "claimed")));
	assert_string_equal(json_string_value(json_object_get(e, "claim_type")), "exclusive_write");
	assert_string_equal(json_string_value(json_object_get(e, "product_name")), "Test disk");
	assert_null(json_object_get(e, "numa_id"));
	assert_null(json_object_get(e, "memory_domains"));
	assert_true(json_is_object(json_object_get(e, "driver_specific")));
	json_decref(e);
	sim_bdev_release(b);
	assert_null(b->claim_type);
	assert_int_equal(sim_bdev_claim(b, "vhost", "read_many_write_one"), 0);

	assert_int_equal(sim_bdev_sb_read(b, &buf, &len), -ENODATA);
	assert_int_equal(sim_bdev_sb_write(b, "sb-v1", 5), 0);
	assert_int_equal(sim_bdev_sb_read(b, &buf, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "sb-v1", 5);
	free(buf);
	sim_bdev_state_free(&s);
}

static void test_saved_config(void **state)
{
	struct sim s = {0};
	int err;
	struct sim_bdev *b = sim_bdev_register(&s, "b", NULL, 512, 8, 0, &ops, NULL, &err);

	b->qos[SIM_QOS_RW_IOPS] = 2000;
	b->qos[SIM_QOS_W_MBPS] = 40;
	json_t *cfg = json_array();
	size_t n;

	/* the modules' own hooks need their state: only the per-bdev part runs here (the
	 * whole "bdev" config is checked over the socket in test_sim_core) */
	sim_bdev_config_tail(&s, cfg);
	n = json_array_size(cfg);
	assert_int_equal(n, 3);
	/* the bdev's own entry, then its QoS, then the examine barrier, last */
	assert_string_equal(json_string_value(json_object_get(json_array_get(cfg, n - 3), "method")),
			    "test_create");
	json_t *want = json_loads("{\"method\":\"bdev_set_qos_limit\",\"params\":{\"name\":\"b\","
				  "\"rw_ios_per_sec\":2000,\"w_mbytes_per_sec\":40}}",
				  0, NULL);
	assert_true(json_equal(json_array_get(cfg, n - 2), want));
	json_decref(want);
	assert_string_equal(json_string_value(json_object_get(json_array_get(cfg, n - 1), "method")),
			    "bdev_wait_for_examine");
	json_decref(cfg);
	sim_bdev_state_free(&s);
}

static uint64_t forwarded;

static void forward_read(struct sim *s, struct sim_bdev *b, uint64_t offset, uint64_t len)
{
	forwarded += len;
}

static const struct sim_bdev_ops stacked_ops = {.read = forward_read};

/* Examine reads at registration, as real SPDK's iostat shows for a 512 B-block bdev. */
static void test_examine_reads(void **state)
{
	struct sim s = {0};
	int err;
	struct sim_bdev *b = sim_bdev_register(&s, "b", NULL, 512, 32768, 0, &stacked_ops, NULL,
					       &err);

	assert_int_equal(b->stats.bytes_read, 37376);
	assert_int_equal(b->stats.num_read_ops, 3);
	assert_int_equal(forwarded, 37376);
	/* too small for the gpt buffer: only the reads that fit */
	b = sim_bdev_register(&s, "tiny", NULL, 512, 16, 0, &ops, NULL, &err);
	assert_int_equal(b->stats.bytes_read, 512 + 4096);
	assert_int_equal(b->stats.num_read_ops, 2);
	sim_bdev_read(&s, b, 0, 512);
	assert_int_equal(b->stats.num_read_ops, 3);
	/* bdev_auto_examine false: nothing is read */
	json_object_set_new(sim_bdev_state_get(&s)->opts, "bdev_auto_examine", json_false());
	b = sim_bdev_register(&s, "quiet", NULL, 512, 32768, 0, &ops, NULL, &err);
	assert_int_equal(b->stats.num_read_ops, 0);
	sim_bdev_state_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_aliases),
		cmocka_unit_test(test_listeners),
		cmocka_unit_test(test_claims_and_superblock),
		cmocka_unit_test(test_saved_config),
		cmocka_unit_test(test_examine_reads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
