#!/usr/bin/env bash
# /metrics and the iostat scraper at scale, on spdk-sim: N volumes (default 1,000) attached on one
# host, the daemon with --metrics-listen and the scraper every BENCH_IOSTAT_MS (2,000 ms); a guest
# writes to every volume (spdk-sim's io control) so each round has rates to compute. Measures the
# time curl needs for one GET of /metrics (BENCH_GETS gets, 100 by default), plain and as
# Prometheus asks (Accept-Encoding: gzip, curl --compressed), the size of both answers, what the
# daemon spends rendering and compressing a text, and what an iostat round costs (duration, SPDK
# calls) as the daemon reports it.
# BENCH_HOGS=N runs the GETs beside N CPU-bound processes (a heavily loaded host).
# Writes Markdown (default bench/metrics-report.md):
#   bench/metrics-bench.sh BUILD_DIR [REPORT]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: metrics-bench.sh BUILD_DIR [REPORT]}" && pwd)
report=${2:-$root/bench/metrics-report.md}
n=${BENCH_N:-1000}
gets=${BENCH_GETS:-100}
iostat_ms=${BENCH_IOSTAT_MS:-2000}
# BENCH_HOGS: CPU-bound processes started for the GETs only (a loaded host), 0 by default
hogs=${BENCH_HOGS:-0}
export DISKENGINE_BIN=$build/diskengine SPDK_SIM_BIN=$build/spdk-sim SOURCE_ROOT=$root
TEST_NAME=metrics-bench
source "$root/tests/integration/lib.sh"

two_nodes
make_volumes v 1 "$n"
for ((i = 1; i <= n; i++)); do attach_volume "v$i" "vm$i" >/dev/null; done
PORT=$(free_port)
URL="http://127.0.0.1:$PORT/metrics"
"$DISKENGINE_BIN" -mode baremetal --host h1 --spdk-sock "$T/host.sock" --db "$DISKENGINE_DB" \
	--vhost-dir "$T/vhost" --saved-config "$T/spdk-config.json" \
	--metrics-listen "127.0.0.1:$PORT" --iostat-interval-ms "$iostat_ms" >>"$T/daemon.log" 2>&1 &
DAEMON_PID=$!
PIDS+=("$DAEMON_PID")
all_attached() {
	[ "$(de status --json | jq '[.mappings[] | select(.state == "ATTACHED")] | length')" = "$n" ]
}
wait_until 900 "$n mappings ATTACHED" all_attached
log "$n mappings attached"

# a guest's I/O on every raid, once per round
io_all() {
	for ((i = 1; i <= n; i++)); do
		echo "{\"cmd\":\"io\",\"name\":\"raid_$i\",\"reads\":100,\"writes\":50,\"io_size\":4096,\"latency_us\":120}"
	done | python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
f = s.makefile("rw")
for line in sys.stdin:
    f.write(line); f.flush(); f.readline()' "$T/host.ctl"
}
value() { curl -sf "$URL" | awk -v k="$1" '$1 == k {print $2}'; }
rates_of() { curl -sf "$URL" | grep -c "^diskengine_volume_write_bytes_per_second{volume=\"[0-9]*\"} [1-9]"; }
all_rates() { io_all; [ "$(rates_of)" = "$n" ]; }
wait_until 300 "rates for all $n volumes" all_rates

# /metrics: one GET at a time, as Prometheus does; plain, then gzip (which from the first gzip
# request on the daemon compresses once per published text)
curl -sf -o "$T/scrape" "$URL"
bytes=$(wc -c <"$T/scrape")
# the first gzip request compresses the text it finds; each publish after it compresses its own
first_gz=$(curl -sf -H 'Accept-Encoding: gzip' -o "$T/scrape.gz" -w '%{time_total}' "$URL" |
	awk '{printf "%.1f", $1 * 1000}')
gz_bytes=$(wc -c <"$T/scrape.gz")
samples=$(grep -vc '^#' "$T/scrape")
families=$(grep -c '^# TYPE' "$T/scrape")
promtool_ok="not run (promtool not installed)"
if command -v promtool >/dev/null; then
	promtool check metrics <"$T/scrape" >/dev/null 2>&1 && promtool_ok="clean" || promtool_ok="FAILED"
fi
python3 "$root/tests/integration/prom_check.py" <"$T/scrape" >/dev/null
gzip -dc <"$T/scrape.gz" | python3 "$root/tests/integration/prom_check.py" >/dev/null
# percentiles FILE: p50 p99 max of seconds, in ms
percentiles() {
	sort -n "$1" | awk '{v[NR] = $1} END {
		printf "%.1f %.1f %.1f\n", v[int(NR * 0.5 + 0.5)] * 1000, v[int(NR * 0.99 + 0.5)] * 1000, v[NR] * 1000}'
}
hog_pids=()
if [ "$hogs" -gt 0 ]; then
	for ((i = 0; i < hogs; i++)); do
		sh -c 'while :; do :; done' &
		hog_pids+=($!)
		PIDS+=($!)
	done
	# let the 1-minute load average show them (it follows with a minute's time constant)
	sleep 90
fi
load_gets=$(cut -d' ' -f1 /proc/loadavg)
for ((i = 0; i < gets; i++)); do
	curl -sf -o /dev/null -w '%{time_total}\n' "$URL"
done >"$T/gets"
for ((i = 0; i < gets; i++)); do
	curl -sf --compressed -o /dev/null -w '%{time_total}\n' "$URL"
done >"$T/gets.gz"
# the same, left encoded: the server and the transfer without curl's decompression
for ((i = 0; i < gets; i++)); do
	curl -sf -H 'Accept-Encoding: gzip' -o /dev/null -w '%{time_total}\n' "$URL"
done >"$T/gets.gz.raw"
read -r p50 p99 max < <(percentiles "$T/gets")
read -r gz_p50 gz_p99 gz_max < <(percentiles "$T/gets.gz")
read -r raw_p50 raw_p99 raw_max < <(percentiles "$T/gets.gz.raw")
load_gets_end=$(cut -d' ' -f1 /proc/loadavg)
for pid in "${hog_pids[@]}"; do
	kill "$pid"
done

# the scraper's rounds as the daemon reports them
rounds0=$(value diskengine_iostat_rounds_total)
hz=$(getconf CLK_TCK)
ticks0=$(awk '{print $14 + $15}' "/proc/$DAEMON_PID/stat")
durs=()
for ((i = 0; i < 5; i++)); do
	io_all
	r=$(value diskengine_iostat_rounds_total)
	wait_until 60 "next iostat round" sh -c "[ \"\$(curl -sf '$URL' | awk '\$1 == \"diskengine_iostat_rounds_total\" {print \$2}')\" -gt $r ]"
	durs+=("$(value diskengine_iostat_scrape_duration_seconds)")
	# a publish's own cost, as the daemon measured the one before this text
	curl -sf "$URL" | awk '/^diskengine_metrics_publish_duration_seconds\{step="render"\}/ {print $2}' >>"$T/render"
	curl -sf "$URL" | awk '/^diskengine_metrics_publish_duration_seconds\{step="gzip"\}/ {print $2}' >>"$T/gzip"
done
ticks1=$(awk '{print $14 + $15}' "/proc/$DAEMON_PID/stat")
rounds1=$(value diskengine_iostat_rounds_total)
cpu_ms=$(((ticks1 - ticks0) * 1000 / hz / (rounds1 - rounds0)))
calls=$(value diskengine_iostat_calls)
skipped=$(value diskengine_iostat_skipped_volumes)
read -r dmin dmed dmax < <(printf '%s\n' "${durs[@]}" | sort -g | awk '{v[NR] = $1} END {
	printf "%.1f %.1f %.1f\n", v[1] * 1000, v[int((NR + 1) / 2)] * 1000, v[NR] * 1000}')
read -r rmin rmed rmax < <(sort -g "$T/render" | awk '{v[NR] = $1} END {
	printf "%.1f %.1f %.1f\n", v[1] * 1000, v[int((NR + 1) / 2)] * 1000, v[NR] * 1000}')
read -r zmin zmed zmax < <(sort -g "$T/gzip" | awk '{v[NR] = $1} END {
	printf "%.1f %.1f %.1f\n", v[1] * 1000, v[int((NR + 1) / 2)] * 1000, v[NR] * 1000}')
rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$DAEMON_PID/status")
daemon_stop
cpus=$(nproc)
load=$(cut -d' ' -f1 /proc/loadavg)
cat >"$report" <<MD
# /metrics and the iostat scraper at scale (spdk-sim results)

Measured with \`bench/metrics-bench.sh\` on spdk-sim (not real SPDK): $n volumes, each a raid1 over
two NVMe-oF TCP replicas from two storage-node sims, all attached on one host; the daemon with
\`--metrics-listen\` and \`--iostat-interval-ms $iostat_ms\`; a guest's reads and writes counted on
every raid before each round (spdk-sim's \`io\` control), so every volume has rates. $cpus CPUs,
shared with other work (load average $load at the end). $(date -u +%Y-%m-%d).

## GET /metrics ($gets requests each, one at a time, curl's total time)

| load | encoding | volumes | answer | samples | families | p50 | p99 | max | checks |
|---|---|---|---|---|---|---|---|---|---|
| $load_gets | plain | $n | $((bytes / 1024)) KiB | $samples | $families | $p50 ms | $p99 ms | $max ms | promtool: $promtool_ok; strict parser: clean |
| | gzip (\`curl --compressed\`) | $n | $((gz_bytes / 1024)) KiB | $samples | $families | $gz_p50 ms | $gz_p99 ms | $gz_max ms | strict parser on the decoded text: clean |
| $load_gets_end | gzip, left encoded | $n | $((gz_bytes / 1024)) KiB | $samples | $families | $raw_p50 ms | $raw_p99 ms | $raw_max ms | |

"load": the 1-minute load average when the plain GETs started and when the last GETs ended.
\`curl --compressed\` asks for gzip and decodes the answer, as Prometheus does; its time includes
that decoding, which is the scraper's work. "left encoded" asks for gzip and does not decode: what
the server and the transfer take. The very first gzip request, which compressed the text it found
itself, took $first_gz ms.

The server copies the text the daemon published after its last pass or iostat round (under a
mutex held for the copy only), or its gzip encoding, which the daemon makes once per published
text as soon as one client took gzip; it never waits for a pass and a pass never waits for it.
Target: under 100 ms at 1,000 volumes.

## What a publish costs the daemon (CPU time of the 5 texts below, as the daemon measures it)

| load | volumes | render min | median | max | gzip min | median | max |
|---|---|---|---|---|---|---|---|
| $load | $n | $rmin ms | $rmed ms | $rmax ms | $zmin ms | $zmed ms | $zmax ms |

## One iostat round (5 rounds, as the daemon reports them)

| load | volumes | SPDK calls per round | skipped (resetting) | duration min | median | max | daemon CPU per round |
|---|---|---|---|---|---|---|---|
| $load | $n | $calls | $skipped | $dmin ms | $dmed ms | $dmax ms | $cpu_ms ms |

A round is one \`bdev_nvme_get_controllers\` (to skip volumes whose controllers reset) and one
\`bdev_get_iostat {"name": "raid_<id>"}\` per raid, 32 in flight at a time on the
daemon's connection; it runs between passes on its own timer, so a wake-up that comes during a
round waits for its end. "daemon CPU per round" is the daemon's CPU time over the rounds measured
divided by their number; it includes the idle passes and the renders of /metrics in that window,
so it is an upper bound. Daemon RSS at the end: $((rss / 1024)) MiB.
MD
log "report written to $report"
cat "$report"
