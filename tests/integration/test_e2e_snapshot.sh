#!/usr/bin/env bash
# A volume filled from a snapshot, end to end on spdk-sim, with the operator's procedure of
# docs/snapshots.md: bytes written through the source volume read back identically through the
# new one; clones that are not what the procedure makes (no superblock, another raid's) stop the
# volume and are left as they were; the CLI refuses a source with another block size or a
# larger size; and a volume that was ATTACHED, detached and attached again, is never wiped.
source "$(dirname "$0")/lib.sh"

two_nodes
daemon_start

# the source volume serves a VM; its raid is recorded
src=$(make_volume src)
msrc=$(attach_volume src vm1)
wait_until 60 "mapping $msrc ATTACHED" state_is "$msrc" ATTACHED
src_offset() { de volume show src --json | jq -r '.raid.data_offset // empty'; }
wait_until 30 "source raid recorded" test -n "$(src_offset)"
[ "$(src_offset)" = 2048 ] || fail "source data_offset $(src_offset)"

# the guest writes blocks 0 and 5 (512 bytes each), through raid_<src> of the host sim
pattern() { python3 -c "import sys; print(bytes((int(sys.argv[1]) + i) % 256 for i in range(512)).hex())" "$1"; }
X0=$(pattern 7)
X5=$(pattern 200)
ctl "$T/host.ctl" "{\"cmd\":\"blk_write\",\"bdev\":\"raid_$src\",\"lba\":0,\"data\":\"$X0\"}" >/dev/null
ctl "$T/host.ctl" "{\"cmd\":\"blk_write\",\"bdev\":\"raid_$src\",\"lba\":5,\"data\":\"$X5\"}" >/dev/null
blk() { ctl "$1" "{\"cmd\":\"blk_read\",\"bdev\":\"$2\",\"lba\":$3,\"blocks\":1}" | jq -r .result.data; }
landed() { [ "$(blk "$T/t1.ctl" lvs0/src $((2048 + 5)))" = "$X5" ]; }
wait_until 30 "the writes on node 1's replica" landed

# --- the operator's procedure (docs/snapshots.md) ---------------------------------------------
# node 1: snapshot its replica of the source, a clone of it, both exported
t1() { rpc "$T/t1.sock" "$@"; }
t2() { rpc "$T/t2.sock" "$@"; }
export_lvol() { # NODE LVOL NQN PORT
	rpc "$T/$1.sock" nvmf_create_subsystem "{\"nqn\":\"$3\",\"allow_any_host\":true}" >/dev/null
	rpc "$T/$1.sock" nvmf_subsystem_add_ns "{\"nqn\":\"$3\",\"namespace\":{\"bdev_name\":\"lvs0/$2\"}}" >/dev/null
	rpc "$T/$1.sock" nvmf_subsystem_add_listener "{\"nqn\":\"$3\",\"listen_address\":{\"trtype\":\"TCP\",\"adrfam\":\"IPv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"$4\"}}" >/dev/null
}
NQ=nqn.2016-06.io.diskengine
t1 bdev_lvol_snapshot '{"lvol_name":"lvs0/src","snapshot_name":"src-snap"}' >/dev/null
t1 bdev_lvol_clone '{"snapshot_name":"lvs0/src-snap","clone_name":"new-a"}' >/dev/null
export_lvol t1 new-a "$NQ:new-a" "$P1"
export_lvol t1 src-snap "$NQ:src-snap" "$P1"
# node 2: the snapshot's export attached, an esnap clone of it, exported
t2 bdev_nvme_attach_controller "{\"name\":\"srcsnap\",\"trtype\":\"TCP\",\"adrfam\":\"IPv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"$P1\",\"subnqn\":\"$NQ:src-snap\"}" >/dev/null
t2 bdev_lvol_clone_bdev '{"bdev":"srcsnapn1","lvs_name":"lvs0","clone_name":"new-b"}' >/dev/null
export_lvol t2 new-b "$NQ:new-b" "$P2"

# --- the CLI checks the source ------------------------------------------------------------------
reps=(--replica "n1:$NQ:new-a" --replica "n2:$NQ:new-b")
out=$(de volume create small --size 2M --snapshot src "${reps[@]}" 2>&1) && fail "a smaller volume was created"
grep -q "has 4194304 bytes, more than this volume's 2097152" <<<"$out" || fail "size refusal: $out"
out=$(de volume create bs4k --size 4M --block-size 4096 --snapshot src "${reps[@]}" 2>&1) &&
	fail "a volume with another block size was created"
grep -q "has 512-byte blocks, this volume 4096" <<<"$out" || fail "block size refusal: $out"

# --- the new volume ---------------------------------------------------------------------------
new=$(de volume create new --size 4M --snapshot src "${reps[@]}" --json | jq -r .id)
mnew=$(attach_volume new vm2)
wait_until 60 "mapping $mnew ATTACHED" state_is "$mnew" ATTACHED
[ "$(blk "$T/host.ctl" "raid_$new" 0)" = "$X0" ] || fail "block 0 differs through raid_$new"
[ "$(blk "$T/host.ctl" "raid_$new" 5)" = "$X5" ] || fail "block 5 differs through raid_$new"
[ "$(blk "$T/host.ctl" "raid_$new" 1)" = "$(printf '0%.0s' $(seq 1024))" ] || fail "block 1 not zero"
graph_has "^vhost vhost$mnew raid_$new$" || fail "vhost$mnew does not serve raid_$new: $(graph)"
jq -e --arg u "$(de volume show src --json | jq -r .raid.uuid)" \
	'.raid.data_offset == 2048 and .raid.uuid != $u and .source.volume_id == '"$src" \
	<<<"$(de volume show new --json)" >/dev/null || fail "new volume record: $(de volume show new --json)"
grep -q "volume $new: .*superblock area zeroed" "$T/daemon.log" || fail "no wipe logged"

# a volume that was ATTACHED holds a VM's data: detached and attached again, it is never wiped
wipes() { grep -c "volume $new: .*superblock area zeroed" "$T/daemon.log"; }
w=$(wipes)
ctl "$T/host.ctl" "{\"cmd\":\"blk_write\",\"bdev\":\"raid_$new\",\"lba\":5,\"data\":\"$X0\"}" >/dev/null
de volume detach new >/dev/null
wait_until 60 "mapping $mnew DETACHED" state_is "$mnew" DETACHED
mnew=$(attach_volume new vm2)
wait_until 60 "mapping $mnew ATTACHED again" state_is "$mnew" ATTACHED
[ "$(wipes)" = "$w" ] || fail "volume $new wiped again after it was ATTACHED"
[ "$(blk "$T/host.ctl" "raid_$new" 5)" = "$X0" ] || fail "the VM's write to raid_$new is gone"
[ "$(blk "$T/host.ctl" "raid_$new" 0)" = "$X0" ] || fail "block 0 of raid_$new changed"

# --- refusals change nothing --------------------------------------------------------------------
# sb_magic CTRLR: the first 8 bytes of block 0 of the controller's namespace, read through SPDK
sb_magic() {
	local buf
	buf=$(python3 -c 'import base64; s=bytearray(64); s[0]=2; s[4]=1; print(base64.urlsafe_b64encode(bytes(s)).decode())')
	host_rpc bdev_nvme_send_cmd "{\"name\":\"$1\",\"cmd_type\":\"io\",\"data_direction\":\"c2h\",\"cmdbuf\":\"$buf\",\"data_len\":512}" |
		jq -r .data | python3 -c 'import base64,sys; print(base64.urlsafe_b64decode(sys.stdin.read().strip())[:8].decode("latin1"))'
}
status_of() { de status --json | jq -r ".mappings[] | select(.mapping == $1) | .last_error // empty"; }
says() { grep -q "$2" <<<"$(status_of "$1")"; }
refused() { # VOLUME MAPPING NEEDLE
	wait_until 60 "volume $1 stopped" says "$2" "$3"
	[ "$(mapping_state "$2")" = ASSIGNED ] || fail "mapping $2 moved: $(mapping_state "$2")"
	raid_names | grep -qx "raid_$1" && fail "raid_$1 was created"
	vhost_names | grep -qx "vhost$2" && fail "vhost$2 was created"
	grep -q "volume $1: .*superblock area zeroed" "$T/daemon.log" && fail "volume $1 was wiped"
	true
}
# (a) replicas that are fresh lvols, not clones: no superblock
target_export t1 blank-a "$NQ:blank-a" "$P1" 8
target_export t2 blank-b "$NQ:blank-b" "$P2" 8
blank=$(de volume create blank --size 4M --snapshot src --replica "n1:$NQ:blank-a" \
	--replica "n2:$NQ:blank-b" --json | jq -r .id)
mblank=$(attach_volume blank vm3)
refused "$blank" "$mblank" "carries no raid superblock"

# (b) clones of another raid: a second volume's replica snapshotted
other=$(make_volume other)
mother=$(attach_volume other vm4)
wait_until 60 "mapping $mother ATTACHED" state_is "$mother" ATTACHED
t1 bdev_lvol_snapshot '{"lvol_name":"lvs0/other","snapshot_name":"other-snap"}' >/dev/null
t1 bdev_lvol_clone '{"snapshot_name":"lvs0/other-snap","clone_name":"wrong-a"}' >/dev/null
export_lvol t1 wrong-a "$NQ:wrong-a" "$P1"
export_lvol t1 other-snap "$NQ:other-snap" "$P1"
t2 bdev_nvme_attach_controller "{\"name\":\"othersnap\",\"trtype\":\"TCP\",\"adrfam\":\"IPv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"$P1\",\"subnqn\":\"$NQ:other-snap\"}" >/dev/null
t2 bdev_lvol_clone_bdev '{"bdev":"othersnapn1","lvs_name":"lvs0","clone_name":"wrong-b"}' >/dev/null
export_lvol t2 wrong-b "$NQ:wrong-b" "$P2"
wrong=$(de volume create wrong --size 4M --snapshot src --replica "n1:$NQ:wrong-a" \
	--replica "n2:$NQ:wrong-b" --json | jq -r .id)
mwrong=$(attach_volume wrong vm5)
refused "$wrong" "$mwrong" "carries the superblock of raid raid_$other"
checked=0
for c in $(graph | awk '/^ctrlr .*:wrong-/ {print $2}'); do
	[ "$(sb_magic "$c")" = SPDKRAID ] || fail "$c lost its superblock"
	checked=$((checked + 1))
done
[ "$checked" = 2 ] || fail "the wrong clones' controllers: $(graph)"
# the volumes that serve still do
state_is "$msrc" ATTACHED && state_is "$mnew" ATTACHED || fail "a serving mapping moved"
log "snapshot initialisation: bytes carried over, refusals left everything as it was"
