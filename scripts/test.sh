#!/usr/bin/env bash
# README command 2: the whole test suite (unit tests per module, layer-vs-reference checks,
# engine round trips and corruption, plugins, ONNX importer and conformance, GPU tests that say
# "skipped" without a GPU). With --sanitize: the same suite built with ASan+UBSan (CPU only) and
# the libFuzzer smoke runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "${1:-}" = "--sanitize" ]; then
    export BUILD_DIR=build-asan BUILD_TYPE=RelWithDebInfo
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp
    CC=clang bash scripts/build.sh -DPLINTH_SANITIZE=ON -DPLINTH_CUDA=OFF -DPLINTH_FUZZ=ON
else
    export BUILD_DIR=build
    bash scripts/build.sh
fi
cd "$BUILD_DIR"
ctest --output-on-failure -j "${JOBS:-$(nproc)}" --timeout 1200
