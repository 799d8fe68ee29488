#!/usr/bin/env bash
# PostgreSQL set up as docs/store.md tells an operator (its setup SQL is run as written): the
# owner role migrates, the daemon role writes without DDL rights, the reader role runs every
# read command; read commands never migrate and name an old schema; the same failure exits the
# same way in every command; a statement stuck on a lock ends at statement_timeout (exit 5);
# a libpq service file names the database. Needs scripts/pg-test.sh (PG_TEST_CONNINFO).
set -uo pipefail

BIN=${DISKENGINE_BIN:?DISKENGINE_BIN must point at the diskengine binary}
SRC=${SOURCE_ROOT:?SOURCE_ROOT must point at the source tree}
if [ -z "${PG_TEST_CONNINFO:-}" ]; then
	echo "needs a PostgreSQL server: run through scripts/pg-test.sh" >&2
	exit 77
fi
tmp=$(mktemp -d /tmp/de-pgroles.XXXXXX)
LOCKER=
cleanup() {
	[ -n "$LOCKER" ] && kill "$LOCKER" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
unset DISKENGINE_DB

failures=0
out="$tmp/out"
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# expect RC TEXT CMD...: run diskengine CMD, check the exit code and that TEXT is in its output.
expect() {
	local rc=$1 text=$2 got
	shift 2
	"$BIN" "$@" >"$out" 2>&1
	got=$?
	if [ "$got" -ne "$rc" ] || ! grep -qF -- "$text" "$out"; then
		fail "diskengine $* -> exit $got (wanted $rc), wanted text: $text"
		sed 's/^/  /' "$out" >&2
	fi
}

admin() { psql "$PG_TEST_CONNINFO $1" -v ON_ERROR_STOP=1 -qAt -c "$2"; }

# The setup SQL of docs/store.md, exactly as documented.
awk '/<!-- setup-sql: tests\/integration\/test_pg_roles.sh -->/ { f = 1; next }
	f && /^```sql/ { p = 1; next }
	p && /^```/ { exit }
	p' "$SRC/docs/store.md" >"$tmp/setup.sql"
grep -q "CREATE ROLE" "$tmp/setup.sql" || { echo "FAIL: no setup SQL found in docs/store.md" >&2; exit 1; }
psql "$PG_TEST_CONNINFO" -v ON_ERROR_STOP=1 -q -f "$tmp/setup.sql" >"$tmp/setup.out" 2>&1 ||
	{ cat "$tmp/setup.out" >&2; echo "FAIL: the documented setup SQL does not run" >&2; exit 1; }

OWNER="$PG_TEST_CONNINFO dbname=diskengine user=diskengine_owner"
DAEMON="$PG_TEST_CONNINFO dbname=diskengine user=diskengine_daemon"
READER="$PG_TEST_CONNINFO dbname=diskengine user=diskengine_reader"

# the owner migrates; the others need no DDL
expect 0 "schema version 5" db migrate --db "$OWNER"
expect 0 "applied 0 migration(s)" db migrate --db "$DAEMON"
expect 0 "host h1 added" host add h1 --tcp-ip 10.0.1.7 --db "$DAEMON"
expect 0 "" node add n1 --transport tcp --address 10.0.0.1 --port 4420 --db "$DAEMON"
expect 0 "" node add n2 --transport tcp --address 10.0.0.2 --port 4420 --db "$DAEMON"
expect 0 "" volume create v1 --size 1G --replica n1:nqn.2016-06.io.spdk:v1-a \
	--replica n2:nqn.2016-06.io.spdk:v1-b --db "$DAEMON"
expect 0 "" volume attach v1 --host h1 --vm vm1 --db "$DAEMON"
expect 0 "" device add h1 0000:5e:00.0 --db "$DAEMON"

# every read command as the reader
expect 0 "ASSIGNED" status --db "$READER"
expect 0 "mappings" status --json --db "$READER"
expect 0 "h1" host list --db "$READER"
expect 0 "vm1" host show h1 --db "$READER"
expect 0 "n2" node list --db "$READER"
expect 0 "v1" volume list --db "$READER"
expect 0 "nqn.2016-06.io.spdk:v1-b" volume show v1 --db "$READER"
expect 0 "0000:5e:00.0" device list --db "$READER"
expect 0 "schema version: 5" db status --db "$READER"
# ... and it may not write
expect 1 "permission denied" host add h2 --db "$READER"
expect 1 "permission denied" volume detach v1 --db "$READER"

# A database without the schema: read commands say so and exit 1, all alike, creating nothing.
admin "" "CREATE DATABASE de_empty OWNER diskengine_owner"
EMPTY_READER="$PG_TEST_CONNINFO dbname=de_empty user=diskengine_reader"
EMPTY_DAEMON="$PG_TEST_CONNINFO dbname=de_empty user=diskengine_daemon"
for cmd in "status" "host list" "host show h1" "node list" "volume list" "volume show v1" \
	"device list"; do
	# shellcheck disable=SC2086
	expect 1 "no diskengine schema yet (version 0; this diskengine needs 5): run 'diskengine db migrate'" \
		$cmd --db "$EMPTY_READER"
done
expect 0 "schema version: 0" db status --db "$EMPTY_READER"
[ "$(admin "dbname=de_empty" "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0 ] ||
	fail "a read command created tables in de_empty"
# a write command migrates, which only the owner may: it says who must
expect 1 "run 'diskengine db migrate' as the schema's owner" host add h1 --db "$EMPTY_DAEMON"

# An unreachable database is exit 5 in read and write commands alike.
NOWHERE="host=$tmp/nowhere dbname=x connect_timeout=2"
for cmd in "status" "host list" "volume show v1" "host add h3" "db status"; do
	# shellcheck disable=SC2086
	expect 5 "cannot connect to PostgreSQL" $cmd --db "$NOWHERE"
done

# A lock held elsewhere: the statement ends at statement_timeout, exit 5, in every command.
psql "$PG_TEST_CONNINFO dbname=diskengine application_name=de_locker" -q >/dev/null 2>&1 <<'SQL' &
BEGIN;
LOCK TABLE hosts IN ACCESS EXCLUSIVE MODE;
SELECT pg_sleep(600);
SQL
LOCKER=$!
# hosts_locked N: N backends hold the exclusive lock on hosts.
hosts_locked() {
	[ "$(admin "dbname=diskengine" "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'hosts' AND l.mode = 'AccessExclusiveLock' AND l.granted")" = "$1" ]
}
end=$((SECONDS + 30))
until hosts_locked 1; do
	[ $SECONDS -lt $end ] || { echo "FAIL: the locker never got its lock" >&2; exit 1; }
	sleep 0.05
done
SHORT="options='-c statement_timeout=1000'"
expect 5 "canceling statement due to statement timeout" host list --db "$READER $SHORT"
expect 5 "canceling statement due to statement timeout" status --db "$READER $SHORT"
expect 5 "canceling statement due to statement timeout" host add h4 --db "$DAEMON $SHORT"
admin "" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'de_locker'" >/dev/null
wait "$LOCKER" 2>/dev/null
LOCKER=
end=$((SECONDS + 30))
until hosts_locked 0; do
	[ $SECONDS -lt $end ] || { echo "FAIL: the lock outlived its backend" >&2; exit 1; }
	sleep 0.05
done
expect 0 "h1" host list --db "$READER"

# A libpq service file names the database (and may hold the password, see docs/store.md).
pghost=$(sed -n 's/.*host=\([^ ]*\).*/\1/p' <<<"$PG_TEST_CONNINFO")
pgport=$(sed -n 's/.*port=\([^ ]*\).*/\1/p' <<<"$PG_TEST_CONNINFO")
cat >"$tmp/pg_service.conf" <<EOF
[diskengine]
host=$pghost
port=${pgport:-5432}
dbname=diskengine
user=diskengine_reader
EOF
PGSERVICEFILE="$tmp/pg_service.conf" expect 0 "v1" volume list --db service=diskengine

if [ "$failures" -ne 0 ]; then
	echo "$failures failure(s)" >&2
	exit 1
fi
echo "PASS"
