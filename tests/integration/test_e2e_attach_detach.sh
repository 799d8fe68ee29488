#!/usr/bin/env bash
# A new mapping is built (2 NVMe-oF paths -> raid1 -> vhost-blk) and ATTACHED one pass after the
# database notification; `diskengine status` shows it; detach tears it down in order to DETACHED
# and leaves nothing behind, recording a clean stop that the next assembly clears. The pass timer is
# set to a minute, so only the wake-up can do it.
source "$(dirname "$0")/lib.sh"

two_nodes
vol=$(make_volume v1)
daemon_start --interval-ms 60000
wait_until 10 "daemon up" grep -q "rebuilding from the database" "$T/daemon.log"
sleep 0.3

mid=$(attach_volume v1 vm1)
start=$(date +%s%N)
wait_until 5 "mapping $mid ATTACHED" state_is "$mid" ATTACHED
log "ATTACHED $(( ($(date +%s%N) - start) / 1000000 )) ms after the attach was committed"

[ "$(vhost_names)" = "vhost$mid" ] || fail "vhost controllers: $(vhost_names)"
[ "$(raid_names)" = "raid_$vol" ] || fail "raids: $(raid_names)"
[ "$(ctrlr_names | wc -l)" = 2 ] || fail "controllers: $(ctrlr_names)"
graph_has "^vhost vhost$mid raid_$vol$" || fail "vhost does not serve raid_$vol: $(graph)"
graph_has "^raid raid_$vol online " || fail "raid not online: $(graph)"

st=$(de status --json | jq -r ".mappings[] | select(.mapping == $mid)")
[ "$(jq -r .state <<<"$st")" = ATTACHED ] || fail "status: $st"
[ "$(jq -r .raid_state <<<"$st")" = online ] || fail "status raid_state: $st"
jq -e '.members | length == 2 and all(.[]; .state == "ok" and (.name | length) > 0)' <<<"$st" \
	>/dev/null || fail "status members: $st"
jq -e '(.last_error == null) == (.last_error_at == null)' <<<"$st" >/dev/null ||
	fail "status last_error_at: $st"
grep -q "ATTACHED" <<<"$(de status)" || fail "status table lacks ATTACHED"
[ -s "$T/spdk-config.json" ] || fail "live config not saved after the change"
jq -e '.subsystems[] | select(.subsystem == "vhost_blk") | .config[] | select(.params.ctrlr == "vhost'"$mid"'")' \
	"$T/spdk-config.json" >/dev/null || fail "saved config lacks vhost$mid"

clean_stop() { de volume show v1 --json | jq -r .clean_stop; }
clean_is() { [ "$(clean_stop)" = "$1" ]; }
wait_until 5 "clean stop cleared while the raid runs" clean_is false

de volume detach v1 >/dev/null
wait_until 5 "mapping $mid DETACHED" state_is "$mid" DETACHED
[ -z "$(vhost_names)" ] || fail "vhost left: $(vhost_names)"
[ -z "$(raid_names)" ] || fail "raid left: $(raid_names)"
[ -z "$(ctrlr_names)" ] || fail "controllers left: $(ctrlr_names)"
# teardown order in the log: vhost, then raid, then controllers, then the state
line_of() { grep -n -m1 -E "$1" "$T/daemon.log" | cut -d: -f1; }
lv=$(line_of "delete vhost$mid")
lr=$(line_of "delete raid_$vol")
lc=$(line_of "detach controller")
ld=$(line_of "DETACH_REQUESTED -> DETACHED")
[ -n "$lv" ] && [ -n "$lr" ] && [ -n "$lc" ] && [ -n "$ld" ] || fail "teardown steps missing from the log"
[ "$lv" -lt "$lr" ] && [ "$lr" -lt "$lc" ] && [ "$lc" -lt "$ld" ] ||
	fail "teardown out of order: vhost@$lv raid@$lr ctrlr@$lc detached@$ld"
grep -q "delete vhost$mid" "$T/daemon.log" || fail "no vhost delete logged"

# volumes.clean_stop: cleared when the raid assembled, set by the orderly teardown
wait_until 5 "clean stop recorded" clean_is true
mid2=$(attach_volume v1 vm2)
wait_until 10 "mapping $mid2 ATTACHED" state_is "$mid2" ATTACHED
! grep -q ": create raid_$vol" <(sed -n "/DETACH_REQUESTED -> DETACHED/,\$p" "$T/daemon.log") ||
	fail "raid_$vol created anew instead of reassembled from its superblocks"
wait_until 5 "clean stop cleared once assembled" clean_is false
daemon_stop
log "ok"
