#!/usr/bin/env bash
# Configures and builds plinth into build/ (or $BUILD_DIR). CUDA is used when the toolkit is present.
# Extra arguments go to cmake (e.g. -DPLINTH_SANITIZE=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} "$@" >/dev/null
ninja -C "$BUILD_DIR" -j "$JOBS"
