/* SPDX-License-Identifier: Apache-2.0 */
#include "sim/sim.h"

int main(int argc, char **argv)
{
	struct sim_options opts = {0};

	(void)argc;
	(void)argv;
	return sim_run(&opts);
}
