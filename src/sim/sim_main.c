/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk-sim's command line: spdk_tgt's options where they apply, --control, and the
 * `ctl` client mode that sends one control command and prints the answer.
 */
#include "sim/sim.h"

#include "common/util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: spdk-sim [options]\n"
		"       spdk-sim ctl CONTROL_SOCKET 'JSON'\n"
		"\n"
		"A simulator of an SPDK v25.09 spdk_tgt process: JSON-RPC 2.0 on a Unix socket.\n"
		"\n"
		"Options (as spdk_tgt):\n"
		"  -r, --rpc-socket PATH       RPC listen socket (default /var/tmp/spdk.sock);\n"
		"                              a stale socket file is replaced, PATH.lock is held\n"
		"  -m, --cpumask MASK          core mask: hex (0x2) or list ([0,2-3])\n"
		"      --wait-for-rpc          start in the startup state; wait for\n"
		"                              framework_start_init\n"
		"  -S, --vhost-socket-path DIR directory of the vhost-user sockets\n"
		"  -u, --no-pci                accepted (spdk-sim never touches PCI)\n"
		"  -s, --mem-size SIZE         MB or with unit (1G); accepted, no hugepages used\n"
		"      --disable-cpumask-locks accepted, ignored\n"
		"\n"
		"spdk-sim only:\n"
		"      --control PATH          control channel socket: fault injection and\n"
		"                              counters (see docs/spdk-sim.md)\n"
		"  -h, --help                  this text\n"
		"\n"
		"ctl mode: send one control command (a JSON object with \"cmd\") to a running\n"
		"spdk-sim's control socket, print the answer; exit 0 when it says ok.\n"
		"\n"
		"SIGTERM/SIGINT: clean exit (sockets removed). The control command \"crash\"\n"
		"exits like kill -9 instead.\n");
}

static int ctl_main(int argc, char **argv)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char buf[65536];
	size_t len = 0;
	json_t *ans;
	json_error_t jerr;
	int fd, ok;

	if (argc != 4) {
		fprintf(stderr, "spdk-sim ctl: expected CONTROL_SOCKET and one JSON argument\n");
		return 2;
	}
	if (util_strlcpy(addr.sun_path, argv[2], sizeof(addr.sun_path)) < 0) {
		fprintf(stderr, "spdk-sim ctl: socket path too long: %s\n", argv[2]);
		return 2;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fprintf(stderr, "spdk-sim ctl: cannot connect to %s: %s\n", argv[2], strerror(errno));
		if (fd >= 0)
			close(fd);
		return 2;
	}
	if (write(fd, argv[3], strlen(argv[3])) < 0 || write(fd, "\n", 1) < 0) {
		fprintf(stderr, "spdk-sim ctl: write: %s\n", strerror(errno));
		close(fd);
		return 2;
	}
	while (len < sizeof(buf) - 1) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	close(fd);
	buf[len] = '\0';
	if (len == 0) {
		fprintf(stderr, "spdk-sim ctl: connection closed without an answer\n");
		return 1;
	}
	fputs(buf, stdout);
	if (buf[len - 1] != '\n')
		putchar('\n');
	ans = json_loads(buf, JSON_DISABLE_EOF_CHECK, &jerr);
	ok = ans && json_is_true(json_object_get(ans, "ok"));
	json_decref(ans);
	return ok ? 0 : 1;
}

/* SPDK's core mask syntax: hex ("0x3", "3") or a core list ("[0,2-3]"). */
static int parse_mask(const char *arg, uint64_t *out)
{
	const char *p = arg;
	uint64_t mask = 0;
	char *end;

	if (*p == '[') {
		for (p++; *p && *p != ']';) {
			unsigned long lo, hi;

			errno = 0;
			lo = strtoul(p, &end, 10);
			if (end == p || errno || lo > 63)
				return -EINVAL;
			hi = lo;
			p = end;
			if (*p == '-') {
				hi = strtoul(p + 1, &end, 10);
				if (end == p + 1 || hi > 63 || hi < lo)
					return -EINVAL;
				p = end;
			}
			for (unsigned long c = lo; c <= hi; c++)
				mask |= 1ULL << c;
			if (*p == ',')
				p++;
			else if (*p != ']')
				return -EINVAL;
		}
		if (*p != ']' || p[1] || !mask)
			return -EINVAL;
		*out = mask;
		return 0;
	}
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	if (!*p)
		return -EINVAL;
	errno = 0;
	mask = strtoull(p, &end, 16);
	if (errno || *end || mask == 0)
		return -EINVAL;
	*out = mask;
	return 0;
}

/* -s: megabytes, or a size with a unit (SPDK accepts both). */
static int parse_mem(const char *arg, uint64_t *mb)
{
	uint64_t bytes;

	if (util_parse_u64(arg, UINT32_MAX, mb) == 0)
		return 0;
	if (util_parse_size(arg, &bytes) < 0)
		return -EINVAL;
	*mb = bytes >> 20;
	return 0;
}

enum { OPT_WAIT_FOR_RPC = 256, OPT_DISABLE_LOCKS, OPT_CONTROL };

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"rpc-socket", required_argument, NULL, 'r'},
		{"cpumask", required_argument, NULL, 'm'},
		{"wait-for-rpc", no_argument, NULL, OPT_WAIT_FOR_RPC},
		{"vhost-socket-path", required_argument, NULL, 'S'},
		{"no-pci", no_argument, NULL, 'u'},
		{"mem-size", required_argument, NULL, 's'},
		{"disable-cpumask-locks", no_argument, NULL, OPT_DISABLE_LOCKS},
		{"control", required_argument, NULL, OPT_CONTROL},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct sim_options opts = {.rpc_socket = "/var/tmp/spdk.sock", .core_mask = 0x1};
	int c;

	if (argc >= 2 && strcmp(argv[1], "ctl") == 0)
		return ctl_main(argc, argv);
	while ((c = getopt_long(argc, argv, "r:m:S:us:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			opts.rpc_socket = optarg;
			break;
		case 'm':
			if (parse_mask(optarg, &opts.core_mask) < 0) {
				fprintf(stderr, "spdk-sim: invalid core mask '%s' (expected hex "
						"such as 0x3, or a core list such as [0,2-3])\n", optarg);
				return 1;
			}
			break;
		case OPT_WAIT_FOR_RPC:
			opts.wait_for_rpc = true;
			break;
		case 'S':
			opts.vhost_dir = optarg;
			break;
		case 'u':
			opts.no_pci = true;
			break;
		case 's':
			if (parse_mem(optarg, &opts.mem_size_mb) < 0) {
				fprintf(stderr, "spdk-sim: invalid memory size '%s' (expected MB, "
						"or a size such as 1G)\n", optarg);
				return 1;
			}
			break;
		case OPT_DISABLE_LOCKS:
			break;
		case OPT_CONTROL:
			opts.control_socket = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "spdk-sim: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	return sim_run(&opts);
}
