/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/cli.h"

#include <stdio.h>

int cli_daemon_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "diskengine: baremetal mode is not available in this build\n");
	return CLI_EXIT_FAILURE;
}
