#!/usr/bin/env bash
# Many volumes at once, and the observation's cost: one pass makes the same calls whether the host
# serves 1 volume or 200 (a fixed set of list calls, never one per volume). Prints the time from
# the attach of 199 volumes to all ATTACHED (a simulator result).
source "$(dirname "$0")/lib.sh"
N=${DE_MANY_VOLUMES:-200}

two_nodes
make_volumes v 1 1
m=$(attach_volume v1 vm1)
daemon_start
wait_until 30 "mapping $m ATTACHED" state_is "$m" ATTACHED
daemon_stop

# one pass on a converged host, counted by the sim
once_stats() {
	ctl "$T/host.ctl" '{"cmd":"stats_reset"}' >/dev/null
	"$DISKENGINE_BIN" -mode baremetal --once --host h1 --spdk-sock "$T/host.sock" \
		--db "$DISKENGINE_DB" --vhost-dir "$T/vhost" --saved-config "$T/spdk-config.json" \
		>>"$T/once.log" 2>&1 || fail "--once pass on a converged host did not exit 0"
	ctl "$T/host.ctl" '{"cmd":"stats"}' | jq -S -c .result
}
s1=$(once_stats)
log "one pass, 1 volume: $s1"

make_volumes v 2 "$N"
for ((i = 2; i <= N; i++)); do attach_volume "v$i" "vm$i" >/dev/null; done
daemon_start
start=$(date +%s%N)
all_attached() { [ "$(de status --json | jq '[.mappings[] | select(.state == "ATTACHED")] | length')" = "$N" ]; }
wait_until 120 "$N mappings ATTACHED" all_attached
log "spdk-sim result: $((N - 1)) new volumes ATTACHED $(( ($(date +%s%N) - start) / 1000000 )) ms after the daemon started"
daemon_stop
[ "$(vhost_names | wc -l)" = "$N" ] || fail "vhost controllers: $(vhost_names | wc -l), want $N"
[ "$(raid_names | wc -l)" = "$N" ] || fail "raids: $(raid_names | wc -l), want $N"

sN=$(once_stats)
log "one pass, $N volumes: $sN"
[ "$s1" = "$sN" ] || fail "a pass at $N volumes made other calls than at 1: $s1 vs $sN"
for m in bdev_nvme_get_controllers bdev_raid_get_bdevs vhost_get_controllers keyring_get_keys bdev_get_bdevs; do
	[ "$(jq -r ".$m" <<<"$sN")" = 1 ] || fail "$m not called exactly once per pass: $sN"
done
log "ok"
