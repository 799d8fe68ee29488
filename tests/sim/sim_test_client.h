/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A running spdk-sim for behaviour tests: spawned in a scratch directory with an RPC
 * socket, a control socket and a vhost directory; JSON-RPC and control calls as jansson
 * values. Test helpers abort the test (cmocka fail) on transport errors.
 */
#ifndef DISKENGINE_TESTS_SIM_TEST_CLIENT_H
#define DISKENGINE_TESTS_SIM_TEST_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

struct simproc {
	pid_t pid;
	char dir[256];
	char vhost_dir[300];
	int rpc_fd;
	int ctl_fd;
	char *buf; /* bytes received on rpc_fd not yet parsed */
	size_t len;
	int next_id;
};

/* Start spdk-sim ($SPDK_SIM_BIN, -m 0x2, framework initialised). 0 or -errno. */
int simproc_start(struct simproc *p);
/*
 * SIGTERM, wait, remove the scratch directory. Returns the sim's exit status (0 for a clean
 * exit; a sanitized build exits non-zero when LeakSanitizer finds a leak), 128 + signal
 * when it died of one, or -errno when it could not be waited for.
 */
int simproc_stop(struct simproc *p);
/* Send a request; returns its id. params may be NULL (then omitted); it is not stolen. */
int sim_rpc_send(struct simproc *p, const char *method, json_t *params);
/* Wait up to timeout_ms for the answer with that id (others are dropped); NULL on timeout. */
json_t *sim_rpc_wait(struct simproc *p, int id, int timeout_ms);
/* Call and wait (5 s). params is stolen (may be NULL). Returns the whole answer object. */
json_t *sim_rpc(struct simproc *p, const char *method, json_t *params);
/* The "result" of an answer (borrowed from ans), NULL when it is an error. */
json_t *sim_result(json_t *ans);
/* The error code of an answer, 0 when it succeeded. */
int sim_error_code(json_t *ans);
/* The error message of an answer, "" when it succeeded. */
const char *sim_error_message(json_t *ans);
/* A control command; args stolen, "cmd" added. Returns the whole answer object. */
json_t *sim_ctl(struct simproc *p, const char *cmd, json_t *args);
/* The one raid of bdev_raid_get_bdevs "all" with that name (new ref) or NULL. */
json_t *sim_raid_get(struct simproc *p, const char *name);
/*
 * bdev_nvme_get_io_paths in short: "thread:bdev,bdev;thread:bdev" in the answer's order,
 * a path marked '*' when it is current; "" when no channel is open. Caller frees.
 */
char *sim_io_paths(struct simproc *p);
/* Plug a local PCIe drive (control pcie_add) and attach it as controller name. 0 or -EIO. */
int sim_nvme_local_drive(struct simproc *p, const char *name, const char *traddr, int blocks);

#endif
