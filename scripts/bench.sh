#!/usr/bin/env bash
# Runs every benchmark under bench/ (files named *-bench.sh) against a build directory:
#   scripts/bench.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
for b in "$root"/bench/*-bench.sh; do
	[ -x "$b" ] || continue
	echo "== $(basename "$b")"
	"$b" "$build"
done
