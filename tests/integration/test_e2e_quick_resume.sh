#!/usr/bin/env bash
# The daemon goes on without pauses of its own: SPDK's config is saved once per burst of changes
# (not after every pass), and after SPDK dies it looks for the restarted SPDK every few ms rather
# than backing off, then rebuilds every vhost controller. Asserted from the sim's call counts and
# the daemon's log, never from wall time (bench/speed-report.md has the times).
source "$(dirname "$0")/lib.sh"
N=3

stat() { ctl "$T/host.ctl" '{"cmd":"stats"}' | jq -r ".result.$1 // 0"; }
# passes: every pass lists the vhost controllers once
passes() { stat vhost_get_controllers; }
served() {
	[ "$(host_rpc vhost_get_controllers | jq '[.[] | select(.backend_specific.block.bdev != null)] | length')" = "$1" ]
}
attached() { [ "$(de status --json | jq '[.mappings[] | select(.state == "ATTACHED")] | length')" = "$1" ]; }
# saves_settle WANT: the config was saved WANT times, and still is after three more passes
stat_ge() { [ "$(stat "$1")" -ge "$2" ]; }
saves_settle() {
	local want=$1 p
	wait_until 30 "config saved $want time(s)" stat_ge framework_get_subsystems "$want"
	p=$(passes)
	wait_until 30 "three more passes" stat_ge vhost_get_controllers $((p + 3))
	local got
	got=$(stat framework_get_subsystems)
	[ "$got" = "$want" ] || fail "SPDK config saved $got times, want $want (once per burst)"
}

two_nodes
make_volumes v 1 "$N"
for ((i = 1; i <= N; i++)); do attach_volume "v$i" "vm$i" >/dev/null; done
ctl "$T/host.ctl" '{"cmd":"stats_reset"}' >/dev/null
daemon_start
wait_until 60 "$N vhost controllers" served "$N"
wait_until 60 "$N mappings ATTACHED" attached "$N"
# attach, raid, vhost: three stages, one burst, one save
saves_settle 1
test -s "$T/spdk-config.json" || fail "no saved config"
grep -q '"raid_1"\|raid_1' "$T/spdk-config.json" || fail "saved config lacks raid_1"

# a second burst: one more save, with the new volume in it
make_volumes w 1 1
attach_volume w1 vmw >/dev/null
wait_until 60 "vhost controller of w1" served $((N + 1))
saves_settle 2
grep -q "raid_$((N + 1))" "$T/spdk-config.json" || fail "saved config lacks raid_$((N + 1))"

# SPDK dies and stays away a while: the daemon keeps looking every few ms, no backoff
ctl "$T/host.ctl" '{"cmd":"crash"}' >/dev/null || true
wait_until 30 "daemon notices the crash" grep -q "closed the connection" "$T/daemon.log"
rm -f "$T/host.sock"
wait_until 30 "daemon waits for SPDK to come back" grep -q "waiting for SPDK .* to come back" "$T/daemon.log"
host_start
wait_until 60 "vhost controllers back" served $((N + 1))
wait_until 30 "daemon says SPDK is back" grep -q "SPDK at .* is back" "$T/daemon.log"
backoffs=$(sed -n '/closed the connection/,$p' "$T/daemon.log" | grep -c "unreachable: .*; retrying" || true)
[ "$backoffs" = 0 ] || fail "$backoffs reconnect backoffs after the crash, want none"
# superblock raids reassembled, not re-created
recreated=$(sed -n '/closed the connection/,$p' "$T/daemon.log" | grep -c ": create raid_" || true)
[ "$recreated" = 0 ] || fail "$recreated raids re-created after the restart"
# the rebuild after the restart is one burst too (stats of the new sim start at zero)
saves_settle 1

# stop with nothing pending: no extra save; the saved config still names every raid
daemon_stop
grep -q "raid_$((N + 1))" "$T/spdk-config.json" || fail "saved config lost raid_$((N + 1))"
log "ok"
