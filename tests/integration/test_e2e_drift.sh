#!/usr/bin/env bash
# `diskengine drift` on live spdk-sim: the saved config, SPDK and the database in agreement (exit
# 0), then each kind of difference made on purpose and classified as docs/drift.md says: a saved
# option that differs and a saved object SPDK no longer has (replay artefacts), a missing vhost
# controller the database says is ATTACHED and a degraded raid (missing), a volume detach
# requested and a mapping the database forgot (orphans, in teardown order, with when), a vhost
# under the name the database wants serving another bdev (conflict), an operator's vhost0
# (foreign), a mapping record behind SPDK (missing: the next pass records it), and a saved
# config that is absent or not one. drift never changes SPDK: the graph
# is the same before and after. Exit codes: 0 / 1 / 3 unknown host / 5 SPDK away.
source "$(dirname "$0")/lib.sh"

two_nodes
vol=$(make_volume v1)
vol2=$(make_volume v2)
m1=$(attach_volume v1 vm1)
m2=$(attach_volume v2 vm2)
daemon_start
wait_until 30 "mapping $m1 ATTACHED" state_is "$m1" ATTACHED
wait_until 30 "mapping $m2 ATTACHED" state_is "$m2" ATTACHED
daemon_stop # a clean stop saves the config
SAVED=$T/spdk-config.json
[ -s "$SAVED" ] || fail "the daemon saved no config"

drift() { de drift -s "$T/host.sock" --host h1 --saved-config "$SAVED" "$@"; }
dj() { drift --json "$@" || true; }
# item CLASS KIND OBJECT: the difference, "" when drift does not report it so
item() { dj | jq -c --arg c "$1" --arg k "$2" --arg o "$3" \
	'.differences[] | select(.class == $c and .kind == $k and .object == $o)'; }
count() { dj | jq -r ".counts.$1"; }
total() { dj | jq -r '.differences | length'; }

# in agreement: exit 0, nothing reported, in text and JSON
out=$(drift) || fail "drift exited $? with everything in agreement: $out"
grep -q "no drift" <<<"$out" || fail "no 'no drift' line: $out"
dj | jq -e '.ok == true and (.differences | length) == 0 and .host == "h1"' >/dev/null ||
	fail "in agreement, but: $(dj)"

# a saved pre-init option another than live: a replay artefact that says what a restart does
cp "$SAVED" "$T/good.json"
jq '(.subsystems[] | select(.subsystem == "bdev") | .config[] |
	select(.method == "bdev_nvme_set_options") | .params.transport_retry_count) |= . + 1' \
	"$T/good.json" >"$SAVED"
it=$(item replay_artefact option bdev_nvme_set_options)
[ -n "$it" ] || fail "changed saved option not reported: $(dj)"
jq -e '(.detail | test("transport_retry_count")) and (.next | test("restart replays the saved"))
	and (.evidence.saved | length) == 1 and (.evidence.live_config | length) == 1' <<<"$it" \
	>/dev/null || fail "option artefact without field, effect or evidence: $it"
[ "$(total)" = 1 ] || fail "one changed option, other differences too: $(dj)"
rc=0
drift >/dev/null || rc=$?
[ $rc = 1 ] || fail "drift exited $rc with a difference, not 1"
cp "$T/good.json" "$SAVED"

# no saved config, and one that is not a config
it=$(de drift -s "$T/host.sock" --host h1 --saved-config "$T/none.json" --json |
	jq -c '.differences[] | select(.kind == "config")') || true
jq -e '.class == "replay_artefact" and (.detail | test("no saved config"))' <<<"$it" >/dev/null ||
	fail "absent saved config not reported: $it"
echo '{"subsystems": 7}' >"$T/bad.json"
it=$(de drift -s "$T/host.sock" --host h1 --saved-config "$T/bad.json" --json |
	jq -c '.differences[] | select(.kind == "config")') || true
jq -e '.class == "conflict" and (.detail | test("not an SPDK config"))' <<<"$it" >/dev/null ||
	fail "malformed saved config not a conflict: $it"

# the database says ATTACHED, SPDK has no vhost: missing, created by the next pass, and the saved
# config shows it had it
host_rpc vhost_delete_controller "{\"ctrlr\":\"vhost$m1\"}" >/dev/null
it=$(item missing vhost "vhost$m1")
jq -e --argjson m "$m1" '.mapping == $m and (.next | test("next pass creates it"))
	and (.evidence.live == null) and (.evidence.saved | length) == 1
	and (.evidence.database.mappings[0].state == "ATTACHED")' <<<"$it" >/dev/null ||
	fail "missing vhost not classified: $it"

# a raid member gone (SPDK removed it, the controller is still there): missing member
b1=$(host_rpc bdev_raid_get_bdevs '{"category":"all"}' |
	jq -r ".[] | select(.name == \"raid_$vol\") | .base_bdevs_list[0].name")
host_rpc bdev_raid_remove_base_bdev "{\"name\":\"$b1\"}" >/dev/null
member_missing() { [ -n "$(item missing member "$b1")" ]; }
wait_until 30 "raid_$vol degraded" member_missing
it=$(item missing member "$b1")
jq -e --arg r "raid_$vol" '(.detail | test($r)) and (.evidence.live.claimed == false)' <<<"$it" \
	>/dev/null || fail "degraded raid's member not missing: $it $(dj)"

# under the name the database wants, a vhost serving another bdev: a conflict, never touched
host_rpc bdev_malloc_create '{"name":"Other0","num_blocks":8192,"block_size":512}' >/dev/null
host_rpc vhost_create_blk_controller "{\"ctrlr\":\"vhost$m1\",\"dev_name\":\"Other0\"}" >/dev/null
it=$(item conflict vhost "vhost$m1")
jq -e '(.detail | test("Other0")) and (.next | test("never touches"))
	and .evidence.live.bdev == "Other0"' <<<"$it" >/dev/null || fail "vhost conflict: $it $(dj)"
[ -z "$(item missing vhost "vhost$m1")" ] || fail "a conflicting vhost also reported missing"
host_rpc vhost_delete_controller "{\"ctrlr\":\"vhost$m1\"}" >/dev/null

# an operator's vhost0: named like ours, nothing proves it is: foreign
host_rpc vhost_create_blk_controller '{"ctrlr":"vhost0","dev_name":"Other0"}' >/dev/null
it=$(item foreign vhost vhost0)
jq -e '.next | test("never touched")' <<<"$it" >/dev/null || fail "vhost0 not foreign: $(dj)"

# v2 detach requested: its objects are orphans the next pass removes, named by the request
de volume detach v2 --host h1 >/dev/null
detach_orphan() {
	item orphan "$1" "$2" | jq -e '(.detail | test("detach requested")) and
		(.next | test("next pass removes it"))' >/dev/null || fail "$2 of a detach-requested volume: $(dj)"
}
detach_orphan vhost "vhost$m2"
detach_orphan raid "raid_$vol2"
[ "$(dj | jq '[.differences[] | select(.class == "orphan" and .kind == "controller")] | length')" = 2 ] ||
	fail "v2's two controllers not orphans: $(dj)"

# the database forgets mapping m2 (DETACHED behind the daemon's back): orphans by proof, removed
# after the grace period, in teardown order
mapping_set_state "$m2" DETACHED
it=$(item orphan vhost "vhost$m2")
jq -e '(.next | test("orphan-grace")) and (.evidence.database == null)' <<<"$it" >/dev/null ||
	fail "forgotten vhost: $it"
# drift reads the daemon's own config file: socket, host, saved config and orphan grace
cat >"$T/diskengine.conf" <<EOF
spdk-sock = $T/host.sock
host = h1
saved-config = $SAVED
orphan-grace = 77
EOF
{ de drift --config "$T/diskengine.conf" --json || true; } | jq -e --arg v "vhost$m2" \
	'.differences[] | select(.object == $v) | .next | test("77 s")' >/dev/null ||
	fail "drift --config did not use the daemon's orphan grace"
item orphan raid "raid_$vol2" | jq -e --arg v "vhost$m2" '.next | test("once " + $v + " is gone")' \
	>/dev/null || fail "orphan raid not after its vhost: $(dj)"
item orphan controller "$(dj | jq -r '[.differences[] | select(.class == "orphan" and .kind == "controller")][0].object')" |
	jq -e --arg r "raid_$vol2" '.next | test($r)' >/dev/null ||
	fail "orphan controller not after its raid: $(dj)"
# drift changed nothing, orphans old enough and all: the same graph after two more runs
before=$(graph)
dj >/dev/null
drift >/dev/null || true
[ "$(graph)" = "$before" ] || fail "drift changed SPDK: before $before, after $(graph)"

# the daemon repairs and removes what drift said it would; the old saved config then lists
# objects SPDK no longer has: replay artefacts
cp "$SAVED" "$T/old.json"
host_rpc vhost_delete_controller '{"ctrlr":"vhost0"}' >/dev/null
daemon_start
in_sync() { [ "$(total)" = 0 ]; }
wait_until 120 "drift shows agreement again" in_sync
daemon_stop
it=$(de drift -s "$T/host.sock" --host h1 --saved-config "$T/old.json" --json |
	jq -c --arg v "vhost$m2" '.differences[] | select(.object == $v)') || true
jq -e '.class == "replay_artefact" and (.next | test("never replays objects"))
	and (.evidence.saved | length) == 1 and (.evidence.live_config | length) == 0' <<<"$it" \
	>/dev/null || fail "saved vhost SPDK no longer has: $it"

# the database lags SPDK (mapping m1 edited back to INITIALISED while vhost$m1 serves): the next
# pass only records ATTACHED
mapping_set_state "$m1" INITIALISED
it=$(item missing mapping "mapping $m1")
jq -e '(.detail | test("INITIALISED")) and (.next | test("records it"))' <<<"$it" >/dev/null ||
	fail "mapping record behind SPDK: $(dj)"
[ "$(total)" = 1 ] || fail "only the mapping's record lags, but: $(dj)"

# exit codes: unknown host 3, SPDK away 5
rc=0
de drift -s "$T/host.sock" --host nosuchhost >/dev/null 2>&1 || rc=$?
[ $rc = 3 ] || fail "drift for an unknown host exited $rc, not 3"
rc=0
de drift -s "$T/nosuch.sock" --host h1 >/dev/null 2>&1 || rc=$?
[ $rc = 5 ] || fail "drift without SPDK exited $rc, not 5"
log "ok"
