/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NVMe host model (module/bdev/nvme/bdev_nvme.c): controllers and their paths over
 * the fabric, namespace bdevs, and what happens when a path is lost. A lost path is
 * retried every reconnect_delay_sec ("reconnect_is_delayed" in between); when it comes
 * back it is "enabled" again with a new cntlid, and when ctrlr_loss_timeout_sec passes
 * first the path is deleted -- with its bdev once no path is left. Nothing re-attaches
 * by itself afterwards.
 */
#include "sim/sim_fabric.h"
#include "sim/sim_keyring.h"
#include "sim/sim_nvme_internal.h"

#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long the first connect of an attach may take before it counts as failed. */
#define NVME_CONNECT_TIMEOUT_MS 5000
/*
 * A reconnect or reset that reaches the target still initialises the controller
 * (admin queue polled every nvme_adminq_poll_period_us): "resetting" that long.
 */
#define NVME_CTRLR_INIT_MS 100

/* A bdev_nvme_reset_controller in progress: its paths reconnect one after another. */
struct nvme_reset {
	struct sim_req *req;
	struct nvme_ctrlr **paths;
	size_t n, next;
	int rc;
};

static void connect_done(struct sim *s, struct nvme_ctrlr *c, int rc);
static void path_failed(struct sim *s, struct nvme_ctrlr *c);

/* ---- lookups -------------------------------------------------------------------------- */

struct nvme_bdev_ctrlr *nvme_bdev_ctrlr_find(struct sim *s, const char *name)
{
	for (struct nvme_bdev_ctrlr *n = name ? s->nvme->ctrlrs : NULL; n; n = n->next)
		if (strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

static bool trid_equal(const struct nvme_trid *a, const struct nvme_trid *b)
{
	if (strcmp(a->trtype, b->trtype) != 0)
		return false;
	if (strcmp(a->trtype, "PCIe") == 0)
		return strcasecmp(a->traddr, b->traddr) == 0;
	return strcasecmp(a->traddr, b->traddr) == 0 && strcmp(a->adrfam, b->adrfam) == 0 &&
	       strcasecmp(a->trsvcid, b->trsvcid) == 0 && strcmp(a->subnqn, b->subnqn) == 0;
}

struct nvme_ctrlr *nvme_ctrlr_find_trid(struct sim *s, const struct nvme_trid *t,
					const char *hostnqn)
{
	for (struct nvme_bdev_ctrlr *n = s->nvme->ctrlrs; n; n = n->next)
		for (struct nvme_ctrlr *c = n->ctrlrs; c; c = c->next)
			if (trid_equal(&c->trid, t) && strcmp(c->hostnqn, hostnqn) == 0)
				return c;
	return NULL;
}

bool nvme_ctrlr_connected(const struct nvme_ctrlr *c)
{
	return c->state == NVME_CTRLR_ENABLED;
}

json_t *nvme_trid_json(const struct nvme_trid *t)
{
	json_t *o = json_pack("{s:s}", "trtype", t->trtype);

	if (t->adrfam[0])
		json_object_set_new(o, "adrfam", json_string(t->adrfam));
	json_object_set_new(o, "traddr", json_string(t->traddr));
	if (t->trsvcid[0])
		json_object_set_new(o, "trsvcid", json_string(t->trsvcid));
	if (t->subnqn[0])
		json_object_set_new(o, "subnqn", json_string(t->subnqn));
	return o;
}

bool nvme_path_blocked(struct sim *s, const char *traddr, const char *trsvcid)
{
	for (struct nvme_blocked *b = s->nvme->blocked; b; b = b->next)
		if (strcmp(b->traddr, traddr) == 0 &&
		    (!b->trsvcid || strcmp(b->trsvcid, trsvcid) == 0))
			return true;
	return false;
}

static struct nvme_pcie_drive *drive_find(struct sim *s, const char *bdf)
{
	for (struct nvme_pcie_drive *d = s->nvme->drives; d; d = d->next)
		if (strcasecmp(d->bdf, bdf) == 0)
			return d;
	return NULL;
}

/* ---- paths ------------------------------------------------------------------------------- */

static void trid_free(struct nvme_trid *t)
{
	free(t->traddr);
	free(t->trsvcid);
	free(t->subnqn);
}

static void reset_continue(struct sim *s, void *ctx);

void nvme_ctrlr_free(struct sim *s, struct nvme_ctrlr *c)
{
	if (c->reset) {
		/* the path went away inside a reset: the reset goes on with the others */
		struct nvme_reset *r = c->reset;

		for (size_t i = 0; i < r->n; i++)
			if (r->paths[i] == c)
				r->paths[i] = NULL;
		sim_timer_add(s, 0, reset_continue, r);
	}
	if (c->timer)
		sim_timer_cancel(s, c->timer);
	fab_link_close(s, c->link);
	trid_free(&c->trid);
	json_decref(c->alternate_trids);
	json_decref(c->wire_ns);
	free(c->hostnqn);
	free(c->hostaddr);
	free(c->hostsvcid);
	free(c->psk_name);
	sim_keyring_put(s, c->dhchap_key);
	sim_keyring_put(s, c->dhchap_ctrlr_key);
	free(c->serial);
	free(c->model);
	free(c->fw);
	free(c->ns);
	free(c->pcie_bdf);
	free(c->attach_name);
	free(c);
}

static void nbdev_ctrlr_free(struct sim *s, struct nvme_bdev_ctrlr *n)
{
	for (struct nvme_bdev_ctrlr **pp = &s->nvme->ctrlrs; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			break;
		}
	}
	free(n->name);
	free(n);
}

void nvme_ctrlr_delete(struct sim *s, struct nvme_ctrlr *c)
{
	struct nvme_bdev_ctrlr *n = c->nbdev_ctrlr;

	for (struct nvme_ctrlr **pp = &n->ctrlrs; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	/* a namespace no remaining path serves goes away with its bdev */
	for (struct nvme_bdev *nb = n->bdevs, *next; nb; nb = next) {
		bool served = false;

		next = nb->next;
		for (struct nvme_ctrlr *o = n->ctrlrs; o; o = o->next)
			served |= nvme_path_ns(o, nb->nsid) != NULL;
		if (!served)
			sim_bdev_unregister(s, nb->bdev);
		else
			sim_channel_clear_io(s, nb->bdev);
	}
	nvme_ctrlr_free(s, c);
	if (!n->ctrlrs)
		nbdev_ctrlr_free(s, n);
}

int nvme_trid_from_json(json_t *o, struct nvme_trid *t)
{
	const char *trtype = json_string_value(json_object_get(o, "trtype"));
	const char *adrfam = json_string_value(json_object_get(o, "adrfam"));
	const char *traddr = json_string_value(json_object_get(o, "traddr"));
	const char *trsvcid = json_string_value(json_object_get(o, "trsvcid"));
	const char *subnqn = json_string_value(json_object_get(o, "subnqn"));

	if (!trtype || !traddr)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	snprintf(t->trtype, sizeof(t->trtype), "%s", trtype);
	snprintf(t->adrfam, sizeof(t->adrfam), "%s", adrfam ? adrfam : "");
	t->traddr = util_xstrdup(traddr);
	t->trsvcid = util_xstrdup(trsvcid ? trsvcid : "");
	t->subnqn = util_xstrdup(subnqn ? subnqn : "");
	return 0;
}

static void path_connect(struct sim *s, struct nvme_ctrlr *c);

void nvme_ctrlr_failover(struct sim *s, struct nvme_ctrlr *c)
{
	struct nvme_trid next;

	if (nvme_trid_from_json(json_array_get(c->alternate_trids, 0), &next) < 0)
		return;
	json_array_remove(c->alternate_trids, 0);
	trid_free(&c->trid);
	c->trid = next;
	c->failed_over = true;
	fab_link_close(s, c->link);
	c->link = NULL;
	if (c->timer) {
		sim_timer_cancel(s, c->timer);
		c->timer = NULL;
	}
	if (c->nbdev_ctrlr)
		for (struct nvme_bdev *nb = c->nbdev_ctrlr->bdevs; nb; nb = nb->next)
			sim_channel_clear_io(s, nb->bdev);
	c->state = NVME_CTRLR_RESETTING;
	path_connect(s, c);
}

static void send_connect(struct nvme_ctrlr *c)
{
	char *k = c->dhchap_key ? sim_key_material(c->dhchap_key) : NULL;
	char *ck = c->dhchap_ctrlr_key ? sim_key_material(c->dhchap_ctrlr_key) : NULL;
	json_t *msg = json_pack("{s:s,s:s,s:s,s:s}", "op", "connect", "subnqn", c->trid.subnqn,
				"hostnqn", c->hostnqn, "trtype", c->trid.trtype);

	/* a key set but unreadable still asks for authentication (and fails it) */
	if (c->dhchap_key)
		json_object_set_new(msg, "dhchap_key", json_string(k ? k : ""));
	if (c->dhchap_ctrlr_key)
		json_object_set_new(msg, "dhchap_ctrlr_key", json_string(ck ? ck : ""));
	fab_link_send(c->link, msg);
	free(k);
	free(ck);
}

static void ns_list_parse(struct nvme_ctrlr *c, json_t *arr)
{
	size_t i, n = json_array_size(arr);
	json_t *v;

	free(c->ns);
	c->ns = calloc(n ? n : 1, sizeof(*c->ns));
	if (!c->ns)
		abort();
	c->nns = 0;
	json_array_foreach(arr, i, v)
	{
		struct nvme_ns_data *d = &c->ns[c->nns++];

		d->nsid = (uint32_t)json_integer_value(json_object_get(v, "nsid"));
		snprintf(d->uuid, sizeof(d->uuid), "%s",
			 json_string_value(json_object_get(v, "uuid"))
				 ? json_string_value(json_object_get(v, "uuid"))
				 : "");
		d->block_size = (uint32_t)json_integer_value(json_object_get(v, "block_size"));
		d->num_blocks = (uint64_t)json_integer_value(json_object_get(v, "num_blocks"));
		d->md_size = (uint32_t)json_integer_value(json_object_get(v, "md_size"));
	}
}

static json_t *ns_wire(json_t *arr, uint32_t nsid)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) if ((uint32_t)json_integer_value(
						  json_object_get(v, "nsid")) == nsid) return v;
	return NULL;
}

/* The target's namespaces changed (resize): follow them on our bdevs. */
static void ns_changed(struct sim *s, struct nvme_ctrlr *c, json_t *arr)
{
	struct nvme_bdev_ctrlr *n = c->nbdev_ctrlr;

	ns_list_parse(c, arr);
	if (!n)
		return;
	for (struct nvme_bdev *nb = n->bdevs, *next; nb; nb = next) {
		bool served = false;

		next = nb->next;
		for (struct nvme_ctrlr *o = n->ctrlrs; o; o = o->next)
			served |= nvme_path_ns(o, nb->nsid) != NULL;
		if (!served)
			sim_bdev_unregister(s, nb->bdev);
	}
	for (size_t i = 0; i < c->nns; i++) {
		struct nvme_bdev *nb = nvme_nbdev_find(n, c->ns[i].nsid);

		if (nb)
			sim_bdev_resize(s, nb->bdev, c->ns[i].num_blocks);
		else
			nvme_nbdev_create(s, n, &c->ns[i], ns_wire(arr, c->ns[i].nsid));
	}
}

static void init_done_later(struct sim *s, void *ctx)
{
	struct nvme_ctrlr *c = ctx;

	c->timer = NULL;
	connect_done(s, c, 0);
}

static void host_on_msg(struct sim *s, struct fab_link *l, json_t *msg, void *ctx)
{
	struct nvme_ctrlr *c = ctx;
	const char *op = json_string_value(json_object_get(msg, "op"));

	if (!op)
		return;
	if (strcmp(op, "connected") == 0 && c->state != NVME_CTRLR_ENABLED) {
		c->cntlid = (uint16_t)json_integer_value(json_object_get(msg, "cntlid"));
		free(c->serial);
		free(c->model);
		free(c->fw);
		c->serial = util_xstrdup(json_string_value(json_object_get(msg, "serial_number")));
		c->model = util_xstrdup(json_string_value(json_object_get(msg, "model_number")));
		c->fw = util_xstrdup(json_string_value(json_object_get(msg, "firmware_revision")));
		if (c->nbdev_ctrlr) {
			ns_changed(s, c, json_object_get(msg, "namespaces"));
			for (size_t i = 0; i < c->nns; i++) {
				struct nvme_bdev *nb =
					nvme_nbdev_find(c->nbdev_ctrlr, c->ns[i].nsid);
				json_t *ns =
					ns_wire(json_object_get(msg, "namespaces"), c->ns[i].nsid);

				if (nb)
					nvme_ns_from_wire(nb->bdev, ns);
			}
		} else {
			ns_list_parse(c, json_object_get(msg, "namespaces"));
			json_decref(c->wire_ns);
			/* kept for attach_finish: the superblocks of the namespaces */
			c->wire_ns = json_incref(json_object_get(msg, "namespaces"));
		}
		if (c->pending) {
			connect_done(s, c, 0);
			return;
		}
		if (c->timer)
			sim_timer_cancel(s, c->timer);
		c->timer = sim_timer_add(s, NVME_CTRLR_INIT_MS, init_done_later, c);
	} else if (strcmp(op, "rejected") == 0) {
		fab_link_close(s, l);
		c->link = NULL;
		connect_done(s, c, -EIO);
	} else if (strcmp(op, "ns_change") == 0 && c->state == NVME_CTRLR_ENABLED) {
		ns_changed(s, c, json_object_get(msg, "namespaces"));
	}
}

static void host_on_close(struct sim *s, struct fab_link *l, void *ctx)
{
	struct nvme_ctrlr *c = ctx;

	c->link = NULL;
	if (c->state == NVME_CTRLR_ENABLED)
		path_failed(s, c);
	else
		connect_done(s, c, -EIO);
}

static void connect_timeout(struct sim *s, void *ctx)
{
	struct nvme_ctrlr *c = ctx;

	c->timer = NULL;
	fab_link_close(s, c->link);
	c->link = NULL;
	connect_done(s, c, -EIO);
}

static void connect_fail_later(struct sim *s, void *ctx)
{
	struct nvme_ctrlr *c = ctx;

	c->timer = NULL;
	connect_done(s, c, -EIO);
}

static void pcie_connect_later(struct sim *s, void *ctx)
{
	struct nvme_ctrlr *c = ctx;
	struct nvme_pcie_drive *d = drive_find(s, c->pcie_bdf);
	json_t *arr;

	c->timer = NULL;
	if (!d) {
		connect_done(s, c, -EIO);
		return;
	}
	c->drive = d;
	c->cntlid = d->next_cntlid++;
	free(c->serial);
	free(c->model);
	free(c->fw);
	c->serial = util_xstrdup(d->serial);
	c->model = util_xstrdup(d->model);
	c->fw = util_xstrdup("25.09");
	arr = json_pack("[{s:I,s:s,s:i,s:I,s:i}]", "nsid", (json_int_t)d->nsid, "uuid", d->uuid,
			"block_size", (int)d->block_size, "num_blocks", (json_int_t)d->num_blocks,
			"md_size", 0);
	if (d->sb) {
		char *hex = fab_hex_encode(d->sb, d->sb_len);

		json_object_set_new(json_array_get(arr, 0), "sb", json_string(hex));
		free(hex);
	}
	if (d->blocks)
		json_object_set_new(json_array_get(arr, 0), "blocks", json_deep_copy(d->blocks));
	ns_list_parse(c, arr);
	if (c->nbdev_ctrlr) {
		json_decref(arr);
	} else {
		json_decref(c->wire_ns);
		c->wire_ns = arr;
	}
	connect_done(s, c, 0);
}

/*
 * Connect (or reconnect) a path. The answer arrives later through host_on_msg or a
 * timer. A refused connection fails at once for a reconnect (SPDK's reset fails within
 * the poller that started it) and on the next loop pass for an attach, whose answer
 * is always deferred.
 */
static void path_connect(struct sim *s, struct nvme_ctrlr *c)
{
	int fd;

	if (c->pcie_bdf) {
		c->timer = sim_timer_add(s, 0, pcie_connect_later, c);
		return;
	}
	if (nvme_path_blocked(s, c->trid.traddr, c->trid.trsvcid))
		fd = -ENETUNREACH;
	else
		fd = nvme_fabric_connect(c);
	if (fd < 0) {
		if (c->pending)
			c->timer = sim_timer_add(s, 0, connect_fail_later, c);
		else
			connect_done(s, c, -EIO);
		return;
	}
	c->link = fab_link_new(s, fd, host_on_msg, host_on_close, c);
	if (!c->link) {
		c->timer = sim_timer_add(s, 0, connect_fail_later, c);
		return;
	}
	send_connect(c);
	c->timer = sim_timer_add(s, NVME_CONNECT_TIMEOUT_MS, connect_timeout, c);
}

/* ---- attach ------------------------------------------------------------------------------ */

static void attach_reply(struct sim *s, struct nvme_ctrlr *c)
{
	struct sim_req *req = c->pending;
	json_t *names = json_array();

	c->pending = NULL;
	for (size_t i = 0; i < c->nns; i++) {
		struct nvme_bdev *nb = nvme_nbdev_find(c->nbdev_ctrlr, c->ns[i].nsid);

		if (nb)
			json_array_append_new(names, json_string(nb->bdev->name));
	}
	sim_reply(req, names);
}

/* The first connect succeeded: link the path under its name and create the bdevs. */
static int attach_finish(struct sim *s, struct nvme_ctrlr *c)
{
	struct nvme_bdev_ctrlr *n = nvme_bdev_ctrlr_find(s, c->attach_name), **tail;
	json_t *wire = c->wire_ns;
	struct nvme_ctrlr **ct;
	bool created = false;

	c->wire_ns = NULL;
	if (n && c->multipath == NVME_MP_FAILOVER && n->ctrlrs->multipath == NVME_MP_FAILOVER) {
		/* bdev_nvme_add_secondary_trid: the probed controller only lends its trid */
		struct nvme_ctrlr *first = n->ctrlrs;

		json_decref(wire);
		for (size_t i = 0; i < c->nns; i++)
			if (!nvme_path_ns(first, c->ns[i].nsid))
				return -EINVAL;
		if (!first->alternate_trids)
			first->alternate_trids = json_array();
		json_array_append_new(first->alternate_trids, nvme_trid_json(&c->trid));
		return 1;
	}
	if (n) {
		/* bdev_nvme_check_multipath: every controller of a name has its own cntlid */
		for (struct nvme_ctrlr *o = n->ctrlrs; o; o = o->next) {
			if (o->cntlid == c->cntlid || o->multipath != NVME_MP_MULTIPATH) {
				json_decref(wire);
				return -EINVAL;
			}
		}
	} else {
		n = calloc(1, sizeof(*n));
		if (!n)
			abort();
		n->name = util_xstrdup(c->attach_name);
		n->selector = "round_robin";
		n->rr_min_io = 1;
		for (tail = &s->nvme->ctrlrs; *tail; tail = &(*tail)->next)
			;
		*tail = n;
		created = true;
	}
	c->nbdev_ctrlr = n;
	for (ct = &n->ctrlrs; *ct; ct = &(*ct)->next)
		;
	*ct = c;
	for (size_t i = 0; i < c->nns; i++) {
		struct nvme_bdev *nb = nvme_nbdev_find(n, c->ns[i].nsid);
		int rc;

		if (nb) {
			sim_channel_clear_io(s, nb->bdev);
			continue;
		}
		rc = nvme_nbdev_create(s, n, &c->ns[i], ns_wire(wire, c->ns[i].nsid));
		if (rc < 0 && created && !n->bdevs) {
			json_decref(wire);
			*ct = NULL;
			c->nbdev_ctrlr = NULL;
			nbdev_ctrlr_free(s, n);
			return rc;
		}
	}
	json_decref(wire);
	return 0;
}

void nvme_attach_start(struct sim *s, struct nvme_ctrlr *c, const char *name, struct sim_req *req)
{
	c->attach_name = util_xstrdup(name);
	c->pending = req;
	c->state = NVME_CTRLR_CONNECTING;
	path_connect(s, c);
}

/* ---- reset and reconnect ---------------------------------------------------------------- */

bool sim_nvme_reset_in_progress(struct sim *s)
{
	if (s->reset_window_until && sim_now_ms() < s->reset_window_until)
		return true;
	for (struct nvme_bdev_ctrlr *n = s->nvme ? s->nvme->ctrlrs : NULL; n; n = n->next)
		for (struct nvme_ctrlr *c = n->ctrlrs; c; c = c->next)
			if (c->state == NVME_CTRLR_RESETTING)
				return true;
	return false;
}

static void reset_next(struct sim *s, struct nvme_reset *r)
{
	while (r->next < r->n) {
		struct nvme_ctrlr *c = r->paths[r->next++];

		if (!c)
			continue;
		/* the controller is disconnected and connected again: a new cntlid */
		fab_link_close(s, c->link);
		c->link = NULL;
		if (c->timer) {
			sim_timer_cancel(s, c->timer);
			c->timer = NULL;
		}
		c->state = NVME_CTRLR_RESETTING;
		c->reset = r;
		path_connect(s, c);
		return;
	}
	if (r->rc < 0)
		sim_reply_errno(r->req, -r->rc);
	else
		sim_reply(r->req, json_true());
	free(r->paths);
	free(r);
}

static void reset_continue(struct sim *s, void *ctx)
{
	reset_next(s, ctx);
}

void nvme_reset_start(struct sim *s, struct nvme_ctrlr **paths, size_t n, struct sim_req *req)
{
	struct nvme_reset *r = calloc(1, sizeof(*r));

	if (!r)
		abort();
	r->req = req;
	r->paths = paths;
	r->n = n;
	reset_next(s, r);
}

/*
 * bdev_nvme_disable_ctrlr: a delayed reconnect is cancelled, a connected path is disconnected;
 * either way the path stays listed as "disabled" and nothing retries it until
 * bdev_nvme_enable_controller. Its namespace bdevs stay (another path or an enable brings
 * them back); their I/O on this path fails.
 */
int nvme_ctrlr_disable(struct sim *s, struct nvme_ctrlr *c)
{
	if (c->state == NVME_CTRLR_DELETING)
		return -ENXIO;
	if (c->state == NVME_CTRLR_RESETTING || c->state == NVME_CTRLR_CONNECTING)
		return -EBUSY;
	if (c->state == NVME_CTRLR_DISABLED)
		return -EALREADY;
	if (c->timer) {
		sim_timer_cancel(s, c->timer);
		c->timer = NULL;
	}
	if (c->link) {
		fab_link_close(s, c->link);
		c->link = NULL;
	}
	if (c->nbdev_ctrlr)
		for (struct nvme_bdev *nb = c->nbdev_ctrlr->bdevs; nb; nb = nb->next)
			sim_channel_clear_io(s, nb->bdev);
	c->state = NVME_CTRLR_DISABLED;
	return 0;
}

static void reconnect_attempt(struct sim *s, void *ctx)
{
	struct nvme_ctrlr *c = ctx;

	c->timer = NULL;
	c->state = NVME_CTRLR_RESETTING;
	path_connect(s, c);
}

/* A reconnect attempt failed: wait and retry, or give up after the loss timeout. */
static void reconnect_failed(struct sim *s, struct nvme_ctrlr *c)
{
	uint64_t elapsed = sim_now_ms() - c->lost_at_ms;

	/* bdev_nvme_check_op_after_reset: no delay configured, nothing more is tried */
	if (c->reconnect_delay_sec == 0) {
		c->state = NVME_CTRLR_FAILED;
		return;
	}
	if (c->ctrlr_loss_timeout_sec > 0 &&
	    elapsed >= (uint64_t)c->ctrlr_loss_timeout_sec * 1000) {
		nvme_ctrlr_delete(s, c);
		return;
	}
	c->state = NVME_CTRLR_RECONNECT_DELAYED;
	c->timer = sim_timer_add(s, (uint64_t)c->reconnect_delay_sec * 1000, reconnect_attempt, c);
}

/* The connection of an enabled path broke: SPDK resets the controller at once. */
static void path_failed(struct sim *s, struct nvme_ctrlr *c)
{
	struct nvme_bdev_ctrlr *n = c->nbdev_ctrlr;

	c->lost_at_ms = sim_now_ms();
	for (struct nvme_bdev *nb = n->bdevs; nb; nb = nb->next)
		sim_channel_clear_io(s, nb->bdev);
	c->state = NVME_CTRLR_RESETTING;
	path_connect(s, c);
}

static void connect_done(struct sim *s, struct nvme_ctrlr *c, int rc)
{
	struct nvme_reset *r = c->reset;

	if (c->timer) {
		sim_timer_cancel(s, c->timer);
		c->timer = NULL;
	}
	if (c->hot_insert) {
		/* attach_cb of the hotplug monitor: nobody waits for an answer */
		struct nvme_pcie_drive *d = drive_find(s, c->pcie_bdf);

		c->hot_insert = false;
		if (d)
			d->probing = false;
		if (rc == 0)
			rc = attach_finish(s, c);
		if (rc != 0) {
			nvme_ctrlr_free(s, c);
			return;
		}
		c->state = NVME_CTRLR_ENABLED;
		free(c->attach_name);
		c->attach_name = NULL;
		return;
	}
	if (c->pending) {
		struct sim_req *req = c->pending;

		if (rc == 0)
			rc = attach_finish(s, c);
		if (rc < 0) {
			c->pending = NULL;
			nvme_ctrlr_free(s, c);
			sim_reply_errno(req, -rc);
			return;
		}
		if (rc == 1) {
			/* a failover trid: answer with the bdevs of the controller it joined */
			struct nvme_bdev_ctrlr *n = nvme_bdev_ctrlr_find(s, c->attach_name);
			json_t *names = json_array();

			for (struct nvme_bdev *nb = n->bdevs; nb; nb = nb->next)
				json_array_append_new(names, json_string(nb->bdev->name));
			c->pending = NULL;
			nvme_ctrlr_free(s, c);
			sim_reply(req, names);
			return;
		}
		c->state = NVME_CTRLR_ENABLED;
		free(c->attach_name);
		c->attach_name = NULL;
		attach_reply(s, c);
		return;
	}
	c->reset = NULL;
	if (rc == 0) {
		c->state = NVME_CTRLR_ENABLED;
		c->lost_at_ms = 0;
	} else {
		if (!c->lost_at_ms)
			c->lost_at_ms = sim_now_ms();
		if (r)
			r->rc = rc;
		reconnect_failed(s, c);
	}
	if (r)
		reset_next(s, r);
}

void nvme_hotplug_skip(struct sim *s, const char *bdf, bool skip)
{
	struct sim_nvme_state *st = s->nvme;
	size_t i;
	json_t *v;

	json_array_foreach(st->hotplug_skip, i, v)
	{
		if (strcasecmp(json_string_value(v), bdf) == 0) {
			if (!skip)
				json_array_remove(st->hotplug_skip, i);
			return;
		}
	}
	if (skip)
		json_array_append_new(st->hotplug_skip, json_string(bdf));
}

static bool drive_in_use(struct sim *s, const struct nvme_pcie_drive *d)
{
	size_t i;
	json_t *v;

	json_array_foreach(s->nvme->hotplug_skip, i,
			   v) if (strcasecmp(json_string_value(v), d->bdf) == 0) return true;
	for (struct nvme_bdev_ctrlr *n = s->nvme->ctrlrs; n; n = n->next)
		for (struct nvme_ctrlr *c = n->ctrlrs; c; c = c->next)
			if (c->pcie_bdf && strcasecmp(c->pcie_bdf, d->bdf) == 0)
				return true;
	return d->probing;
}

void nvme_hotplug_scan(struct sim *s)
{
	struct sim_nvme_state *st = s->nvme;

	if (!st->hotplug_enabled)
		return;
	for (struct nvme_pcie_drive *d = st->drives; d; d = d->next) {
		struct nvme_ctrlr *c;
		char name[32];

		if (drive_in_use(s, d))
			continue;
		c = calloc(1, sizeof(*c));
		if (!c)
			abort();
		snprintf(c->trid.trtype, sizeof(c->trid.trtype), "PCIe");
		c->trid.traddr = util_xstrdup(d->bdf);
		c->trid.trsvcid = util_xstrdup("");
		c->trid.subnqn = util_xstrdup("");
		c->hostnqn = util_xstrdup(
			"nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000000");
		c->hostaddr = util_xstrdup("");
		c->hostsvcid = util_xstrdup("");
		c->ctrlr_loss_timeout_sec = (int32_t)json_integer_value(
			json_object_get(st->opts, "ctrlr_loss_timeout_sec"));
		c->reconnect_delay_sec = (uint32_t)json_integer_value(
			json_object_get(st->opts, "reconnect_delay_sec"));
		c->fast_io_fail_timeout_sec = (uint32_t)json_integer_value(
			json_object_get(st->opts, "fast_io_fail_timeout_sec"));
		c->multipath = NVME_MP_MULTIPATH;
		c->pcie_bdf = util_xstrdup(d->bdf);
		c->hot_insert = true;
		d->probing = true;
		snprintf(name, sizeof(name), "HotInNvme%d", st->hot_insert_index++);
		nvme_attach_start(s, c, name, NULL);
	}
}

void nvme_drive_removed(struct sim *s, struct nvme_pcie_drive *d)
{
	for (struct nvme_bdev_ctrlr *n = s->nvme->ctrlrs, *nn; n; n = nn) {
		nn = n->next;
		for (struct nvme_ctrlr *c = n->ctrlrs, *cn; c; c = cn) {
			cn = c->next;
			if (c->drive != d)
				continue;
			c->drive = NULL;
			/* hot removal: the controller is gone, no reconnect */
			nvme_ctrlr_delete(s, c);
		}
	}
}

void nvme_links_poll(struct sim *s)
{
	for (struct nvme_bdev_ctrlr *n = s->nvme->ctrlrs, *nn; n; n = nn) {
		nn = n->next;
		for (struct nvme_ctrlr *c = n->ctrlrs, *cn; c; c = cn) {
			cn = c->next;
			if (c->link)
				fab_link_poll(s, c->link);
		}
	}
}

void nvme_partition_apply(struct sim *s)
{
	for (struct nvme_bdev_ctrlr *n = s->nvme->ctrlrs, *nn; n; n = nn) {
		nn = n->next;
		for (struct nvme_ctrlr *c = n->ctrlrs, *cn; c; c = cn) {
			cn = c->next;
			if (!c->link || !nvme_path_blocked(s, c->trid.traddr, c->trid.trsvcid))
				continue;
			fab_link_close(s, c->link);
			c->link = NULL;
			if (c->state == NVME_CTRLR_ENABLED)
				path_failed(s, c);
			else
				connect_done(s, c, -EIO);
		}
	}
}

/* ---- module --------------------------------------------------------------------------------- */

static void nvme_bdev_removed(struct sim *s, struct sim_bdev *b, void *ctx)
{
	sim_channel_forget_bdev(s, b);
}

static const struct sim_bdev_listener nvme_listener = {.removed = nvme_bdev_removed};

static void nvme_init(struct sim *s)
{
	s->nvme = calloc(1, sizeof(*s->nvme));
	if (!s->nvme)
		abort();
	s->nvme->opts = nvme_default_opts();
	s->nvme->hotplug_period_us = 100000;
	s->nvme->hotplug_skip = json_array();
	sim_bdev_listen(s, &nvme_listener);
}

static void nvme_fini(struct sim *s)
{
	struct sim_nvme_state *st = s->nvme;

	if (!st)
		return;
	while (st->ctrlrs) {
		struct nvme_bdev_ctrlr *n = st->ctrlrs;

		/* the bdev's destruct unlinks and frees its nvme_bdev */
		while (n->bdevs)
			sim_bdev_unregister(s, n->bdevs->bdev);
		while (n->ctrlrs) {
			struct nvme_ctrlr *c = n->ctrlrs;

			n->ctrlrs = c->next;
			nvme_ctrlr_free(s, c);
		}
		nbdev_ctrlr_free(s, n);
	}
	while (st->drives) {
		struct nvme_pcie_drive *d = st->drives;

		st->drives = d->next;
		free(d->bdf);
		free(d->serial);
		free(d->model);
		free(d->sb);
		json_decref(d->blocks);
		free(d);
	}
	while (st->blocked) {
		struct nvme_blocked *b = st->blocked;

		st->blocked = b->next;
		free(b->traddr);
		free(b->trsvcid);
		free(b);
	}
	sim_bdev_unlisten(s, &nvme_listener);
	sim_channel_free_all(s);
	json_decref(st->opts);
	json_decref(st->hotplug_skip);
	free(st);
	s->nvme = NULL;
}

const struct sim_module sim_module_nvme = {
	.name = "nvme",
	.methods = sim_nvme_methods,
	.control = sim_nvme_control,
	.init = nvme_init,
	.fini = nvme_fini,
	.config = sim_nvme_config,
};
