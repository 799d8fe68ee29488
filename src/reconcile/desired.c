/* SPDX-License-Identifier: Apache-2.0 */
#include "reconcile/desired.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/daemon_config.h"
#include "store/store.h"

static enum mapping_state map_state(enum store_mapping_state s)
{
	switch (s) {
	case STORE_MAPPING_ASSIGNED:
		return MAPPING_ASSIGNED;
	case STORE_MAPPING_INITIALISED:
		return MAPPING_INITIALISED;
	case STORE_MAPPING_ATTACHED:
		return MAPPING_ATTACHED;
	case STORE_MAPPING_DETACH_REQUESTED:
		return MAPPING_DETACH_REQUESTED;
	case STORE_MAPPING_DETACHED:
		return MAPPING_DETACHED;
	}
	return MAPPING_ASSIGNED;
}

static int volume_from_store(const struct store_desired_mapping *dm, struct volume *v)
{
	unsigned members = 0, pending = 0;

	memset(v, 0, sizeof(*v));
	v->id = (uint64_t)dm->volume.id;
	v->size_bytes = dm->volume.size_bytes;
	v->block_size = dm->volume.block_size;
	v->qos.rw_ios_per_sec = dm->volume.qos.rw_iops;
	v->qos.rw_mbytes_per_sec = dm->volume.qos.rw_mbps;
	v->qos.r_mbytes_per_sec = dm->volume.qos.r_mbps;
	v->qos.w_mbytes_per_sec = dm->volume.qos.w_mbps;
	v->has_snapshot_source = dm->volume.snapshot_source[0] != '\0';
	v->snapshot_id = (uint64_t)dm->volume.source_volume_id;
	util_strlcpy(v->source_raid_uuid, dm->volume.source_raid_uuid, sizeof(v->source_raid_uuid));
	v->source_data_offset = dm->volume.source_data_offset;
	v->raid_recorded = dm->volume.raid_uuid[0] != '\0';
	v->ever_attached = dm->volume.ever_attached;
	v->init_wiped = dm->volume.init_wiped;
	v->resizing = dm->volume.state == STORE_VOLUME_RESIZING;
	/* The raid existed once the mapping got past ASSIGNED (it is created before INITIALISED).
	 */
	v->raid_created = dm->mapping.state != STORE_MAPPING_ASSIGNED;
	v->clean_stop = dm->volume.clean_stop;
	if (dm->n_replicas > MODEL_REPLICAS_MAX)
		return -E2BIG;
	for (size_t i = 0; i < dm->n_replicas; i++) {
		const struct store_replica *r = &dm->replicas[i];
		struct replica *m = &v->replicas[v->n_replicas++];

		m->pending = r->pending;
		/* replicas come ordered by id: members take slots 0, 1; pending ones replace them
		 */
		m->slot = r->pending ? pending++ : members++;
		m->in_sync = r->in_sync;
		m->generation = r->generation > 0 ? (uint64_t)r->generation : 0;
		if (r->transport == STORE_TRANSPORT_PCIE) {
			/* a local drive: the BDF is its identity, no port, NQN, key or multipath */
			m->transport = TRANSPORT_PCIE;
			util_strlcpy(m->addr, r->bdf, sizeof(m->addr));
			m->nsid = r->nsid;
			continue;
		}
		m->transport =
			r->transport == STORE_TRANSPORT_RDMA ? TRANSPORT_RDMA : TRANSPORT_TCP;
		util_strlcpy(m->addr, r->address, sizeof(m->addr));
		m->port = r->port;
		util_strlcpy(m->nqn, r->nqn, sizeof(m->nqn));
		if (r->auth_key_file[0]) {
			snprintf(m->key_name, sizeof(m->key_name), "key_node%lld",
				 (long long)r->node_id);
			util_strlcpy(m->key_path, r->auth_key_file, sizeof(m->key_path));
		}
	}
	return 0;
}

int desired_from_store(const struct store_desired *sd, const struct daemon_config *cfg,
		       struct desired_model *out)
{
	struct desired_model m = {0};
	size_t n = sd->n_mappings;
	int r = 0;

	m.mappings = calloc(n ? n : 1, sizeof(*m.mappings));
	m.volumes = calloc(n ? n : 1, sizeof(*m.volumes));
	m.devices = calloc(sd->n_devices ? sd->n_devices : 1, sizeof(*m.devices));
	if (!m.mappings || !m.volumes || !m.devices) {
		r = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		const struct store_desired_mapping *dm = &sd->mappings[i];
		m.mappings[i].id = (uint64_t)dm->mapping.id;
		m.mappings[i].volume_id = (uint64_t)dm->volume.id;
		util_strlcpy(m.mappings[i].vm, dm->mapping.vm_id, sizeof(m.mappings[i].vm));
		m.mappings[i].state = map_state(dm->mapping.state);
		r = volume_from_store(dm, &m.volumes[i]);
		if (r < 0)
			goto fail;
	}
	for (size_t i = 0; i < sd->n_devices; i++)
		util_strlcpy(m.devices[i].bdf, sd->devices[i].bdf, sizeof(m.devices[i].bdf));

	struct plan_config *pc = &m.d.config;
	pc->reconnect_delay_s = cfg->reconnect_delay_s;
	pc->ctrlr_loss_s = cfg->ctrlr_loss_s;
	pc->fast_io_fail_s = cfg->fast_io_fail_s;
	pc->member_giveup_s = cfg->member_giveup_s;
	pc->guest_io_timeout_s = cfg->guest_io_timeout_s;
	pc->assembly_wait_s = 1;
	pc->orphan_grace_s = (int)cfg->orphan_grace_s;
	util_strlcpy(pc->hostnqn, cfg->hostnqn, sizeof(pc->hostnqn));
	util_strlcpy(pc->vhost_dir, cfg->vhost_dir, sizeof(pc->vhost_dir));
	util_strlcpy(pc->cpumask, cfg->cpumask, sizeof(pc->cpumask));
	pc->allow_unsafe_noiommu = cfg->allow_unsafe_noiommu;
	m.d.mappings = m.mappings;
	m.d.n_mappings = n;
	m.d.volumes = m.volumes;
	m.d.n_volumes = n;
	m.d.devices = m.devices;
	m.d.n_devices = sd->n_devices;
	*out = m;
	return 0;
fail:
	desired_model_free(&m);
	return r;
}

void desired_model_free(struct desired_model *m)
{
	free(m->mappings);
	free(m->volumes);
	free(m->devices);
	memset(m, 0, sizeof(*m));
}
