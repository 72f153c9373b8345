#!/usr/bin/env bash
# Installs everything plinth's build and tests need on Debian 12 (run as root, or with sudo
# available). Idempotent, and quick when everything is already there.
set -euo pipefail

PKGS=(build-essential cmake ninja-build clang libomp-14-dev pkg-config
      libprotobuf-c-dev protobuf-c-compiler libonnx-dev libopenblas-dev libxxhash-dev
      python3 python3-pip)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python oracles for the tests (numpy, onnx, onnxruntime); C tests never need them.
PY=${PYTHON:-python3}
if ! $PY -c "import numpy, onnx, onnxruntime" 2>/dev/null; then
    echo "setup: installing numpy onnx onnxruntime from PyPI"
    $PY -m pip install -q numpy onnx onnxruntime 2>/dev/null ||
        $PY -m pip install -q --break-system-packages numpy onnx onnxruntime
fi
echo "setup: ok"
