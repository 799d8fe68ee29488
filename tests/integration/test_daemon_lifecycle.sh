#!/usr/bin/env bash
# Start and stop: a missing SPDK socket is exit 5 naming the path; a --wait-for-rpc SPDK is
# initialised by the daemon; an SPDK crash is noticed and the restarted process initialised
# again; SIGTERM stops the daemon cleanly (exit 0).
source "$(dirname "$0")/lib.sh"

de host add h1 >/dev/null

log "missing socket"
set +e
out=$("$DISKENGINE_BIN" -mode baremetal --host h1 --spdk-sock "$T/absent.sock" --db "$DISKENGINE_DB" \
	--saved-config "$T/spdk-config.json" 2>&1)
rc=$?
set -e
[ $rc -eq 5 ] || fail "missing socket: exit $rc, want 5 ($out)"
grep -q "$T/absent.sock" <<<"$out" || fail "missing socket: message does not name the path: $out"

log "--help lists the metrics endpoint (test_e2e_metrics.sh proves it serves)"
"$DISKENGINE_BIN" -mode baremetal --help | grep -q -- "--metrics-listen" ||
	fail "--help does not list --metrics-listen"

log "what cannot work is refused before SPDK is touched (exit 2)"
host_start
refused() { # refused WHAT NEEDLE ARGS...: exit 2, the message names NEEDLE, SPDK untouched
	local what=$1 needle=$2
	shift 2
	set +e
	out=$("$DISKENGINE_BIN" -mode baremetal --spdk-sock "$T/host.sock" "$@" 2>&1)
	rc=$?
	set -e
	[ $rc -eq 2 ] || fail "$what: exit $rc, want 2 ($out)"
	grep -q -- "$needle" <<<"$out" || fail "$what: message does not name $needle: $out"
	[ "$(ctl "$T/host.ctl" '{"cmd":"state"}' | jq -r .result.initialized)" = false ] ||
		fail "$what: SPDK's framework was started before the refusal"
}
refused "unknown host" "host 'nosuch' is not in the database" --host nosuch \
	--db "$DISKENGINE_DB" --saved-config "$T/spdk-config.json"
refused "missing database file" "$T/typo.db does not exist" --host h1 --db "$T/typo.db" \
	--saved-config "$T/spdk-config.json"
[ ! -e "$T/typo.db" ] || fail "the daemon created the database file it was refused"
refused "saved-config directory missing" "$T/nodir" --host h1 --db "$DISKENGINE_DB" \
	--saved-config "$T/nodir/spdk-config.json"
mkdir "$T/ro" && chmod 0500 "$T/ro"
if [ "$(id -u)" != 0 ]; then # root writes anywhere: the check cannot fail for it
	refused "saved-config directory not writable" "$T/ro" --host h1 --db "$DISKENGINE_DB" \
		--saved-config "$T/ro/spdk-config.json"
fi
kill "$SIM_PID_host"
wait "$SIM_PID_host" 2>/dev/null || true
rm -f "$T/host.sock" "$T/host.ctl"

log "bad configuration"
set +e
out=$("$DISKENGINE_BIN" --mode baremetal --host h1 --ctrlr-loss-timeout 5 --fast-io-fail-timeout 9 2>&1)
rc=$?
set -e
[ $rc -eq 2 ] || fail "inconsistent timers: exit $rc, want 2"
grep -q "fast-io-fail-timeout" <<<"$out" || fail "timer message does not name the option: $out"
# past 2^31 a grace period used to wrap to -1: every orphan removed at once
for bad in "--orphan-grace 2147483648" "--orphan-grace 4294967295" "--interval-ms 0" "--concurrency 5000"; do
	set +e
	# shellcheck disable=SC2086 # option and value as two words
	out=$("$DISKENGINE_BIN" --mode baremetal --host h1 $bad 2>&1)
	rc=$?
	set -e
	[ $rc -eq 2 ] || fail "$bad: exit $rc, want 2 ($out)"
	opt=${bad%% *}
	grep -q -- "${opt#--}" <<<"$out" || fail "$bad: message does not name the option: $out"
done

log "start-up initialises a --wait-for-rpc SPDK (and tells systemd)"
host_start
# a stand-in for systemd's notification socket
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode() + "\n")
        f.flush()
' "$T/notify.sock" "$T/notify.log" &
PIDS+=($!)
wait_until 30 "notify socket" test -S "$T/notify.sock"
export NOTIFY_SOCKET="$T/notify.sock"
[ "$(ctl "$T/host.ctl" '{"cmd":"state"}' | jq -r .result.initialized)" = false ] || fail "sim started initialised"
daemon_start
initialised() { [ "$(ctl "$T/host.ctl" '{"cmd":"state"}' | jq -r .result.initialized)" = true ]; }
wait_until 30 "framework initialised by the daemon" initialised
kill -0 "$DAEMON_PID" || fail "daemon died"
unset NOTIFY_SOCKET
if grep -q "HAVE_SYSTEMD 1" "$(dirname "$DISKENGINE_BIN")/config.h" 2>/dev/null; then
	wait_until 30 "READY=1 sent to systemd" grep -q "READY=1" "$T/notify.log"
	grep -q "STATUS=serving" "$T/notify.log" || fail "no STATUS line: $(cat "$T/notify.log")"
fi

log "SPDK crash and restart"
ctl "$T/host.ctl" '{"cmd":"crash"}' >/dev/null || true
wait_until 30 "daemon notices the closed socket" grep -q "closed the connection" "$T/daemon.log"
host_start
wait_until 30 "restarted SPDK initialised again" initialised
kill -0 "$DAEMON_PID" || fail "daemon died across the SPDK restart"

log "SIGTERM"
start=$SECONDS
daemon_stop
[ $((SECONDS - start)) -le 3 ] || fail "SIGTERM took $((SECONDS - start)) s"
grep -q "stopping" "$T/daemon.log" || fail "no stop line in the log"
if grep -q "HAVE_SYSTEMD 1" "$(dirname "$DISKENGINE_BIN")/config.h" 2>/dev/null; then
	grep -q "STOPPING=1" "$T/notify.log" || fail "no STOPPING=1: $(cat "$T/notify.log")"
fi
log "ok"
