#!/usr/bin/env bash
# `diskengine drift` at 1, 100 and 1,000 volumes on spdk-sim: its wall time, peak RSS and the
# SPDK calls it makes, on a host in agreement and on the same host after SPDK lost every vhost
# controller (one difference per volume, each judged by the planner). Writes Markdown (default
# bench/drift-report.md):
#   bench/drift-bench.sh BUILD_DIR [REPORT]
# BENCH_SCALE_SIZES overrides the sizes ("1 100 1000"). Each size runs in its own scratch
# directory (tests/integration/lib.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

# drift_once: "wall_ms|maxrss_kib|calls|differences" of one drift run.
drift_once() {
	local t0 t1 out
	ctl "$T/host.ctl" '{"cmd":"stats_reset"}' >/dev/null
	t0=$(date +%s%N)
	/usr/bin/time -f %M -o "$T/rss" "$DISKENGINE_BIN" drift -s "$T/host.sock" --host h1 \
		--saved-config "$T/spdk-config.json" --json >"$T/drift.json" || true
	t1=$(date +%s%N)
	out=$(ctl "$T/host.ctl" '{"cmd":"stats"}' | jq '[.result[]] | add // 0')
	echo "$(((t1 - t0) / 1000000))|$(tail -n 1 "$T/rss")|$out|$(jq '.differences | length' "$T/drift.json")"
}

# One size: "N|load|agree_ms|agree_rss|agree_calls|agree_n|lost_ms|lost_rss|lost_calls|lost_n".
one_size() {
	local n=$1
	source "$root/tests/integration/lib.sh"
	two_nodes
	make_volumes v 1 "$n"
	for ((i = 1; i <= n; i++)); do attach_volume "v$i" "vm$i" >/dev/null; done
	daemon_start
	all_attached() {
		[ "$(de status --json | jq '[.mappings[] | select(.state == "ATTACHED")] | length')" = "$n" ]
	}
	wait_until 900 "$n mappings ATTACHED" all_attached
	daemon_stop
	local agree lost
	agree=$(drift_once)
	[ "$(cut -d'|' -f4 <<<"$agree")" = 0 ] || fail "drift on a converged host: $(cat "$T/drift.json")"
	vhost_names | sed 's/.*/vhost_delete_controller {"ctrlr":"&"}/' | rpc_batch "$T/host.sock"
	lost=$(drift_once)
	[ "$(cut -d'|' -f4 <<<"$lost")" = "$n" ] || fail "drift after losing $n vhosts: $(cut -d'|' -f4 <<<"$lost")"
	echo "$n|$(cut -d' ' -f1 /proc/loadavg)|$agree|$lost"
}

if [ "${1:-}" = "--one" ]; then
	one_size "$2"
	exit 0
fi

build=${1:?usage: $0 BUILD_DIR [REPORT]}
report=${2:-$root/bench/drift-report.md}
build=$(cd "$build" && pwd)
export DISKENGINE_BIN="$build/diskengine" SPDK_SIM_BIN="$build/spdk-sim"
rows=()
for n in ${BENCH_SCALE_SIZES:-1 100 1000}; do
	echo "== $n volumes" >&2
	rows+=("$("$0" --one "$n" | tail -n 1)")
done
{
	echo "# \`diskengine drift\` at 1, 100 and 1,000 volumes (spdk-sim results)"
	echo
	echo "Measured by \`bench/drift-bench.sh\` on spdk-sim, not on real SPDK: two storage-node sims"
	echo "exporting every replica over NVMe-oF TCP, the host sim, SQLite; every volume mapped and"
	echo "ATTACHED by the daemon, which is then stopped (its config saved). drift runs once on the"
	echo "host in agreement, then once after every vhost controller was deleted (one \`missing\`"
	echo "difference per volume). Wall time of the whole process, peak RSS (\`/usr/bin/time %M\`),"
	echo "and the SPDK calls it made (the host sim's \`stats\`)."
	echo
	echo "| volumes | load avg | in agreement: time | peak RSS | SPDK calls | differences | every vhost lost: time | peak RSS | SPDK calls | differences |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	for row in "${rows[@]}"; do
		IFS='|' read -r n load am ar ac an lm lr lc ln <<<"$row"
		echo "| $n | $load | $am ms | $((ar / 1024)) MiB | $ac | $an | $lm ms | $((lr / 1024)) MiB | $lc | $ln |"
	done
	echo
	echo "Machine: $(nproc) CPU(s), $(uname -sr), run on $(date -u +%Y-%m-%d)."
} >"$report"
cat "$report"
