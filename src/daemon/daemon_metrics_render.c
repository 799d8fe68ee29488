/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exposition text of the metrics state: every family with # HELP and # TYPE, in a fixed
 * order. Units are in the names (seconds, bytes, ratio); counters end in _total. docs/metrics.md
 * lists every family.
 */
#include "daemon/daemon_metrics_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon_expo.h"

static const char *const mapping_states[] = {"assigned", "initialised", "attached",
					     "detach_requested", "detached"};

#define L(...) ((const char *const[]){__VA_ARGS__})

static void id_str(uint64_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64, id);
}

/* The per-volume rate families, from the scraper. */
static void render_iostat(struct expo *e, const struct metrics *m)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} rates[] = {
		{"diskengine_volume_read_ops_per_second",
		 "Reads per second over the last iostat interval",
		 offsetof(struct iostat_rate, read_iops)},
		{"diskengine_volume_write_ops_per_second",
		 "Writes per second over the last iostat interval",
		 offsetof(struct iostat_rate, write_iops)},
		{"diskengine_volume_read_bytes_per_second",
		 "Bytes read per second over the last iostat interval",
		 offsetof(struct iostat_rate, read_bytes_per_s)},
		{"diskengine_volume_write_bytes_per_second",
		 "Bytes written per second over the last iostat interval",
		 offsetof(struct iostat_rate, write_bytes_per_s)},
		{"diskengine_volume_read_latency_seconds",
		 "Mean read latency over the last iostat interval (0 without reads)",
		 offsetof(struct iostat_rate, read_latency_s)},
		{"diskengine_volume_write_latency_seconds",
		 "Mean write latency over the last iostat interval (0 without writes)",
		 offsetof(struct iostat_rate, write_latency_s)},
	};
	static const struct {
		const char *name, *help;
		size_t off;
	} totals[] = {
		{"diskengine_volume_read_ops_total",
		 "Reads of the volume's raid as SPDK counts them",
		 offsetof(struct iostat_sample, read_ops)},
		{"diskengine_volume_write_ops_total",
		 "Writes of the volume's raid as SPDK counts them",
		 offsetof(struct iostat_sample, write_ops)},
		{"diskengine_volume_read_bytes_total", "Bytes read from the volume's raid",
		 offsetof(struct iostat_sample, bytes_read)},
		{"diskengine_volume_written_bytes_total", "Bytes written to the volume's raid",
		 offsetof(struct iostat_sample, bytes_written)},
	};
	const struct iostat_table *t = &m->iostat;
	char id[24];

	for (size_t f = 0; f < sizeof(rates) / sizeof(rates[0]); f++) {
		expo_family(e, rates[f].name, "gauge", rates[f].help);
		for (size_t i = 0; i < t->n; i++) {
			if (!t->v[i].has_rate)
				continue;
			id_str(t->v[i].volume_id, id, sizeof(id));
			expo_sample(e, rates[f].name, L("volume", id), 1,
				    *(const double *)((const char *)&t->v[i].rate + rates[f].off));
		}
	}
	for (size_t f = 0; f < sizeof(totals) / sizeof(totals[0]); f++) {
		expo_family(e, totals[f].name, "counter", totals[f].help);
		for (size_t i = 0; i < t->n; i++) {
			if (!t->v[i].last.tick_rate)
				continue;
			id_str(t->v[i].volume_id, id, sizeof(id));
			expo_sample(e, totals[f].name, L("volume", id), 1,
				    (double)*(const uint64_t *)((const char *)&t->v[i].last +
								totals[f].off));
		}
	}
	expo_family(e, "diskengine_iostat_scrape_duration_seconds", "gauge",
		    "How long the last iostat round took");
	expo_sample(e, "diskengine_iostat_scrape_duration_seconds", NULL, 0,
		    (double)t->duration_us / 1e6);
	expo_family(e, "diskengine_iostat_calls", "gauge", "SPDK calls of the last iostat round");
	expo_sample(e, "diskengine_iostat_calls", NULL, 0, t->rounds ? t->calls : 0);
	expo_family(e, "diskengine_iostat_skipped_volumes", "gauge",
		    "Volumes the last iostat round did not ask for: a controller of theirs was "
		    "resetting");
	expo_sample(e, "diskengine_iostat_skipped_volumes", NULL, 0, t->skipped);
	expo_family(e, "diskengine_iostat_skips_total", "counter",
		    "Volumes iostat rounds did not ask for because a controller of theirs was "
		    "resetting, summed over rounds");
	expo_sample(e, "diskengine_iostat_skips_total", NULL, 0, (double)m->iostat_skips);
	expo_family(e, "diskengine_iostat_rounds_total", "counter", "iostat rounds run");
	expo_sample(e, "diskengine_iostat_rounds_total", NULL, 0, (double)t->rounds);
}

static void render_raids(struct expo *e, const struct metrics *m)
{
	char id[24];

	expo_family(e, "diskengine_raid_state", "gauge",
		    "1 for the state the volume's raid is in (absent: not in SPDK)");
	for (size_t i = 0; i < m->n_volumes; i++) {
		id_str(m->volumes[i].id, id, sizeof(id));
		for (int s = 0; s < M_RAID_STATES; s++)
			expo_sample(e, "diskengine_raid_state",
				    L("volume", id, "state", metrics_raid_state_name(s)), 2,
				    m->volumes[i].raid_state == s);
	}
	expo_family(e, "diskengine_raid_members", "gauge", "Base bdev slots of the volume's raid");
	for (size_t i = 0; i < m->n_volumes; i++) {
		if (m->volumes[i].raid_state == M_RAID_ABSENT)
			continue;
		id_str(m->volumes[i].id, id, sizeof(id));
		expo_sample(e, "diskengine_raid_members", L("volume", id), 1, m->volumes[i].bases);
	}
	expo_family(
		e, "diskengine_raid_members_operational", "gauge",
		"Members of the volume's raid that serve I/O (a degraded raid1 still says online)");
	for (size_t i = 0; i < m->n_volumes; i++) {
		if (m->volumes[i].raid_state == M_RAID_ABSENT)
			continue;
		id_str(m->volumes[i].id, id, sizeof(id));
		expo_sample(e, "diskengine_raid_members_operational", L("volume", id), 1,
			    m->volumes[i].operational);
	}
	expo_family(e, "diskengine_raid_member_state", "gauge",
		    "1 for the state of each member of the volume's raid (operational, "
		    "configuring, rebuilding, missing)");
	for (size_t i = 0; i < m->n_volumes; i++) {
		id_str(m->volumes[i].id, id, sizeof(id));
		for (size_t k = 0; k < m->volumes[i].n_members; k++)
			expo_sample(e, "diskengine_raid_member_state",
				    L("volume", id, "member", m->volumes[i].members[k].name,
				      "state", m->volumes[i].members[k].state),
				    3, 1);
	}
	expo_family(e, "diskengine_raid_rebuild_progress_ratio", "gauge",
		    "Rebuild progress of the volume's raid, 0 to 1, while one runs");
	for (size_t i = 0; i < m->n_volumes; i++) {
		if (!m->volumes[i].rebuild)
			continue;
		id_str(m->volumes[i].id, id, sizeof(id));
		expo_sample(e, "diskengine_raid_rebuild_progress_ratio", L("volume", id), 1,
			    m->volumes[i].rebuild_ratio);
	}
}

static void render_paths(struct expo *e, const struct metrics *m)
{
	expo_family(e, "diskengine_path_state", "gauge",
		    "1 for the state of each path of diskengine's NVMe controllers");
	for (size_t i = 0; i < m->n_paths; i++)
		for (int s = 0; s < M_PATH_STATES; s++)
			expo_sample(e, "diskengine_path_state",
				    L("controller", m->paths[i].ctrlr, "traddr", m->paths[i].traddr,
				      "trsvcid", m->paths[i].trsvcid, "state",
				      metrics_path_state_name(s)),
				    4, m->paths[i].state == s);
	expo_family(e, "diskengine_controller_resets_total", "counter",
		    "Reconnects of the controller that succeeded (a new cntlid), as the daemon saw "
		    "them");
	for (size_t i = 0; i < m->n_flaps; i++)
		expo_sample(e, "diskengine_controller_resets_total",
			    L("controller", m->flaps[i].ctrlr), 1, m->flaps[i].resets);
	expo_family(e, "diskengine_controller_failed_resets_total", "counter",
		    "Reconnect attempts of the controller that failed (a path entering "
		    "reconnect_is_delayed)");
	for (size_t i = 0; i < m->n_flaps; i++)
		expo_sample(e, "diskengine_controller_failed_resets_total",
			    L("controller", m->flaps[i].ctrlr), 1, m->flaps[i].failed);
}

static void render_mappings(struct expo *e, const struct metrics *m)
{
	char id[24], vol[24];

	expo_family(e, "diskengine_mapping_state", "gauge",
		    "1 for the database state of each mapping of this host");
	for (size_t i = 0; i < m->n_mappings; i++) {
		id_str(m->mappings[i].id, id, sizeof(id));
		id_str(m->mappings[i].volume, vol, sizeof(vol));
		for (size_t s = 0; s < sizeof(mapping_states) / sizeof(mapping_states[0]); s++)
			expo_sample(e, "diskengine_mapping_state",
				    L("mapping", id, "volume", vol, "state", mapping_states[s]), 3,
				    m->mappings[i].state == (int)s);
	}
}

static void render_spdk(struct expo *e, struct metrics *m)
{
	struct m_method copy[M_METHODS_MAX];
	size_t n;

	pthread_mutex_lock(&m->rpc_lock);
	n = m->n_methods;
	memcpy(copy, m->methods, n * sizeof(copy[0]));
	pthread_mutex_unlock(&m->rpc_lock);
	expo_family(e, "diskengine_spdk_call_duration_seconds", "summary",
		    "Time of SPDK JSON-RPC calls, from sending to the answer, per method");
	for (size_t i = 0; i < n; i++) {
		expo_sample(e, "diskengine_spdk_call_duration_seconds_sum",
			    L("method", copy[i].name), 1, copy[i].sum_s);
		expo_sample(e, "diskengine_spdk_call_duration_seconds_count",
			    L("method", copy[i].name), 1, (double)copy[i].calls);
	}
	expo_family(
		e, "diskengine_spdk_call_errors_total", "counter",
		"SPDK JSON-RPC calls that failed (SPDK's error, timeout or lost connection), per "
		"method");
	for (size_t i = 0; i < n; i++)
		expo_sample(e, "diskengine_spdk_call_errors_total", L("method", copy[i].name), 1,
			    (double)copy[i].errors);
}

static double rss_bytes(void)
{
	unsigned long long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &pages, &rss) != 2)
		rss = 0;
	fclose(f);
	return (double)rss * (double)sysconf(_SC_PAGESIZE);
}

static void render_daemon(struct expo *e, const struct metrics *m)
{
	char le[32];

	expo_family(e, "diskengine_pass_duration_seconds", "histogram",
		    "Time of one observe, plan and act pass");
	for (int i = 0; i < M_PASS_BUCKETS; i++) {
		snprintf(le, sizeof(le), "%g", metrics_pass_buckets[i]);
		expo_sample(e, "diskengine_pass_duration_seconds_bucket", L("le", le), 1,
			    (double)m->pass_bucket[i]);
	}
	expo_sample(e, "diskengine_pass_duration_seconds_bucket", L("le", "+Inf"), 1,
		    (double)m->pass_count);
	expo_sample(e, "diskengine_pass_duration_seconds_sum", NULL, 0, m->pass_sum);
	expo_sample(e, "diskengine_pass_duration_seconds_count", NULL, 0, (double)m->pass_count);
	expo_family(e, "diskengine_pass_failures_total", "counter",
		    "Passes that could not run (SPDK or the database unreachable)");
	expo_sample(e, "diskengine_pass_failures_total", NULL, 0, (double)m->pass_failed);
	expo_family(e, "diskengine_database_errors_total", "counter",
		    "Passes that failed on the database");
	expo_sample(e, "diskengine_database_errors_total", NULL, 0, (double)m->db_errors);
	expo_family(
		e, "diskengine_spdk_restart_recovery_seconds", "gauge",
		"From finding a fresh SPDK process to every mapping served again, last restart");
	if (m->has_restart)
		expo_sample(e, "diskengine_spdk_restart_recovery_seconds", NULL, 0,
			    m->restart_served_s);
	expo_family(e, "diskengine_metrics_publish_duration_seconds", "gauge",
		    "CPU time the daemon took to render the text before this one (step render) and "
		    "to gzip it (step gzip; 0 until a scraper takes gzip)");
	expo_sample(e, "diskengine_metrics_publish_duration_seconds", L("step", "render"), 1,
		    m->render_s);
	expo_sample(e, "diskengine_metrics_publish_duration_seconds", L("step", "gzip"), 1,
		    m->gzip_s);
	expo_family(e, "process_resident_memory_bytes", "gauge", "Resident memory of the daemon");
	expo_sample(e, "process_resident_memory_bytes", NULL, 0, rss_bytes());
}

int metrics_render(struct metrics *m, char **out, size_t *len)
{
	struct expo e = {0};
	int r;

	render_iostat(&e, m);
	render_raids(&e, m);
	render_paths(&e, m);
	render_mappings(&e, m);
	render_spdk(&e, m);
	render_daemon(&e, m);
	r = expo_finish(&e, out, len);
	expo_free(&e);
	return r;
}
