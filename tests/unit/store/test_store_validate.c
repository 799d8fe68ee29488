/* SPDX-License-Identifier: Apache-2.0 */
/* Every validation rule, with the message an operator sees. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "store/store_validate.h"

static void check_bad(int r, const struct store_error *err, const char *text)
{
	assert_int_equal(r, -EINVAL);
	assert_int_equal(err->err, -EINVAL);
	if (!strstr(err->message, text))
		fail_msg("message '%s' lacks '%s'", err->message, text);
}

static void test_nqn(void **state)
{
	static const struct {
		const char *nqn;
		const char *msg;
	} bad[] = {
		{"", "NQN must not be empty"},
		{"nqn.2016-06.io.spdk:\xff", "not valid UTF-8"},
		{"nqn.2016-06.io.spdk:\xe0\x80\xaf", "not valid UTF-8"},
		{"iqn.2016-06.io.spdk:x", "must start with 'nqn.'"},
		{"nqn.16-06.io.spdk:x", "must have a date 'yyyy-mm.'"},
		{"nqn.2016-6.io.spdk:x", "must have a date 'yyyy-mm.'"},
		{"nqn.2016-00.io.spdk:x", "invalid date 2016-00"},
		{"nqn.2016-13.io.spdk:x", "invalid date 2016-13"},
		{"nqn.1969-01.io.spdk:x", "invalid date 1969-01"},
		{"nqn.2016-06.io.spdk", "must end with ':' and a name"},
		{"nqn.2016-06.io.spdk:", "must end with ':' and a name"},
		{"nqn.2016-06.:x", "has no domain after the date"},
		{"nqn.2016-06.io..spdk:x", "domain labels must not be empty"},
		{"nqn.2016-06.io.spdk-:x", "must end with a letter or digit"},
		{"nqn.2016-06.9io.spdk:x", "must start with a letter"},
		{"nqn.2016-06.io.sp_dk:x", "only letters, digits, '-' and '.'"},
		{"nqn.2014-08.org.nvmexpress:uuid:1234",
		 "a UUID (8-4-4-4-12 hex digits) must follow"},
		{"nqn.2014-08.org.nvmexpress:uuid:0b5d7c2e-3f4a-4b6c-9d8e-1f2a3b4c5d6z", "a UUID"},
		{"nqn.2014-08.org.nvmexpress.discovery", "is the discovery service"},
		{"nqn.2016-06.io.spdk:a\nb", "control characters"},
	};
	static const char *const good[] = {
		"nqn.2016-06.io.spdk:cnode1",
		"nqn.2014-08.org.nvmexpress:uuid:0b5d7c2e-3f4a-4b6c-9d8e-1f2a3b4c5d6e",
		"nqn.2024-01.com.example-corp.storage:vol:42",
		"nqn.2016-06.io:x",
	};
	struct store_error err;
	char longnqn[300];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		check_bad(store_validate_nqn(bad[i].nqn, &err), &err, bad[i].msg);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(store_validate_nqn(good[i], NULL), 0);
	/* 223 bytes is the limit */
	memset(longnqn, 'a', sizeof(longnqn));
	memcpy(longnqn, "nqn.2016-06.io.spdk:", 20);
	longnqn[223] = '\0';
	assert_int_equal(store_validate_nqn(longnqn, NULL), 0);
	longnqn[223] = 'a';
	longnqn[224] = '\0';
	check_bad(store_validate_nqn(longnqn, &err), &err, "is 224 bytes long; at most 223");
	/* a domain label longer than 63 */
	memset(longnqn, 'a', sizeof(longnqn));
	memcpy(longnqn, "nqn.2016-06.", 12);
	memcpy(longnqn + 12 + 64, ":x", 3);
	check_bad(store_validate_nqn(longnqn, &err), &err, "longer than 63 characters");
}

static void test_bdf(void **state)
{
	static const struct {
		const char *bdf;
		const char *msg;
	} bad[] = {
		{"82:00.0", "not of the form DDDD:BB:DD.F"},
		{"0000:82:00", "not of the form DDDD:BB:DD.F"},
		{"0000-82:00.0", "not of the form DDDD:BB:DD.F"},
		{"000g:82:00.0", "must be hexadecimal"},
		{"0000:8x:00.0", "must be hexadecimal"},
		{"0000:82:20.0", "device 20 is above 1f"},
		{"0000:82:1f.8", "function 8 is above 7"},
	};
	struct store_error err;
	char out[STORE_BDF_MAX] = "";

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		check_bad(store_validate_bdf(bad[i].bdf, out, &err), &err, bad[i].msg);
		assert_string_equal(out, ""); /* untouched on failure */
	}
	assert_int_equal(store_validate_bdf("0000:AF:1F.7", out, NULL), 0);
	assert_string_equal(out, "0000:af:1f.7");
	assert_int_equal(store_validate_bdf("ffff:ff:00.0", out, NULL), 0);
}

static void test_ip_port(void **state)
{
	struct store_error err;
	uint16_t port = 7;

	(void)state;
	assert_int_equal(store_validate_ip("--tcp-ip", "10.1.2.3", NULL), 0);
	assert_int_equal(store_validate_ip("--tcp-ip", "::1", NULL), 0);
	assert_int_equal(store_validate_ip("--tcp-ip", "fe80::1:2", NULL), 0);
	check_bad(store_validate_ip("--tcp-ip", "10.1.2", &err), &err,
		  "--tcp-ip '10.1.2' is not an IPv4 or IPv6 address");
	check_bad(store_validate_ip("address", "host.example", &err), &err, "'host.example'");
	check_bad(store_validate_ip("address", "1.2.3.4 ", &err), &err, "is not an IPv4");
	check_bad(store_validate_port("0", &port, &err), &err, "port '0' is not a number from 1");
	check_bad(store_validate_port("65536", &port, &err), &err, "port '65536'");
	check_bad(store_validate_port("44x", &port, &err), &err, "port '44x'");
	check_bad(store_validate_port("-1", &port, &err), &err, "port '-1'");
	assert_int_equal(port, 7);
	assert_int_equal(store_validate_port("65535", &port, NULL), 0);
	assert_int_equal(port, 65535);
	assert_int_equal(store_validate_port("1", &port, NULL), 0);
}

static void test_sizes(void **state)
{
	struct store_error err;
	struct store_qos q = {.rw_iops = 999};

	(void)state;
	check_bad(store_validate_block_size(1024, &err), &err, "block size 1024 is not supported");
	assert_int_equal(store_validate_block_size(512, NULL), 0);
	assert_int_equal(store_validate_block_size(4096, NULL), 0);
	check_bad(store_validate_size(0, 512, &err), &err, "size must not be zero");
	check_bad(store_validate_size(6144, 4096, &err), &err,
		  "size 6144 bytes is not a multiple of the block size 4096");
	check_bad(store_validate_size(UINT64_MAX, 512, &err), &err, "too large");
	assert_int_equal(store_validate_size(8192, 4096, NULL), 0);
	check_bad(store_validate_qos(&q, &err), &err, "QoS rw_iops 999 is not a multiple of 1000");
	q.rw_iops = 3000;
	assert_int_equal(store_validate_qos(&q, NULL), 0);
}

static void test_names_uuid_keys(void **state)
{
	struct store_error err;
	char longname[200];

	(void)state;
	memset(longname, 'n', sizeof(longname));
	longname[199] = '\0';
	check_bad(store_validate_name("host name", longname, &err), &err,
		  "is too long (199 bytes, at most 127)");
	check_bad(store_validate_name("VM id", "a\tb", &err), &err, "VM id must not contain");
	assert_int_equal(store_validate_name("host name", "x'); DROP TABLE hosts; --", NULL), 0);
	check_bad(store_validate_name("host name", "bad\xff", &err), &err, "is not valid UTF-8");
	check_bad(store_validate_name("host name", "trunc\xc3", &err), &err, "is not valid UTF-8");
	assert_int_equal(store_validate_name("host name", "h\xc3\xb6st-\xe2\x82\xac", NULL), 0);
	check_bad(store_validate_volume_name("0042", &err), &err, "all digits");
	assert_int_equal(store_validate_volume_name("vol-42", NULL), 0);
	check_bad(store_validate_uuid("0b5d7c2e3f4a4b6c9d8e1f2a3b4c5d6e", &err), &err,
		  "is not a UUID");
	assert_int_equal(store_validate_uuid("0B5D7C2E-3F4A-4B6C-9D8E-1F2A3B4C5D6E", NULL), 0);
	check_bad(store_validate_key_path("key.pem", &err), &err, "must be an absolute path");
	assert_null(strstr(err.message, "key.pem")); /* the value is never echoed */
	check_bad(store_validate_key_path("DHHC-1:00:c2VjcmV0c2VjcmV0c2VjcmV0Cg==:", &err), &err,
		  "looks like a DH-HMAC-CHAP key itself");
	assert_null(strstr(err.message, "c2VjcmV0"));
	assert_int_equal(store_validate_key_path("/etc/diskengine/keys/n1", NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nqn),
		cmocka_unit_test(test_bdf),
		cmocka_unit_test(test_ip_port),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_names_uuid_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
