"""Real models on the CPU: export torchvision models (random weights, opset 17), run them through
`plinth run` and through ONNX Runtime on the same inputs, check plinth's outputs within 1e-4
relative L2, and time ResNet-50 and MobileNetV3-Large at batch 1 and 8 against ONNX Runtime on the
same host in the same run. Prints a markdown table (and writes it to $OUT/cpu-models.md if $OUT is
set).

Run on the GPU machine (16 cores, PyTorch present), from the repo root:
    python3 bench/cpu-models.py --plinth build-gpu/plinth [--models resnet50,mobilenet_v3_large]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

ALL = ["resnet50", "mobilenet_v3_large", "efficientnet_b0", "vit_b_16"]
TIMED = ["resnet50", "mobilenet_v3_large"]


def export(name, path):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import model_zoo
    model_zoo.export(name, path)


def ort_session(path, threads):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def time_ort(sess, x, iters, warmup):
    for _ in range(warmup):
        sess.run(None, {"input": x})
    ts = []
    for _ in range(iters):
        t0 = time.perf_counter()
        sess.run(None, {"input": x})
        ts.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(ts))


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(" ".join(cmd) + "\n" + r.stdout + r.stderr)
    return r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plinth", default="build/plinth")
    ap.add_argument("--models", default=",".join(ALL))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--iterations", type=int, default=30)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="plinth-cpu-")
    lines = ["| model | batch | check (rel L2 vs ORT) | plinth ms (median) | ORT ms (median) | plinth / ORT |",
             "|---|---|---|---|---|---|"]
    env = dict(os.environ, PLINTH_NUM_THREADS=str(args.threads))
    failed = False
    for name in args.models.split(","):
        path = os.path.join(tmp, name + ".onnx")
        try:
            export(name, path)
        except Exception as e:  # export problems are reported, not fatal to the other models
            lines.append(f"| {name} | - | export failed: {type(e).__name__}: {str(e)[:80]} | | | |")
            continue
        sess = ort_session(path, args.threads)
        for batch in ([1, 8] if name in TIMED else [1]):
            rng = np.random.default_rng(batch)
            x = rng.standard_normal((batch, 3, 224, 224)).astype(np.float32)
            xin = os.path.join(tmp, f"{name}-{batch}.npy")
            np.save(xin, x)
            ref = sess.run(None, {"input": x})[0]
            eng = os.path.join(tmp, f"{name}-{batch}.engine")
            outdir = os.path.join(tmp, f"{name}-{batch}-out")
            shape = f"input:{batch}x3x224x224"
            try:
                subprocess.run([args.plinth, "build", path, "-o", eng, "--shapes", shape], check=True,
                               capture_output=True, text=True, env=env)
                subprocess.run([args.plinth, "run", eng, "--input", "input=" + xin, "--outputs", outdir],
                               check=True, capture_output=True, text=True, env=env)
            except subprocess.CalledProcessError as e:
                lines.append(f"| {name} | {batch} | plinth failed: {(e.stderr or e.stdout).strip()[:120]} | | | |")
                failed = True
                continue
            got = numpy_helper.to_array(onnx.load_tensor(os.path.join(outdir, "output_0.pb")))
            rel = float(np.linalg.norm(got - ref) / max(np.linalg.norm(ref), 1e-30))
            ok = rel < 1e-4
            failed |= not ok
            check = f"{'ok' if ok else 'FAIL'} {rel:.2e}"
            if name not in TIMED:
                lines.append(f"| {name} | {batch} | {check} | | | |")
                continue
            out = subprocess.run([args.plinth, "bench", eng, "--warmup", "5", "--iterations",
                                  str(args.iterations)], check=True, capture_output=True, text=True,
                                 env=env).stdout
            pl_ms = float(re.search(r"median ([0-9.]+)", out).group(1))
            ort_ms = time_ort(sess, x, args.iterations, 5)
            lines.append(f"| {name} | {batch} | {check} | {pl_ms:.2f} | {ort_ms:.2f} | {pl_ms / ort_ms:.2f}x |")
    table = "\n".join(lines)
    hdr = (f"CPU: {os.cpu_count()} cores, {args.threads} threads, onnxruntime {ort.__version__}, "
           f"command: python3 bench/cpu-models.py --plinth {args.plinth}")
    print(hdr)
    print(table)
    if os.environ.get("OUT"):
        with open(os.path.join(os.environ["OUT"], "cpu-models.md"), "w") as f:
            f.write(hdr + "\n\n" + table + "\n")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
