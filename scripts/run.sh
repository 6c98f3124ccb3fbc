#!/usr/bin/env bash
# Builds kinesd (Release) and runs it with its defaults: port 4567, data under ./data.
# Extra arguments go to kinesd, e.g. scripts/run.sh --port 4568 --log-level debug
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh build
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DKINESD_BUILD_TESTS=OFF >/dev/null
cmake --build build/release --target kinesd -j"$(nproc)"
exec build/release/kinesd "$@"
