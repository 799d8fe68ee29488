# shellcheck shell=bash
# Shared helpers of the end-to-end tests: spdk-sim processes (a storage node and a host), a SQLite
# database, the CLI and the daemon, all in one scratch directory removed at exit. Every process a
# test starts is stopped by its pid at exit.
set -euo pipefail

: "${DISKENGINE_BIN:?DISKENGINE_BIN must name the diskengine binary}"
: "${SPDK_SIM_BIN:?SPDK_SIM_BIN must name the spdk-sim binary}"

T=$(mktemp -d "${TMPDIR:-/tmp}/de-it.XXXXXX")
export DISKENGINE_DB="$T/db.sqlite"
PIDS=()
TEST_NAME=$(basename "$0" .sh)

log() { echo "[$TEST_NAME $(date +%T.%N | cut -c1-12)] $*" >&2; }
fail() {
	log "FAIL: $*"
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		echo "---- $(basename "$f") (last 40 lines)" >&2
		tail -n 40 "$f" >&2
	done
	exit 1
}

cleanup() {
	local rc=$?
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ -z "${KEEP_TMP:-}" ]; then
		rm -rf "$T"
	else
		log "kept $T"
	fi
}
trap cleanup EXIT

# wait_until TIMEOUT_S DESCRIPTION CMD...: poll CMD every 50 ms until it succeeds.
wait_until() {
	local timeout=$1 what=$2
	shift 2
	local end=$((SECONDS + timeout))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || fail "timed out after ${timeout}s waiting for: $what"
		sleep 0.05
	done
}

# rpc SOCK METHOD [PARAMS_JSON]: one JSON-RPC call; prints the result, exit 1 on an error answer
# (the error object goes to stderr).
rpc() {
	python3 - "$@" <<'PY'
import json, socket, sys
sock, method = sys.argv[1], sys.argv[2]
req = {"jsonrpc": "2.0", "id": 1, "method": method}
if len(sys.argv) > 3 and sys.argv[3]:
    req["params"] = json.loads(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(sock)
s.sendall(json.dumps(req).encode())
dec, buf = json.JSONDecoder(), ""
while True:
    chunk = s.recv(65536)
    if not chunk:
        sys.exit("connection closed")
    buf += chunk.decode()
    try:
        resp, _ = dec.raw_decode(buf.lstrip())
        break
    except ValueError:
        continue
if "error" in resp:
    print(json.dumps(resp["error"]), file=sys.stderr)
    sys.exit(1)
print(json.dumps(resp["result"]))
PY
}

# ctl CTL_SOCK JSON: one command on a sim's control channel.
ctl() { "$SPDK_SIM_BIN" ctl "$1" "$2"; }

# free_port: a TCP port the kernel hands out on 127.0.0.1 (released at once for the sim to bind).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# sock_listens PATH: a Unix socket at PATH takes connections.
sock_listens() {
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])' "$1" 2>/dev/null
}

# sim_start NAME [ARGS...]: start spdk-sim with -r $T/NAME.sock --control $T/NAME.ctl.
sim_start() {
	local name=$1
	shift
	"$SPDK_SIM_BIN" -r "$T/$name.sock" --control "$T/$name.ctl" "$@" >>"$T/$name.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	eval "SIM_PID_${name//-/_}=$pid"
	# the socket file appears at bind(), before listen(): wait until a connection is taken
	wait_until 60 "spdk-sim $name socket" sock_listens "$T/$name.sock"
	wait_until 60 "spdk-sim $name control socket" sock_listens "$T/$name.ctl"
}

# sim_pid NAME: pid of a running sim.
sim_pid() { eval "echo \${SIM_PID_${1//-/_}}"; }

# target_start NAME: a storage-node sim with a malloc-backed lvstore and the TCP transport.
target_start() {
	local name=$1
	sim_start "$name"
	rpc "$T/$name.sock" bdev_malloc_create '{"name":"Malloc0","num_blocks":16777216,"block_size":512}' >/dev/null
	rpc "$T/$name.sock" bdev_lvol_create_lvstore '{"bdev_name":"Malloc0","lvs_name":"lvs0","cluster_sz":1048576}' >/dev/null
	rpc "$T/$name.sock" nvmf_create_transport '{"trtype":"TCP"}' >/dev/null
}

# target_export NAME LVOL NQN PORT SIZE_MIB: an lvol exported over NVMe-oF TCP on 127.0.0.1:PORT.
target_export() {
	local name=$1 lvol=$2 nqn=$3 port=$4 size=$5
	local s="$T/$name.sock"
	rpc "$s" bdev_lvol_create "{\"lvs_name\":\"lvs0\",\"lvol_name\":\"$lvol\",\"size_in_mib\":$size}" >/dev/null
	rpc "$s" nvmf_create_subsystem "{\"nqn\":\"$nqn\",\"allow_any_host\":true,\"serial_number\":\"SPDK00000000000001\"}" >/dev/null
	rpc "$s" nvmf_subsystem_add_ns "{\"nqn\":\"$nqn\",\"namespace\":{\"bdev_name\":\"lvs0/$lvol\"}}" >/dev/null
	rpc "$s" nvmf_subsystem_add_listener "{\"nqn\":\"$nqn\",\"listen_address\":{\"trtype\":\"TCP\",\"adrfam\":\"IPv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"$port\"}}" >/dev/null
}

# host_start: the compute host's SPDK (waits for RPC like production, vhost sockets in $T/vhost).
host_start() {
	mkdir -p "$T/vhost"
	sim_start host --wait-for-rpc -S "$T/vhost"
}

# de ARGS...: the CLI on the test database.
de() { "$DISKENGINE_BIN" "$@"; }

# daemon_start [ARGS...]: the reconciler for host "h1" against the host sim.
daemon_start() {
	"$DISKENGINE_BIN" -mode baremetal --host h1 --spdk-sock "$T/host.sock" \
		--db "$DISKENGINE_DB" --vhost-dir "$T/vhost" --saved-config "$T/spdk-config.json" \
		--interval-ms 200 --rpc-timeout-ms 2000 --orphan-grace 1 "$@" >>"$T/daemon.log" 2>&1 &
	DAEMON_PID=$!
	PIDS+=("$DAEMON_PID")
}

daemon_stop() {
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID" || fail "daemon exited with $? after SIGTERM"
}

# mapping_state ID: the mapping's database state.
mapping_state() { de status --all --json | jq -r ".mappings[] | select(.mapping == $1) | .state"; }
state_is() { [ "$(mapping_state "$1")" = "$2" ]; }

# mapping_set_state ID STATE: the mapping's row edited behind the daemon's back (the database
# disagreeing with SPDK).
mapping_set_state() { sqlite3 "$DISKENGINE_DB" "UPDATE mappings SET state = '$2' WHERE id = $1"; }

# fake_pci_root BDF: a fake sysfs/procfs tree under $T/root in which BDF is an NVMe function
# bound to vfio-pci in IOMMU group 12 (the daemon's --sysfs-root for local drives).
fake_pci_root() {
	local root=$T/root dev=$T/root/sys/bus/pci/devices/$1
	mkdir -p "$dev" "$root/sys/bus/pci/drivers/vfio-pci" "$root/sys/kernel/iommu_groups/12" \
		"$root/proc/net"
	echo 0x010802 >"$dev/class"
	ln -s ../../../../bus/pci/drivers/vfio-pci "$dev/driver"
	ln -s ../../../../kernel/iommu_groups/12 "$dev/iommu_group"
	: >"$root/proc/mounts"
}

# Names on the host sim.
host_rpc() { rpc "$T/host.sock" "$@"; }
vhost_names() { host_rpc vhost_get_controllers | jq -r '.[].ctrlr' | sort; }
raid_names() { host_rpc bdev_raid_get_bdevs '{"category":"all"}' | jq -r '.[].name' | sort; }
ctrlr_names() { host_rpc bdev_nvme_get_controllers | jq -r '.[].name' | sort; }

# two_nodes: storage-node sims t1 and t2 (one NVMe-oF TCP port each, from the kernel), the host
# sim, and the database rows for host h1 and nodes n1, n2.
two_nodes() {
	P1=$(free_port)
	P2=$(free_port)
	target_start t1
	target_start t2
	host_start
	de host add h1 >/dev/null
	de node add n1 --transport tcp --address 127.0.0.1 --port "$P1" >/dev/null
	de node add n2 --transport tcp --address 127.0.0.1 --port "$P2" >/dev/null
}

# make_volume NAME [CREATE_ARGS...]: an lvol exported by each node and a volume over the two;
# prints the volume id.
make_volume() {
	local name=$1
	shift
	target_export t1 "$name" "nqn.2016-06.io.diskengine:$name-a" "$P1" 8
	target_export t2 "$name" "nqn.2016-06.io.diskengine:$name-b" "$P2" 8
	de volume create "$name" --size 4M --replica "n1:nqn.2016-06.io.diskengine:$name-a" \
		--replica "n2:nqn.2016-06.io.diskengine:$name-b" "$@" --json | jq -r '.id // .volume_id'
}

# attach_volume NAME VM: map it to a VM on h1; prints the mapping id.
attach_volume() { de volume attach "$1" --host h1 --vm "$2"; }

# graph: the host sim's diskengine-relevant objects, one per line ("vhost NAME BDEV", ...).
graph() {
	host_rpc vhost_get_controllers | jq -r '.[] | "vhost \(.ctrlr) \(.backend_specific.block.bdev)"'
	host_rpc bdev_raid_get_bdevs '{"category":"all"}' |
		jq -r '.[] | "raid \(.name) \(.state) \([.base_bdevs_list[].name] | join(","))"'
	host_rpc bdev_nvme_get_controllers | jq -r '.[] | "ctrlr \(.name) \([.ctrlrs[].trid.subnqn] | unique | join(","))"'
}

# rpc_batch SOCK: one call per stdin line "METHOD JSON_PARAMS" on one connection; fails on the
# first error answer.
rpc_batch() {
	# the script comes through -c: stdin carries the calls
	python3 -c "$RPC_BATCH_PY" "$1"
}
RPC_BATCH_PY='
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(sys.argv[1])
dec, buf, n = json.JSONDecoder(), "", 0
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    method, _, params = line.partition(" ")
    n += 1
    req = {"jsonrpc": "2.0", "id": n, "method": method}
    if params:
        req["params"] = json.loads(params)
    s.sendall(json.dumps(req).encode())
    while True:
        try:
            resp, end = dec.raw_decode(buf.lstrip())
            buf = buf.lstrip()[end:]
            break
        except ValueError:
            chunk = s.recv(65536)
            if not chunk:
                sys.exit("connection closed")
            buf += chunk.decode()
    if "error" in resp:
        sys.exit(method + " " + params + ": " + json.dumps(resp["error"]))
if n == 0:
    sys.exit("rpc_batch: no calls on stdin")
'

# make_volumes PREFIX FIRST LAST: volumes PREFIX<i> for i in FIRST..LAST, exported and created
# with few process starts (one batch per node, one CLI call per volume).
make_volumes() {
	local prefix=$1 first=$2 last=$3 i
	for node in t1:a:"$P1" t2:b:"$P2"; do
		IFS=: read -r t side port <<<"$node"
		for ((i = first; i <= last; i++)); do
			local nqn="nqn.2016-06.io.diskengine:$prefix$i-$side"
			echo "bdev_lvol_create {\"lvs_name\":\"lvs0\",\"lvol_name\":\"$prefix$i\",\"size_in_mib\":8}"
			echo "nvmf_create_subsystem {\"nqn\":\"$nqn\",\"allow_any_host\":true,\"serial_number\":\"SPDK00000000000001\"}"
			echo "nvmf_subsystem_add_ns {\"nqn\":\"$nqn\",\"namespace\":{\"bdev_name\":\"lvs0/$prefix$i\"}}"
			echo "nvmf_subsystem_add_listener {\"nqn\":\"$nqn\",\"listen_address\":{\"trtype\":\"TCP\",\"adrfam\":\"IPv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"$port\"}}"
		done | rpc_batch "$T/$t.sock"
	done
	for ((i = first; i <= last; i++)); do
		de volume create "$prefix$i" --size 4M \
			--replica "n1:nqn.2016-06.io.diskengine:$prefix$i-a" \
			--replica "n2:nqn.2016-06.io.diskengine:$prefix$i-b" >/dev/null
	done
}

# graph_has PATTERN: the graph has a line matching PATTERN (grep -E). Reads the whole graph first:
# grep -q on a pipe would end it early and pipefail would call that a failure.
graph_has() {
	local g
	g=$(graph)
	grep -q -E "$1" <<<"$g"
}
