/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DISKENGINE_DAEMON_CONFIG_H
#define DISKENGINE_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DAEMON_MAX_RDMA_IPS 16

/* Everything `diskengine -mode baremetal` is configured with. */
struct daemon_config {
	char mode[32];             /* only "baremetal" exists */
	char spdk_sock[108];       /* SPDK_RPC_SOCK: SPDK's JSON-RPC Unix socket */
	char host[256];            /* BAREMETAL_ID: this host's name in the database */
	char db_url[1024];         /* DISKENGINE_DB */
	char rdma_ips[DAEMON_MAX_RDMA_IPS][64]; /* RDMA_IPS: local source addresses */
	unsigned n_rdma_ips;
	char vhost_dir[256];       /* where vhost-blk sockets live (SPDK's -S) */
	char saved_config[256];    /* where the live SPDK config is saved after changes */
	char sysfs_root[256];      /* "/" in production; a fake tree in tests */
	char hostnqn[224];         /* NVMe host NQN used for every fabric attach */
	char cpumask[32];          /* vhost controllers' cpumask; empty = SPDK's default */
	char log_level[16];
	char metrics_listen[128];  /* ADDR:PORT of the Prometheus endpoint; empty = none */
	uint32_t iostat_interval_ms; /* iostat scraper period (with metrics); 0 = off */
	uint32_t interval_ms;      /* pass timer when nothing wakes the daemon */
	uint32_t rpc_timeout_ms;   /* per SPDK call */
	uint32_t concurrency;      /* SPDK calls in flight at once */
	int32_t reconnect_delay_s; /* bdev_nvme reconnect_delay_sec */
	int32_t ctrlr_loss_s;      /* bdev_nvme ctrlr_loss_timeout_sec */
	int32_t fast_io_fail_s;    /* bdev_nvme fast_io_fail_timeout_sec */
	int32_t member_giveup_s;   /* after this a lost path is given up as a RAID member */
	int32_t guest_io_timeout_s; /* the guest's I/O timeout that everything must stay under */
	int32_t flap_limit;	   /* reconnects of one path within flap_window_s that give it up */
	int32_t flap_window_s;	   /* the window, and how long a given-up path must stay quiet */
	uint32_t orphan_grace_s;   /* how long an unclaimed diskengine object lives before removal */
	bool once;                 /* run one pass and exit (operators, tests) */
	bool allow_unsafe_noiommu; /* the operator accepts uio without an IOMMU for local drives */
};

/* RDMA_IPS as one comma-separated string (host_facts_read's form); truncated to size. */
void daemon_config_rdma_ips(const struct daemon_config *cfg, char *buf, size_t size);

/* Fill the built-in defaults (the seed's timers: reconnect 1 s, loss 10 s, fast-io-fail 0 s). */
void daemon_config_defaults(struct daemon_config *cfg);

/*
 * Build the configuration from, lowest precedence first: defaults, the config file named by
 * --config (key = value lines, keys as the long options without dashes), the environment
 * (SPDK_RPC_SOCK, BAREMETAL_ID, RDMA_IPS, DISKENGINE_DB), then the command line.
 * On error returns -EINVAL and writes a message naming the bad option/line into errbuf.
 */
int daemon_config_load(struct daemon_config *cfg, int argc, char **argv, char *errbuf,
		       size_t errlen);

/*
 * Check that the configuration can work at all: mode known, host named, timers consistent
 * (fast_io_fail < ctrlr_loss < member give-up < guest I/O timeout, reconnect_delay <= ctrlr_loss,
 * as SPDK itself requires of the first three). Returns 0 or -EINVAL with a message.
 */
int daemon_config_check(const struct daemon_config *cfg, char *errbuf, size_t errlen);

/* Print the options to f. */
void daemon_config_usage(void *f);

#endif
