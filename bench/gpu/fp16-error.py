"""fp16 accuracy in context: relative L2 error of the logits against the float32 CPU output for
PyTorch fp16 (model.half() on the GPU) and plinth fp16 engines with the channels-last path on and
off, on the same calibrated random model and input (bench/model_zoo.py).
    python3 bench/gpu/fp16-error.py --plinth PLINTH [--model resnet50]"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import model_zoo  # noqa: E402


def rel(a, b):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), 1e-30))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plinth", default="build-gpu/plinth")
    ap.add_argument("--models", default="resnet50,mobilenet_v3_large")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    for name in args.models.split(","):
        path = os.path.join(tmp, name + ".onnx")
        model = model_zoo.export(name, path)
        x = torch.randn(8, 3, 224, 224, generator=torch.Generator().manual_seed(1))
        np.save(os.path.join(tmp, "x.npy"), x.numpy())
        with torch.no_grad():
            ref = model(x).numpy()
            half = model.half().cuda()(x.half().cuda()).float().cpu().numpy()
        line = f"{name} batch 8: torch fp16 {rel(ref, half):.2e}"
        for nhwc in ("1", "0"):
            out = os.path.join(tmp, "out" + nhwc)
            env = dict(os.environ, PLINTH_CUDA_NHWC=nhwc)
            subprocess.run([args.plinth, "run", path, "--device", "cuda", "--fp16", "--shapes",
                            "input:8x3x224x224", "--input", "input=" + os.path.join(tmp, "x.npy"),
                            "--outputs", out], check=True, capture_output=True, env=env)
            got = numpy_helper.to_array(onnx.load_tensor(os.path.join(out, "output_0.pb")))
            line += f", plinth fp16 {'NHWC' if nhwc == '1' else 'NCHW'} {rel(ref, got):.2e}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
