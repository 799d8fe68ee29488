/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/redact.h"

/* redact_copy of in must be want. */
static void copy_is(const char *in, const char *want)
{
	char buf[512];

	assert_int_equal(redact_copy(in, buf, sizeof(buf)), 0);
	if (strcmp(buf, want) != 0)
		fail_msg("redact_copy(\"%s\") = \"%s\", wanted \"%s\"", in, buf, want);
}

static void test_url_userinfo(void **state)
{
	(void)state;
	copy_is("postgresql://de:s3cret@db1/diskengine", "postgresql://de:***@db1/diskengine");
	copy_is("postgres://de:s3cret@db1:5432/diskengine?sslmode=require",
		"postgres://de:***@db1:5432/diskengine?sslmode=require");
	copy_is("postgresql://de:s3cret@[::1]:5432/x", "postgresql://de:***@[::1]:5432/x");
	/* several hosts, one userinfo */
	copy_is("postgresql://de:pw123@h1:5432,h2:5433/db",
		"postgresql://de:***@h1:5432,h2:5433/db");
}

static void test_url_encoded(void **state)
{
	(void)state;
	/* percent-encoded '@', ':' and '/' stay inside the password */
	copy_is("postgresql://de:p%40ss%3Aw%2Fd@db1/x", "postgresql://de:***@db1/x");
	/* raw ones (not encoded, as they should be) are hidden too, never half-shown */
	copy_is("postgresql://de:p@ss@db1/x", "postgresql://de:***@db1/x");
	copy_is("postgresql://de:p/ss@db1/x", "postgresql://de:***@db1/x");
	copy_is("postgresql://de:pa?ss@db1/x", "postgresql://de:***@db1/x");
	copy_is("postgresql://de:p:ss@db1/x", "postgresql://de:***@db1/x");
}

static void test_url_query_password(void **state)
{
	(void)state;
	copy_is("postgresql://db1/x?user=de&password=s3cret",
		"postgresql://db1/x?user=de&password=***");
	copy_is("postgresql://db1/x?password=s3cret&sslmode=require",
		"postgresql://db1/x?password=***&sslmode=require");
	copy_is("postgresql://u:a1b2@db1/x?password=c3d4", "postgresql://u:***@db1/x?password=***");
}

static void test_keyword_value(void **state)
{
	(void)state;
	copy_is("host=db1 dbname=x user=de password=s3cret",
		"host=db1 dbname=x user=de password=***");
	copy_is("password=s3cret host=db1", "password=*** host=db1");
	copy_is("host=db1 password = s3cret port=5432", "host=db1 password = *** port=5432");
	copy_is("host=db1 password='with space' port=5432", "host=db1 password=*** port=5432");
	copy_is("host=db1 password='it\\'s' port=5432", "host=db1 password=*** port=5432");
	copy_is("host=db1 password=a\\ b port=5432", "host=db1 password=*** port=5432");
	copy_is("host=db1 PASSWORD=s3cret", "host=db1 PASSWORD=***");
	copy_is("host=db1 sslpassword=keypass", "host=db1 sslpassword=***");
	/* libpq skips blanks after '=': the next word is the password */
	copy_is("host=db1 password= s3cret", "host=db1 password= ***");
}

static void test_no_password(void **state)
{
	(void)state;
	copy_is("postgresql://de@db1/diskengine", "postgresql://de@db1/diskengine");
	copy_is("postgresql://db1:5432/diskengine", "postgresql://db1:5432/diskengine");
	copy_is("host=/run/postgresql dbname=diskengine user=de",
		"host=/run/postgresql dbname=diskengine user=de");
	copy_is("service=diskengine", "service=diskengine");
	copy_is("/var/lib/diskengine/diskengine.db", "/var/lib/diskengine/diskengine.db");
	copy_is("sqlite:///tmp/a.db", "sqlite:///tmp/a.db");
	/* words that only contain the keyword */
	copy_is("mypassword=x passwords=y password_file=z",
		"mypassword=x passwords=y password_file=z");
	copy_is("a password is needed", "a password is needed");
}

static void test_odd_inputs(void **state)
{
	char buf[64];
	size_t start = 99, len = 99;

	(void)state;
	assert_int_equal(redact_copy(NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	copy_is("", "");
	copy_is("postgresql://", "postgresql://");
	copy_is("postgresql://:@", "postgresql://:@");
	copy_is("postgresql://u:@h/x", "postgresql://u:@h/x");
	copy_is("postgresql://:pw123@h/x", "postgresql://:***@h/x");
	copy_is("password=", "password=");
	copy_is("password", "password");
	copy_is("=password=", "=password=");
	copy_is("password='unterminated still secret", "password=***");
	copy_is("://a:b@c ://d:e@f", "://a:***@c ://d:***@f");
	/* in a message the URL ends at its quote or at a blank */
	copy_is("database URL 'postgresql://u:pw9@h/d' names no known backend",
		"database URL 'postgresql://u:***@h/d' names no known backend");
	copy_is("database postgresql://u:pw9@h/d: cannot connect",
		"database postgresql://u:***@h/d: cannot connect");
	assert_int_equal(redact_find(NULL, 0, false, &start, &len), -ENOENT);
	assert_int_equal(redact_find("no secret", 0, false, &start, &len), -ENOENT);
	assert_int_equal(start, 99);
	assert_int_equal(redact_find("x password=abc", 0, false, &start, &len), 0);
	assert_int_equal(start, 11);
	assert_int_equal(len, 3);
	assert_int_equal(redact_find("x password=abc", 12, false, &start, &len), -ENOENT);
	assert_int_equal(redact_find("x password=abc", 100, false, &start, &len), -ENOENT);
	/* a message ends a URL at a blank, one value only at its end */
	assert_int_equal(redact_find("postgresql://u:a b@h", 0, false, &start, &len), -ENOENT);
	assert_int_equal(redact_find("postgresql://u:a b@h", 0, true, &start, &len), 0);
	assert_int_equal(start, 15);
	assert_int_equal(len, 3);
}

static void test_copy_truncates(void **state)
{
	char buf[20];

	(void)state;
	assert_int_equal(redact_copy("postgresql://u:secretsecret@host/db", buf, sizeof(buf)),
			 -ENAMETOOLONG);
	assert_string_equal(buf, "postgresql://u:***@");
	assert_int_equal(redact_copy("password=abcdefghijklmnop", buf, 12), -ENAMETOOLONG);
	assert_string_equal(buf, "password=**");
}

static void test_mask_in_place(void **state)
{
	/* two strings in one buffer, as argv lies in memory */
	char area[] = "postgresql://de:s3cret@db1/x\0next";
	char kv[] = "host=db1 password=two words";
	char enc[] = "--db=postgresql://de:p%40ss@db1/x";
	char shortpw[] = "postgresql://de:ab@db1/x";
	char none[] = "host=db1 user=de";

	(void)state;
	assert_int_equal(redact_mask(area), 1);
	assert_string_equal(area, "postgresql://de:***@db1/x");
	/* the freed bytes are NULs: nothing of the password is left, the next string intact */
	assert_memory_equal(area + strlen(area), "\0\0\0\0", 4);
	assert_null(memmem(area, sizeof(area), "s3cret", 6));
	assert_string_equal(area + sizeof("postgresql://de:s3cret@db1/x") - 1 + 1, "next");

	/* one value: the password is a word, as libpq reads it */
	assert_int_equal(redact_mask(kv), 1);
	assert_string_equal(kv, "host=db1 password=*** words");
	assert_int_equal(redact_mask(enc), 1);
	assert_string_equal(enc, "--db=postgresql://de:***@db1/x");
	assert_null(memmem(enc, sizeof(enc), "p%40ss", 6));
	assert_int_equal(redact_mask(shortpw), 1);
	assert_string_equal(shortpw, "postgresql://de:**@db1/x");
	assert_int_equal(redact_mask(none), 0);
	assert_string_equal(none, "host=db1 user=de");
}

static void test_mask_value_spaces(void **state)
{
	/* argv holds one URL: a raw blank in its password does not end it */
	char url[] = "postgresql://de:two words@db1/x";

	(void)state;
	assert_int_equal(redact_mask(url), 1);
	assert_string_equal(url, "postgresql://de:***@db1/x");
}

static void test_secret_occurrences(void **state)
{
	char msg[] = "invalid percent-encoded token: \"p%zzsecret\" (p%zzsecret)";
	char shortmsg[] = "a b ab";

	(void)state;
	assert_int_equal(redact_secret(msg, "p%zzsecret"), 2);
	assert_string_equal(msg, "invalid percent-encoded token: \"***\" (***)");
	assert_int_equal(redact_secret(shortmsg, "ab"), 0);
	assert_string_equal(shortmsg, "a b ab");
	assert_int_equal(redact_secret(NULL, "abc"), 0);
	assert_int_equal(redact_secret(shortmsg, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_userinfo),
		cmocka_unit_test(test_url_encoded),
		cmocka_unit_test(test_url_query_password),
		cmocka_unit_test(test_keyword_value),
		cmocka_unit_test(test_no_password),
		cmocka_unit_test(test_odd_inputs),
		cmocka_unit_test(test_copy_truncates),
		cmocka_unit_test(test_mask_in_place),
		cmocka_unit_test(test_mask_value_spaces),
		cmocka_unit_test(test_secret_occurrences),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
