#!/bin/sh
# Builds the libFuzzer harnesses with clang (ASan+UBSan) and runs each for SECONDS (default 30).
# A crash or sanitizer report exits non-zero. New inputs go to build-fuzz/corpus-*, seeded from
# the bounce corpus of the tests.
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-30}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DRELAY_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz --target fuzz-mime fuzz-bounce -j"$(nproc)"
for target in bounce mime; do
    mkdir -p "build-fuzz/corpus-$target"
    "build-fuzz/fuzz/fuzz-$target" -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 \
        "build-fuzz/corpus-$target" tests/integration/bounce-parse/corpus
done
