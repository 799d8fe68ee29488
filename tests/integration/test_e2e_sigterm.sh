#!/usr/bin/env bash
# SIGTERM with a call in flight: the daemon lets it finish (or time out), starts nothing new,
# records no state the calls have not earned, and exits 0; a restarted daemon finishes the job.
source "$(dirname "$0")/lib.sh"

two_nodes
vol=$(make_volume v1)
host_rpc framework_start_init >/dev/null
ctl "$T/host.ctl" '{"cmd":"delay","method":"vhost_create_blk_controller","ms":1000,"count":1}' >/dev/null
mid=$(attach_volume v1 vm1)
daemon_start
held() { [ "$(ctl "$T/host.ctl" '{"cmd":"stats"}' | jq -r '.result.vhost_create_blk_controller // 0')" -ge 1 ]; }
wait_until 30 "vhost create in flight" held
start=$(date +%s%N)
daemon_stop
ms=$(( ($(date +%s%N) - start) / 1000000 ))
log "stopped ${ms} ms after SIGTERM with a call in flight"
[ "$ms" -lt 2500 ] || fail "stop took ${ms} ms (rpc timeout is 2000 ms)"
# the vhost create was answered before the stop finished, but ATTACHED is a later step
[ "$(mapping_state "$mid")" = INITIALISED ] || fail "state after stop: $(mapping_state "$mid"), want INITIALISED"
grep -q "stopping" "$T/daemon.log" || fail "no stop line"
daemon_start
wait_until 30 "mapping $mid ATTACHED after the restart" state_is "$mid" ATTACHED
[ "$(vhost_names)" = "vhost$mid" ] || fail "vhost controllers: $(vhost_names)"
daemon_stop
log "ok"
