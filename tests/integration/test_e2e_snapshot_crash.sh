#!/usr/bin/env bash
# Initialisation from a snapshot survives a kill -9 of the daemon at every SPDK call it makes:
# the attaches, the reads of the clones' superblocks, the Write Zeroes, the raid's create and
# the vhost's. For each point a fresh volume is made of fresh clones of one snapshot of the
# source; the daemon is killed while the call is held by the sim (which then executes it for a
# client that is gone), restarted, and must finish exactly once: one raid with the source's
# bytes and data_offset, one vhost, ATTACHED, and no wipe after the raid was created.
source "$(dirname "$0")/lib.sh"

two_nodes
daemon_start
src=$(make_volume src)
msrc=$(attach_volume src vm0)
wait_until 60 "mapping $msrc ATTACHED" state_is "$msrc" ATTACHED
recorded() { [ -n "$(de volume show src --json | jq -r '.raid.uuid // empty')" ]; }
wait_until 30 "source raid recorded" recorded
X=$(python3 -c "print(bytes((3 * i + 1) % 256 for i in range(512)).hex())")
ctl "$T/host.ctl" "{\"cmd\":\"blk_write\",\"bdev\":\"raid_$src\",\"lba\":9,\"data\":\"$X\"}" >/dev/null
blk() { ctl "$1" "{\"cmd\":\"blk_read\",\"bdev\":\"$2\",\"lba\":$3,\"blocks\":1}" | jq -r .result.data; }
landed() { [ "$(blk "$T/t1.ctl" lvs0/src $((2048 + 9)))" = "$X" ]; }
wait_until 30 "the write on node 1's replica" landed
daemon_stop

# the snapshot, exported so that node 2 can make esnap clones of it
NQ=nqn.2016-06.io.diskengine
export_lvol() { # NODE LVOL NQN PORT
	rpc "$T/$1.sock" nvmf_create_subsystem "{\"nqn\":\"$3\",\"allow_any_host\":true}" >/dev/null
	rpc "$T/$1.sock" nvmf_subsystem_add_ns "{\"nqn\":\"$3\",\"namespace\":{\"bdev_name\":\"lvs0/$2\"}}" >/dev/null
	rpc "$T/$1.sock" nvmf_subsystem_add_listener "{\"nqn\":\"$3\",\"listen_address\":{\"trtype\":\"TCP\",\"adrfam\":\"IPv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"$4\"}}" >/dev/null
}
rpc "$T/t1.sock" bdev_lvol_snapshot '{"lvol_name":"lvs0/src","snapshot_name":"src-snap"}' >/dev/null
export_lvol t1 src-snap "$NQ:src-snap" "$P1"
rpc "$T/t2.sock" bdev_nvme_attach_controller "{\"name\":\"srcsnap\",\"trtype\":\"TCP\",\"adrfam\":\"IPv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"$P1\",\"subnqn\":\"$NQ:src-snap\"}" >/dev/null

# clones NAME: a clone of the snapshot on node 1, an esnap clone on node 2, both exported
clones() {
	rpc "$T/t1.sock" bdev_lvol_clone "{\"snapshot_name\":\"lvs0/src-snap\",\"clone_name\":\"$1-a\"}" >/dev/null
	export_lvol t1 "$1-a" "$NQ:$1-a" "$P1"
	rpc "$T/t2.sock" bdev_lvol_clone_bdev "{\"bdev\":\"srcsnapn1\",\"lvs_name\":\"lvs0\",\"clone_name\":\"$1-b\"}" >/dev/null
	export_lvol t2 "$1-b" "$NQ:$1-b" "$P2"
}

HOLD_MS=1500
points=0
# crash_at METHOD J: a new volume from the snapshot; kill -9 the daemon while its J-th call of
# METHOD is held; restart; require the volume served once with the source's bytes.
crash_at() {
	local method=$1 j=$2 name="c$points" vid mid
	clones "$name"
	vid=$(de volume create "$name" --size 4M --snapshot src --replica "n1:$NQ:$name-a" \
		--replica "n2:$NQ:$name-b" --json | jq -r .id)
	ctl "$T/host.ctl" '{"cmd":"clear"}' >/dev/null
	ctl "$T/host.ctl" '{"cmd":"stats_reset"}' >/dev/null
	if [ "$j" -gt 1 ]; then
		ctl "$T/host.ctl" "{\"cmd\":\"delay\",\"method\":\"$method\",\"ms\":0,\"count\":$((j - 1))}" >/dev/null
	fi
	ctl "$T/host.ctl" "{\"cmd\":\"delay\",\"method\":\"$method\",\"ms\":$HOLD_MS,\"count\":1}" >/dev/null
	mid=$(attach_volume "$name" "vm$vid")
	daemon_start
	arrived() { [ "$(ctl "$T/host.ctl" '{"cmd":"stats"}' | jq -r ".result.$method // 0")" -ge "$j" ]; }
	wait_until 30 "$method#$j of volume $vid sent" arrived
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || true
	# the held call lands for a client that is gone
	sleep $((HOLD_MS / 1000 + 1))
	ctl "$T/host.ctl" '{"cmd":"clear"}' >/dev/null
	log "point $method#$j: volume $vid, mapping $mid: daemon killed, restarting"
	daemon_start
	wait_until 60 "mapping $mid ATTACHED after $method#$j" state_is "$mid" ATTACHED
	[ "$(blk "$T/host.ctl" "raid_$vid" 9)" = "$X" ] || fail "$method#$j: raid_$vid lacks the source's bytes"
	[ "$(raid_names | grep -cx "raid_$vid")" = 1 ] || fail "$method#$j: raids $(raid_names | tr '\n' ' ')"
	[ "$(vhost_names | grep -cx "vhost$mid")" = 1 ] || fail "$method#$j: vhosts $(vhost_names | tr '\n' ' ')"
	jq -e '.raid.data_offset == 2048' <<<"$(de volume show "$name" --json)" >/dev/null ||
		fail "$method#$j: raid of $name not recorded"
	# never a wipe after the raid was created
	awk -v v="volume $vid:" 'index($0, v) && /create raid_/ {c = 1} index($0, v) && c && /superblock area zeroed/ {bad = 1} END {exit bad}' \
		"$T/daemon.log" || fail "$method#$j: volume $vid wiped after its raid was created"
	daemon_stop
	points=$((points + 1))
}

for p in bdev_nvme_attach_controller:1 bdev_nvme_attach_controller:2 bdev_nvme_send_cmd:1 \
	bdev_nvme_send_cmd:2 bdev_nvme_send_cmd:3 bdev_nvme_send_cmd:4 bdev_raid_create:1 \
	vhost_create_blk_controller:1; do
	crash_at "${p%%:*}" "${p##*:}"
done
[ "$points" = 8 ] || fail "ran $points crash points"
log "snapshot initialisation: resumed and finished once after a kill -9 at each of $points calls"
