/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/daemon_warn.h"

/* The lines a table printed. */
struct capture {
	char lines[16][1024];
	enum log_level level[16];
	int n;
};

static void sink(enum log_level level, const char *line, void *arg)
{
	struct capture *c = arg;

	if (c->n < 16) {
		snprintf(c->lines[c->n], sizeof(c->lines[0]), "%s", line);
		c->level[c->n++] = level;
	}
}

/* A failure retried every pass is said once; its repeats are counted, not printed. */
static void test_once_then_counted(void **state)
{
	struct capture c = {0};
	struct warn_table *t = warn_table_new(sink, &c);

	assert_non_null(t);
	for (uint64_t ms = 0; ms < 60000; ms += 500)
		warn_repeat(t, "volume 4", ms, "volume 4: attach %s failed", "de_x");
	assert_int_equal(c.n, 1);
	assert_string_equal(c.lines[0], "volume 4: attach de_x failed");
	assert_int_equal(c.level[0], LOG_LVL_WARN);
	/* another object's warning is its own */
	warn_repeat(t, "volume 5", 60000, "volume 5: raid create failed");
	assert_int_equal(c.n, 2);
	/* recovery says how many were held back */
	warn_clear(t, "volume 4", 61000);
	assert_int_equal(c.n, 3);
	assert_non_null(strstr(c.lines[2], "volume 4: works again"));
	assert_non_null(strstr(c.lines[2], "119 more times"));
	/* after recovery the same failure is news again */
	warn_repeat(t, "volume 4", 62000, "volume 4: attach %s failed", "de_x");
	assert_int_equal(c.n, 4);
	warn_table_free(t);
}

/* A warning that keeps repeating is summarised every WARN_SUMMARY_MS, with its count. */
static void test_summary(void **state)
{
	struct capture c = {0};
	struct warn_table *t = warn_table_new(sink, &c);

	warn_repeat(t, "status", 0, "recording the status of 3 mappings: disk full");
	for (uint64_t ms = 1000; ms < WARN_SUMMARY_MS; ms += 1000)
		warn_repeat(t, "status", ms, "recording the status of 3 mappings: disk full");
	assert_int_equal(c.n, 1);
	warn_repeat(t, "status", WARN_SUMMARY_MS, "recording the status of 3 mappings: disk full");
	assert_int_equal(c.n, 2);
	assert_non_null(strstr(c.lines[1], "disk full (again; 600 times in the last 600 s)"));
	warn_table_free(t);
}

/* A different message for the same object is logged, after the count of the old one. */
static void test_change(void **state)
{
	struct capture c = {0};
	struct warn_table *t = warn_table_new(sink, &c);

	warn_repeat(t, "spdk", 0, "SPDK unreachable: connection refused");
	warn_repeat(t, "spdk", 100, "SPDK unreachable: connection refused");
	warn_repeat(t, "spdk", 200, "SPDK unreachable: no such file");
	assert_int_equal(c.n, 3);
	assert_string_equal(c.lines[1], "spdk: the previous warning repeated 1 more times");
	assert_int_equal(c.level[1], LOG_LVL_INFO);
	assert_string_equal(c.lines[2], "SPDK unreachable: no such file");
	/* nothing held back: recovery is quiet */
	warn_clear(t, "spdk", 300);
	assert_int_equal(c.n, 3);
	warn_table_free(t);
}

/* Keys silent for a summary period are forgotten: the table is the size of what fails now. */
static void test_prune(void **state)
{
	struct capture c = {0};
	struct warn_table *t = warn_table_new(sink, &c);

	warn_repeat(t, "volume 1", 0, "gone soon");
	warn_repeat(t, "volume 2", WARN_SUMMARY_MS, "still failing");
	warn_prune(t, WARN_SUMMARY_MS + 1);
	/* volume 1 was forgotten: its next warning is news; volume 2's is not */
	warn_repeat(t, "volume 1", WARN_SUMMARY_MS + 2, "gone soon");
	warn_repeat(t, "volume 2", WARN_SUMMARY_MS + 2, "still failing");
	assert_int_equal(c.n, 3);
	assert_string_equal(c.lines[2], "gone soon");
	warn_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_once_then_counted),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_change),
		cmocka_unit_test(test_prune),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
