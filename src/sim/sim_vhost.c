/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim vhost-blk: controllers with a real vhost-user Unix socket under the -S
 * directory, modelled on SPDK v25.09 lib/vhost (vhost.c, vhost_blk.c, vhost_rpc.c,
 * rte_vhost_user.c) and DPDK's socket handling. QEMU is not simulated: a session (a VM
 * connected to the socket) is opened and closed through the control channel.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "sim/sim.h"
#include "sim/sim_vhost.h"

/* SPDK's default interrupt coalescing of a vhost-user device. */
#define VHOST_COALESCING_DELAY_BASE_US 0
#define VHOST_VQ_IOPS_COALESCING_THRESHOLD 60000
#define VHOST_MAX_VIDS 1024 /* DPDK's RTE_MAX_VHOST_DEVICE */

struct vhost_session {
	uint32_t vid; /* DPDK device id: the lowest free one, shared by all controllers */
	uint32_t id;  /* per-controller counter */
	char *name;   /* "<ctrlr>s<vid>" */
	uint32_t max_queues;
	struct vhost_session *next;
};

/* A vhost_delete_controller that waits for the VM to go (SPDK retries on -EBUSY). */
struct vhost_pending_delete {
	struct sim_req *req;
	struct vhost_pending_delete *next;
};

struct vhost_ctrlr {
	char *name;
	char *path; /* what SPDK reports: dir + name, never truncated */
	uint64_t cpumask;
	bool readonly;
	struct sim_bdev *bdev; /* NULL once the bdev was removed under the controller */
	int sock_fd;
	uint32_t vsessions_num;
	struct vhost_session *sessions;
	struct vhost_pending_delete *deletes;
	struct vhost_ctrlr *next; /* sorted by name, like SPDK's RB tree */
};

struct sim_vhost_state {
	struct vhost_ctrlr *ctrlrs;
	char dirname[PATH_MAX]; /* ends with '/' */
	uint64_t core_mask;
	bool vid_used[VHOST_MAX_VIDS];
};

static struct sim_vhost_state *vhost_state(struct sim *s)
{
	struct sim_vhost_state *st = s->vhost;
	size_t len;

	if (st)
		return st;
	st = calloc(1, sizeof(*st));
	if (!st)
		abort();
	/* spdk_vhost_set_socket_path(-S) or the working directory, with a trailing slash */
	if (s->opts.vhost_dir && s->opts.vhost_dir[0])
		snprintf(st->dirname, sizeof(st->dirname) - 2, "%s", s->opts.vhost_dir);
	else if (!getcwd(st->dirname, sizeof(st->dirname) - 2))
		snprintf(st->dirname, sizeof(st->dirname), ".");
	len = strlen(st->dirname);
	if (len && st->dirname[len - 1] != '/')
		st->dirname[len] = '/', st->dirname[len + 1] = '\0';
	st->core_mask = s->opts.core_mask ? s->opts.core_mask : 1;
	s->vhost = st;
	return st;
}

struct vhost_ctrlr *vhost_find(struct sim *s, const char *name)
{
	for (struct vhost_ctrlr *c = vhost_state(s)->ctrlrs; c; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* spdk_cpuset_parse for masks that fit 64 cores: hex (0x optional, commas skipped) or a list. */
int vhost_cpumask_parse(const char *mask, uint64_t *out)
{
	uint64_t set = 0;
	size_t len;

	while (isblank((unsigned char)*mask))
		mask++;
	len = strlen(mask);
	while (len && isblank((unsigned char)mask[len - 1]))
		len--;
	if (mask[0] == '[') {
		const char *p = mask + 1;
		char *end;
		unsigned long lo = ULONG_MAX, cpu;

		for (;;) {
			while (isblank((unsigned char)*p))
				p++;
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			cpu = strtoul(p, &end, 10);
			if (cpu >= 1024)
				return -EINVAL;
			while (isblank((unsigned char)*end))
				end++;
			if (*end == '-') {
				lo = cpu;
			} else if (*end == ',' || *end == ']') {
				if (lo == ULONG_MAX)
					lo = cpu;
				if (lo > cpu)
					return -EINVAL;
				for (unsigned long c = lo; c <= cpu; c++) {
					if (c >= 64)
						return -EINVAL; /* beyond any -m mask the sim
								   accepts */
					set |= 1ull << c;
				}
				lo = ULONG_MAX;
			} else {
				return -EINVAL;
			}
			p = end + 1;
			if (*end == ']')
				break;
		}
	} else {
		unsigned core = 0;

		if (len >= 2 && mask[0] == '0' && (mask[1] == 'x' || mask[1] == 'X'))
			mask += 2, len -= 2;
		for (size_t i = len; i-- > 0;) {
			int val;

			if (mask[i] == ',')
				continue;
			if (!isxdigit((unsigned char)mask[i]))
				return -EINVAL;
			val = isdigit((unsigned char)mask[i])
				      ? mask[i] - '0'
				      : tolower((unsigned char)mask[i]) - 'a' + 10;
			for (int j = 0; j < 4; j++, core++) {
				if (!(val & (1 << j)))
					continue;
				if (core >= 64)
					return -EINVAL;
				set |= 1ull << core;
			}
		}
	}
	*out = set;
	return 0;
}

/* spdk_cpuset_fmt: hex without "0x" and without a leading zero digit. */
void vhost_cpumask_fmt(uint64_t mask, char out[20])
{
	snprintf(out, 20, "%llx", (unsigned long long)mask);
}

/* vhost_parse_core_mask: NULL means every core of the app; others must lie within. */
static int vhost_core_mask(struct sim_vhost_state *st, const char *str, uint64_t *out)
{
	uint64_t mask;

	if (!str) {
		*out = st->core_mask;
		return 0;
	}
	if (vhost_cpumask_parse(str, &mask) != 0 || (mask & ~st->core_mask) != 0 ||
	    (mask & st->core_mask) == 0)
		return -EINVAL;
	*out = mask;
	return 0;
}

/*
 * vhost_register_unix_socket + DPDK's server socket: a stale socket file is replaced,
 * anything else at the path fails; the path is cut to sun_path as DPDK does.
 */
static int vhost_socket_open(const char *path, int *fd_out)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (stat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode) || unlink(path) != 0)
			return -EIO;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -EIO;
	/* the cut is intended: DPDK copies at most sizeof(sun_path) - 1 bytes */
	memcpy(un.sun_path, path, strnlen(path, sizeof(un.sun_path) - 1));
	if (bind(fd, (struct sockaddr *)&un, sizeof(un)) != 0 || listen(fd, 8) != 0) {
		log_debug("sim vhost: bind %s: %s", un.sun_path, strerror(errno));
		close(fd);
		return -EIO;
	}
	*fd_out = fd;
	return 0;
}

/* rte_vhost_driver_unregister: close and unlink the full path (a cut one stays behind). */
static void vhost_socket_close(struct vhost_ctrlr *c)
{
	if (c->sock_fd >= 0) {
		close(c->sock_fd);
		c->sock_fd = -1;
		if (unlink(c->path) != 0)
			log_debug("sim vhost: unlink %s: %s", c->path, strerror(errno));
	}
}

static void vhost_free(struct sim *s, struct vhost_ctrlr *c)
{
	struct sim_vhost_state *st = vhost_state(s);

	while (c->sessions) {
		struct vhost_session *v = c->sessions;

		c->sessions = v->next;
		if (c->bdev)
			sim_bdev_channel_close(s, c->bdev, c->name);
		if (v->vid < VHOST_MAX_VIDS)
			st->vid_used[v->vid] = false;
		free(v->name);
		free(v);
	}
	free(c->name);
	free(c->path);
	free(c);
}

static void vhost_unlink_ctrlr(struct sim *s, struct vhost_ctrlr *c)
{
	for (struct vhost_ctrlr **pp = &vhost_state(s)->ctrlrs; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			return;
		}
	}
}

int vhost_blk_create(struct sim *s, const char *name, const char *dev_name, const char *cpumask,
		     bool readonly, bool bad_options)
{
	struct sim_vhost_state *st = vhost_state(s);
	struct vhost_ctrlr *c, **pp;
	struct sim_bdev *b;
	char path[PATH_MAX];
	uint64_t mask;
	int rc;

	/* spdk_vhost_blk_construct: the bdev is opened for writing first */
	b = sim_bdev_find(s, dev_name);
	if (!b)
		return -ENODEV;
	if (b->claim_type)
		return -EPERM;
	/* vhost_dev_register */
	if (vhost_core_mask(st, cpumask, &mask) != 0)
		return -EINVAL;
	if (vhost_find(s, name))
		return -EEXIST;
	if (bad_options)
		return -EINVAL; /* readonly / packed_ring are decoded only now */
	/* vhost_user_dev_init / vhost_user_dev_start */
	if (snprintf(path, sizeof(path), "%s%s", st->dirname, name) >= (int)sizeof(path))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->name = strdup(name);
	c->path = strdup(path);
	c->sock_fd = -1;
	if (!c->name || !c->path) {
		vhost_free(s, c);
		return -ENOMEM;
	}
	rc = vhost_socket_open(path, &c->sock_fd);
	if (rc) {
		vhost_free(s, c);
		return rc;
	}
	c->cpumask = mask;
	c->readonly = readonly;
	c->bdev = b;
	for (pp = &st->ctrlrs; *pp && strcmp((*pp)->name, name) < 0; pp = &(*pp)->next)
		;
	c->next = *pp;
	*pp = c;
	return 0;
}

int vhost_delete(struct sim *s, struct vhost_ctrlr *c)
{
	if (c->sessions)
		return -EBUSY; /* "Controller %s has still valid connection." */
	vhost_socket_close(c);
	vhost_unlink_ctrlr(s, c);
	vhost_free(s, c);
	return 0;
}

/* ---- sessions ---- */

int vhost_session_open(struct sim *s, struct vhost_ctrlr *c, uint32_t max_queues, uint32_t *vid)
{
	struct sim_vhost_state *st = vhost_state(s);
	struct vhost_session *v, **tail;
	uint32_t id;
	char buf[32];

	for (id = 0; id < VHOST_MAX_VIDS && st->vid_used[id]; id++)
		;
	if (id == VHOST_MAX_VIDS)
		return -ENOSPC;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	snprintf(buf, sizeof(buf), "s%u", id);
	v->name = malloc(strlen(c->name) + strlen(buf) + 1);
	if (!v->name) {
		free(v);
		return -ENOMEM;
	}
	sprintf(v->name, "%s%s", c->name, buf);
	v->vid = id;
	v->id = c->vsessions_num++;
	v->max_queues = max_queues;
	st->vid_used[id] = true;
	for (tail = &c->sessions; *tail; tail = &(*tail)->next)
		;
	*tail = v;
	/* vhost_blk_start: the session's channel, on the controller's thread (named after it) */
	if (c->bdev)
		sim_bdev_channel_open(s, c->bdev, c->name);
	*vid = id;
	return 0;
}

/*
 * A deferred delete finishes once the last VM is gone (SPDK's -EBUSY retry loop): the
 * first queued call deletes the controller, the ones after it find nothing.
 */
static void vhost_finish_pending_deletes(struct sim *s, struct vhost_ctrlr *c)
{
	struct vhost_pending_delete *d = c->deletes;

	if (c->sessions || !d)
		return;
	c->deletes = NULL;
	vhost_socket_close(c);
	vhost_unlink_ctrlr(s, c);
	vhost_free(s, c);
	sim_reply(d->req, json_true());
	for (struct vhost_pending_delete *next = d->next; free(d), (d = next);) {
		next = d->next;
		sim_reply_error(d->req, -32602, "%s", strerror(ENODEV));
	}
}

int vhost_session_close(struct sim *s, struct vhost_ctrlr *c, int64_t vid)
{
	struct sim_vhost_state *st = vhost_state(s);
	struct vhost_session **pp, *v;

	for (pp = &c->sessions; *pp; pp = &(*pp)->next)
		if (vid < 0 || (*pp)->vid == (uint64_t)vid)
			break;
	v = *pp;
	if (!v)
		return -ENODEV;
	*pp = v->next;
	if (c->bdev)
		sim_bdev_channel_close(s, c->bdev, c->name);
	st->vid_used[v->vid] = false;
	free(v->name);
	free(v);
	vhost_finish_pending_deletes(s, c);
	return 0;
}

/* ---- JSON ---- */

static json_t *vhost_ctrlr_json(struct vhost_ctrlr *c)
{
	json_t *sessions = json_array();
	char mask[20], cpumask[24];

	vhost_cpumask_fmt(c->cpumask, mask);
	snprintf(cpumask, sizeof(cpumask), "0x%s", mask);
	for (struct vhost_session *v = c->sessions; v; v = v->next)
		json_array_append_new(sessions,
				      json_pack("{s:I, s:I, s:s, s:b, s:I, s:i}", "vid",
						(json_int_t)v->vid, "id", (json_int_t)v->id, "name",
						v->name, "started", 1, "max_queues",
						(json_int_t)v->max_queues, "inflight_task_cnt", 0));
	return json_pack("{s:s, s:s, s:i, s:i, s:s, s:o, s:{s:{s:b, s:o, s:s}}}", "ctrlr", c->name,
			 "cpumask", cpumask, "delay_base_us", VHOST_COALESCING_DELAY_BASE_US,
			 "iops_threshold", VHOST_VQ_IOPS_COALESCING_THRESHOLD, "socket", c->path,
			 "sessions", sessions, "backend_specific", "block", "readonly", c->readonly,
			 "bdev", c->bdev ? json_string(c->bdev->name) : json_null(), "transport",
			 "vhost_user_blk");
}

/* ---- methods ---- */

static void rpc_vhost_create_blk_controller(struct sim_req *req)
{
	json_t *p = req->params, *ctrlr, *dev, *mask, *transport, *ro, *packed;
	int rc = -EINVAL;

	/* spdk_json_decode_object_relaxed: unknown keys pass, known ones must type-check */
	if (!json_is_object(p))
		goto out;
	ctrlr = json_object_get(p, "ctrlr");
	dev = json_object_get(p, "dev_name");
	mask = json_object_get(p, "cpumask");
	transport = json_object_get(p, "transport");
	if (!json_is_string(ctrlr) || !json_is_string(dev) || (mask && !json_is_string(mask)) ||
	    (transport && !json_is_string(transport)))
		goto out;
	if (transport && strcasecmp(json_string_value(transport), "vhost_user_blk") != 0)
		goto out;
	ro = json_object_get(p, "readonly");
	packed = json_object_get(p, "packed_ring");
	rc = vhost_blk_create(req->sim, json_string_value(ctrlr), json_string_value(dev),
			      mask ? json_string_value(mask) : NULL, json_is_true(ro),
			      (ro && !json_is_boolean(ro)) || (packed && !json_is_boolean(packed)));
out:
	if (rc) {
		sim_reply_error(req, -32602, "%s", strerror(-rc));
		return;
	}
	sim_reply(req, json_true());
}

static void rpc_vhost_delete_controller(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"ctrlr", SIM_J_STRING, false}};
	struct vhost_ctrlr *c;
	struct vhost_pending_delete *d, **tail;
	int rc;

	if (!sim_decode_ok(req->params, dec, 1)) {
		sim_reply_error(req, -32602, "%s", strerror(EINVAL));
		return;
	}
	c = vhost_find(req->sim, json_string_value(json_object_get(req->params, "ctrlr")));
	if (!c) {
		sim_reply_error(req, -32602, "%s", strerror(ENODEV));
		return;
	}
	rc = vhost_delete(req->sim, c);
	if (rc == -EBUSY) {
		/* SPDK re-queues the call until the VM disconnects: the answer waits */
		d = calloc(1, sizeof(*d));
		if (!d) {
			sim_reply_error(req, -32602, "%s", strerror(ENOMEM));
			return;
		}
		d->req = req;
		for (tail = &c->deletes; *tail; tail = &(*tail)->next)
			;
		*tail = d;
		return;
	}
	if (rc) {
		sim_reply_error(req, -32602, "%s", strerror(-rc));
		return;
	}
	sim_reply(req, json_true());
}

static void rpc_vhost_get_controllers(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"name", SIM_J_STRING, true}};
	json_t *arr, *name;
	struct vhost_ctrlr *c;

	if (req->params && !sim_decode_ok(req->params, dec, 1)) {
		sim_reply_error(req, -32603, "%s", strerror(EINVAL));
		return;
	}
	name = json_object_get(req->params, "name");
	arr = json_array();
	if (name) {
		c = vhost_find(req->sim, json_string_value(name));
		if (!c) {
			json_decref(arr);
			sim_reply_error(req, -32603, "%s", strerror(ENODEV));
			return;
		}
		json_array_append_new(arr, vhost_ctrlr_json(c));
	} else {
		for (c = vhost_state(req->sim)->ctrlrs; c; c = c->next)
			json_array_append_new(arr, vhost_ctrlr_json(c));
	}
	sim_reply(req, arr);
}

static const struct sim_method vhost_methods[] = {
	{"vhost_create_blk_controller", rpc_vhost_create_blk_controller, SIM_RUNTIME},
	{"vhost_delete_controller", rpc_vhost_delete_controller, SIM_RUNTIME},
	{"vhost_get_controllers", rpc_vhost_get_controllers, SIM_RUNTIME},
	{NULL, NULL, 0},
};

/* ---- control channel: a QEMU stand-in connecting to and leaving a controller ---- */

static struct vhost_ctrlr *vhost_ctrl_target(struct sim *s, json_t *args, char **errmsg)
{
	const char *name = json_string_value(json_object_get(args, "ctrlr"));
	struct vhost_ctrlr *c;

	if (!name) {
		*errmsg = strdup("ctrlr (a string) is required");
		return NULL;
	}
	c = vhost_find(s, name);
	if (!c && asprintf(errmsg, "vhost controller %s does not exist", name) < 0)
		*errmsg = NULL;
	return c;
}

static int ctrl_vhost_session_open(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	json_t *q = json_object_get(args, "max_queues");
	struct vhost_ctrlr *c = vhost_ctrl_target(s, args, errmsg);
	uint32_t vid;
	int rc;

	if (!c)
		return -ENODEV;
	if (q &&
	    (!json_is_integer(q) || json_integer_value(q) < 1 || json_integer_value(q) > 128)) {
		*errmsg = strdup("max_queues must be an integer from 1 to 128");
		return -EINVAL;
	}
	rc = vhost_session_open(s, c, q ? (uint32_t)json_integer_value(q) : 1, &vid);
	if (rc) {
		*errmsg = strdup("no free vhost device id");
		return rc;
	}
	*result = json_pack("{s:I}", "vid", (json_int_t)vid);
	return 0;
}

static int ctrl_vhost_session_close(struct sim *s, json_t *args, json_t **result, char **errmsg)
{
	json_t *vid = json_object_get(args, "vid");
	struct vhost_ctrlr *c = vhost_ctrl_target(s, args, errmsg);

	if (!c)
		return -ENODEV;
	if (vid && (!json_is_integer(vid) || json_integer_value(vid) < 0)) {
		*errmsg = strdup("vid must be a non-negative integer");
		return -EINVAL;
	}
	if (vhost_session_close(s, c, vid ? json_integer_value(vid) : -1) != 0) {
		*errmsg = strdup("no such session on this controller");
		return -ENODEV;
	}
	return 0;
}

static const struct sim_control_cmd vhost_control[] = {
	{"vhost_session_open", ctrl_vhost_session_open},
	{"vhost_session_close", ctrl_vhost_session_close},
	{NULL, NULL},
};

/* ---- bdev events, config, lifecycle ---- */

static void vhost_on_bdev_removed(struct sim *s, struct sim_bdev *b, void *ctx)
{
	/* bdev_event_cpl_cb: the controller stays and serves nothing */
	for (struct vhost_ctrlr *c = vhost_state(s)->ctrlrs; c; c = c->next) {
		if (c->bdev != b)
			continue;
		/* vhost_session_bdev_remove_cb: each session puts its channel */
		for (struct vhost_session *v = c->sessions; v; v = v->next)
			sim_bdev_channel_close(s, b, c->name);
		c->bdev = NULL;
	}
}

static const struct sim_bdev_listener vhost_listener = {
	.removed = vhost_on_bdev_removed,
};

static void vhost_config(struct sim *s, const char *subsystem, json_t *arr)
{
	char mask[20];

	if (strcmp(subsystem, "vhost_blk") != 0)
		return;
	for (struct vhost_ctrlr *c = vhost_state(s)->ctrlrs; c; c = c->next) {
		if (!c->bdev)
			continue; /* vhost_blk_write_config_json skips a controller without bdev */
		vhost_cpumask_fmt(c->cpumask, mask);
		json_array_append_new(arr, json_pack("{s:s, s:{s:s, s:s, s:s, s:b, s:s}}", "method",
						     "vhost_create_blk_controller", "params",
						     "ctrlr", c->name, "dev_name", c->bdev->name,
						     "cpumask", mask, "readonly", c->readonly,
						     "transport", "vhost_user_blk"));
	}
}

static void vhost_init(struct sim *s)
{
	vhost_state(s);
	sim_bdev_listen(s, &vhost_listener);
}

/*
 * Shutdown: DPDK unregisters (closes and unlinks) every socket; sessions put their
 * channels; queued deletes are left to the server, which frees them unanswered.
 */
static void vhost_fini(struct sim *s)
{
	struct sim_vhost_state *st = s->vhost;

	if (!st)
		return;
	/* bdevs other modules unregister later must not bring the module back */
	sim_bdev_unlisten(s, &vhost_listener);
	while (st->ctrlrs) {
		struct vhost_ctrlr *c = st->ctrlrs;

		st->ctrlrs = c->next;
		vhost_socket_close(c);
		while (c->deletes) {
			struct vhost_pending_delete *d = c->deletes;

			c->deletes = d->next;
			free(d);
		}
		vhost_free(s, c);
	}
	free(st);
	s->vhost = NULL;
}

const struct sim_module sim_module_vhost = {
	.name = "vhost",
	.methods = vhost_methods,
	.control = vhost_control,
	.init = vhost_init,
	.fini = vhost_fini,
	.config = vhost_config,
};
