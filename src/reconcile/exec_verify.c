/* SPDX-License-Identifier: Apache-2.0 */
#include "reconcile/exec_verify.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static json_t *find_by(json_t *arr, const char *key, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (strcmp(str(v, key), name) == 0)
			return v;
	return NULL;
}

int exec_verify_controller(json_t *controllers, const char *name, const char *subnqn,
			   const char *traddr, const char *trsvcid, char *why, size_t whylen)
{
	json_t *ctrl = find_by(controllers, "name", name), *path;
	const char *other = NULL;
	size_t i;

	if (!ctrl) {
		snprintf(why, whylen, "controller %s is not there", name);
		return -ENOENT;
	}
	json_array_foreach(json_object_get(ctrl, "ctrlrs"), i, path) {
		json_t *trid = json_object_get(path, "trid");
		if (strcmp(str(trid, "subnqn"), subnqn) != 0) {
			other = str(trid, "subnqn");
			continue;
		}
		if (strcmp(str(trid, "traddr"), traddr) == 0 &&
		    strcmp(str(trid, "trsvcid"), trsvcid) == 0)
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

int exec_verify_raid(json_t *raids, const char *name, const char *const *bases, size_t n_bases,
		     char *why, size_t whylen)
{
	json_t *raid = find_by(raids, "name", name), *list, *b;
	size_t i;

	if (!raid) {
		snprintf(why, whylen, "raid %s is not there", name);
		return -ENOENT;
	}
	if (strcmp(str(raid, "raid_level"), "raid1") != 0) {
		snprintf(why, whylen, "raid %s exists with level %s, not raid1", name,
			 str(raid, "raid_level"));
		return -EEXIST;
	}
	list = json_object_get(raid, "base_bdevs_list");
	if (json_array_size(list) != n_bases) {
		snprintf(why, whylen, "raid %s exists with %zu bases, not %zu", name,
			 json_array_size(list), n_bases);
		return -EEXIST;
	}
	/* A slot whose member is missing (name null) still belongs to the raid: skip it. */
	json_array_foreach(list, i, b) {
		const char *bn = json_string_value(json_object_get(b, "name"));
		bool found = false;

		if (!bn)
			continue;
		for (size_t k = 0; k < n_bases; k++)
			found |= strcmp(bases[k], bn) == 0;
		if (!found) {
			snprintf(why, whylen, "raid %s exists with base %s, which is not ours", name,
				 bn);
			return -EEXIST;
		}
	}
	return 0;
}

int exec_verify_raid_member(json_t *raids, const char *name, const char *base, char *why,
			    size_t whylen)
{
	json_t *raid = find_by(raids, "name", name), *b;
	size_t i;

	if (!raid) {
		snprintf(why, whylen, "raid %s is not there", name);
		return -ENOENT;
	}
	json_array_foreach(json_object_get(raid, "base_bdevs_list"), i, b)
		if (strcmp(str(b, "name"), base) == 0)
			return 0;
	snprintf(why, whylen, "raid %s does not list %s as a member", name, base);
	return -EEXIST;
}

int exec_verify_vhost(json_t *vhosts, const char *ctrlr, const char *bdev, char *why,
		      size_t whylen)
{
	json_t *v = find_by(vhosts, "ctrlr", ctrlr);

	if (!v) {
		snprintf(why, whylen, "vhost controller %s is not there", ctrlr);
		return -ENOENT;
	}
	json_t *blk = json_object_get(json_object_get(v, "backend_specific"), "block");
	const char *have = json_string_value(json_object_get(blk, "bdev"));
	if (!have || strcmp(have, bdev) != 0) {
		snprintf(why, whylen, "vhost controller %s exists serving %s, not %s", ctrlr,
			 have ? have : "nothing", bdev);
		return -EEXIST;
	}
	return 0;
}
