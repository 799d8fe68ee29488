/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "common/util.h"

static void test_parse_size_units(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(util_parse_size("512", &v), 0);
	assert_int_equal(v, 512);
	assert_int_equal(util_parse_size("10G", &v), 0);
	assert_int_equal(v, 10ull << 30);
	assert_int_equal(util_parse_size("3MiB", &v), 0);
	assert_int_equal(v, 3ull << 20);
	assert_int_equal(util_parse_size("2GB", &v), 0);
	assert_int_equal(v, 2000000000ull);
	assert_int_equal(util_parse_size("1k", &v), 0);
	assert_int_equal(v, 1024);
}

static void test_parse_size_bad(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(util_parse_size("", &v), -EINVAL);
	assert_int_equal(util_parse_size("G", &v), -EINVAL);
	assert_int_equal(util_parse_size("-5G", &v), -EINVAL);
	assert_int_equal(util_parse_size("5X", &v), -EINVAL);
	assert_int_equal(util_parse_size("1.5G", &v), -EINVAL);
	assert_int_equal(util_parse_size("99999999999P", &v), -ERANGE);
	assert_int_equal(v, 7); /* out-parameter untouched on failure */
}

static void test_utf8_strict(void **state)
{
	static const char *const good[] = {
		"", "plain", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x92\xbe", "\xf4\x8f\xbf\xbf"};
	static const char *const bad[] = {
		"\xff",		    /* never in UTF-8 */
		"\x80",		    /* a lone continuation byte */
		"\xc0\xaf",	    /* overlong '/' */
		"\xe0\x80\xaf",	    /* overlong, three bytes */
		"\xed\xa0\x80",	    /* a UTF-16 surrogate */
		"\xf4\x90\x80\x80", /* above U+10FFFF */
		"\xe2\x82",	    /* cut short */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(util_utf8_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(util_utf8_valid(bad[i]));
}

static void test_write_file_atomic(void **state)
{
	char dir[] = "/tmp/de-util-XXXXXX";
	char path[256];
	char *buf = NULL;
	size_t len = 0;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cfg.json", dir);
	assert_int_equal(util_write_file_atomic(path, "{\"a\":1}", 7, 0600), 0);
	assert_int_equal(util_read_file(path, &buf, &len), 0);
	assert_int_equal(len, 7);
	assert_string_equal(buf, "{\"a\":1}");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(buf);
	assert_int_equal(util_read_file("/nonexistent/x", &buf, &len), -ENOENT);
	/* a directory that does not exist: clear errno, nothing left behind */
	assert_int_equal(util_write_file_atomic("/nonexistent/dir/x", "a", 1, 0600), -ENOENT);
	/* a link planted at the temporary name is not followed: its target stays untouched */
	char tmp[300], target[300];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	snprintf(target, sizeof(target), "%s/target", dir);
	assert_int_equal(util_write_file_atomic(target, "keep", 4, 0600), 0);
	assert_int_equal(symlink(target, tmp), 0);
	assert_int_equal(util_write_file_atomic(path, "new", 3, 0640), 0);
	assert_int_equal(util_read_file(target, &buf, &len), 0);
	assert_string_equal(buf, "keep");
	free(buf);
	assert_int_equal(util_read_file(path, &buf, &len), 0);
	assert_string_equal(buf, "new");
	free(buf);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(lstat(tmp, &st), -1);
	unlink(target);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size_units),
		cmocka_unit_test(test_parse_size_bad),
		cmocka_unit_test(test_write_file_atomic),
		cmocka_unit_test(test_utf8_strict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
