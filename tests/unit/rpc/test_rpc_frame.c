/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Framing cost: a large answer from a peer that ends answers with a newline (SPDK, spdk-sim) is
 * parsed once, not at every doubling of the buffer; other peers are still framed correctly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "rpc/rpc_internal.h"

/* {"jsonrpc":"2.0","id":ID,"result":[{"name":"bdev0",...},...]} of about `size` bytes. */
static char *answer(int id, size_t size, bool pretty)
{
	json_t *list = json_array();
	json_t *a;
	char name[32], *text;

	for (size_t i = 0; i * 120 < size; i++) {
		snprintf(name, sizeof(name), "nvme_%zun1", i);
		json_array_append_new(list, json_pack("{s:s, s:i, s:{s:b, s:s}}", "name", name,
						      "num_blocks", 8192, "claims", "claimed", 1,
						      "module", "raid"));
	}
	a = json_pack("{s:s, s:i, s:o}", "jsonrpc", "2.0", "id", id, "result", list);
	text = json_dumps(a, pretty ? JSON_INDENT(1) : JSON_COMPACT);
	json_decref(a);
	return text;
}

/*
 * Push text (and then a newline if nl) in chunks, framing after each as the client's reader
 * does; returns the answers seen.
 */
static int feed(struct rpc_frame *f, const char *text, bool nl, size_t chunk, bool idle)
{
	size_t len = strlen(text), off = 0;
	char why[160];
	int seen = 0;
	json_t *v;
	int r;

	while (off < len || nl) {
		size_t n = len - off < chunk ? len - off : chunk;

		if (off < len) {
			assert_int_equal(rpc_frame_push(f, text + off, n), 0);
			off += n;
		} else {
			assert_int_equal(rpc_frame_push(f, "\n", 1), 0);
			nl = false;
		}
		/* the socket goes idle after every chunk (idle), or once the peer is done */
		bool now_idle = idle || (off == len && !nl);
		while ((r = rpc_frame_next(f, false, &v, why, sizeof(why))) == 1 ||
		       (r == 0 && now_idle &&
			(r = rpc_frame_next(f, true, &v, why, sizeof(why))) == 1)) {
			seen++;
			json_decref(v);
		}
		assert_int_equal(r, 0);
	}
	return seen;
}

static void test_newline_peer_parsed_once(void **state)
{
	struct rpc_frame f;
	char *small = answer(1, 100, false), *big = answer(2, 4u << 20, false);

	(void)state;
	rpc_frame_init(&f, 64u << 20);
	assert_int_equal(feed(&f, small, true, 65536, false), 1);
	assert_true(f.nl_terminated);
	unsigned before = f.attempts;
	assert_int_equal(feed(&f, big, true, 65536, false), 1);
	/* one parse of 4 MiB, where doubling re-parsed the half-received answer 6 times */
	assert_int_equal(f.attempts - before, 1);
	/* idle moments inside the answer cost a bounded number of early tries */
	before = f.attempts;
	assert_int_equal(feed(&f, big, true, 65536, true), 1);
	assert_true(f.attempts - before <= 6);
	rpc_frame_fini(&f);
	free(small);
	free(big);
}

static void test_other_peers_still_framed(void **state)
{
	struct rpc_frame f;
	char *small = answer(1, 100, false), *pretty = answer(2, 1u << 20, true);
	char *big = answer(3, 1u << 20, false);

	(void)state;
	rpc_frame_init(&f, 64u << 20);
	/* learnt newline mode, then a pretty-printed answer full of "}\n" */
	assert_int_equal(feed(&f, small, true, 65536, false), 1);
	assert_int_equal(feed(&f, pretty, true, 65536, false), 1);
	/* and answers without any newline after them, found when the socket goes idle */
	assert_int_equal(feed(&f, big, false, 65536, true), 1);
	assert_int_equal(feed(&f, small, false, 7, true), 1);
	assert_int_equal(f.len, 0);
	rpc_frame_fini(&f);
	free(small);
	free(pretty);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_newline_peer_parsed_once),
		cmocka_unit_test(test_other_peers_still_framed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
