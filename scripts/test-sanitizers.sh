#!/usr/bin/env bash
# Builds kinesd and its tests under sanitizers and runs them; any sanitizer report fails.
#   build/asan: AddressSanitizer + UndefinedBehaviorSanitizer, the whole suite (unit + e2e, the
#               e2e tests run the instrumented server).
#   build/tsan: ThreadSanitizer, the concurrency unit tests and the concurrent e2e tests.
# Usage: scripts/test-sanitizers.sh [asan|tsan]...   (default: both)
# Reports go to build/<kind>/sanitizer-reports/ (log_path), from the test binaries and from every
# server the e2e tests start, so a report in a process whose exit status nobody checks (a server
# killed at the end of a test) still fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh test
jobs=$(nproc)
kinds=("$@")
((${#kinds[@]})) || kinds=(asan tsan)

# Unit tests that run threads against each other (storage group commit and readers, shard
# appends, the registry's syncer, shared codecs).
TSAN_UNIT_FILTER='*concurrent*:*thread*:segment_log_faults.*:periodic_syncer.*:stream_registry.*:shard.*'
# End-to-end tests with concurrent producers against one server, and shutdown under load.
TSAN_E2E=(test_durability test_records)

check_reports() {
    local dir=$1
    if compgen -G "$dir/*" >/dev/null; then
        echo "test-sanitizers: sanitizer reports in $dir:" >&2
        for f in "$dir"/*; do
            echo "=== $f" >&2
            head -n 60 "$f" >&2
        done
        return 1
    fi
}

configure_and_build() {
    local kind=$1 sanitize=$2
    shift 2
    cmake -S . -B "build/$kind" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKINESD_BUILD_TESTS=ON \
        -DKINESD_BUILD_BENCH=OFF "-DKINESD_SANITIZE=$sanitize" >/dev/null
    cmake --build "build/$kind" -j"$jobs" "$@"
}

status=0
for kind in "${kinds[@]}"; do
    start=$SECONDS
    reports="$PWD/build/$kind/sanitizer-reports"
    case $kind in
    asan)
        configure_and_build asan address,undefined
        rm -rf "$reports" && mkdir -p "$reports"
        export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:log_path=$reports/asan:strict_string_checks=1:detect_stack_use_after_return=1"
        export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
        (cd build/asan && ctest --output-on-failure -j"$jobs") || status=1
        check_reports "$reports" || status=1
        unset ASAN_OPTIONS UBSAN_OPTIONS
        ;;
    tsan)
        configure_and_build tsan thread --target kinesd kinesd_unit_tests
        rm -rf "$reports" && mkdir -p "$reports"
        export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$reports/tsan"
        build/tsan/tests/kinesd_unit_tests --gtest_filter="$TSAN_UNIT_FILTER" || status=1
        (cd tests/e2e && KINESD_BIN="$PWD/../../build/tsan/kinesd" python3 -m unittest "${TSAN_E2E[@]}") || status=1
        check_reports "$reports" || status=1
        unset TSAN_OPTIONS
        ;;
    *)
        echo "test-sanitizers: unknown kind '$kind' (asan or tsan)" >&2
        exit 2
        ;;
    esac
    echo "test-sanitizers: $kind done in $((SECONDS - start)) s (status so far $status)" >&2
done
exit $status
