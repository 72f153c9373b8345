#!/usr/bin/env bash
# README command 1: set up, build, and run plinth's main job on the bundled model:
# import models/tiny-resnet.onnx, build an engine, inspect it, run it, and time it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
P=build/plinth
MODEL=models/tiny-resnet.onnx
$P --version
$P build $MODEL -o build/tiny-resnet.engine --shapes input:1x3x64x64/4x3x64x64/8x3x64x64
$P inspect build/tiny-resnet.engine | head -n 12
$P run build/tiny-resnet.engine
$P bench build/tiny-resnet.engine --warmup 5 --iterations 50
