#!/usr/bin/env bash
# diskengine host check on fake sysfs/procfs trees: ready, then every problem it must name with
# its fix and a non-zero exit; it reads the host's registered devices from the database; it
# changes nothing in the tree.
source "$(dirname "$0")/lib.sh"

R=$T/root
BDF=0000:5e:00.0
D=$R/sys/bus/pci/devices/$BDF
ready_tree() {
	rm -rf "$R"
	mkdir -p "$D" "$R/sys/bus/pci/drivers/vfio-pci" "$R/sys/bus/pci/drivers/nvme" \
		"$R/sys/bus/pci/drivers/uio_pci_generic" "$R/sys/kernel/iommu_groups/12" "$R/proc" \
		"$R/sys/module/vfio_pci" "$R/sys/devices/system/node/node0/hugepages/hugepages-2048kB"
	echo 0x010802 >"$D/class"
	echo 0 >"$D/numa_node"
	ln -s ../../../../bus/pci/drivers/vfio-pci "$D/driver"
	ln -s ../../../../kernel/iommu_groups/12 "$D/iommu_group"
	: >"$R/proc/mounts"
	echo 1024 >"$R/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"
	echo 1024 >"$R/sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages"
}
check() { de host check --sysfs-root "$R" "$@"; }
# not_ready TEXT [ARGS...]: exit 1 and a problem containing TEXT
not_ready() {
	local want=$1 out rc=0
	shift
	out=$(check --json "$@") || rc=$?
	[ "$rc" = 1 ] || fail "host check exited $rc, wanted 1 for: $want"
	jq -e '.ready == false' <<<"$out" >/dev/null || fail "ready with: $want"
	jq -r '.problems[] | "\(.problem) | \(.fix)"' <<<"$out" | grep -q -- "$want" ||
		fail "no problem '$want' in: $(jq -c .problems <<<"$out")"
}
rebind() { ln -sfn "../../../../bus/pci/drivers/$1" "$D/driver"; }

ready_tree
snapshot() { find "$T" -printf '%p %T@ %s %l\n' | sort; }
snapshot >"$T/before.txt"
out=$(check) || fail "a ready host is not ready: $out"
check --json >/dev/null
snapshot >"$T/after.txt"
# it only reads: nothing in the scratch directory (the tree and the database) changed
diff "$T/before.txt" "$T/after.txt" | grep -v -e before.txt -e after.txt | grep -q '^[<>]' &&
	fail "host check changed files: $(diff "$T/before.txt" "$T/after.txt")"
grep -q "^ready$" <<<"$out" || fail "no 'ready' line: $out"
grep -q "device:     $BDF driver vfio-pci numa 0 iommu_group 12" <<<"$out" || fail "device line: $out"
[ "$(check --json | jq -r '.devices[0].iommu_group')" = 12 ] || fail "json devices"

rebind nvme
not_ready "bound to the kernel nvme driver"
rebind vfio-pci
mkdir -p "$R/sys/block/nvme0n1/nvme0n1p1/holders/dm-3" "$D/nvme/nvme0"
ln -s "../../bus/pci/devices/$BDF/nvme/nvme0" "$R/sys/block/nvme0n1/device"
not_ready "nvme0n1p1 is held by dm-3"
rm -r "$R/sys/block/nvme0n1/nvme0n1p1/holders/dm-3"
echo "/dev/nvme0n1p1 /data xfs rw 0 0" >"$R/proc/mounts"
not_ready "mounted: /dev/nvme0n1p1 on /data"
: >"$R/proc/mounts"
rebind uio_pci_generic
rm "$D/iommu_group"
rm -r "$R/sys/kernel/iommu_groups/12"
not_ready "uio without an IOMMU"
not_ready "allow-unsafe-noiommu"
ready_tree
echo 0 >"$R/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"
not_ready "no hugepages reserved"
ready_tree
rm -r "$R/sys/module/vfio_pci"
not_ready "modprobe vfio-pci"
ready_tree
not_ready "no NVMe function at this address" --device 0000:99:00.0

# --host: the devices the database registers for the host
de host add h1 >/dev/null
de device add h1 0000:5f:00.0 >/dev/null
not_ready "device 0000:5f:00.0: no NVMe function" --host h1
de device remove h1 0000:5f:00.0 >/dev/null
de device add h1 "$BDF" >/dev/null
check --host h1 >/dev/null || fail "host h1 with its drive prepared is not ready"

log "ok"
