/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Answers real SPDK v25.09 does not reproduce on replay (README "Answers real SPDK
 * does not reproduce on replay"): for each listed step, which other answers real SPDK
 * can give, and why. Everything not listed here must match the recording exactly.
 */
#include "replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char qos_eagain[] = "timing: a QoS change on raid_1, which has no I/O channel, can "
				 "still be in flight when the next one arrives (EAGAIN); the "
				 "other recorded run of the same script shows those answers";

static const struct replay_alt alts[] = {
	/* QoS on a bdev without an open channel: both recorded runs are valid answers */
	{"qos_iostat.jsonl", "25", ALT_OTHER_RUN, "qos_iostat_eagain_run.jsonl", qos_eagain},
	{"qos_iostat.jsonl", "26", ALT_OTHER_RUN, "qos_iostat_eagain_run.jsonl", qos_eagain},
	{"qos_iostat.jsonl", "27", ALT_OTHER_RUN, "qos_iostat_eagain_run.jsonl", qos_eagain},
	{"qos_iostat.jsonl", "28", ALT_OTHER_RUN, "qos_iostat_eagain_run.jsonl", qos_eagain},
	{"qos_iostat.jsonl", "32", ALT_OTHER_RUN, "qos_iostat_eagain_run.jsonl", qos_eagain},
	{"qos_iostat.jsonl", "33", ALT_OTHER_RUN, "qos_iostat_eagain_run.jsonl", qos_eagain},
	{"qos_iostat.jsonl", "43", ALT_OTHER_RUN, "qos_iostat_eagain_run.jsonl",
	 "examine I/O counters and the order bdevs finish registering vary between runs"},
	{"qos_iostat.jsonl", "45", ALT_OTHER_RUN, "qos_iostat_eagain_run.jsonl",
	 "whether the probe subsystem's poll group already holds raid_1's channel (one "
	 "channel, or none) depends on timing"},
	{"qos_iostat_eagain_run.jsonl", "25", ALT_OTHER_RUN, "qos_iostat.jsonl", qos_eagain},
	{"qos_iostat_eagain_run.jsonl", "26", ALT_OTHER_RUN, "qos_iostat.jsonl", qos_eagain},
	{"qos_iostat_eagain_run.jsonl", "27", ALT_OTHER_RUN, "qos_iostat.jsonl", qos_eagain},
	{"qos_iostat_eagain_run.jsonl", "28", ALT_OTHER_RUN, "qos_iostat.jsonl", qos_eagain},
	{"qos_iostat_eagain_run.jsonl", "32", ALT_OTHER_RUN, "qos_iostat.jsonl", qos_eagain},
	{"qos_iostat_eagain_run.jsonl", "33", ALT_OTHER_RUN, "qos_iostat.jsonl", qos_eagain},
	{"qos_iostat_eagain_run.jsonl", "43", ALT_OTHER_RUN, "qos_iostat.jsonl",
	 "examine I/O counters and the order bdevs finish registering vary between runs"},
	{"qos_iostat_eagain_run.jsonl", "45", ALT_OTHER_RUN, "qos_iostat.jsonl",
	 "whether raid_1 has an I/O channel at that moment depends on timing"},
	/* the storage node's nvmf config: listener/subsystem order follows creation timing */
	{"config.jsonl", "42", ALT_IGNORE_KEYS, "nguid,uuid",
	 "a namespace's nguid (and uuid) are its lvol's random uuid, the nguid written as 32 "
	 "hex digits without dashes, which the uuid normalisation does not recognise"},
	/* path_failure: when a lost path is noticed and torn down varies by up to a second */
	{"path_failure.jsonl", "70", ALT_IGNORE_KEYS, "memory_domains,driver_specific",
	 "the controller loss timer (10 s) races the poll: the raid's base list and the "
	 "NVMe bdev's path list may still show the dying path"},
	{"path_failure.jsonl", "72", ALT_NAMES_ONLY, NULL,
	 "the surviving controller may be in the middle of a reconnect when polled"},
	{"path_failure.jsonl", "73", ALT_IGNORE_KEYS, "uuid,data_size,name",
	 "the removed base slot keeps or clears its old uuid/size depending on when the "
	 "NVMe bdev was deleted"},
	{"path_failure.jsonl", "74", ALT_ERROR_OK, "-114,-17",
	 "the old controller may still be deleting when the re-attach arrives"},
	{"path_failure.jsonl", "75", ALT_IGNORE_KEYS, "uuid,data_size,name",
	 "as #73: the removed base slot's uuid/size depend on the deletion moment"},
	{"path_failure.jsonl", "76", ALT_ERROR_OK, "-1",
	 "nvme1n1 may still be under examine, so the raid cannot claim it yet (EPERM)"},
	{"path_failure.jsonl", "122", ALT_NAMES_IN, "nvme0n1,nvme1n1,raid_1",
	 "bdevs of a dead storage node disappear when their loss timers fire (the raid with "
	 "its last base); the poll may see some of them still listed"},
	{"path_failure.jsonl", "timed:host:bdev_nvme_get_controllers", ALT_SUBSEQUENCE, NULL,
	 "1 Hz polls can miss short states (resetting) and land before or after the loss "
	 "is noticed"},
	{"path_failure.jsonl", "timed:host:bdev_nvme_get_io_paths", ALT_SUBSEQUENCE, NULL,
	 "as get_controllers: the path's connected flag flips at a moment that varies"},
	{"path_failure.jsonl", "timed:host:bdev_raid_get_bdevs", ALT_SUBSEQUENCE, "degraded",
	 "the raid drops each base when its NVMe bdev is deleted, which varies by a poll; each "
	 "controller is deleted at its own failed reconnect after the loss timeout (its own "
	 "reconnect_delay cadence), so a poll may also land between the two and see the raid "
	 "degraded"},
	/* raid: rebuild end and superblock re-assembly race the polls */
	{"raid.jsonl", "58", ALT_IGNORE_KEYS, "process",
	 "the rebuild may still be finishing (a \"process\" member) when polled"},
	{"raid.jsonl", "59", ALT_IGNORE_KEYS, "process",
	 "as #58, seen through bdev_get_bdevs' driver_specific"},
	{"raid.jsonl", "63", ALT_IGNORE_KEYS, "process", "a rebuild of raid_1 may still be listed"},
	{"raid.jsonl", "70", ALT_IGNORE_KEYS, "process",
	 "the re-assembled raid_sb may start or skip a resync depending on timing"},
	{NULL, NULL, 0, NULL, NULL},
};

const struct replay_alt *replay_alt_find(const char *file, const char *step)
{
	for (const struct replay_alt *a = alts; a->file; a++)
		if (strcmp(a->file, file) == 0 && strcmp(a->step, step) == 0)
			return a;
	return NULL;
}

/* The recorded answer of `step` in another transcript file (new reference). */
static json_t *other_run_answer(const char *dir, const char *file, int step)
{
	char path[1024], line[1 << 17];
	json_t *ans = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	while (!ans && fgets(line, sizeof(line), f)) {
		json_t *d = json_loads(line, 0, NULL);

		if (d && json_integer_value(json_object_get(d, "step")) == step)
			ans = json_incref(json_object_get(d, "response"));
		json_decref(d);
	}
	fclose(f);
	return ans;
}

static bool same_ignoring_id(const json_t *a, const json_t *b)
{
	json_t *x = json_deep_copy(a), *y = json_deep_copy(b);
	bool eq;

	json_object_del(x, "id");
	json_object_del(y, "id");
	eq = json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return eq;
}

static json_t *names_of(const json_t *result)
{
	json_t *names = json_object(), *e;
	size_t i;

	json_array_foreach(result, i, e) json_object_set_new(
		names, json_string_value(json_object_get(e, "name")) ?: "", json_true());
	return names;
}

bool replay_alt_accept(const struct replay_alt *a, const char *dir, int step, const json_t *want,
		       const json_t *got)
{
	const json_t *wr = json_object_get(want, "result"), *gr = json_object_get(got, "result");

	switch (a->kind) {
	case ALT_OTHER_RUN: {
		json_t *other = other_run_answer(dir, a->arg, step);
		bool ok;

		/* the other recording left cntlid / progress in as well */
		replay_drop_key(other, "cntlid");
		replay_drop_key(other, "progress");
		ok = other && same_ignoring_id(other, got);

		json_decref(other);
		return ok;
	}
	case ALT_IGNORE_KEYS: {
		json_t *x = json_deep_copy(want), *y = json_deep_copy(got);
		char *keys = strdup(a->arg), *save = NULL;
		bool ok;

		for (char *k = strtok_r(keys, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
			replay_drop_key(x, k);
			replay_drop_key(y, k);
		}
		ok = json_equal(x, y);
		free(keys);
		json_decref(x);
		json_decref(y);
		return ok;
	}
	case ALT_ERROR_OK: {
		json_t *err = json_object_get(got, "error");
		char *codes = strdup(a->arg), *save = NULL;
		bool ok = false;

		for (char *c = strtok_r(codes, ",", &save); c && err;
		     c = strtok_r(NULL, ",", &save))
			ok |= json_integer_value(json_object_get(err, "code")) == atoi(c);
		free(codes);
		return ok;
	}
	case ALT_NAMES_ONLY: {
		json_t *x, *y;
		bool ok;

		if (!json_is_array(wr) || !json_is_array(gr))
			return false;
		x = names_of(wr);
		y = names_of(gr);
		ok = json_equal(x, y);
		json_decref(x);
		json_decref(y);
		return ok;
	}
	case ALT_NAMES_IN: {
		json_t *e;
		size_t i;

		if (!json_is_array(gr))
			return false;
		json_array_foreach(gr, i, e)
		{
			const char *n = json_string_value(json_object_get(e, "name"));
			char *list = strdup(a->arg), *save = NULL;
			bool listed = false;

			for (char *x = strtok_r(list, ",", &save); x && n;
			     x = strtok_r(NULL, ",", &save))
				listed |= strcmp(x, n) == 0;
			free(list);
			if (!listed)
				return false;
		}
		return true;
	}
	case ALT_SUBSEQUENCE:
		/* handled by the timed-poll comparison, which has the sequences */
		return false;
	}
	return false;
}
