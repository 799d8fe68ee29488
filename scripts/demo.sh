#!/usr/bin/env bash
# The README demo: start spdk-sim, talk to it with diskengine.
set -euo pipefail
build=${1:-build}
echo "demo: not yet wired up"
