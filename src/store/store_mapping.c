/* SPDX-License-Identifier: Apache-2.0 */
/* Mappings (volume -> VM on a host), their state machine, and what hosts observed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/store_internal.h"
#include "store/store_validate.h"

struct attach_ctx {
	const char *volume;
	const char *host;
	const char *vm;
	int64_t id;
};

static int attach_fn(struct store *s, void *arg, struct store_error *err)
{
	struct attach_ctx *c = arg;
	struct store_rows *rows = NULL;
	struct store_volume v;
	struct store_param p[6];
	int64_t host_id, now = util_wall_s();
	int r;

	r = store_lookup_volume(s, c->volume, &v, err);
	if (r == 0)
		r = store_lookup_host_id(s, c->host, &host_id, err);
	if (r < 0)
		return r;
	p[0] = sp_int(v.id);
	r = store_select(s,
			 "SELECT m.id, h.name, m.state, m.vm_id FROM mappings m JOIN hosts h ON "
			 "h.id = m.host_id WHERE m.volume_id = ? AND m.state <> 'DETACHED'",
			 p, 1, &rows, err);
	if (r == 0 && rows->nrows)
		r = store_seterr(
			err, -EBUSY,
			"volume '%s' is already mapped to VM '%s' on host '%s' (mapping %s, "
			"%s)",
			c->volume, store_rows_str(rows, 0, 3), store_rows_str(rows, 0, 1),
			store_rows_str(rows, 0, 0), store_rows_str(rows, 0, 2));
	store_rows_free(rows);
	rows = NULL;
	if (r < 0)
		return r;
	/* a local drive serves only the host it is plugged into */
	p[0] = sp_int(v.id);
	p[1] = sp_int(host_id);
	r = store_select(
		s,
		"SELECT d.bdf, h.name FROM replicas r JOIN devices d ON d.id = r.device_id "
		"JOIN hosts h ON h.id = d.host_id WHERE r.volume_id = ? AND d.host_id <> ?",
		p, 2, &rows, err);
	if (r == 0 && rows->nrows)
		r = store_seterr(err, -EINVAL,
				 "volume '%s' has a replica on device %s of host '%s': it can be "
				 "mapped only on '%s', not on '%s'",
				 c->volume, store_rows_str(rows, 0, 0), store_rows_str(rows, 0, 1),
				 store_rows_str(rows, 0, 1), c->host);
	store_rows_free(rows);
	rows = NULL;
	if (r < 0)
		return r;
	p[0] = sp_int(v.id);
	p[1] = sp_int(host_id);
	p[2] = sp_text(c->vm);
	p[3] = sp_text(store_mapping_state_name(STORE_MAPPING_ASSIGNED));
	p[4] = sp_int(now);
	p[5] = sp_int(now);
	r = store_select(s,
			 "INSERT INTO mappings (volume_id, host_id, vm_id, state, created_at, "
			 "updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
			 p, 6, &rows, err);
	if (r == -EEXIST) /* another attach won the race for this volume */
		return store_seterr(err, -EBUSY, "volume '%s' is already mapped", c->volume);
	if (r == 0)
		c->id = store_rows_int(rows, 0, 0);
	store_rows_free(rows);
	return r;
}

int store_volume_attach(struct store *store, const char *volume_ref, const char *host_name,
			const char *vm_id, int64_t *mapping_id, struct store_error *err)
{
	struct attach_ctx c = {.volume = volume_ref, .host = host_name, .vm = vm_id};
	int r = store_validate_name("VM id", vm_id, err);

	if (r == 0)
		r = store_validate_name("host name", host_name, err);
	if (r == 0)
		r = store_txn(store, true, attach_fn, &c, err);
	if (r == 0 && mapping_id)
		*mapping_id = c.id;
	return r;
}

struct detach_ctx {
	const char *volume;
	const char *host;
	int64_t id;
};

static int detach_fn(struct store *s, void *arg, struct store_error *err)
{
	struct detach_ctx *c = arg;
	struct store_rows *rows = NULL;
	struct store_mapping m;
	struct store_volume v;
	struct store_param p[4];
	int r;

	r = store_lookup_volume(s, c->volume, &v, err);
	if (r < 0)
		return r;
	p[0] = sp_int(v.id);
	r = store_select(s, STORE_SELECT_MAPPING "WHERE m.volume_id = ? AND m.state <> 'DETACHED'",
			 p, 1, &rows, err);
	if (r < 0)
		return r;
	if (rows->nrows == 0) {
		store_rows_free(rows);
		return store_seterr(err, -ENOENT, "volume '%s' is not mapped to any host",
				    c->volume);
	}
	store_decode_mapping(rows, 0, &m);
	store_rows_free(rows);
	rows = NULL;
	if (c->host && strcmp(c->host, m.host_name) != 0)
		return store_seterr(err, -ENOENT,
				    "volume '%s' is not mapped to host '%s' (it is mapped to '%s')",
				    c->volume, c->host, m.host_name);
	if (m.state == STORE_MAPPING_DETACH_REQUESTED)
		return store_seterr(err, -EALREADY,
				    "detach of volume '%s' (mapping %lld) is already requested; "
				    "host '%s' tears it down. If that host is gone for good: "
				    "diskengine host declare-dead %s",
				    c->volume, (long long)m.id, m.host_name, m.host_name);
	p[0] = sp_text(store_mapping_state_name(STORE_MAPPING_DETACH_REQUESTED));
	p[1] = sp_int(util_wall_s());
	p[2] = sp_int(m.id);
	p[3] = sp_text(store_mapping_state_name(m.state));
	r = store_select(s,
			 "UPDATE mappings SET state = ?, updated_at = ? WHERE id = ? AND state = ? "
			 "RETURNING id",
			 p, 4, &rows, err);
	if (r == 0 && rows->nrows == 0)
		r = -EAGAIN; /* the daemon moved it meanwhile: read again */
	store_rows_free(rows);
	if (r == 0)
		c->id = m.id;
	return r;
}

int store_volume_detach(struct store *store, const char *volume_ref, const char *host_name,
			int64_t *mapping_id, struct store_error *err)
{
	struct detach_ctx c = {.volume = volume_ref, .host = host_name};
	int r = store_txn(store, true, detach_fn, &c, err);

	if (r == 0 && mapping_id)
		*mapping_id = c.id;
	return r;
}

int store_mapping_get(struct store *store, int64_t id, struct store_mapping *out,
		      struct store_error *err)
{
	struct store_param p = sp_int(id);
	struct store_rows *rows = NULL;
	int r = store_select(store, STORE_SELECT_MAPPING "WHERE m.id = ?", &p, 1, &rows, err);

	if (r < 0)
		return r;
	if (rows->nrows == 0)
		r = store_seterr(err, -ENOENT, "mapping %lld does not exist", (long long)id);
	else
		store_decode_mapping(rows, 0, out);
	store_rows_free(rows);
	return r;
}

int store_mapping_list(struct store *store, const struct store_mapping_filter *f,
		       struct store_mapping **out, size_t *n, struct store_error *err)
{
	struct store_mapping_filter none = {0};
	struct store_rows *rows = NULL;
	struct store_mapping *a;
	struct store_param p[5];
	int r;

	if (!f)
		f = &none;
	p[0] = sp_int(f->volume_id);
	p[1] = sp_int(f->volume_id);
	p[2] = sp_int(f->host_id);
	p[3] = sp_int(f->host_id);
	p[4] = sp_int(f->include_detached);
	r = store_select(store,
			 STORE_SELECT_MAPPING "WHERE (? = 0 OR m.volume_id = ?) AND "
					      "(? = 0 OR m.host_id = ?) AND "
					      "(? = 1 OR m.state <> 'DETACHED') ORDER BY m.id",
			 p, 5, &rows, err);
	if (r < 0)
		return r;
	a = calloc(rows->nrows ? rows->nrows : 1, sizeof(*a));
	if (!a) {
		store_rows_free(rows);
		return store_seterr(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < rows->nrows; i++)
		store_decode_mapping(rows, i, &a[i]);
	*n = rows->nrows;
	*out = a;
	store_rows_free(rows);
	return 0;
}

struct dead_ctx {
	const char *host;
	struct store_mapping *released;
	size_t n;
};

static int declare_dead_fn(struct store *s, void *arg, struct store_error *err)
{
	struct dead_ctx *c = arg;
	struct store_rows *rows = NULL;
	struct store_param p[3];
	int64_t host_id;
	int r;

	free(c->released); /* a retried transaction starts over */
	c->released = NULL;
	c->n = 0;
	r = store_lookup_host_id(s, c->host, &host_id, err);
	if (r < 0)
		return r;
	p[0] = sp_int(host_id);
	r = store_select(s,
			 STORE_SELECT_MAPPING "WHERE m.host_id = ? AND m.state <> 'DETACHED' "
					      "ORDER BY m.id",
			 p, 1, &rows, err);
	if (r < 0)
		return r;
	c->released = calloc(rows->nrows ? rows->nrows : 1, sizeof(*c->released));
	if (!c->released) {
		store_rows_free(rows);
		return store_seterr(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < rows->nrows; i++)
		store_decode_mapping(rows, i, &c->released[i]);
	c->n = rows->nrows;
	store_rows_free(rows);
	/*
	 * DETACHED straight from any state: nobody is left to tear the mapping down. The daemon
	 * of a host that comes back reads no live mapping and removes what it had built.
	 */
	p[0] = sp_text(store_mapping_state_name(STORE_MAPPING_DETACHED));
	p[1] = sp_int(util_wall_s());
	p[2] = sp_int(host_id);
	return store_exec(s,
			  "UPDATE mappings SET state = ?, updated_at = ? WHERE host_id = ? AND "
			  "state <> 'DETACHED'",
			  p, 3, err);
}

int store_host_declare_dead(struct store *store, const char *host_name,
			    struct store_mapping **released, size_t *n, struct store_error *err)
{
	struct dead_ctx c = {.host = host_name};
	int r = store_txn(store, true, declare_dead_fn, &c, err);

	if (r < 0) {
		free(c.released);
		return r;
	}
	if (released)
		*released = c.released;
	else
		free(c.released);
	if (n)
		*n = c.n;
	return 0;
}

static bool transition_valid(enum store_mapping_state from, enum store_mapping_state to)
{
	switch (from) {
	case STORE_MAPPING_ASSIGNED:
		return to == STORE_MAPPING_INITIALISED || to == STORE_MAPPING_DETACH_REQUESTED;
	case STORE_MAPPING_INITIALISED:
		return to == STORE_MAPPING_ATTACHED || to == STORE_MAPPING_DETACH_REQUESTED;
	case STORE_MAPPING_ATTACHED:
		return to == STORE_MAPPING_DETACH_REQUESTED;
	case STORE_MAPPING_DETACH_REQUESTED:
		return to == STORE_MAPPING_DETACHED;
	default:
		return false;
	}
}

struct advance_ctx {
	int64_t id;
	enum store_mapping_state from;
	enum store_mapping_state to;
};

static int advance_fn(struct store *s, void *arg, struct store_error *err)
{
	struct advance_ctx *c = arg;
	struct store_param p[4] = {sp_text(store_mapping_state_name(c->to)), sp_int(util_wall_s()),
				   sp_int(c->id), sp_text(store_mapping_state_name(c->from))};
	struct store_rows *rows = NULL;
	struct store_mapping m;
	int r;

	r = store_select(s,
			 "UPDATE mappings SET state = ?, updated_at = ? WHERE id = ? AND state = ? "
			 "RETURNING id",
			 p, 4, &rows, err);
	if (r < 0)
		return r;
	if (rows->nrows && c->to == STORE_MAPPING_ATTACHED)
		r = store_volume_mark_attached_in_txn(s, c->id, err);
	if (r == 0 && rows->nrows == 0) {
		r = store_mapping_get(s, c->id, &m, err);
		if (r == 0)
			r = store_seterr(err, -ESTALE,
					 "mapping %lld is %s, not %s: it changed meanwhile",
					 (long long)c->id, store_mapping_state_name(m.state),
					 store_mapping_state_name(c->from));
	}
	store_rows_free(rows);
	return r;
}

int store_mapping_advance(struct store *store, int64_t mapping_id, enum store_mapping_state from,
			  enum store_mapping_state to, struct store_error *err)
{
	struct advance_ctx c = {.id = mapping_id, .from = from, .to = to};

	if (!transition_valid(from, to))
		return store_seterr(err, -EINVAL, "mapping %lld cannot go from %s to %s",
				    (long long)mapping_id, store_mapping_state_name(from),
				    store_mapping_state_name(to));
	return store_txn(store, true, advance_fn, &c, err);
}

struct transitions_ctx {
	struct store_transition *t;
	size_t n;
};

static int transitions_fn(struct store *s, void *arg, struct store_error *err)
{
	struct transitions_ctx *c = arg;

	for (size_t i = 0; i < c->n; i++) {
		struct store_transition *t = &c->t[i];
		struct advance_ctx a = {.id = t->id, .from = t->from, .to = t->to};

		t->err = (struct store_error){0};
		if (t->kind == STORE_TRANSITION_CLEAN_STOP)
			t->result = store_clean_stop_in_txn(s, t->id, t->clean, &t->err);
		else if (!transition_valid(t->from, t->to))
			t->result = store_seterr(
				&t->err, -EINVAL, "mapping %lld cannot go from %s to %s",
				(long long)t->id, store_mapping_state_name(t->from),
				store_mapping_state_name(t->to));
		else
			t->result = advance_fn(s, &a, &t->err);
		/* A state that moved meanwhile, or a row that is gone, changed nothing: the
		 * others still commit. Anything else fails them all. */
		if (t->result < 0 && t->result != -ESTALE && t->result != -ENOENT &&
		    t->result != -EINVAL) {
			*err = t->err;
			return t->result;
		}
	}
	return 0;
}

int store_transitions_apply(struct store *store, struct store_transition *t, size_t n,
			    struct store_error *err)
{
	struct transitions_ctx c = {.t = t, .n = n};

	return n ? store_txn(store, true, transitions_fn, &c, err) : 0;
}

static int observation_put_fn(struct store *s, void *arg, struct store_error *err)
{
	const struct store_observation *o = arg;
	struct store_param p[9] = {sp_int(o->mapping_id),  sp_text(o->raid_state),
				   sp_text(o->members),	   sp_int(o->rebuild_percent),
				   sp_text(o->last_error), sp_int(o->last_error_at),
				   sp_int(util_wall_s()),  sp_int(o->reset_in_progress ? 1 : 0),
				   sp_text(o->path_resets)};
	struct store_mapping m;
	int r;

	r = store_mapping_get(s, o->mapping_id, &m, err);
	if (r < 0)
		return r;
	r = store_exec(
		s,
		"INSERT INTO observations (mapping_id, raid_state, members, rebuild_percent, "
		"last_error, last_error_at, updated_at, reset_in_progress, path_resets) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
		"ON CONFLICT (mapping_id) DO UPDATE SET raid_state = excluded.raid_state, "
		"members = excluded.members, rebuild_percent = excluded.rebuild_percent, "
		"last_error = excluded.last_error, last_error_at = excluded.last_error_at, "
		"updated_at = excluded.updated_at, reset_in_progress = excluded.reset_in_progress, "
		"path_resets = excluded.path_resets",
		p, 9, err);
	if (r == -EBUSY) /* the mapping was deleted meanwhile */
		return store_seterr(err, -ENOENT, "mapping %lld does not exist",
				    (long long)o->mapping_id);
	return r;
}

int store_observation_put(struct store *store, const struct store_observation *obs,
			  struct store_error *err)
{
	if (obs->rebuild_percent < -1 || obs->rebuild_percent > 100)
		return store_seterr(err, -EINVAL, "rebuild percent %d is not -1 or 0..100",
				    obs->rebuild_percent);
	if (strnlen(obs->raid_state, sizeof(obs->raid_state)) == sizeof(obs->raid_state) ||
	    strnlen(obs->members, sizeof(obs->members)) == sizeof(obs->members) ||
	    strnlen(obs->path_resets, sizeof(obs->path_resets)) == sizeof(obs->path_resets) ||
	    strnlen(obs->last_error, sizeof(obs->last_error)) == sizeof(obs->last_error))
		return store_seterr(err, -EINVAL, "observation text is not terminated");
	return store_txn(store, true, observation_put_fn, (void *)obs, err);
}

struct observation_batch {
	const struct store_observation *obs;
	size_t n;
	bool *written;
};

static int observation_put_many_fn(struct store *s, void *arg, struct store_error *err)
{
	struct observation_batch *b = arg;

	for (size_t i = 0; i < b->n; i++) {
		int r = observation_put_fn(s, (void *)&b->obs[i], err);
		/* a mapping deleted meanwhile has nothing left to describe */
		if (r == -ENOENT) {
			b->written[i] = false;
			continue;
		}
		if (r < 0)
			return r;
		b->written[i] = true;
	}
	return 0;
}

int store_observation_put_many(struct store *store, const struct store_observation *obs, size_t n,
			       bool *written, struct store_error *err)
{
	struct observation_batch b = {.obs = obs, .n = n, .written = written};

	for (size_t i = 0; i < n; i++) {
		if (obs[i].rebuild_percent < -1 || obs[i].rebuild_percent > 100 ||
		    strnlen(obs[i].raid_state, sizeof(obs[i].raid_state)) ==
			    sizeof(obs[i].raid_state) ||
		    strnlen(obs[i].members, sizeof(obs[i].members)) == sizeof(obs[i].members) ||
		    strnlen(obs[i].last_error, sizeof(obs[i].last_error)) ==
			    sizeof(obs[i].last_error))
			return store_seterr(err, -EINVAL, "observation of mapping %lld is invalid",
					    (long long)obs[i].mapping_id);
	}
	if (n == 0)
		return 0;
	return store_txn(store, true, observation_put_many_fn, &b, err);
}

int store_observation_get(struct store *store, int64_t mapping_id, struct store_observation *out,
			  struct store_error *err)
{
	struct store_param p = sp_int(mapping_id);
	struct store_rows *rows = NULL;
	int r;

	r = store_select(
		store,
		"SELECT mapping_id, raid_state, members, rebuild_percent, last_error, "
		"last_error_at, updated_at, reset_in_progress, path_resets FROM observations "
		"WHERE mapping_id = ?",
		&p, 1, &rows, err);
	if (r < 0)
		return r;
	if (rows->nrows == 0) {
		store_rows_free(rows);
		return store_seterr(err, -ENOENT, "nothing observed yet for mapping %lld",
				    (long long)mapping_id);
	}
	memset(out, 0, sizeof(*out));
	out->mapping_id = store_rows_int(rows, 0, 0);
	store_rows_copy(rows, 0, 1, out->raid_state, sizeof(out->raid_state));
	store_rows_copy(rows, 0, 2, out->members, sizeof(out->members));
	out->rebuild_percent = (int)store_rows_int(rows, 0, 3);
	store_rows_copy(rows, 0, 4, out->last_error, sizeof(out->last_error));
	out->last_error_at = store_rows_int(rows, 0, 5);
	out->updated_at = store_rows_int(rows, 0, 6);
	out->reset_in_progress = store_rows_int(rows, 0, 7) != 0;
	store_rows_copy(rows, 0, 8, out->path_resets, sizeof(out->path_resets));
	store_rows_free(rows);
	return 0;
}
