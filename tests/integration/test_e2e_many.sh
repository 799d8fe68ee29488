#!/usr/bin/env bash
# Many volumes at once, and the observation's cost: an idle pass makes the same calls whether the
# host serves 1 volume or 200 (a fixed set of list calls, never one per volume, no bdev read).
# Prints the time from the attach of 199 volumes to all ATTACHED (a simulator result). The first
# pass of a daemon process reads each served raid's bdev once (it has not seen their QoS yet), so
# the passes counted are those of a running daemon once it is idle.
source "$(dirname "$0")/lib.sh"
N=${DE_MANY_VOLUMES:-200}

two_nodes
make_volumes v 1 1
m=$(attach_volume v1 vm1)
daemon_start
wait_until 30 "mapping $m ATTACHED" state_is "$m" ATTACHED

# Idle passes of the running daemon, counted by the sim: each method's count per pass (rounded,
# the count may start or end mid-pass). The first count may still catch the last pass with work.
idle_once() {
	ctl "$T/host.ctl" '{"cmd":"stats_reset"}' >/dev/null
	wait_until 30 "five idle passes" five_passes
	ctl "$T/host.ctl" '{"cmd":"stats"}' |
		jq -S -c '.result | .bdev_nvme_get_controllers as $p
			| with_entries(.value = (.value / $p + 0.5 | floor))'
}
five_passes() {
	[ "$(ctl "$T/host.ctl" '{"cmd":"stats"}' | jq -r '.result.bdev_nvme_get_controllers // 0')" -ge 5 ]
}
idle_stats() {
	local s
	for _ in 1 2 3; do
		s=$(idle_once)
		[ "$(jq -r '.bdev_get_bdevs // 0' <<<"$s")" = 0 ] && break
	done
	echo "$s"
}
s1=$(idle_stats)
daemon_stop
log "one idle pass, 1 volume: $s1"

make_volumes v 2 "$N"
for ((i = 2; i <= N; i++)); do attach_volume "v$i" "vm$i" >/dev/null; done
daemon_start
start=$(date +%s%N)
all_attached() { [ "$(de status --json | jq '[.mappings[] | select(.state == "ATTACHED")] | length')" = "$N" ]; }
wait_until 120 "$N mappings ATTACHED" all_attached
log "spdk-sim result: $((N - 1)) new volumes ATTACHED $(( ($(date +%s%N) - start) / 1000000 )) ms after the daemon started"
[ "$(vhost_names | wc -l)" = "$N" ] || fail "vhost controllers: $(vhost_names | wc -l), want $N"
[ "$(raid_names | wc -l)" = "$N" ] || fail "raids: $(raid_names | wc -l), want $N"

sN=$(idle_stats)
daemon_stop
log "one idle pass, $N volumes: $sN"
[ "$s1" = "$sN" ] || fail "an idle pass at $N volumes made other calls than at 1: $s1 vs $sN"
for m in bdev_nvme_get_controllers bdev_raid_get_bdevs vhost_get_controllers keyring_get_keys; do
	[ "$(jq -r ".$m" <<<"$sN")" = 1 ] || fail "$m not called exactly once per pass: $sN"
done
[ "$(jq -r '.bdev_get_bdevs // 0' <<<"$sN")" = 0 ] || fail "an idle pass read bdevs: $sN"
log "ok"
