#!/bin/sh
# Sets up a fresh Debian 12 machine (as root) and runs every test: packages, build, ctest.
#   scripts/test.sh                 everything
#   RELAY_SANITIZE=1 scripts/test.sh   the same under ASan+UBSan
#   scripts/test.sh -R spool        only tests whose name matches (ctest -R)
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
dir=$(sh scripts/build.sh | tail -n 1)
ctest --test-dir "$dir" --output-on-failure --timeout 900 -j2 "$@"
# Malformed input must never crash the MIME and bounce parsers: a short libFuzzer run.
[ $# -eq 0 ] && sh scripts/fuzz.sh 20
exit 0
