#!/usr/bin/env bash
# Objects that are not what diskengine wants: an existing raid_<volume> over other bdevs is a
# conflict (reported on the mapping, nothing deleted, nothing advanced); bdevs, raids, vhost and
# NVMe controllers outside diskengine's names survive every pass, and so do an operator's objects
# that merely look like diskengine's (vhost0 on a malloc bdev, raid_999 and the vhost999 serving
# it, a raid_998 held by an NVMe-oF namespace): a name is no proof. Objects diskengine can show it
# created (a raid with the UUID it derives, the vhost serving it, controllers named after their
# NQN) that nothing claims any more are removed after the grace period, vhost first.
source "$(dirname "$0")/lib.sh"

two_nodes
vol=$(make_volume v1)
vol2=$(make_volume v2)
h() { host_rpc "$@" >/dev/null; }
# the host sim must be initialised for runtime methods: do what the daemon would
h framework_start_init
for b in Foreign0 Foreign1 Clash0 Clash1 Orph0 Orph1 Orph2 Held0 Held1; do
	h bdev_malloc_create "{\"name\":\"$b\",\"num_blocks\":16384,\"block_size\":512}"
done
h bdev_raid_create '{"name":"myraid","raid_level":"raid1","strip_size_kb":0,"base_bdevs":["Foreign0","Foreign1"]}'
h vhost_create_blk_controller '{"ctrlr":"vm-disk","dev_name":"myraid"}'
h bdev_raid_create "{\"name\":\"raid_$vol\",\"raid_level\":\"raid1\",\"strip_size_kb\":0,\"base_bdevs\":[\"Clash0\",\"Clash1\"]}"
h bdev_raid_create '{"name":"raid_999","raid_level":"raid1","strip_size_kb":0,"base_bdevs":["Orph0","Orph1"]}'
h vhost_create_blk_controller '{"ctrlr":"vhost999","dev_name":"raid_999"}'
h vhost_create_blk_controller '{"ctrlr":"vhost0","dev_name":"Orph2"}'
# raid_998 exported by an NVMe-oF namespace: claimed by something other than diskengine
h bdev_raid_create '{"name":"raid_998","raid_level":"raid1","strip_size_kb":0,"base_bdevs":["Held0","Held1"]}'
h nvmf_create_transport '{"trtype":"TCP"}'
h nvmf_create_subsystem '{"nqn":"nqn.2016-06.io.spdk:held","allow_any_host":true}'
h nvmf_subsystem_add_ns '{"nqn":"nqn.2016-06.io.spdk:held","namespace":{"bdev_name":"raid_998"}}'
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

# v2's mapping vanishes from the database behind the daemon's back (a crash between a database
# change and the teardown): its vhost, raid and controllers are orphans diskengine made
daemon_stop
sqlite3 "$DISKENGINE_DB" "DELETE FROM mappings WHERE id = $m2"
daemon_start --orphan-grace 1
orphans_gone() {
	! grep -qx "raid_$vol2" <<<"$(raid_names)" && ! grep -qx "vhost$m2" <<<"$(vhost_names)" &&
		! graph | grep -q "^ctrlr .*v2-[ab]"
}
wait_until 20 "diskengine's own orphans removed" orphans_gone
# the orphan's vhost went before its raid
lv=$(grep -n -m1 "delete vhost$m2" "$T/daemon.log" | cut -d: -f1)
lr=$(grep -n -m1 "delete raid_$vol2" "$T/daemon.log" | cut -d: -f1)
[ -n "$lv" ] && [ -n "$lr" ] && [ "$lv" -lt "$lr" ] || fail "orphan teardown order: vhost@$lv raid@$lr"
# an operator's look-alikes survive, well past the grace period (the orphans above went after it)
for r in raid_999 raid_998; do grep -qx "$r" <<<"$(raid_names)" || fail "operator's $r deleted"; done
for v in vhost999 vhost0 vm-disk; do grep -qx "$v" <<<"$(vhost_names)" || fail "operator's $v deleted"; done
! grep -q "delete raid_99[89]\|delete vhost999\|delete vhost0$" "$T/daemon.log" ||
	fail "an operator's object was deleted: $(grep "delete" "$T/daemon.log")"
graph_has "^ctrlr Nvme7 " || fail "foreign controller touched: $(graph)"
daemon_stop
log "ok"
