/* SPDX-License-Identifier: Apache-2.0 */
/* Hosts, storage nodes and local devices. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/store_internal.h"
#include "store/store_validate.h"

/* ---- hosts ---- */

struct host_add_ctx {
	const struct store_host *h;
	const char *rdma;
	const char *tcp;
	int64_t id;
};

static int join_addrs(const char *what, const char (*a)[STORE_ADDR_MAX], unsigned n, char *out,
		      size_t size, struct store_error *err)
{
	size_t k = 0;

	if (n > STORE_HOST_ADDRS)
		return store_seterr(err, -EINVAL, "at most %d %s addresses per host",
				    STORE_HOST_ADDRS, what);
	out[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		int r = store_validate_ip(what, a[i], err);

		if (r < 0)
			return r;
		for (unsigned j = 0; j < i; j++)
			if (strcmp(a[i], a[j]) == 0)
				return store_seterr(err, -EINVAL, "%s address %s is given twice",
						    what, a[i]);
		k += (size_t)snprintf(out + k, size - k, "%s%s", i ? " " : "", a[i]);
	}
	return 0;
}

static int host_add_fn(struct store *s, void *arg, struct store_error *err)
{
	struct host_add_ctx *c = arg;
	struct store_param p[4] = {sp_text(c->h->name), sp_text(c->rdma), sp_text(c->tcp),
				   sp_int(util_wall_s())};
	struct store_rows *rows = NULL;
	int r;

	r = store_select(
		s,
		"INSERT INTO hosts (name, rdma_ips, tcp_ips, created_at) VALUES (?, ?, ?, ?) "
		"RETURNING id",
		p, 4, &rows, err);
	if (r == -EEXIST)
		return store_seterr(err, r, "host '%s' exists already", c->h->name);
	if (r == 0)
		c->id = store_rows_int(rows, 0, 0);
	store_rows_free(rows);
	return r;
}

int store_host_add(struct store *store, const struct store_host *h, int64_t *id,
		   struct store_error *err)
{
	char rdma[STORE_HOST_ADDRS * STORE_ADDR_MAX], tcp[STORE_HOST_ADDRS * STORE_ADDR_MAX];
	struct host_add_ctx c = {.h = h, .rdma = rdma, .tcp = tcp};
	int r;

	r = store_validate_name("host name", h->name, err);
	if (r == 0)
		r = join_addrs("RDMA", h->rdma_ips, h->n_rdma_ips, rdma, sizeof(rdma), err);
	if (r == 0)
		r = join_addrs("TCP", h->tcp_ips, h->n_tcp_ips, tcp, sizeof(tcp), err);
	if (r == 0)
		r = store_txn(store, true, host_add_fn, &c, err);
	if (r == 0 && id)
		*id = c.id;
	return r;
}

int store_host_get(struct store *store, const char *name, struct store_host *out,
		   struct store_error *err)
{
	struct store_param p = sp_text(name ? name : "");
	struct store_rows *rows = NULL;
	int r = store_select(store, STORE_SELECT_HOST "WHERE name = ?", &p, 1, &rows, err);

	if (r < 0)
		return r;
	if (rows->nrows == 0)
		r = store_seterr(err, -ENOENT, "host '%s' does not exist", name ? name : "");
	else
		store_decode_host(rows, 0, out);
	store_rows_free(rows);
	return r;
}

int store_host_list(struct store *store, struct store_host **out, size_t *n,
		    struct store_error *err)
{
	struct store_rows *rows = NULL;
	struct store_host *a;
	int r = store_select(store, STORE_SELECT_HOST "ORDER BY name", NULL, 0, &rows, err);

	if (r < 0)
		return r;
	a = calloc(rows->nrows ? rows->nrows : 1, sizeof(*a));
	if (!a) {
		store_rows_free(rows);
		return store_seterr(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < rows->nrows; i++)
		store_decode_host(rows, i, &a[i]);
	*n = rows->nrows;
	*out = a;
	store_rows_free(rows);
	return 0;
}

/* Refuse while a live mapping points at the thing being removed. */
static int count_live(struct store *s, const char *sql, int64_t id, int64_t *count,
		      struct store_error *err)
{
	struct store_param p = sp_int(id);
	struct store_rows *rows = NULL;
	int r = store_select(s, sql, &p, 1, &rows, err);

	if (r == 0)
		*count = store_rows_int(rows, 0, 0);
	store_rows_free(rows);
	return r;
}

static int host_remove_fn(struct store *s, void *arg, struct store_error *err)
{
	const char *name = arg;
	struct store_param p;
	int64_t id, live;
	int r;

	r = store_lookup_host_id(s, name, &id, err);
	if (r == 0)
		r = count_live(s,
			       "SELECT count(*) FROM mappings WHERE host_id = ? AND "
			       "state <> 'DETACHED'",
			       id, &live, err);
	if (r < 0)
		return r;
	if (live)
		return store_seterr(err, -EBUSY,
				    "host '%s' still has %lld mapping(s) that are not DETACHED; "
				    "detach its volumes and wait for DETACHED, or, if the host is "
				    "gone for good: diskengine host declare-dead %s",
				    name, (long long)live, name);
	p = sp_int(id);
	r = store_exec(s, "DELETE FROM mappings WHERE host_id = ? AND state = 'DETACHED'", &p, 1,
		       err);
	if (r == 0)
		r = store_exec(s, "DELETE FROM hosts WHERE id = ?", &p, 1, err);
	if (r == -EBUSY) /* a mapping arrived meanwhile */
		return store_seterr(err, r, "host '%s' was just given a mapping; detach it first",
				    name);
	return r;
}

int store_host_remove(struct store *store, const char *name, struct store_error *err)
{
	return store_txn(store, true, host_remove_fn, (void *)name, err);
}

/* ---- storage nodes ---- */

struct node_add_ctx {
	const struct store_node *n;
	int64_t id;
};

/*
 * Two nodes at one endpoint are one target under two names: a "mirror" over them would hold a
 * single copy. Addresses compare as addresses, however they are written.
 */
static int node_endpoint_free(struct store *s, const struct store_node *n, struct store_error *err)
{
	struct store_param p[2] = {sp_text(store_transport_name(n->transport)), sp_int(n->port)};
	struct store_rows *rows = NULL;
	int r = store_select(s, "SELECT name, address FROM nodes WHERE transport = ? AND port = ?",
			     p, 2, &rows, err);

	for (size_t i = 0; r == 0 && i < rows->nrows; i++)
		if (store_ip_equal(n->address, store_rows_str(rows, i, 1)))
			r = store_seterr(err, -EEXIST,
					 "storage node '%s' is already %s %s port %u; one endpoint "
					 "is one node",
					 store_rows_str(rows, i, 0),
					 store_transport_name(n->transport),
					 store_rows_str(rows, i, 1), n->port);
	store_rows_free(rows);
	return r;
}

static int node_add_fn(struct store *s, void *arg, struct store_error *err)
{
	struct node_add_ctx *c = arg;
	struct store_param p[6] = {
		sp_text(c->n->name),	     sp_text(store_transport_name(c->n->transport)),
		sp_text(c->n->address),	     sp_int(c->n->port),
		sp_opt(c->n->auth_key_file), sp_int(util_wall_s())};
	struct store_rows *rows = NULL;
	int r;

	r = node_endpoint_free(s, c->n, err);
	if (r < 0)
		return r;
	r = store_select(s,
			 "INSERT INTO nodes (name, transport, address, port, auth_key_file, "
			 "created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
			 p, 6, &rows, err);
	if (r == -EEXIST)
		return store_seterr(err, r, "storage node '%s' exists already", c->n->name);
	if (r == 0)
		c->id = store_rows_int(rows, 0, 0);
	store_rows_free(rows);
	return r;
}

int store_node_add(struct store *store, const struct store_node *n, int64_t *id,
		   struct store_error *err)
{
	struct node_add_ctx c = {.n = n};
	int r;

	r = store_validate_name("storage node name", n->name, err);
	if (r == 0 && n->transport != STORE_TRANSPORT_RDMA && n->transport != STORE_TRANSPORT_TCP)
		r = store_seterr(err, -EINVAL, "transport must be rdma or tcp");
	if (r == 0)
		r = store_validate_ip("address", n->address, err);
	if (r == 0 && n->port == 0)
		r = store_seterr(err, -EINVAL, "port 0 is not a number from 1 to 65535");
	if (r == 0 && n->auth_key_file[0])
		r = store_validate_key_path(n->auth_key_file, err);
	if (r == 0)
		r = store_txn(store, true, node_add_fn, &c, err);
	if (r == 0 && id)
		*id = c.id;
	return r;
}

#define SELECT_NODE "SELECT id, name, transport, address, port, auth_key_file FROM nodes "

static void decode_node(const struct store_rows *rows, size_t i, struct store_node *n)
{
	memset(n, 0, sizeof(*n));
	n->id = store_rows_int(rows, i, 0);
	store_rows_copy(rows, i, 1, n->name, sizeof(n->name));
	store_transport_parse(store_rows_str(rows, i, 2), &n->transport);
	store_rows_copy(rows, i, 3, n->address, sizeof(n->address));
	n->port = (uint16_t)store_rows_int(rows, i, 4);
	store_rows_copy(rows, i, 5, n->auth_key_file, sizeof(n->auth_key_file));
}

int store_node_get(struct store *store, const char *name, struct store_node *out,
		   struct store_error *err)
{
	struct store_param p = sp_text(name ? name : "");
	struct store_rows *rows = NULL;
	int r = store_select(store, SELECT_NODE "WHERE name = ?", &p, 1, &rows, err);

	if (r < 0)
		return r;
	if (rows->nrows == 0)
		r = store_seterr(err, -ENOENT, "storage node '%s' does not exist",
				 name ? name : "");
	else
		decode_node(rows, 0, out);
	store_rows_free(rows);
	return r;
}

int store_node_list(struct store *store, struct store_node **out, size_t *n,
		    struct store_error *err)
{
	struct store_rows *rows = NULL;
	struct store_node *a;
	int r = store_select(store, SELECT_NODE "ORDER BY name", NULL, 0, &rows, err);

	if (r < 0)
		return r;
	a = calloc(rows->nrows ? rows->nrows : 1, sizeof(*a));
	if (!a) {
		store_rows_free(rows);
		return store_seterr(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < rows->nrows; i++)
		decode_node(rows, i, &a[i]);
	*n = rows->nrows;
	*out = a;
	store_rows_free(rows);
	return 0;
}

static int node_remove_fn(struct store *s, void *arg, struct store_error *err)
{
	const char *name = arg;
	struct store_param p;
	int64_t id, used;
	int r;

	r = store_lookup_node_id(s, name, &id, err);
	if (r == 0)
		r = count_live(s, "SELECT count(*) FROM replicas WHERE node_id = ?", id, &used,
			       err);
	if (r < 0)
		return r;
	if (used)
		return store_seterr(err, -EBUSY,
				    "storage node '%s' still holds %lld replica(s); delete those "
				    "volumes first",
				    name, (long long)used);
	p = sp_int(id);
	r = store_exec(s, "DELETE FROM nodes WHERE id = ?", &p, 1, err);
	if (r == -EBUSY) /* a replica arrived meanwhile */
		return store_seterr(err, r, "storage node '%s' holds replicas", name);
	return r;
}

int store_node_remove(struct store *store, const char *name, struct store_error *err)
{
	return store_txn(store, true, node_remove_fn, (void *)name, err);
}

/* ---- local PCIe devices ---- */

struct device_ctx {
	const char *host;
	const char *bdf;
	const char *inventory_id;
	int64_t id;
};

static int device_add_fn(struct store *s, void *arg, struct store_error *err)
{
	struct device_ctx *c = arg;
	struct store_rows *rows = NULL;
	struct store_param p[4];
	int64_t host_id;
	int r;

	r = store_lookup_host_id(s, c->host, &host_id, err);
	if (r < 0)
		return r;
	p[0] = sp_int(host_id);
	p[1] = sp_text(c->bdf);
	p[2] = sp_opt(c->inventory_id);
	p[3] = sp_int(util_wall_s());
	r = store_select(s,
			 "INSERT INTO devices (host_id, bdf, inventory_id, created_at) "
			 "VALUES (?, ?, ?, ?) RETURNING id",
			 p, 4, &rows, err);
	if (r == -EEXIST)
		return store_seterr(err, r, "device %s is already registered on host '%s'", c->bdf,
				    c->host);
	if (r == 0)
		c->id = store_rows_int(rows, 0, 0);
	store_rows_free(rows);
	return r;
}

int store_device_add(struct store *store, const char *host_name, const char *bdf,
		     const char *inventory_id, int64_t *id, struct store_error *err)
{
	char norm[STORE_BDF_MAX];
	struct device_ctx c = {.host = host_name, .bdf = norm, .inventory_id = inventory_id};
	int r;

	r = store_validate_bdf(bdf, norm, err);
	if (r == 0 && inventory_id && *inventory_id)
		r = store_validate_name("inventory id", inventory_id, err);
	if (r == 0)
		r = store_txn(store, true, device_add_fn, &c, err);
	if (r == 0 && id)
		*id = c.id;
	return r;
}

int store_device_list(struct store *store, const char *host_name, struct store_device **out,
		      size_t *n, struct store_error *err)
{
	struct store_rows *rows = NULL;
	struct store_device *a;
	struct store_param p;
	int64_t host_id;
	int r;

	if (host_name) {
		r = store_lookup_host_id(store, host_name, &host_id, err);
		if (r < 0)
			return r;
		p = sp_int(host_id);
		r = store_select(store, STORE_SELECT_DEVICE "WHERE d.host_id = ? ORDER BY d.bdf",
				 &p, 1, &rows, err);
	} else {
		r = store_select(store, STORE_SELECT_DEVICE "ORDER BY h.name, d.bdf", NULL, 0,
				 &rows, err);
	}
	if (r < 0)
		return r;
	a = calloc(rows->nrows ? rows->nrows : 1, sizeof(*a));
	if (!a) {
		store_rows_free(rows);
		return store_seterr(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < rows->nrows; i++)
		store_decode_device(rows, i, &a[i]);
	*n = rows->nrows;
	*out = a;
	store_rows_free(rows);
	return 0;
}

static int device_remove_fn(struct store *s, void *arg, struct store_error *err)
{
	struct device_ctx *c = arg;
	struct store_rows *rows = NULL;
	struct store_param p[2];
	int64_t host_id;
	int r;

	r = store_lookup_host_id(s, c->host, &host_id, err);
	if (r < 0)
		return r;
	p[0] = sp_int(host_id);
	p[1] = sp_text(c->bdf);
	r = store_select(s,
			 "SELECT v.id, v.name FROM replicas r JOIN devices d ON d.id = r.device_id "
			 "JOIN volumes v ON v.id = r.volume_id WHERE d.host_id = ? AND d.bdf = ?",
			 p, 2, &rows, err);
	if (r == 0 && rows->nrows)
		r = store_seterr(
			err, -EBUSY,
			"device %s of host '%s' holds a replica of volume '%s': delete the "
			"volume first",
			c->bdf, c->host,
			store_rows_str(rows, 0, 1) ? store_rows_str(rows, 0, 1)
						   : store_rows_str(rows, 0, 0));
	store_rows_free(rows);
	rows = NULL;
	if (r < 0)
		return r;
	r = store_select(s, "DELETE FROM devices WHERE host_id = ? AND bdf = ? RETURNING id", p, 2,
			 &rows, err);
	if (r == 0 && rows->nrows == 0)
		r = store_seterr(err, -ENOENT, "device %s is not registered on host '%s'", c->bdf,
				 c->host);
	store_rows_free(rows);
	return r;
}

int store_device_remove(struct store *store, const char *host_name, const char *bdf,
			struct store_error *err)
{
	char norm[STORE_BDF_MAX];
	struct device_ctx c = {.host = host_name, .bdf = norm};
	int r = store_validate_bdf(bdf, norm, err);

	if (r == 0)
		r = store_txn(store, true, device_remove_fn, &c, err);
	return r;
}
