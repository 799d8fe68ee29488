/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "fixture.h"

void fx_copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void sync_views(struct fx *f)
{
	f->d.mappings = f->maps;
	f->d.n_mappings = f->nm;
	f->d.volumes = f->vols;
	f->d.n_volumes = f->nv;
	f->d.devices = f->devs;
	f->d.n_devices = f->nd;
	f->o.ctrlrs = f->ctrls;
	f->o.n_ctrlrs = f->nc;
	f->o.bdevs = f->bdevs;
	f->o.n_bdevs = f->nb;
	f->o.raids = f->raids;
	f->o.n_raids = f->nr;
	f->o.vhosts = f->vhosts;
	f->o.n_vhosts = f->nvh;
	f->o.keys = f->keys;
	f->o.n_keys = f->nk;
	f->o.first_seen = f->seen;
	f->o.n_first_seen = f->ns;
	f->hf.src_addrs = f->addrs;
	f->hf.pci = f->pci;
}

void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	plan_config_defaults(&f->d.config);
	fx_copy(f->d.config.hostnqn, sizeof(f->d.config.hostnqn),
		"nqn.2024-01.io.diskengine:host1");
	fx_copy(f->d.config.vhost_dir, sizeof(f->d.config.vhost_dir), "/var/tmp/vhost");
	fx_copy(f->d.config.cpumask, sizeof(f->d.config.cpumask), "0x2");
	fx_copy(f->addrs[0].addr, sizeof(f->addrs[0].addr), "10.0.0.1");
	f->addrs[0].family = AF_INET;
	fx_copy(f->addrs[0].ifname, sizeof(f->addrs[0].ifname), "ib0");
	f->addrs[0].if_up = true;
	f->hf.n_src_addrs = 1;
	f->hf.iommu_enabled = true;
	f->o.now_s = 100000;
	f->o.bdevs_listed = true;
	sync_views(f);
}

struct volume *fx_volume(struct fx *f, uint64_t id)
{
	struct volume *v = &f->vols[f->nv++];

	memset(v, 0, sizeof(*v));
	v->id = id;
	v->size_bytes = 16ULL << 20;
	v->block_size = 512;
	v->n_replicas = 2;
	for (unsigned s = 0; s < 2; s++) {
		struct replica *r = &v->replicas[s];

		r->slot = s;
		r->transport = TRANSPORT_RDMA;
		snprintf(r->addr, sizeof(r->addr), "10.0.1.%u", s + 1);
		r->port = 4420;
		snprintf(r->nqn, sizeof(r->nqn), "nqn.2024-01.io.test:vol%llu-%u",
			 (unsigned long long)id, s);
		r->in_sync = true;
		r->generation = 1;
	}
	sync_views(f);
	return v;
}

struct mapping *fx_mapping(struct fx *f, uint64_t id, uint64_t volume_id, enum mapping_state s)
{
	struct mapping *m = &f->maps[f->nm++];

	memset(m, 0, sizeof(*m));
	m->id = id;
	m->volume_id = volume_id;
	m->state = s;
	snprintf(m->vm, sizeof(m->vm), "vm-%llu", (unsigned long long)id);
	sync_views(f);
	return m;
}

void fx_ctrlr_name(const struct volume *v, size_t i, char *out, size_t size)
{
	assert_int_equal(names_ctrlr(&v->replicas[i], out, size), 0);
}

void fx_bdev_name(const struct volume *v, size_t i, char *out, size_t size)
{
	char c[MODEL_NAME_MAX];

	fx_ctrlr_name(v, i, c, sizeof(c));
	names_ns_bdev(c, v->replicas[i].nsid, out, size);
}

struct obs_controller *fx_obs_ctrlr(struct fx *f, const char *name, enum transport_type t,
				    const char *traddr, const char *trsvcid, const char *subnqn)
{
	struct obs_controller *c = &f->ctrls[f->nc];
	struct obs_path *p = &f->paths[f->nc][0];

	memset(c, 0, sizeof(*c));
	memset(p, 0, sizeof(*p));
	fx_copy(c->name, sizeof(c->name), name);
	p->transport = t;
	fx_copy(p->traddr, sizeof(p->traddr), traddr);
	fx_copy(p->trsvcid, sizeof(p->trsvcid), trsvcid);
	fx_copy(p->subnqn, sizeof(p->subnqn), subnqn);
	p->state = CTRLR_ENABLED;
	c->paths = p;
	c->n_paths = 1;
	f->nc++;
	sync_views(f);
	return c;
}

struct obs_bdev *fx_obs_bdev(struct fx *f, const char *name, uint64_t num_blocks)
{
	struct obs_bdev *b = &f->bdevs[f->nb++];

	memset(b, 0, sizeof(*b));
	fx_copy(b->name, sizeof(b->name), name);
	snprintf(b->uuid, sizeof(b->uuid), "00000000-0000-0000-0000-%012zu", f->nb);
	b->block_size = 512;
	b->num_blocks = num_blocks;
	sync_views(f);
	return b;
}

struct obs_bdev *fx_obs_replica(struct fx *f, const struct volume *v, size_t i)
{
	const struct replica *r = &v->replicas[i];
	char name[MODEL_NAME_MAX], bdev[MODEL_NAME_MAX], port[8];

	fx_ctrlr_name(v, i, name, sizeof(name));
	snprintf(port, sizeof(port), "%u", (unsigned)r->port);
	fx_obs_ctrlr(f, name, r->transport, r->addr, r->transport == TRANSPORT_PCIE ? "" : port,
		     r->nqn);
	names_ns_bdev(name, r->nsid, bdev, sizeof(bdev));
	return fx_obs_bdev(f, bdev, v->size_bytes / 512 + 2048);
}

void fx_obs_paths(struct fx *f, const struct volume *v)
{
	for (size_t i = 0; i < v->n_replicas; i++)
		if (!v->replicas[i].pending)
			fx_obs_replica(f, v, i);
}

struct obs_raid *fx_obs_raid(struct fx *f, const struct volume *v)
{
	struct obs_raid *r = &f->raids[f->nr];
	struct obs_bdev *b;
	unsigned n = 0;

	memset(r, 0, sizeof(*r));
	names_raid(v->id, r->name, sizeof(r->name));
	/* built by diskengine: the UUID it gives its raids */
	names_raid_uuid(v->id, r->uuid, sizeof(r->uuid));
	fx_copy(r->state, sizeof(r->state), "online");
	r->superblock = true;
	for (size_t i = 0; i < v->n_replicas; i++) {
		struct obs_raid_base *rb;

		if (v->replicas[i].pending)
			continue;
		rb = &f->rbases[f->nr][v->replicas[i].slot];
		memset(rb, 0, sizeof(*rb));
		rb->has_name = true;
		fx_bdev_name(v, i, rb->name, sizeof(rb->name));
		rb->is_configured = true;
		rb->data_offset = 2048;
		rb->data_size = v->size_bytes / 512;
		for (size_t k = 0; k < f->nb; k++)
			if (strcmp(f->bdevs[k].name, rb->name) == 0)
				f->bdevs[k].claimed = true;
		n++;
	}
	r->bases = f->rbases[f->nr];
	r->n_bases = 2;
	r->discovered = r->operational = n;
	f->nr++;
	b = fx_obs_bdev(f, r->name, v->size_bytes / 512);
	b->qos.rw_ios_per_sec = (v->qos.rw_ios_per_sec + 999) / 1000 * 1000;
	b->qos.rw_mbytes_per_sec = v->qos.rw_mbytes_per_sec;
	b->qos.r_mbytes_per_sec = v->qos.r_mbytes_per_sec;
	b->qos.w_mbytes_per_sec = v->qos.w_mbytes_per_sec;
	sync_views(f);
	return r;
}

struct obs_vhost *fx_obs_vhost(struct fx *f, uint64_t mapping_id, const char *bdev)
{
	struct obs_vhost *vh = &f->vhosts[f->nvh++];

	memset(vh, 0, sizeof(*vh));
	names_vhost(mapping_id, vh->name, sizeof(vh->name));
	if (bdev) {
		vh->has_bdev = true;
		fx_copy(vh->bdev, sizeof(vh->bdev), bdev);
	}
	sync_views(f);
	return vh;
}

void fx_seen(struct fx *f, const char *name, int64_t first_seen_s)
{
	struct obs_first_seen *s = &f->seen[f->ns++];

	fx_copy(s->name, sizeof(s->name), name);
	s->first_seen_s = first_seen_s;
	sync_views(f);
}

struct volume *fx_attached(struct fx *f, uint64_t vol_id, uint64_t mapping_id)
{
	struct volume *v = fx_volume(f, vol_id);
	char raid[MODEL_NAME_MAX];

	fx_mapping(f, mapping_id, vol_id, MAPPING_ATTACHED);
	fx_obs_paths(f, v);
	fx_obs_raid(f, v);
	names_raid(vol_id, raid, sizeof(raid));
	fx_obs_vhost(f, mapping_id, raid);
	return v;
}

const struct plan *fx_plan(struct fx *f)
{
	sync_views(f);
	if (f->built)
		plan_free(&f->p);
	assert_int_equal(plan_build(&f->d, &f->o, &f->hf, &f->p), 0);
	f->built = true;
	return &f->p;
}

void fx_done(struct fx *f)
{
	if (f->built)
		plan_free(&f->p);
	f->built = false;
}

size_t fx_count(const struct plan *p, enum action_kind k)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_actions; i++)
		n += p->actions[i].kind == k;
	return n;
}

int fx_index(const struct plan *p, enum action_kind k, const char *object)
{
	for (size_t i = 0; i < p->n_actions; i++)
		if (p->actions[i].kind == k &&
		    (!object || strcmp(p->actions[i].object, object) == 0))
			return (int)i;
	return -1;
}

const struct action *fx_find(const struct plan *p, enum action_kind k, const char *object)
{
	int i = fx_index(p, k, object);

	return i < 0 ? NULL : &p->actions[i];
}

void fx_dump(const struct plan *p)
{
	char buf[1024];

	for (size_t i = 0; i < p->n_actions; i++) {
		plan_action_describe(&p->actions[i], buf, sizeof(buf));
		fprintf(stderr, "  %zu: %s\n", i, buf);
	}
}
