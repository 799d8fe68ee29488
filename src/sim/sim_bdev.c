/* SPDX-License-Identifier: Apache-2.0 */
#include "sim/sim.h"

const struct sim_module sim_module_bdev = {.name = "bdev"};
