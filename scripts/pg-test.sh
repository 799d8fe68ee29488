#!/usr/bin/env bash
# Runs a command against a private, throw-away PostgreSQL server:
#   scripts/pg-test.sh COMMAND [ARGS...]
# The server comes from Debian's postgresql package (/usr/lib/postgresql/<ver>/bin), lives in a
# temporary directory, listens only on a Unix socket there, and is stopped afterwards.
# COMMAND sees PG_TEST_CONNINFO (a libpq string for the "postgres" database as user postgres).
# PostgreSQL refuses to run as root, so as root the server runs as an unprivileged user
# (PG_TEST_USER, default "nobody").
# If the server cannot start: exit 1 when CI=true (the suite must fail), else 77 (meson: skip).
set -uo pipefail

fail() {
	echo "pg-test: $*" >&2
	if [ "${CI:-}" = "true" ]; then
		exit 1
	fi
	echo "pg-test: skipping the PostgreSQL run (set CI=true to make this a failure)" >&2
	exit 77
}

[ $# -ge 1 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

bindir=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
	if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
		bindir=$d
		break
	fi
done
[ -n "$bindir" ] || fail "no PostgreSQL server found under /usr/lib/postgresql/*/bin (apt-get install postgresql)"

dir=$(mktemp -d /tmp/de-pg.XXXXXX) || fail "cannot create a temporary directory"
run_as=()
if [ "$(id -u)" -eq 0 ]; then
	user=${PG_TEST_USER:-nobody}
	id "$user" >/dev/null 2>&1 || fail "user '$user' does not exist (set PG_TEST_USER)"
	chown "$user" "$dir" || fail "cannot hand $dir to $user"
	run_as=(setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups --)
fi

cleanup() {
	"${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# HOME and cwd must be somewhere the server user can read.
(cd "$dir" && HOME="$dir" "${run_as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -A trust \
	-E UTF8 --no-locale >"$dir/initdb.log" 2>&1) ||
	{ cat "$dir/initdb.log" >&2; fail "initdb failed"; }
(cd "$dir" && HOME="$dir" "${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
	-t 60 -o "-k $dir -c listen_addresses= -c fsync=off -c max_connections=200" start \
	>/dev/null 2>&1) ||
	{ cat "$dir/server.log" >&2; fail "the PostgreSQL server did not start"; }

export PG_TEST_CONNINFO="host=$dir port=5432 user=postgres dbname=postgres"
"$@"
exit $?
