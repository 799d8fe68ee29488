#!/usr/bin/env bash
# Crash points: for provisioning and for teardown of a volume, kill -9 the daemon right after
# its k-th mutating SPDK call was sent -- for every k -- restart it, and require the final graph
# to equal the desired one (no leaked or duplicate objects) with the right database state.
#
# How, without test hooks in the daemon: the sim's control channel delays the chosen call
# (`delay` rules apply to a method's calls in order: pass j-1 through, hold the j-th), the test
# kills the daemon while the call is held, and the sim then executes it for a client that is
# gone -- exactly a daemon that died after sending the call and before recording its answer.
source "$(dirname "$0")/lib.sh"

two_nodes
host_rpc framework_start_init >/dev/null
HOLD_MS=1500
points=0

# expect_graph: exactly the objects of the live volumes in $LIVE, nothing else.
expect_graph() {
	local want_v=0 want_r=0 vid mid
	for pair in $LIVE; do
		IFS=: read -r vid mid <<<"$pair"
		graph_has "^vhost vhost$mid raid_$vid$" || fail "point $1: vhost$mid missing: $(graph)"
		graph_has "^raid raid_$vid online " || fail "point $1: raid_$vid not online: $(graph)"
		[ "$(host_rpc bdev_get_bdevs "{\"name\":\"raid_$vid\"}" |
			jq -r '.[0].assigned_rate_limits.rw_ios_per_sec')" = 10000 ] ||
			fail "point $1: raid_$vid lost its QoS limit"
		want_v=$((want_v + 1))
		want_r=$((want_r + 1))
	done
	[ "$(vhost_names | wc -l)" = "$want_v" ] || fail "point $1: vhost controllers $(vhost_names | tr '\n' ' ')"
	[ "$(raid_names | wc -l)" = "$want_r" ] || fail "point $1: raids $(raid_names | tr '\n' ' ')"
	[ "$(ctrlr_names | wc -l)" = $((2 * want_r)) ] || fail "point $1: controllers $(ctrlr_names | tr '\n' ' ')"
	[ "$(ctrlr_names | uniq -d)" = "" ] || fail "point $1: duplicate controllers"
}

# crash_at METHOD J ACTION: arm the hold on METHOD's J-th call, run ACTION (attach/detach),
# start the daemon, kill -9 it once the call arrived, let the call land, restart, converge.
crash_at() {
	local method=$1 j=$2 action=$3 label="$3 $1#$2"
	ctl "$T/host.ctl" '{"cmd":"clear"}' >/dev/null
	ctl "$T/host.ctl" '{"cmd":"stats_reset"}' >/dev/null
	if [ "$j" -gt 1 ]; then
		ctl "$T/host.ctl" "{\"cmd\":\"delay\",\"method\":\"$method\",\"ms\":0,\"count\":$((j - 1))}" >/dev/null
	fi
	ctl "$T/host.ctl" "{\"cmd\":\"delay\",\"method\":\"$method\",\"ms\":$HOLD_MS,\"count\":1}" >/dev/null
	eval "$action"
	daemon_start
	arrived() { [ "$(ctl "$T/host.ctl" '{"cmd":"stats"}' | jq -r ".result.$method // 0")" -ge "$j" ]; }
	wait_until 30 "$label sent" arrived
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || true
	sleep $((HOLD_MS / 1000 + 1))
	ctl "$T/host.ctl" '{"cmd":"clear"}' >/dev/null
	daemon_start
	points=$((points + 1))
}

# Mutating calls of one provisioning (of a volume with a QoS limit) and one teardown.
PROVISION="bdev_nvme_attach_controller:1 bdev_nvme_attach_controller:2 bdev_raid_create:1 bdev_set_qos_limit:1 vhost_create_blk_controller:1"
TEARDOWN="vhost_delete_controller:1 bdev_raid_delete:1 bdev_nvme_detach_controller:1 bdev_nvme_detach_controller:2"
LIVE=""
k=0
for p in $PROVISION; do
	k=$((k + 1))
	IFS=: read -r method j <<<"$p"
	vid=$(make_volume "p$k" --qos-rw-iops 10000)
	crash_at "$method" "$j" "mid=\$(attach_volume p$k vm$k)"
	wait_until 30 "provision point $k: mapping $mid ATTACHED" state_is "$mid" ATTACHED
	daemon_stop
	LIVE="$LIVE $vid:$mid"
	expect_graph "provision $method#$j"
	log "provision crash point $k ($method #$j): converged"
done
k=0
for p in $TEARDOWN; do
	k=$((k + 1))
	IFS=: read -r vid mid <<<"$(tr ' ' '\n' <<<"$LIVE" | grep . | head -1)"
	vol=$(de status --json | jq -r ".mappings[] | select(.mapping == $mid) | .volume")
	crash_at "${p%%:*}" "${p##*:}" "de volume detach $vol >/dev/null"
	wait_until 30 "teardown point $k: mapping $mid DETACHED" state_is "$mid" DETACHED
	daemon_stop
	LIVE=$(tr ' ' '\n' <<<"$LIVE" | { grep -v -e "^$vid:$mid$" -e "^$" || true; } | tr '\n' ' ')
	expect_graph "teardown $p"
	log "teardown crash point $k ($p): converged"
done
log "crash points tried: $points (provisioning $(wc -w <<<"$PROVISION"), teardown $(wc -w <<<"$TEARDOWN"))"
log "ok"
