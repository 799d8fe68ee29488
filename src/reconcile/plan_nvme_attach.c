/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NVMe attach (the seed's startNvmeAttachLoop): every replica of a live volume, pending ones
 * included so a resize finds them connected, has its path under its deterministic controller
 * name. A path that SPDK still retries (reconnect_is_delayed) is left to SPDK; a controller that
 * vanished after ctrlr_loss_timeout is attached again, since SPDK never does that by itself.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "reconcile/plan_internal.h"

static const char *trtype_str(enum transport_type t)
{
	switch (t) {
	case TRANSPORT_RDMA:
		return "RDMA";
	case TRANSPORT_TCP:
		return "TCP";
	case TRANSPORT_PCIE:
		return "PCIe";
	}
	return "?";
}

static bool path_matches(const struct obs_path *p, const struct replica *r)
{
	char port[8];

	if (r->transport == TRANSPORT_PCIE)
		return p->transport == TRANSPORT_PCIE && strcmp(p->traddr, r->addr) == 0;
	snprintf(port, sizeof(port), "%u", (unsigned)r->port);
	return p->transport == r->transport && strcmp(p->traddr, r->addr) == 0 &&
	       strcmp(p->trsvcid, port) == 0 && strcmp(p->subnqn, r->nqn) == 0;
}

/* Another controller already holds the replica's path: attaching would fail with -17. */
static const struct obs_controller *path_owner(const struct observed *o, const struct replica *r)
{
	for (size_t i = 0; i < o->n_ctrlrs; i++)
		for (size_t j = 0; j < o->ctrlrs[i].n_paths; j++)
			if (path_matches(&o->ctrlrs[i].paths[j], r))
				return &o->ctrlrs[i];
	return NULL;
}

/*
 * Source address for a fabric attach, from RDMA_IPS (seed: pickHostAddr and
 * ensureHostAddrInterfaceUp). The first address of the target's family whose interface is up
 * wins; if none is usable, the status names the first candidate and what is wrong with it.
 */
static int pick_hostaddr(struct plan_ctx *ctx, struct vol_plan *vp, const struct replica *r,
			 char *out, size_t size)
{
	const struct host_facts *hf = ctx->hf;
	int family = strchr(r->addr, ':') ? AF_INET6 : AF_INET;
	const struct host_src_addr *first = NULL;

	out[0] = '\0';
	if (!hf || hf->n_src_addrs == 0) {
		if (r->transport == TRANSPORT_TCP)
			return 0; /* TCP may let the kernel choose */
		plan_status(ctx, vp, 0,
			    "volume %" PRIu64 ": no RDMA source address for target %s: RDMA_IPS is "
			    "empty",
			    vp->v->id, r->addr);
		return -1;
	}
	for (size_t i = 0; i < hf->n_src_addrs; i++) {
		const struct host_src_addr *s = &hf->src_addrs[i];

		if (s->family != family)
			continue;
		if (!first)
			first = s;
		if (s->ifname[0] && s->if_up) {
			snprintf(out, size, "%s", s->addr);
			return 0;
		}
	}
	if (!first)
		plan_status(ctx, vp, 0,
			    "volume %" PRIu64 ": RDMA_IPS has no %s address for target %s",
			    vp->v->id, family == AF_INET ? "IPv4" : "IPv6", r->addr);
	else if (!first->ifname[0])
		plan_status(ctx, vp, 0,
			    "volume %" PRIu64 ": source address %s (RDMA_IPS) is not configured on "
			    "any interface",
			    vp->v->id, first->addr);
	else
		plan_status(ctx, vp, 0,
			    "volume %" PRIu64 ": interface %s carrying source address %s is down",
			    vp->v->id, first->ifname, first->addr);
	return -1;
}

/* The reconciler never rebinds drivers: a device not owned by a userspace driver stops here. */
static int check_pcie(struct plan_ctx *ctx, struct vol_plan *vp, const struct replica *r)
{
	const struct host_pci_dev *dev = NULL;
	bool local = false;

	for (size_t i = 0; i < ctx->d->n_devices; i++)
		if (strcmp(ctx->d->devices[i].bdf, r->addr) == 0)
			local = true;
	if (!local) {
		plan_status(ctx, vp, 0,
			    "volume %" PRIu64 ": PCI device %s is not a local device of this host",
			    vp->v->id, r->addr);
		return -1;
	}
	for (size_t i = 0; ctx->hf && i < ctx->hf->n_pci; i++)
		if (strcmp(ctx->hf->pci[i].bdf, r->addr) == 0)
			dev = &ctx->hf->pci[i];
	if (!dev) {
		plan_status(ctx, vp, 0, "volume %" PRIu64 ": PCI device %s not found under sysfs",
			    vp->v->id, r->addr);
		return -1;
	}
	if (strcmp(dev->driver, "vfio-pci") != 0 && strcmp(dev->driver, "uio_pci_generic") != 0 &&
	    strcmp(dev->driver, "igb_uio") != 0) {
		plan_status(ctx, vp, 0,
			    "volume %" PRIu64 ": PCI device %s is bound to %s, not to vfio-pci or "
			    "uio%s%s; an operator must rebind it",
			    vp->v->id, r->addr, dev->driver[0] ? dev->driver : "no driver",
			    dev->has_mount ? "; it has a mounted namespace: " : "",
			    dev->has_mount ? dev->mount_example : "");
		return -1;
	}
	/* bound to a userspace driver, yet the kernel may still use it: never hand it to SPDK */
	if (dev->has_mount || dev->has_holder) {
		plan_status(ctx, vp, 0,
			    "volume %" PRIu64 ": PCI device %s is still in use by the kernel (%s); "
			    "not attached",
			    vp->v->id, r->addr,
			    dev->has_mount ? dev->mount_example : dev->holder_example);
		return -1;
	}
	if (strcmp(dev->driver, "vfio-pci") != 0 && !(ctx->hf && ctx->hf->iommu_enabled) &&
	    !ctx->d->config.allow_unsafe_noiommu) {
		plan_status(ctx, vp, 0,
			    "volume %" PRIu64 ": PCI device %s is bound to %s on a host without an "
			    "IOMMU: no DMA isolation; not attached unless the operator allows it "
			    "(--allow-unsafe-noiommu)",
			    vp->v->id, r->addr, dev->driver);
		return -1;
	}
	return 0;
}

/*
 * Check the replica's DH-HMAC-CHAP key: *add is set when SPDK lacks it. Each path chain that
 * needs a missing key adds it (a second add of the same key answers "exists", which is ours).
 */
static int ensure_key(struct plan_ctx *ctx, struct vol_plan *vp, const struct replica *r,
		      char *keyname, size_t size, bool *add)
{
	const struct obs_key *k;

	keyname[0] = '\0';
	*add = false;
	if (!r->key_name[0] || r->transport == TRANSPORT_PCIE)
		return 0;
	if (names_key(r->key_name, keyname, size) != 0) {
		plan_status(ctx, vp, 0,
			    "volume %" PRIu64 ": key name '%s' may only contain letters, digits, "
			    "'_', '-' and '.'",
			    vp->v->id, r->key_name);
		return -1;
	}
	k = obs_key_find(ctx->o, keyname);
	if (k && strcmp(k->path, r->key_path) != 0 && !k->removed) {
		plan_conflict(ctx, vp, keyname, "keyring key %s exists with file %s, wanted %s",
			      keyname, k->path, r->key_path);
		return -1;
	}
	if (k && k->removed) {
		plan_status(ctx, vp, 0,
			    "volume %" PRIu64 ": keyring key %s is still being removed by SPDK",
			    vp->v->id, keyname);
		return -1;
	}
	*add = !k;
	return 0;
}

static void fill_attach(struct plan_ctx *ctx, struct action *a, const char *ctrlr,
			const struct replica *r, const char *hostaddr, const char *key)
{
	const struct plan_config *c = &ctx->d->config;
	struct action_path *p = &a->path;

	plan_copy(a->object, sizeof(a->object), ctrlr);
	plan_copy(p->trtype, sizeof(p->trtype), trtype_str(r->transport));
	plan_copy(p->traddr, sizeof(p->traddr), r->addr);
	p->reconnect_delay_s = c->reconnect_delay_s;
	p->ctrlr_loss_s = c->ctrlr_loss_s;
	p->fast_io_fail_s = c->fast_io_fail_s;
	if (r->transport == TRANSPORT_PCIE)
		return; /* a local function: no subsystem, no host identity, never multipath */
	snprintf(p->trsvcid, sizeof(p->trsvcid), "%u", (unsigned)r->port);
	plan_copy(p->adrfam, sizeof(p->adrfam), strchr(r->addr, ':') ? "IPv6" : "IPv4");
	plan_copy(p->subnqn, sizeof(p->subnqn), r->nqn);
	plan_copy(p->hostnqn, sizeof(p->hostnqn), c->hostnqn);
	plan_copy(p->hostaddr, sizeof(p->hostaddr), hostaddr);
	plan_copy(p->dhchap_key, sizeof(p->dhchap_key), key);
	p->multipath = true;
}

/* Paths of our controller that no replica wants any more; removed once the wanted one works. */
static void detach_stale_paths(struct plan_ctx *ctx, struct vol_plan *vp,
			       const struct obs_controller *c, const struct replica *r)
{
	bool wanted_up = false;

	for (size_t j = 0; j < c->n_paths; j++)
		if (path_matches(&c->paths[j], r) && c->paths[j].state == CTRLR_ENABLED)
			wanted_up = true;
	if (!wanted_up || r->transport == TRANSPORT_PCIE)
		return;
	for (size_t j = 0; j < c->n_paths; j++) {
		const struct obs_path *p = &c->paths[j];
		struct action *a;

		if (path_matches(p, r))
			continue;
		a = plan_emit(ctx, vp, ACTION_DETACH_PATH);
		if (!a)
			return;
		plan_copy(a->object, sizeof(a->object), c->name);
		plan_copy(a->path.trtype, sizeof(a->path.trtype), trtype_str(p->transport));
		plan_copy(a->path.traddr, sizeof(a->path.traddr), p->traddr);
		plan_copy(a->path.trsvcid, sizeof(a->path.trsvcid), p->trsvcid);
		plan_copy(a->path.subnqn, sizeof(a->path.subnqn), p->subnqn);
	}
}

/*
 * Design invariant 5 after an SPDK restart: a superblock raid assembles from whichever member
 * appears first, and a stale member first leaves it configuring on an old record (or, with the
 * current member away, on stale data). So a member that missed writes is attached only once the
 * raid is online again from a current one; SPDK then rebuilds it. Holding it back while the
 * current member is away keeps the VM without a disk rather than on old data: the status says so.
 */
static bool stale_held_back(struct plan_ctx *ctx, struct vol_plan *vp, size_t i)
{
	const struct volume *v = vp->v;
	const struct replica *r = &v->replicas[i];
	const struct obs_raid *raid;
	int s = (int)r->slot, o = 1 - s;

	if (r->pending || r->in_sync || !v->raid_created || vp->member[s] != (int)i ||
	    vp->member[o] < 0 || !v->replicas[vp->member[o]].in_sync)
		return false;
	raid = obs_raid_find(ctx->o, vp->raid);
	if (raid && strcmp(raid->state, "online") == 0)
		return false;
	plan_note(ctx, vp,
		  "volume %" PRIu64 ": %s (slot %d) missed writes; it is attached once %s is "
		  "assembled from %s (slot %d)",
		  v->id, vp->bdev[i], s, vp->raid, vp->bdev[vp->member[o]], o);
	return true;
}

/*
 * A replica's key and attach form a chain of their own ("path:<controller>"), apart from the
 * volume's, so a replica that is not there never holds back serving the one that is, and a
 * failing attach backs off on its own. The volume's chain waits for these chains (AWAIT_PATH)
 * only where nothing can be served without them: a raid not created yet, or one that no
 * member of which is attached (SPDK restarted).
 */
static void path_plan_init(const struct vol_plan *vp, size_t i, struct vol_plan *pp)
{
	*pp = *vp;
	pp->step = 0;
	pp->dirty = false;
	snprintf(pp->group, sizeof(pp->group), "path:%s", vp->ctrlr[i]);
}

bool plan_nvme_attach(struct plan_ctx *ctx, struct vol_plan *vp)
{
	const struct volume *v = vp->v;
	char hostaddr[MODEL_REPLICAS_MAX][MODEL_ADDR_MAX];
	char key[MODEL_REPLICAS_MAX][MODEL_NAME_MAX];
	bool need[MODEL_REPLICAS_MAX] = {false};
	bool add_key[MODEL_REPLICAS_MAX] = {false};
	bool ready = true;

	/* First pass: decide, check conflicts and host facts, add keys. */
	for (size_t i = 0; i < v->n_replicas && !vp->stopped; i++) {
		const struct replica *r = &v->replicas[i];
		const struct obs_controller *c = obs_ctrlr_find(ctx->o, vp->ctrlr[i]);
		bool have_path = false;

		for (size_t j = 0; c && j < c->n_paths; j++) {
			const struct obs_path *p = &c->paths[j];

			if (r->transport == TRANSPORT_PCIE ? strcmp(p->traddr, r->addr) != 0
							   : strcmp(p->subnqn, r->nqn) != 0) {
				plan_conflict(
					ctx, vp, c->name,
					"controller %s exists with %s %s, wanted %s for volume "
					"%" PRIu64,
					c->name,
					r->transport == TRANSPORT_PCIE ? "traddr" : "subnqn",
					r->transport == TRANSPORT_PCIE ? p->traddr : p->subnqn,
					r->transport == TRANSPORT_PCIE ? r->addr : r->nqn, v->id);
				return false;
			}
			have_path |= path_matches(p, r);
		}
		if (have_path) {
			detach_stale_paths(ctx, vp, c, r);
			if (!r->pending && !obs_bdev_find(ctx->o, vp->bdev[i]))
				ready = false; /* namespace not examined yet, or not read */
			continue;
		}
		if (stale_held_back(ctx, vp, i)) {
			ready = false;
			continue;
		}
		if (!c) {
			const struct obs_controller *owner = path_owner(ctx->o, r);

			if (owner) {
				plan_conflict(ctx, vp, owner->name,
					      "path %s %s of volume %" PRIu64
					      " is attached under controller %s, not %s",
					      r->addr, r->nqn, v->id, owner->name, vp->ctrlr[i]);
				return false;
			}
		}
		if (r->transport == TRANSPORT_PCIE) {
			if (check_pcie(ctx, vp, r) != 0)
				return false;
			hostaddr[i][0] = '\0';
		} else if (pick_hostaddr(ctx, vp, r, hostaddr[i], sizeof(hostaddr[i])) != 0) {
			return false;
		}
		if (ensure_key(ctx, vp, r, key[i], sizeof(key[i]), &add_key[i]) != 0)
			return false;
		need[i] = true;
		if (!r->pending)
			ready = false;
	}
	if (vp->stopped)
		return false;
	for (size_t i = 0; i < v->n_replicas; i++) {
		struct vol_plan pp;
		struct action *a;

		if (!need[i])
			continue;
		vp->attaching[i] = true;
		path_plan_init(vp, i, &pp);
		if (add_key[i]) {
			a = plan_emit(ctx, &pp, ACTION_ADD_KEY);
			if (a) {
				plan_copy(a->object, sizeof(a->object), key[i]);
				plan_copy(a->key.path, sizeof(a->key.path),
					  v->replicas[i].key_path);
			}
			plan_barrier(&pp);
		}
		a = plan_emit(ctx, &pp, ACTION_ATTACH_PATH);
		if (a)
			fill_attach(ctx, a, vp->ctrlr[i], &v->replicas[i], hostaddr[i], key[i]);
	}
	return ready;
}
