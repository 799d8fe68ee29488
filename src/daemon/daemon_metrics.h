/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_DAEMON_METRICS_H
#define DISKENGINE_DAEMON_METRICS_H

/*
 * Prometheus metrics (--metrics-listen ADDR:PORT). The reconcile loop records what each pass
 * observed and what the iostat scraper read into a state of its own, renders the text once per
 * pass or scrape and publishes it under a mutex; the HTTP server (libmicrohttpd's thread) only
 * copies the last published text, so a scrape never waits for a pass and a pass never waits
 * for a scrape. Labels are bounded: volume, mapping, member, controller, path address, method,
 * and fixed state names.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/daemon_iostat.h"
#include "reconcile/model.h"

struct metrics;
struct observe_raw;

/*
 * Check an ADDR:PORT ("127.0.0.1:9100", "[::1]:9100", ":9100" for every address): 0, or
 * -EINVAL with the reason in errbuf.
 */
int metrics_listen_parse(const char *spec, char *errbuf, size_t errlen);

/* Start serving /metrics on spec. 0 and *out, or a negative errno with the reason in errbuf. */
int metrics_start(const char *spec, struct metrics **out, char *errbuf, size_t errlen);
/* Stop the server and free everything. NULL is ignored. */
void metrics_stop(struct metrics *m);

/*
 * What a pass saw: the desired volumes and mappings, SPDK's raids and controllers, and the
 * resets counted per controller. Also yields the scraper's targets (volumes whose raid exists).
 * Main thread only.
 */
void metrics_observed(struct metrics *m, const struct desired *d, const struct observe_raw *o,
		      const struct obs_flap *flaps, size_t n_flaps);
/* A pass ended after seconds; ok false when it could not run; db_error: the database failed. */
void metrics_pass_done(struct metrics *m, double seconds, bool ok, bool db_error);
/* A fresh SPDK had every mapping served again this long after it was found. */
void metrics_restart_served(struct metrics *m, double seconds);
/*
 * Run an iostat round when it is due (every interval_ms; 0 = never) on the client c. Returns
 * true when one ran.
 */
bool metrics_iostat_tick(struct metrics *m, struct rpc_client *c, uint64_t interval_ms,
			 uint64_t now_ms);
/* Render the text and publish it for the server. Main thread only. */
void metrics_publish(struct metrics *m);

/* The last published text (caller frees), for tests and benches; NULL when none yet. */
char *metrics_text_copy(struct metrics *m, size_t *len);
/*
 * The last published text gzip-encoded (caller frees), compressed here when no publish did it
 * yet (then kept for the next requests until the next publish); NULL when none yet or out of
 * memory. Any thread.
 */
char *metrics_gzip_copy(struct metrics *m, size_t *len);

#endif
