#!/usr/bin/env bash
# SPDK crash and restart with N attached volumes (default 100): the daemon notices the closed
# socket, reconnects, replays the pre-init config, starts the framework and rebuilds from the
# database -- every path attached again, superblock raids reassembled by themselves (not re-created), every
# vhost controller back under its old name. Prints the time from the restart to all vhost
# controllers back (a simulator result).
source "$(dirname "$0")/lib.sh"
N=${DE_RESTART_VOLUMES:-100}

two_nodes
make_volumes v 1 "$N"
for ((i = 1; i <= N; i++)); do attach_volume "v$i" "vm$i" >/dev/null; done
daemon_start
all_attached() { [ "$(de status --json | jq '[.mappings[] | select(.state == "ATTACHED")] | length')" = "$N" ]; }
wait_until 120 "$N mappings ATTACHED" all_attached
before=$(graph | sort)
# a pre-init option in the saved config, to see it replayed
wait_until 30 "saved config" test -s "$T/spdk-config.json"

ctl "$T/host.ctl" '{"cmd":"crash"}' >/dev/null || true
wait_until 30 "daemon notices the crash" grep -q "closed the connection" "$T/daemon.log"
rm -f "$T/host.sock"
start=$(date +%s%N)
host_start
all_back() {
	[ "$(host_rpc vhost_get_controllers | jq '[.[] | select(.backend_specific.block.bdev != null)] | length')" = "$N" ]
}
wait_until 120 "$N vhost controllers back" all_back
ms=$(( ($(date +%s%N) - start) / 1000000 ))
log "spdk-sim result: $N vhost controllers back ${ms} ms after the SPDK restart"
wait_until 30 "graph settled" test "$(graph | grep -c '^raid .* online ')" = "$N"
after=$(graph | sort)
[ "$before" = "$after" ] || fail "graph differs after the restart: $(diff <(echo "$before") <(echo "$after") | head -20)"
grep -q "replayed [0-9]* pre-init calls" "$T/daemon.log" || fail "pre-init config not replayed"
# superblock raids came back by themselves: nothing was created after the crash
recreated=$(sed -n '/closed the connection/,$p' "$T/daemon.log" | grep -c ": create raid_" || true)
[ "$recreated" = 0 ] || fail "$recreated raids re-created instead of reassembled"
attached=$(sed -n '/closed the connection/,$p' "$T/daemon.log" | grep -c ": attach " || true)
[ "$attached" = $((2 * N)) ] || fail "$attached paths attached after the restart, want $((2 * N))"
all_attached || fail "mappings left ATTACHED state"
daemon_stop
log "ok"
