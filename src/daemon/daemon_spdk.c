/* SPDX-License-Identifier: Apache-2.0 */
#include "daemon/daemon_spdk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "rpc/spdk.h"

struct daemon_spdk {
	const struct daemon_config *cfg;
	struct rpc_client *rpc;
};

static int failed(int r, const struct rpc_error *e, char *errbuf, size_t errlen)
{
	char line[512];

	snprintf(errbuf, errlen, "%s", rpc_error_str(e, line, sizeof(line)));
	return r;
}

int daemon_spdk_open(const struct daemon_config *cfg, struct daemon_spdk **out, char *errbuf,
		     size_t errlen)
{
	struct rpc_client_opts o = {
		.timeout_ms = (int)cfg->rpc_timeout_ms,
		.connect_timeout_ms = 1, /* one attempt */
		.manual_reconnect = true,
	};
	struct daemon_spdk *s = calloc(1, sizeof(*s));
	struct rpc_error e = {0};
	int r;

	if (!s)
		return -ENOMEM;
	s->cfg = cfg;
	r = rpc_client_open(cfg->spdk_sock, &o, &s->rpc, &e);
	if (r < 0) {
		snprintf(errbuf, errlen, "%s", e.message);
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

void daemon_spdk_close(struct daemon_spdk *s)
{
	if (!s)
		return;
	rpc_client_close(s->rpc);
	free(s);
}

bool daemon_spdk_closed(struct daemon_spdk *s)
{
	return rpc_client_closed(s->rpc);
}

struct rpc_client *daemon_spdk_rpc(struct daemon_spdk *s)
{
	return s->rpc;
}

/* An option this SPDK refuses must not keep every VM's disk away: SPDK's default, and say so. */
static bool refused_go_on(const struct rpc_error *e, void *arg)
{
	char line[512];

	log_warn("saved config %s: %s; continuing without it", (const char *)arg,
		 rpc_error_str(e, line, sizeof(line)));
	return true;
}

/*
 * Replay the calls of the saved config that SPDK accepts before init (the methods it lists as
 * current in that state), in the file's order. Everything else is rebuilt from the database.
 */
static int replay_preinit(struct daemon_spdk *s, const char *path, const struct rpc_strv *current,
			  char *errbuf, size_t errlen)
{
	struct rpc_error e = {0};
	unsigned sent = 0;
	char *doc = NULL;
	size_t len = 0;
	int r;

	r = util_read_file(path, &doc, &len);
	if (r == -ENOENT) {
		log_info("no saved SPDK config at %s: starting with SPDK's defaults", path);
		return 0;
	}
	if (r < 0) {
		snprintf(errbuf, errlen, "saved config %s: %s", path, strerror(-r));
		return r;
	}
	r = rpc_config_replay_preinit(s->rpc, doc, current, refused_go_on, (void *)path, &sent, &e);
	free(doc);
	if (r < 0) {
		char line[512];

		snprintf(errbuf, errlen, "saved config %s: %s", path,
			 rpc_error_str(&e, line, sizeof(line)));
		return r;
	}
	log_info("replayed %u pre-init calls from %s", sent, path);
	return 0;
}

int daemon_spdk_start(struct daemon_spdk *s, const char *saved_config, bool *was_initialised,
		      char *errbuf, size_t errlen)
{
	struct rpc_strv current = {0};
	struct rpc_error e = {0};
	bool init;
	int r;

	r = rpc_get_methods(s->rpc, true, &current, &e);
	if (r < 0)
		return failed(r, &e, errbuf, errlen);
	/* framework_start_init is callable only before init. */
	init = !rpc_strv_has(&current, "framework_start_init");
	if (!init) {
		r = replay_preinit(s, saved_config, &current, errbuf, errlen);
		if (r == 0) {
			r = rpc_framework_start_init(s->rpc, &e);
			if (r < 0)
				failed(r, &e, errbuf, errlen);
		}
	}
	rpc_strv_free(&current);
	if (r < 0)
		return r;
	r = rpc_framework_wait_init(s->rpc, &e);
	if (r < 0)
		return failed(r, &e, errbuf, errlen);
	if (was_initialised)
		*was_initialised = init;
	return 0;
}

int daemon_spdk_save_config(struct daemon_spdk *s, const char *path, char *errbuf, size_t errlen)
{
	struct rpc_error e = {0};
	char *doc = NULL;
	int r;

	r = rpc_save_config(s->rpc, &doc, &e);
	if (r < 0)
		return failed(r, &e, errbuf, errlen);
	/* 0600: the saved config names key files and the host's NQN */
	r = util_write_file_atomic(path, doc, strlen(doc), 0600);
	if (r < 0)
		snprintf(errbuf, errlen, "write %s: %s", path, strerror(-r));
	free(doc);
	return r;
}
