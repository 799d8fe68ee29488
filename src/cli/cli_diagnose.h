/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_CLI_DIAGNOSE_H
#define DISKENGINE_CLI_DIAGNOSE_H

/* The walk of `diskengine diagnose` shared by its parts (cli_diagnose*.c). */

#include <jansson.h>
#include <stdbool.h>

#include "rpc/rpc.h"

enum diag_verdict { DIAG_OK, DIAG_BROKEN, DIAG_UNKNOWN };

struct diag {
	json_t *steps;
	bool json;
	bool stopped; /* a broken layer was found */
	bool unknown;
};

/* A raid member as the database places it: its controller and namespace bdev names. */
struct diag_member {
	char ctrlr[128];
	char bdev[144];
	unsigned nsid;
};

/* Records one step; evidence is stolen. Returns true when the step is broken. */
bool diag_step(struct diag *d, const char *layer, const char *object, enum diag_verdict v,
	       json_t *evidence, const char *next, const char *dont);
json_t *diag_rpc_err(const struct rpc_error *err);
/* Walks one member: namespace bdev, controller (or its reset), I/O paths. True if broken. */
bool diag_member(struct diag *d, struct rpc_client *c, const struct diag_member *m);

#endif
