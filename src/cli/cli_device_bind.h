/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_CLI_CLI_DEVICE_BIND_H
#define DISKENGINE_CLI_CLI_DEVICE_BIND_H

/* diskengine device bind / rollback (operator commands run on the host). */
int device_bind(int argc, char **argv);
int device_rollback(int argc, char **argv);

#endif
