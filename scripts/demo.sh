#!/usr/bin/env bash
# The README demo (`make demo`): two storage-node sims exporting a replica each over NVMe-oF TCP
# on loopback, a host sim, a SQLite database filled with the CLI, the daemon; the mapping goes
# to ATTACHED, `diskengine status` shows it, detach takes it to DETACHED, everything stops.
# Finishes by itself in well under a minute. Everything runs in a scratch directory.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
export DISKENGINE_BIN=${DISKENGINE_BIN:-$root/$build/diskengine}
export SPDK_SIM_BIN=${SPDK_SIM_BIN:-$root/$build/spdk-sim}
[ -x "$DISKENGINE_BIN" ] || { echo "demo: build first ($DISKENGINE_BIN missing)" >&2; exit 1; }
# shellcheck source=../tests/integration/lib.sh
source "$root/tests/integration/lib.sh"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "storage nodes t1, t2 (spdk-sim, NVMe-oF TCP on 127.0.0.1) and the host's SPDK (--wait-for-rpc)"
P1=$(free_port)
P2=$(free_port)
target_start t1
target_start t2
host_start
target_export t1 demo nqn.2016-06.io.diskengine:demo-a "$P1" 8
target_export t2 demo nqn.2016-06.io.diskengine:demo-b "$P2" 8
echo "t1: lvol demo exported as nqn.2016-06.io.diskengine:demo-a on 127.0.0.1:$P1"
echo "t2: lvol demo exported as nqn.2016-06.io.diskengine:demo-b on 127.0.0.1:$P2"

say "desired state in SQLite ($DISKENGINE_DB)"
run "$DISKENGINE_BIN" host add h1
run "$DISKENGINE_BIN" node add n1 --transport tcp --address 127.0.0.1 --port "$P1"
run "$DISKENGINE_BIN" node add n2 --transport tcp --address 127.0.0.1 --port "$P2"
run "$DISKENGINE_BIN" volume create demo --size 4M \
	--replica n1:nqn.2016-06.io.diskengine:demo-a --replica n2:nqn.2016-06.io.diskengine:demo-b
printf '$ %s\n' "$DISKENGINE_BIN volume attach demo --host h1 --vm vm1"
mid=$(attach_volume demo vm1)
echo "mapping $mid"

say "the daemon: diskengine -mode baremetal (log in $T/daemon.log)"
daemon_start
wait_until 20 "mapping $mid ATTACHED" state_is "$mid" ATTACHED
sed -e 's/^/  | /' "$T/daemon.log"

say "diskengine status"
run "$DISKENGINE_BIN" status
say "SPDK's graph on the host"
graph | sed -e 's/^/  /'

say "detach"
run "$DISKENGINE_BIN" volume detach demo
wait_until 20 "mapping $mid DETACHED" state_is "$mid" DETACHED
tail -n 6 "$T/daemon.log" | sed -e 's/^/  | /'
run "$DISKENGINE_BIN" status --all
echo "SPDK objects left on the host: $(graph | wc -l)"

say "stop"
daemon_stop
echo "demo finished"
