/* SPDX-License-Identifier: Apache-2.0 */
/*
 * I/O channels per SPDK thread. SPDK creates a bdev's channel on a thread when a user
 * (an nvmf poll group, a vhost session, raid's superblock I/O) asks for one there; a
 * stacking bdev's channel holds its members' channels on the same thread. The NVMe
 * module reports them in bdev_nvme_get_io_paths.
 */
#include "sim/sim_nvme_internal.h"

#include "common/util.h"

#include <stdlib.h>
#include <string.h>

static struct sim_channel *channel_find(struct sim *s, struct sim_bdev *b, const char *thread)
{
	for (struct sim_channel *c = s->nvme ? s->nvme->channels : NULL; c; c = c->next)
		if (c->bdev == b && strcmp(c->thread, thread) == 0)
			return c;
	return NULL;
}

void sim_bdev_channel_open(struct sim *s, struct sim_bdev *b, const char *thread)
{
	struct sim_channel *c, **tail;

	if (!s->nvme || !b || !thread)
		return;
	b->channels++;
	/* bdev_channel_create -> bdev_enable_qos: the first channel hosts the rate limits */
	for (int i = 0; i < SIM_QOS_COUNT && !b->qos_thread; i++)
		b->qos_thread = b->qos[i] != 0;
	c = channel_find(s, b, thread);
	if (c) {
		c->refs++;
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->bdev = b;
	c->thread = util_xstrdup(thread);
	c->refs = 1;
	for (tail = &s->nvme->channels; *tail; tail = &(*tail)->next)
		;
	*tail = c;
	if (b->ops && b->ops->channel_changed)
		b->ops->channel_changed(s, b, thread, true);
}

static void channel_unlink(struct sim *s, struct sim_channel *c)
{
	for (struct sim_channel **pp = &s->nvme->channels; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	free(c->thread);
	free(c);
}

void sim_bdev_channel_close(struct sim *s, struct sim_bdev *b, const char *thread)
{
	struct sim_channel *c = b && thread ? channel_find(s, b, thread) : NULL;

	if (!c)
		return;
	if (b->channels)
		b->channels--;
	if (--c->refs > 0)
		return;
	channel_unlink(s, c);
	if (b->ops && b->ops->channel_changed)
		b->ops->channel_changed(s, b, thread, false);
}

void sim_bdev_channel_io(struct sim *s, struct sim_bdev *b, const char *thread)
{
	struct sim_channel *c = b && thread ? channel_find(s, b, thread) : NULL;

	if (c)
		c->io_done = true;
}

json_t *sim_bdev_channel_threads(struct sim *s, struct sim_bdev *b)
{
	json_t *arr = json_array();

	for (struct sim_channel *c = s->nvme ? s->nvme->channels : NULL; c; c = c->next)
		if (c->bdev == b)
			json_array_append_new(arr, json_string(c->thread));
	return arr;
}

struct sim_channel *sim_channel_first(struct sim *s)
{
	return s->nvme ? s->nvme->channels : NULL;
}

void sim_channel_forget_bdev(struct sim *s, struct sim_bdev *b)
{
	struct sim_channel *c, *next;

	if (!s->nvme)
		return;
	for (c = s->nvme->channels; c; c = next) {
		next = c->next;
		if (c->bdev == b)
			channel_unlink(s, c);
	}
	b->channels = 0;
}

void sim_channel_clear_io(struct sim *s, struct sim_bdev *b)
{
	for (struct sim_channel *c = s->nvme ? s->nvme->channels : NULL; c; c = c->next)
		if (c->bdev == b)
			c->io_done = false;
}

void sim_channel_free_all(struct sim *s)
{
	while (s->nvme && s->nvme->channels)
		channel_unlink(s, s->nvme->channels);
}
