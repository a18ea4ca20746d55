#!/bin/sh
# Sets up a fresh Debian 12 machine (as root) and runs every test: packages, build, ctest.
#   scripts/test.sh                 everything
#   RELAY_SANITIZE=1 scripts/test.sh   the same under ASan+UBSan
#   scripts/test.sh -R spool        only tests whose name matches (ctest -R)
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
dir=$(sh scripts/build.sh | tail -n 1)
# The integration tests run peers as other users (smtp-sink, Postfix): their work
# directories must be reachable.
export TMPDIR="${TMPDIR:-/tmp}"
chmod 755 "$TMPDIR" 2>/dev/null || true
ctest --test-dir "$dir" --output-on-failure --timeout 900 -j2 "$@"
# Malformed input must never crash the MIME and bounce parsers: a short libFuzzer run.
[ $# -eq 0 ] && sh scripts/fuzz.sh 20
exit 0
