/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers of the NVMe / storage-node tests: a spdk-sim process with its RPC connection,
 * calls built with jansson, a storage node exporting lvols on a port the kernel hands out.
 */
#ifndef DISKENGINE_TESTS_SIM_NVME_HARNESS_H
#define DISKENGINE_TESTS_SIM_NVME_HARNESS_H

#include "core_harness.h"

struct node {
	struct tsim t;
	struct tconn c;
};

void node_start(struct node *n);
void node_stop(struct node *n);
/* SIGKILL the process (a crash), reap it. */
void node_kill9(struct node *n);
/* Call method with params (stolen, may be NULL); the whole answer object. */
json_t *call(struct node *n, const char *method, json_t *params);
/* Call and require success: the result (new reference). */
json_t *call_ok(struct node *n, const char *method, json_t *params);
/* Call and require an error with this code; the message (caller frees). */
char *call_err(struct node *n, const char *method, json_t *params, int code);
/* A TCP port free right now on 127.0.0.1, as a string. */
void free_port(char out[8]);
/*
 * Storage node set-up: Malloc0 (64 MiB) -> lvs0 (1 MiB clusters) -> lvol `lvol`
 * (size_mib) exported as nqn.2016-06.io.spdk:<lvol> on 127.0.0.1:port, allow_any_host.
 * Returns the lvol's uuid (caller frees). Creates the store and transport when first_lvol.
 */
char *storage_export(struct node *n, const char *lvol, unsigned size_mib, const char *port,
		     bool first_lvol);
/* bdev_nvme_attach_controller params for the export of lvol on port (1 s / loss_sec). */
json_t *attach_params(const char *name, const char *lvol, const char *port, int loss_sec);
/* The state string of the first path of controller `name`, or NULL when it is gone. */
char *ctrlr_state(struct node *n, const char *name, int *cntlid);
/* Poll ctrlr_state every 50 ms until it equals want (NULL: gone) or timeout; true if so. */
bool wait_state(struct node *n, const char *name, const char *want, int timeout_ms);

#endif
