#!/usr/bin/env bash
# A resize onto two new, larger replicas while the VM stays attached: the daemon connects both
# pending namespaces, swaps one raid slot at a time (remove the old base, add the new one, SPDK
# rebuilds it) and promotes each rebuilt replica in the database; the old controllers are
# detached. SPDK grows a raid1 only when a member's namespace grows, so the volume stays RESIZING
# with a status saying so until one new replica is grown; then it is READY. A second resize grows
# the replicas in place. Throughout, the mapping stays ATTACHED and the vhost controller untouched.
source "$(dirname "$0")/lib.sh"

two_nodes
vol=$(make_volume v1)
daemon_start
mid=$(attach_volume v1 vm1)
wait_until 30 "mapping $mid ATTACHED" state_is "$mid" ATTACHED
graph_has "^vhost vhost$mid raid_$vol$" || fail "vhost does not serve raid_$vol: $(graph)"
old_ctrlrs=$(ctrlr_names)

# the new replicas: larger lvols on the same nodes, exported under new NQNs
nqn_a=nqn.2016-06.io.diskengine:v1big-a
nqn_b=nqn.2016-06.io.diskengine:v1big-b
target_export t1 v1big "$nqn_a" "$P1" 16
target_export t2 v1big "$nqn_b" "$P2" 16
de volume resize v1 --size 8M --replica "n1:$nqn_a" --replica "n2:$nqn_b" >/dev/null
[ "$(de volume show v1 --json | jq -r .state)" = RESIZING ] || fail "volume not RESIZING"

# the bdev names the host gives the new namespaces: "<controller>n1" of each new subsystem
ctrlr_of() { host_rpc bdev_nvme_get_controllers | jq -r --arg n "$1" '.[] | select(any(.ctrlrs[]; .trid.subnqn == $n)) | .name'; }
wait_until 30 "pending controllers attached" test -n "$(ctrlr_of "$nqn_a")" -a -n "$(ctrlr_of "$nqn_b")"
want="$(ctrlr_of "$nqn_a")n1,$(ctrlr_of "$nqn_b")n1"
want=$(tr , '\n' <<<"$want" | sort | paste -sd,)
raid_bases() {
	host_rpc bdev_raid_get_bdevs '{"category":"all"}' |
		jq -r --arg r "raid_$vol" '.[] | select(.name == $r) | [.base_bdevs_list[] | select(.is_configured) | .name] | sort | join(",")'
}
raid_done() {
	[ "$(raid_bases)" = "$want" ] &&
		host_rpc bdev_raid_get_bdevs '{"category":"all"}' |
		jq -e --arg r "raid_$vol" '.[] | select(.name == $r) | .state == "online" and .num_base_bdevs_operational == 2 and (has("process") | not)' >/dev/null
}
wait_until 30 "raid_$vol over $want" raid_done

# the database: exactly the two new replicas, members, in sync; READY once the raid has grown
raid_bytes() { host_rpc bdev_get_bdevs "{\"name\":\"raid_$vol\"}" | jq '.[0].num_blocks * .[0].block_size'; }
volume_is() {
	local v
	v=$(de volume show v1 --json)
	[ "$(jq -r .state <<<"$v")" = "$1" ] &&
		[ "$(jq -r '[.replicas[] | select(.pending | not) | .nqn] | sort | join(",")' <<<"$v")" = "$nqn_a,$nqn_b" ] &&
		[ "$(jq -r '[.replicas[] | select(.pending)] | length' <<<"$v")" = 0 ] &&
		[ "$(jq -r '[.replicas[] | select(.in_sync)] | length' <<<"$v")" = 2 ] &&
		[ "$(jq -r '.replicas | length' <<<"$v")" = 2 ]
}
wait_until 30 "volume v1 on the new replicas" volume_is RESIZING
log "swapped: raid_$vol over $want, $(raid_bytes) bytes"
[ "$(grep -c "rebuilt and promoted" "$T/daemon.log")" = 2 ] ||
	fail "want two promotions: $(grep "promoted" "$T/daemon.log")"
# the raid kept its size (SPDK v25.09 sizes a raid1 when a member reports a resize): the
# volume waits, and the operator reads why
[ "$(raid_bytes)" -lt 8388608 ] || fail "raid_$vol grew by itself: $(raid_bytes)"
waits_msg() { de status --json | jq -r ".mappings[] | select(.mapping == $mid) | .last_error" | grep -q "serves $(raid_bytes) of 8388608 bytes"; }
wait_until 30 "status names the size the raid serves" waits_msg
sleep 1
volume_is RESIZING || fail "volume finished with the raid at $(raid_bytes) bytes"
# one new replica grows by 1 MiB: SPDK re-sizes the raid to its smallest member
rpc "$T/t1.sock" bdev_lvol_resize '{"name":"lvs0/v1big","size_in_mib":17}' >/dev/null
wait_until 30 "volume v1 READY on the new replicas" volume_is READY
[ "$(raid_bytes)" -ge 8388608 ] || fail "READY with raid_$vol at $(raid_bytes) bytes"
[ "$(de volume show v1 --json | jq -r .size_bytes)" = 8388608 ] || fail "size not 8M"
log "resized: raid_$vol serves $(raid_bytes) bytes"

# the VM kept its disk the whole time
state_is "$mid" ATTACHED || fail "mapping $mid is $(mapping_state "$mid")"
[ "$(vhost_names)" = "vhost$mid" ] || fail "vhost controllers: $(vhost_names)"
graph_has "^vhost vhost$mid raid_$vol$" || fail "vhost does not serve raid_$vol: $(graph)"
! grep -q "delete vhost$mid" "$T/daemon.log" || fail "the vhost controller was recreated"
! grep -q "delete raid_$vol" "$T/daemon.log" || fail "the raid was recreated"

# the replaced replicas' controllers go; the new ones stay
old_gone() {
	local now
	now=$(ctrlr_names)
	for c in $old_ctrlrs; do
		grep -qx "$c" <<<"$now" && return 1
	done
	[ "$(wc -l <<<"$now")" = 2 ]
}
wait_until 30 "old controllers detached" old_gone
# and the status an operator reads has no error left
st=$(de status --json | jq -r ".mappings[] | select(.mapping == $mid)")
[ "$(jq -r .raid_state <<<"$st")" = online ] || fail "status: $st"

# in place: the same replicas, grown on their nodes
de volume resize v1 --size 16M >/dev/null
[ "$(de volume show v1 --json | jq -r .state)" = RESIZING ] || fail "volume not RESIZING"
sleep 1
volume_is RESIZING || fail "in-place resize finished before the replicas grew"
rpc "$T/t1.sock" bdev_lvol_resize '{"name":"lvs0/v1big","size_in_mib":24}' >/dev/null
rpc "$T/t2.sock" bdev_lvol_resize '{"name":"lvs0/v1big","size_in_mib":24}' >/dev/null
wait_until 30 "volume v1 READY at 16M" volume_is READY
[ "$(raid_bytes)" -ge 16777216 ] || fail "READY with raid_$vol at $(raid_bytes) bytes"
log "grown in place: raid_$vol serves $(raid_bytes) bytes"
state_is "$mid" ATTACHED || fail "mapping $mid is $(mapping_state "$mid")"
graph_has "^vhost vhost$mid raid_$vol$" || fail "vhost does not serve raid_$vol: $(graph)"
! grep -q "delete vhost$mid" "$T/daemon.log" || fail "the vhost controller was recreated"
daemon_stop
log "ok"
