/* SPDX-License-Identifier: Apache-2.0 */
/* Module options SPDK applies before framework_start_init (some are accepted after it, too). */
#include <errno.h>

#include "rpc/rpc_internal.h"

int rpc_bdev_nvme_set_options(struct rpc_client *c, const struct rpc_nvme_options *o,
			      struct rpc_error *err)
{
	json_t *p = json_object();
	int r;

	rpc_par_str(p, "action_on_timeout", o->action_on_timeout);
	rpc_par_int(p, "timeout_us", o->timeout_us);
	rpc_par_int(p, "timeout_admin_us", o->timeout_admin_us);
	rpc_par_int(p, "keep_alive_timeout_ms", o->keep_alive_timeout_ms);
	rpc_par_int(p, "transport_retry_count", o->transport_retry_count);
	rpc_par_int(p, "bdev_retry_count", o->bdev_retry_count);
	rpc_par_int(p, "transport_ack_timeout", o->transport_ack_timeout);
	rpc_par_int(p, "ctrlr_loss_timeout_sec", o->ctrlr_loss_timeout_sec);
	rpc_par_int(p, "reconnect_delay_sec", o->reconnect_delay_sec);
	rpc_par_int(p, "fast_io_fail_timeout_sec", o->fast_io_fail_timeout_sec);
	rpc_par_int(p, "tcp_connect_timeout_ms", o->tcp_connect_timeout_ms);
	rpc_par_tri(p, "disable_auto_failback", o->disable_auto_failback);
	rpc_par_tri(p, "generate_uuids", o->generate_uuids);
	rpc_par_tri(p, "io_path_stat", o->io_path_stat);
	r = rpc_call_true(c, "bdev_nvme_set_options", p, err);
	json_decref(p);
	return r;
}

int rpc_bdev_raid_set_options(struct rpc_client *c, int64_t process_window_size_kb,
			      int64_t process_max_bandwidth_mb_sec, struct rpc_error *err)
{
	json_t *p = json_object();
	int r;

	rpc_par_int(p, "process_window_size_kb", process_window_size_kb);
	rpc_par_int(p, "process_max_bandwidth_mb_sec", process_max_bandwidth_mb_sec);
	r = rpc_call_true(c, "bdev_raid_set_options", p, err);
	json_decref(p);
	return r;
}

int rpc_bdev_set_options(struct rpc_client *c, const struct rpc_bdev_options *o,
			 struct rpc_error *err)
{
	json_t *p = json_object();
	int r;

	rpc_par_int(p, "bdev_io_pool_size", o->bdev_io_pool_size);
	rpc_par_int(p, "bdev_io_cache_size", o->bdev_io_cache_size);
	rpc_par_tri(p, "bdev_auto_examine", o->bdev_auto_examine);
	rpc_par_int(p, "iobuf_small_cache_size", o->iobuf_small_cache_size);
	rpc_par_int(p, "iobuf_large_cache_size", o->iobuf_large_cache_size);
	r = rpc_call_true(c, "bdev_set_options", p, err);
	json_decref(p);
	return r;
}

int rpc_sock_impl_set_options(struct rpc_client *c, const struct rpc_sock_options *o,
			      struct rpc_error *err)
{
	json_t *p;
	int r;

	if (!o->impl_name)
		return rpc_error_set(err, -EINVAL, "sock_impl_set_options",
				     "impl_name is required");
	p = json_object();
	rpc_par_str(p, "impl_name", o->impl_name);
	rpc_par_int(p, "recv_buf_size", o->recv_buf_size);
	rpc_par_int(p, "send_buf_size", o->send_buf_size);
	rpc_par_tri(p, "enable_recv_pipe", o->enable_recv_pipe);
	rpc_par_tri(p, "enable_quickack", o->enable_quickack);
	rpc_par_int(p, "enable_placement_id", o->enable_placement_id);
	rpc_par_tri(p, "enable_zerocopy_send_server", o->enable_zerocopy_send_server);
	rpc_par_tri(p, "enable_zerocopy_send_client", o->enable_zerocopy_send_client);
	rpc_par_int(p, "zerocopy_threshold", o->zerocopy_threshold);
	rpc_par_int(p, "tls_version", o->tls_version);
	rpc_par_tri(p, "enable_ktls", o->enable_ktls);
	r = rpc_call_true(c, "sock_impl_set_options", p, err);
	json_decref(p);
	return r;
}
