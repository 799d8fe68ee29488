/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_CLI_H
#define DISKENGINE_CLI_H

/*
 * Exit codes of every diskengine command (documented in docs/cli.md):
 */
enum cli_exit {
	CLI_EXIT_OK = 0,          /* success */
	CLI_EXIT_FAILURE = 1,     /* the operation failed (SPDK error, state rule, I/O) */
	CLI_EXIT_USAGE = 2,       /* bad command line or invalid value */
	CLI_EXIT_NOT_FOUND = 3,   /* a named object does not exist */
	CLI_EXIT_CONFLICT = 4,    /* the object exists already or is in the wrong state */
	CLI_EXIT_UNAVAILABLE = 5, /* the database or SPDK could not be reached */
};

/*
 * Entry points of the command families. argv[0] is the noun ("rpc", "volume", ...);
 * each returns an enum cli_exit value and prints its own errors to stderr.
 */
int cli_rpc_main(int argc, char **argv);      /* cli_rpc.c: raw JSON-RPC pass-through */
int cli_host_main(int argc, char **argv);     /* cli_host.c */
int cli_node_main(int argc, char **argv);     /* cli_node.c */
int cli_volume_main(int argc, char **argv);   /* cli_volume.c */
int cli_device_main(int argc, char **argv);   /* cli_device.c */
int cli_db_main(int argc, char **argv);       /* cli_db.c */
int cli_daemon_main(int argc, char **argv);   /* daemon: -mode baremetal */
int cli_status_main(int argc, char **argv);   /* cli_status.c */
int cli_diagnose_main(int argc, char **argv); /* cli_diagnose.c: the on-call walk */
int cli_graph_main(int argc, char **argv);    /* cli_graph.c: live graph as DOT */
int cli_drift_main(int argc, char **argv);    /* cli_drift.c: saved config vs SPDK vs database */

/* The top-level dispatcher used by main(). */
int cli_main(int argc, char **argv);

#endif
