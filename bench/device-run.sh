#!/usr/bin/env bash
# bench/device-run.sh PART - what one call to the GPU machine runs; every number in
# bench/RESULTS.md comes from here. Prepare on the dev machine first:
#   bash bench/device-run.sh --prepare     (packs build-gpu binaries and the ONNX test data into .devdata/)
# then on the device (carry .devdata):
#   bash bench/device-run.sh gpu           CUDA tests, CUDA conformance, GPU models vs PyTorch
#   bash bench/device-run.sh gpu-tests     CUDA tests and CUDA conformance only
#   bash bench/device-run.sh lanes         extra streams for branches: one stream vs lanes vs auto
#   bash bench/device-run.sh cpu           real models on the CPU vs ONNX Runtime
# BIN=.devdata/other.tar.xz picks another binary pack (e.g. a CPU-only static build).
# Logs go to $OUT (at most 8 files come back).
set -uo pipefail
cd "$(dirname "$0")/.."
if [[ ${1:-} == --prepare ]]; then
    mkdir -p .devdata
    tmp=$(mktemp -d)
    cp build-gpu/plinth build-gpu/tests/plinth-conformance build-gpu/tests/test-cuda-* "$tmp/" && strip "$tmp"/* || exit 1
    tar -C "$tmp" -cf - . | xz -6 -T2 > .devdata/bin.tar.xz || exit 1
    tar -C ../shared -cf - onnx-node-tests onnx-simple-tests onnx-pytorch-operator-tests \
        onnx-pytorch-converted-tests | xz -6 -T2 > .devdata/onnx-tests.tar.xz || exit 1
    ls -la .devdata
    exit 0
fi
OUT=${OUT:-/tmp/plinth-out}
mkdir -p "$OUT" /tmp/pl/bin /tmp/pl/shared
tar -C /tmp/pl/bin -xJf ${BIN:-.devdata/bin.tar.xz} || exit 1
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
B=/tmp/pl/bin
rc=0
case ${1:-gpu} in
gpu|gpu-tests)
    tar -C /tmp/pl/shared -xJf .devdata/onnx-tests.tar.xz || exit 1
    { nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; $B/plinth --version; } > "$OUT/summary.txt"
    for f in $B/test-cuda-*; do
        t=$(basename "$f")
        [[ -x $f ]] || continue
        timeout 300 $B/$t > "$OUT/$t.log" 2>&1; r=$?
        echo "$t exit $r: $(tail -1 "$OUT/$t.log")" >> "$OUT/summary.txt"; [[ $r -ne 0 ]] && rc=1
    done
    cat "$OUT"/test-cuda-*.log > "$OUT/cuda-tests.log" 2>/dev/null; rm -f "$OUT"/test-*.log
    # every conformance test that passes on the CPU must pass on CUDA
    timeout 400 $B/plinth-conformance /tmp/pl/shared/onnx-node-tests /tmp/pl/shared/onnx-simple-tests \
        /tmp/pl/shared/onnx-pytorch-operator-tests /tmp/pl/shared/onnx-pytorch-converted-tests \
        --device cuda --expect tests/conformance/expected-cpu.txt --write-passes "$OUT/cuda-passes.txt" \
        > "$OUT/conformance-cuda.log" 2>&1
    echo "conformance cuda exit $?: $(grep -E '^conformance' "$OUT/conformance-cuda.log" | tr '\n' ' ')" >> "$OUT/summary.txt"
    grep -E "^FAIL" "$OUT/conformance-cuda.log" | head -30 >> "$OUT/summary.txt"
    if [[ ${1:-gpu} == gpu ]]; then
        timeout 420 python3 bench/gpu/bench-models.py --plinth $B/plinth --tf32 off --iterations ${ITERS:-50} \
            --warmup 10 > "$OUT/gpu-models.log" 2>&1 || rc=1
        grep -E "^(\||GPU:)" "$OUT/gpu-models.log" >> "$OUT/summary.txt"
    fi
    ;;
lanes)
    { nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; $B/plinth --version; } > "$OUT/summary.txt"
    timeout 560 python3 bench/gpu/bench-lanes.py --plinth $B/plinth > "$OUT/gpu-lanes.log" 2>&1 || rc=1
    grep -E "^(\||GPU:)" "$OUT/gpu-lanes.log" >> "$OUT/summary.txt"
    ;;
cpu)
    nproc > "$OUT/summary.txt"
    timeout 560 python3 bench/cpu-models.py --plinth $B/plinth > "$OUT/cpu-models.log" 2>&1 || rc=1
    cat "$OUT/cpu-models.log" >> "$OUT/summary.txt"
    ;;
esac
echo "overall exit $rc" >> "$OUT/summary.txt"
cat "$OUT/summary.txt"
exit $rc
