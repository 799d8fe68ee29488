#!/usr/bin/env bash
# Installs the Debian packages diskengine needs to build, test and fuzz.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
	build-essential meson ninja-build pkg-config python3 clang libclang-rt-dev \
	libjansson-dev libcmocka-dev libsqlite3-dev sqlite3 libpq-dev postgresql \
	libsystemd-dev libmicrohttpd-dev zlib1g-dev procps jq util-linux iproute2 graphviz curl time >/dev/null
# promtool (in Debian's prometheus package) checks the /metrics text in the tests; the package's
# own service is not needed.
$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
