#!/usr/bin/env bash
# Teardown order holds when SPDK refuses: while vhost_delete_controller fails, the raid and the
# paths under the vhost controller survive and the mapping stays DETACH_REQUESTED; once the
# delete goes through the rest follows and the mapping is DETACHED.
source "$(dirname "$0")/lib.sh"

two_nodes
vol=$(make_volume v1)
mid=$(attach_volume v1 vm1)
daemon_start
wait_until 30 "mapping $mid ATTACHED" state_is "$mid" ATTACHED

# the delete fails until the test lets it through: what is checked meanwhile cannot move on
ctl "$T/host.ctl" '{"cmd":"fail","method":"vhost_delete_controller","count":-1,"code":-32602,"message":"Input/output error"}' >/dev/null
de volume detach v1 >/dev/null
# every try reaches SPDK (the host sim counts calls) and fails; the daemon says it once
tries() { ctl "$T/host.ctl" '{"cmd":"stats"}' | jq -r ".result.$1 // 0"; }
failed_deletes() { [ "$(tries vhost_delete_controller)" -ge 2 ]; }
wait_until 30 "two failed vhost deletes" failed_deletes
grep -q "delete vhost$mid failed" "$T/daemon.log" || fail "the failing delete is not in the log"
[ "$(mapping_state "$mid")" = DETACH_REQUESTED ] || fail "state moved past a failed delete"
[ "$(raid_names)" = "raid_$vol" ] || fail "raid deleted under a live vhost controller: $(graph)"
[ "$(vhost_names)" = "vhost$mid" ] || fail "vhost gone: $(graph)"
[ "$(ctrlr_names | wc -l)" = 2 ] || fail "paths detached under a live raid: $(graph)"
err=$(de status --json | jq -r ".mappings[] | select(.mapping == $mid) | .last_error")
grep -q "vhost$mid" <<<"$err" || fail "last error does not name the vhost controller: $err"
ctl "$T/host.ctl" '{"cmd":"clear"}' >/dev/null

wait_until 40 "mapping $mid DETACHED after the delete went through" state_is "$mid" DETACHED
[ -z "$(graph)" ] || fail "left behind: $(graph)"
daemon_stop
log "ok"
