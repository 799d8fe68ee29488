/* SPDX-License-Identifier: Apache-2.0 */
#include "sim/sim.h"

#include <stdio.h>

int sim_run(const struct sim_options *opts)
{
	(void)opts;
	fprintf(stderr, "spdk-sim: server core not built yet\n");
	return 1;
}
