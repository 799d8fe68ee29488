/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a long-running caller needs of the typed layer: the keyring listing, recorded answers
 * through the same decoders, a pre-init replay that follows the methods SPDK accepts and can go
 * on past a refused option, and waits inside SPDK that do not count against the call timeout.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/util.h"
#include "fake_spdk.h"
#include "rpc/spdk.h"

/* keyring_get_keys as SPDK v25.09 answered it (auth transcript): a removed key has no path. */
static const char *const keys_answer =
	"[{\"name\":\"ckey0\",\"module\":\"keyring_file\",\"removed\":false,\"probed\":false,"
	"\"refcnt\":2,\"path\":\"/k/ckey0\"},{\"name\":\"key0\",\"module\":\"keyring_file\","
	"\"removed\":true,\"probed\":false,\"refcnt\":1}]";

struct script {
	char methods[32][64];
	int n;
	const char *refuse; /* method answered with SPDK's -1 */
	int hold_ms;	    /* bdev_get_bdevs answers after this long */
};

static enum fake_next h_script(struct fake *f, int fd, json_t *req, void *arg)
{
	struct script *s = arg;
	const char *m = json_string_value(json_object_get(req, "method"));
	json_t *id = json_object_get(req, "id");

	if (s->n < 32)
		snprintf(s->methods[s->n++], sizeof(s->methods[0]), "%s", m);
	if (strcmp(m, "keyring_get_keys") == 0) {
		fake_answer(fd, id, json_loads(keys_answer, 0, NULL));
	} else if (strcmp(m, "bdev_get_bdevs") == 0) {
		util_sleep_ms((uint64_t)s->hold_ms);
		fake_answer(fd, id,
			    json_loads("[{\"name\":\"raid_1\",\"aliases\":[],\"block_size\":512,"
				       "\"num_blocks\":8,\"uuid\":\"u\",\"claimed\":false,"
				       "\"assigned_rate_limits\":{\"rw_ios_per_sec\":0,"
				       "\"rw_mbytes_per_sec\":0,\"r_mbytes_per_sec\":0,"
				       "\"w_mbytes_per_sec\":0}}]",
				       0, NULL));
	} else if (s->refuse && strcmp(m, s->refuse) == 0) {
		char *t = NULL;
		if (asprintf(&t,
			     "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"error\":{\"code\":-1,"
			     "\"message\":\"Method may only be called before framework is "
			     "initialized.\"}}",
			     (long long)json_integer_value(id)) < 0)
			fail();
		fake_send(fd, t);
		free(t);
	} else {
		fake_answer(fd, id, json_true());
	}
	return FAKE_CONTINUE;
}

static struct rpc_client *open_on(struct fake *f, int timeout_ms)
{
	struct rpc_client_opts o = {.timeout_ms = timeout_ms};
	struct rpc_client *c = NULL;
	struct rpc_error err;

	assert_int_equal(rpc_client_open(fake_path(f), &o, &c, &err), 0);
	return c;
}

static void test_keyring_get_keys(void **state)
{
	struct script s = {0};
	struct fake *f = fake_start(h_script, &s);
	struct rpc_client *c = open_on(f, 2000);
	struct rpc_key_list l = {0};
	struct rpc_error err;

	assert_int_equal(rpc_keyring_get_keys(c, &l, &err), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].name, "ckey0");
	assert_string_equal(l.v[0].path, "/k/ckey0");
	assert_false(l.v[0].removed);
	assert_string_equal(l.v[1].name, "key0");
	assert_null(l.v[1].path);
	assert_true(l.v[1].removed);
	rpc_key_list_free(&l);
	rpc_client_close(c);
	fake_stop(f, false);
}

static void test_parse_recorded_answers(void **state)
{
	struct rpc_key_list k = {0};
	struct rpc_vhost_list v = {0};
	struct rpc_raid_list r = {0};
	struct rpc_nvme_ctrlr_list n = {0};
	struct rpc_bdev_list b = {0};
	struct rpc_error err;

	assert_int_equal(rpc_parse_keys(keys_answer, &k, &err), 0);
	assert_int_equal(k.n, 2);
	rpc_key_list_free(&k);
	assert_int_equal(rpc_parse_vhost_controllers("[]", &v, &err), 0);
	assert_int_equal(v.n, 0);
	rpc_vhost_list_free(&v);
	/* vhost_get_controllers lists vhost-scsi controllers too, with "scsi" instead of "block" */
	assert_int_equal(
		rpc_parse_vhost_controllers(
			"[{\"ctrlr\":\"vhost.0\",\"cpumask\":\"0x1\",\"delay_base_us\":0,"
			"\"iops_threshold\":60000,\"socket\":\"/var/tmp/vhost.0\",\"sessions\":[],"
			"\"backend_specific\":{\"scsi\":[]}},{\"ctrlr\":\"vhost7\",\"cpumask\":"
			"\"0x1\",\"socket\":\"/var/tmp/"
			"vhost7\",\"sessions\":[],\"backend_specific\":"
			"{\"block\":{\"readonly\":false,\"bdev\":\"raid_1\"}}}]",
			&v, &err),
		0);
	assert_int_equal(v.n, 2);
	assert_false(v.v[0].blk);
	assert_null(v.v[0].bdev);
	assert_true(v.v[1].blk);
	assert_string_equal(v.v[1].bdev, "raid_1");
	rpc_vhost_list_free(&v);

	/* malformed: not JSON, wrong type, a field missing; each names method and field */
	assert_int_equal(rpc_parse_keys("[{", &k, &err), -EBADMSG);
	assert_string_equal(err.method, "keyring_get_keys");
	assert_non_null(strstr(err.message, "not JSON"));
	assert_int_equal(rpc_parse_keys("[{\"path\":\"/k\"}]", &k, &err), -EBADMSG);
	assert_non_null(strstr(err.message, "name"));
	assert_int_equal(rpc_parse_raid_bdevs("{}", &r, &err), -EBADMSG);
	assert_string_equal(err.method, "bdev_raid_get_bdevs");
	assert_int_equal(rpc_parse_nvme_controllers("[{\"ctrlrs\":[]}]", &n, &err), -EBADMSG);
	assert_non_null(strstr(err.message, "name"));
	assert_int_equal(rpc_parse_bdevs("[{\"name\":\"x\",\"block_size\":\"512\"}]", &b, &err),
			 -EBADMSG);
	assert_string_equal(err.method, "bdev_get_bdevs");
	assert_int_equal(rpc_parse_vhost_controllers("[{\"ctrlr\":1}]", &v, &err), -EBADMSG);
}

static bool count_refusal(const struct rpc_error *e, void *arg)
{
	unsigned *n = arg;

	(*n)++;
	assert_int_equal(e->code, -1);
	return true;
}

static void test_replay_follows_current_methods(void **state)
{
	static const char *const doc =
		"{\"subsystems\":[{\"subsystem\":\"bdev\",\"config\":["
		"{\"method\":\"bdev_set_options\",\"params\":{\"bdev_io_pool_size\":65535}},"
		"{\"method\":\"bdev_nvme_set_options\",\"params\":{\"bdev_retry_count\":5}},"
		"{\"method\":\"bdev_nvme_attach_controller\",\"params\":{\"name\":\"x\"}},"
		"{\"method\":\"framework_start_init\"},"
		"{\"method\":\"nvmf_set_max_subsystems\",\"params\":{\"max_subsystems\":8}}]}]}";
	char *cur_v[] = {"bdev_set_options", "bdev_nvme_set_options", "nvmf_set_max_subsystems",
			 "framework_start_init", "rpc_get_methods"};
	struct rpc_strv current = {.v = cur_v, .n = ARRAY_SIZE(cur_v)};
	struct script s = {.refuse = "bdev_nvme_set_options"};
	struct fake *f = fake_start(h_script, &s);
	struct rpc_client *c = open_on(f, 2000);
	struct rpc_error err;
	unsigned sent = 99, refused = 0;

	/* rpc.py's rule: what SPDK accepts now, in document order, without framework_start_init;
	 * the refused option is reported and the rest still goes */
	assert_int_equal(
		rpc_config_replay_preinit(c, doc, &current, count_refusal, &refused, &sent, &err),
		0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.methods[0], "bdev_set_options");
	assert_string_equal(s.methods[1], "bdev_nvme_set_options");
	assert_string_equal(s.methods[2], "nvmf_set_max_subsystems");
	assert_int_equal(sent, 2);
	assert_int_equal(refused, 1);

	/* without a callback the refusal stops the replay with SPDK's error */
	s.n = 0;
	sent = 99;
	assert_int_equal(rpc_config_replay_preinit(c, doc, &current, NULL, NULL, &sent, &err),
			 -EPERM);
	assert_int_equal(err.code, -1);
	assert_string_equal(err.method, "bdev_nvme_set_options");
	assert_int_equal(s.n, 2);
	assert_int_equal(sent, 99);
	rpc_client_close(c);
	fake_stop(f, false);
}

static void test_bdev_wait_extends_call_timeout(void **state)
{
	struct script s = {.hold_ms = 600};
	struct fake *f = fake_start(h_script, &s);
	struct rpc_client *c = open_on(f, 300);
	struct rpc_bdev_list l = {0};
	struct rpc_error err;

	/* SPDK may hold the answer for the whole wait: the call allows for it */
	assert_int_equal(rpc_bdev_get_bdev(c, "raid_1", 2000, &l, &err), 0);
	assert_int_equal(l.n, 1);
	rpc_bdev_list_free(&l);
	/* with no wait asked, the client's own timeout applies */
	assert_int_equal(rpc_bdev_get_bdev(c, "raid_1", RPC_UNSET, &l, &err), -ETIMEDOUT);
	assert_int_equal(err.code, 0);
	rpc_client_close(c);
	fake_stop(f, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyring_get_keys),
		cmocka_unit_test(test_parse_recorded_answers),
		cmocka_unit_test(test_replay_follows_current_methods),
		cmocka_unit_test(test_bdev_wait_extends_call_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
