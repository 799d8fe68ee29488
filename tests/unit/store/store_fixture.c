/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store_fixture.h"

int fx_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct store_error err = {0};

	test_db_create(&f->db);
	if (store_open(f->db.url, &f->s, &err) < 0) {
		fprintf(stderr, "store_open(%s): %s\n", f->db.url, err.message);
		return -1;
	}
	*state = f;
	return 0;
}

int fx_teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->s);
	test_db_destroy(&f->db);
	free(f);
	return 0;
}

void fx_add_host(struct store *s, const char *name)
{
	struct store_host h = {0};

	snprintf(h.name, sizeof(h.name), "%s", name);
	expect_ok(store_host_add, s, &h, NULL);
}

void fx_add_node(struct store *s, const char *name, const char *addr)
{
	struct store_node n = {.transport = STORE_TRANSPORT_TCP, .port = 4420};

	snprintf(n.name, sizeof(n.name), "%s", name);
	snprintf(n.address, sizeof(n.address), "%s", addr);
	expect_ok(store_node_add, s, &n, NULL);
}
