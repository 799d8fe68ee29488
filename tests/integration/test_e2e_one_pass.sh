#!/usr/bin/env bash
# A volume's chain goes on as SPDK answers, in one pass: from a fresh SPDK one pass (--once)
# attaches both replicas, creates the raid over the bdevs the attaches made, records INITIALISED,
# creates the vhost and records ATTACHED; after an SPDK restart one pass brings the vhost back
# (the superblock raid is waited for by name). A chain that cannot go on stops with the reason
# and creates nothing above: replicas of different sizes (checked on the attached bdevs before
# the raid), a replica whose node does not export it (the raid waits for both members). A
# teardown also takes one pass: each layer goes once the one above answered.
source "$(dirname "$0")/lib.sh"

once() {
	"$DISKENGINE_BIN" -mode baremetal --host h1 --spdk-sock "$T/host.sock" \
		--db "$DISKENGINE_DB" --vhost-dir "$T/vhost" --saved-config "$T/spdk-config.json" \
		--rpc-timeout-ms 5000 --orphan-grace 3600 --once >>"$T/daemon.log" 2>&1 || true
}
last_error() { de status --json | jq -r ".mappings[] | select(.mapping == $1) | .last_error // \"\""; }

two_nodes
v1=$(make_volume v1)
m1=$(attach_volume v1 vm1)

# -- one pass from a fresh SPDK serves the volume
once
[ "$(vhost_names)" = "vhost$m1" ] || fail "one pass: vhosts '$(vhost_names)', wanted vhost$m1"
[ "$(raid_names)" = "raid_$v1" ] || fail "one pass: raids '$(raid_names)'"
state_is "$m1" ATTACHED || fail "one pass: mapping $m1 is $(mapping_state "$m1")"
log "one pass: attached, raid, INITIALISED, vhost, ATTACHED"

# -- SPDK killed and started again: one pass brings the vhost back
kill -KILL "$(sim_pid host)"
wait "$(sim_pid host)" 2>/dev/null || true
rm -f "$T/host.sock"
host_start
once
[ "$(vhost_names)" = "vhost$m1" ] || fail "after the restart: vhosts '$(vhost_names)'"
host_rpc bdev_raid_get_bdevs '{"category":"online"}' | jq -e ".[] | select(.name == \"raid_$v1\")" \
	>/dev/null || fail "after the restart: raid_$v1 not online"
grep -q "wait up to .* for raid_$v1 to reassemble" "$T/daemon.log" ||
	fail "after the restart the raid was not waited for by name"
log "restart: one pass, vhost back"

# -- replicas of different sizes: checked once attached, no raid, no vhost, reason in the status
target_export t1 v2 "nqn.2016-06.io.diskengine:v2-a" "$P1" 8
target_export t2 v2 "nqn.2016-06.io.diskengine:v2-b" "$P2" 16
v2=$(de volume create v2 --size 4M --replica "n1:nqn.2016-06.io.diskengine:v2-a" \
	--replica "n2:nqn.2016-06.io.diskengine:v2-b" --json | jq -r '.id // .volume_id')
m2=$(attach_volume v2 vm2)
once
raid_names | grep -qx "raid_$v2" && fail "a raid over replicas of different sizes"
vhost_names | grep -qx "vhost$m2" && fail "a vhost for a volume without raid"
state_is "$m2" ASSIGNED || fail "mapping $m2 is $(mapping_state "$m2"), wanted ASSIGNED"
last_error "$m2" | grep -q "replica geometry differs" ||
	fail "mapping $m2 status: '$(last_error "$m2")'"
log "different sizes: stopped before the raid, status says why"

# -- a replica its node does not export: the raid waits, the status names the attach
target_export t1 v3 "nqn.2016-06.io.diskengine:v3-a" "$P1" 8
v3=$(de volume create v3 --size 4M --replica "n1:nqn.2016-06.io.diskengine:v3-a" \
	--replica "n2:nqn.2016-06.io.diskengine:v3-b" --json | jq -r '.id // .volume_id')
m3=$(attach_volume v3 vm3)
once
raid_names | grep -qx "raid_$v3" && fail "a raid created with one member away"
state_is "$m3" ASSIGNED || fail "mapping $m3 is $(mapping_state "$m3"), wanted ASSIGNED"
last_error "$m3" | grep -q "v3-b" || fail "mapping $m3 status: '$(last_error "$m3")'"
# the other volumes are not held up by it
state_is "$m1" ATTACHED || fail "mapping $m1 left ATTACHED"
# the node exports it: served in one pass (the failed attach's backoff is this process's only)
target_export t2 v3 "nqn.2016-06.io.diskengine:v3-b" "$P2" 8
once
vhost_names | grep -qx "vhost$m3" || fail "vhost$m3 not created once the replica is there"
state_is "$m3" ATTACHED || fail "mapping $m3 is $(mapping_state "$m3")"
log "missing replica: waited, then served in one pass"

# -- teardown in one pass: vhost, raid, controllers, DETACHED, each after the one above answered
de volume detach v1 --host h1 >/dev/null
once
vhost_names | grep -qx "vhost$m1" && fail "teardown: vhost$m1 still there"
raid_names | grep -qx "raid_$v1" && fail "teardown: raid_$v1 still there"
host_rpc bdev_nvme_get_controllers |
	jq -e '[.[].ctrlrs[].trid.subnqn | select(test(":v1-"))] | length == 0' >/dev/null ||
	fail "teardown: v1's controllers still there"
state_is "$m1" DETACHED || fail "teardown: mapping $m1 is $(mapping_state "$m1")"
log "teardown: one pass"
