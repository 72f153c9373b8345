#!/usr/bin/env bash
# README command 2: the whole test suite, in two passes.
#   1. build/ (CUDA compiled when the toolkit is present): unit tests per module, layer-vs-reference
#      checks, engine round trips and corruption, plugins, ONNX importer and conformance, and the
#      GPU tests (they print "skipped: no CUDA device" without a GPU);
#   2. build-asan/ (clang, CPU only): the same suite under AddressSanitizer + UBSan, plus the
#      libFuzzer smoke runs of the engine reader and the importer.
# --quick runs pass 1 only; --sanitize runs pass 2 only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mode=${1:-all}

run_pass() { # $1 = build dir
    (cd "$1" && ctest --output-on-failure -j "${JOBS:-$(nproc)}" --timeout 1200)
}

if [ "$mode" != "--sanitize" ]; then
    BUILD_DIR=build bash scripts/build.sh
    run_pass build
fi
if [ "$mode" != "--quick" ]; then
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp
    BUILD_DIR=build-asan BUILD_TYPE=RelWithDebInfo CC=clang \
        bash scripts/build.sh -DPLINTH_SANITIZE=ON -DPLINTH_CUDA=OFF -DPLINTH_FUZZ=ON
    run_pass build-asan
fi
