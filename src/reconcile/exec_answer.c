/* SPDX-License-Identifier: Apache-2.0 */
#include "reconcile/exec_answer.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static bool is(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

/* vhost_* answers -32602 with strerror text only; the text is all that tells errnos apart. */
static bool vhost_says(int code, const char *message, const char *text)
{
	return code == -32602 && message && strcmp(message, text) == 0;
}

enum exec_answer exec_answer_classify(const char *method, int code, const char *message)
{
	if (is(method, "bdev_nvme_attach_controller")) {
		if (code == -EALREADY) /* same name, same path: a retry of our own call */
			return EXEC_ANSWER_EXISTS;
		if (code == -EEXIST) /* the path is attached under another name */
			return EXEC_ANSWER_CONFLICT;
		if (code == -EINVAL && message && strstr(message, "already exists"))
			return EXEC_ANSWER_CONFLICT; /* our name, another subsystem */
		if (code == -EIO || code == -ETIMEDOUT || code == -ECONNREFUSED ||
		    code == -EAGAIN || code == -EBUSY)
			return EXEC_ANSWER_TRANSIENT; /* no listener, target away, auth not ready */
		return EXEC_ANSWER_FAILED;
	}
	if (is(method, "bdev_nvme_detach_controller")) {
		if (code == -ENODEV || code == -ENXIO) /* no such controller / path */
			return EXEC_ANSWER_GONE;
		return EXEC_ANSWER_FAILED;
	}
	if (is(method, "bdev_raid_create")) {
		if (code == -EEXIST)
			return EXEC_ANSWER_EXISTS;
		if (code == -EPERM) /* a base is claimed by something else */
			return EXEC_ANSWER_CONFLICT;
		return EXEC_ANSWER_FAILED;
	}
	if (is(method, "bdev_raid_delete")) {
		if (code == -ENODEV)
			return EXEC_ANSWER_GONE;
		return EXEC_ANSWER_FAILED;
	}
	if (is(method, "bdev_raid_add_base_bdev")) {
		if (code == -EPERM) /* already a member, or claimed elsewhere: look */
			return EXEC_ANSWER_EXISTS;
		if (code == -ENODEV)
			return EXEC_ANSWER_TRANSIENT; /* raid or base not there yet */
		return EXEC_ANSWER_FAILED;
	}
	if (is(method, "bdev_raid_remove_base_bdev")) {
		if (code == -ENODEV)
			return EXEC_ANSWER_GONE;
		return EXEC_ANSWER_FAILED;
	}
	if (is(method, "vhost_create_blk_controller")) {
		if (vhost_says(code, message, "File exists"))
			return EXEC_ANSWER_EXISTS;
		if (vhost_says(code, message, "Operation not permitted"))
			return EXEC_ANSWER_CONFLICT; /* the bdev is claimed by another module */
		if (vhost_says(code, message, "No such device"))
			return EXEC_ANSWER_TRANSIENT; /* the raid is not a bdev yet */
		return EXEC_ANSWER_FAILED;
	}
	if (is(method, "vhost_delete_controller")) {
		if (vhost_says(code, message, "No such device"))
			return EXEC_ANSWER_GONE;
		return EXEC_ANSWER_FAILED;
	}
	if (is(method, "bdev_set_qos_limit")) {
		if (code == -32602 && message &&
		    strstr(message, "Resource temporarily unavailable"))
			return EXEC_ANSWER_TRANSIENT; /* no I/O channel yet: SPDK races, try again
						       */
		if (code == -ENODEV)
			return EXEC_ANSWER_TRANSIENT;
		return EXEC_ANSWER_FAILED;
	}
	if (is(method, "keyring_file_add_key")) {
		if (code == -EEXIST) /* same name: the key is there (its file is the node's) */
			return EXEC_ANSWER_EXISTS;
		return EXEC_ANSWER_FAILED;
	}
	if (is(method, "keyring_file_remove_key")) {
		if (code == -ENOENT || code == -ENODEV)
			return EXEC_ANSWER_GONE;
		return EXEC_ANSWER_FAILED;
	}
	if (code == -EAGAIN || code == -EBUSY || code == -ETIMEDOUT)
		return EXEC_ANSWER_TRANSIENT;
	return EXEC_ANSWER_FAILED;
}

const char *exec_answer_hint(const char *method, int code, const char *message)
{
	/*
	 * Each vhost controller runs on an SPDK thread of its own; when SPDK's memory (-s) cannot
	 * hold another thread's message ring, the create fails with EIO and nothing else.
	 */
	if (is(method, "vhost_create_blk_controller") &&
	    vhost_says(code, message, "Input/output error"))
		return "most likely SPDK is out of memory for another controller thread (raise "
		       "its -s / hugepages; docs/operations.md, \"SPDK memory per volume\")";
	return NULL;
}

const char *exec_answer_name(enum exec_answer a)
{
	switch (a) {
	case EXEC_ANSWER_FAILED:
		return "failed";
	case EXEC_ANSWER_EXISTS:
		return "exists";
	case EXEC_ANSWER_GONE:
		return "gone";
	case EXEC_ANSWER_CONFLICT:
		return "conflict";
	case EXEC_ANSWER_TRANSIENT:
		return "transient";
	}
	return "?";
}
