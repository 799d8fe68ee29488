/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim raid: the I/O channels an array holds on its members, which is what makes the
 * members' NVMe paths show in bdev_nvme_get_io_paths. In SPDK v25.09 (bdev_raid.c):
 * - raid_bdev_configure_base_bdev opens base_info->app_thread_ch right after the claim and
 *   reads the member's superblock area through it; raid_bdev_free_base_bdev_resource puts
 *   it. Superblock writes go through it too.
 * - raid_bdev_create_cb (a channel of the raid bdev opens on a thread) opens a channel on
 *   every configured member on that thread; raid_bdev_destroy_cb puts them;
 *   raid_bdev_channel_remove_base_bdev puts one member's on every channel; a rebuild
 *   target gets one on every channel (raid_bdev_ch_process_setup) that it keeps when the
 *   rebuild completes.
 * Each member records the threads it holds a channel on for the array's channels, so
 * every open is matched by exactly one close whatever happens to the array meanwhile.
 */
#include <string.h>

#include "sim/sim_raid.h"

#define RAID_APP_THREAD "app_thread"

static void base_thread_add(struct raid_base *base, const char *thread)
{
	if (!base->ch_threads)
		base->ch_threads = json_array();
	json_array_append_new(base->ch_threads, json_string(thread));
}

/* Drop the record of thread; false when the member held nothing there. */
static bool base_thread_remove(struct raid_base *base, const char *thread)
{
	size_t i;
	json_t *t;

	json_array_foreach(base->ch_threads, i, t)
	{
		if (strcmp(json_string_value(t), thread) == 0) {
			json_array_remove(base->ch_threads, i);
			return true;
		}
	}
	return false;
}

/* Close every channel the array's channels hold on this member. */
static void base_threads_close(struct sim *s, struct raid_base *base)
{
	json_t *threads = base->ch_threads;
	size_t i;
	json_t *t;

	base->ch_threads = NULL;
	json_array_foreach(threads, i, t) sim_bdev_channel_close(s, base->bdev,
								 json_string_value(t));
	json_decref(threads);
}

void raid_channel_base_claimed(struct sim *s, struct raid_base *base, bool io)
{
	if (!base->bdev || base->app_ch)
		return;
	sim_bdev_channel_open(s, base->bdev, RAID_APP_THREAD);
	base->app_ch = true;
	if (io)
		sim_bdev_channel_io(s, base->bdev, RAID_APP_THREAD);
}

void raid_channel_base_joined(struct sim *s, struct raid_base *base)
{
	struct raid_bdev *r = base->raid;
	json_t *threads, *t;
	size_t i;

	if (!r->bdev || !base->bdev)
		return;
	threads = sim_bdev_channel_threads(s, r->bdev);
	json_array_foreach(threads, i, t)
	{
		sim_bdev_channel_open(s, base->bdev, json_string_value(t));
		base_thread_add(base, json_string_value(t));
	}
	json_decref(threads);
}

void raid_channel_base_released(struct sim *s, struct raid_base *base)
{
	if (!base->bdev) {
		json_decref(base->ch_threads);
		base->ch_threads = NULL;
		base->app_ch = false;
		return;
	}
	base_threads_close(s, base);
	if (base->app_ch)
		sim_bdev_channel_close(s, base->bdev, RAID_APP_THREAD);
	base->app_ch = false;
}

void raid_channel_bdev_gone(struct sim *s, struct raid_bdev *r)
{
	for (uint8_t i = 0; i < r->num_base_bdevs; i++)
		base_threads_close(s, &r->base[i]);
}

void raid_channel_changed(struct sim *s, struct sim_bdev *b, const char *thread, bool open)
{
	struct raid_bdev *r = b->ctx;

	if (!r)
		return; /* the array let go of its bdev (shutdown): nothing below any more */
	for (uint8_t i = 0; i < r->num_base_bdevs; i++) {
		struct raid_base *base = &r->base[i];

		if (!base->bdev)
			continue;
		if (open && base->is_configured) {
			sim_bdev_channel_open(s, base->bdev, thread);
			base_thread_add(base, thread);
		} else if (!open && base_thread_remove(base, thread)) {
			sim_bdev_channel_close(s, base->bdev, thread);
		}
	}
}
