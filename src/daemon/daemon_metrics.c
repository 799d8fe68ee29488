/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The metrics state, its HTTP server and what feeds it (see daemon_metrics.h). Rendering is in
 * daemon_metrics_render.c.
 */
#include "daemon/daemon_metrics_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/daemon_gzip.h"
#include "reconcile/names.h"
#include "reconcile/observe.h"
#include "rpc/rpc.h"

static const char *const raid_states[M_RAID_STATES] = {"online", "configuring", "offline",
						       "absent"};
static const char *const path_states[M_PATH_STATES] = {
	"enabled", "resetting", "reconnect_is_delayed", "failed", "deleting", "other"};

const char *metrics_raid_state_name(int i)
{
	return raid_states[i];
}

const char *metrics_path_state_name(int i)
{
	return path_states[i];
}

/* ---- ADDR:PORT ------------------------------------------------------------------------------ */

static int listen_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *len, char *errbuf,
		       size_t errlen)
{
	char host[128];
	const char *colon = strrchr(spec, ':');
	uint64_t port;
	size_t hl;

	if (!colon || util_parse_u64(colon + 1, 65535, &port) < 0 || port == 0) {
		snprintf(errbuf, errlen, "metrics-listen '%s': want ADDR:PORT with a port 1-65535",
			 spec);
		return -EINVAL;
	}
	hl = (size_t)(colon - spec);
	if (hl >= sizeof(host)) {
		snprintf(errbuf, errlen, "metrics-listen '%s': address too long", spec);
		return -EINVAL;
	}
	memcpy(host, spec, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (hl > 1 && host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		host[hl - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) == 1) {
			*len = sizeof(*s6);
			return 0;
		}
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (hl == 0 || inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
			*len = sizeof(*s4);
			return 0;
		}
	}
	snprintf(errbuf, errlen,
		 "metrics-listen '%s': '%s' is not an IPv4 address or a bracketed IPv6 address",
		 spec, host);
	return -EINVAL;
}

int metrics_listen_parse(const char *spec, char *errbuf, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;

	return listen_addr(spec, &ss, &len, errbuf, errlen);
}

/* ---- SPDK calls, from any thread --------------------------------------------------------------
 */

static void on_rpc(const char *method, uint64_t usec, int rc, void *arg)
{
	struct metrics *m = arg;
	struct m_method *mm = NULL;

	pthread_mutex_lock(&m->rpc_lock);
	for (size_t i = 0; i < m->n_methods && !mm; i++)
		if (strcmp(m->methods[i].name, method) == 0)
			mm = &m->methods[i];
	/* a method name is one of the few diskengine sends: bounded, but capped all the same */
	if (!mm && m->n_methods < M_METHODS_MAX && strlen(method) < sizeof(mm->name)) {
		mm = &m->methods[m->n_methods++];
		memset(mm, 0, sizeof(*mm));
		strcpy(mm->name, method);
	}
	if (mm) {
		mm->calls++;
		mm->sum_s += (double)usec / 1e6;
		if (rc < 0)
			mm->errors++;
	}
	pthread_mutex_unlock(&m->rpc_lock);
}

/* ---- the server ------------------------------------------------------------------------------ */

static enum MHD_Result join_accept_encoding(void *cls, enum MHD_ValueKind kind, const char *key,
					    const char *value)
{
	char **joined = cls;
	char *more;

	if (strcasecmp(key, MHD_HTTP_HEADER_ACCEPT_ENCODING) != 0 || !value)
		return MHD_YES;
	/* several fields of one name are one list (RFC 9110, 5.3) */
	if (asprintf(&more, "%s%s%s", *joined ? *joined : "", *joined ? ", " : "", value) < 0)
		return MHD_NO;
	free(*joined);
	*joined = more;
	return MHD_YES;
}

static bool request_takes_gzip(struct MHD_Connection *conn)
{
	char *joined = NULL;
	bool ok;

	MHD_get_connection_values(conn, MHD_HEADER_KIND, join_accept_encoding, &joined);
	ok = gzip_accepted(joined);
	free(joined);
	return ok;
}

static struct MHD_Response *metrics_response(struct metrics *m, struct MHD_Connection *conn,
					     unsigned *status)
{
	struct MHD_Response *resp;
	bool gz = request_takes_gzip(conn);
	size_t len = 0;
	char *body = gz ? metrics_gzip_copy(m, &len) : metrics_text_copy(m, &len);

	resp = body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
		    : MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(body);
		return NULL;
	}
	if (!body)
		*status = MHD_HTTP_SERVICE_UNAVAILABLE; /* before the first pass */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	/* the same URL answers plain or gzip: caches must key on the request's Accept-Encoding */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	if (body && gz)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	return resp;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_len, void **con_cls)
{
	static const char not_found[] = "not found: the metrics are at /metrics\n";
	struct metrics *m = cls;
	struct MHD_Response *resp;
	enum MHD_Result r;
	unsigned status = MHD_HTTP_OK;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics") != 0) {
		resp = MHD_create_response_from_buffer(sizeof(not_found) - 1, (void *)not_found,
						       MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_NOT_FOUND;
	} else {
		resp = metrics_response(m, conn, &status);
	}
	if (!resp)
		return MHD_NO;
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

int metrics_start(const char *spec, struct metrics **out, char *errbuf, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct metrics *m;
	int r = listen_addr(spec, &ss, &len, errbuf, errlen);

	if (r < 0)
		return r;
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(errbuf, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&m->text_lock, NULL);
	pthread_mutex_init(&m->rpc_lock, NULL);
	atomic_init(&m->gzip_wanted, false);
	m->http = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
					   (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				   0, NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR, &ss,
				   MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (!m->http) {
		/* libmicrohttpd says why on stderr; the common causes are these */
		snprintf(errbuf, errlen,
			 "metrics-listen %s: cannot listen there (address in use, or not an "
			 "address of this host)",
			 spec);
		pthread_mutex_destroy(&m->text_lock);
		pthread_mutex_destroy(&m->rpc_lock);
		free(m);
		return -EADDRNOTAVAIL;
	}
	rpc_observe_set(on_rpc, m);
	*out = m;
	return 0;
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	rpc_observe_set(NULL, NULL);
	MHD_stop_daemon(m->http);
	iostat_table_clear(&m->iostat);
	free(m->targets);
	free(m->volumes);
	free(m->mappings);
	free(m->paths);
	free(m->flaps);
	free(m->text);
	free(m->gz);
	pthread_mutex_destroy(&m->text_lock);
	pthread_mutex_destroy(&m->rpc_lock);
	free(m);
}

char *metrics_text_copy(struct metrics *m, size_t *len)
{
	char *copy = NULL;

	pthread_mutex_lock(&m->text_lock);
	if (m->text && (copy = malloc(m->text_len + 1))) {
		memcpy(copy, m->text, m->text_len + 1);
		*len = m->text_len;
	}
	pthread_mutex_unlock(&m->text_lock);
	return copy;
}

char *metrics_gzip_copy(struct metrics *m, size_t *len)
{
	char *copy = NULL, *plain = NULL, *gz;
	size_t plain_len = 0, gz_len;
	uint64_t gen = 0;

	atomic_store(&m->gzip_wanted, true);
	pthread_mutex_lock(&m->text_lock);
	if (m->gz && (copy = malloc(m->gz_len))) {
		memcpy(copy, m->gz, m->gz_len);
		*len = m->gz_len;
	} else if (!m->gz && m->text && (plain = malloc(m->text_len))) {
		memcpy(plain, m->text, m->text_len);
		plain_len = m->text_len;
		gen = m->text_gen;
	}
	pthread_mutex_unlock(&m->text_lock);
	if (copy || !plain)
		return copy;
	/* no publish compressed this text yet: once here, outside the lock, then kept */
	if (gzip_encode(plain, plain_len, &gz, &gz_len) < 0) {
		free(plain);
		return NULL;
	}
	free(plain);
	pthread_mutex_lock(&m->text_lock);
	if (gen == m->text_gen && !m->gz && (copy = malloc(gz_len))) {
		memcpy(copy, gz, gz_len);
		m->gz = gz;
		m->gz_len = gz_len;
		gz = NULL;
	}
	pthread_mutex_unlock(&m->text_lock);
	if (!copy) /* a newer text came meanwhile: this one is still a right answer for now */
		copy = gz;
	else
		free(gz);
	*len = gz_len;
	return copy;
}

/* the main thread's CPU time: what a publish costs, whatever else the machine runs */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void metrics_publish(struct metrics *m)
{
	char *text, *gz = NULL;
	size_t len, gz_len = 0;
	double t0 = cpu_s(), t1;

	if (metrics_render(m, &text, &len) < 0) {
		log_debug("metrics: out of memory rendering; the last text stays");
		return;
	}
	t1 = cpu_s();
	m->render_s = t1 - t0;
	/*
	 * Compressed here, once per text, when a scraper takes gzip (Prometheus always does): the
	 * scrape then only copies, instead of waiting for the compression on every first request
	 * after a publish, which at Prometheus' period is nearly every request.
	 */
	if (atomic_load(&m->gzip_wanted)) {
		if (gzip_encode(text, len, &gz, &gz_len) < 0)
			gz = NULL; /* the server compresses it when asked */
		m->gzip_s = cpu_s() - t1;
	}
	pthread_mutex_lock(&m->text_lock);
	free(m->text);
	free(m->gz);
	m->text = text;
	m->text_len = len;
	m->gz = gz;
	m->gz_len = gz_len;
	m->text_gen++;
	pthread_mutex_unlock(&m->text_lock);
}

/* ---- what a pass observed ------------------------------------------------------------------- */

static int path_state(const char *s)
{
	for (int i = 0; s && i < M_PATH_STATES - 1; i++)
		if (strcmp(s, path_states[i]) == 0)
			return i;
	return M_PATH_STATES - 1;
}

static const struct rpc_raid *raid_find(const struct observe_raw *o, const char *name)
{
	for (size_t i = 0; i < o->raids.n; i++)
		if (strcmp(o->raids.v[i].name, name) == 0)
			return &o->raids.v[i];
	return NULL;
}

static void volume_fill(struct m_volume *v, struct iostat_target *t, const struct volume *dv,
			const struct rpc_raid *r)
{
	v->id = dv->id;
	v->raid_state = M_RAID_ABSENT;
	t->volume_id = dv->id;
	names_raid(dv->id, t->raid, sizeof(t->raid));
	t->n_ctrlrs = 0;
	for (size_t k = 0; k < dv->n_replicas && t->n_ctrlrs < IOSTAT_CTRLRS_MAX; k++)
		if (names_ctrlr(&dv->replicas[k], t->ctrlrs[t->n_ctrlrs], sizeof(t->ctrlrs[0])) ==
		    0)
			t->n_ctrlrs++;
	if (!r)
		return;
	v->raid_state = M_RAID_OTHER_OFFLINE;
	for (int i = 0; i < M_RAID_ABSENT; i++)
		if (r->state && strcmp(r->state, raid_states[i]) == 0)
			v->raid_state = i;
	v->bases = (unsigned)r->num_base_bdevs;
	v->operational = (unsigned)r->num_base_bdevs_operational;
	v->rebuild = r->has_process;
	v->rebuild_ratio = r->has_process ? (double)r->process_percent / 100.0 : 0;
	for (size_t k = 0; k < r->n_bases && v->n_members < MODEL_REPLICAS_MAX; k++) {
		struct m_member *mb = &v->members[v->n_members++];
		const struct rpc_raid_base *b = &r->bases[k];

		if (!b->name) {
			snprintf(mb->name, sizeof(mb->name), "slot%zu", k);
			mb->state = M_MEMBER_MISSING;
		} else {
			util_strlcpy(mb->name, b->name, sizeof(mb->name));
			if (r->has_process && r->process_target &&
			    strcmp(r->process_target, b->name) == 0)
				mb->state = M_MEMBER_REBUILDING;
			else
				mb->state = b->is_configured ? M_MEMBER_OPERATIONAL
							     : M_MEMBER_CONFIGURING;
		}
	}
}

static int paths_fill(struct metrics *m, const struct observe_raw *o)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < o->controllers.n; i++)
		if (names_classify(o->controllers.v[i].name, NULL) != NAME_FOREIGN)
			n += o->controllers.v[i].n_paths;
	free(m->paths);
	m->n_paths = 0;
	m->paths = calloc(n ? n : 1, sizeof(*m->paths));
	if (!m->paths)
		return -ENOMEM;
	for (size_t i = 0; i < o->controllers.n; i++) {
		const struct rpc_nvme_ctrlr *c = &o->controllers.v[i];

		if (names_classify(c->name, NULL) == NAME_FOREIGN)
			continue;
		for (size_t p = 0; p < c->n_paths; p++, k++) {
			util_strlcpy(m->paths[k].ctrlr, c->name, sizeof(m->paths[k].ctrlr));
			util_strlcpy(m->paths[k].traddr,
				     c->paths[p].traddr ? c->paths[p].traddr : "",
				     sizeof(m->paths[k].traddr));
			util_strlcpy(m->paths[k].trsvcid,
				     c->paths[p].trsvcid ? c->paths[p].trsvcid : "",
				     sizeof(m->paths[k].trsvcid));
			m->paths[k].state = path_state(c->paths[p].state);
		}
	}
	m->n_paths = k;
	return 0;
}

void metrics_observed(struct metrics *m, const struct desired *d, const struct observe_raw *o,
		      const struct obs_flap *flaps, size_t n_flaps)
{
	size_t nv = d->n_volumes, nm = d->n_mappings;
	struct m_volume *v = calloc(nv ? nv : 1, sizeof(*v));
	struct iostat_target *t = calloc(nv ? nv : 1, sizeof(*t));
	struct m_mapping *mp = calloc(nm ? nm : 1, sizeof(*mp));
	struct obs_flap *fl = calloc(n_flaps ? n_flaps : 1, sizeof(*fl));
	size_t nt = 0;
	char raid[MODEL_NAME_MAX];

	if (!v || !t || !mp || !fl || paths_fill(m, o) < 0) {
		free(v);
		free(t);
		free(mp);
		free(fl);
		return; /* the last pass's view stays */
	}
	for (size_t i = 0; i < nv; i++) {
		const struct rpc_raid *r;

		names_raid(d->volumes[i].id, raid, sizeof(raid));
		r = raid_find(o, raid);
		volume_fill(&v[i], &t[nt], &d->volumes[i], r);
		/* the scraper asks only for raids that exist */
		if (r)
			nt++;
	}
	for (size_t i = 0; i < nm; i++)
		mp[i] = (struct m_mapping){d->mappings[i].id, d->mappings[i].volume_id,
					   (int)d->mappings[i].state};
	if (n_flaps)
		memcpy(fl, flaps, n_flaps * sizeof(*fl));
	free(m->volumes);
	free(m->targets);
	free(m->mappings);
	free(m->flaps);
	m->volumes = v;
	m->n_volumes = nv;
	m->targets = t;
	m->n_targets = nt;
	m->mappings = mp;
	m->n_mappings = nm;
	m->flaps = fl;
	m->n_flaps = n_flaps;
	m->observed = true;
}

/* Upper bounds of the pass duration histogram, seconds. */
const double metrics_pass_buckets[M_PASS_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
						     0.5,   1,	  2.5,	 5,    10,  30};

void metrics_pass_done(struct metrics *m, double seconds, bool ok, bool db_error)
{
	for (int i = 0; i < M_PASS_BUCKETS; i++)
		if (seconds <= metrics_pass_buckets[i])
			m->pass_bucket[i]++;
	m->pass_count++;
	m->pass_sum += seconds;
	if (!ok)
		m->pass_failed++;
	if (db_error)
		m->db_errors++;
}

void metrics_restart_served(struct metrics *m, double seconds)
{
	m->restart_served_s = seconds;
	m->has_restart = true;
}

bool metrics_iostat_tick(struct metrics *m, struct rpc_client *c, uint64_t interval_ms,
			 uint64_t now_ms)
{
	int r;

	if (!interval_ms || !m->observed ||
	    (m->iostat_at_ms && now_ms - m->iostat_at_ms < interval_ms))
		return false;
	m->iostat_at_ms = now_ms;
	r = iostat_scrape(c, m->targets, m->n_targets, &m->iostat);
	if (r < 0)
		m->iostat_errors++;
	m->iostat_skips += m->iostat.skipped;
	log_debug("iostat: %zu raids, %u calls, %u skipped (controller resetting), %u failed, "
		  "%llu us",
		  m->n_targets, m->iostat.calls, m->iostat.skipped, m->iostat.failed,
		  (unsigned long long)m->iostat.duration_us);
	metrics_publish(m);
	return true;
}
