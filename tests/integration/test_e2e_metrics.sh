#!/usr/bin/env bash
# Prometheus metrics: the daemon started with --metrics-listen serves /metrics while it works.
# Every scrape is checked line by line (promtool and a strict parser of the format). After I/O
# counted on a volume's raid (spdk-sim's io control) the volume shows non-zero rates and SPDK's
# latency; a lost replica shows as a degraded raid with a missing member; a path that drops and
# comes back is counted as a reset and a failed reset of its controller. A client that accepts
# gzip (Prometheus, curl --compressed) gets the same text gzip-encoded; one that refuses it
# (gzip;q=0) or does not ask gets it plain. A bad address is refused at start-up with exit 2.
source "$(dirname "$0")/lib.sh"

CHECK="$(dirname "$0")/prom_check.py"

log "a bad --metrics-listen is refused (exit 2)"
for bad in "nohost:9100" "127.0.0.1" "127.0.0.1:0" "127.0.0.1:70000" "[::1:9100"; do
	set +e
	out=$("$DISKENGINE_BIN" -mode baremetal --host h1 --spdk-sock "$T/host.sock" \
		--db "$DISKENGINE_DB" --metrics-listen "$bad" 2>&1)
	rc=$?
	set -e
	[ $rc -eq 2 ] || fail "--metrics-listen $bad: exit $rc, want 2 ($out)"
	grep -q "metrics-listen" <<<"$out" || fail "--metrics-listen $bad: message: $out"
done

two_nodes
v1=$(make_volume v1)
v2=$(make_volume v2)
m1=$(attach_volume v1 vm1)
m2=$(attach_volume v2 vm2)
PORT=$(free_port)
URL="http://127.0.0.1:$PORT/metrics"

log "an address in use is refused (exit 2)"
python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(30)' "$PORT" &
BUSY=$!
PIDS+=("$BUSY")
wait_until 10 "port $PORT taken" python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])))' "$PORT"
set +e
out=$("$DISKENGINE_BIN" -mode baremetal --host h1 --spdk-sock "$T/host.sock" --db "$DISKENGINE_DB" \
	--saved-config "$T/spdk-config.json" --metrics-listen "127.0.0.1:$PORT" 2>&1)
rc=$?
set -e
[ $rc -eq 2 ] || fail "address in use: exit $rc, want 2 ($out)"
kill "$BUSY"
wait "$BUSY" 2>/dev/null || true

# a lost path is kept for 6 s: the flap below must come back before SPDK gives the controller up
daemon_start --metrics-listen "127.0.0.1:$PORT" --iostat-interval-ms 200 --ctrlr-loss-timeout 6 \
	--member-giveup 7
wait_until 40 "mapping $m1 ATTACHED" state_is "$m1" ATTACHED
wait_until 40 "mapping $m2 ATTACHED" state_is "$m2" ATTACHED

# scrape: one GET, checked with promtool and the strict parser; the text is left in $T/scrape
n_scrape=0
scrape() {
	n_scrape=$((n_scrape + 1))
	curl -sf -o "$T/scrape" -D "$T/scrape.headers" "$URL" || return 1
	grep -qi '^content-type: text/plain; version=0.0.4' "$T/scrape.headers" ||
		fail "content type: $(cat "$T/scrape.headers")"
	python3 "$CHECK" <"$T/scrape" >/dev/null || fail "scrape $n_scrape does not parse (kept in $T/scrape)"
	if command -v promtool >/dev/null; then
		promtool check metrics <"$T/scrape" >"$T/promtool.out" 2>&1 ||
			fail "promtool: $(cat "$T/promtool.out")"
	fi
}
# value NAME LABELS: the value of the sample NAME{LABELS} in the last scrape (empty if none)
value() {
	local k=$1
	[ -z "$2" ] || k="$1{$2}"
	awk -v k="$k" '$1 == k {print $2}' "$T/scrape"
}
# metric_is NAME LABELS WANT: scrape, then compare
metric_is() { scrape && [ "$(value "$1" "$2")" = "$3" ]; }
metric_above() { scrape && python3 -c 'import sys; sys.exit(0 if float(sys.argv[1] or "0") > float(sys.argv[2]) else 1)' "$(value "$1" "$2")" "$3"; }

wait_until 30 "/metrics answers" scrape
log "states of raids and mappings"
wait_until 30 "raid_$v1 online" metric_is diskengine_raid_state "volume=\"$v1\",state=\"online\"" 1
metric_is diskengine_raid_members_operational "volume=\"$v1\"" 2 || fail "raid_$v1 members: $(grep raid_members_operational "$T/scrape")"
metric_is diskengine_mapping_state "mapping=\"$m2\",volume=\"$v2\",state=\"attached\"" 1 ||
	fail "mapping $m2 not attached in the metrics: $(grep mapping_state "$T/scrape")"
for fam in diskengine_pass_duration_seconds diskengine_spdk_call_duration_seconds \
	diskengine_spdk_call_errors_total diskengine_database_errors_total \
	process_resident_memory_bytes diskengine_path_state diskengine_controller_resets_total; do
	grep -q "^# TYPE $fam " "$T/scrape" || fail "no family $fam"
done
metric_above process_resident_memory_bytes "" 1000000 || fail "RSS: $(value process_resident_memory_bytes "")"
metric_above diskengine_spdk_call_duration_seconds_count 'method="bdev_raid_create"' 0 ||
	fail "no bdev_raid_create counted: $(grep spdk_call "$T/scrape")"

log "I/O through raid_$v1 shows as rates and latency"
io() { ctl "$T/host.ctl" "{\"cmd\":\"io\",\"name\":\"raid_$v1\",\"reads\":1000,\"writes\":500,\"io_size\":4096,\"latency_us\":250}" >/dev/null; }
# above NAME LABELS X: the value in the last scrape is above X
above() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1] or "0") > float(sys.argv[2]) else 1)' "$(value "$1" "$2")" "$3"; }
# a guest writing all the time: every iostat interval has I/O in it
io_loop() { while :; do io; sleep 0.05; done; }
io_loop &
IO_PID=$!
PIDS+=("$IO_PID")
rate_shown() { scrape && above diskengine_volume_write_bytes_per_second "volume=\"$v1\"" 0; }
wait_until 30 "write rate of volume $v1" rate_shown
above diskengine_volume_read_ops_per_second "volume=\"$v1\"" 0 || fail "read rate: $(grep "volume=\"$v1\"" "$T/scrape")"
[ "$(value diskengine_volume_read_latency_seconds "volume=\"$v1\"")" = 0.00025 ] ||
	fail "read latency: $(grep latency "$T/scrape")"
[ "$(value diskengine_volume_write_latency_seconds "volume=\"$v1\"")" = 0.00025 ] ||
	fail "write latency: $(grep latency "$T/scrape")"
above diskengine_volume_written_bytes_total "volume=\"$v1\"" 2047999 || fail "written bytes total"
# the other volume had no I/O of its own
[ "$(value diskengine_volume_write_ops_per_second "volume=\"$v2\"")" = 0 ] ||
	fail "volume $v2 without I/O: $(grep "volume=\"$v2\"" "$T/scrape")"

log "gzip when the scraper accepts it (as Prometheus does), plain otherwise"
# fetch NAME [CURL ARGS]: GET into $T/NAME (as sent) and $T/NAME.headers
fetch() {
	local f=$1
	shift
	curl -sf -o "$T/$f" -D "$T/$f.headers" "$@" "$URL"
}
header() { tr -d '\r' <"$T/$1.headers" | awk -v h="$2" 'tolower($1) == tolower(h) ":" {print $2}'; }
# series FILE: the sample names with their labels, values left out (they change between passes)
series() { grep -v '^#' "$1" | sed -E 's/ [^ ]+$//' | sort; }
# gzip_matches_plain CURL ARGS: the answer to CURL ARGS, decoded ($T/gz.txt), has the families,
# HELP and series of a plain answer fetched right after (retried: a publish in between may add a
# series); whether it came gzip-encoded is checked by the caller
gzip_matches_plain() {
	fetch gz "$@" && fetch plain || return 1
	if [ "$1" != --compressed ] && [ "$(header gz Content-Encoding)" = gzip ]; then
		gzip -dc <"$T/gz" >"$T/gz.txt" || return 1
	else
		cp "$T/gz" "$T/gz.txt"
	fi
	cmp -s <(grep '^#' "$T/gz.txt") <(grep '^#' "$T/plain") &&
		cmp -s <(series "$T/gz.txt") <(series "$T/plain")
}
# gzip_check WHAT: the last gzip_matches_plain answer was gzip, parses, and says Vary
gzip_check() {
	[ "$(header gz Content-Encoding)" = gzip ] || fail "$1: not gzip: $(cat "$T/gz.headers")"
	[ "$(header gz Vary)" = Accept-Encoding ] || fail "$1: no Vary: $(cat "$T/gz.headers")"
	[ -z "$(header plain Content-Encoding)" ] || fail "plain asked: $(cat "$T/plain.headers")"
	[ "$(header plain Vary)" = Accept-Encoding ] || fail "plain: no Vary: $(cat "$T/plain.headers")"
	python3 "$CHECK" <"$T/gz.txt" >/dev/null || fail "$1: the answer does not parse ($T/gz.txt)"
	if command -v promtool >/dev/null; then
		promtool check metrics <"$T/gz.txt" >"$T/promtool.out" 2>&1 ||
			fail "$1: promtool: $(cat "$T/promtool.out")"
	fi
}
wait_until 30 "curl --compressed: same series as plain" gzip_matches_plain --compressed
gzip_check "curl --compressed"
for ae in "gzip" "deflate, gzip" "br;q=1.0, gzip;q=0.8, *;q=0.1" "x-gzip" "*" "identity;q=0, GZIP"; do
	wait_until 30 "Accept-Encoding: $ae: same series as plain" gzip_matches_plain \
		-H "Accept-Encoding: $ae"
	gzip_check "Accept-Encoding: $ae"
	[ "$(head -c2 "$T/gz" | od -An -tx1 | tr -d ' ')" = 1f8b ] || fail "$ae: not a gzip body"
	[ "$(stat -c %s "$T/gz")" -lt "$(stat -c %s "$T/plain")" ] || fail "$ae: gzip is not smaller"
done
for ae in "gzip;q=0" "gzip; q=0.000, deflate" "identity" "deflate, br" "*;q=0" "gzip;q=0, *"; do
	fetch ae -H "Accept-Encoding: $ae" || fail "Accept-Encoding: $ae: GET failed"
	[ -z "$(header ae Content-Encoding)" ] || fail "Accept-Encoding: $ae: $(cat "$T/ae.headers")"
	python3 "$CHECK" <"$T/ae" >/dev/null || fail "Accept-Encoding: $ae: plain body does not parse"
done
# several Accept-Encoding fields are one list
fetch ae -H "Accept-Encoding: deflate" -H "Accept-Encoding: gzip" || fail "GET failed"
[ "$(header ae Content-Encoding)" = gzip ] || fail "two fields: $(cat "$T/ae.headers")"
# the server's own compression time is published
metric_above diskengine_metrics_publish_duration_seconds 'step="render"' 0 ||
	fail "render time: $(grep publish_duration "$T/scrape")"
wait_until 30 "gzip time published" metric_above diskengine_metrics_publish_duration_seconds \
	'step="gzip"' 0

log "a path that drops and comes back is a failed reset and a reset"
ctrlr_b=$(graph | awk '/^ctrlr / && /:v2-b/ {print $2}')
[ -n "$ctrlr_b" ] || fail "no controller for v2 on node 2: $(graph)"
state_b() { host_rpc bdev_nvme_get_controllers "{\"name\":\"$ctrlr_b\"}" | jq -r '.[0].ctrlrs[0].state'; }
b_is() { [ "$(state_b)" = "$1" ]; }
ctl "$T/host.ctl" "{\"cmd\":\"path_down\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"$P2\"}" >/dev/null
wait_until 30 "$ctrlr_b reconnect_is_delayed" b_is reconnect_is_delayed
wait_until 30 "path state in the metrics" metric_is diskengine_path_state \
	"controller=\"$ctrlr_b\",traddr=\"127.0.0.1\",trsvcid=\"$P2\",state=\"reconnect_is_delayed\"" 1
ctl "$T/host.ctl" "{\"cmd\":\"path_up\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"$P2\"}" >/dev/null
wait_until 30 "$ctrlr_b enabled again" b_is enabled
wait_until 60 "reset of $ctrlr_b counted" metric_above diskengine_controller_resets_total \
	"controller=\"$ctrlr_b\"" 0
metric_above diskengine_controller_failed_resets_total "controller=\"$ctrlr_b\"" 0 ||
	fail "failed reset not counted: $(grep resets "$T/scrape")"

log "while v2's controllers reset back to back, the scraper leaves v2 alone"
v2_ctrlrs=$(graph | awk '/^ctrlr / && /:v2-/ {print $2}')
[ "$(wc -w <<<"$v2_ctrlrs")" = 2 ] || fail "v2 controllers not found: $(graph)"
storm() {
	while :; do
		for c in $v2_ctrlrs; do
			for _ in 1 2 3 4 5; do echo "bdev_nvme_reset_controller {\"name\":\"$c\"}"; done
		done | rpc_batch "$T/host.sock" >/dev/null 2>&1 || true
	done
}
scrape
skips0=$(value diskengine_iostat_skips_total "")
storm &
STORM_PID=$!
PIDS+=("$STORM_PID")
skipped() { scrape && above diskengine_iostat_skips_total "" "$skips0"; }
wait_until 60 "an iostat round skipping v2" skipped
# v1's rates go on meanwhile
log "v2 skipped; v1 is still scraped"
rate_v1() { scrape && above diskengine_volume_read_ops_per_second "volume=\"$v1\"" 0; }
wait_until 30 "v1 still scraped during v2's resets" rate_v1
kill "$STORM_PID" "$IO_PID"
wait "$STORM_PID" "$IO_PID" 2>/dev/null || true

log "a lost replica shows as a degraded raid"
nqn_b=nqn.2016-06.io.diskengine:v1-b
rpc "$T/t2.sock" nvmf_subsystem_remove_listener "{\"nqn\":\"$nqn_b\",\"listen_address\":{\"trtype\":\"TCP\",\"adrfam\":\"IPv4\",\"traddr\":\"127.0.0.1\",\"trsvcid\":\"$P2\"}}" >/dev/null
wait_until 90 "raid_$v1 degraded in the metrics" metric_is diskengine_raid_members_operational \
	"volume=\"$v1\"" 1
metric_is diskengine_raid_state "volume=\"$v1\",state=\"online\"" 1 ||
	fail "a degraded raid1 still says online: $(grep "raid_state{volume=\"$v1\"" "$T/scrape")"
grep -q "^diskengine_raid_member_state{volume=\"$v1\",member=\"[^\"]*\",state=\"missing\"} 1$" "$T/scrape" ||
	grep -q "^diskengine_raid_member_state{volume=\"$v1\",member=\"[^\"]*\",state=\"configuring\"} 1$" "$T/scrape" ||
	fail "no lost member of raid_$v1: $(grep member_state "$T/scrape")"

log "every metric the example Grafana dashboard uses is served"
for fam in $(grep -o '\(diskengine\|process\)_[a-z_]*' "$SOURCE_ROOT/dist/grafana-dashboard.json" |
	sed -E 's/_(bucket|sum|count)$//' | sort -u); do
	grep -q "^# TYPE $fam " "$T/scrape" || fail "the dashboard uses $fam, which /metrics does not serve"
done

log "other paths answer 404; the endpoint survives the daemon's work"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/")
[ "$code" = 404 ] || fail "/ answered $code"
[ "$(ctl "$T/host.ctl" '{"cmd":"tripwires"}' | jq -r .result.unfiltered_bdev_get_bdevs_during_reset)" = 0 ] ||
	fail "an unfiltered bdev call landed in a reset"
[ "$(ctl "$T/host.ctl" '{"cmd":"tripwires"}' | jq -r .result.unfiltered_bdev_get_iostat)" = 0 ] ||
	fail "bdev_get_iostat was sent without a name"
iostat_calls=$(ctl "$T/host.ctl" '{"cmd":"stats"}' | jq -r '.result.bdev_get_iostat // 0')
[ "$iostat_calls" -gt 0 ] || fail "no bdev_get_iostat call counted"
daemon_stop
log "ok"
