#!/usr/bin/env bash
# Build the libFuzzer target for SPDK answer framing and decoding with clang (ASan + UBSan) and
# run it. usage: scripts/fuzz.sh [SECONDS] (default 60). New interesting inputs go to
# build-fuzz/corpus (the seed corpus in fuzz/corpus is only read); crashes to build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
out=build-fuzz
mkdir -p "$out/corpus"
cat > "$out/config.h" <<CONF
#define HAVE_SYSTEMD 0
#define HAVE_MICROHTTPD 0
#define DISKENGINE_VERSION "fuzz"
CONF
clang -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -Isrc -I"$out" \
	fuzz/fuzz_rpc_answers.c src/rpc/*.c src/common/log.c src/common/util.c \
	$(pkg-config --cflags --libs jansson) -lpthread -o "$out/fuzz_rpc_answers"
exec "$out/fuzz_rpc_answers" -max_total_time="$secs" -max_len=65536 -timeout=10 \
	-artifact_prefix="$out/" -print_final_stats=1 "$out/corpus" fuzz/corpus
