#!/bin/sh
# Configures and builds the toolkit into build/ (RELAY_SANITIZE=1 for ASan+UBSan in build-asan/).
set -eu
cd "$(dirname "$0")/.."
if [ "${RELAY_SANITIZE:-0}" = 1 ]; then
    dir=build-asan
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DRELAY_SANITIZE=ON >/dev/null
else
    dir=build
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$dir" -j"$(nproc)"
echo "$dir"
