#!/usr/bin/env bash
# `diskengine diagnose` names the first broken layer of a volume on live spdk-sim: no QEMU
# session, every layer ok once a session is connected, a degraded raid when one storage node's
# listener goes, and a missing vhost controller. Its --json is checked with jq. `diskengine graph`
# draws the same states as DOT that Graphviz's dot accepts (checked only when dot is installed).
source "$(dirname "$0")/lib.sh"

two_nodes
vol=$(make_volume v1)
mid=$(attach_volume v1 vm1)
# the lost path stays a resetting controller for seconds before the member is given up
daemon_start --ctrlr-loss-timeout 8 --member-giveup 9
wait_until 30 "mapping $mid ATTACHED" state_is "$mid" ATTACHED

diag_rc() { de diagnose -s "$T/host.sock" --vhost-dir "$T/vhost" --json v1; }
diag() { diag_rc || true; }
dot_graph() { de graph -s "$T/host.sock" --host h1 "$@"; }
dot_parses() {
	dot_graph >"$T/g.dot"
	if command -v dot >/dev/null; then
		dot -Tsvg "$T/g.dot" >/dev/null || fail "dot rejects the graph: $(cat "$T/g.dot")"
	fi
}
# broken_layer: the layer of the first broken step, "" when none
broken_layer() { diag | jq -r '[.steps[] | select(.verdict == "broken")][0].layer // ""'; }
broken_is() { [ "$(broken_layer)" = "$1" ]; }

# attached, but no VM connected to vhost<mapping>
out=$(diag_rc) && fail "diagnose exited 0 with no session: $out"
echo "$out" | jq -e '.ok == false and (.steps | map(.verdict) | all(. == "ok" or . == "broken" or . == "unknown"))' >/dev/null ||
	fail "diagnose --json not the documented schema: $out"
broken_is session || fail "no session not named: $(diag)"
echo "$out" | jq -e '.steps[-1].next != null and .steps[-1].do_not != null' >/dev/null ||
	fail "broken step without advice: $out"

# a QEMU stand-in connects: every layer is ok and the exit code is 0
vid=$(ctl "$T/host.ctl" "{\"cmd\":\"vhost_session_open\",\"ctrlr\":\"vhost$mid\"}" | jq -r .result.vid)
out=$(diag_rc) || fail "diagnose failed with every layer healthy: $out"
echo "$out" | jq -e '.ok == true and ([.steps[].layer] | index("path") != null)' >/dev/null ||
	fail "healthy walk incomplete: $out"
de diagnose -s "$T/host.sock" --vhost-dir "$T/vhost" v1 | grep -q "every layer ok" ||
	fail "text output does not say every layer ok"
dot_parses
grep -q "\"vhost$mid\" \[.*color=forestgreen" "$T/g.dot" || fail "connected vhost not healthy: $(cat "$T/g.dot")"
grep -q "\"raid_$vol\" -> " "$T/g.dot" || fail "raid has no member edges: $(cat "$T/g.dot")"
grep -q "dashed" "$T/g.dot" && fail "healthy graph has missing objects: $(cat "$T/g.dot")"
if command -v dot >/dev/null; then
	dot_graph --svg v1 >"$T/g.svg" || fail "graph --svg failed"
	grep -q "<svg" "$T/g.svg" || fail "graph --svg printed no SVG"
fi

# node 2's listener goes: the raid degrades and diagnose stops at the raid (or, while the
# controller still resets, at the reset or the path), never at an upper layer
nqn_b=nqn.2016-06.io.diskengine:v1-b
rpc "$T/t2.sock" nvmf_subsystem_remove_listener "{\"nqn\":\"$nqn_b\",\"listen_address\":{\"trtype\":\"TCP\",\"adrfam\":\"IPv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"$P2\"}}" >/dev/null
lower_broken() { case "$(broken_layer)" in reset | controller | path) true ;; *) false ;; esac; }
wait_until 30 "diagnose names the lost path's controller" lower_broken
log "the lost path shows as: $(broken_layer)"
wait_until 60 "diagnose names the degraded raid" broken_is raid
diag | jq -e '[.steps[] | select(.layer == "raid")][0].evidence.num_base_bdevs_operational == 1' >/dev/null ||
	fail "raid evidence lacks the operational count: $(diag)"
dot_parses
grep -q "\"raid_$vol\" \[.*color=orange" "$T/g.dot" || fail "degraded raid not orange: $(cat "$T/g.dot")"

# vhost controller gone while the daemon is stopped
daemon_stop
ctl "$T/host.ctl" "{\"cmd\":\"vhost_session_close\",\"ctrlr\":\"vhost$mid\",\"vid\":$vid}" >/dev/null
host_rpc vhost_delete_controller "{\"ctrlr\":\"vhost$mid\"}" >/dev/null
broken_is vhost || fail "missing vhost not named: $(diag)"
diag | jq -e '[.steps[] | select(.layer == "vhost")][0].do_not | test("PCI")' >/dev/null ||
	fail "vhost advice missing: $(diag)"
dot_parses
grep -q "\"vhost$mid\" \[.*style=dashed" "$T/g.dot" || fail "missing vhost not dashed: $(cat "$T/g.dot")"
rc=0
de diagnose -s "$T/host.sock" --vhost-dir "$T/vhost" v1 >/dev/null || rc=$?
[ $rc = 1 ] || fail "diagnose exit code not 1 for a broken layer"
rc=0
de diagnose -s "$T/host.sock" no-such-volume >/dev/null 2>&1 || rc=$?
[ $rc = 3 ] || fail "diagnose of an unknown volume exited $rc, not 3"
# every walk above asked bdevs by name, also while a controller reset
[ "$(ctl "$T/host.ctl" '{"cmd":"tripwires"}' | jq -r .result.unfiltered_bdev_get_bdevs_during_reset)" = 0 ] ||
	fail "an unfiltered bdev_get_bdevs reached SPDK during a reset"
log "ok"
