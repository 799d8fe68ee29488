#!/usr/bin/env bash
# diskengine device bind / rollback on a fake sysfs/procfs tree, with a stand-in for the kernel
# that acts on drivers_probe: every guard refuses (mounted, holder, no IOMMU, uio without the
# operator's allow, wrong or missing device, a replica or an SPDK controller on the drive, a
# concurrent bind), --dry-run prints the exact writes and changes nothing, bind and rollback
# write in order and wait for the result, and nothing outside the tree is written.
source "$(dirname "$0")/lib.sh"

R=$T/root
BDF=0000:5e:00.0
D=$R/sys/bus/pci/devices/$BDF
mkdir -p "$D/nvme/nvme0" "$R/sys/kernel/iommu_groups/12" "$R/proc"
for drv in nvme vfio-pci uio_pci_generic; do
	mkdir -p "$R/sys/bus/pci/drivers/$drv"
	: >"$R/sys/bus/pci/drivers/$drv/unbind"
done
echo 0x010802 >"$D/class"
: >"$D/driver_override"
: >"$R/sys/bus/pci/drivers_probe"
ln -s ../../../../bus/pci/drivers/nvme "$D/driver"
ln -s ../../../../kernel/iommu_groups/12 "$D/iommu_group"
: >"$R/proc/mounts"
driver() { basename "$(readlink "$D/driver")"; }

# the kernel: a BDF written to drivers_probe binds the override's driver, or nvme without one
kernel() {
	while sleep 0.02; do
		[ -s "$R/sys/bus/pci/drivers_probe" ] || continue
		local ov drv
		ov=$(tr -d '\n' <"$D/driver_override")
		drv=${ov:-nvme}
		ln -sfn "../../../../bus/pci/drivers/$drv" "$D/driver"
		if [ "$drv" = nvme ]; then mkdir -p "$D/nvme/nvme0"; else rm -rf "$D/nvme"; fi
		: >"$R/sys/bus/pci/drivers_probe"
	done
}
kernel &
PIDS+=($!)

de host add h1 >/dev/null
de device add h1 "$BDF" >/dev/null
# every file of the scratch directory outside the tree, but the test's own and the sims'
snapshot() {
	find "$T" -mindepth 1 -path "$R" -prune -o -printf '%p %T@ %s\n' |
		{ grep -v -e 'snap\.' -e '/db.sqlite' -e '/t1\.' -e '/host\.' -e '/vhost' || true; } | sort
}
snapshot >"$T/snap.before"
bind() { de device bind h1 "$BDF" --sysfs-root "$R" "$@"; }
rollback() { de device rollback h1 "$BDF" --sysfs-root "$R" --spdk-sock "$T/host.sock" "$@"; }
# refused CODE TEXT CMD...: exit CODE, TEXT on stderr, the driver unchanged
refused() {
	local code=$1 want=$2 before out rc=0
	shift 2
	before=$(driver)
	out=$("$@" 2>&1) || rc=$?
	[ "$rc" = "$code" ] || fail "'$*' exited $rc (wanted $code): $out"
	grep -q -- "$want" <<<"$out" || fail "'$*' said: $out (wanted '$want')"
	[ "$(driver)" = "$before" ] || fail "'$*' changed the driver to $(driver)"
}

refused 3 "not registered on host 'h1'" de device bind h1 0000:5f:00.0 --sysfs-root "$R"
echo "/dev/nvme0n1p1 /data xfs rw 0 0" >"$R/proc/mounts"
mkdir -p "$R/sys/block/nvme0n1"
ln -s "../../bus/pci/devices/$BDF/nvme/nvme0" "$R/sys/block/nvme0n1/device"
refused 4 "mounted filesystem (/dev/nvme0n1p1 on /data)" bind
: >"$R/proc/mounts"
mkdir -p "$R/sys/block/nvme0n1/holders/md0"
refused 4 "nvme0n1 is held by md0" bind
rmdir "$R/sys/block/nvme0n1/holders/md0"
mv "$R/sys/kernel/iommu_groups/12" "$R/sys/kernel/g12"
refused 4 "no IOMMU on this host: vfio-pci cannot take" bind
refused 4 "refused without --allow-unsafe-noiommu" bind --driver uio_pci_generic
mv "$R/sys/kernel/g12" "$R/sys/kernel/iommu_groups/12"

# two binds cannot race: the second finds the lock held
mkdir -p "$R/run/diskengine"
# -o: the lock stays with flock itself, so killing it releases the lock
flock -o "$R/run/diskengine/device.lock" sleep 30 >/dev/null 2>&1 &
locker=$!
PIDS+=($locker)
mkdir -p "$R/run/diskengine"
lock_held() { ! flock -n "$R/run/diskengine/device.lock" true; }
wait_until 10 "lock taken" lock_held
refused 4 "another device bind or rollback runs" bind
kill "$locker"
wait "$locker" 2>/dev/null || true

# --dry-run: the exact writes, in order, and nothing written
out=$(bind --dry-run)
want="write 'vfio-pci' to $D/driver_override
write '$BDF' to $D/driver/unbind
write '$BDF' to $R/sys/bus/pci/drivers_probe"
[ "$out" = "$want" ] || fail "dry run printed: $out"
[ "$(driver)" = nvme ] && [ ! -s "$D/driver_override" ] || fail "dry run changed something"

bind >/dev/null || fail "bind failed"
[ "$(driver)" = vfio-pci ] || fail "bound to $(driver)"
[ "$(cat "$R/var/lib/diskengine/drivers/$BDF")" = nvme ] || fail "original driver not recorded"
bind | grep -q "already bound to vfio-pci" || fail "a second bind is not a no-op"

# rollback refuses while a replica or an SPDK controller uses the drive
target_start t1
P1=$(free_port)
de node add n1 --transport tcp --address 127.0.0.1 --port "$P1" >/dev/null
de volume create v1 --size 4M --replica "local:h1:$BDF" --replica n1:nqn.2016-06.io.diskengine:v1-b >/dev/null
refused 4 "volume 'v1' has a replica on $BDF: detach and delete it first" rollback
de volume delete v1 >/dev/null
host_start
rpc "$T/host.sock" framework_start_init >/dev/null
ctl "$T/host.ctl" "{\"cmd\":\"pcie_add\",\"traddr\":\"$BDF\",\"num_blocks\":16384}" >/dev/null
rpc "$T/host.sock" bdev_nvme_attach_controller "{\"name\":\"de_pci_0000_5e_00_0\",\"trtype\":\"PCIe\",\"traddr\":\"$BDF\"}" >/dev/null
refused 4 "SPDK controller de_pci_0000_5e_00_0 uses $BDF: detach it first" rollback
rpc "$T/host.sock" bdev_nvme_detach_controller '{"name":"de_pci_0000_5e_00_0"}' >/dev/null

out=$(rollback --dry-run)
[ "$(head -1 <<<"$out")" = "write '\\n' to $D/driver_override" ] || fail "rollback dry run: $out"
[ "$(driver)" = vfio-pci ] || fail "rollback dry run changed the driver"
rollback | grep -q "back with the kernel nvme driver" || fail "rollback failed"
[ "$(driver)" = nvme ] && [ -d "$D/nvme/nvme0" ] || fail "not back with nvme"
[ ! -e "$R/var/lib/diskengine/drivers/$BDF" ] || fail "the record of the original driver stays"

# nothing outside the tree was written by bind or rollback (the database and the sims' files
# aside, which the test itself changed)
snapshot >"$T/snap.after"
diff "$T/snap.before" "$T/snap.after" || fail "files outside the tree changed"
log "ok"
