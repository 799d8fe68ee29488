/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control channel: a second Unix socket (--control PATH) through which tests
 * inject faults and read counters. One JSON object per line in each direction:
 * {"cmd": "...", ...} -> {"ok": true, "result": ...} | {"ok": false, "error": "..."}.
 * Core commands live here; modules add theirs through sim_module.control.
 */
#include "sim/sim_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* What an armed rule does to a matching call. */
enum control_rule_kind {
	RULE_FAIL,  /* answer with a fixed error instead of running the method */
	RULE_DELAY, /* run the method only after a pause */
};

struct control_rule {
	enum control_rule_kind kind;
	char *method;
	long remaining; /* calls left to affect; -1 = until `clear` */
	int code;
	char *message;
	uint64_t ms;
	struct control_rule *next;
};

struct control_conn {
	int fd;
	char *buf;
	size_t len, cap;
	struct control_conn *next;
};

struct control_stat {
	char *method;
	uint64_t calls;
};

struct sim_control_state {
	int listen_fd;
	char *path;
	struct control_conn *conns;
	struct control_rule *rules;
	struct control_stat *stats;
	size_t nstats, stats_cap;
};

/* ---- stats and interception (called by the dispatcher) --------------------------------- */

void sim_control_count(struct sim *s, const char *method)
{
	struct sim_control_state *c = s->control;

	if (!c || !method)
		return;
	for (size_t i = 0; i < c->nstats; i++) {
		if (strcmp(c->stats[i].method, method) == 0) {
			c->stats[i].calls++;
			return;
		}
	}
	if (c->nstats == c->stats_cap) {
		c->stats_cap = c->stats_cap ? c->stats_cap * 2 : 16;
		c->stats = realloc(c->stats, c->stats_cap * sizeof(*c->stats));
		if (!c->stats)
			abort();
	}
	c->stats[c->nstats++] = (struct control_stat){.method = strdup(method), .calls = 1};
}

static void rule_free(struct control_rule *r)
{
	free(r->method);
	free(r->message);
	free(r);
}

static void delayed_invoke(struct sim *s, void *ctx)
{
	sim_rpc_invoke(ctx);
}

bool sim_control_intercept(struct sim *s, struct sim_req *req)
{
	struct sim_control_state *c = s->control;
	struct control_rule **pp, *r;

	if (!c)
		return false;
	for (pp = &c->rules; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->method, req->method) == 0)
			break;
	r = *pp;
	if (!r)
		return false;
	if (r->kind == RULE_FAIL)
		sim_reply_error(req, r->code, "%s", r->message);
	else
		sim_timer_add(s, r->ms, delayed_invoke, req);
	if (r->remaining > 0 && --r->remaining == 0) {
		*pp = r->next;
		rule_free(r);
	}
	return true;
}

/* ---- core commands ------------------------------------------------------------------------ */

static int arg_count(json_t *args, long *out, char **errmsg)
{
	json_t *v = json_object_get(args, "count");

	*out = 1;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) == 0 || json_integer_value(v) < -1) {
		*errmsg = strdup("'count' must be a positive integer, or -1 for every call");
		return -EINVAL;
	}
	*out = (long)json_integer_value(v);
	return 0;
}

static int arg_method(json_t *args, const char **out, char **errmsg)
{
	json_t *v = json_object_get(args, "method");

	if (!json_is_string(v) || !*json_string_value(v)) {
		*errmsg = strdup("'method' (a method name string) is required");
		return -EINVAL;
	}
	*out = json_string_value(v);
	return 0;
}

static void rule_add(struct sim_control_state *c, struct control_rule *r)
{
	struct control_rule **pp;

	/* rules for one method apply in the order they were armed */
	for (pp = &c->rules; *pp; pp = &(*pp)->next)
		;
	*pp = r;
}

static int cmd_ping(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	*result = json_string("pong");
	return 0;
}

static int cmd_fail(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	json_t *code = json_object_get(args, "code"), *msg = json_object_get(args, "message");
	struct control_rule *r;
	const char *method;
	long count;
	int rc;

	if ((rc = arg_method(args, &method, errmsg)) || (rc = arg_count(args, &count, errmsg)))
		return rc;
	if (!json_is_integer(code) || json_integer_value(code) < INT32_MIN ||
	    json_integer_value(code) > INT32_MAX) {
		*errmsg = strdup("'code' (the JSON-RPC error code to answer, an integer) is required");
		return -EINVAL;
	}
	if (msg && !json_is_string(msg)) {
		*errmsg = strdup("'message' must be a string");
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->kind = RULE_FAIL;
	r->method = strdup(method);
	r->remaining = count;
	r->code = (int)json_integer_value(code);
	if (msg)
		r->message = strdup(json_string_value(msg));
	else if (r->code < 0 && r->code > -4096)
		r->message = strdup(strerror(-r->code));
	else
		r->message = strdup("Injected failure");
	rule_add(s->control, r);
	return 0;
}

static int cmd_delay(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	json_t *ms = json_object_get(args, "ms");
	struct control_rule *r;
	const char *method;
	long count;
	int rc;

	if ((rc = arg_method(args, &method, errmsg)) || (rc = arg_count(args, &count, errmsg)))
		return rc;
	if (!json_is_integer(ms) || json_integer_value(ms) < 0) {
		*errmsg = strdup("'ms' (a non-negative integer) is required");
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->kind = RULE_DELAY;
	r->method = strdup(method);
	r->remaining = count;
	r->ms = (uint64_t)json_integer_value(ms);
	rule_add(s->control, r);
	return 0;
}

static int cmd_clear(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	struct sim_control_state *c = s->control;

	while (c->rules) {
		struct control_rule *r = c->rules;

		c->rules = r->next;
		rule_free(r);
	}
	return 0;
}

static int cmd_crash(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	/* handled in control_execute: the answer is written before the process dies */
	return 0;
}

static int cmd_reset_window(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	json_t *ms = json_object_get(args, "ms");

	if (!json_is_integer(ms) || json_integer_value(ms) < 0) {
		*errmsg = strdup("'ms' (a non-negative integer) is required");
		return -EINVAL;
	}
	s->reset_window_until = json_integer_value(ms) ? sim_now_ms() + json_integer_value(ms) : 0;
	return 0;
}

static int cmd_tripwires(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	*result = json_pack("{s:I,s:I}", "unfiltered_bdev_get_bdevs_during_reset",
			    (json_int_t)s->unfiltered_bdevs_in_reset, "unfiltered_bdev_get_iostat",
			    (json_int_t)s->unfiltered_iostat);
	return 0;
}

static int cmd_stats(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	struct sim_control_state *c = s->control;
	json_t *o = json_object();

	for (size_t i = 0; i < c->nstats; i++)
		json_object_set_new(o, c->stats[i].method, json_integer((json_int_t)c->stats[i].calls));
	*result = o;
	return 0;
}

static int cmd_stats_reset(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	struct sim_control_state *c = s->control;

	for (size_t i = 0; i < c->nstats; i++)
		free(c->stats[i].method);
	c->nstats = 0;
	return 0;
}

static int cmd_state(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	char mask[24];

	snprintf(mask, sizeof(mask), "0x%llx", (unsigned long long)s->opts.core_mask);
	*result = json_pack("{s:b,s:s,s:s}", "initialized", s->initialized, "rpc_socket",
			    s->opts.rpc_socket, "core_mask", mask);
	return 0;
}

static const struct sim_bdev_ops test_bdev_ops = {
	.product_name = "spdk-sim test disk",
};

static int cmd_bdev_add(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	json_t *name = json_object_get(args, "name"), *bs = json_object_get(args, "block_size");
	json_t *nb = json_object_get(args, "num_blocks"), *uuid = json_object_get(args, "uuid");
	struct sim_bdev *b;
	int err = 0;

	if (!json_is_string(name) || !json_is_integer(nb) || json_integer_value(nb) <= 0 ||
	    (bs && (!json_is_integer(bs) || json_integer_value(bs) <= 0)) ||
	    (uuid && !json_is_string(uuid))) {
		*errmsg = strdup("bdev_add needs 'name' (string), 'num_blocks' (positive integer), "
				 "optional 'block_size' (positive integer, default 512) and "
				 "'uuid' (string)");
		return -EINVAL;
	}
	b = sim_bdev_register(s, json_string_value(name), json_string_value(uuid),
			      bs ? (uint32_t)json_integer_value(bs) : 512,
			      (uint64_t)json_integer_value(nb), 0, &test_bdev_ops, NULL, &err);
	if (!b) {
		*errmsg = strdup(err == -EEXIST ? "a bdev with that name or alias exists"
						: strerror(-err));
		return err;
	}
	*result = json_string(b->name);
	return 0;
}

static int cmd_bdev_del(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	struct sim_bdev *b = sim_bdev_find(s, json_string_value(json_object_get(args, "name")));

	if (!b || b->ops != &test_bdev_ops) {
		*errmsg = strdup("no bdev_add bdev with that 'name'");
		return -ENODEV;
	}
	sim_bdev_unregister(s, b);
	return 0;
}

static void io_account(struct sim_bdev_stats *st, bool write, uint64_t ops, uint64_t bytes,
		       uint64_t lat)
{
	uint64_t *sum = write ? &st->write_latency_ticks : &st->read_latency_ticks;
	uint64_t *max = write ? &st->max_write_latency_ticks : &st->max_read_latency_ticks;
	uint64_t *min = write ? &st->min_write_latency_ticks : &st->min_read_latency_ticks;
	uint64_t *n = write ? &st->num_write_ops : &st->num_read_ops;

	if (!ops)
		return;
	if (*n == 0 || lat < *min)
		*min = lat;
	if (lat > *max)
		*max = lat;
	*n += ops;
	*sum += ops * lat;
	if (write)
		st->bytes_written += ops * bytes;
	else
		st->bytes_read += ops * bytes;
}

/*
 * {"cmd":"io","name":B,"reads":N,"writes":M,"io_size":BYTES,"latency_us":US}: count N reads
 * and M writes of io_size bytes (default one block), each taking latency_us, on bdev B, as a
 * guest's I/O through a vhost controller would; bdev_get_iostat then shows them. No data moves.
 */
static int cmd_io(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	struct sim_bdev *b = sim_bdev_find(s, json_string_value(json_object_get(args, "name")));
	json_int_t reads = json_integer_value(json_object_get(args, "reads"));
	json_int_t writes = json_integer_value(json_object_get(args, "writes"));
	json_t *sz = json_object_get(args, "io_size");
	json_int_t size = sz ? json_integer_value(sz) : 0;
	json_int_t lat_us = json_integer_value(json_object_get(args, "latency_us"));
	uint64_t lat;

	if (!b) {
		*errmsg = strdup("no bdev with that 'name'");
		return -ENODEV;
	}
	if (reads < 0 || writes < 0 || size < 0 || lat_us < 0) {
		*errmsg = strdup("'reads', 'writes', 'io_size' and 'latency_us' must be >= 0");
		return -EINVAL;
	}
	if (!sz)
		size = b->block_size;
	lat = (uint64_t)lat_us * (SIM_TICK_RATE / 1000000u);
	io_account(&b->stats, false, (uint64_t)reads, (uint64_t)size, lat);
	io_account(&b->stats, true, (uint64_t)writes, (uint64_t)size, lat);
	return 0;
}

static const struct sim_control_cmd core_cmds[] = {
	{"io", cmd_io},
	{"bdev_add", cmd_bdev_add},
	{"bdev_del", cmd_bdev_del},
	{"ping", cmd_ping},
	{"fail", cmd_fail},
	{"delay", cmd_delay},
	{"clear", cmd_clear},
	{"crash", cmd_crash},
	{"reset_window", cmd_reset_window},
	{"stats", cmd_stats},
	{"tripwires", cmd_tripwires},
	{"stats_reset", cmd_stats_reset},
	{"state", cmd_state},
	{NULL, NULL},
};

static const struct sim_control_cmd *cmd_find(const char *name)
{
	for (const struct sim_control_cmd *c = core_cmds; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	for (const struct sim_control_cmd *c = sim_blocks_control; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	for (const struct sim_module *const *m = sim_modules; *m; m++) {
		if (!(*m)->control)
			continue;
		for (const struct sim_control_cmd *c = (*m)->control; c->name; c++)
			if (strcmp(c->name, name) == 0)
				return c;
	}
	return NULL;
}

/* ---- the socket ---------------------------------------------------------------------------- */

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				struct pollfd pfd = {.fd = fd, .events = POLLOUT};

				poll(&pfd, 1, 1000);
				continue;
			}
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void answer(int fd, json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT);

	if (text) {
		write_all(fd, text, strlen(text));
		write_all(fd, "\n", 1);
		free(text);
	}
	json_decref(o);
}

static void control_execute(struct sim *s, int fd, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *args = json_loadb(line, len, 0, &jerr), *result = NULL, *name;
	const struct sim_control_cmd *cmd;
	char *errmsg = NULL;
	int rc;

	if (!args || !json_is_object(args)) {
		answer(fd, json_pack("{s:b,s:s+}", "ok", 0, "error", "not a JSON object: ",
				     args ? "wrong type" : jerr.text));
		json_decref(args);
		return;
	}
	name = json_object_get(args, "cmd");
	if (!json_is_string(name)) {
		answer(fd, json_pack("{s:b,s:s}", "ok", 0, "error",
				     "missing \"cmd\" (the command name string)"));
		json_decref(args);
		return;
	}
	cmd = cmd_find(json_string_value(name));
	if (!cmd) {
		answer(fd, json_pack("{s:b,s:s+}", "ok", 0, "error", "unknown command: ",
				     json_string_value(name)));
		json_decref(args);
		return;
	}
	if (cmd->fn == cmd_crash) {
		answer(fd, json_pack("{s:b,s:n}", "ok", 1, "result"));
		json_decref(args);
		sim_crash(s, "control channel crash command");
	}
	rc = cmd->fn(s, args, &result, &errmsg);
	if (rc < 0) {
		answer(fd, json_pack("{s:b,s:s}", "ok", 0, "error",
				     errmsg ? errmsg : strerror(-rc)));
		json_decref(result);
	} else {
		answer(fd, json_pack("{s:b,s:o}", "ok", 1, "result", result ? result : json_null()));
	}
	free(errmsg);
	json_decref(args);
}

static void conn_drop(struct sim *s, struct control_conn *cc)
{
	struct sim_control_state *c = s->control;

	for (struct control_conn **pp = &c->conns; *pp; pp = &(*pp)->next) {
		if (*pp == cc) {
			*pp = cc->next;
			break;
		}
	}
	sim_fd_unwatch(s, cc->fd);
	close(cc->fd);
	free(cc->buf);
	free(cc);
}

static void on_conn(struct sim *s, int fd, short revents, void *ctx)
{
	struct control_conn *cc = ctx;
	char *nl;
	ssize_t n;

	if (cc->cap - cc->len < 4096) {
		cc->cap = cc->cap ? cc->cap * 2 : 8192;
		cc->buf = realloc(cc->buf, cc->cap);
		if (!cc->buf)
			abort();
	}
	n = recv(fd, cc->buf + cc->len, cc->cap - cc->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_drop(s, cc);
		return;
	}
	cc->len += (size_t)n;
	while ((nl = memchr(cc->buf, '\n', cc->len)) != NULL) {
		size_t line = (size_t)(nl - cc->buf);

		if (line > 0)
			control_execute(s, fd, cc->buf, line);
		memmove(cc->buf, nl + 1, cc->len - line - 1);
		cc->len -= line + 1;
	}
}

static void on_accept(struct sim *s, int fd, short revents, void *ctx)
{
	struct sim_control_state *c = s->control;
	struct control_conn *cc;
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (cfd < 0)
		return;
	cc = calloc(1, sizeof(*cc));
	if (!cc) {
		close(cfd);
		return;
	}
	cc->fd = cfd;
	cc->next = c->conns;
	c->conns = cc;
	sim_fd_watch(s, cfd, POLLIN, on_conn, cc);
}

int sim_control_open(struct sim *s, const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct sim_control_state *c;
	int fd, rc;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 64) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->listen_fd = fd;
	c->path = strdup(path);
	s->control = c;
	return sim_fd_watch(s, fd, POLLIN, on_accept, NULL);
}

void sim_control_close(struct sim *s)
{
	struct sim_control_state *c = s->control;

	if (!c)
		return;
	while (c->conns)
		conn_drop(s, c->conns);
	sim_fd_unwatch(s, c->listen_fd);
	close(c->listen_fd);
	unlink(c->path);
	free(c->path);
	cmd_clear(s, NULL, NULL, NULL);
	cmd_stats_reset(s, NULL, NULL, NULL);
	free(c->stats);
	free(c);
	s->control = NULL;
}
