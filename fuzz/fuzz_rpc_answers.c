/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: bytes as SPDK's answer stream, framed by the client's own framing code, each
 * answer turned into result/error as the client does and the result fed to every typed decoder.
 * Input byte 0 picks the read size (how the stream is split), byte 1 the answer size cap.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "rpc/rpc_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_all(json_t *res)
{
	struct rpc_error err;
	struct rpc_version v;
	struct rpc_subsystem_list sl;
	struct rpc_nvme_ctrlr_list cl;
	struct rpc_io_path_list pl;
	struct rpc_raid_list rl;
	struct rpc_bdev_list bl;
	struct rpc_iostat st;
	struct rpc_vhost_list vl;
	struct rpc_key_list kl;
	struct rpc_strv sv;
	char *text, *calls;

	if (rpc_decode_version(res, &v, &err) == 0)
		rpc_version_free(&v);
	if (rpc_decode_subsystems(res, &sl, &err) == 0)
		rpc_subsystem_list_free(&sl);
	if (rpc_decode_nvme_controllers(res, &cl, &err) == 0)
		rpc_nvme_ctrlr_list_free(&cl);
	if (rpc_decode_io_paths(res, &pl, &err) == 0)
		rpc_io_path_list_free(&pl);
	if (rpc_decode_raid_bdevs(res, &rl, &err) == 0)
		rpc_raid_list_free(&rl);
	if (rpc_decode_bdevs(res, &bl, &err) == 0)
		rpc_bdev_list_free(&bl);
	if (rpc_decode_iostat(res, &st, &err) == 0)
		rpc_iostat_free(&st);
	if (rpc_decode_vhost_controllers(res, &vl, &err) == 0)
		rpc_vhost_list_free(&vl);
	if (rpc_decode_keys(res, &kl, &err) == 0)
		rpc_key_list_free(&kl);
	if (rpc_decode_strv(res, "fuzz", &sv, &err) == 0)
		rpc_strv_free(&sv);
	/* A saved config document is read back from disk with the same decoder stack. */
	text = json_dumps(res, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text && rpc_config_preinit_calls(text, &calls, &err) == 0)
		free(calls);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_frame f;
	size_t chunk, off;
	char why[160];

	if (size < 2)
		return 0;
	chunk = (size_t)data[0] + 1;
	rpc_frame_init(&f, 64 + (size_t)data[1] * 64);
	data += 2;
	size -= 2;
	for (off = 0; off < size;) {
		size_t n = size - off < chunk ? size - off : chunk;
		json_t *v;
		int r;

		if (rpc_frame_push(&f, data + off, n) < 0)
			break;
		off += n;
		while ((r = rpc_frame_next(&f, off == size || (off / chunk) % 3 == 0, &v, why,
					   sizeof(why))) == 1) {
			struct rpc_error err;
			json_t *res = NULL;

			if (rpc_answer_take(v, "fuzz", &res, &err) == 0) {
				decode_all(res);
				json_decref(res);
			}
			json_decref(v);
		}
		if (r < 0)
			break;
	}
	rpc_frame_fini(&f);
	return 0;
}
