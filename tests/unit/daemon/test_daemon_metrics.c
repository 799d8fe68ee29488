/* SPDX-License-Identifier: Apache-2.0 */
/* The iostat rate computation and the exposition writer. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/daemon_expo.h"
#include "daemon/daemon_iostat.h"
#include "daemon/daemon_metrics.h"

#define HZ 2000000000ull

static struct iostat_sample sample(double t_s, uint64_t r, uint64_t w, uint64_t br, uint64_t bw,
				   uint64_t rlat, uint64_t wlat)
{
	return (struct iostat_sample){.ticks = (uint64_t)(t_s * HZ),
				      .tick_rate = HZ,
				      .read_ops = r,
				      .write_ops = w,
				      .bytes_read = br,
				      .bytes_written = bw,
				      .read_latency_ticks = rlat,
				      .write_latency_ticks = wlat};
}

static void test_rate_basic(void **state)
{
	struct iostat_sample a = sample(10, 100, 50, 409600, 204800, 1000, 2000);
	/* 2 s later: 2,000 reads of 4 KiB at 100 us each, 1,000 writes at 1 ms each */
	struct iostat_sample b = sample(12, 2100, 1050, 409600 + 2000 * 4096, 204800 + 1000 * 4096,
					1000 + 2000 * (HZ / 10000), 2000 + 1000 * (HZ / 1000));
	struct iostat_rate r;

	(void)state;
	assert_int_equal(iostat_rate_compute(&a, &b, &r), 0);
	assert_true(fabs(r.read_iops - 1000) < 1e-9);
	assert_true(fabs(r.write_iops - 500) < 1e-9);
	assert_true(fabs(r.read_bytes_per_s - 1000 * 4096.0) < 1e-6);
	assert_true(fabs(r.write_bytes_per_s - 500 * 4096.0) < 1e-6);
	assert_true(fabs(r.read_latency_s - 0.0001) < 1e-12);
	assert_true(fabs(r.write_latency_s - 0.001) < 1e-12);
}

static void test_rate_idle_has_no_latency(void **state)
{
	struct iostat_sample a = sample(1, 5, 5, 10, 10, 77, 77);
	struct iostat_sample b = sample(2, 5, 5, 10, 10, 77, 77);
	struct iostat_rate r;

	(void)state;
	assert_int_equal(iostat_rate_compute(&a, &b, &r), 0);
	assert_true(r.read_iops == 0 && r.write_iops == 0);
	/* no I/O: 0, not NaN (0/0), which would poison every sum over volumes */
	assert_true(r.read_latency_s == 0 && r.write_latency_s == 0);
}

static void test_rate_refused(void **state)
{
	struct iostat_sample a = sample(5, 100, 100, 1000, 1000, 10, 10);
	struct iostat_sample b;
	struct iostat_rate r;

	(void)state;
	/* no time passed, or the clock went back */
	b = sample(5, 200, 200, 2000, 2000, 20, 20);
	assert_int_equal(iostat_rate_compute(&a, &b, &r), -EINVAL);
	b = sample(4, 200, 200, 2000, 2000, 20, 20);
	assert_int_equal(iostat_rate_compute(&a, &b, &r), -EINVAL);
	/* SPDK restarted or the raid was re-created: counters start again from 0 */
	b = sample(6, 3, 0, 1000, 1000, 10, 10);
	assert_int_equal(iostat_rate_compute(&a, &b, &r), -ESTALE);
	b = sample(6, 100, 100, 1000, 1000, 10, 9);
	assert_int_equal(iostat_rate_compute(&a, &b, &r), -ESTALE);
	/* a tick rate unknown or changed */
	b = sample(6, 200, 200, 2000, 2000, 20, 20);
	b.tick_rate = 0;
	assert_int_equal(iostat_rate_compute(&a, &b, &r), -EINVAL);
	b.tick_rate = HZ / 2;
	assert_int_equal(iostat_rate_compute(&a, &b, &r), -EINVAL);
}

static char *render(void (*fn)(struct expo *))
{
	struct expo e = {0};
	char *text;
	size_t len;

	fn(&e);
	assert_int_equal(expo_finish(&e, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	expo_free(&e);
	return text;
}

static void family_and_escapes(struct expo *e)
{
	expo_family(e, "x_bytes", "gauge", "a \\ path\nand more \"quoted\"");
	expo_sample(e, "x_bytes", (const char *const[]){"member", "a\\b\"c\nd", "volume", "7"}, 2,
		    42);
}

static void test_expo_escapes(void **state)
{
	char *t = render(family_and_escapes);

	(void)state;
	/* HELP escapes backslash and newline only; label values also the double quote */
	assert_string_equal(t, "# HELP x_bytes a \\\\ path\\nand more \"quoted\"\n"
			       "# TYPE x_bytes gauge\n"
			       "x_bytes{member=\"a\\\\b\\\"c\\nd\",volume=\"7\"} 42\n");
	free(t);
}

static void values(struct expo *e)
{
	expo_family(e, "v_seconds", "gauge", "h");
	expo_sample(e, "v_seconds", (const char *const[]){"k", "a"}, 1, 0.00025);
	expo_sample(e, "v_seconds", (const char *const[]){"k", "b"}, 1, NAN);
	expo_sample(e, "v_seconds", (const char *const[]){"k", "c"}, 1, INFINITY);
	expo_sample(e, "v_seconds", (const char *const[]){"k", "d"}, 1, -INFINITY);
	expo_sample(e, "v_seconds", (const char *const[]){"k", "e"}, 1, 1e20);
	expo_sample(e, "v_seconds", (const char *const[]){"k", "f"}, 1, -3);
	expo_sample(e, "v_seconds", (const char *const[]){"k", "g"}, 1, 0.1 + 0.2);
	expo_family(e, "c_total", "counter", "h");
	expo_sample(e, "c_total", NULL, 0, 18446744073709551615.0);
}

static void test_expo_values(void **state)
{
	char *t = render(values);

	(void)state;
	/* the shortest text that reads back the same double; the format's NaN and infinities */
	assert_string_equal(t, "# HELP v_seconds h\n# TYPE v_seconds gauge\n"
			       "v_seconds{k=\"a\"} 0.00025\n"
			       "v_seconds{k=\"b\"} NaN\n"
			       "v_seconds{k=\"c\"} +Inf\n"
			       "v_seconds{k=\"d\"} -Inf\n"
			       "v_seconds{k=\"e\"} 1e+20\n"
			       "v_seconds{k=\"f\"} -3\n"
			       "v_seconds{k=\"g\"} 0.30000000000000004\n"
			       "# HELP c_total h\n# TYPE c_total counter\n"
			       "c_total 1.8446744073709552e+19\n");
	free(t);
}

static void nothing(struct expo *e)
{
	(void)e;
}

static void test_expo_empty(void **state)
{
	char *t = render(nothing);

	(void)state;
	assert_string_equal(t, "");
	free(t);
}

static void test_listen_parse(void **state)
{
	static const char *const good[] = {"127.0.0.1:9100", "0.0.0.0:1", ":9100", "[::1]:9100",
					   "[::]:65535"};
	static const char *const bad[] = {"127.0.0.1",	     "127.0.0.1:",   "127.0.0.1:0",
					  "127.0.0.1:65536", "localhost:80", "[::1:80",
					  "::1:80",	     "1.2.3:80",     "127.0.0.1:80x"};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(metrics_listen_parse(good[i], err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(metrics_listen_parse(bad[i], err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "metrics-listen"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_basic),
		cmocka_unit_test(test_rate_idle_has_no_latency),
		cmocka_unit_test(test_rate_refused),
		cmocka_unit_test(test_expo_escapes),
		cmocka_unit_test(test_expo_values),
		cmocka_unit_test(test_expo_empty),
		cmocka_unit_test(test_listen_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
