#!/usr/bin/env bash
# Objects that are not what diskengine wants: an existing raid_<volume> over other bdevs is a
# conflict (reported on the mapping, nothing deleted, nothing advanced); bdevs, raids, vhost and
# NVMe controllers outside diskengine's names survive every pass; objects with diskengine's names
# that nothing claims (raid_999, vhost999) are removed after the grace period, vhost first.
source "$(dirname "$0")/lib.sh"

two_nodes
vol=$(make_volume v1)
vol2=$(make_volume v2)
h() { host_rpc "$@" >/dev/null; }
# the host sim must be initialised for runtime methods: do what the daemon would
h framework_start_init
for b in Foreign0 Foreign1 Clash0 Clash1 Orph0 Orph1; do
	h bdev_malloc_create "{\"name\":\"$b\",\"num_blocks\":16384,\"block_size\":512}"
done
h bdev_raid_create '{"name":"myraid","raid_level":"raid1","strip_size_kb":0,"base_bdevs":["Foreign0","Foreign1"]}'
h vhost_create_blk_controller '{"ctrlr":"vm-disk","dev_name":"myraid"}'
h bdev_raid_create "{\"name\":\"raid_$vol\",\"raid_level\":\"raid1\",\"strip_size_kb\":0,\"base_bdevs\":[\"Clash0\",\"Clash1\"]}"
h bdev_raid_create '{"name":"raid_999","raid_level":"raid1","strip_size_kb":0,"base_bdevs":["Orph0","Orph1"]}'
h vhost_create_blk_controller '{"ctrlr":"vhost999","dev_name":"raid_999"}'
target_export t1 foreign nqn.2016-06.io.spdk:foreign "$P1" 8
h bdev_nvme_attach_controller "{\"name\":\"Nvme7\",\"trtype\":\"tcp\",\"adrfam\":\"ipv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"$P1\",\"subnqn\":\"nqn.2016-06.io.spdk:foreign\"}"

m1=$(attach_volume v1 vm1)
m2=$(attach_volume v2 vm2)
daemon_start --orphan-grace 1
wait_until 10 "mapping $m2 ATTACHED" state_is "$m2" ATTACHED
conflict_recorded() {
	grep -q conflict <<<"$(de status --json | jq -r ".mappings[] | select(.mapping == $m1) | .last_error")"
}
wait_until 10 "conflict recorded on mapping $m1" conflict_recorded
gone() { ! grep -qx raid_999 <<<"$(raid_names)" && ! grep -qx vhost999 <<<"$(vhost_names)"; }
wait_until 10 "orphans raid_999 and vhost999 removed" gone
sleep 1
[ "$(mapping_state "$m1")" = ASSIGNED ] || fail "conflicting mapping advanced: $(mapping_state "$m1")"
graph_has "^raid raid_$vol .* Clash0,Clash1$" || fail "conflicting raid changed: $(graph)"
graph_has "^raid myraid .* Foreign0,Foreign1$" || fail "foreign raid touched: $(graph)"
graph_has "^vhost vm-disk myraid$" || fail "foreign vhost touched: $(graph)"
graph_has "^ctrlr Nvme7 " || fail "foreign controller touched: $(graph)"
for b in Foreign0 Foreign1 Clash0 Clash1; do
	host_rpc bdev_get_bdevs "{\"name\":\"$b\"}" >/dev/null || fail "foreign bdev $b gone"
done
grep -q "conflict: raid raid_$vol exists with base Clash" "$T/daemon.log" ||
	grep -q "conflict: .*raid_$vol" "$T/daemon.log" || fail "conflict not logged with the raid's name"
# the orphan's vhost went before its raid
lv=$(grep -n -m1 "delete vhost999" "$T/daemon.log" | cut -d: -f1)
lr=$(grep -n -m1 "delete raid_999" "$T/daemon.log" | cut -d: -f1)
[ -n "$lv" ] && [ -n "$lr" ] && [ "$lv" -lt "$lr" ] || fail "orphan teardown order: vhost@$lv raid@$lr"
daemon_stop
log "ok"
