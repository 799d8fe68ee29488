#!/usr/bin/env bash
# A path down during attach: the replica's listener is gone when the mapping arrives. The daemon
# retries with backoff, records the error on the mapping, advances nothing, and converges to
# ATTACHED once the listener is back.
source "$(dirname "$0")/lib.sh"

two_nodes
vol=$(make_volume v1)
listener() {
	rpc "$T/t2.sock" "$1" "{\"nqn\":\"nqn.2016-06.io.diskengine:v1-b\",\"listen_address\":{\"trtype\":\"TCP\",\"adrfam\":\"IPv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"$P2\"}}" >/dev/null
}
listener nvmf_subsystem_remove_listener
mid=$(attach_volume v1 vm1)
daemon_start
# tries counted by the host sim (the daemon logs a repeating failure once): v1-a's one attach
# and at least two of v1-b's
attach_calls() { ctl "$T/host.ctl" '{"cmd":"stats"}' | jq -r '.result.bdev_nvme_attach_controller // 0'; }
two_failures() { [ "$(attach_calls)" -ge 3 ]; }
wait_until 30 "two failed attaches of the lost path" two_failures
[ "$(mapping_state "$mid")" = ASSIGNED ] || fail "state advanced without the path: $(mapping_state "$mid")"
[ -z "$(vhost_names)" ] || fail "vhost created without its raid's second path"
err=$(de status --json | jq -r ".mappings[] | select(.mapping == $mid) | .last_error")
grep -q "volume $vol" <<<"$err" || fail "last error does not name the volume: $err"

listener nvmf_subsystem_add_listener
wait_until 40 "mapping $mid ATTACHED after the path came back" state_is "$mid" ATTACHED
graph_has "^raid raid_$vol online " || fail "raid not online: $(graph)"
err=$(de status --json | jq -r ".mappings[] | select(.mapping == $mid) | .last_error")
[ "$err" = null ] || fail "last error not cleared after convergence: $err"
daemon_stop
log "ok"
