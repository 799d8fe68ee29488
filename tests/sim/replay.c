/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Conformance replay: plays real SPDK's recorded transcripts (every .jsonl file in
 * $CONFORMANCE_DIR) against fresh spdk-sim processes and compares the normalised answers.
 *
 *   replay [-v] [FILE.jsonl ...]     (default: every transcript in $CONFORMANCE_DIR)
 *
 * Ends with "conformance: N passed, N failed"; exit status 1 when anything failed.
 */
#include "replay.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Per-file tallies and settings. */
struct replay_run {
	struct replay_env env;
	const char *dir;  /* $CONFORMANCE_DIR */
	const char *file; /* basename of the transcript */
	json_t *lines;	  /* the transcript, one object per line */
	int passed, failed;
	bool verbose;
	/* timed polls */
	int run_id;
	long last_ts;
	uint64_t t0_ms, last_event_ms;
	json_t *timed; /* key -> {"alt": "timed:target:method", "want": [...], "got": [...]} */
	const char *cur_method; /* method of the step being compared (for the summary) */
	json_t *fail_methods;	/* method -> failures, printed after the file */
	bool present[4096];	/* steps already sent ahead of their line (host#2) */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_until(uint64_t t)
{
	uint64_t now = now_ms();

	if (t > now)
		usleep((useconds_t)(t - now) * 1000);
}

static void report(struct replay_run *r, bool ok, const char *what, const json_t *want,
		   const json_t *got, const char *note)
{
	if (ok) {
		r->passed++;
		if (r->verbose || note)
			printf("  ok   %s#%s%s%s\n", r->file, what, note ? ": " : "",
			       note ? note : "");
		return;
	}
	r->failed++;
	if (r->cur_method) {
		json_t *n = json_object_get(r->fail_methods, r->cur_method);

		json_object_set_new(r->fail_methods, r->cur_method,
				    json_integer(n ? json_integer_value(n) + 1 : 1));
	}
	printf("  FAIL %s#%s%s%s\n", r->file, what, note ? ": " : "", note ? note : "");
	if (want || got) {
		char *w = replay_show(want), *g = replay_show(got);
		char *d = want && got ? replay_diff(want, got) : NULL;

		printf("       want %s\n       got  %s\n", w, g);
		if (d)
			printf("       first difference at %s\n", d);
		free(w);
		free(g);
		free(d);
	}
}

/* ---- actions --------------------------------------------------------------------------- */

static uint32_t crc32_calc(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static void base64(const unsigned char *in, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = t[v >> 18];
		out[o++] = t[(v >> 12) & 63];
		out[o++] = t[(v >> 6) & 63];
		out[o++] = t[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);

		out[o++] = t[v >> 18];
		out[o++] = t[(v >> 12) & 63];
		out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
}

/* DH-HMAC-CHAP secret "DHHC-1:00:<base64(key || crc32 LE)>:" with key bytes first..+31. */
static int write_key(struct replay_run *r, const char *name, unsigned first, mode_t mode)
{
	unsigned char raw[36];
	char b64[64], text[96], path[512];
	uint32_t crc;
	FILE *f;

	for (unsigned i = 0; i < 32; i++)
		raw[i] = (unsigned char)(first + i);
	crc = crc32_calc(raw, 32);
	for (int i = 0; i < 4; i++)
		raw[32 + i] = (unsigned char)(crc >> (8 * i));
	base64(raw, sizeof(raw), b64);
	snprintf(text, sizeof(text), "DHHC-1:00:%s:", b64);
	snprintf(path, sizeof(path), "%s/%s", r->env.key_dir, name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	fclose(f);
	return chmod(path, mode) < 0 ? -errno : 0;
}

/*
 * "wrote key files ['ckey0', 'key0', ...] (modes 0600,0600,...); ...": a file named
 * key_0NNN gets mode 0NNN (its name is its point), the others the listed mode. Controller
 * keys (c...) hold other bytes than host keys, as two distinct secrets would.
 */
static int write_keys(struct replay_run *r, const char *action)
{
	const char *names = strchr(action, '['), *modes = strstr(action, "(modes ");
	char name[64];
	int rc = 0, i = 0;

	if (!names || !modes)
		return -EINVAL;
	modes += 7;
	while (rc == 0 && (names = strchr(names, '\'')) != NULL) {
		const char *end = strchr(names + 1, '\'');
		unsigned long mode = strtoul(modes, NULL, 8), named;
		size_t n;

		if (!end)
			return -EINVAL;
		n = (size_t)(end - names - 1);
		if (n >= sizeof(name))
			return -EINVAL;
		memcpy(name, names + 1, n);
		name[n] = '\0';
		if (n > 5 && name[n - 5] == '_' && name[n - 4] == '0' &&
		    (named = strtoul(name + n - 4, NULL, 8)) != 0)
			mode = named;
		rc = write_key(r, name, name[0] == 'c' ? 32 : 0, (mode_t)mode);
		names = end + 1;
		modes = strchr(modes, ',') ? strchr(modes, ',') + 1 : modes;
		i++;
	}
	return rc < 0 ? rc : i > 0 ? 0 : -EINVAL;
}

static void make_stale_socket(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (fd >= 0) {
		/* bound then closed: the file stays, nobody listens (a killed process) */
		if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
			fprintf(stderr, "replay: stale socket %s: %s\n", path, strerror(errno));
		close(fd);
	}
}

static bool raid_busy(json_t *ans)
{
	json_t *res = json_object_get(ans, "result"), *e;
	size_t i;

	/* an error or no answer: there is no rebuild to wait for (the step after reports) */
	if (!json_is_array(res))
		return false;
	json_array_foreach(res, i, e) if (json_object_get(e, "process")) return true;
	return false;
}

static void wait_rebuild(struct replay_run *r)
{
	uint64_t deadline = now_ms() + 120000;

	while (now_ms() < deadline) {
		json_t *ans = replay_call(&r->env, NODE_HOST, "bdev_raid_get_bdevs",
					  json_pack("{s:s}", "category", "all"), 5000);
		bool busy = raid_busy(ans);

		json_decref(ans);
		if (!busy)
			return;
		usleep(200000);
	}
	report(r, false, "rebuild", NULL, NULL, "rebuild did not finish within 120 s");
}

/* Assemble save_config like rpc.py and compare with config_saved.json. */
static void check_saved_config(struct replay_run *r)
{
	char path[1024];
	json_t *subs = replay_call(&r->env, NODE_HOST, "framework_get_subsystems", NULL, 5000);
	json_t *doc = json_object(), *arr = json_array(), *want, *e;
	size_t i;

	json_array_foreach(json_object_get(subs, "result"), i, e)
	{
		const char *name = json_string_value(json_object_get(e, "subsystem"));
		json_t *cfg = replay_call(&r->env, NODE_HOST, "framework_get_config",
					  json_pack("{s:s}", "name", name), 5000);

		json_array_append_new(arr, json_pack("{s:s,s:O}", "subsystem", name, "config",
						     json_object_get(cfg, "result")
							     ?: json_object_get(cfg, "error")));
		json_decref(cfg);
	}
	json_object_set_new(doc, "subsystems", arr);
	replay_normalise(&r->env, doc);
	snprintf(path, sizeof(path), "%s/config_saved.json", r->dir);
	want = json_load_file(path, 0, NULL);
	if (want)
		replay_normalise(&r->env, want);
	report(r, want && json_equal(want, doc), "config_saved.json", want, doc, NULL);
	json_decref(want);
	json_decref(doc);
	json_decref(subs);
}

static json_t *find_step(struct replay_run *r, long step)
{
	size_t i;
	json_t *d;

	json_array_foreach(r->lines, i,
			   d) if (json_integer_value(json_object_get(d, "step")) == step &&
				  json_object_get(d, "step")) return d;
	return NULL;
}

static int send_request(struct replay_run *r, int idx, json_t *d);

static void do_action(struct replay_run *r, json_t *d)
{
	const char *a = json_string_value(json_object_get(d, "action"));
	char buf[1024];
	long n;
	int rc = 0;

	if (!a)
		return;
	if (strcmp(a, "start storage node spdk_tgt") == 0) {
		rc = replay_node_start(&r->env, NODE_STORAGE);
	} else if (strcmp(a, "start compute host spdk_tgt --wait-for-rpc") == 0) {
		rc = replay_node_start(&r->env, NODE_HOST);
	} else if (strcmp(a, "stop all SPDK processes") == 0) {
		replay_node_stop(&r->env, NODE_HOST, false);
		replay_node_stop(&r->env, NODE_STORAGE, false);
	} else if (strcmp(a, "kill -9 storage node") == 0) {
		replay_node_stop(&r->env, NODE_STORAGE, true);
	} else if (sscanf(a, "sleep %ld", &n) == 1) {
		usleep((useconds_t)n * 1000000);
	} else if (strncmp(a, "wrote key files", 15) == 0) {
		rc = write_keys(r, a);
	} else if (sscanf(a, "step %ld sent on a second connection", &n) == 1) {
		json_t *s = find_step(r, n), *early;
		int idx = replay_target_index(json_string_value(json_object_get(s, "target")));

		if (!s || idx < 0 || n < 0 || n >= 4096 || send_request(r, idx, s) < 0) {
			report(r, false, "action", NULL, NULL, a);
			return;
		}
		r->present[n] = true;
		/* the recorder saw no answer for 2 s; one second tells the same */
		early = replay_conn_wait_any(&r->env.conn[idx], 1000);
		if (early) {
			snprintf(buf, sizeof(buf), "%ld", n);
			report(r, false, buf, NULL, early, "answered before it should");
			json_decref(early);
		}
	} else if (strncmp(a, "left a stale unix socket file ", 30) == 0) {
		char *p = replay_subst_paths(&r->env, a + 30), *sp = strchr(p, ' ');

		if (sp)
			*sp = '\0';
		make_stale_socket(p);
		free(p);
	} else if (strncmp(a, "rm ", 3) == 0) {
		char *p = replay_subst_paths(&r->env, a + 3);

		unlink(p);
		free(p);
	} else if (strcmp(a, "waited for rebuild to finish") == 0) {
		wait_rebuild(r);
	} else if (strncmp(a, "wrote config_saved.json", 23) == 0) {
		check_saved_config(r);
	} else if (strncmp(a, "t_s counts", 10) == 0) {
		/* informational */
	} else {
		report(r, false, "action", NULL, NULL, a);
		return;
	}
	if (rc < 0) {
		snprintf(buf, sizeof(buf), "%s: %s", a, strerror(-rc));
		report(r, false, "action", NULL, NULL, buf);
	}
}

/* ---- steps ------------------------------------------------------------------------------ */

static int send_request(struct replay_run *r, int idx, json_t *d)
{
	json_t *req = json_object_get(d, "request"), *raw = json_object_get(d, "request_raw");
	char *text, *subst;
	int rc;

	rc = replay_conn_ensure(&r->env, idx);
	if (rc < 0)
		return rc;
	text = req ? json_dumps(req, JSON_COMPACT) : strdup(json_string_value(raw) ?: "");
	subst = replay_subst_paths(&r->env, text);
	rc = replay_conn_send(&r->env.conn[idx], subst, strlen(subst));
	free(text);
	free(subst);
	return rc;
}

static void timed_add(struct replay_run *r, json_t *d, const json_t *want, json_t *got)
{
	const char *target = json_string_value(json_object_get(d, "target"));
	json_t *req = json_object_get(d, "request");
	const char *method = json_string_value(json_object_get(req, "method"));
	char *params = json_dumps(json_object_get(req, "params"), JSON_COMPACT | JSON_ENCODE_ANY);
	char key[1024], alt[256];
	json_t *g, *w, *x;

	snprintf(key, sizeof(key), "%d|%s|%s|%s", r->run_id, target, method, params ?: "");
	snprintf(alt, sizeof(alt), "timed:%s:%s", target, method);
	free(params);
	g = json_object_get(r->timed, key);
	if (!g) {
		g = json_pack("{s:s,s:[],s:[]}", "alt", alt, "want", "got");
		json_object_set_new(r->timed, key, g);
	}
	/* ids differ per poll: states are compared without them */
	w = json_deep_copy(want);
	json_object_del(w, "id");
	x = got ? json_deep_copy(got) : json_null();
	json_object_del(x, "id");
	json_array_append_new(json_object_get(g, "want"), w);
	json_array_append_new(json_object_get(g, "got"), x);
}

static void do_step_cmp(struct replay_run *r, json_t *d, json_t *want);

static void do_step(struct replay_run *r, json_t *d)
{
	json_t *want = replay_normalise(&r->env, json_deep_copy(json_object_get(d, "response")));

	do_step_cmp(r, d, want);
	json_decref(want);
}

static void do_step_cmp(struct replay_run *r, json_t *d, json_t *want)
{
	long step = (long)json_integer_value(json_object_get(d, "step"));
	const char *target = json_string_value(json_object_get(d, "target"));
	/* want: the recording, normalised like the answer (cntlid, progress dropped) */
	json_t *ts = json_object_get(d, "t_s"), *got;
	int idx = replay_target_index(target);
	char what[64];
	bool ok;

	snprintf(what, sizeof(what), "%ld", step);
	r->cur_method = json_string_value(json_object_get(json_object_get(d, "request"), "method"));
	if (idx < 0) {
		report(r, false, what, NULL, NULL, "unknown target");
		return;
	}
	if (ts) {
		long t = (long)json_integer_value(ts);

		if (r->last_ts < 0 || t < r->last_ts) {
			r->run_id++;
			r->t0_ms = r->last_event_ms;
		}
		r->last_ts = t;
		sleep_until(r->t0_ms + (uint64_t)t * 1000);
	}
	if (!(step >= 0 && step < 4096 && r->present[step]) && send_request(r, idx, d) < 0) {
		report(r, false, what, want, NULL, "cannot reach the target's RPC socket");
		return;
	}
	if (json_object_get(want, "<no response>")) {
		got = replay_conn_wait_any(&r->env.conn[idx], 1000);
		report(r, !got, what, want, got, NULL);
		json_decref(got);
		/* the recorder reconnects after a timeout */
		replay_conn_close(&r->env.conn[idx]);
		return;
	}
	got = replay_conn_wait_id(&r->env.conn[idx], json_object_get(want, "id"), 20000);
	if (got)
		replay_normalise(&r->env, got);
	if (ts) {
		timed_add(r, d, want, got);
		json_decref(got);
		return;
	}
	ok = got && json_equal(want, got);
	if (!ok && got) {
		const struct replay_alt *a = replay_alt_find(r->file, what);

		if (a && replay_alt_accept(a, r->dir, (int)step, want, got)) {
			report(r, true, what, NULL, NULL, r->verbose ? a->reason : NULL);
			json_decref(got);
			return;
		}
	}
	report(r, ok, what, want, got, got ? NULL : "no answer");
	json_decref(got);
}

/* Consecutive duplicates collapse: the sequence of distinct states. */
static json_t *distinct(const json_t *seq)
{
	json_t *out = json_array(), *v;
	size_t i;

	json_array_foreach(seq, i, v)
	{
		size_t n = json_array_size(out);

		if (!n || !json_equal(json_array_get(out, n - 1), v))
			json_array_append(out, v);
	}
	return out;
}

/* got is want with some entries left out, and ends in the same state. */
static bool is_subsequence(const json_t *want, const json_t *got)
{
	size_t j = 0, nw = json_array_size(want), ng = json_array_size(got);

	if (!ng || !nw || !json_equal(json_array_get(want, nw - 1), json_array_get(got, ng - 1)))
		return false;
	for (size_t i = 0; i < nw && j < ng; i++)
		if (json_equal(json_array_get(want, i), json_array_get(got, j)))
			j++;
	return j == ng;
}

/* A bdev_raid_get_bdevs answer in which some raid has fewer operational bases than it has. */
static bool some_raid_degraded(const json_t *answer)
{
	const json_t *raid;
	size_t i;

	json_array_foreach(json_object_get(answer, "result"), i, raid)
	{
		json_int_t n = json_integer_value(json_object_get(raid, "num_base_bdevs"));
		json_int_t op =
			json_integer_value(json_object_get(raid, "num_base_bdevs_operational"));

		if (op < n)
			return true;
	}
	return false;
}

/* got without the degraded states the recording does not have (in place). */
static void drop_unrecorded_degraded(const json_t *want, json_t *got)
{
	for (size_t i = json_array_size(got); i-- > 0;) {
		const json_t *v = json_array_get(got, i);
		bool recorded = false;
		const json_t *w;
		size_t j;

		json_array_foreach(want, j, w) recorded = recorded || json_equal(w, v);
		if (!recorded && some_raid_degraded(v))
			json_array_remove(got, i);
	}
}

static void timed_finish(struct replay_run *r)
{
	const char *key;
	json_t *g;

	json_object_foreach(r->timed, key, g)
	{
		json_t *w = distinct(json_object_get(g, "want"));
		json_t *x = distinct(json_object_get(g, "got"));
		const char *alt = json_string_value(json_object_get(g, "alt"));
		const struct replay_alt *a = replay_alt_find(r->file, alt);
		char what[1100];
		bool ok = json_equal(w, x);

		if (!ok && a && a->kind == ALT_SUBSEQUENCE && a->arg &&
		    !strcmp(a->arg, "degraded")) {
			json_t *y = json_deep_copy(x);

			drop_unrecorded_degraded(w, y);
			ok = is_subsequence(w, y);
			json_decref(y);
		}
		if (!ok && a && a->kind == ALT_SUBSEQUENCE && is_subsequence(w, x))
			ok = true;
		snprintf(what, sizeof(what), "%s (run %.*s)", alt, (int)strcspn(key, "|"), key);
		r->cur_method = strrchr(alt, ':') + 1;
		report(r, ok, what, w, x, NULL);
		json_decref(w);
		json_decref(x);
	}
}

/* ---- files ------------------------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static json_t *load_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	json_t *arr;
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return NULL;
	arr = json_array();
	while (getline(&line, &cap, f) > 0) {
		json_t *d = json_loads(line, 0, NULL);

		if (d)
			json_array_append_new(arr, d);
	}
	free(line);
	fclose(f);
	return arr;
}

static void replay_file(struct replay_run *r, const char *path)
{
	json_t *d;
	size_t i;

	r->lines = load_lines(path);
	if (!r->lines) {
		report(r, false, "file", NULL, NULL, "cannot read the transcript");
		return;
	}
	snprintf(r->env.dir, sizeof(r->env.dir), "/tmp/simconf.XXXXXX");
	if (!mkdtemp(r->env.dir)) {
		report(r, false, "file", NULL, NULL, "cannot create a scratch directory");
		json_decref(r->lines);
		return;
	}
	snprintf(r->env.key_dir, sizeof(r->env.key_dir), "%s/keys", r->env.dir);
	snprintf(r->env.vhost_dir, sizeof(r->env.vhost_dir), "%s/vhost", r->env.dir);
	mkdir(r->env.key_dir, 0700);
	mkdir(r->env.vhost_dir, 0700);
	for (int c = 0; c < 3; c++)
		r->env.conn[c].fd = -1;
	r->timed = json_object();
	r->last_ts = -1;
	r->last_event_ms = now_ms();
	r->fail_methods = json_object();
	json_array_foreach(r->lines, i, d)
	{
		r->cur_method = NULL;
		if (json_object_get(d, "action"))
			do_action(r, d);
		else
			do_step(r, d);
		r->last_event_ms = now_ms();
	}
	timed_finish(r);
	r->cur_method = NULL;
	if (json_object_size(r->fail_methods)) {
		const char *m;
		json_t *n;

		printf("  failing methods:");
		json_object_foreach(r->fail_methods, m, n)
			printf(" %s (%lld)", m, (long long)json_integer_value(n));
		printf("\n");
	}
	json_decref(r->fail_methods);
	replay_node_stop(&r->env, NODE_HOST, false);
	replay_node_stop(&r->env, NODE_STORAGE, false);
	nftw(r->env.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	json_decref(r->timed);
	json_decref(r->lines);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	const char *dir = getenv("CONFORMANCE_DIR"), *bin = getenv("SPDK_SIM_BIN");
	char *files[256];
	int nfiles = 0, total_pass = 0, total_fail = 0, argi = 1;
	bool verbose = false;

	if (argi < argc && strcmp(argv[argi], "-v") == 0) {
		verbose = true;
		argi++;
	}
	if (!dir || !bin) {
		fprintf(stderr, "replay: set CONFORMANCE_DIR and SPDK_SIM_BIN\n");
		return 2;
	}
	if (argi < argc) {
		for (; argi < argc && nfiles < 256; argi++)
			files[nfiles++] = strdup(argv[argi]);
	} else {
		DIR *dd = opendir(dir);
		struct dirent *de;

		if (!dd) {
			fprintf(stderr, "replay: cannot open %s: %s\n", dir, strerror(errno));
			return 2;
		}
		while ((de = readdir(dd)) && nfiles < 256) {
			size_t l = strlen(de->d_name);

			if (l > 6 && strcmp(de->d_name + l - 6, ".jsonl") == 0)
				files[nfiles++] = strdup(de->d_name);
		}
		closedir(dd);
		qsort(files, (size_t)nfiles, sizeof(files[0]), cmp_str);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int f = 0; f < nfiles; f++) {
		const char *slash = strrchr(files[f], '/');
		struct replay_run r = {
			.dir = dir, .file = slash ? slash + 1 : files[f], .verbose = verbose};
		char path[1024];

		r.env.sim_bin = bin;
		/* a bare name is looked up in CONFORMANCE_DIR; a path is used as given */
		if (slash)
			snprintf(path, sizeof(path), "%s", files[f]);
		else
			snprintf(path, sizeof(path), "%s/%s", dir, files[f]);
		printf("%s:\n", r.file);
		replay_file(&r, path);
		printf("%s: %d passed, %d failed\n", r.file, r.passed, r.failed);
		total_pass += r.passed;
		total_fail += r.failed;
		free(files[f]);
	}
	printf("conformance: %d passed, %d failed\n", total_pass, total_fail);
	return total_fail ? 1 : 0;
}
