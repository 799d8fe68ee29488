#!/usr/bin/env bash
# A reset storm on one volume's controllers while the daemon passes every 50 ms: for ~15 s its
# controllers are reset back to back (bdev_nvme_reset_controller, each path reconnecting with a
# new cntlid). Meanwhile other volumes are provisioned and served, the stormed volume stays served, and
# the host sim counts no unfiltered bdev_get_bdevs during a reset (its tripwire). The daemon asks
# for bdevs by name only, so the count is zero whatever the timing.
source "$(dirname "$0")/lib.sh"

STORM_S=${STORM_S:-15}
two_nodes
make_volumes v 1 3
m1=$(attach_volume v1 vm1)
daemon_start --interval-ms 50
wait_until 40 "mapping $m1 ATTACHED" state_is "$m1" ATTACHED
v1_ctrlrs=$(graph | awk '/^ctrlr / && /:v1-/ {print $2}')
[ "$(wc -w <<<"$v1_ctrlrs")" = 2 ] || fail "v1 controllers not found: $(graph)"
log "storm on $v1_ctrlrs for ${STORM_S}s"

# The storm: resets of both controllers, back to back, on one connection.
storm() {
	local end=$((SECONDS + STORM_S))
	while [ $SECONDS -lt $end ]; do
		for c in $v1_ctrlrs; do
			for _ in 1 2 3 4 5; do echo "bdev_nvme_reset_controller {\"name\":\"$c\"}"; done
		done | rpc_batch "$T/host.sock" >/dev/null 2>&1 || true
	done
}
storm &
STORM_PID=$!
PIDS+=("$STORM_PID")

# The stormed volume's mapping says its controllers reset (its volume is frozen meanwhile).
# (checked after the tripwire, which matters more)
resetting_shown() { de status --json | jq -e ".mappings[] | select(.mapping == $m1) | .reset_in_progress == true"; }
shown=0
for _ in $(seq 200); do
	if resetting_shown >/dev/null 2>&1; then
		shown=1
		break
	fi
	sleep 0.05
done
log "status during the storm: $(de status --json | jq -c ".mappings[] | select(.mapping == $m1)")"

# Meanwhile: volumes 2 and 3 are provisioned and served, one after the other.
m2=$(attach_volume v2 vm2)
wait_until 30 "mapping $m2 ATTACHED during the storm" state_is "$m2" ATTACHED
m3=$(attach_volume v3 vm3)
wait_until 30 "mapping $m3 ATTACHED during the storm" state_is "$m3" ATTACHED
storm_alive=0
kill -0 "$STORM_PID" 2>/dev/null && storm_alive=1
wait "$STORM_PID" || true

trips=$(ctl "$T/host.ctl" '{"cmd":"tripwires"}' | jq -r '.result.unfiltered_bdev_get_bdevs_during_reset')
resets=$(ctl "$T/host.ctl" '{"cmd":"stats"}' | jq -r '.result.bdev_nvme_reset_controller // 0')
log "resets: $resets, unfiltered bdev_get_bdevs during resets: $trips"
[ "$resets" -ge 20 ] || fail "too few resets for a storm: $resets"
[ "$trips" = 0 ] || fail "$trips unfiltered bdev_get_bdevs calls during controller resets"
[ "$storm_alive" = 1 ] || fail "the storm ended before the other volumes were served"
[ "$shown" = 1 ] || fail "mapping $m1's status never showed reset_in_progress during the storm"
kill -0 "$(sim_pid host)" || fail "the host SPDK died"

# The stormed volume is served throughout and after.
wait_until 20 "mapping $m1 still ATTACHED" state_is "$m1" ATTACHED
reset_over() { de status --json | jq -e ".mappings[] | select(.mapping == $m1) | .reset_in_progress == false and (.path_resets | test(\"resets=\"))"; }
wait_until 20 "mapping $m1 status: reset over, resets counted" reset_over
vh=$(vhost_names | tr '\n' ' ')
for m in "$m1" "$m2" "$m3"; do
	grep -qw "vhost$m" <<<"$vh" || fail "vhost$m missing after the storm: $vh"
done
# online, possibly with one member given up for flapping (test_e2e_flapping_path.sh)
raid=$(graph | awk -v v="vhost$m1" '$1 == "vhost" && $2 == v {print $3}')
graph_has "^raid $raid online " || fail "$raid not online after the storm: $(graph)"
[ "$(ctl "$T/host.ctl" '{"cmd":"tripwires"}' | jq -r '.result.unfiltered_bdev_get_bdevs_during_reset')" = 0 ] ||
	fail "unfiltered bdev_get_bdevs during a reset after the storm"

daemon_stop
log "ok"
