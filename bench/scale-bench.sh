#!/usr/bin/env bash
# The daemon at scale, on spdk-sim: for 1, 100 and 1,000 volumes on one host, the time to
# provision every mapping, the cost of an idle pass, RSS and idle CPU, and the SPDK calls an idle
# pass makes. Writes Markdown (default bench/scale-report.md):
#   bench/scale-bench.sh BUILD_DIR [REPORT]
# BENCH_SCALE_SIZES overrides the sizes ("1 100 1000"), BENCH_IDLE_S the idle window (20 s),
# BENCH_SETTLE_S the wait before it (40 s: the pass period of a quiet host stretches to 4x),
# BENCH_LABEL the report's column label. Each size runs in its own scratch directory (lib.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

# One size: print "N|provision_ms|once_ms|pass_cpu_ms|passes|rss_kib|hwm_kib|cpu_pct|calls".
one_size() {
	local n=$1 idle_s=$2
	# lib.sh: sims, database, CLI and daemon helpers; removes its scratch directory at exit
	source "$root/tests/integration/lib.sh"
	two_nodes
	make_volumes v 1 "$n"
	for ((i = 1; i <= n; i++)); do attach_volume "v$i" "vm$i" >/dev/null; done

	local t0 t1
	t0=$(date +%s%N)
	# the production pass period; orphans get the default grace
	"$DISKENGINE_BIN" -mode baremetal --host h1 --spdk-sock "$T/host.sock" \
		--db "$DISKENGINE_DB" --vhost-dir "$T/vhost" --saved-config "$T/spdk-config.json" \
		>>"$T/daemon.log" 2>&1 &
	DAEMON_PID=$!
	PIDS+=("$DAEMON_PID")
	all_attached() {
		[ "$(de status --json | jq '[.mappings[] | select(.state == "ATTACHED")] | length')" = "$n" ]
	}
	vhosts_up() { [ "$(vhost_names | wc -l)" = "$n" ]; }
	wait_until 900 "$n vhost controllers" vhosts_up
	wait_until 900 "$n mappings ATTACHED" all_attached
	t1=$(date +%s%N)
	local prov_ticks load
	prov_ticks=$(awk '{print $14 + $15}' "/proc/$DAEMON_PID/stat")
	load=$(cut -d' ' -f1 /proc/loadavg)

	# Idle: let the last status writes and config save settle, and the pass period stretch to
	# its steady state on a quiet host (5 + 10 + 20 s), then count over the window.
	sleep "${BENCH_SETTLE_S:-40}"
	local hz ticks0 ticks1 calls passes
	hz=$(getconf CLK_TCK)
	ctl "$T/host.ctl" '{"cmd":"stats_reset"}' >/dev/null
	ticks0=$(awk '{print $14 + $15}' "/proc/$DAEMON_PID/stat")
	sleep "$idle_s"
	ticks1=$(awk '{print $14 + $15}' "/proc/$DAEMON_PID/stat")
	calls=$(ctl "$T/host.ctl" '{"cmd":"stats"}' | jq -c .result)
	local rss hwm
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$DAEMON_PID/status")
	hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$DAEMON_PID/status")
	# every pass lists the controllers exactly once
	passes=$(jq -r '.bdev_nvme_get_controllers // 0' <<<"$calls")
	local total bytes=0 b
	total=$(jq '[.[]] | add // 0' <<<"$calls")
	daemon_stop
	# what SPDK sends back for the list calls of one idle pass
	for m in bdev_nvme_get_controllers vhost_get_controllers keyring_get_keys bdev_get_bdevs; do
		b=$(host_rpc "$m" | wc -c)
		bytes=$((bytes + b))
	done
	b=$(host_rpc bdev_raid_get_bdevs '{"category":"all"}' | wc -c)
	bytes=$((bytes + b))

	# One cold pass in a fresh process on the converged host (reads everything once).
	local o0 o1
	o0=$(date +%s%N)
	"$DISKENGINE_BIN" -mode baremetal --once --host h1 --spdk-sock "$T/host.sock" \
		--db "$DISKENGINE_DB" --vhost-dir "$T/vhost" --saved-config "$T/spdk-config.json" \
		>>"$T/once.log" 2>&1 || fail "--once pass on a converged host did not exit 0"
	o1=$(date +%s%N)

	local cpu_ms=$(((ticks1 - ticks0) * 1000 / hz))
	echo "$n|$(((t1 - t0) / 1000000))|$((prov_ticks * 1000 / hz))|$load|$(((o1 - o0) / 1000000))|$cpu_ms|$passes|$rss|$hwm|$idle_s|$total|$bytes|$calls"
}

if [ "${1:-}" = "--one" ]; then
	one_size "$2" "$3"
	exit 0
fi

build=${1:?usage: $0 BUILD_DIR [REPORT]}
report=${2:-$root/bench/scale-report.md}
build=$(cd "$build" && pwd)
export DISKENGINE_BIN="$build/diskengine" SPDK_SIM_BIN="$build/spdk-sim"
sizes=${BENCH_SCALE_SIZES:-1 100 1000}
idle_s=${BENCH_IDLE_S:-20}
label=${BENCH_LABEL:-this build}

rows=()
for n in $sizes; do
	echo "== $n volumes" >&2
	rows+=("$("$0" --one "$n" "$idle_s" | tail -n 1)")
done

{
	echo "## spdk-sim results: $label"
	echo
	echo "| volumes | provision (daemon start to all ATTACHED) | daemon CPU to provision | load avg | cold pass (\`--once\`, whole process) | idle CPU per pass | idle passes | idle CPU (% of a core) | RSS idle | RSS peak | SPDK calls per idle pass | list answers per pass |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	for row in "${rows[@]}"; do
		IFS='|' read -r n prov pcpu load once cpu passes rss hwm win total bytes calls <<<"$row"
		python3 - "$n" "$prov" "$pcpu" "$load" "$once" "$cpu" "$passes" "$rss" "$hwm" "$win" "$total" "$bytes" <<'PY'
import sys
load = sys.argv[4]
n, prov, pcpu, once, cpu, passes, rss, hwm, win, total, nbytes = map(
    int, sys.argv[1:4] + sys.argv[5:])
per_pass = f"{cpu / passes:.0f} ms" if passes else "-"
calls = f"{total / passes:.1f}" if passes else "-"
print(f"| {n} | {prov / 1000:.2f} s | {pcpu / 1000:.2f} s | {load} | {once} ms | {per_pass} | {passes} | "
      f"{cpu / (win * 1000) * 100:.2f} % | {rss / 1024:.1f} MiB | {hwm / 1024:.1f} MiB | {calls} | "
      f"{nbytes / 1e6:.2f} MB |")
PY
	done
	echo
	echo "Idle window ${idle_s} s at the default pass period (--interval-ms 5000), ${BENCH_SETTLE_S:-40} s after the"
	echo "last mapping was ATTACHED (the period of a quiet host has stretched to 4 x 5 s by then); CPU from"
	echo "/proc/PID/stat (utime + stime), RSS from /proc/PID/status. Calls per pass: the host"
	echo "sim's control \`stats\` over the window, divided by the bdev_nvme_get_controllers count"
	echo "(one per pass). Wall-clock columns (provision, cold pass) depend on the machine's load (the"
	echo "1-minute load average when provisioning ended is given); CPU and RSS columns much less."
	echo "Machine: $(nproc) CPU(s), $(uname -sr), run on $(date -u +%Y-%m-%d)."
	echo "Calls in the last window: \`$(tail -n 1 <<<"${rows[-1]}" | cut -d'|' -f13)\`"
} >"$report"
cat "$report"
