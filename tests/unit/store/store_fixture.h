/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_TEST_STORE_FIXTURE_H
#define DISKENGINE_TEST_STORE_FIXTURE_H

/*
 * The store suites' per-test fixture: a fresh database (store_test_db.h) opened and migrated,
 * the checks that a store call succeeded or failed as wanted, and the rows most tests start from.
 * Include after <cmocka.h>.
 */

#include <string.h>

#include "store/store.h"
#include "store_test_db.h"

struct fixture {
	struct test_db db;
	struct store *s;
};

/* cmocka setup / teardown: *state is the struct fixture. */
int fx_setup(void **state);
int fx_teardown(void **state);

/* Run a call that must fail with code and a message containing text. */
#define expect_fail(code, text, fn, ...)                                                           \
	do {                                                                                       \
		struct store_error e_ = {0};                                                       \
		int r_ = fn(__VA_ARGS__, &e_);                                                     \
		if (r_ != (code) || !strstr(e_.message, (text)))                                   \
			fail_msg("%s: got %d '%s', wanted %d '%s'", #fn, r_, e_.message, (code),   \
				 (text));                                                          \
		assert_int_equal(e_.err, (code));                                                  \
	} while (0)

#define expect_ok(fn, ...)                                                                         \
	do {                                                                                       \
		struct store_error e_ = {0};                                                       \
		int r_ = fn(__VA_ARGS__, &e_);                                                     \
		if (r_ != 0)                                                                       \
			fail_msg("%s failed: %d %s", #fn, r_, e_.message);                         \
	} while (0)

/* A host, and a TCP node on port 4420 at addr. */
void fx_add_host(struct store *s, const char *name);
void fx_add_node(struct store *s, const char *name, const char *addr);

#endif
