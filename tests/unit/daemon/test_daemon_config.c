/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/daemon_config.h"
#include "daemon/daemon_internal.h"

static int load(struct daemon_config *cfg, char *err, size_t errlen, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	argv[argc++] = "diskengine";
	va_start(ap, errlen);
	for (char *a = va_arg(ap, char *); a; a = va_arg(ap, char *))
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return daemon_config_load(cfg, argc, argv, err, errlen);
}

static int setup(void **state)
{
	(void)state;
	unsetenv("SPDK_RPC_SOCK");
	unsetenv("BAREMETAL_ID");
	unsetenv("RDMA_IPS");
	unsetenv("DISKENGINE_DB");
	return 0;
}

static void test_seed_flag_and_env(void **state)
{
	struct daemon_config cfg;
	char err[256] = "";

	(void)state;
	setenv("SPDK_RPC_SOCK", "/run/spdk/x.sock", 1);
	setenv("BAREMETAL_ID", "bm-17", 1);
	setenv("RDMA_IPS", "10.0.0.5,10.0.1.5", 1);
	assert_int_equal(load(&cfg, err, sizeof(err), "-mode", "baremetal", NULL), 0);
	assert_string_equal(cfg.mode, "baremetal");
	assert_string_equal(cfg.spdk_sock, "/run/spdk/x.sock");
	assert_string_equal(cfg.host, "bm-17");
	assert_int_equal(cfg.n_rdma_ips, 2);
	assert_string_equal(cfg.rdma_ips[1], "10.0.1.5");
	assert_int_equal(cfg.reconnect_delay_s, 1);
	assert_int_equal(cfg.ctrlr_loss_s, 10);
	assert_int_equal(cfg.fast_io_fail_s, 0);
	assert_int_equal(daemon_config_check(&cfg, err, sizeof(err)), 0);
	setup(NULL);
}

static void test_precedence_file_env_flags(void **state)
{
	char path[] = "/tmp/de-cfg-XXXXXX";
	struct daemon_config cfg;
	char err[256] = "";
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "# comment\nhost = from-file\nspdk-sock = /file.sock\nctrlr-loss-timeout = 12\n"
		   "once = true\n");
	fclose(f);
	setenv("SPDK_RPC_SOCK", "/env.sock", 1);
	assert_int_equal(load(&cfg, err, sizeof(err), "--mode=baremetal", "--config", path,
			      "--ctrlr-loss-timeout", "15", NULL),
			 0);
	assert_string_equal(cfg.host, "from-file");
	assert_string_equal(cfg.spdk_sock, "/env.sock");
	assert_int_equal(cfg.ctrlr_loss_s, 15);
	assert_true(cfg.once);
	unlink(path);
	setup(NULL);
}

static void test_bad_inputs_name_the_problem(void **state)
{
	char path[] = "/tmp/de-cfg-XXXXXX";
	struct daemon_config cfg;
	char err[256] = "";
	FILE *f;
	int fd;

	(void)state;
	assert_int_equal(load(&cfg, err, sizeof(err), "--mode", "baremetal", "--bogus", "1", NULL),
			 -EINVAL);
	assert_non_null(strstr(err, "--bogus"));
	assert_int_equal(load(&cfg, err, sizeof(err), "--interval-ms", "fast", NULL), -EINVAL);
	assert_non_null(strstr(err, "interval-ms"));
	assert_non_null(strstr(err, "fast"));
	assert_int_equal(load(&cfg, err, sizeof(err), "--config", "/nonexistent.conf", NULL),
			 -EINVAL);
	assert_non_null(strstr(err, "/nonexistent.conf"));

	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fprintf(f, "host = a\nwhat = b\n");
	fclose(f);
	assert_int_equal(load(&cfg, err, sizeof(err), "--config", path, NULL), -EINVAL);
	assert_non_null(strstr(err, ":2: unknown key 'what'"));
	unlink(path);
}

static void test_check_timers_and_identity(void **state)
{
	struct daemon_config cfg;
	char err[256] = "";

	(void)state;
	assert_int_equal(load(&cfg, err, sizeof(err), "-mode", "baremetal", NULL), 0);
	assert_int_equal(daemon_config_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "BAREMETAL_ID"));

	assert_int_equal(load(&cfg, err, sizeof(err), "-mode", "cloud", "--host", "h", NULL), 0);
	assert_int_equal(daemon_config_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cloud"));

	assert_int_equal(load(&cfg, err, sizeof(err), "-mode", "baremetal", "--host", "h",
			      "--fast-io-fail-timeout", "10", NULL),
			 0);
	assert_int_equal(daemon_config_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "fast-io-fail-timeout"));

	assert_int_equal(load(&cfg, err, sizeof(err), "-mode", "baremetal", "--host", "h",
			      "--member-giveup", "10", NULL),
			 0);
	assert_int_equal(daemon_config_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "member-giveup"));

	assert_int_equal(load(&cfg, err, sizeof(err), "-mode", "baremetal", "--host", "h",
			      "--guest-io-timeout", "20", NULL),
			 0);
	assert_int_equal(daemon_config_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "guest-io-timeout"));

	assert_int_equal(load(&cfg, err, sizeof(err), "-mode", "baremetal", "--host", "h",
			      "--ctrlr-loss-timeout", "-1", NULL),
			 0);
	assert_int_equal(daemon_config_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ctrlr-loss-timeout"));

	assert_int_equal(load(&cfg, err, sizeof(err), "-mode", "baremetal", "--host", "h",
			      "--reconnect-delay", "0", NULL),
			 0);
	assert_int_equal(daemon_config_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "reconnect-delay"));
}

/* Each integer option out of its range is refused, naming the option; its edges are taken. */
static void test_integer_ranges(void **state)
{
	static const struct {
		const char *opt, *bad, *good;
	} cases[] = {
		/* 2^31 used to wrap to -1 in the planner and remove orphans at once */
		{"--orphan-grace", "2147483648", "31536000"},
		{"--orphan-grace", "4294967295", "0"},
		{"--interval-ms", "0", "3600000"},
		{"--interval-ms", "3600001", "1"},
		{"--rpc-timeout-ms", "4000000000", "3600000"},
		{"--concurrency", "0", "4096"},
		{"--concurrency", "4097", "1"},
		{"--guest-io-timeout", "86401", "86400"},
		{"--member-giveup", "86401", "29"},
		{"--fast-io-fail-timeout", "-1", "0"},
	};
	struct daemon_config cfg;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *name = cases[i].opt + 2;

		assert_int_equal(load(&cfg, err, sizeof(err), "-mode", "baremetal", "--host", "h",
				      cases[i].opt, cases[i].bad, NULL),
				 0);
		assert_int_equal(daemon_config_check(&cfg, err, sizeof(err)), -EINVAL);
		if (!strstr(err, name))
			fail_msg("%s %s: error does not name the option: %s", cases[i].opt,
				 cases[i].bad, err);
		assert_int_equal(load(&cfg, err, sizeof(err), "-mode", "baremetal", "--host", "h",
				      cases[i].opt, cases[i].good, NULL),
				 0);
		if (daemon_config_check(&cfg, err, sizeof(err)) != 0)
			fail_msg("%s %s refused: %s", cases[i].opt, cases[i].good, err);
	}
}

static void test_next_wait(void **state)
{
	struct daemon_pass_result idle = {.clean = true, .converged = true};
	struct daemon_pass_result worked = {.actions = 3};
	struct daemon_pass_result failed = {.failed = 1};
	struct daemon_pass_result backoff = {.deferred = 1};
	struct daemon_pass_result status = {.waiting = 2};
	struct daemon_pass_result went_on = {.actions = 3, .finished = 1, .changed = true};
	struct daemon_pass_result partly = {.actions = 3, .finished = 1, .failed = 1};
	struct daemon_pass_result wrote = {.clean = true, .converged = true, .statuses = 1};

	/* nothing to do: the timer, stretched while the host stays quiet */
	assert_int_equal(daemon_next_wait_ms(5000, 0, &idle, 1), 5000);
	assert_int_equal(daemon_next_wait_ms(5000, 0, &idle, 2), 10000);
	assert_int_equal(daemon_next_wait_ms(5000, 0, &idle, 3), 20000);
	assert_int_equal(daemon_next_wait_ms(5000, 0, &idle, 50), 20000);
	/* a chain finished its steps: the next ones can go on now, not after a pause */
	assert_int_equal(daemon_next_wait_ms(5000, 0, &went_on, 0), 0);
	assert_int_equal(daemon_next_wait_ms(5000, 0, &partly, 0), 0);
	assert_int_equal(daemon_next_wait_ms(5000, -ECONNRESET, &went_on, 0), 200);
	/* tried without finishing, failed, backed off, or the pass could not run: soon */
	assert_int_equal(daemon_next_wait_ms(5000, 0, &worked, 0), 200);
	assert_int_equal(daemon_next_wait_ms(5000, 0, &failed, 0), 200);
	assert_int_equal(daemon_next_wait_ms(5000, 0, &backoff, 0), 200);
	assert_int_equal(daemon_next_wait_ms(5000, -ECONNRESET, &idle, 0), 200);
	/* only statuses that wait for something else (a rebuild, an operator): the period, never
	 * stretched, and never a full observation several times a second for as long as it lasts */
	assert_int_equal(daemon_next_wait_ms(5000, 0, &status, 3), 5000);
	assert_int_equal(daemon_next_wait_ms(5000, 0, &wrote, 3), 5000);
	/* never sooner than asked for short periods */
	assert_int_equal(daemon_next_wait_ms(100, 0, &status, 0), 100);
	assert_int_equal(daemon_next_wait_ms(100, 0, &worked, 0), 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_seed_flag_and_env, setup),
		cmocka_unit_test_setup(test_precedence_file_env_flags, setup),
		cmocka_unit_test_setup(test_bad_inputs_name_the_problem, setup),
		cmocka_unit_test_setup(test_check_timers_and_identity, setup),
		cmocka_unit_test_setup(test_integer_ranges, setup),
		cmocka_unit_test(test_next_wait),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
