/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The application framework of spdk_tgt: rpc_get_methods, spdk_get_version, the
 * startup -> runtime transition (framework_start_init / framework_wait_init), the
 * subsystem list and framework_get_config, and the pre-init options of the iobuf,
 * sock, accel, scheduler and iscsi subsystems with their saved-config shape.
 */
#include "sim/sim_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Per-process framework state. */
struct sim_framework_state {
	struct sim_req **waiters; /* framework_wait_init calls made before init */
	size_t nwaiters;
	json_t *iobuf;	    /* iobuf_set_options params as saved */
	json_t *sock_ssl;   /* sock_impl_set_options params, impl "ssl" */
	json_t *sock_posix; /* sock_impl_set_options params, impl "posix" */
	char *sock_default; /* sock_set_default_impl */
	json_t *accel;	    /* accel_set_options params */
	char *scheduler;    /* framework_set_scheduler name */
};

/* spdk_tgt's subsystems in initialisation order, with their dependencies. */
static const struct {
	const char *name;
	const char *deps[6];
} subsystems[] = {
	{"keyring", {NULL}},
	{"iobuf", {NULL}},
	{"sock", {NULL}},
	{"vmd", {NULL}},
	{"accel", {"iobuf", NULL}},
	{"bdev", {"accel", "keyring", "vmd", "sock", "iobuf", NULL}},
	{"scsi", {"bdev", NULL}},
	{"scheduler", {NULL}},
	{"vhost_scsi", {"scsi", NULL}},
	{"vhost_blk", {"bdev", NULL}},
	{"nbd", {"bdev", NULL}},
	{"nvmf", {"bdev", "keyring", "sock", NULL}},
	{"iscsi", {"scsi", "sock", NULL}},
};

static json_t *sock_defaults(unsigned buf_size)
{
	return json_pack("{s:I,s:I,s:b,s:b,s:i,s:b,s:b,s:i,s:i,s:b}", "recv_buf_size",
			 (json_int_t)buf_size, "send_buf_size", (json_int_t)buf_size,
			 "enable_recv_pipe", 1, "enable_quickack", 0, "enable_placement_id", 0,
			 "enable_zerocopy_send_server", 1, "enable_zerocopy_send_client", 0,
			 "zerocopy_threshold", 0, "tls_version", 0, "enable_ktls", 0);
}

static void framework_init(struct sim *s)
{
	struct sim_framework_state *f = calloc(1, sizeof(*f));

	if (!f)
		abort();
	f->iobuf =
		json_pack("{s:i,s:i,s:i,s:i,s:b}", "small_pool_count", 8192, "large_pool_count",
			  1024, "small_bufsize", 8192, "large_bufsize", 135168, "enable_numa", 0);
	f->sock_ssl = sock_defaults(4096);
	f->sock_posix = sock_defaults(2097152);
	f->sock_default = strdup("posix");
	f->scheduler = strdup("static");
	f->accel = json_pack("{s:i,s:i,s:i,s:i,s:i}", "small_cache_size", 128, "large_cache_size",
			     16, "task_count", 2048, "sequence_count", 2048, "buf_count", 2048);
	s->framework = f;
}

static void framework_fini(struct sim *s)
{
	struct sim_framework_state *f = s->framework;

	if (!f)
		return;
	/* the requests themselves belong to the server, which frees them */
	free(f->waiters);
	json_decref(f->iobuf);
	json_decref(f->sock_ssl);
	json_decref(f->sock_posix);
	json_decref(f->accel);
	free(f->sock_default);
	free(f->scheduler);
	free(f);
	s->framework = NULL;
}

/* ---- init ---------------------------------------------------------------------------- */

static void waiters_wake(struct sim *s, void *ctx)
{
	struct sim_framework_state *f = s->framework;
	size_t n = f->nwaiters;
	struct sim_req **w = f->waiters;

	f->waiters = NULL;
	f->nwaiters = 0;
	for (size_t i = 0; i < n; i++)
		sim_reply(w[i], json_true());
	free(w);
}

void sim_framework_start(struct sim *s)
{
	s->initialized = true;
	for (const struct sim_module *const *m = sim_modules; *m; m++)
		if ((*m)->start_init)
			(*m)->start_init(s);
	/* SPDK's waiters are pollers: they answer after framework_start_init's own answer */
	if (s->framework->nwaiters)
		sim_timer_add(s, 0, waiters_wake, NULL);
}

static void rpc_framework_start_init(struct sim_req *req)
{
	if (req->params) {
		sim_reply_error(req, SIM_RPC_INVALID_PARAMS,
				"framework_start_init requires no parameters");
		return;
	}
	sim_framework_start(req->sim);
	sim_reply(req, json_true());
}

static void rpc_framework_wait_init(struct sim_req *req)
{
	struct sim_framework_state *f = req->sim->framework;
	struct sim_req **w;

	/* SPDK does not look at params here */
	if (req->sim->initialized) {
		sim_reply(req, json_true());
		return;
	}
	w = realloc(f->waiters, (f->nwaiters + 1) * sizeof(*w));
	if (!w) {
		sim_reply_error(req, SIM_RPC_INTERNAL_ERROR,
				"Unable to allocate memory for the request context\n");
		return;
	}
	f->waiters = w;
	f->waiters[f->nwaiters++] = req;
}

/* ---- method list and version ----------------------------------------------------------- */

static void rpc_rpc_get_methods(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"current", SIM_J_BOOL, true},
		{"include_aliases", SIM_J_BOOL, true},
	};
	unsigned state = req->sim->initialized ? SIM_RUNTIME : SIM_STARTUP;
	bool current, aliases;
	json_t *arr;

	if (req->params && !sim_decode_ok(req->params, dec, 2)) {
		sim_reply_error(req, SIM_RPC_INVALID_PARAMS, "Invalid parameters");
		return;
	}
	current = json_is_true(json_object_get(req->params, "current"));
	aliases = json_is_true(json_object_get(req->params, "include_aliases"));
	arr = json_array();
	for (const struct sim_method_info *m = sim_method_registry; m->name; m++) {
		if (m->alias_of && !aliases)
			continue;
		if (current && (m->state_mask & state) != state)
			continue;
		json_array_append_new(arr, json_string(m->name));
	}
	sim_reply(req, arr);
}

static void rpc_spdk_get_version(struct sim_req *req)
{
	if (req->params) {
		sim_reply_error(req, SIM_RPC_INVALID_PARAMS,
				"spdk_get_version method requires no parameters");
		return;
	}
	sim_reply(req, json_pack("{s:s,s:{s:i,s:i,s:i,s:s,s:s}}", "version",
				 "SPDK v25.09 git sha1 a2f2a0b279", "fields", "major", 25, "minor",
				 9, "patch", 0, "suffix", "", "commit", "a2f2a0b279"));
}

/* ---- subsystems and their config ------------------------------------------------------- */

static void rpc_framework_get_subsystems(struct sim_req *req)
{
	json_t *arr;

	if (req->params) {
		sim_reply_error(req, SIM_RPC_INVALID_PARAMS,
				"'framework_get_subsystems' requires no arguments");
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < sizeof(subsystems) / sizeof(subsystems[0]); i++) {
		json_t *deps = json_array();

		for (size_t j = 0; subsystems[i].deps[j]; j++)
			json_array_append_new(deps, json_string(subsystems[i].deps[j]));
		json_array_append_new(arr, json_pack("{s:s,s:o}", "subsystem", subsystems[i].name,
						     "depends_on", deps));
	}
	sim_reply(req, arr);
}

static void config_add(json_t *arr, const char *method, json_t *params)
{
	json_array_append_new(arr, json_pack("{s:s,s:o}", "method", method, "params", params));
}

static void framework_config(struct sim *s, const char *subsystem, json_t *arr)
{
	struct sim_framework_state *f = s->framework;
	json_t *p;

	if (strcmp(subsystem, "iobuf") == 0) {
		config_add(arr, "iobuf_set_options", json_deep_copy(f->iobuf));
	} else if (strcmp(subsystem, "sock") == 0) {
		config_add(arr, "sock_set_default_impl",
			   json_pack("{s:s}", "impl_name", f->sock_default));
		p = json_pack("{s:s}", "impl_name", "ssl");
		json_object_update(p, f->sock_ssl);
		config_add(arr, "sock_impl_set_options", p);
		p = json_pack("{s:s}", "impl_name", "posix");
		json_object_update(p, f->sock_posix);
		config_add(arr, "sock_impl_set_options", p);
	} else if (strcmp(subsystem, "accel") == 0) {
		config_add(arr, "accel_set_options", json_deep_copy(f->accel));
	} else if (strcmp(subsystem, "scheduler") == 0) {
		config_add(arr, "framework_set_scheduler",
			   json_pack("{s:s}", "name", f->scheduler));
	} else if (strcmp(subsystem, "iscsi") == 0) {
		config_add(arr, "iscsi_set_options",
			   json_pack("{s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:b,s:b,s:i,s:i,s:i,s:b,s:b,"
				     "s:b,s:i,s:i,s:i,s:i,s:i,s:i}",
				     "node_base", "iqn.2016-06.io.spdk", "max_sessions", 128,
				     "max_connections_per_session", 2, "max_queue_depth", 64,
				     "default_time2wait", 2, "default_time2retain", 20,
				     "first_burst_length", 8192, "immediate_data", 1,
				     "allow_duplicated_isid", 0, "error_recovery_level", 0,
				     "nop_timeout", 60, "nop_in_interval", 30, "disable_chap", 0,
				     "require_chap", 0, "mutual_chap", 0, "chap_group", 0,
				     "max_large_datain_per_connection", 64,
				     "max_r2t_per_connection", 4, "pdu_pool_size", 36864,
				     "immediate_data_pool_size", 16384, "data_out_pool_size",
				     2048));
	}
}

static bool subsystem_known(const char *name)
{
	for (size_t i = 0; i < sizeof(subsystems) / sizeof(subsystems[0]); i++)
		if (strcmp(subsystems[i].name, name) == 0)
			return true;
	return false;
}

json_t *sim_framework_config(struct sim *s, const char *subsystem)
{
	json_t *arr;

	if (strcmp(subsystem, "scsi") == 0)
		return json_null(); /* the scsi subsystem has no config writer */
	if (strcmp(subsystem, "bdev") == 0)
		return sim_bdev_config(s);
	arr = json_array();
	for (const struct sim_module *const *m = sim_modules; *m; m++)
		if ((*m)->config)
			(*m)->config(s, subsystem, arr);
	return arr;
}

static void rpc_framework_get_config(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"name", SIM_J_STRING, false}};
	const char *name;

	if (!sim_decode_strict(req->params, dec, 1)) {
		sim_reply_error(req, SIM_RPC_INVALID_PARAMS, "Invalid arguments");
		return;
	}
	name = json_string_value(json_object_get(req->params, "name"));
	if (!subsystem_known(name)) {
		sim_reply_error(req, SIM_RPC_INVALID_PARAMS, "Subsystem '%s' not found", name);
		return;
	}
	sim_reply(req, sim_framework_config(req->sim, name));
}

/* ---- pre-init options -------------------------------------------------------------------- */

static void rpc_iobuf_set_options(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"small_pool_count", SIM_J_UINT, true}, {"large_pool_count", SIM_J_UINT, true},
		{"small_bufsize", SIM_J_UINT32, true},	{"large_bufsize", SIM_J_UINT32, true},
		{"enable_numa", SIM_J_BOOL, true},
	};
	struct sim_framework_state *f = req->sim->framework;
	json_t *merged;

	if (!sim_decode_strict(req->params, dec, 5)) {
		sim_reply_error(req, SIM_RPC_INVALID_PARAMS, "spdk_json_decode_object failed");
		return;
	}
	merged = json_deep_copy(f->iobuf);
	json_object_update_existing(merged, req->params);
	if (json_integer_value(json_object_get(merged, "small_pool_count")) < 64 ||
	    json_integer_value(json_object_get(merged, "large_pool_count")) < 8 ||
	    json_integer_value(json_object_get(merged, "small_bufsize")) < 4096 ||
	    json_integer_value(json_object_get(merged, "large_bufsize")) < 8192) {
		json_decref(merged);
		sim_reply_errno(req, EINVAL);
		return;
	}
	json_decref(f->iobuf);
	f->iobuf = merged;
	sim_reply(req, json_true());
}

static const struct sim_decoder sock_dec[] = {
	{"impl_name", SIM_J_STRING, false},
	{"recv_buf_size", SIM_J_UINT32, true},
	{"send_buf_size", SIM_J_UINT32, true},
	{"enable_recv_pipe", SIM_J_BOOL, true},
	{"enable_quickack", SIM_J_BOOL, true},
	{"enable_placement_id", SIM_J_UINT32, true},
	{"enable_zerocopy_send_server", SIM_J_BOOL, true},
	{"enable_zerocopy_send_client", SIM_J_BOOL, true},
	{"zerocopy_threshold", SIM_J_UINT32, true},
	{"tls_version", SIM_J_UINT32, true},
	{"enable_ktls", SIM_J_BOOL, true},
};

static json_t *sock_impl(struct sim_framework_state *f, const char *name)
{
	if (strcmp(name, "posix") == 0)
		return f->sock_posix;
	if (strcmp(name, "ssl") == 0)
		return f->sock_ssl;
	return NULL;
}

static void rpc_sock_impl_set_options(struct sim_req *req)
{
	json_t *opts, *copy;

	if (!sim_decode_strict(req->params, sock_dec, sizeof(sock_dec) / sizeof(sock_dec[0]))) {
		sim_reply_error(req, SIM_RPC_INVALID_PARAMS, "Invalid parameters");
		return;
	}
	opts = sock_impl(req->sim->framework,
			 json_string_value(json_object_get(req->params, "impl_name")));
	if (!opts) {
		sim_reply_error(req, SIM_RPC_INVALID_PARAMS, "Invalid parameters");
		return;
	}
	copy = json_deep_copy(req->params);
	json_object_del(copy, "impl_name");
	json_object_update_existing(opts, copy);
	json_decref(copy);
	sim_reply(req, json_true());
}

static void rpc_sock_set_default_impl(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"impl_name", SIM_J_STRING, false}};
	struct sim_framework_state *f = req->sim->framework;
	const char *name;

	if (!sim_decode_strict(req->params, dec, 1)) {
		sim_reply_error(req, SIM_RPC_INVALID_PARAMS, "Invalid parameters");
		return;
	}
	name = json_string_value(json_object_get(req->params, "impl_name"));
	if (!sock_impl(f, name)) {
		sim_reply_error(req, SIM_RPC_INVALID_PARAMS, "Invalid parameters");
		return;
	}
	free(f->sock_default);
	f->sock_default = strdup(name);
	sim_reply(req, json_true());
}

static void rpc_sock_impl_get_options(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"impl_name", SIM_J_STRING, false}};
	json_t *opts;

	if (!sim_decode_strict(req->params, dec, 1)) {
		sim_reply_error(req, SIM_RPC_INVALID_PARAMS, "Invalid parameters");
		return;
	}
	opts = sock_impl(req->sim->framework,
			 json_string_value(json_object_get(req->params, "impl_name")));
	if (!opts) {
		sim_reply_error(req, SIM_RPC_INVALID_PARAMS, "Invalid parameters");
		return;
	}
	sim_reply(req, json_deep_copy(opts));
}

static void rpc_sock_get_default_impl(struct sim_req *req)
{
	if (req->params) {
		sim_reply_error(req, SIM_RPC_INVALID_PARAMS,
				"sock_get_default_impl requires no parameters");
		return;
	}
	sim_reply(req, json_pack("{s:s}", "impl_name", req->sim->framework->sock_default));
}

static void rpc_accel_set_options(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {
		{"small_cache_size", SIM_J_UINT32, true}, {"large_cache_size", SIM_J_UINT32, true},
		{"task_count", SIM_J_UINT32, true},	  {"sequence_count", SIM_J_UINT32, true},
		{"buf_count", SIM_J_UINT32, true},
	};
	struct sim_framework_state *f = req->sim->framework;
	json_t *merged;

	if (!sim_decode_strict(req->params, dec, 5)) {
		/* sic: accel uses the parse-error code for a decode failure */
		sim_reply_error(req, SIM_RPC_PARSE_ERROR, "spdk_json_decode_object failed");
		return;
	}
	merged = json_deep_copy(f->accel);
	json_object_update_existing(merged, req->params);
	if (json_integer_value(json_object_get(merged, "task_count")) < 8) {
		json_decref(merged);
		sim_reply_errno(req, EINVAL);
		return;
	}
	json_decref(f->accel);
	f->accel = merged;
	sim_reply(req, json_true());
}

/* spdk_kill_instance: SPDK signals itself; the sim acts out what that signal does to spdk_tgt. */
static void rpc_spdk_kill_instance(struct sim_req *req)
{
	static const struct sim_decoder dec[] = {{"sig_name", SIM_J_STRING, false}};
	static const struct {
		const char *name;
		int num;
	} sigs[] = {{"SIGINT", 2}, {"SIGTERM", 15}, {"SIGQUIT", 3},
		    {"SIGHUP", 1}, {"SIGKILL", 9},  {"SIGUSR1", 10}};
	struct sim *s = req->sim;
	const char *name;
	char *end;
	long num;
	size_t i;

	if (!sim_decode_strict(req->params, dec, 1)) {
		sim_reply_error(req, SIM_RPC_INVALID_PARAMS, "Invalid parameters");
		return;
	}
	name = json_string_value(json_object_get(req->params, "sig_name"));
	num = strtol(name, &end, 10);
	if (*end || end == name)
		num = -1;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (strcmp(name, sigs[i].name) == 0 || num == sigs[i].num)
			break;
	if (i == sizeof(sigs) / sizeof(sigs[0])) {
		sim_reply_error(req, SIM_RPC_INVALID_PARAMS, "Invalid parameters");
		return;
	}
	switch (sigs[i].num) {
	case 2:
	case 15:
		/* SPDK's handler starts an orderly shutdown; the answer still goes out */
		sim_reply(req, json_true());
		sim_stop(s);
		return;
	case 10:
		sim_reply(req, json_true());
		return;
	default:
		/* default action of the signal: the process dies before answering */
		sim_crash(s, name);
	}
}

/*
 * framework_set_scheduler (lib/event/app_rpc.c): "name" and an optional "period"; other keys
 * are the scheduler's own options, decoded relaxed by the schedulers spdk_tgt links (static,
 * dynamic, gscheduler), so they are accepted. An unknown scheduler is spdk_scheduler_set's
 * -ENOENT, sent as an internal error with strerror's text.
 */
static void rpc_framework_set_scheduler(struct sim_req *req)
{
	static const char *const known[] = {"static", "dynamic", "gscheduler"};
	struct sim_framework_state *f = req->sim->framework;
	json_t *name = json_object_get(req->params, "name");
	json_t *period = json_object_get(req->params, "period");

	if (!json_is_object(req->params) || !json_is_string(name) ||
	    (period && (!json_is_integer(period) || json_integer_value(period) < 0))) {
		sim_reply_error(req, SIM_RPC_INVALID_PARAMS, "Invalid parameters");
		return;
	}
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strcmp(json_string_value(name), known[i]) == 0) {
			free(f->scheduler);
			f->scheduler = strdup(known[i]);
			sim_reply(req, json_true());
			return;
		}
	}
	sim_reply_error(req, -32603, "%s", strerror(ENOENT));
}

static const struct sim_method framework_methods[] = {
	{"spdk_kill_instance", rpc_spdk_kill_instance, SIM_RUNTIME},
	{"rpc_get_methods", rpc_rpc_get_methods, SIM_STARTUP | SIM_RUNTIME},
	{"spdk_get_version", rpc_spdk_get_version, SIM_STARTUP | SIM_RUNTIME},
	{"framework_start_init", rpc_framework_start_init, SIM_STARTUP},
	{"framework_wait_init", rpc_framework_wait_init, SIM_STARTUP | SIM_RUNTIME},
	{"framework_get_subsystems", rpc_framework_get_subsystems, SIM_RUNTIME},
	{"framework_get_config", rpc_framework_get_config, SIM_RUNTIME},
	{"iobuf_set_options", rpc_iobuf_set_options, SIM_STARTUP},
	{"sock_impl_set_options", rpc_sock_impl_set_options, SIM_STARTUP},
	{"sock_set_default_impl", rpc_sock_set_default_impl, SIM_STARTUP},
	{"sock_impl_get_options", rpc_sock_impl_get_options, SIM_STARTUP | SIM_RUNTIME},
	{"sock_get_default_impl", rpc_sock_get_default_impl, SIM_STARTUP | SIM_RUNTIME},
	{"accel_set_options", rpc_accel_set_options, SIM_STARTUP},
	{"framework_set_scheduler", rpc_framework_set_scheduler, SIM_STARTUP | SIM_RUNTIME},
	{NULL, NULL, 0},
};

const struct sim_module sim_module_framework = {
	.name = "framework",
	.methods = framework_methods,
	.init = framework_init,
	.fini = framework_fini,
	.config = framework_config,
};
