#!/usr/bin/env bash
# The operator CLI end to end: every noun and verb, --help, --json, exit codes and the message
# of every refused input. Runs on SQLite, or on PostgreSQL when PG_TEST_CONNINFO is set
# (scripts/pg-test.sh).
set -uo pipefail

BIN=${DISKENGINE_BIN:?DISKENGINE_BIN must point at the diskengine binary}
tmp=$(mktemp -d /tmp/de-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if [ -n "${PG_TEST_CONNINFO:-}" ]; then
	export DISKENGINE_DB="$PG_TEST_CONNINFO"
else
	export DISKENGINE_DB="sqlite://$tmp/de.db"
fi

failures=0
out="$tmp/out"
err="$tmp/err"

# expect RC TEXT CMD...: run diskengine CMD, check the exit code and that TEXT is in its output.
expect() {
	local rc=$1 text=$2 got
	shift 2
	"$BIN" "$@" >"$out" 2>"$err"
	got=$?
	if [ "$got" -ne "$rc" ] || ! grep -qF -- "$text" "$out" "$err"; then
		echo "FAIL: diskengine $* -> exit $got (wanted $rc), wanted text: $text" >&2
		sed 's/^/  stdout: /' "$out" >&2
		sed 's/^/  stderr: /' "$err" >&2
		failures=$((failures + 1))
	fi
}

# absent TEXT: the last command's output does not contain TEXT.
absent() {
	if grep -qF -- "$1" "$out" "$err"; then
		echo "FAIL: output holds '$1'" >&2
		sed 's/^/  /' "$out" "$err" >&2
		failures=$((failures + 1))
	fi
}

# json CMD... PYTHON-EXPR: the output parses as JSON and the expression over it (j) is true.
json() {
	local expr=${!#}
	local args=("${@:1:$#-1}")
	if ! "$BIN" "${args[@]}" --json >"$out" 2>"$err" ||
		! python3 -c "import json,sys; j=json.load(open('$out')); sys.exit(0 if ($expr) else 1)"; then
		echo "FAIL: diskengine ${args[*]} --json: $expr" >&2
		sed 's/^/  /' "$out" "$err" >&2
		failures=$((failures + 1))
	fi
}

# --help on every command and verb
for noun in host node volume device db; do
	expect 0 "usage:" "$noun" --help
done
for v in "host add" "host list" "host show" "host remove" "node add" "node list" "node remove" \
	"volume create" "volume list" "volume show" "volume resize" "volume delete" "volume attach" \
	"volume detach" "device add" "device list" "device remove" "db migrate" "db status"; do
	# shellcheck disable=SC2086
	expect 0 "usage: diskengine $v" $v --help
done
expect 2 "unknown verb 'frobnicate'" host frobnicate
expect 2 "usage:" volume
expect 2 "unknown option '--bogus'" host list --bogus
expect 2 "missing value for option '--size'" volume create v1 --size
# the number of positional arguments
expect 2 "unexpected argument 'extra'" host list extra
expect 2 "unexpected argument 'extra'" node list extra
expect 2 "unexpected argument 'extra'" volume list extra
expect 2 "unexpected argument 'extra'" db status extra
expect 2 "expected one host NAME" host show a b
expect 2 "expected one node NAME" node remove
expect 2 "expected one VOLUME (name or id)" volume show
expect 2 "expected at most one HOST" device list a b
expect 2 "expected HOST and BDF" device remove h1
expect 2 "expected HOST and BDF" device add h1 0000:01:00.0 extra

# option errors name the argument as typed, on one line
expect 2 "unknown option '-json' (long options take two dashes: '--json')" host list -json
absent "'list'"
[ "$(wc -l <"$err")" -eq 1 ] || { echo "FAIL: a usage error is not one line" >&2; failures=$((failures + 1)); }
expect 2 "unknown option '--bogus'" status --bogus
expect 2 "missing value for option '--host'" status --host
# resize --help lists what resize takes, nothing of create's
expect 0 "--replica NODE:NQN" volume resize --help
absent "--qos"
absent "--block-size"
absent "--snapshot"

# an empty database: status reads it as it is and says what a write command would do
python3 -c "import sqlite3; sqlite3.connect('$tmp/empty.db').close()"
expect 0 "pending:        5 migration(s); 'diskengine db migrate' or any write command applies them" \
	db status --db "sqlite://$tmp/empty.db"

# a read command never creates the database a typo names
for cmd in "host list" "status" "volume list"; do
	# shellcheck disable=SC2086 # noun and verb as two words
	expect 3 "database file $tmp/typo.db does not exist" $cmd --db "$tmp/typo.db"
	if [ -e "$tmp/typo.db" ]; then
		echo "FAIL: '$cmd' created $tmp/typo.db" >&2
		failures=$((failures + 1))
		rm -f "$tmp/typo.db"
	fi
done

# schema
expect 0 "schema version 5" db migrate
expect 0 "applied 0 migration(s)" db migrate
json db status 'j["schema_version"] == 5 and j["latest_version"] == 5'

# hosts
expect 0 "host bm1 added" host add bm1 --rdma-ip 10.0.0.1 --tcp-ip 10.0.1.1 --tcp-ip fe80::1
expect 4 "host 'bm1' exists already" host add bm1
expect 2 "RDMA '10.0.0.256' is not an IPv4 or IPv6 address" host add bm2 --rdma-ip 10.0.0.256
expect 2 "expected one host NAME" host add
expect 0 "host bm2 added" host add bm2
evil="x'); DROP TABLE hosts; --"
expect 0 "added" host add "$evil"
json host show "$evil" "j['name'] == \"x'); DROP TABLE hosts; --\""
json host list 'len(j) == 3 and j[0]["name"] == "bm1" and j[0]["tcp_ips"] == ["10.0.1.1", "fe80::1"]'
expect 0 "fe80::1" host list
expect 3 "host 'nope' does not exist" host show nope

# nodes
expect 0 "storage node n1 added" node add n1 --transport rdma --address 10.0.0.5 --port 4420 \
	--auth-key-file /etc/diskengine/keys/n1.key
expect 0 "storage node n2 added" node add n2 --transport tcp --address 10.0.0.6 --port 4420
expect 2 "transport 'fc' is not rdma or tcp" node add n3 --transport fc --address 10.0.0.7 --port 1
expect 2 "port '70000' is not a number from 1 to 65535" node add n3 --transport tcp \
	--address 10.0.0.7 --port 70000
expect 2 "address 'storage-3' is not an IPv4 or IPv6 address" node add n3 --transport tcp \
	--address storage-3 --port 4420
expect 2 "must be an absolute path" node add n3 --transport tcp --address 10.0.0.7 --port 4420 \
	--auth-key-file key.pem
expect 2 "looks like a DH-HMAC-CHAP key itself" node add n3 --transport tcp --address 10.0.0.7 \
	--port 4420 --auth-key-file "DHHC-1:00:c2VjcmV0c2VjcmV0c2VjcmV0Cg==:"
if grep -q "c2VjcmV0" "$out" "$err"; then
	echo "FAIL: a key given as --auth-key-file was echoed" >&2
	failures=$((failures + 1))
fi
expect 2 "--transport, --address and --port are required" node add n3 --transport tcp
expect 4 "storage node 'n1' exists already" node add n1 --transport tcp --address 10.0.0.9 --port 4420
# one endpoint is one node (so no mirror over one target); addresses of no interface
expect 4 "storage node 'n2' is already tcp 10.0.0.6 port 4420" node add n3 --transport tcp \
	--address 10.0.0.6 --port 4420
expect 2 "address '0.0.0.0' is the unspecified address" node add n3 --transport tcp \
	--address 0.0.0.0 --port 4420
expect 2 "address '255.255.255.255' is the broadcast address" node add n3 --transport tcp \
	--address 255.255.255.255 --port 4420
expect 2 "TCP '224.0.0.1' is a multicast address" host add bm3 --tcp-ip 224.0.0.1
expect 2 "RDMA '::' is the unspecified address" host add bm3 --rdma-ip ::
expect 2 "host name must not be blank" host add "  "
json node list 'len(j) == 2 and j[0]["auth_key_file"] == "/etc/diskengine/keys/n1.key" and j[1]["auth_key_file"] is None'

# volumes
R1=nqn.2016-06.io.spdk:v1a
R2=nqn.2016-06.io.spdk:v1b
expect 0 "volume v1 created" volume create v1 --size 10G --replica "n1:$R1" --replica "n2:$R2" \
	--qos-rw-iops 10000 --qos-rw-mbps 200 --lvol-uuid 0b5d7c2e-3f4a-4b6c-9d8e-1f2a3b4c5d6e
expect 4 "volume 'v1' exists already" volume create v1 --size 10G --replica n1:nqn.2016-06.io.spdk:x \
	--replica n2:nqn.2016-06.io.spdk:y
expect 4 "NQN $R1 is already used by volume 'v1'" volume create v2 --size 1G --replica "n1:$R1" \
	--replica n2:nqn.2016-06.io.spdk:y
expect 2 "must start with 'nqn.'" volume create v2 --size 1G --replica n1:iqn.2016-06.io.spdk:x \
	--replica n2:nqn.2016-06.io.spdk:y
expect 2 "invalid date 2016-13" volume create v2 --size 1G --replica n1:nqn.2016-13.io.spdk:x \
	--replica n2:nqn.2016-06.io.spdk:y
expect 2 "exactly 2 replicas" volume create v2 --size 1G --replica n1:nqn.2016-06.io.spdk:x
expect 2 "is not NODE:NQN" volume create v2 --size 1G --replica nqn --replica n2:nqn.2016-06.io.spdk:y
expect 3 "storage node 'n7' does not exist" volume create v2 --size 1G \
	--replica n7:nqn.2016-06.io.spdk:x --replica n2:nqn.2016-06.io.spdk:y
expect 2 "size '10Q' is not a size" volume create v2 --size 10Q --replica n1:nqn.2016-06.io.spdk:x \
	--replica n2:nqn.2016-06.io.spdk:y
expect 2 "size must not be zero" volume create v2 --size 0 --replica n1:nqn.2016-06.io.spdk:x \
	--replica n2:nqn.2016-06.io.spdk:y
expect 2 "not a multiple of the block size 4096" volume create v2 --size 6144 --block-size 4096 \
	--replica n1:nqn.2016-06.io.spdk:x --replica n2:nqn.2016-06.io.spdk:y
expect 2 "block size '1024' is not 512 or 4096" volume create v2 --size 1G --block-size 1024 \
	--replica n1:nqn.2016-06.io.spdk:x --replica n2:nqn.2016-06.io.spdk:y
expect 2 "--size is required" volume create v2 --replica n1:nqn.2016-06.io.spdk:x \
	--replica n2:nqn.2016-06.io.spdk:y
expect 2 "not a multiple of 1000" volume create v2 --size 1G --qos-rw-iops 1500 \
	--replica n1:nqn.2016-06.io.spdk:x --replica n2:nqn.2016-06.io.spdk:y
# names, sizes and limits
REPS=(--replica n1:nqn.2016-06.io.spdk:x --replica n2:nqn.2016-06.io.spdk:y)
expect 2 "volume name must not be empty" volume create "" --size 1G "${REPS[@]}"
expect 2 "volume name must not be blank" volume create "   " --size 1G "${REPS[@]}"
expect 2 "size '99999999P' is too large (at most 9223372036854775807 bytes)" volume create v2 \
	--size 99999999P "${REPS[@]}"
expect 2 "size '9223372036854775808' is too large (at most 9223372036854775807 bytes)" volume \
	create v2 --size 9223372036854775808 "${REPS[@]}"
expect 2 "--qos-rw-mbps '9999999999999999' is too large (at most 8796093022207)" volume create \
	v2 --size 1G --qos-rw-mbps 9999999999999999 "${REPS[@]}"
expect 2 "size '4MB' is 4000000 bytes, not a multiple of the block size 512; did you mean 4M?" \
	volume create v2 --size 4MB "${REPS[@]}"
# nothing fills a volume from a snapshot yet: refused rather than waiting forever
expect 2 "--snapshot is not supported yet" volume create v2 --size 1G --snapshot snap-1 "${REPS[@]}"
expect 3 "volume 'v2' does not exist" volume show v2
json volume list 'len(j) == 1'
# the common options also before the noun
real_db=$DISKENGINE_DB
DISKENGINE_DB=/nonexistent-dir/elsewhere.db expect 0 "v1" --db "$real_db" volume list
DISKENGINE_DB=/nonexistent-dir/elsewhere.db expect 0 "\"size_bytes\": 10737418240" --db="$real_db" --json volume show v1
DISKENGINE_DB=/nonexistent-dir/elsewhere.db expect 0 "MAPPING" --db "$real_db" status
if ! "$BIN" --json volume list >"$out" 2>"$err" ||
	! python3 -c "import json; j=json.load(open('$out')); assert j[0]['name'] == 'v1'"; then
	echo "FAIL: diskengine --json volume list" >&2
	failures=$((failures + 1))
fi
expect 2 "missing value for option '--db'" --db
expect 0 "usage: diskengine -mode baremetal" -mode baremetal --help
expect 0 "usage: diskengine -mode baremetal" --mode baremetal --help
expect 4 "storage node 'n1' still holds 1 replica(s)" node remove n1
json volume show v1 'j["size_bytes"] == 10737418240 and j["qos"]["rw_iops"] == 10000 and len(j["replicas"]) == 2 and j["replicas"][0]["lvol_uuid"] == "0b5d7c2e-3f4a-4b6c-9d8e-1f2a3b4c5d6e" and j["mappings"] == [] and j["clean_stop"] is True'
expect 0 "10G" volume list
expect 0 "$R2" volume show v1
expect 3 "volume 'v9' does not exist" volume show v9

# attach / detach / delete / resize
expect 3 "volume 'v1' is not mapped to any host" volume detach v1
expect 2 "--host and --vm are required" volume attach v1 --host bm1
expect 3 "host 'bm9' does not exist" volume attach v1 --host bm9 --vm vm-1
"$BIN" volume attach v1 --host bm1 --vm vm-1 >"$out" 2>"$err"
mid=$(cat "$out")
[[ "$mid" =~ ^[0-9]+$ ]] || { echo "FAIL: attach printed '$mid', not a mapping id" >&2; failures=$((failures + 1)); }
expect 4 "volume 'v1' is already mapped to VM 'vm-1' on host 'bm1'" volume attach v1 --host bm2 --vm vm-2
expect 4 "volume 'v1' is mapped to host 'bm1'" volume delete v1
expect 4 "host 'bm1' still has 1 mapping(s)" host remove bm1
expect 2 "cannot shrink from 10737418240 to 5368709120 bytes" volume resize v1 --size 5G
expect 2 "size '25MB' is 25000000 bytes, not a multiple of the block size 512; did you mean 25M?" \
	volume resize v1 --size 25MB
expect 0 "resizing to 21474836480 bytes" volume resize v1 --size 20G
expect 4 "still resizing" volume resize v1 --size 30G
json volume show v1 "j['state'] == 'RESIZING' and j['mappings'][0]['id'] == $mid and j['mappings'][0]['state'] == 'ASSIGNED'"
json host show bm1 "len(j['mappings']) == 1 and j['mappings'][0]['vm_id'] == 'vm-1'"
expect 3 "not mapped to host 'bm2' (it is mapped to 'bm1')" volume detach v1 --host bm2
expect 0 "mapping $mid of volume v1: DETACH_REQUESTED" volume detach v1 --host bm1
expect 4 "already requested" volume detach v1
json volume show v1 "j['mappings'][0]['state'] == 'DETACH_REQUESTED'"

# devices
expect 0 "device 0000:82:00.0 added to host bm1" device add bm1 0000:82:00.0 --inventory-id inv-9
expect 4 "device 0000:82:00.0 is already registered on host 'bm1'" device add bm1 0000:82:00.0
expect 2 "is not of the form DDDD:BB:DD.F" device add bm1 82:00.0
expect 2 "function 9 is above 7" device add bm1 0000:82:00.9
expect 3 "host 'bm9' does not exist" device add bm9 0000:82:00.0
json device list bm1 'len(j) == 1 and j[0]["inventory_id"] == "inv-9"'
expect 0 "inv-9" device list
expect 0 "removed" device remove bm1 0000:82:00.0
expect 3 "is not registered on host 'bm1'" device remove bm1 0000:82:00.0

# a host gone for good: its mapping waits in DETACH_REQUESTED forever; every refusal names the
# way out, which is explicit and must be confirmed
expect 4 "if the host is gone for good: diskengine host declare-dead bm1" volume delete v1
expect 4 "if the host is gone for good: diskengine host declare-dead bm1" host remove bm1
expect 4 "If that host is gone for good: diskengine host declare-dead bm1" volume detach v1
expect 2 "not confirmed; with --yes it releases 1 mapping(s) of host 'bm1'" host declare-dead bm1
expect 2 "Power the host off or fence it first" host declare-dead bm1
json volume show v1 "j['mappings'][0]['state'] == 'DETACH_REQUESTED'"
expect 0 "host bm1 declared dead: released 1 mapping(s) (now DETACHED)" host declare-dead bm1 --yes
grep -qF "mapping $mid  volume v1  vm vm-1  DETACH_REQUESTED" "$out" ||
	{ echo "FAIL: declare-dead does not list mapping $mid" >&2; failures=$((failures + 1)); }
json host declare-dead bm1 --yes 'j["host"] == "bm1" and j["released"] == []'
expect 3 "host 'bm9' does not exist" host declare-dead bm9 --yes
expect 2 "expected one host NAME" host declare-dead --yes
json volume show v1 "j['mappings'] == [] and j['state'] == 'RESIZING'"
# a resize no host serves: refused; one left without a host resumes when attached again
expect 0 "volume v3 created" volume create v3 --size 1G --replica n1:nqn.2016-06.io.spdk:v3a \
	--replica n2:nqn.2016-06.io.spdk:v3b
expect 4 "volume 'v3' is not mapped to any host" volume resize v3 --size 2G
json volume show v3 "j['state'] == 'READY' and j['size_bytes'] == 1073741824"
expect 0 "volume v1 deleted" volume delete v1
expect 0 "volume v3 deleted" volume delete v3

# a host without mappings goes; the evil name never touched the tables
expect 0 "host bm2 removed" host remove bm2
json host list 'len(j) == 2 and any(h["name"] == "x'"'"'); DROP TABLE hosts; --" for h in j)'

# database trouble: unreachable and unknown URLs
expect 3 "database file /nonexistent-dir/de.db does not exist" host list --db /nonexistent-dir/de.db
expect 5 "cannot open SQLite database /nonexistent-dir/de.db" host add hx --db /nonexistent-dir/de.db
expect 5 "cannot connect to PostgreSQL" host list --db "host=/nonexistent-dir dbname=x connect_timeout=2"
expect 2 "names no known backend" host list --db mysql://db/x

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed" >&2
	exit 1
fi
echo "all CLI checks passed"
