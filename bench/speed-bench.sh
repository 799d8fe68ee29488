#!/usr/bin/env bash
# Provisioning and SPDK-restart time of the daemon against de-floor, the minimal hand-written
# client (bench/de_floor.c), on spdk-sim, at 1 and 100 volumes:
#   bench/speed-bench.sh BUILD_DIR [REPORT]
# SPEED_VOLUMES (default "1 100") and SPEED_RUNS (default 3) choose the sizes and repeats; every
# number in the report is the median of the runs. Each run is a fresh set of sims in a scratch
# directory (tests/integration/lib.sh), so it may run inside `unshare -n`.
#
# Internally the script calls itself: `--daemon N` and `--floor N` do one run and print
# "key value" lines (times in ms).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" = "--daemon" ] || [ "${1:-}" = "--floor" ]; then
	mode=$1 N=$2
	# lib.sh's own checks and helpers (the scratch directory, the sims, the CLI)
	source "$root/tests/integration/lib.sh"
	FLOOR=${DE_FLOOR_BIN:?}
	now_ns() { date +%s%N; }
	# log_ns PATTERN [after PATTERN]: time (ns) of the last daemon log line matching PATTERN
	log_ns() {
		local line
		line=$(sed -n "/${2:-^}/,\$p" "$T/daemon.log" | grep -E -e "$1" | tail -n 1)
		[ -n "$line" ] || { echo 0; return; }
		date -d "${line%% *}" +%s%N
	}
	# ms END_NS START_NS; "-" when END is unknown (0: no such log line, an older daemon)
	ms() { if [ "$1" = 0 ]; then echo -; else echo $((($1 - $2) / 1000000)); fi; }
	attached() { [ "$(de status --all --json | jq "[.mappings[] | select(.state == \"$1\")] | length")" = "$2" ]; }
	stat() { ctl "$T/host.ctl" '{"cmd":"stats"}' | jq -r ".result.$1 // 0"; }
	stat_ge() { [ "$(stat "$1")" -ge "$2" ]; }
	two_nodes 2>/dev/null
	make_volumes v 1 "$N"
	if [ "$mode" = --floor ]; then
		# the pipelined floor: every attach in flight, then every raid create, then every
		# vhost create (the bench volumes carry no QoS limits, so neither client sets any)
		python3 - "$N" "$P1" "$P2" >"$T/stages.json" <<'PY'
import json, sys
n, p1, p2 = int(sys.argv[1]), sys.argv[2], sys.argv[3]
att, raid, vh = [], [], []
for i in range(1, n + 1):
    bases = []
    for side, port in (("a", p1), ("b", p2)):
        name = "f%d%s" % (i, side)
        att.append({"method": "bdev_nvme_attach_controller", "params": {
            "name": name, "trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1",
            "trsvcid": port, "subnqn": "nqn.2016-06.io.diskengine:v%d-%s" % (i, side),
            "hostnqn": "nqn.2024-01.io.diskengine:host", "ctrlr_loss_timeout_sec": 10,
            "reconnect_delay_sec": 1, "fast_io_fail_timeout_sec": 0, "multipath": "multipath"}})
        bases.append(name + "n1")
    raid.append({"method": "bdev_raid_create", "params": {
        "name": "raid_%d" % i, "raid_level": "raid1", "base_bdevs": bases, "superblock": True}})
    vh.append({"method": "vhost_create_blk_controller", "params": {
        "ctrlr": "vhost%d" % i, "dev_name": "raid_%d" % i, "cpumask": "0x1"}})
json.dump([{"name": "attach", "calls": att}, {"name": "raid", "calls": raid},
           {"name": "vhost", "calls": vh}], sys.stdout)
PY
		t0=$(now_ns)
		"$FLOOR" watch --t0-ns "$t0" "$T/host.sock" "$N" >"$T/watch.out" &
		w=$!
		"$FLOOR" run --t0-ns "$t0" "$T/host.sock" "$T/stages.json" | sed 's/^/floor_prov_/'
		wait "$w"
		echo "floor_prov_seen $(awk '$1 == "vhost" {print int($2)}' "$T/watch.out")"
		exit 0
	fi

	# -- the daemon provisions N volumes from a fresh SPDK
	for ((i = 1; i <= N; i++)); do attach_volume "v$i" "vm$i" >/dev/null; done
	ctl "$T/host.ctl" '{"cmd":"stats_reset"}' >/dev/null
	t0=$(now_ns)
	daemon_start
	"$FLOOR" watch --t0-ns "$t0" "$T/host.sock" "$N" >"$T/watch.out"
	seen=$(awk '$1 == "at_ns" {print $2}' "$T/watch.out")
	echo "daemon_prov $(ms "$seen" "$t0")"
	wait_until 120 "$N ATTACHED" attached ATTACHED "$N"
	echo "daemon_prov_attached_lag $(ms "$(log_ns '-> ATTACHED')" "$seen")"
	wait_until 60 "config saved" stat_ge framework_get_subsystems 1
	p=$(stat vhost_get_controllers)
	wait_until 60 "three idle passes" stat_ge vhost_get_controllers $((p + 3))
	echo "daemon_prov_saves $(stat framework_get_subsystems)"

	# -- SIGKILL of the host SPDK, restarted at once; the daemon rebuilds
	restart_sim() {
		kill -KILL "$(sim_pid host)"
		wait "$(sim_pid host)" 2>/dev/null || true
		rm -f "$T/host.sock"
	}
	grep -c . "$T/daemon.log" >"$T/mark"
	t0=$(now_ns)
	restart_sim
	"$FLOOR" watch --t0-ns "$t0" "$T/host.sock" "$N" >"$T/watch.out" &
	w=$!
	host_start
	wait "$w"
	seen=$(awk '$1 == "at_ns" {print $2}' "$T/watch.out")
	rebuilt() { tail -n +"$(cat "$T/mark")" "$T/daemon.log" | grep -q "every mapping served again"; }
	wait_until 60 "daemon log of the restart" rebuilt
	echo "daemon_restart $(ms "$seen" "$t0")"
	echo "daemon_restart_socket $(ms "$(log_ns ' is back ' 'closed the connection')" "$t0")"
	echo "daemon_restart_framework $(ms "$(log_ns 'was not initialised' 'closed the connection')" "$t0")"
	echo "daemon_restart_attached $(ms "$(log_ns ': attach ' 'closed the connection')" "$t0")"
	echo "daemon_restart_raid $(ms "$(log_ns 'to reassemble$' 'closed the connection')" "$t0")"
	echo "daemon_restart_vhost $(ms "$(log_ns ': create vhost' 'closed the connection')" "$t0")"
	p=$(stat vhost_get_controllers)
	wait_until 60 "three idle passes" stat_ge vhost_get_controllers $((p + 3))
	echo "daemon_restart_saves $(stat framework_get_subsystems)"
	daemon_stop

	# -- the same SIGKILL and restart, the minimal restore client instead of the daemon: the
	# daemon's start sequence, every attach of the saved config in flight, every superblock raid
	# waited for by name, every vhost created
	python3 - "$T/spdk-config.json" >"$T/restore.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
calls = [c for s in doc["subsystems"] for c in (s.get("config") or [])]
att = [c for c in calls if c["method"] == "bdev_nvme_attach_controller"]
vh = [c for c in calls if c["method"] == "vhost_create_blk_controller"]
qos = [c for c in calls if c["method"] == "bdev_set_qos_limit"]
raid = [{"method": "bdev_get_bdevs", "params": {"name": c["params"]["dev_name"], "timeout": 5000}}
        for c in vh]
stages = [{"name": "attach", "calls": att}, {"name": "raid", "calls": raid}]
if qos:
    stages.append({"name": "qos", "calls": qos})
stages.append({"name": "vhost", "calls": vh})
json.dump(stages, sys.stdout)
PY
	t0=$(now_ns)
	restart_sim
	"$FLOOR" watch --t0-ns "$t0" "$T/host.sock" "$N" >"$T/watch.out" &
	w=$!
	"$FLOOR" run --wait-socket --preinit "$T/spdk-config.json" --t0-ns "$t0" "$T/host.sock" \
		"$T/restore.json" >"$T/floor.out" &
	f=$!
	host_start
	wait "$f"
	wait "$w"
	sed 's/^/floor_restart_/' "$T/floor.out"
	echo "floor_restart $(awk '$1 == "vhost" {print int($2)}' "$T/watch.out")"

	# -- the daemon takes over the restored graph, then every mapping is detached
	daemon_start
	p=$(stat vhost_get_controllers)
	wait_until 60 "three passes" stat_ge vhost_get_controllers $((p + 3))
	t0=$(now_ns)
	for ((i = 1; i <= N; i++)); do de volume detach "v$i" >/dev/null; done
	"$FLOOR" empty --t0-ns "$t0" "$T/host.sock" >"$T/watch.out"
	empty=$(awk '$1 == "at_ns" {print $2}' "$T/watch.out")
	wait_until 120 "$N DETACHED" attached DETACHED "$N"
	echo "daemon_teardown $(ms "$empty" "$t0")"
	echo "daemon_teardown_detached_lag $(ms "$(log_ns '-> DETACHED')" "$empty")"
	daemon_stop
	exit 0
fi

build=${1:?usage: $0 BUILD_DIR [REPORT]}
build=$(cd "$build" && pwd)
report=${2:-}
# DE_FLOOR_BIN may come from another build: a daemon without bench/ measured against the same floor
export DISKENGINE_BIN=$build/diskengine SPDK_SIM_BIN=$build/spdk-sim
export DE_FLOOR_BIN=${DE_FLOOR_BIN:-$build/bench/de-floor}
runs=${SPEED_RUNS:-3}
out=$(mktemp -d "${TMPDIR:-/tmp}/de-speed.XXXXXX")
trap 'rm -rf "$out"' EXIT
for n in ${SPEED_VOLUMES:-1 100}; do
	for ((r = 1; r <= runs; r++)); do
		echo "== $n volumes, run $r" >&2
		"$0" --floor "$n" >>"$out/$n.txt" 2>"$out/err"  || { cat "$out/err" >&2; exit 1; }
		"$0" --daemon "$n" >>"$out/$n.txt" 2>"$out/err" || { cat "$out/err" >&2; exit 1; }
	done
done
python3 - "$out" "$runs" ${SPEED_VOLUMES:-1 100} <<'PY' | tee "${report:-/dev/null}"
import statistics, sys, os, platform
out, runs, sizes = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def med(n):
    vals = {}
    for line in open(os.path.join(out, n + ".txt")):
        k, v = line.split()
        if v != "-":
            vals.setdefault(k, []).append(float(v))
    return {k: statistics.median(v) for k, v in vals.items()}
m = {n: med(n) for n in sizes}
def f(n, k):
    return "%.0f" % m[n][k] if k in m[n] else "-"
def ratio(n, a, b):
    return "%.2fx" % (m[n][a] / m[n][b]) if m[n].get(b) else "-"
print("### Provisioning: every vhost controller up, from the client's start (spdk-sim results)\n")
print("| volumes | floor (ms) | daemon (ms) | daemon / floor | last ATTACHED after last vhost (ms) | config saves |")
print("|---|---|---|---|---|---|")
for n in sizes:
    print("| %s | %s | %s | %s | %s | %s |" % (n, f(n, "floor_prov_seen"), f(n, "daemon_prov"),
          ratio(n, "daemon_prov", "floor_prov_seen"), f(n, "daemon_prov_attached_lag"),
          f(n, "daemon_prov_saves")))
print("\n### SPDK SIGKILL and restart: every vhost controller back, from the kill (spdk-sim results)\n")
print("| volumes | client | socket seen | framework started | attaches answered | raid assembled | vhost created | all vhosts seen | / floor |")
print("|---|---|---|---|---|---|---|---|---|")
for n in sizes:
    print("| %s | floor | %s | %s | %s | %s | %s | %s | 1.00x |" % (n, f(n, "floor_restart_socket"),
          f(n, "floor_restart_framework"), f(n, "floor_restart_attach"), f(n, "floor_restart_raid"),
          f(n, "floor_restart_vhost"), f(n, "floor_restart")))
    print("| %s | daemon | %s | %s | %s | %s | %s | %s | %s |" % (n, f(n, "daemon_restart_socket"),
          f(n, "daemon_restart_framework"), f(n, "daemon_restart_attached"),
          f(n, "daemon_restart_raid"), f(n, "daemon_restart_vhost"),
          f(n, "daemon_restart"), ratio(n, "daemon_restart", "floor_restart")))
print("\n### Teardown: every mapping detached (spdk-sim results)\n")
print("| volumes | SPDK empty (ms) | last DETACHED after SPDK empty (ms) |")
print("|---|---|---|")
for n in sizes:
    print("| %s | %s | %s |" % (n, f(n, "daemon_teardown"), f(n, "daemon_teardown_detached_lag")))
print("\nMedian of %d runs; machine: %d CPU(s), Linux %s." % (runs, os.cpu_count(), platform.release()))
PY
