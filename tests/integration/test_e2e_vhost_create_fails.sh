#!/usr/bin/env bash
# A vhost controller SPDK cannot create for lack of memory: real SPDK v25.09 answers only
# "-32602 Input/output error" (each controller is an SPDK thread; its message ring did not fit
# in -s memory). The mapping's last error says what that most likely means; once SPDK accepts
# the controller the mapping is ATTACHED.
source "$(dirname "$0")/lib.sh"

two_nodes
make_volume v1 >/dev/null
ctl "$T/host.ctl" '{"cmd":"fail","method":"vhost_create_blk_controller","count":1000,"code":-32602,"message":"Input/output error"}' >/dev/null
mid=$(attach_volume v1 vm1)
daemon_start

last_error() { de status --json | jq -r ".mappings[] | select(.mapping == $mid) | .last_error"; }
says_memory() { grep -q "vhost$mid.*Input/output error: most likely SPDK is out of memory" <<<"$(last_error)"; }
wait_until 30 "last error explains the refused vhost create" says_memory
[ "$(mapping_state "$mid")" != ATTACHED ] || fail "ATTACHED without a vhost controller"

ctl "$T/host.ctl" '{"cmd":"clear"}' >/dev/null
wait_until 40 "mapping $mid ATTACHED once SPDK accepts the controller" state_is "$mid" ATTACHED
daemon_stop
log "ok"
