"""Extra streams ("lanes") for independent branches: where they pay.

For each model (torchvision, random weights with calibrated BatchNorm: bench/model_zoo.py),
batch and precision, builds three plinth engines for the GPU: one stream (--streams 1), lanes
forced (--streams 4) and the builder's timed choice (default), checks that the lanes engine's
output matches the one-stream engine's, and times each with `plinth bench` (I/O on the device,
CUDA graph replay). PyTorch with a CUDA graph on the same input is the reference column.
GoogLeNet has four towers per Inception block; ResNet-50 one parallel downsample path per stage;
MobileNetV3 none (squeeze-excitation is a chain with a join).

Run on the GPU machine from the repo root:
    python3 bench/gpu/bench-lanes.py --plinth build-gpu/plinth
"""
import argparse
import copy
import os
import re
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from importlib import import_module  # noqa: E402

bm = import_module("bench-models")


def streams_of(plinth, eng, env):
    out = bm.sh([plinth, "inspect", eng], env)
    m = re.search(r"^\s+streams\s+(\d+)", out, re.M)
    return int(m.group(1)) if m else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plinth", default="build-gpu/plinth")
    ap.add_argument("--models", default="googlenet,resnet50,mobilenet_v3_large")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--precisions", default="fp16,fp32")
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=20)
    args = ap.parse_args()

    import onnx
    import torch
    from onnx import numpy_helper

    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    env = dict(os.environ)
    tmp = tempfile.mkdtemp(prefix="plinth-lanes-")
    lines = ["| model | batch | prec | torch graph ms | plinth 1 stream ms | plinth lanes ms (n) "
             "| lanes / 1 stream | auto picks | lanes vs 1 stream (rel L2) |",
             "|---|---|---|---|---|---|---|---|---|"]
    failed = False
    for name in args.models.split(","):
        path = os.path.join(tmp, name + ".onnx")
        model = bm.export(name, path)
        for batch in [int(b) for b in args.batches.split(",")]:
            x = np.random.default_rng(batch).standard_normal((batch, 3, 224, 224)).astype(np.float32)
            xin = os.path.join(tmp, f"{name}-{batch}.npy")
            np.save(xin, x)
            for prec in args.precisions.split(","):
                fp16 = prec == "fp16"
                dt = torch.float16 if fp16 else torch.float32
                gm = copy.deepcopy(model).to("cuda", dt)
                graph = bm.time_torch(gm, torch.from_numpy(x).to("cuda", dt), args.iterations,
                                      args.warmup, True)
                del gm
                torch.cuda.empty_cache()
                ms, outs, nlanes = {}, {}, {}
                row = f"| {name} | {batch} | {prec} | {graph:.3f} "
                try:
                    for mode in ["1", "4", "auto"]:
                        eng = os.path.join(tmp, f"{name}-{batch}-{prec}-{mode}.engine")
                        outdir = eng + "-out"
                        bm.sh([args.plinth, "build", path, "-o", eng, "--device", "cuda",
                               "--shapes", f"input:{batch}x3x224x224", "--streams", mode]
                              + (["--fp16"] if fp16 else []), env)
                        nlanes[mode] = streams_of(args.plinth, eng, env)
                        bm.sh([args.plinth, "run", eng, "--input", "input=" + xin, "--outputs",
                               outdir], env)
                        outs[mode] = numpy_helper.to_array(
                            onnx.load_tensor(os.path.join(outdir, "output_0.pb")))
                        out = bm.sh([args.plinth, "bench", eng, "--warmup", str(args.warmup),
                                     "--iterations", str(args.iterations)], env)
                        ms[mode] = float(re.search(r"median ([0-9.]+)", out).group(1))
                    ref = outs["1"].astype(np.float64)
                    rel = float(np.linalg.norm(outs["4"] - ref) / max(np.linalg.norm(ref), 1e-30))
                    ok = rel < (1e-2 if fp16 else 1e-5)
                    failed |= not ok
                    row += (f"| {ms['1']:.3f} | {ms['4']:.3f} ({nlanes['4']}) "
                            f"| {ms['4'] / ms['1']:.2f}x | {nlanes['auto']} stream(s), "
                            f"{ms['auto']:.3f} ms | {'ok' if ok else 'FAIL'} {rel:.1e} |")
                except Exception as e:  # one failing configuration does not stop the table
                    failed = True
                    row += "| failed: " + str(e).replace("\n", " ").replace("|", "/")[-160:] + " |"
                lines.append(row)
                print(row, flush=True)
    hdr = (f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, tf32 off; command: "
           f"python3 bench/gpu/bench-lanes.py --plinth {args.plinth}")
    print(hdr)
    print("\n".join(lines))
    if os.environ.get("OUT"):
        with open(os.path.join(os.environ["OUT"], "gpu-lanes.md"), "w") as f:
            f.write(hdr + "\n\n" + "\n".join(lines) + "\n")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
