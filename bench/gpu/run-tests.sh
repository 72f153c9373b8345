#!/usr/bin/env bash
# bench/gpu/run-tests.sh [BUILD_DIR | PACK.tar.xz] - the CUDA backend's checks on the GPU machine.
#
# Runs the CUDA test executables (kernels with every tactic, ops through the engine, the end-to-
# end network), then a smoke test of the bundled model through the CLI on the GPU against the
# CPU, and writes one log per step plus summary.txt under $OUT (the device tool returns at most 8
# files). The binaries come from a build folder (build-gpu, configured with
# -DPLINTH_CUDA=ON -DPLINTH_STATIC_DEPS=ON) or from a stripped, xz-compressed tarball of
# plinth and tests/test-cuda-* (smaller to carry: the static OpenBLAS makes each binary ~28 MB).
#
# On the device:  bash bench/gpu/run-tests.sh .devdata/cuda-bin.tar.xz
# Prepare here:   bash bench/gpu/run-tests.sh --pack build-gpu .devdata/cuda-bin.tar.xz
set -uo pipefail
cd "$(dirname "$0")/../.."

if [[ ${1:-} == --pack ]]; then
    src=${2:-build-gpu} dst=${3:-.devdata/cuda-bin.tar.xz}
    tmp=$(mktemp -d)
    cp "$src/plinth" "$src"/tests/test-cuda-* "$tmp/" && strip "$tmp"/* || exit 1
    mkdir -p "$(dirname "$dst")"
    tar -C "$tmp" -cf - . | xz -9 -T2 > "$dst" || exit 1
    rm -rf "$tmp"
    ls -la "$dst"
    exit 0
fi

OUT=${OUT:-/tmp/plinth-gpu-out}
mkdir -p "$OUT"
src=${1:-build-gpu}
if [[ -f $src ]]; then
    bin=$(mktemp -d)
    tar -C "$bin" -xJf "$src" || exit 1
    tests=$bin plinth=$bin/plinth
else
    tests=$src/tests plinth=$src/plinth
fi
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:/usr/local/cuda/lib:${LD_LIBRARY_PATH:-}
summary=$OUT/summary.txt
: > "$summary"
{
    date -u
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1
    "$plinth" --version 2>&1
} >> "$summary"

rc=0
for t in test-cuda-kernels test-cuda-ops test-cuda-e2e; do
    start=$(date +%s%N)
    timeout 300 "$tests/$t" > "$OUT/$t.log" 2>&1
    r=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    printf '%-20s exit %d  %6d ms  %s\n' "$t" "$r" "$ms" "$(tail -1 "$OUT/$t.log")" |
        tee -a "$summary"
    [[ $r -ne 0 ]] && rc=1
done

# the bundled model through the CLI: GPU (fp32 and fp16) against the CPU
smoke=$OUT/smoke.log
{
    d=$(mktemp -d)
    for dev in cpu cuda cuda-fp16; do
        flags=(--device "${dev%-fp16}")
        [[ $dev == *fp16 ]] && flags+=(--fp16)
        "$plinth" build models/tiny-resnet.onnx -o "$d/$dev.engine" "${flags[@]}" &&
            "$plinth" run "$d/$dev.engine" --outputs "$d/$dev" &&
            "$plinth" bench "$d/$dev.engine" --warmup 10 --iterations 100
    done
    "$plinth" inspect "$d/cuda-fp16.engine"
    python3 - "$d" <<'EOF'
import sys, glob, os, numpy as np, onnx
from onnx import numpy_helper
d = sys.argv[1]
for dev in ("cuda", "cuda-fp16"):
    for f in sorted(glob.glob(os.path.join(d, "cpu", "output_*.pb"))):
        a = numpy_helper.to_array(onnx.load_tensor(f)).astype(np.float64)
        b = numpy_helper.to_array(onnx.load_tensor(os.path.join(d, dev, os.path.basename(f)))).astype(np.float64)
        rel = np.linalg.norm(a - b) / max(np.linalg.norm(a), 1e-30)
        tol = 3e-2 if dev.endswith("fp16") else 1e-4
        print(f"smoke {dev} {os.path.basename(f)}: rel L2 {rel:.2e} {'ok' if rel < tol else 'FAIL'}")
EOF
} > "$smoke" 2>&1
grep -E "^smoke|latency" "$smoke" | tee -a "$summary"
grep -q FAIL "$smoke" && rc=1

# optional: the real models once through bench/gpu/bench-models.py (few iterations: a check that
# they build, run and match, not a benchmark)
if [[ ${RUN_MODELS:-0} == 1 ]]; then
    for tf in ${TF32:-default}; do
        timeout 420 python3 bench/gpu/bench-models.py --plinth "$plinth" --batches "${BATCHES:-1}" \
            --precisions "${PRECS:-fp32,fp16}" --iterations "${ITERS:-5}" --warmup 2 --tf32 "$tf" \
            ${DIAGNOSE:+--diagnose} >> "$OUT/bench-models.log" 2>&1 || rc=1
    done
    grep -E "^(\||GPU:)" "$OUT/bench-models.log" | tee -a "$summary"
fi
echo "overall exit $rc" | tee -a "$summary"
exit $rc
