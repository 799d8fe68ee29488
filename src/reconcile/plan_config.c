/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration defaults and checks, and the printable form of actions. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "reconcile/plan.h"

/* sun_path holds 108 bytes; "/vhost" + 20 digits + NUL must fit after the directory. */
#define VHOST_SOCK_MAX 108
#define VHOST_NAME_ROOM 27

void plan_config_defaults(struct plan_config *c)
{
	memset(c, 0, sizeof(*c));
	c->reconnect_delay_s = 1;
	c->ctrlr_loss_s = 10;
	c->fast_io_fail_s = 0;
	c->member_giveup_s = 15;
	c->guest_io_timeout_s = 30;
	c->assembly_wait_s = 5;
	c->orphan_grace_s = 300;
	snprintf(c->hostnqn, sizeof(c->hostnqn), "nqn.2024-01.io.diskengine:host");
	snprintf(c->vhost_dir, sizeof(c->vhost_dir), "/var/tmp");
	snprintf(c->cpumask, sizeof(c->cpumask), "0x1");
}

static int fail(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (err && size) {
		va_start(ap, fmt);
		vsnprintf(err, size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool cpumask_valid(const char *s)
{
	const char *p = s;

	if (strncmp(s, "0x", 2) == 0 || strncmp(s, "0X", 2) == 0)
		p += 2;
	if (*p == '\0')
		return false;
	for (; *p; p++)
		if (!isxdigit((unsigned char)*p))
			return false;
	return true;
}

int plan_config_check(const struct plan_config *c, char *err, size_t err_size)
{
	/* SPDK rejects reconnect_delay 0 with a loss timeout, and reconnect_delay > ctrlr_loss. */
	if (c->reconnect_delay_s < 1)
		return fail(err, err_size, "reconnect_delay %d s: must be at least 1 s",
			    c->reconnect_delay_s);
	if (c->reconnect_delay_s > c->ctrlr_loss_s)
		return fail(err, err_size, "reconnect_delay %d s exceeds ctrlr_loss %d s",
			    c->reconnect_delay_s, c->ctrlr_loss_s);
	if (c->fast_io_fail_s < 0 || c->fast_io_fail_s >= c->ctrlr_loss_s)
		return fail(err, err_size,
			    "fast_io_fail %d s must be >= 0 and below ctrlr_loss %d s",
			    c->fast_io_fail_s, c->ctrlr_loss_s);
	if (c->member_giveup_s <= c->ctrlr_loss_s)
		return fail(
			err, err_size,
			"raid member give-up %d s must exceed ctrlr_loss %d s: a path SPDK still "
			"retries must not be given up",
			c->member_giveup_s, c->ctrlr_loss_s);
	if (c->guest_io_timeout_s <= c->member_giveup_s)
		return fail(
			err, err_size,
			"guest I/O timeout %d s must exceed raid member give-up %d s: the guest "
			"would see errors before the raid degrades",
			c->guest_io_timeout_s, c->member_giveup_s);
	if (c->assembly_wait_s < 1)
		return fail(err, err_size, "raid assembly wait %d s: must be at least 1 s",
			    c->assembly_wait_s);
	if (c->orphan_grace_s < 0)
		return fail(err, err_size, "orphan grace period %d s: must not be negative",
			    c->orphan_grace_s);
	if (strncmp(c->hostnqn, "nqn.", 4) != 0 || strlen(c->hostnqn) > 223)
		return fail(err, err_size,
			    "hostnqn '%s': must start with 'nqn.' and have at most "
			    "223 characters",
			    c->hostnqn);
	if (c->vhost_dir[0] != '/')
		return fail(err, err_size, "vhost socket directory '%s': must be an absolute path",
			    c->vhost_dir);
	if (strlen(c->vhost_dir) + VHOST_NAME_ROOM > VHOST_SOCK_MAX)
		return fail(err, err_size,
			    "vhost socket directory '%s' is too long: socket paths must fit in %d "
			    "bytes",
			    c->vhost_dir, VHOST_SOCK_MAX);
	if (!cpumask_valid(c->cpumask))
		return fail(err, err_size, "cpumask '%s': want a hexadecimal mask such as 0x2",
			    c->cpumask);
	return 0;
}

static const char *const kind_names[ACTION_KIND_COUNT] = {
	[ACTION_ADD_KEY] = "ADD_KEY",
	[ACTION_REMOVE_KEY] = "REMOVE_KEY",
	[ACTION_ATTACH_PATH] = "ATTACH_PATH",
	[ACTION_DETACH_PATH] = "DETACH_PATH",
	[ACTION_DETACH_CONTROLLER] = "DETACH_CONTROLLER",
	[ACTION_CREATE_RAID] = "CREATE_RAID",
	[ACTION_WAIT_RAID_ASSEMBLY] = "WAIT_RAID_ASSEMBLY",
	[ACTION_AWAIT_PATH] = "AWAIT_PATH",
	[ACTION_CHECK_MEMBERS] = "CHECK_MEMBERS",
	[ACTION_ADD_RAID_BASE] = "ADD_RAID_BASE",
	[ACTION_REMOVE_RAID_BASE] = "REMOVE_RAID_BASE",
	[ACTION_DELETE_RAID] = "DELETE_RAID",
	[ACTION_SET_QOS] = "SET_QOS",
	[ACTION_CREATE_VHOST] = "CREATE_VHOST",
	[ACTION_DELETE_VHOST] = "DELETE_VHOST",
	[ACTION_MAPPING_ADVANCE] = "MAPPING_ADVANCE",
	[ACTION_REPLICA_PROMOTE] = "REPLICA_PROMOTE",
	[ACTION_REPLICA_SET_SYNC] = "REPLICA_SET_SYNC",
	[ACTION_RESIZE_FINISH] = "RESIZE_FINISH",
	[ACTION_SET_CLEAN_STOP] = "SET_CLEAN_STOP",
	[ACTION_SET_STATUS] = "SET_STATUS",
	[ACTION_REPORT_CONFLICT] = "REPORT_CONFLICT",
	[ACTION_INIT_VERIFY] = "INIT_VERIFY",
	[ACTION_INIT_MARK_WIPED] = "INIT_MARK_WIPED",
	[ACTION_INIT_WIPE] = "INIT_WIPE",
	[ACTION_INIT_CHECK_RAID] = "INIT_CHECK_RAID",
};

const char *plan_action_kind_name(enum action_kind k)
{
	if ((unsigned)k >= ACTION_KIND_COUNT)
		return "UNKNOWN";
	return kind_names[k];
}

static const char *state_name(enum mapping_state s)
{
	static const char *const n[] = {"ASSIGNED", "INITIALISED", "ATTACHED", "DETACH_REQUESTED",
					"DETACHED"};

	return (unsigned)s < 5 ? n[s] : "?";
}

int plan_action_describe(const struct action *a, char *buf, size_t size)
{
	const char *k = plan_action_kind_name(a->kind);

	switch (a->kind) {
	case ACTION_ATTACH_PATH:
		return snprintf(buf, size, "%s[%u] %s %s %s %s %s hostaddr=%s%s", a->group, a->step,
				k, a->object, a->path.trtype, a->path.traddr, a->path.trsvcid,
				a->path.hostaddr, a->path.multipath ? " multipath" : "");
	case ACTION_CREATE_RAID:
	case ACTION_CHECK_MEMBERS:
		return snprintf(buf, size, "%s[%u] %s %s [%s %s]", a->group, a->step, k, a->object,
				a->raid.bases[0], a->raid.n_bases > 1 ? a->raid.bases[1] : "");
	case ACTION_ADD_RAID_BASE:
	case ACTION_REMOVE_RAID_BASE:
		return snprintf(buf, size, "%s[%u] %s %s %s", a->group, a->step, k, a->object,
				a->raid.base);
	case ACTION_CREATE_VHOST:
		return snprintf(buf, size, "%s[%u] %s %s -> %s", a->group, a->step, k, a->object,
				a->vhost.bdev);
	case ACTION_MAPPING_ADVANCE:
		return snprintf(buf, size, "%s[%u] %s mapping %" PRIu64 " %s -> %s", a->group,
				a->step, k, a->mapping_id, state_name(a->from), state_name(a->to));
	case ACTION_SET_STATUS:
	case ACTION_REPORT_CONFLICT:
		return snprintf(buf, size, "%s[%u] %s %s", a->group, a->step, k, a->message);
	default:
		return snprintf(buf, size, "%s[%u] %s %s", a->group, a->step, k, a->object);
	}
}
