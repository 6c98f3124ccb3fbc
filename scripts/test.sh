#!/usr/bin/env bash
# Builds kinesd and every test, then runs them all with ctest (unit tests and end-to-end tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh test
cmake -S . -B build/test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKINESD_BUILD_TESTS=ON >/dev/null
cmake --build build/test -j"$(nproc)"
cd build/test
ctest --output-on-failure -j"$(nproc)" "$@"
