#!/usr/bin/env bash
# The systemd watchdog is fed while a pass runs long: SPDK answers the raid listing 3 s late,
# two passes in a row, with a watchdog period of 1 s. systemd would kill a daemon that is silent
# for a whole period, so no gap between two WATCHDOG=1 may reach it.
source "$(dirname "$0")/lib.sh"

if ! grep -q "HAVE_SYSTEMD 1" "$(dirname "$DISKENGINE_BIN")/config.h" 2>/dev/null; then
	log "built without libsystemd: nothing to feed"
	exit 77
fi

two_nodes
make_volume v1 >/dev/null
m=$(attach_volume v1 vm1)

# a stand-in for systemd's notification socket, stamping each message (monotonic ms)
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        msg = s.recv(4096).decode()
        f.write("%d %s\n" % (time.monotonic() * 1000, msg.replace("\n", " ")))
        f.flush()
' "$T/notify.sock" "$T/notify.log" &
PIDS+=($!)
wait_until 5 "notify socket" test -S "$T/notify.sock"

NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=1000000 daemon_start --rpc-timeout-ms 10000
wait_until 20 "mapping $m ATTACHED" state_is "$m" ATTACHED
wait_until 5 "first watchdog ping" grep -q "WATCHDOG=1" "$T/notify.log"

now_ms() { python3 -c 'import time; print(int(time.monotonic() * 1000))'; }
ctl "$T/host.ctl" '{"cmd":"stats_reset"}' >/dev/null
start=$(now_ms)
ctl "$T/host.ctl" '{"cmd":"delay","method":"bdev_raid_get_bdevs","ms":3000,"count":2}' >/dev/null
# two slow listings answered, and one more pass after them
raid_calls() { ctl "$T/host.ctl" '{"cmd":"stats"}' | jq -r '.result.bdev_raid_get_bdevs // 0'; }
three_passes() { [ "$(raid_calls)" -ge 3 ]; }
wait_until 60 "two slow passes and one more" three_passes
end=$(now_ms)
kill -0 "$DAEMON_PID" || fail "daemon died"
gap=$(awk -v s="$start" -v e="$end" '
	$2 == "WATCHDOG=1" && $1 >= s - 1000 && $1 <= e { if (last && $1 - last > max) max = $1 - last; last = $1 }
	END { print max + 0 }' "$T/notify.log")
log "longest silence of the watchdog during 3 s passes: $gap ms (period 1000 ms)"
[ "$gap" -gt 0 ] || fail "no watchdog pings during the slow passes: $(tail -5 "$T/notify.log")"
[ "$gap" -lt 1000 ] || fail "watchdog silent for $gap ms during a long pass: systemd would kill the daemon"
daemon_stop
log "ok"
