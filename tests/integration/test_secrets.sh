#!/usr/bin/env bash
# A database password given on the command line is printed nowhere and is not left in
# /proc/PID/cmdline: CLI errors, the daemon's open failure, its start-up line (when a private
# PostgreSQL is there to connect to: scripts/pg-test.sh sets PG_TEST_CONNINFO), for the URL and
# the libpq key=value forms, percent-encoded or not.
source "$(dirname "$0")/lib.sh"

PW=S3cretPassw0rd
# no_secret FILE WHAT: FILE holds no part of the password.
no_secret() {
	if grep -q -e "S3cret" -e "Passw0rd" "$1"; then
		sed 's/^/  /' "$1" >&2
		fail "$2: the password is in there"
	fi
}

# cmdline PID FILE: the process's /proc cmdline, NULs as blanks.
cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" >"$2"; }

log "CLI errors: nothing listens on the port"
refused=$(free_port)
i=0
for url in "postgresql://de:$PW@127.0.0.1:$refused/x" \
	"postgres://de@127.0.0.1:$refused/x?password=$PW" \
	"host=127.0.0.1 port=$refused user=de password=$PW dbname=x" \
	"host=127.0.0.1 port=$refused user=de password='$PW and more' dbname=x"; do
	i=$((i + 1))
	set +e
	de host list --db "$url" >"$T/out$i" 2>&1
	rc=$?
	set -e
	[ $rc -eq 5 ] || fail "host list --db '${url//$PW/PW}': exit $rc, want 5"
	grep -q "cannot connect to PostgreSQL" "$T/out$i" || fail "no connect error in $(cat "$T/out$i")"
	no_secret "$T/out$i" "host list error ($i)"
	set +e
	de status --db "$url" >"$T/status$i" 2>&1
	rc=$?
	set -e
	[ $rc -eq 5 ] || fail "status: exit $rc, want 5 as for host list"
	no_secret "$T/status$i" "status error ($i)"
done

log "CLI errors that quote the URL or the password alone"
set +e
de host list --db "mysql://de:$PW@127.0.0.1/x" >"$T/backend.out" 2>&1
de host list "postgresql://de:$PW@127.0.0.1:$refused/x" >"$T/argument.out" 2>&1
# libpq names the bad escape by quoting the password
de host list --db "postgresql://de:%zz$PW@127.0.0.1:$refused/x" >"$T/escape.out" 2>&1
set -e
grep -q "names no known backend" "$T/backend.out" || fail "backend error: $(cat "$T/backend.out")"
grep -q "unexpected argument" "$T/argument.out" || fail "argument error: $(cat "$T/argument.out")"
grep -q "percent-encoded" "$T/escape.out" || fail "escape error: $(cat "$T/escape.out")"
for f in backend argument escape; do
	no_secret "$T/$f.out" "$f error"
	grep -q '\*\*\*' "$T/$f.out" || fail "$f error does not show the hidden password as ***"
done

# A server that accepts and never answers, so a process stays in its connect while we look;
# SIGUSR1 closes what it holds, and the connect fails.
silent=$(free_port)
python3 -c '
import os, signal, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
open(sys.argv[2] + ".ready", "w").close()
held = []
def release(sig, frame):
    while held:
        held.pop().close()
signal.signal(signal.SIGUSR1, release)
n = 0
while True:
    c, _ = s.accept()
    held.append(c)
    n += 1
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write(str(n))
    os.replace(sys.argv[2] + ".tmp", sys.argv[2])
' "$silent" "$T/accepted" &
SILENT_PID=$!
PIDS+=("$SILENT_PID")
wait_until 10 "the silent server listening" test -f "$T/accepted.ready"
accepts() { if [ -f "$T/accepted" ]; then cat "$T/accepted"; else echo 0; fi; }
accepted_more_than() { [ "$(accepts)" -gt "$1" ]; }

log "/proc/PID/cmdline of the CLI"
before=$(accepts)
"$DISKENGINE_BIN" host list --db "postgresql://de:$PW@127.0.0.1:$silent/x?connect_timeout=600" \
	>"$T/cli.out" 2>&1 &
cli=$!
PIDS+=("$cli")
wait_until 30 "the CLI connecting" accepted_more_than "$before"
cmdline "$cli" "$T/cli.cmdline"
kill "$cli"
no_secret "$T/cli.cmdline" "CLI /proc/$cli/cmdline"
grep -q "postgresql://de:\*\*\*@127.0.0.1:$silent/x" "$T/cli.cmdline" ||
	fail "CLI cmdline lost the URL: $(cat "$T/cli.cmdline")"

log "/proc/PID/cmdline and the open failure of the daemon (both URL forms)"
host_start
n=0
for url in "postgresql://de:$PW@127.0.0.1:$silent/x?connect_timeout=600" \
	"host=127.0.0.1 port=$silent user=de password=$PW dbname=x connect_timeout=600"; do
	n=$((n + 1))
	before=$(accepts)
	"$DISKENGINE_BIN" -mode baremetal --host h1 --spdk-sock "$T/host.sock" --db "$url" \
		--saved-config "$T/spdk-config.json" >"$T/daemon$n.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_until 30 "the daemon connecting" accepted_more_than "$before"
	cmdline "$pid" "$T/daemon$n.cmdline"
	no_secret "$T/daemon$n.cmdline" "daemon /proc/$pid/cmdline"
	grep -q -- "--db .*\*\*\*" "$T/daemon$n.cmdline" ||
		fail "daemon cmdline lost the URL: $(cat "$T/daemon$n.cmdline")"
	# the server hangs up: the daemon's open fails (libpq may try again without SSL first)
	end=$((SECONDS + 60))
	while kill -0 "$pid" 2>/dev/null; do
		[ $SECONDS -lt $end ] || fail "the daemon did not give up on a closed connection"
		kill -USR1 "$SILENT_PID"
		sleep 0.05
	done
	set +e
	wait "$pid"
	rc=$?
	set -e
	[ $rc -eq 5 ] || fail "daemon with an unreachable database: exit $rc, want 5"
	grep -q "database .*\*\*\*.*cannot connect" "$T/daemon$n.log" ||
		fail "daemon open failure not logged: $(cat "$T/daemon$n.log")"
	no_secret "$T/daemon$n.log" "daemon log ($n)"
done

if [ -n "${PG_TEST_CONNINFO:-}" ]; then
	log "the daemon's start-up line (PostgreSQL accepts the password: trust)"
	url="$PG_TEST_CONNINFO password=$PW"
	de db migrate --db "$url" >"$T/migrate.out" 2>&1 || fail "db migrate: $(cat "$T/migrate.out")"
	no_secret "$T/migrate.out" "db migrate"
	de host add h1 --db "$url" >/dev/null
	"$DISKENGINE_BIN" -mode baremetal --host h1 --spdk-sock "$T/host.sock" --db "$url" \
		--vhost-dir "$T/vhost" --saved-config "$T/spdk-config.json" >"$T/daemon.log" 2>&1 &
	DAEMON_PID=$!
	PIDS+=("$DAEMON_PID")
	wait_until 30 "the start-up line" grep -q "diskengine baremetal: host h1" "$T/daemon.log"
	grep -q "database .*password=\*\*\*" "$T/daemon.log" || fail "start-up line: $(cat "$T/daemon.log")"
	cmdline "$DAEMON_PID" "$T/daemon.cmdline"
	no_secret "$T/daemon.cmdline" "running daemon /proc/$DAEMON_PID/cmdline"
	daemon_stop
	no_secret "$T/daemon.log" "daemon log"
fi
log "PASS"
