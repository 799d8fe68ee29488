#!/usr/bin/env bash
# A volume mirrored over a local PCIe drive of the host and a storage node's export, placed from
# the CLI: the drive is attached by its BDF (trtype PCIe, controller named from the BDF, never
# multipath), the raid of the two replicas serves the VM and the mapping reaches ATTACHED; the
# detach tears it down again, the PCIe controller included.
source "$(dirname "$0")/lib.sh"

BDF=0000:5e:00.0
CTRLR=de_pci_0000_5e_00_0

two_nodes
fake_pci_root "$BDF"
# the drive in the host SPDK: 8 MiB like the storage nodes' lvols
ctl "$T/host.ctl" "{\"cmd\":\"pcie_add\",\"traddr\":\"$BDF\",\"num_blocks\":16384,\"block_size\":512}" >/dev/null
de device add h1 "$BDF" >/dev/null
target_export t1 v1 nqn.2016-06.io.diskengine:v1-a "$P1" 8

# placement is checked by the CLI: an unknown drive, one namespace twice, another host
out=$(de volume create bad --size 4M --replica "local:h1:0000:5f:00.0" \
	--replica n1:nqn.2016-06.io.diskengine:v1-a 2>&1) && fail "unregistered drive accepted"
grep -q "not registered on host 'h1'" <<<"$out" || fail "unregistered drive: $out"
out=$(de volume create bad --size 4M --replica "local:h1:$BDF" --replica "local:h1:$BDF:1" 2>&1) &&
	fail "one namespace twice accepted"
grep -q "both replicas are namespace 1" <<<"$out" || fail "namespace twice: $out"
out=$(de volume create bad --size 4M --replica "local:h1:$BDF:0" \
	--replica n1:nqn.2016-06.io.diskengine:v1-a 2>&1) && fail "namespace 0 accepted"

vol=$(de volume create v1 --size 4M --replica "local:h1:$BDF" \
	--replica n1:nqn.2016-06.io.diskengine:v1-a --json | jq -r '.id // .volume_id')
[ "$(de volume show v1 --json | jq -r '.replicas[0] | "\(.transport) \(.host) \(.bdf) \(.nsid)"')" = \
	"pcie h1 $BDF 1" ] || fail "local replica shown as $(de volume show v1 --json | jq -c '.replicas[0]')"
out=$(de volume create v2 --size 4M --replica "local:h1:$BDF" \
	--replica n2:nqn.2016-06.io.diskengine:v2-b 2>&1) && fail "a drive namespace used twice"
grep -q "already holds volume 'v1'" <<<"$out" || fail "namespace reuse: $out"
out=$(de device remove h1 "$BDF" 2>&1) && fail "device holding a replica removed"
grep -q "holds a replica of volume 'v1'" <<<"$out" || fail "device remove: $out"
de host add h2 >/dev/null
out=$(de volume attach v1 --host h2 --vm vm9 2>&1) && fail "local replica mapped on another host"
grep -q "can be mapped only on 'h1'" <<<"$out" || fail "attach on h2: $out"

# the kernel still holds a partition of the drive (device-mapper): reported, not attached
mkdir -p "$T/root/sys/block/nvme0n1/nvme0n1p1/holders/dm-0" "$T/root/sys/bus/pci/devices/$BDF/nvme"
mkdir -p "$T/root/sys/bus/pci/devices/$BDF/nvme/nvme0"
ln -s "../../bus/pci/devices/$BDF/nvme/nvme0" "$T/root/sys/block/nvme0n1/device"
mid=$(attach_volume v1 vm1)
daemon_start --sysfs-root "$T/root"
status_of() { de status --json | jq -r ".mappings[] | select(.mapping == $mid) | .last_error"; }
status_has() { status_of | grep -q -- "$1"; }
wait_until 30 "status says the kernel holds the drive" status_has "nvme0n1p1 is held by dm-0"
[ -z "$(host_rpc bdev_nvme_get_controllers | jq -r ".[] | select(.name == \"$CTRLR\") | .name")" ] ||
	fail "a drive the kernel holds was attached"
rm -r "$T/root/sys/block/nvme0n1/nvme0n1p1/holders/dm-0"
# host facts are read again every minute, and at once when the host's desired state changes
de device add h1 0000:60:00.0 >/dev/null
wait_until 30 "mapping $mid ATTACHED" state_is "$mid" ATTACHED

pcie_ctrlr() { host_rpc bdev_nvme_get_controllers | jq -c ".[] | select(.name == \"$CTRLR\")"; }
c=$(pcie_ctrlr)
[ -n "$c" ] || fail "no controller $CTRLR: $(ctrlr_names)"
[ "$(jq -r '.ctrlrs | length' <<<"$c")" = 1 ] || fail "PCIe controller has paths: $c"
[ "$(jq -r '.ctrlrs[0].trid.trtype' <<<"$c")" = PCIe ] || fail "not PCIe: $c"
[ "$(jq -r '.ctrlrs[0].trid.traddr' <<<"$c")" = "$BDF" ] || fail "traddr: $c"
graph_has "^raid raid_$vol online .*${CTRLR}n1" || fail "raid without the local drive: $(graph)"
graph_has "^vhost vhost$mid raid_$vol$" || fail "vhost$mid does not serve raid_$vol: $(graph)"

# hot removal: SPDK deletes the controller and its bdev, the raid goes on with the remote
# replica; the local replica is recorded out of sync and the status says why
operational() { host_rpc bdev_raid_get_bdevs '{"category":"all"}' | jq -r ".[] | select(.name == \"raid_$vol\") | .num_base_bdevs_operational"; }
operational_is() { [ "$(operational)" = "$1" ]; }
local_replica() { de volume show v1 --json | jq -r ".replicas[] | select(.transport == \"pcie\") | .$1"; }
local_is() { [ "$(local_replica "$1")" = "$2" ]; }
last_error() { de status --json | jq -r ".mappings[] | select(.mapping == $mid) | .last_error"; }
error_has() { last_error | grep -q -- "$1"; }
attach_tries() { ctl "$T/host.ctl" '{"cmd":"stats"}' | jq -r '.result.bdev_nvme_attach_controller // 0'; }
tries_ge() { [ "$(attach_tries)" -ge "$1" ]; }
ctl "$T/host.ctl" "{\"cmd\":\"pcie_remove\",\"traddr\":\"$BDF\"}" >/dev/null
wait_until 30 "raid_$vol degraded to the remote replica" operational_is 1
wait_until 30 "local replica recorded out of sync" local_is in_sync false
wait_until 30 "status says the local drive is gone" error_has "the local drive is gone"
graph_has "^vhost vhost$mid raid_$vol$" || fail "vhost$mid lost its raid: $(graph)"
state_is "$mid" ATTACHED || fail "mapping left ATTACHED: $(mapping_state "$mid")"
# the missing drive is tried on the object's backoff, not in a loop, and said once
tries=$(attach_tries)
log "drive removed"; wait_until 60 "two more attach tries" tries_ge $((tries + 2))
said=$(grep -c "warn .*$CTRLR" "$T/daemon.log" || true)
[ "$said" -le 2 ] || fail "the missing drive was logged $said times"

# re-insertion: the drive is attached by its BDF again and SPDK rebuilds it
log "re-insert"; ctl "$T/host.ctl" "{\"cmd\":\"pcie_add\",\"traddr\":\"$BDF\",\"num_blocks\":16384,\"block_size\":512}" >/dev/null
wait_until 60 "raid_$vol whole again" operational_is 2
wait_until 30 "local replica in sync again" local_is in_sync true
[ -n "$(pcie_ctrlr)" ] || fail "drive back under another name: $(ctrlr_names)"
error_clear() { [ "$(last_error)" = null ]; }
wait_until 30 "status clear" error_clear

de volume detach v1 >/dev/null
wait_until 30 "mapping $mid DETACHED" state_is "$mid" DETACHED
no_pcie_ctrlr() { [ -z "$(pcie_ctrlr)" ]; }
wait_until 30 "controller $CTRLR detached" no_pcie_ctrlr
daemon_stop
log "ok"
