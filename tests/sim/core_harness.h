/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers of the spdk-sim core tests: spawn spdk-sim ($SPDK_SIM_BIN) in a scratch
 * directory with a control socket, talk JSON-RPC and control commands to it.
 */
#ifndef DISKENGINE_TESTS_SIM_CORE_HARNESS_H
#define DISKENGINE_TESTS_SIM_CORE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

struct tsim {
	char dir[64], rpc[128], ctl[128];
	pid_t pid;
};

struct tconn {
	int fd;
	char buf[1 << 16];
	size_t len;
};

/* Children not reaped yet (the group teardown kills them after a failed test). */
extern pid_t g_children[64];
extern size_t g_nchildren;

uint64_t now_ms(void);
int sock_connect(const char *path);
/* fork/exec argv with stdout/stderr to /dev/null; the pid is tracked. */
pid_t spawn(const char *const argv[]);
/* waitpid and forget the pid. */
void reap(pid_t pid, int *status);
/* Start spdk-sim -m mask -r <dir>/rpc.sock --control <dir>/ctl.sock [--wait-for-rpc]. */
void sim_start_args(struct tsim *t, bool wait_for_rpc, const char *mask);
void sim_start(struct tsim *t, bool wait_for_rpc);
/* SIGTERM, reap, remove the scratch files; the wait status. */
int sim_stop_proc(struct tsim *t);
void conn_open(struct tconn *c, const char *path);
void conn_send(struct tconn *c, const char *s);
/* Next JSON value within timeout_ms, or NULL (*closed set when the peer closed). */
json_t *conn_recv(struct tconn *c, int timeout_ms, bool *closed);
/* Send a request, return its answer (fails the test if none within 3 s). */
json_t *rpc(struct tconn *c, const char *request);
/* One control command on a fresh control connection. */
json_t *ctl(struct tsim *t, const char *cmd);
/* Compare got (consumed) with JSON text, failing the test with both shown. */
void assert_json(json_t *got, const char *want_text);
/* The "result" of an answer (new reference); consumes the answer. */
json_t *result_of(json_t *ans);
/* cmocka group teardown: SIGKILL children a failed test left running. */
int kill_children(void **state);

#endif
