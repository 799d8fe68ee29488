/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_TEST_ANSWER_FILL_H
#define DISKENGINE_TEST_ANSWER_FILL_H

/*
 * Test fixtures write only the fields a test is about; these complete them into the whole shape
 * SPDK v25.09 sends (the typed decoders require it) and decode them with rpc_parse_*. A fixture
 * that is not JSON or not completable fails the test.
 */

#include "rpc/spdk.h"

void fill_controllers(const char *json, struct rpc_nvme_ctrlr_list *out);
void fill_raids(const char *json, struct rpc_raid_list *out);
void fill_vhosts(const char *json, struct rpc_vhost_list *out);
void fill_bdevs(const char *json, struct rpc_bdev_list *out);
void fill_keys(const char *json, struct rpc_key_list *out);

#endif
