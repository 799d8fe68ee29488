/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: a saved SPDK config file as an operator's disk may hold it (any bytes), compared
 * by drift with a live config, both ways round. Input up to the first NUL byte is the saved
 * document, the rest (if any) the live one; without a NUL the live one is a small valid config.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/drift.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed_live[] =
	"{\"subsystems\": [{\"subsystem\": \"bdev\", \"config\": ["
	"{\"method\": \"bdev_nvme_set_options\", \"params\": {\"transport_retry_count\": 4}},"
	"{\"method\": \"bdev_nvme_attach_controller\", \"params\": {\"name\": \"de_1\","
	" \"traddr\": \"10.0.0.1\", \"trsvcid\": \"4420\", \"subnqn\": \"nqn.a\"}}]},"
	"{\"subsystem\": \"vhost_blk\", \"config\": [{\"method\": \"vhost_create_blk_controller\","
	" \"params\": {\"ctrlr\": \"vhost1\", \"dev_name\": \"raid_1\"}}]}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	const char *saved, *live = fixed_live;
	struct drift_report r = {0};
	size_t nul;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	saved = buf;
	nul = strlen(buf);
	if (nul < size)
		live = buf + nul + 1;
	drift_saved(saved, "/fuzz/saved.json", live, &r);
	drift_report_free(&r);
	/* the input as the live answer: an error for anything that is not a config */
	drift_saved(fixed_live, "/fuzz/saved.json", saved, &r);
	drift_report_free(&r);
	free(buf);
	return 0;
}
