/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `diskengine diagnose`: one raid member's layers, named from the database's replica (its
 * controller and namespace id), not parsed from the raid's base names: a lost slot has no
 * name, and a local drive's replica may be any namespace of it.
 */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "cli/cli_diagnose.h"
#include "rpc/spdk.h"

/* SPDK retries the path by itself: a reset runs, or the next reconnect attempt waits. */
static bool state_resetting(const char *state)
{
	return !strcmp(state, "resetting") || !strcmp(state, "reconnect_is_delayed");
}

/* Every path of the controller with its state; *resetting / *down say what they show. */
static json_t *ctrlr_paths(const struct rpc_nvme_ctrlr_list *cl, bool *resetting, bool *down)
{
	json_t *paths = json_array();

	*resetting = *down = false;
	for (size_t i = 0; i < cl->n; i++)
		for (size_t k = 0; k < cl->v[i].n_paths; k++) {
			const struct rpc_nvme_ctrlr_path *p = &cl->v[i].paths[k];

			json_array_append_new(paths,
					      json_pack("{s:s, s:s?, s:s?, s:I}", "state", p->state,
							"traddr", p->traddr, "trsvcid", p->trsvcid,
							"cntlid", (json_int_t)p->cntlid));
			if (state_resetting(p->state))
				*resetting = true;
			else if (strcmp(p->state, "enabled"))
				*down = true;
		}
	return paths;
}

/* The namespace bdev is gone: whether its controller is still there says whose doing it is. */
static bool member_ns_gone(struct diag *d, const struct diag_member *m,
			   const struct rpc_error *nerr, int cr, const struct rpc_error *cerr,
			   const struct rpc_nvme_ctrlr_list *cl)
{
	bool resetting, down;

	if (cr < 0)
		return diag_step(
			d, "controller", m->ctrlr, DIAG_BROKEN,
			json_pack("{s:s, s:o, s:s}", "method", "bdev_nvme_get_controllers", "error",
				  diag_rpc_err(cerr), "namespace", m->bdev),
			"the controller is gone and its namespace bdev with it (its ctrlr-loss "
			"timeout passed, or it was detached): the daemon attaches it again once "
			"the storage node answers",
			"do not attach it by hand under another name");
	json_t *ev = json_pack("{s:s, s:s, s:o, s:s, s:o}", "method", "bdev_get_bdevs", "name",
			       m->bdev, "error", diag_rpc_err(nerr), "controller", m->ctrlr,
			       "controller_paths", ctrlr_paths(cl, &resetting, &down));

	return diag_step(d, "namespace", m->bdev, DIAG_BROKEN, ev,
			 "the controller is still attached but SPDK deleted its namespace bdev "
			 "(a namespace-change notice): the storage node no longer exports this "
			 "namespace; check nvmf_get_subsystems there (nvmf_subsystem_remove_ns, or "
			 "its lvol is gone)",
			 "do not detach the controller or remove the member from the raid by hand");
}

static bool member_paths(struct diag *d, struct rpc_client *c, const struct diag_member *m)
{
	struct rpc_io_path_list pl = {0};
	struct rpc_error err = {0};
	enum diag_verdict v;
	json_t *paths;

	if (rpc_bdev_nvme_get_io_paths(c, m->bdev, &pl, &err) < 0)
		return diag_step(d, "path", m->bdev, DIAG_UNKNOWN, diag_rpc_err(&err), NULL, NULL);
	paths = json_array();
	v = pl.n ? DIAG_OK : DIAG_UNKNOWN;
	for (size_t i = 0; i < pl.n; i++) {
		const struct rpc_io_path *p = &pl.v[i];

		json_array_append_new(paths, json_pack("{s:s, s:b, s:b, s:b}", "traddr", p->traddr,
						       "current", p->current, "connected",
						       p->connected, "accessible", p->accessible));
		if (!p->connected || !p->accessible)
			v = DIAG_BROKEN;
	}
	rpc_io_path_list_free(&pl);
	return diag_step(
		d, "path", m->bdev, v,
		json_pack("{s:s, s:o}", "method", "bdev_nvme_get_io_paths", "paths", paths),
		v == DIAG_BROKEN ? "an I/O path is not connected: SPDK reconnects it; "
				   "check the storage node's listener"
				 : NULL,
		v == DIAG_BROKEN ? "do not detach the controller by hand" : NULL);
}

bool diag_member(struct diag *d, struct rpc_client *c, const struct diag_member *m)
{
	struct rpc_bdev_list bl = {0};
	struct rpc_nvme_ctrlr_list cl = {0};
	struct rpc_error nerr = {0}, cerr = {0};
	bool resetting, down, broken;
	int r, cr;

	r = rpc_bdev_get_bdev(c, m->bdev, RPC_UNSET, &bl, &nerr);
	if (r < 0 && r != -ENODEV)
		return diag_step(d, "namespace", m->bdev, DIAG_UNKNOWN, diag_rpc_err(&nerr), NULL,
				 NULL);
	cr = rpc_bdev_nvme_get_controllers(c, m->ctrlr, &cl, &cerr);
	if (r == -ENODEV) {
		broken = member_ns_gone(d, m, &nerr, cr, &cerr, &cl);
		rpc_nvme_ctrlr_list_free(&cl);
		return broken;
	}
	diag_step(d, "namespace", m->bdev, DIAG_OK,
		  json_pack("{s:s, s:s, s:I, s:I, s:b}", "method", "bdev_get_bdevs", "name",
			    m->bdev, "nsid", (json_int_t)m->nsid, "num_blocks",
			    (json_int_t)bl.v[0].num_blocks, "claimed", bl.v[0].claimed),
		  NULL, NULL);
	rpc_bdev_list_free(&bl);
	if (cr < 0)
		return diag_step(d, "controller", m->ctrlr, DIAG_BROKEN,
				 json_pack("{s:s, s:o}", "method", "bdev_nvme_get_controllers",
					   "error", diag_rpc_err(&cerr)),
				 "the controller is gone: the daemon re-attaches it", NULL);

	json_t *ev = json_pack("{s:s, s:o}", "method", "bdev_nvme_get_controllers", "paths",
			       ctrlr_paths(&cl, &resetting, &down));

	rpc_nvme_ctrlr_list_free(&cl);
	if (resetting)
		return diag_step(d, "reset", m->ctrlr, DIAG_BROKEN, ev,
				 "SPDK is resetting or reconnecting the controller: wait for it to "
				 "reconnect or for its ctrlr-loss timeout; the raid keeps serving "
				 "from the other member",
				 "do not run an unfiltered bdev_get_bdevs or reset it again");
	if (down)
		return diag_step(d, "controller", m->ctrlr, DIAG_BROKEN, ev,
				 "a path is not enabled and SPDK does not retry it: \"disabled\" "
				 "(bdev_nvme_disable_controller was run) comes back with "
				 "bdev_nvme_enable_controller, \"failed\" with "
				 "bdev_nvme_reset_controller, once the storage node answers",
				 "do not detach the controller by hand");
	diag_step(d, "controller", m->ctrlr, DIAG_OK, ev, NULL, NULL);
	return member_paths(d, c, m);
}
