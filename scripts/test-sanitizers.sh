#!/usr/bin/env bash
# Builds kinesd and its tests under sanitizers and runs them; any sanitizer report fails.
#   build/asan: AddressSanitizer (with LeakSanitizer) + UndefinedBehaviorSanitizer, the whole
#               suite with ctest (unit + e2e; the e2e tests run the instrumented server).
#   build/tsan: ThreadSanitizer, the unit tests that run threads against each other and the e2e
#               tests with concurrent clients against one server.
# Usage: scripts/test-sanitizers.sh [asan|tsan]... [-- ctest arguments for the asan stage]
#   (default: both). KINESD_TSAN_UNIT_FILTER (a gtest filter) and KINESD_TSAN_E2E (test module
#   names, space-separated) replace the TSan stage's selection, e.g. to run one test.
# Reports go to build/<kind>/sanitizer-reports/ (log_path), from the test binaries and from every
# server the e2e tests start, so a report in a process whose exit status nobody checks (a server
# stopped in tearDownClass, whose leaks LeakSanitizer reports at exit) still fails the run.
# Servers killed with SIGKILL never reach the exit-time leak check, but every other report is
# written (and the process aborted) the moment the error happens.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh sanitizers
jobs=$(nproc)
kinds=()
ctest_args=()
while (($#)); do
    if [[ $1 == -- ]]; then
        shift
        ctest_args=("$@")
        break
    fi
    kinds+=("$1")
    shift
done
((${#kinds[@]})) || kinds=(asan tsan)

# Unit tests that run threads against each other (storage group commit, the commit pipeline
# and readers, shard appends, resharding against appends, the registry's syncer, the reaper,
# shared codecs).
TSAN_UNIT_FILTER=${KINESD_TSAN_UNIT_FILTER:-'*concurrent*:*thread*:segment_log_faults.*:segment_log_async_commits.*:commit_pipeline*:answer_hold_test.*:periodic_syncer.*:stream_registry.*:shard.*:stream_reshard.*:reaper_test.*:subscribe_test.*:append_signal.*'}
# End-to-end tests with concurrent clients against one server: concurrent producers with
# --fsync always (group commit), SIGTERM under a put load and the drain of requests in flight,
# 1000 concurrent calls on one HTTP/2 connection, and the routing/ordering tests. Left out: the
# soak (it only repeats the same load for longer) and the crash torture (SIGKILL loops, whose
# concurrency test_durability covers in less time).
read -r -a TSAN_E2E <<<"${KINESD_TSAN_E2E:-test_durability test_records test_http2 test_subscribe test_subscribe_http2}"

# The sanitizer builds: -O1 (the sanitizers' own advice: fast enough to run, quick to compile)
# and line tables only (-g1), enough for symbolized stacks; NDEBUG as in the normal build, so the
# code under test is the same.
configure_and_build() {
    local kind=$1 sanitize=$2
    shift 2
    cmake -S . -B "build/$kind" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" -DKINESD_BUILD_TESTS=ON \
        -DKINESD_BUILD_BENCH=OFF "-DKINESD_SANITIZE=$sanitize" >/dev/null
    cmake --build "build/$kind" -j"$jobs" "$@"
}

check_reports() {
    local dir=$1
    if compgen -G "$dir/*" >/dev/null; then
        echo "test-sanitizers: sanitizer reports in $dir:" >&2
        for f in "$dir"/*; do
            echo "=== $f" >&2
            head -n 80 "$f" >&2
        done
        return 1
    fi
}

# Every time limit the e2e tests wait up to is multiplied by this (tests/e2e/kinesd_harness.py).
export KINESD_TEST_TIMEOUT_SCALE=4
supp="$PWD/config/sanitizers"

status=0
for kind in "${kinds[@]}"; do
    start=$SECONDS
    reports="$PWD/build/$kind/sanitizer-reports"
    case $kind in
    asan)
        configure_and_build asan address,undefined
        rm -rf "$reports" && mkdir -p "$reports"
        export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:log_path=$reports/asan:strict_string_checks=1:detect_stack_use_after_return=1"
        export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
        export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
        # test_http2_soak asserts that a server's anonymous memory stays flat under load, which
        # ASan's quarantine of freed memory (hundreds of MiB by design) makes meaningless; its
        # load runs under ASan in test_http2 and the other e2e files anyway.
        (cd build/asan && KINESD_SANITIZER_REPORT_DIR="$reports" \
            ctest --output-on-failure -j"$jobs" -E '^e2e\.test_http2_soak$' "${ctest_args[@]}") || status=1
        check_reports "$reports" || status=1
        unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
        ;;
    tsan)
        configure_and_build tsan thread --target kinesd kinesd_unit_tests
        rm -rf "$reports" && mkdir -p "$reports"
        export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$reports/tsan:suppressions=$supp/tsan.supp"
        # Without address-space randomization: GCC 12's TSan cannot map its shadow memory on
        # kernels with more mmap randomization bits (vm.mmap_rnd_bits > 28); the servers the
        # tests start inherit it.
        norandom=(setarch "$(uname -m)" -R)
        "${norandom[@]}" build/tsan/tests/kinesd_unit_tests --gtest_filter="$TSAN_UNIT_FILTER" || status=1
        # Three I/O threads (the default, half the cores, is one on a 2-core machine): connections
        # on different io_contexts and HTTP/2 handlers run on another context's thread are then
        # exercised under TSan too.
        (cd tests/e2e && KINESD_THREADS=3 KINESD_BIN="$PWD/../../build/tsan/kinesd" KINESD_SANITIZER_REPORT_DIR="$reports" \
            "${norandom[@]}" python3 -m unittest "${TSAN_E2E[@]}") || status=1
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
