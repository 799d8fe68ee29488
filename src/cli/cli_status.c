/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/cli.h"

#include <stdio.h>

int cli_status_main(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "diskengine %s: not available in this build\n", argv[0]);
	return CLI_EXIT_FAILURE;
}
