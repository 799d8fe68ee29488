#!/usr/bin/env bash
# Runs meson's test suite and ends with one summary line: "N passed, N failed, N skipped".
set -uo pipefail
build=$1
shift
meson test -C "$build" "$@"
rc=$?
python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
try:
    with open(sys.argv[1]) as f:
        for line in f:
            r = json.loads(line).get("result")
            if r in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif r == "SKIP":
                skipped += 1
            else:
                failed += 1
except FileNotFoundError:
    pass
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $rc
