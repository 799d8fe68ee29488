/* SPDX-License-Identifier: Apache-2.0 */
#include "answer_fill.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

static void dflt(json_t *o, const char *key, json_t *v)
{
	if (!json_object_get(o, key))
		json_object_set(o, key, v);
	json_decref(v);
}

static json_t *load(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	if (!json_is_array(v))
		fail_msg("fixture is not a JSON array: %s", text);
	return v;
}

static char *dump(json_t *v)
{
	char *t = json_dumps(v, JSON_COMPACT);

	json_decref(v);
	assert_non_null(t);
	return t;
}

static void check(int r, const struct rpc_error *e)
{
	if (r < 0)
		fail_msg("fixture: %s: %s", e->method, e->message);
}

void fill_controllers(const char *json, struct rpc_nvme_ctrlr_list *out)
{
	json_t *a = load(json), *c, *p;
	struct rpc_error e;
	size_t i, j;
	char *t;

	json_array_foreach(a, i, c)
	{
		dflt(c, "ctrlrs", json_array());
		json_array_foreach(json_object_get(c, "ctrlrs"), j, p)
		{
			dflt(p, "state", json_string("enabled"));
			dflt(p, "cntlid", json_integer((json_int_t)j + 1));
			dflt(p, "trid", json_object());
			dflt(json_object_get(p, "trid"), "trtype", json_string("TCP"));
			dflt(json_object_get(p, "trid"), "traddr", json_string("127.0.0.1"));
		}
	}
	t = dump(a);
	check(rpc_parse_nvme_controllers(t, out, &e), &e);
	free(t);
}

void fill_raids(const char *json, struct rpc_raid_list *out)
{
	json_t *a = load(json), *r, *b;
	struct rpc_error e;
	size_t i, j;
	char *t;

	json_array_foreach(a, i, r)
	{
		json_t *list;
		size_t n, conf = 0;

		dflt(r, "base_bdevs_list", json_array());
		list = json_object_get(r, "base_bdevs_list");
		n = json_array_size(list);
		json_array_foreach(list, j, b)
		{
			dflt(b, "is_configured", json_false());
			dflt(b, "data_offset", json_integer(0));
			dflt(b, "data_size", json_integer(0));
			conf += json_is_true(json_object_get(b, "is_configured"));
		}
		dflt(r, "state", json_string("online"));
		dflt(r, "raid_level", json_string("raid1"));
		dflt(r, "superblock", json_false());
		dflt(r, "strip_size_kb", json_integer(0));
		dflt(r, "num_base_bdevs", json_integer((json_int_t)n));
		dflt(r, "num_base_bdevs_discovered", json_integer((json_int_t)conf));
		dflt(r, "num_base_bdevs_operational", json_integer((json_int_t)conf));
	}
	t = dump(a);
	check(rpc_parse_raid_bdevs(t, out, &e), &e);
	free(t);
}

void fill_vhosts(const char *json, struct rpc_vhost_list *out)
{
	json_t *a = load(json), *v;
	struct rpc_error e;
	size_t i;
	char *t;

	json_array_foreach(a, i, v)
	{
		dflt(v, "cpumask", json_string("0x1"));
		dflt(v, "socket", json_string("/var/tmp/vhost.sock"));
		dflt(v, "sessions", json_array());
		dflt(v, "backend_specific", json_object());
		if (json_object_get(json_object_get(v, "backend_specific"), "scsi"))
			continue; /* a vhost-scsi controller has no "block" */
		dflt(json_object_get(v, "backend_specific"), "block", json_object());
		dflt(json_object_get(json_object_get(v, "backend_specific"), "block"), "bdev",
		     json_null());
	}
	t = dump(a);
	check(rpc_parse_vhost_controllers(t, out, &e), &e);
	free(t);
}

void fill_bdevs(const char *json, struct rpc_bdev_list *out)
{
	json_t *a = load(json), *b;
	struct rpc_error e;
	size_t i;
	char *t;

	json_array_foreach(a, i, b)
	{
		dflt(b, "aliases", json_array());
		dflt(b, "claimed", json_false());
		dflt(b, "assigned_rate_limits",
		     json_pack("{s:i, s:i, s:i, s:i}", "rw_ios_per_sec", 0, "rw_mbytes_per_sec", 0,
			       "r_mbytes_per_sec", 0, "w_mbytes_per_sec", 0));
	}
	t = dump(a);
	check(rpc_parse_bdevs(t, out, &e), &e);
	free(t);
}

void fill_keys(const char *json, struct rpc_key_list *out)
{
	json_t *a = load(json), *k;
	struct rpc_error e;
	size_t i;
	char *t;

	json_array_foreach(a, i, k)
	{
		dflt(k, "module", json_string("keyring_file"));
		dflt(k, "removed", json_false());
	}
	t = dump(a);
	check(rpc_parse_keys(t, out, &e), &e);
	free(t);
}
