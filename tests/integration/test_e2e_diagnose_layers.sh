#!/usr/bin/env bash
# `diskengine diagnose --json` names the first broken layer, with the RPC method and the observed
# state as evidence, for each layer that can break below a healthy volume on live spdk-sim: a
# raid whose members' namespaces both went (SPDK frees a raid1 that loses its last member), one
# namespace removed under a connected controller (the raid degrades; the walk goes on below it
# and names the namespace), a disabled path, a controller reconnecting after its listener went,
# a mapping row behind SPDK, and a vhost controller serving another bdev. One volume per case,
# all built by one daemon that is then stopped, so nothing repairs what a case breaks. A volume
# on namespace 2 of a local drive is walked under its own namespace id.
source "$(dirname "$0")/lib.sh"

BDF=0000:5e:00.0
two_nodes
fake_pci_root "$BDF"
declare -A VOL MID VID
for v in v1 v2 v3 v4 v5 v6; do
	VOL[$v]=$(make_volume "$v")
done
# v7: namespace 2 of a local drive (its only namespace) and node 1's export
ctl "$T/host.ctl" "{\"cmd\":\"pcie_add\",\"traddr\":\"$BDF\",\"num_blocks\":16384,\"block_size\":512,\"nsid\":2}" >/dev/null
de device add h1 "$BDF" >/dev/null
target_export t1 v7 nqn.2016-06.io.diskengine:v7-a "$P1" 8
VOL[v7]=$(de volume create v7 --size 4M --replica "local:h1:$BDF:2" \
	--replica n1:nqn.2016-06.io.diskengine:v7-a --json | jq -r '.id // .volume_id')
for v in v1 v2 v3 v4 v5 v6 v7; do
	MID[$v]=$(attach_volume "$v" "vm-$v")
done
# a lost path is retried for minutes: case d sees the reconnects, never the loss timeout
daemon_start --sysfs-root "$T/root" --ctrlr-loss-timeout 120 --member-giveup 121 \
	--guest-io-timeout 122 --flap-window 121
for v in v1 v2 v3 v4 v5 v6 v7; do
	wait_until 60 "mapping ${MID[$v]} ATTACHED" state_is "${MID[$v]}" ATTACHED
done
daemon_stop
# a QEMU stand-in on every volume's controller, so the session layer is ok
for v in v1 v2 v3 v4 v5 v6 v7; do
	VID[$v]=$(ctl "$T/host.ctl" "{\"cmd\":\"vhost_session_open\",\"ctrlr\":\"vhost${MID[$v]}\"}" | jq -r .result.vid)
done

diag() { de diagnose -s "$T/host.sock" --vhost-dir "$T/vhost" --json "$1" || true; }
# broken VOLUME: the layers of the broken steps, in walk order, comma-separated
broken() { diag "$1" | jq -r '[.steps[] | select(.verdict == "broken") | .layer] | join(",")'; }
broken_is() { [ "$(broken "$1")" = "$2" ]; }
first_broken() { diag "$1" | jq -r '[.steps[] | select(.verdict == "broken")][0].layer // ""'; }
first_is() { [ "$(first_broken "$1")" = "$2" ]; }
# step VOLUME LAYER [N]: the Nth (default first) step of that layer
step() { diag "$1" | jq -c "[.steps[] | select(.layer == \"$2\")][${3:-0}]"; }
# check JSON JQ_FILTER WHAT: the filter holds on the JSON
check() { jq -e "$2" <<<"$1" >/dev/null || fail "$3: $1"; }
healthy() { diag "$1" | jq -e '.ok == true' >/dev/null; }
ctrlr_of() { step "$1" controller "$2" | jq -r .object; }
remove_ns() { rpc "$T/$1.sock" nvmf_subsystem_remove_ns "{\"nqn\":\"nqn.2016-06.io.diskengine:$2\",\"nsid\":1}" >/dev/null; }

for v in v1 v2 v3 v4 v5 v6 v7; do
	healthy "$v" || fail "$v not healthy before its case: $(diag "$v")"
done

# namespace 2 of the local drive: walked as <ctrlr>n2 from the replica's nsid, every layer ok
s=$(step v7 namespace 0)
check "$s" '.verdict == "ok" and (.object | test("^de_pci_0000_5e_00_0n2$")) and .evidence.nsid == 2' \
	"the local replica's namespace 2 not walked"
s=$(step v7 controller 0)
check "$s" '.verdict == "ok" and .object == "de_pci_0000_5e_00_0"' "the local drive's controller"
de diagnose -s "$T/host.sock" --vhost-dir "$T/vhost" v7 >/dev/null ||
	fail "diagnose of a volume on namespace 2 did not exit 0: $(diag v7)"

# a. both members' namespaces removed on the nodes: SPDK deletes both bdevs, the raid1 loses its
# last member and is freed; the vhost controller keeps serving nothing ("bdev": null)
remove_ns t1 v1-a
remove_ns t2 v1-b
wait_until 30 "raid_${VOL[v1]} freed" first_is v1 raid
s=$(step v1 raid)
check "$s" '.verdict == "broken" and .evidence.method == "bdev_raid_get_bdevs" and .evidence.found == "no"' \
	"the freed raid's evidence"
s=$(step v1 vhost)
check "$s" '.verdict == "unknown" and .evidence.bdev == null and .evidence.want == "'"raid_${VOL[v1]}"'"' \
	"the vhost controller that lost its raid"
s=$(step v1 namespace)
check "$s" '.verdict == "broken" and .evidence.method == "bdev_get_bdevs" and .evidence.error.code == -19' \
	"the raid's members below it"

# b. one namespace removed under a connected controller: the raid degrades, and the walk goes
# on below it to the member whose namespace bdev SPDK deleted on the namespace-change notice
remove_ns t2 v2-b
wait_until 30 "raid_${VOL[v2]} degraded, namespace named" broken_is v2 raid,namespace
s=$(step v2 raid)
check "$s" '.evidence.state == "online" and .evidence.num_base_bdevs_operational == 1' \
	"the degraded raid's evidence"
check "$(step v2 namespace 0)" '.verdict == "ok"' "the healthy member"
s=$(step v2 namespace 1)
check "$s" '.verdict == "broken" and .evidence.method == "bdev_get_bdevs" and .evidence.error.code == -19 and (.evidence.controller_paths | length > 0 and all(.state == "enabled"))' \
	"the missing namespace under an enabled controller"
[ "$(diag v2 | jq -r '.steps[-1].layer')" = namespace ] || fail "the walk went past the member: $(diag v2)"

# c. a path disabled by hand: "disabled", never retried
c3=$(ctrlr_of v3 1)
[ "$(host_rpc bdev_nvme_disable_controller "{\"name\":\"$c3\"}")" = true ] || fail "disable_controller"
wait_until 30 "the disabled controller named" first_is v3 controller
s=$(step v3 controller 1)
check "$s" '.verdict == "broken" and .evidence.method == "bdev_nvme_get_controllers" and .evidence.paths[0].state == "disabled"' \
	"the disabled path's evidence"
check "$(step v3 raid)" '.verdict == "ok"' "raid judged by a disabled path with no I/O"
# enabled again, it reconnects and every layer is ok
[ "$(host_rpc bdev_nvme_enable_controller "{\"name\":\"$c3\"}")" = true ] || fail "enable_controller"
wait_until 30 "v3 healthy after enable" healthy v3

# d. the listener goes: the controller resets and reconnects until its ctrlr-loss timeout
rpc "$T/t2.sock" nvmf_subsystem_remove_listener "{\"nqn\":\"nqn.2016-06.io.diskengine:v4-b\",\"listen_address\":{\"trtype\":\"TCP\",\"adrfam\":\"IPv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"$P2\"}}" >/dev/null
wait_until 30 "the reconnecting controller named" first_is v4 reset
s=$(step v4 reset)
check "$s" '.verdict == "broken" and .evidence.method == "bdev_nvme_get_controllers" and (.evidence.paths | any(.state == "resetting" or .state == "reconnect_is_delayed"))' \
	"the reset's evidence"
check "$(step v4 raid)" '.verdict == "ok"' "raid while a member reconnects"

# e. the database disagrees with SPDK: the mapping row set back by hand while every live layer
# is ok -- the mapping step is broken, the rest is still walked to the end
mapping_set_state "${MID[v5]}" INITIALISED
broken_is v5 mapping || fail "the mapping row behind SPDK not named: $(diag v5)"
check "$(step v5 mapping)" '.evidence.state == "INITIALISED"' "the mapping's evidence"
diag v5 | jq -e '.ok == false and ([.steps[] | select(.layer != "mapping") | .verdict] | all(. == "ok")) and .steps[-1].layer == "path"' >/dev/null ||
	fail "the live layers under a broken mapping row not walked: $(diag v5)"

# and a vhost controller serving another bdev than raid_<volume id>
host_rpc bdev_malloc_create '{"name":"Malloc9","num_blocks":8192,"block_size":512}' >/dev/null
ctl "$T/host.ctl" "{\"cmd\":\"vhost_session_close\",\"ctrlr\":\"vhost${MID[v6]}\",\"vid\":${VID[v6]}}" >/dev/null
host_rpc vhost_delete_controller "{\"ctrlr\":\"vhost${MID[v6]}\"}" >/dev/null
host_rpc vhost_create_blk_controller "{\"ctrlr\":\"vhost${MID[v6]}\",\"dev_name\":\"Malloc9\"}" >/dev/null
first_is v6 vhost || fail "vhost serving another bdev not named: $(diag v6)"
check "$(step v6 vhost)" '.verdict == "broken" and .evidence.method == "vhost_get_controllers" and .evidence.bdev == "Malloc9" and .evidence.want == "'"raid_${VOL[v6]}"'"' \
	"the vhost evidence naming both bdevs"

# every walk asked bdevs by name, also while a controller reset
[ "$(ctl "$T/host.ctl" '{"cmd":"tripwires"}' | jq -r .result.unfiltered_bdev_get_bdevs_during_reset)" = 0 ] ||
	fail "an unfiltered bdev_get_bdevs reached SPDK during a reset"
log "ok"
