/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_CLI_CLI_HOST_CHECK_H
#define DISKENGINE_CLI_CLI_HOST_CHECK_H

/* diskengine host check: sysfs/procfs readiness for local drives; exit 0 ready, 1 not. */
int host_check(int argc, char **argv);

#endif
