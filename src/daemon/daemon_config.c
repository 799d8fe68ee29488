/* SPDX-License-Identifier: Apache-2.0 */
#include "daemon/daemon_config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/daemon_metrics.h"

/* How a value is stored into the config. */
enum opt_kind {
	OPT_STR,  /* bounded string */
	OPT_U32,  /* unsigned 32-bit */
	OPT_I32,  /* signed 32-bit (timers may be -1 in SPDK, refused by the check) */
	OPT_BOOL, /* flag, or true/false in the file */
	OPT_IPS,  /* comma-separated address list */
};

struct opt_desc {
	const char *name;
	enum opt_kind kind;
	size_t off;
	size_t size;
	const char *help;
	/* OPT_U32/OPT_I32: the range daemon_config_check enforces, and its unit */
	int64_t min, max;
	const char *unit;
};

#define STR(f) OPT_STR, offsetof(struct daemon_config, f), sizeof(((struct daemon_config *)0)->f)
#define NUM(k, f) k, offsetof(struct daemon_config, f), 0
/*
 * Ranges: every value must fit the int the planner and SPDK's options take (a grace period of
 * 2^31 s must not wrap to -1 and remove orphans at once), and a day or an hour is already far
 * beyond anything useful for a timer.
 */
#define DAY_S 86400
#define HOUR_MS 3600000

static const struct opt_desc opts[] = {
	{"mode", STR(mode), "run mode; only 'baremetal'", 0, 0, NULL},
	{"spdk-sock", STR(spdk_sock), "SPDK JSON-RPC socket (env SPDK_RPC_SOCK)", 0, 0, NULL},
	{"host", STR(host), "this host's name in the database (env BAREMETAL_ID)", 0, 0, NULL},
	{"db", STR(db_url), "database URL or SQLite path (env DISKENGINE_DB)", 0, 0, NULL},
	{"rdma-ips", OPT_IPS, 0, 0, "local source addresses, comma-separated (env RDMA_IPS)", 0, 0,
	 NULL},
	{"vhost-dir", STR(vhost_dir), "directory of vhost-blk sockets (SPDK's -S)", 0, 0, NULL},
	{"saved-config", STR(saved_config), "file the live SPDK config is saved to", 0, 0, NULL},
	{"sysfs-root", STR(sysfs_root), "root of /sys and /proc (tests use a fake tree)", 0, 0,
	 NULL},
	{"hostnqn", STR(hostnqn), "NVMe host NQN for fabric attaches", 0, 0, NULL},
	{"cpumask", STR(cpumask), "cpumask of vhost controllers", 0, 0, NULL},
	{"log-level", STR(log_level), "error, warn, info or debug", 0, 0, NULL},
	{"metrics-listen", STR(metrics_listen),
	 "serve Prometheus metrics at http://ADDR:PORT/metrics ([::1]:PORT for IPv6)", 0, 0, NULL},
	{"iostat-interval-ms", NUM(OPT_U32, iostat_interval_ms),
	 "period of the iostat scraper (with --metrics-listen); 0 turns it off", 0, HOUR_MS, "ms"},
	{"interval-ms", NUM(OPT_U32, interval_ms), "pass period when nothing wakes the daemon", 1,
	 HOUR_MS, "ms"},
	{"rpc-timeout-ms", NUM(OPT_U32, rpc_timeout_ms), "timeout of one SPDK call", 1, HOUR_MS,
	 "ms"},
	{"concurrency", NUM(OPT_U32, concurrency), "SPDK calls in flight at once", 1, 4096,
	 "calls"},
	{"reconnect-delay", NUM(OPT_I32, reconnect_delay_s), "bdev_nvme reconnect_delay_sec", 1,
	 DAY_S, "s"},
	{"ctrlr-loss-timeout", NUM(OPT_I32, ctrlr_loss_s), "bdev_nvme ctrlr_loss_timeout_sec", 1,
	 DAY_S, "s"},
	{"fast-io-fail-timeout", NUM(OPT_I32, fast_io_fail_s), "bdev_nvme fast_io_fail_timeout_sec",
	 0, DAY_S, "s"},
	{"member-giveup", NUM(OPT_I32, member_giveup_s),
	 "seconds before a lost path leaves its RAID", 1, DAY_S, "s"},
	{"guest-io-timeout", NUM(OPT_I32, guest_io_timeout_s), "the guests' I/O timeout, seconds",
	 1, DAY_S, "s"},
	{"flap-limit", NUM(OPT_I32, flap_limit),
	 "reconnects of one path within flap-window that give it up as RAID member", 2, 1000,
	 "resets"},
	{"flap-window", NUM(OPT_I32, flap_window_s),
	 "seconds: window of flap-limit, and quiet time before a given-up path is taken back", 1,
	 DAY_S, "s"},
	{"orphan-grace", NUM(OPT_U32, orphan_grace_s),
	 "seconds before unclaimed objects are removed", 0, 365 * DAY_S, "s"},
	{"once", NUM(OPT_BOOL, once), "run one reconcile pass and exit", 0, 0, NULL},
	{"allow-unsafe-noiommu", NUM(OPT_BOOL, allow_unsafe_noiommu),
	 "attach local drives bound to uio on a host without an IOMMU (no DMA isolation)", 0, 0,
	 NULL},
};

void daemon_config_defaults(struct daemon_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	util_strlcpy(cfg->spdk_sock, "/var/tmp/spdk.sock", sizeof(cfg->spdk_sock));
	util_strlcpy(cfg->db_url, "/var/lib/diskengine/diskengine.db", sizeof(cfg->db_url));
	util_strlcpy(cfg->vhost_dir, "/var/tmp", sizeof(cfg->vhost_dir));
	util_strlcpy(cfg->saved_config, "/var/lib/diskengine/spdk-config.json",
		     sizeof(cfg->saved_config));
	util_strlcpy(cfg->sysfs_root, "/", sizeof(cfg->sysfs_root));
	util_strlcpy(cfg->hostnqn, "nqn.2024-01.io.diskengine:host", sizeof(cfg->hostnqn));
	util_strlcpy(cfg->log_level, "info", sizeof(cfg->log_level));
	cfg->interval_ms = 5000;
	cfg->iostat_interval_ms = 10000;
	cfg->rpc_timeout_ms = 10000;
	/*
	 * Real SPDK answers a fabric attach only once the controller connected (~70 ms): with 32
	 * in flight, 200 attaches took seven rounds. SPDK's RPC server bounds nothing per
	 * connection, and a worker is a parked thread while its call is out.
	 */
	cfg->concurrency = 256;
	cfg->reconnect_delay_s = 1;
	cfg->ctrlr_loss_s = 10;
	cfg->fast_io_fail_s = 0;
	cfg->member_giveup_s = 20;
	cfg->guest_io_timeout_s = 30;
	cfg->flap_limit = 5;
	cfg->flap_window_s = 60;
	cfg->orphan_grace_s = 300;
}

static void seterr(char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

static int set_ips(struct daemon_config *cfg, const char *val, char *errbuf, size_t errlen)
{
	char buf[1024];
	char *save = NULL;
	unsigned n = 0;

	if (util_strlcpy(buf, val, sizeof(buf)) < 0) {
		seterr(errbuf, errlen, "rdma-ips: list too long");
		return -EINVAL;
	}
	for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (n == DAEMON_MAX_RDMA_IPS) {
			seterr(errbuf, errlen, "rdma-ips: more than %d addresses",
			       DAEMON_MAX_RDMA_IPS);
			return -EINVAL;
		}
		if (util_strlcpy(cfg->rdma_ips[n], tok, sizeof(cfg->rdma_ips[n])) < 0) {
			seterr(errbuf, errlen, "rdma-ips: '%s' is not an address", tok);
			return -EINVAL;
		}
		n++;
	}
	cfg->n_rdma_ips = n;
	return 0;
}

static int opt_set(struct daemon_config *cfg, const struct opt_desc *o, const char *val,
		   const char *origin, char *errbuf, size_t errlen)
{
	char *base = (char *)cfg;
	uint64_t u;
	long long l;
	char *end;

	switch (o->kind) {
	case OPT_STR:
		if (util_strlcpy(base + o->off, val, o->size) < 0) {
			seterr(errbuf, errlen, "%s: value for '%s' is longer than %zu bytes",
			       origin, o->name, o->size - 1);
			return -EINVAL;
		}
		return 0;
	case OPT_U32:
		if (util_parse_u64(val, UINT32_MAX, &u) < 0) {
			seterr(errbuf, errlen, "%s: '%s' wants a non-negative number, got '%s'",
			       origin, o->name, val);
			return -EINVAL;
		}
		*(uint32_t *)(base + o->off) = (uint32_t)u;
		return 0;
	case OPT_I32:
		errno = 0;
		l = strtoll(val, &end, 10);
		if (!*val || *end || errno || l < INT32_MIN || l > INT32_MAX) {
			seterr(errbuf, errlen, "%s: '%s' wants a whole number of seconds, got '%s'",
			       origin, o->name, val);
			return -EINVAL;
		}
		*(int32_t *)(base + o->off) = (int32_t)l;
		return 0;
	case OPT_BOOL:
		if (!val || strcmp(val, "true") == 0 || strcmp(val, "1") == 0 ||
		    strcmp(val, "yes") == 0) {
			*(bool *)(base + o->off) = true;
		} else if (strcmp(val, "false") == 0 || strcmp(val, "0") == 0 ||
			   strcmp(val, "no") == 0) {
			*(bool *)(base + o->off) = false;
		} else {
			seterr(errbuf, errlen, "%s: '%s' wants true or false, got '%s'", origin,
			       o->name, val);
			return -EINVAL;
		}
		return 0;
	case OPT_IPS:
		return set_ips(cfg, val, errbuf, errlen);
	}
	return -EINVAL;
}

static const struct opt_desc *opt_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int load_file(struct daemon_config *cfg, const char *path, char *errbuf, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[1200];
	char origin[300];
	unsigned lineno = 0;
	int r = 0;

	if (!f) {
		seterr(errbuf, errlen, "config file %s: %s", path, strerror(errno));
		return -EINVAL;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line), *eq, *key, *val;
		const struct opt_desc *o;

		lineno++;
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			seterr(errbuf, errlen, "config file %s:%u: expected 'key = value'", path,
			       lineno);
			r = -EINVAL;
			break;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		o = opt_find(key);
		if (!o) {
			seterr(errbuf, errlen, "config file %s:%u: unknown key '%s'", path, lineno,
			       key);
			r = -EINVAL;
			break;
		}
		snprintf(origin, sizeof(origin), "config file %s:%u", path, lineno);
		r = opt_set(cfg, o, val, origin, errbuf, errlen);
		if (r < 0)
			break;
	}
	fclose(f);
	return r;
}

static int load_env(struct daemon_config *cfg, char *errbuf, size_t errlen)
{
	static const struct {
		const char *env;
		const char *opt;
	} envs[] = {
		{"SPDK_RPC_SOCK", "spdk-sock"},
		{"BAREMETAL_ID", "host"},
		{"RDMA_IPS", "rdma-ips"},
		{"DISKENGINE_DB", "db"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(envs); i++) {
		const char *v = getenv(envs[i].env);
		int r;

		if (!v || !*v)
			continue;
		r = opt_set(cfg, opt_find(envs[i].opt), v, envs[i].env, errbuf, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * The seed's flag is the single-dash "-mode baremetal"; getopt_long_only accepts it
 * alongside "--mode baremetal" and "--mode=baremetal".
 */
int daemon_config_load(struct daemon_config *cfg, int argc, char **argv, char *errbuf,
		       size_t errlen)
{
	struct option lopts[ARRAY_SIZE(opts) + 2];
	const char *config_file = NULL;
	int r, c, idx;

	daemon_config_defaults(cfg);
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
		lopts[i] = (struct option){
			opts[i].name, opts[i].kind == OPT_BOOL ? no_argument : required_argument,
			NULL, 0};
	}
	lopts[ARRAY_SIZE(opts)] = (struct option){"config", required_argument, NULL, 0};
	lopts[ARRAY_SIZE(opts) + 1] = (struct option){NULL, 0, NULL, 0};

	/* First find --config, so the file sits below the environment and the flags. */
	optind = 1;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "", lopts, &idx)) != -1) {
		if (c == 0 && (size_t)idx == ARRAY_SIZE(opts))
			config_file = optarg;
	}
	if (config_file) {
		r = load_file(cfg, config_file, errbuf, errlen);
		if (r < 0)
			return r;
	}
	r = load_env(cfg, errbuf, errlen);
	if (r < 0)
		return r;

	optind = 1;
	while ((c = getopt_long_only(argc, argv, "", lopts, &idx)) != -1) {
		if (c != 0) {
			seterr(errbuf, errlen, "unknown or incomplete option '%s'",
			       argv[optind - 1]);
			return -EINVAL;
		}
		if ((size_t)idx == ARRAY_SIZE(opts))
			continue;
		r = opt_set(cfg, &opts[idx], optarg, "command line", errbuf, errlen);
		if (r < 0)
			return r;
	}
	if (optind < argc) {
		seterr(errbuf, errlen, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* Every integer option within its range, named in the error. */
static int check_ranges(const struct daemon_config *cfg, char *errbuf, size_t errlen)
{
	const char *base = (const char *)cfg;

	for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
		const struct opt_desc *o = &opts[i];
		int64_t v;

		if (o->kind == OPT_U32)
			v = *(const uint32_t *)(base + o->off);
		else if (o->kind == OPT_I32)
			v = *(const int32_t *)(base + o->off);
		else
			continue;
		if (v < o->min || v > o->max) {
			seterr(errbuf, errlen, "%s %lld: must be between %lld and %lld %s", o->name,
			       (long long)v, (long long)o->min, (long long)o->max, o->unit);
			return -EINVAL;
		}
	}
	return 0;
}

int daemon_config_check(const struct daemon_config *cfg, char *errbuf, size_t errlen)
{
	if (strcmp(cfg->mode, "baremetal") != 0) {
		seterr(errbuf, errlen, "mode '%s' is unknown; the only mode is 'baremetal'",
		       cfg->mode);
		return -EINVAL;
	}
	if (!cfg->host[0]) {
		seterr(errbuf, errlen, "no host name: set BAREMETAL_ID or --host");
		return -EINVAL;
	}
	if (cfg->ctrlr_loss_s < 1) {
		seterr(errbuf, errlen,
		       "ctrlr-loss-timeout %d: must be at least 1 s (an endless loss timeout never "
		       "lets a RAID give up a dead path, so the guest would hang)",
		       cfg->ctrlr_loss_s);
		return -EINVAL;
	}
	if (cfg->reconnect_delay_s < 1 || cfg->reconnect_delay_s > cfg->ctrlr_loss_s) {
		seterr(errbuf, errlen,
		       "reconnect-delay %d: must be between 1 and ctrlr-loss-timeout (%d), as SPDK "
		       "requires",
		       cfg->reconnect_delay_s, cfg->ctrlr_loss_s);
		return -EINVAL;
	}
	if (cfg->fast_io_fail_s < 0 || cfg->fast_io_fail_s >= cfg->ctrlr_loss_s) {
		seterr(errbuf, errlen,
		       "fast-io-fail-timeout %d: must be below ctrlr-loss-timeout (%d); 0 disables "
		       "it",
		       cfg->fast_io_fail_s, cfg->ctrlr_loss_s);
		return -EINVAL;
	}
	if (cfg->member_giveup_s <= cfg->ctrlr_loss_s) {
		seterr(errbuf, errlen, "member-giveup %d: must exceed ctrlr-loss-timeout (%d)",
		       cfg->member_giveup_s, cfg->ctrlr_loss_s);
		return -EINVAL;
	}
	if (cfg->guest_io_timeout_s <= cfg->member_giveup_s) {
		seterr(errbuf, errlen,
		       "guest-io-timeout %d: must exceed member-giveup (%d), or guests see I/O "
		       "errors before a dead replica is dropped",
		       cfg->guest_io_timeout_s, cfg->member_giveup_s);
		return -EINVAL;
	}
	if (cfg->flap_limit < 2) {
		seterr(errbuf, errlen,
		       "flap-limit %d: must be at least 2 (one reconnect is no flap)",
		       cfg->flap_limit);
		return -EINVAL;
	}
	/* a lost path comes back at most once per reconnect delay */
	if ((int64_t)cfg->flap_window_s < (int64_t)cfg->flap_limit * cfg->reconnect_delay_s ||
	    cfg->flap_window_s <= cfg->ctrlr_loss_s) {
		seterr(errbuf, errlen,
		       "flap-window %d: must be at least flap-limit x reconnect-delay "
		       "(%d x %d) and exceed ctrlr-loss-timeout (%d)",
		       cfg->flap_window_s, cfg->flap_limit, cfg->reconnect_delay_s,
		       cfg->ctrlr_loss_s);
		return -EINVAL;
	}
	if (cfg->metrics_listen[0] && metrics_listen_parse(cfg->metrics_listen, errbuf, errlen) < 0)
		return -EINVAL;
	return check_ranges(cfg, errbuf, errlen);
}

void daemon_config_usage(void *fp)
{
	FILE *f = fp;

	fprintf(f, "usage: diskengine -mode baremetal [--config FILE] [OPTIONS]\n\n"
		   "Options (also 'key = value' lines in the config file; flags win over the\n"
		   "environment, which wins over the file):\n");
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		fprintf(f, "  --%-22s %s\n", opts[i].name, opts[i].help);
}

void daemon_config_rdma_ips(const struct daemon_config *cfg, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < cfg->n_rdma_ips && used + 1 < size; i++)
		used += snprintf(buf + used, size - used, "%s%s", i ? "," : "", cfg->rdma_ips[i]);
}
