/* SPDX-License-Identifier: Apache-2.0 */
/* Accept-Encoding as RFC 9110 reads it, and the gzip coding of the /metrics text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "daemon/daemon_gzip.h"

static void test_accepts(void **state)
{
	static const char *const yes[] = {
		"gzip",
		"GZip",
		"gzip, deflate",
		"deflate, gzip",
		"deflate,gzip;q=0.5",
		"gzip;q=1.0, identity; q=0.5, *;q=0",
		"gzip ; q=0.001",
		"gzip;Q=1",
		"br;q=1.0, gzip;q=0.8, *;q=0.1", /* what Prometheus' and curl's clients send */
		"x-gzip",
		"*",
		"identity;q=0.5, *",
		" , gzip ,",
		"gzip;q=1.000",
		"gzip;level=9",
		"gzip;q=0.5;x=y",
		"\tgzip\t",
		"gzip;q=0, gzip;q=0.5", /* the best weight given for it counts */
		"gzip;q=oops, gzip",	/* the malformed member is ignored, the other one counts */
	};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!gzip_accepted(yes[i]))
			fail_msg("\"%s\" accepts gzip", yes[i]);
}

static void test_refuses(void **state)
{
	static const char *const no[] = {
		"",
		"identity",
		"deflate",
		"br, deflate",
		"gzip;q=0",
		"gzip; q=0",
		"gzip;q=0.0",
		"gzip;q=0.000",
		"GZIP;Q=0",
		"x-gzip;q=0",
		"gzip;q=0, *", /* the explicit refusal wins over the wildcard */
		"*;q=0",
		"gzip;q=0, identity",
		"gzip;q=2",	 /* not a qvalue: ignored, nothing else accepts gzip */
		"gzip;q=0.0001", /* four decimals */
		"gzip;q=1.5",
		"gzip;q=",
		"gzip;q=.5",
		"gzip;q=-1",
		"gzipx",
		"xgzip",
		"gzi",
		"compress, x-compress",
		",,,",
		"identity;q=0", /* nor gzip listed: nothing is acceptable, the server sends plain */
		";q=1",
	};
	assert_false(gzip_accepted(NULL));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (gzip_accepted(no[i]))
			fail_msg("\"%s\" refuses gzip", no[i]);
}

static void test_encode_round_trip(void **state)
{
	size_t len = 0, gz_len = 0;
	char *text = NULL, *gz = NULL;
	FILE *f = open_memstream(&text, &len);
	z_stream z = {0};
	char *back;

	assert_non_null(f);
	for (int v = 1; v <= 2000; v++)
		fprintf(f, "diskengine_raid_state{volume=\"%d\",state=\"online\"} %d\n", v, v & 1);
	fclose(f);
	assert_int_equal(gzip_encode(text, len, &gz, &gz_len), 0);
	/* a gzip member (RFC 1952 magic, deflate), and far smaller than the text */
	assert_true(gz_len > 18 && (unsigned char)gz[0] == 0x1f && (unsigned char)gz[1] == 0x8b &&
		    gz[2] == 8);
	assert_true(gz_len < len / 5);
	back = malloc(len + 1);
	assert_non_null(back);
	assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
	z.next_in = (Bytef *)gz;
	z.avail_in = (uInt)gz_len;
	z.next_out = (Bytef *)back;
	z.avail_out = (uInt)len + 1;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.total_out, len);
	assert_memory_equal(back, text, len);
	inflateEnd(&z);
	free(back);
	free(gz);
	free(text);
}

static void test_encode_empty(void **state)
{
	char *gz = NULL;
	size_t gz_len = 0;

	assert_int_equal(gzip_encode("", 0, &gz, &gz_len), 0);
	assert_true(gz_len >= 20); /* header, an empty final block, CRC and size */
	free(gz);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_encode_round_trip),
		cmocka_unit_test(test_encode_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
