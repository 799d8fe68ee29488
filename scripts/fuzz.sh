#!/usr/bin/env bash
# Build the libFuzzer targets with clang (ASan + UBSan) and run each for SECONDS: SPDK answer
# framing and decoding, and drift's reading of a saved config. usage: scripts/fuzz.sh [SECONDS]
# (default 60 each). New interesting inputs go to build-fuzz/corpus and build-fuzz/corpus-saved
# (the seed corpora under fuzz/ are only read); crashes to build-fuzz/.
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
flags=(-std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined
	-fno-sanitize-recover=undefined -Isrc -I"$out")
libs=($(pkg-config --cflags --libs jansson) -lpthread)
clang "${flags[@]}" fuzz/fuzz_rpc_answers.c src/rpc/*.c src/common/log.c src/common/util.c \
	src/common/codec.c \
	"${libs[@]}" -o "$out/fuzz_rpc_answers"
# drift's saved-config comparison, with the planner it judges live SPDK by
clang "${flags[@]}" fuzz/fuzz_saved_config.c src/reconcile/drift.c src/reconcile/drift_model.c \
	src/reconcile/drift_saved.c src/reconcile/plan*.c src/reconcile/names.c \
	src/reconcile/geometry.c src/rpc/*.c src/common/log.c src/common/util.c src/common/codec.c \
	"${libs[@]}" -o "$out/fuzz_saved_config"
mkdir -p "$out/corpus-saved"
"$out/fuzz_rpc_answers" -max_total_time="$secs" -max_len=65536 -timeout=10 \
	-artifact_prefix="$out/" -print_final_stats=1 "$out/corpus" fuzz/corpus
exec "$out/fuzz_saved_config" -max_total_time="$secs" -max_len=65536 -timeout=10 \
	-artifact_prefix="$out/" -print_final_stats=1 "$out/corpus-saved" fuzz/corpus-saved
