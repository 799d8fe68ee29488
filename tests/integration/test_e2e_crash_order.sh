#!/usr/bin/env bash
# The right replica after a crash (design invariant 5), one scenario per run (first argument):
#   lost-a, lost-b  one replica's node goes away, the volume runs degraded, the host SPDK crashes
#                   and restarts with both nodes back: the current replica is attached first, the
#                   stale one only once the raid is online from the current one; SPDK rebuilds it
#   rebuild         the host SPDK crashes while the lost replica is being rebuilt: it stays out of
#                   sync through the restart and is rebuilt again from the current one
#   both            both replicas are lost one after the other and return in the opposite order:
#                   the raid comes back from the newest record (the replica lost last), the stale
#                   one is not attached while the current one is away
#   disagree        the database says the serving replica is the stale one: the volume stops with
#                   a status naming both, nothing is rebuilt or re-created
source "$(dirname "$0")/lib.sh"
SCENARIO=${1:?usage: test_e2e_crash_order.sh lost-a|lost-b|rebuild|both|disagree}

two_nodes
vol=$(make_volume v1)
mid=$(attach_volume v1 vm1)
daemon_start --ctrlr-loss-timeout 2 --member-giveup 3
wait_until 30 "mapping $mid ATTACHED" state_is "$mid" ATTACHED

port_of() { if [ "$1" = a ]; then echo "$P1"; else echo "$P2"; fi; }
node_of() { if [ "$1" = a ]; then echo t1; else echo t2; fi; }
listener() { # listener add|remove SIDE
	rpc "$T/$(node_of "$2").sock" "nvmf_subsystem_$1_listener" "{\"nqn\":\"nqn.2016-06.io.diskengine:v1-$2\",\"listen_address\":{\"trtype\":\"TCP\",\"adrfam\":\"IPv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"$(port_of "$2")\"}}" >/dev/null
}
replica() { de volume show v1 --json | jq -r ".replicas[] | select(.nqn | endswith(\"v1-$1\")) | .$2"; }
ctrlr_of() { # the controller attached to side's subsystem, if any
	host_rpc bdev_nvme_get_controllers | jq -r ".[] | select(.ctrlrs[].trid.subnqn == \"nqn.2016-06.io.diskengine:v1-$1\") | .name" | head -1
}
raid_json() { host_rpc bdev_raid_get_bdevs '{"category":"all"}' | jq -c ".[] | select(.name == \"raid_$vol\")"; }
operational_is() { [ "$(raid_json | jq -r .num_base_bdevs_operational)" = "$1" ]; }
raid_not_serving() { local j; j=$(raid_json); [ -z "$j" ] || [ "$(jq -r .state <<<"$j")" != online ]; }
rebuilding() { [ "$(raid_json | jq -r '.process.type // empty')" = rebuild ]; }
vhost_serves() { [ "$(host_rpc vhost_get_controllers | jq -r ".[] | select(.ctrlr == \"vhost$mid\") | .backend_specific.block.bdev")" = "raid_$vol" ]; }
last_error() { de status --json | jq -r ".mappings[] | select(.mapping == $mid) | .last_error"; }
error_has() { last_error | grep -q -- "$1"; }
replica_is() { [ "$(replica "$1" "$2")" = "$3" ]; }
both_in_sync() { [ "$(replica a in_sync)/$(replica b in_sync)" = true/true ]; }
other() { if [ "$1" = a ]; then echo b; else echo a; fi; }

lose() { # lose SIDE: its path goes; the raid runs without it; it is recorded out of sync
	local side=$1 left=$2
	listener remove "$side"
	wait_until 30 "v1-$side left the raid" operational_is "$left"
	if [ "$left" = 1 ]; then
		wait_until 30 "v1-$side out of sync" replica_is "$side" in_sync false
	fi
}
crash_host() {
	ctl "$T/host.ctl" '{"cmd":"crash"}' >/dev/null || true
	wait_until 30 "daemon notices the crash" grep -q "closed the connection" "$T/daemon.log"
	rm -f "$T/host.sock"
	CRASH_LINE=$(wc -l <"$T/daemon.log")
}
after_crash() { tail -n +"$((CRASH_LINE + 1))" "$T/daemon.log"; }
# first line after the crash that attaches side's subsystem (0 if none)
attach_line() { after_crash | grep -n ": attach .*(nqn.2016-06.io.diskengine:v1-$1)$" | head -1 | cut -d: -f1 || true; }
healed() {
	wait_until 60 "raid_$vol whole again" operational_is 2
	wait_until 30 "both replicas in sync" both_in_sync
	[ "$(replica a generation)" = "$(replica b generation)" ] ||
		fail "generations differ after the rebuild: $(replica a generation) vs $(replica b generation)"
	wait_until 30 "vhost$mid serves" vhost_serves
	state_is "$mid" ATTACHED || fail "mapping left ATTACHED"
}
current_first() { # current_first STALE: after the crash the current replica was attached first
	local stale=$1 cur
	cur=$(other "$1")
	local lc ls
	lc=$(attach_line "$cur")
	ls=$(attach_line "$stale")
	[ -n "$lc" ] && [ -n "$ls" ] || fail "no attach of both after the crash: current '$lc' stale '$ls'"
	[ "$ls" -gt "$lc" ] || fail "stale v1-$stale attached (line $ls) before current v1-$cur (line $lc)"
	after_crash | grep -q "v1-$stale\|missed writes; it is attached once raid_$vol is assembled" ||
		fail "no status holding the stale replica back"
	# no raid was created over a stale member: SPDK reassembled it
	! after_crash | grep -q ": create raid_$vol" || fail "raid_$vol re-created after the crash"
}

case "$SCENARIO" in
lost-a | lost-b)
	stale=${SCENARIO#lost-}
	lose "$stale" 1
	gen_stale=$(replica "$stale" generation)
	[ "$(replica "$(other "$stale")" generation)" -gt "$gen_stale" ] || fail "survivor generation not above the stale one"
	crash_host
	listener add "$stale"
	host_start
	wait_until 30 "vhost$mid back" vhost_serves
	healed
	current_first "$stale"
	;;
rebuild)
	lose a 1
	# a slow rebuild, so the crash lands in the middle of it
	host_rpc bdev_raid_set_options '{"process_max_bandwidth_mb_sec":1}' >/dev/null
	listener add a
	wait_until 30 "rebuild of v1-a running" rebuilding
	[ "$(replica a in_sync)" = false ] || fail "v1-a in sync while it is being rebuilt"
	crash_host
	host_start
	wait_until 30 "vhost$mid back" vhost_serves
	healed
	current_first a
	;;
both)
	lose a 1
	gen_a=$(replica a generation)
	gen_b=$(replica b generation)
	listener remove b
	wait_until 30 "raid_$vol no longer serves" raid_not_serving
	[ "$(replica b in_sync)" = true ] || fail "the last member (v1-b) is not the current one"
	crash_host
	host_start
	listener add a
	# the stale replica is not attached while the current one is away
	wait_until 30 "status holds v1-a back" error_has "missed writes; it is attached once raid_$vol is assembled"
	[ -z "$(ctrlr_of a)" ] || fail "stale v1-a attached while the current v1-b is away"
	! vhost_serves || fail "vhost$mid serves while only the stale replica is there"
	listener add b
	healed
	current_first a
	[ "$(replica b generation)" -gt "$gen_b" ] && [ "$gen_b" -gt "$gen_a" ] ||
		fail "generations: a $gen_a b $gen_b -> $(replica b generation)"
	;;
disagree)
	lose a 1
	# the database is changed behind the daemon's back: it now calls the serving replica stale
	ida=$(replica a id)
	idb=$(replica b id)
	sqlite3 "$DISKENGINE_DB" "BEGIN; UPDATE replicas SET in_sync = 1, generation = 100 WHERE id = $ida;
		UPDATE replicas SET in_sync = 0 WHERE id = $idb; COMMIT;"
	wait_until 30 "status: superblocks and database disagree" error_has "superblocks and database disagree"
	vhost_serves || fail "the vhost that served was touched"
	[ "$(replica b in_sync)" = false ] || fail "the daemon overwrote the database's record"
	operational_is 1 || fail "raid membership changed"
	;;
*) fail "unknown scenario $SCENARIO" ;;
esac
daemon_stop
log "ok ($SCENARIO)"
