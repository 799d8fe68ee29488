/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/redact.h"

int main(int argc, char **argv)
{
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	int rc;

	if (!args)
		return CLI_EXIT_FAILURE;
	for (int i = 0; i < argc; i++) {
		args[i] = strdup(argv[i]);
		if (!args[i])
			return CLI_EXIT_FAILURE;
	}
	/*
	 * /proc/PID/cmdline is argv's own memory, readable by every user of the host: once the
	 * arguments are copied, a database password in them is hidden there.
	 */
	for (int i = 1; i < argc; i++)
		redact_mask(argv[i]);
	rc = cli_main(argc, args);
	for (int i = 0; i < argc; i++)
		free(args[i]);
	free(args);
	return rc;
}
