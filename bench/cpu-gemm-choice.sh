#!/usr/bin/env bash
# Builds bench/cpu-gemm-choice.c against OpenBLAS (static, Debian) and oneDNN 2.6 (Debian's
# libdnnl2 + ocl-icd-libopencl1, unpacked into .devdata/dnnl with dpkg -x), and runs it. On the GPU machine:
#   bash bench/cpu-gemm-choice.sh --prepare   (here)      then   bash bench/cpu-gemm-choice.sh   (there)
set -euo pipefail
cd "$(dirname "$0")/.."
D=.devdata/dnnl/usr
if [[ ${1:-} == --prepare ]]; then
    rm -rf .devdata/dnnl && mkdir -p .devdata/dnnl && tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download libdnnl-dev libdnnl2 ocl-icd-libopencl1 >/dev/null 2>&1)
    for f in "$tmp"/*.deb; do dpkg -x "$f" .devdata/dnnl; done
    rm -rf "$tmp"
    gcc -O2 -fopenmp -I$D/include -I/usr/include/x86_64-linux-gnu/openblas-pthread bench/cpu-gemm-choice.c \
        /usr/lib/x86_64-linux-gnu/libopenblas.a -L$D/lib/x86_64-linux-gnu -l:libdnnl.so.2 -Wl,-rpath-link,$D/lib/x86_64-linux-gnu \
        -lpthread -lm -o .devdata/cpu-gemm-choice
    rm -rf .devdata/dnnl/usr/include .devdata/dnnl/usr/share
    tar -C .devdata -cf - dnnl cpu-gemm-choice | xz -6 -T2 > .devdata/gemm-choice.tar.xz
    rm -rf .devdata/dnnl .devdata/cpu-gemm-choice
    exit 0
fi
mkdir -p /tmp/gc && tar -C /tmp/gc -xJf .devdata/gemm-choice.tar.xz
export LD_LIBRARY_PATH=/tmp/gc/dnnl/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
# Debian's OpenBLAS 0.3.21 does not know this CPU and would fall back to SSE3 kernels: name the core
OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX} OPENBLAS_NUM_THREADS=$(nproc) OMP_NUM_THREADS=$(nproc) \
    OMP_WAIT_POLICY=PASSIVE \
    /tmp/gc/cpu-gemm-choice
