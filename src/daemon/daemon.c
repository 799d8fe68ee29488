/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's outer loop: start-up checks, the SPDK session with reconnect and backoff,
 * passes on a timer, on database wake-ups and when SPDK's socket closes, and a clean stop.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <unistd.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#include <poll.h>
#endif
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "common/log.h"
#include "common/redact.h"
#include "common/util.h"
#include "daemon/daemon_flap.h"
#include "daemon/daemon_internal.h"
#include "daemon/daemon_metrics.h"
#include "daemon/daemon_notify.h"
#include "daemon/daemon_orphan.h"
#include "daemon/daemon_warn.h"
#include "reconcile/exec_commit.h"
#include "rpc/rpc.h"
#include "store/store.h"

static volatile sig_atomic_t g_stop;

/* Passes in a row that start at once because the last one finished work (see below). */
#define DAEMON_IMMEDIATE_PASSES_MAX 50
/* Longest a changed graph stays unsaved while changes keep coming. */
#define DAEMON_SAVE_MAX_DELAY_MS 5000
/* After SPDK closed the socket: how often, and how long, to look for it coming back. */
#define DAEMON_RESTART_POLL_MS 2
#define DAEMON_RESTART_WINDOW_MS 30000

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void signals_install(void)
{
	struct sigaction sa = {0};

	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking wait returns early and the loop sees the flag at once. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* A quiet host is looked at every --interval-ms at first, then up to this many times less often. */
#define DAEMON_QUIET_STRETCH_MAX 4

uint64_t daemon_next_wait_ms(uint64_t interval_ms, int pass_rc,
			     const struct daemon_pass_result *res, unsigned quiet)
{
	uint64_t stretch = 1;

	/*
	 * A chain finished its steps: what the next step of each chain needs (a base for the raid,
	 * a raid for the vhost) is there now, so the next pass runs at once rather than after a
	 * pause at every stage of every volume.
	 */
	if (pass_rc == 0 && res->finished > 0)
		return 0;
	/* Failed or backed off: look again soon rather than on the timer. */
	if (pass_rc < 0 || res->actions > 0 || res->failed > 0 || res->deferred > 0)
		return interval_ms > 200 ? 200 : interval_ms;
	/*
	 * Only statuses left (a rebuild runs, an operator must act), or nothing at all: the
	 * timer. A pass costs a full observation (6 MB of SPDK's JSON at 1,000 volumes), so a host
	 * where nothing changes is looked at less and less often, up to DAEMON_QUIET_STRETCH_MAX
	 * periods; a database change, SPDK's socket closing and any work end the stretch at once.
	 */
	if (res->waiting == 0 && res->statuses == 0)
		while (quiet > 1 && stretch < DAEMON_QUIET_STRETCH_MAX) {
			stretch *= 2;
			quiet--;
		}
	return interval_ms * stretch;
}

/* Sleep up to ms, in slices, returning early on stop. */
static void sleep_unless_stopped(uint64_t ms)
{
	uint64_t end = util_now_ms() + ms;

	while (!g_stop) {
		uint64_t now = util_now_ms();
		if (now >= end)
			break;
		util_sleep_ms(end - now < 50 ? end - now : 50);
		daemon_notify_watchdog();
	}
}

/*
 * Sleep up to slice ms in poll(): SPDK's close notice and the database watch's socket (if it
 * has one) end the sleep at once. Returns true when the close notice fired.
 */
static bool wake_poll(struct daemon *d, int slice)
{
	struct pollfd pfd[2] = {
		{.fd = rpc_client_closed_fd(daemon_spdk_rpc(d->spdk)), .events = POLLIN},
		{.fd = d->watch ? store_watch_fd(d->watch) : -1, .events = POLLIN},
	};
	uint64_t n;

	/* a negative fd is ignored by poll(): the slice is then a plain sleep */
	if (poll(pfd, 2, slice) <= 0 || !(pfd[0].revents & POLLIN))
		return false;
	if (read(pfd[0].fd, &n, sizeof(n)) < 0)
		log_debug("SPDK close notice: %s", strerror(errno));
	return true;
}

/*
 * Wait for the next reason to run a pass: the timer, a database change, SPDK's socket closing
 * (restart, noticed at once), or stop. Returns false when the session is gone and must be
 * reopened.
 */
static bool wait_for_wake(struct daemon *d, uint64_t ms)
{
	uint64_t end = util_now_ms() + ms;

	while (!g_stop) {
		if (daemon_spdk_closed(d->spdk))
			return false;
		uint64_t now = util_now_ms();
		if (now >= end)
			return true;
		/* the scraper's own timer, between passes; a wake-up during a round waits for its end */
		if (d->metrics && metrics_iostat_tick(d->metrics, daemon_spdk_rpc(d->spdk),
						      d->cfg->iostat_interval_ms, now))
			continue;
		int slice = (int)(end - now < 50 ? end - now : 50);
		if (wake_poll(d, slice))
			continue; /* closed now, or a notice of an earlier connection */
		if (d->watch) {
			struct store_error err = {0};
			int r = store_watch_wait(d->watch, 0, &err);
			if (r > 0) {
				d->desired_stale = true;
				return true;
			}
			if (r < 0) {
				d->desired_stale = true;
				log_warn("database watch broke (%s); reopening it", err.message);
				store_watch_close(d->watch);
				d->watch = NULL;
				if (store_watch_open(d->store, d->cfg->host, &d->watch, &err) < 0)
					log_warn("database watch: %s; polling on the timer",
						 err.message);
				return true;
			}
		}
		daemon_notify_watchdog();
	}
	return true;
}

/* Save SPDK's live config; a failure leaves it pending for the next try. */
static void save_config(struct daemon *d, bool *pending, uint64_t *since_ms)
{
	char err[512];

	if (daemon_spdk_closed(d->spdk))
		return;
	if (daemon_spdk_save_config(d->spdk, d->cfg->saved_config, err, sizeof(err)) < 0) {
		warn_repeat(d->warns, "saved config", util_now_ms(), "saving SPDK config to %s: %s",
			    d->cfg->saved_config, err);
		return;
	}
	warn_clear(d->warns, "saved config", util_now_ms());
	log_debug("saved SPDK config to %s", d->cfg->saved_config);
	*pending = false;
	*since_ms = 0;
}

/* Run passes on one SPDK session until it closes or stop. Returns the --once exit code. */
static int serve_session(struct daemon *d)
{
	char err[512];
	struct daemon_pass_result res;
	bool was_init = true;
	bool save_pending = false;
	uint64_t save_since_ms = 0;
	unsigned immediate = 0, quiet = 0;

	if (daemon_spdk_start(d->spdk, d->cfg->saved_config, &was_init, err, sizeof(err)) < 0) {
		log_error("SPDK at %s: start-up failed: %s", d->cfg->spdk_sock, err);
		return CLI_EXIT_FAILURE;
	}
	if (!was_init) {
		/* A fresh SPDK process: old failures say nothing about it; rebuild from the DB. */
		exec_backoff_reset(d->backoff);
		d->restart_at_ms = util_now_ms();
		log_info("SPDK at %s was not initialised: replayed pre-init config and started "
			 "the framework; rebuilding from the database",
			 d->cfg->spdk_sock);
	}
	daemon_notify_ready();
	daemon_notify_status("serving %s", d->cfg->spdk_sock);
	while (!g_stop) {
		uint64_t pass_start = util_now_ms();
		int r = daemon_pass(d, &res, err, sizeof(err));
		d->passes++;
		if (d->metrics)
			metrics_pass_done(d->metrics, (double)(util_now_ms() - pass_start) / 1000.0,
					  r == 0, r < 0 && strncmp(err, "database", 8) == 0);
		if (r < 0) {
			/* The same failure every turn is said once, not five times a second. */
			warn_repeat(d->warns, "pass", util_now_ms(), "a pass could not run: %s", err);
			if (daemon_spdk_closed(d->spdk))
				return CLI_EXIT_FAILURE;
		} else {
			warn_clear(d->warns, "pass", util_now_ms());
			save_pending |= res.changed;
			/* Each pass builds what the last one made possible: the rebuild is over
			 * at the first pass that finds nothing left to do. */
			if (d->restart_at_ms && res.actions > 0)
				d->restart_work = true;
			if (d->restart_at_ms && res.converged) {
				if (d->metrics)
					metrics_restart_served(
						d->metrics,
						(double)(util_now_ms() - d->restart_at_ms) / 1000.0);
				if (d->restart_work)
					log_info("fresh SPDK: every mapping served again %llu ms "
						 "after "
						 "start-up",
						 (unsigned long long)(util_now_ms() -
								      d->restart_at_ms));
				d->restart_at_ms = 0;
				d->restart_work = false;
			}
		}
		quiet = r == 0 && res.converged && res.statuses == 0 ? quiet + 1 : 0;
		uint64_t wait = daemon_next_wait_ms(d->cfg->interval_ms, r, &res, quiet);
		/* A plan that finishes work every pass without ever settling is a bug; it must
		 * not also cost a whole core. */
		if (wait == 0 && ++immediate > DAEMON_IMMEDIATE_PASSES_MAX)
			wait = d->cfg->interval_ms < 200 ? d->cfg->interval_ms : 200;
		else if (wait > 0)
			immediate = 0;
		if (save_pending) {
			if (!save_since_ms)
				save_since_ms = util_now_ms();
			/* Once per burst: when a pass changed nothing more (or stop), and at least
			 * every few seconds while changes keep coming. */
			if ((wait > 0 && !res.changed) || g_stop || d->cfg->once ||
			    util_now_ms() - save_since_ms >= DAEMON_SAVE_MAX_DELAY_MS)
				save_config(d, &save_pending, &save_since_ms);
		}
		if (d->metrics)
			metrics_publish(d->metrics);
		daemon_notify_watchdog();
#ifdef __GLIBC__
		/*
		 * A pass's memory is transient (SPDK's list answers and their JSON trees are
		 * megabytes at a thousand volumes): give it back rather than hold the peak.
		 */
		malloc_trim(0);
#endif
		if (d->cfg->once)
			return r == 0 && res.clean ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
		if (!wait_for_wake(d, wait))
			break;
	}
	/* stop came during the wait: the changes of the last burst are not lost */
	if (save_pending)
		save_config(d, &save_pending, &save_since_ms);
	return CLI_EXIT_OK;
}

static int check_socket(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		log_error("SPDK socket %s: %s (is SPDK running? set --spdk-sock or SPDK_RPC_SOCK)",
			  path, strerror(errno));
		return -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_error("SPDK socket %s: not a Unix socket", path);
		return -ENOTSOCK;
	}
	return 0;
}

/* The saved config is written into its directory: it must exist and take new files. */
static int check_saved_config_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	if (!path || !*path)
		return 0;
	util_strlcpy(dir, path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (!slash)
		util_strlcpy(dir, ".", sizeof(dir));
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (access(dir, W_OK | X_OK) < 0) {
		log_error("--saved-config %s: directory %s %s", path, dir,
			  errno == ENOENT ? "does not exist" : "is not writable");
		return -errno;
	}
	return 0;
}

/* A SQLite file that does not exist is a typo, not a new database: the daemon never creates it. */
static int check_sqlite_file(const char *url)
{
	const char *path = store_url_sqlite_path(url);

	if (!path || access(path, F_OK) == 0)
		return 0;
	log_error("database file %s does not exist: create it with 'diskengine db migrate --db %s' "
		  "and add this host, or fix --db",
		  path, path);
	return -ENOENT;
}

int daemon_run(const struct daemon_config *cfg)
{
	struct daemon d = {.cfg = cfg, .stop = &g_stop};
	struct store_error serr = {0};
	char err[512], db_shown[sizeof(cfg->db_url)];
	uint64_t retry_ms = 100;
	uint64_t restart_until_ms = 0; /* a restart is expected until then; 0 = not */
	bool restart_said = false;
	int rc = CLI_EXIT_OK;

	/* What cannot work is refused before SPDK is touched (exit 2: fix the configuration). */
	if (check_saved_config_dir(cfg->saved_config) < 0 || check_sqlite_file(cfg->db_url) < 0)
		return CLI_EXIT_USAGE;
	if (cfg->metrics_listen[0] && metrics_start(cfg->metrics_listen, &d.metrics, err,
						     sizeof(err)) < 0) {
		log_error("%s", err);
		return CLI_EXIT_USAGE;
	}
	if (check_socket(cfg->spdk_sock) < 0) {
		metrics_stop(d.metrics);
		return CLI_EXIT_UNAVAILABLE;
	}
	redact_copy(cfg->db_url, db_shown, sizeof(db_shown));
	if (store_open(cfg->db_url, &d.store, &serr) < 0) {
		log_error("database %s: %s", db_shown, serr.message);
		metrics_stop(d.metrics);
		return CLI_EXIT_UNAVAILABLE;
	}
	struct store_host self;
	int hr = store_host_get(d.store, cfg->host, &self, &serr);
	if (hr < 0) {
		if (hr == -ENOENT)
			log_error("host '%s' is not in the database %s: add it with 'diskengine host "
				  "add %s', or start with the name it has there (--host, BAREMETAL_ID)",
				  cfg->host, db_shown, cfg->host);
		else
			log_error("database %s: reading host '%s': %s", db_shown, cfg->host,
				  serr.message);
		store_close(d.store);
		metrics_stop(d.metrics);
		return hr == -ENOENT ? CLI_EXIT_USAGE : CLI_EXIT_UNAVAILABLE;
	}
	pthread_mutex_init(&d.store_lock, NULL);
	d.backoff = exec_backoff_new(500, 30000);
	d.orphans = orphan_clock_new();
	d.commit = exec_commit_new(d.store, &d.store_lock);
	d.flaps = flap_table_new(cfg->flap_limit, cfg->flap_window_s);
	/* NULL (out of memory): every warning is logged, none summarised */
	d.warns = warn_table_new(NULL, NULL);
	if (!d.backoff || !d.orphans || !d.commit || !d.flaps) {
		log_error("out of memory");
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	/* Open the watch before the first read, so no change falls between the two. */
	if (store_watch_open(d.store, cfg->host, &d.watch, &serr) < 0)
		log_warn("database watch: %s; passes run on the timer only", serr.message);
	g_stop = 0;
	signals_install();
	/*
	 * Fed from a thread while the loop progresses: a pass stage, an SPDK step or a turn of
	 * the wait shows progress at least once per RPC timeout, so three of those (or a minute)
	 * without any means the daemon is stuck.
	 */
	uint64_t stall_ms = 3ull * cfg->rpc_timeout_ms;
	if (daemon_notify_watchdog_start(stall_ms > 60000 ? stall_ms : 60000) < 0)
		log_warn("systemd watchdog: could not start its thread; it will not be fed");
	log_info("diskengine baremetal: host %s, SPDK %s, database %s", cfg->host, cfg->spdk_sock,
		 db_shown);
	if (d.metrics)
		log_info("metrics at http://%s/metrics (iostat every %u ms)", cfg->metrics_listen,
			 cfg->iostat_interval_ms);

	while (!g_stop) {
		int r = daemon_spdk_open(cfg, &d.spdk, err, sizeof(err));
		if (r < 0 && restart_until_ms && util_now_ms() < restart_until_ms) {
			/*
			 * SPDK went away under us and is most likely being restarted: QEMU
			 * retries its vhost socket once a second, so a backoff here would be
			 * felt by every VM. A connect attempt every few ms costs nothing.
			 */
			if (!restart_said) {
				log_info("waiting for SPDK at %s to come back (checking every %d "
					 "ms)",
					 cfg->spdk_sock, DAEMON_RESTART_POLL_MS);
				daemon_notify_status("waiting for SPDK at %s", cfg->spdk_sock);
				restart_said = true;
			}
			sleep_unless_stopped(DAEMON_RESTART_POLL_MS);
			daemon_notify_watchdog();
			continue;
		}
		if (r < 0) {
			warn_repeat(d.warns, "spdk", util_now_ms(),
				    "SPDK at %s unreachable: %s; retrying (every %llu ms at most)",
				    cfg->spdk_sock, err, 5000ULL);
			daemon_notify_status("waiting for SPDK at %s", cfg->spdk_sock);
			if (cfg->once) {
				rc = CLI_EXIT_UNAVAILABLE;
				break;
			}
			sleep_unless_stopped(retry_ms);
			retry_ms = retry_ms * 2 > 5000 ? 5000 : retry_ms * 2;
			daemon_notify_watchdog();
			continue;
		}
		warn_clear(d.warns, "spdk", util_now_ms());
		if (restart_until_ms)
			log_info("SPDK at %s is back %llu ms after the connection closed",
				 cfg->spdk_sock,
				 (unsigned long long)(util_now_ms() + DAEMON_RESTART_WINDOW_MS -
						      restart_until_ms));
		restart_until_ms = 0;
		restart_said = false;
		rc = serve_session(&d);
		bool lost = daemon_spdk_closed(d.spdk);
		daemon_spdk_close(d.spdk);
		d.spdk = NULL;
		if (cfg->once)
			break;
		if (lost && !g_stop) {
			log_warn("SPDK at %s closed the connection (restart?); reconnecting",
				 cfg->spdk_sock);
			restart_until_ms = util_now_ms() + DAEMON_RESTART_WINDOW_MS;
		}
		if (rc != CLI_EXIT_OK && !lost && !g_stop) {
			/* Start-up failed on a live SPDK: do not hammer it. */
			sleep_unless_stopped(retry_ms);
			retry_ms = retry_ms * 2 > 5000 ? 5000 : retry_ms * 2;
		} else {
			retry_ms = 100;
		}
		rc = CLI_EXIT_OK;
	}
	if (g_stop)
		log_info("stopping: signal received, in-flight calls finished");
	daemon_notify_watchdog_stop();
out:
	daemon_notify_stopping();
	store_watch_close(d.watch);
	orphan_clock_free(d.orphans);
	exec_commit_free(d.commit);
	flap_table_free(d.flaps);
	warn_table_free(d.warns);
	metrics_stop(d.metrics);
	exec_backoff_free(d.backoff);
	daemon_state_free(&d);
	store_close(d.store);
	free(d.qos_seen);
	pthread_mutex_destroy(&d.store_lock);
	return rc;
}
