#!/usr/bin/env bash
# Creates and lists 1,000 volumes through the CLI, on SQLite and on PostgreSQL, and writes
# the timings as Markdown (default bench/store-report.md):
#   bench/store-bench.sh BUILD_DIR [REPORT]
# Each create is one `diskengine volume create` process, as an operator or script would run it.
# PostgreSQL is a private server from scripts/pg-test.sh (Unix socket, fsync off); the SQLite file
# lives in /tmp with the store's defaults (WAL, synchronous FULL).
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [REPORT]}
root=$(cd "$(dirname "$0")/.." && pwd)
report=${2:-$root/bench/store-report.md}
bin=$(cd "$build" && pwd)/diskengine
N=${BENCH_VOLUMES:-1000}

# run_backend NAME: expects DISKENGINE_DB; prints one Markdown table row.
run_backend() {
	local name=$1 t0 t1 t2 t3 t4 rows
	"$bin" host add bench-host >/dev/null
	"$bin" node add sn1 --transport tcp --address 10.0.0.1 --port 4420 >/dev/null
	"$bin" node add sn2 --transport tcp --address 10.0.0.2 --port 4420 >/dev/null
	t0=$(date +%s.%N)
	for i in $(seq 1 "$N"); do
		"$bin" volume create "bench-$i" --size 10G --replica "sn1:nqn.2016-06.io.spdk:b$i-a" \
			--replica "sn2:nqn.2016-06.io.spdk:b$i-b" >/dev/null
	done
	t1=$(date +%s.%N)
	rows=$("$bin" volume list | tail -n +2 | wc -l)
	t2=$(date +%s.%N)
	"$bin" volume list --json >/dev/null
	t3=$(date +%s.%N)
	for i in $(seq 1 100); do
		"$bin" volume attach "bench-$i" --host bench-host --vm "vm-$i" >/dev/null
	done
	t4=$(date +%s.%N)
	[ "$rows" -eq "$N" ] || { echo "listed $rows volumes, created $N" >&2; exit 1; }
	python3 - "$name" "$N" "$t0" "$t1" "$t2" "$t3" "$t4" <<'PY'
import sys
name, n = sys.argv[1], int(sys.argv[2])
t0, t1, t2, t3, t4 = map(float, sys.argv[3:])
print(f"| {name} | {n} | {t1 - t0:.2f} s | {(t1 - t0) / n * 1000:.1f} ms | "
      f"{(t2 - t1) * 1000:.0f} ms | {(t3 - t2) * 1000:.0f} ms | {(t4 - t3) / 100 * 1000:.1f} ms |")
PY
}

tmp=$(mktemp -d /tmp/de-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export -f run_backend
export bin N

sqlite_row=$(DISKENGINE_DB="sqlite://$tmp/bench.db" run_backend SQLite)
pg_row=$("$root/scripts/pg-test.sh" bash -c 'DISKENGINE_DB="$PG_TEST_CONNINFO" run_backend PostgreSQL') ||
	pg_row="| PostgreSQL | - | could not start a PostgreSQL server | | | | |"

{
	echo "# Store benchmark: $N volumes through the CLI"
	echo
	echo "Produced by \`make bench\` (bench/store-bench.sh). Every create is one \`diskengine volume"
	echo "create\` process (open, schema check, one write transaction: volume + 2 replicas), run one"
	echo "after another. \`list\` is one \`diskengine volume list\` process over all $N volumes."
	echo "\`attach\` is \`diskengine volume attach\` for 100 of them."
	echo
	echo "| backend | volumes | create all | per create | list (table) | list --json | per attach |"
	echo "|---|---|---|---|---|---|---|"
	echo "$sqlite_row"
	echo "$pg_row"
	echo
	echo "Machine: $(nproc) CPU(s), $(uname -sr); $(sqlite3 --version 2>/dev/null | cut -d' ' -f1 | sed 's/^/SQLite /');"
	echo "PostgreSQL $(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1) on a Unix socket with fsync off (a test server)."
	echo "SQLite runs with synchronous=FULL in WAL mode on $(df -T /tmp | awk 'NR==2 {print $2}') (/tmp)."
	echo "Run on $(date -u +%Y-%m-%d); numbers include process start-up and are for comparison, not a promise."
} >"$report"
cat "$report"
