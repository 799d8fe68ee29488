/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/redact.h"
#include "daemon/daemon.h"
#include "daemon/daemon_config.h"

int cli_daemon_main(int argc, char **argv)
{
	struct daemon_config cfg;
	char err[512] = "";
	enum log_level lvl;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			daemon_config_usage(stdout);
			return CLI_EXIT_OK;
		}
	}
	if (daemon_config_load(&cfg, argc, argv, err, sizeof(err)) < 0) {
		char shown[sizeof(err)];

		/* "unexpected argument '...'" may quote a database URL given without --db. */
		redact_copy(err, shown, sizeof(shown));
		fprintf(stderr, "diskengine: %s\n", shown);
		return CLI_EXIT_USAGE;
	}
	if (daemon_config_check(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "diskengine: %s\n", err);
		return CLI_EXIT_USAGE;
	}
	if (log_level_parse(cfg.log_level, &lvl) < 0) {
		fprintf(stderr, "diskengine: log-level '%s': want error, warn, info or debug\n",
			cfg.log_level);
		return CLI_EXIT_USAGE;
	}
	log_set_level(lvl);
	return daemon_run(&cfg);
}
