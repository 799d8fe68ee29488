/* SPDX-License-Identifier: Apache-2.0 */
#include "reconcile/exec_verify.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *str(const char *s)
{
	return s ? s : "";
}

static const struct rpc_raid *raid_find(const struct rpc_raid_list *raids, const char *name)
{
	for (size_t i = 0; i < raids->n; i++)
		if (strcmp(raids->v[i].name, name) == 0)
			return &raids->v[i];
	return NULL;
}

int exec_verify_controller(const struct rpc_nvme_ctrlr_list *controllers, const char *name,
			   const char *subnqn, const char *traddr, const char *trsvcid, char *why,
			   size_t whylen)
{
	const struct rpc_nvme_ctrlr *ctrl = NULL;
	const char *other = NULL;

	for (size_t i = 0; i < controllers->n && !ctrl; i++)
		if (strcmp(controllers->v[i].name, name) == 0)
			ctrl = &controllers->v[i];
	if (!ctrl) {
		snprintf(why, whylen, "controller %s is not there", name);
		return -ENOENT;
	}
	for (size_t i = 0; i < ctrl->n_paths; i++) {
		const struct rpc_nvme_ctrlr_path *p = &ctrl->paths[i];

		if (strcmp(str(p->subnqn), subnqn) != 0) {
			other = str(p->subnqn);
			continue;
		}
		if (strcmp(str(p->traddr), traddr) == 0 && strcmp(str(p->trsvcid), trsvcid) == 0)
			return 0;
	}
	if (other)
		snprintf(why, whylen, "controller %s exists for subsystem %s, not %s", name, other,
			 subnqn);
	else
		snprintf(why, whylen, "controller %s exists without a path to %s:%s", name, traddr,
			 trsvcid);
	return -EEXIST;
}

int exec_verify_raid(const struct rpc_raid_list *raids, const char *name, const char *const *bases,
		     size_t n_bases, char *why, size_t whylen)
{
	const struct rpc_raid *raid = raid_find(raids, name);

	if (!raid) {
		snprintf(why, whylen, "raid %s is not there", name);
		return -ENOENT;
	}
	if (strcmp(raid->raid_level, "raid1") != 0) {
		snprintf(why, whylen, "raid %s exists with level %s, not raid1", name,
			 raid->raid_level);
		return -EEXIST;
	}
	if (raid->n_bases != n_bases) {
		snprintf(why, whylen, "raid %s exists with %zu bases, not %zu", name, raid->n_bases,
			 n_bases);
		return -EEXIST;
	}
	/* A slot whose member is missing (name null) still belongs to the raid: skip it. */
	for (size_t i = 0; i < raid->n_bases; i++) {
		const char *bn = raid->bases[i].name;
		bool found = false;

		if (!bn)
			continue;
		for (size_t k = 0; k < n_bases; k++)
			found |= strcmp(bases[k], bn) == 0;
		if (!found) {
			snprintf(why, whylen, "raid %s exists with base %s, which is not ours",
				 name, bn);
			return -EEXIST;
		}
	}
	return 0;
}

int exec_verify_raid_member(const struct rpc_raid_list *raids, const char *name, const char *base,
			    char *why, size_t whylen)
{
	const struct rpc_raid *raid = raid_find(raids, name);

	if (!raid) {
		snprintf(why, whylen, "raid %s is not there", name);
		return -ENOENT;
	}
	for (size_t i = 0; i < raid->n_bases; i++)
		if (strcmp(str(raid->bases[i].name), base) == 0)
			return 0;
	snprintf(why, whylen, "raid %s does not list %s as a member", name, base);
	return -EEXIST;
}

int exec_verify_vhost(const struct rpc_vhost_list *vhosts, const char *ctrlr, const char *bdev,
		      char *why, size_t whylen)
{
	const struct rpc_vhost_ctrlr *v = NULL;

	for (size_t i = 0; i < vhosts->n && !v; i++)
		if (strcmp(vhosts->v[i].ctrlr, ctrlr) == 0)
			v = &vhosts->v[i];
	if (!v) {
		snprintf(why, whylen, "vhost controller %s is not there", ctrlr);
		return -ENOENT;
	}
	if (!v->blk) {
		snprintf(why, whylen,
			 "vhost controller %s exists and is not a vhost-blk controller", ctrlr);
		return -EEXIST;
	}
	if (!v->bdev || strcmp(v->bdev, bdev) != 0) {
		snprintf(why, whylen, "vhost controller %s exists serving %s, not %s", ctrlr,
			 v->bdev ? v->bdev : "nothing", bdev);
		return -EEXIST;
	}
	return 0;
}
