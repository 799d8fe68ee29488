/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers of the NVMe / storage-node tests (nvme_harness.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvme_harness.h"

void node_start(struct node *n)
{
	sim_start(&n->t, false);
	conn_open(&n->c, n->t.rpc);
}

void node_stop(struct node *n)
{
	if (n->c.fd >= 0)
		close(n->c.fd);
	n->c.fd = -1;
	sim_stop_proc(&n->t);
}

void node_kill9(struct node *n)
{
	if (n->c.fd >= 0)
		close(n->c.fd);
	n->c.fd = -1;
	kill(n->t.pid, SIGKILL);
	reap(n->t.pid, NULL);
	n->t.pid = 0;
	sim_stop_proc(&n->t);
}

json_t *call(struct node *n, const char *method, json_t *params)
{
	static int id;
	json_t *req = json_pack("{s:s,s:s,s:i}", "jsonrpc", "2.0", "method", method, "id", ++id);
	char *text;
	json_t *ans;

	if (params)
		json_object_set_new(req, "params", params);
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	ans = rpc(&n->c, text);
	free(text);
	return ans;
}

json_t *call_ok(struct node *n, const char *method, json_t *params)
{
	json_t *ans = call(n, method, params);

	if (!json_object_get(ans, "result")) {
		char *t = json_dumps(ans, JSON_COMPACT);

		fail_msg("%s failed: %s", method, t);
	}
	return result_of(ans);
}

char *call_err(struct node *n, const char *method, json_t *params, int code)
{
	json_t *ans = call(n, method, params), *err = json_object_get(ans, "error");
	char *msg;

	if (!err || json_integer_value(json_object_get(err, "code")) != code) {
		char *t = json_dumps(ans, JSON_COMPACT);

		fail_msg("%s: expected error %d, got %s", method, code, t);
	}
	msg = strdup(json_string_value(json_object_get(err, "message")));
	json_decref(ans);
	return msg;
}

void free_port(char out[8])
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	snprintf(out, 8, "%u", ntohs(a.sin_port));
	close(fd);
}

char *storage_export(struct node *n, const char *lvol, unsigned size_mib, const char *port,
		     bool first_lvol)
{
	char nqn[128], alias[64];
	json_t *r;
	char *uuid;

	if (first_lvol) {
		json_decref(call_ok(n, "bdev_malloc_create",
				    json_pack("{s:s,s:i,s:i}", "name", "Malloc0", "num_blocks",
					      131072, "block_size", 512)));
		json_decref(call_ok(n, "bdev_lvol_create_lvstore",
				    json_pack("{s:s,s:s,s:i}", "bdev_name", "Malloc0", "lvs_name",
					      "lvs0", "cluster_sz", 1048576)));
		json_decref(
			call_ok(n, "nvmf_create_transport", json_pack("{s:s}", "trtype", "TCP")));
	}
	r = call_ok(n, "bdev_lvol_create",
		    json_pack("{s:s,s:s,s:i}", "lvs_name", "lvs0", "lvol_name", lvol, "size_in_mib",
			      (int)size_mib));
	uuid = strdup(json_string_value(r));
	json_decref(r);
	snprintf(nqn, sizeof(nqn), "nqn.2016-06.io.spdk:%s", lvol);
	snprintf(alias, sizeof(alias), "lvs0/%s", lvol);
	json_decref(call_ok(n, "nvmf_create_subsystem",
			    json_pack("{s:s,s:b}", "nqn", nqn, "allow_any_host", 1)));
	r = call_ok(n, "nvmf_subsystem_add_ns",
		    json_pack("{s:s,s:{s:s}}", "nqn", nqn, "namespace", "bdev_name", alias));
	assert_int_equal(json_integer_value(r), 1);
	json_decref(r);
	json_decref(call_ok(n, "nvmf_subsystem_add_listener",
			    json_pack("{s:s,s:{s:s,s:s,s:s,s:s}}", "nqn", nqn, "listen_address",
				      "trtype", "tcp", "adrfam", "ipv4", "traddr", "127.0.0.1",
				      "trsvcid", port)));
	return uuid;
}

json_t *attach_params(const char *name, const char *lvol, const char *port, int loss_sec)
{
	char nqn[128];

	snprintf(nqn, sizeof(nqn), "nqn.2016-06.io.spdk:%s", lvol);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:i}", "name", name, "trtype",
			 "tcp", "adrfam", "ipv4", "traddr", "127.0.0.1", "trsvcid", port, "subnqn",
			 nqn, "hostnqn", "nqn.2024-01.io.diskengine:test", "multipath", "multipath",
			 "reconnect_delay_sec", 1, "ctrlr_loss_timeout_sec", loss_sec,
			 "fast_io_fail_timeout_sec", 0);
}

char *ctrlr_state(struct node *n, const char *name, int *cntlid)
{
	json_t *r = call_ok(n, "bdev_nvme_get_controllers", NULL), *c;
	char *state = NULL;
	size_t i;

	json_array_foreach(r, i, c)
	{
		json_t *p;

		if (strcmp(json_string_value(json_object_get(c, "name")), name) != 0)
			continue;
		p = json_array_get(json_object_get(c, "ctrlrs"), 0);
		state = strdup(json_string_value(json_object_get(p, "state")));
		if (cntlid)
			*cntlid = (int)json_integer_value(json_object_get(p, "cntlid"));
	}
	json_decref(r);
	return state;
}

bool wait_state(struct node *n, const char *name, const char *want, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		char *st = ctrlr_state(n, name, NULL);
		bool ok = (!want && !st) || (want && st && strcmp(st, want) == 0);

		free(st);
		if (ok)
			return true;
		if (now_ms() > deadline)
			return false;
		usleep(50000);
	}
}
