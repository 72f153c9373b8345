"""Real models on the GPU against PyTorch, in the same run on the same machine.

Exports torchvision resnet50 and mobilenet_v3_large (random weights, seed 0, opset 17, dynamic
batch), then for batch 1 and 32 and for fp32 and fp16:
  - times PyTorch eager and PyTorch replaying a CUDA graph, with CUDA events (median of
    --iterations after --warmup);
  - builds a plinth engine (`plinth build --device cuda [--fp16]`), checks its outputs against the
    float32 CPU output of the same model and input (PyTorch on the CPU), and times it with
    `plinth bench`;
and prints a markdown table with the ratios (plinth time / PyTorch time: below 1 means plinth is
faster). Also written to $OUT/gpu-models.md when $OUT is set.

Notes on fairness:
  - PyTorch's default lets cuDNN use TF32 for float32 convolutions; plinth's float32 is strict
    FP32 unless PLINTH_CUDA_TF32=1. --tf32 on|off|default sets both sides alike (default: torch
    defaults, plinth strict), so run with --tf32 off for a like-for-like float32 comparison.
  - `plinth bench` keeps input and output in device memory (pl_context_alloc_tensor), as the
    PyTorch timings keep their tensors on the GPU: both sides time the network alone.

Run on the GPU machine from the repo root:
    python3 bench/gpu/bench-models.py --plinth build-gpu/plinth [--models resnet50] [--tf32 off]
"""
import argparse
import copy
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

MODELS = ["resnet50", "mobilenet_v3_large"]


def export(name, path):
    """Random weights with calibrated BatchNorm statistics (bench/model_zoo.py): unit-scale
    activations, as in a trained model, so fp16 comparisons mean something."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import model_zoo
    return model_zoo.export(name, path)


def time_torch(model, x, iters, warmup, graph):
    """Median milliseconds of model(x) on the GPU (eager, or a captured CUDA graph)."""
    import torch
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.no_grad(), torch.cuda.stream(s):
        for _ in range(warmup):
            model(x)
        torch.cuda.synchronize()
        run = lambda: model(x)  # noqa: E731
        if graph:
            g = torch.cuda.CUDAGraph()
            with torch.cuda.graph(g, stream=s):
                model(x)
            run = g.replay
            for _ in range(3):
                run()
        times = []
        for _ in range(iters):
            a = torch.cuda.Event(enable_timing=True)
            b = torch.cuda.Event(enable_timing=True)
            a.record(s)
            run()
            b.record(s)
            b.synchronize()
            times.append(a.elapsed_time(b))
    torch.cuda.current_stream().wait_stream(s)
    return float(np.median(times))


def sh(cmd, env):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(" ".join(cmd) + "\n" + (r.stderr or r.stdout).strip()[-800:])
    return r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plinth", default="build-gpu/plinth")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--batches", default="1,32")
    ap.add_argument("--precisions", default="fp32,fp16")
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--tf32", choices=["default", "on", "off"], default="default")
    ap.add_argument("--diagnose", action="store_true",
                    help="print plinth's warnings (graph capture, CPU fallbacks) and tactic counts")
    args = ap.parse_args()

    import onnx
    import torch
    from onnx import numpy_helper

    if args.tf32 != "default":
        torch.backends.cudnn.allow_tf32 = args.tf32 == "on"
        torch.backends.cuda.matmul.allow_tf32 = args.tf32 == "on"
    env = dict(os.environ)
    if args.tf32 == "on":
        env["PLINTH_CUDA_TF32"] = "1"
    tmp = tempfile.mkdtemp(prefix="plinth-gpu-")
    lines = ["| model | batch | prec | check vs fp32 CPU (rel L2) | torch eager ms | torch graph ms "
             "| plinth ms | plinth / eager | plinth / graph | plinth build s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    failed = False
    for name in args.models.split(","):
        path = os.path.join(tmp, name + ".onnx")
        model = export(name, path)
        for batch in [int(b) for b in args.batches.split(",")]:
            rng = np.random.default_rng(batch)
            x = rng.standard_normal((batch, 3, 224, 224)).astype(np.float32)
            xin = os.path.join(tmp, f"{name}-{batch}.npy")
            np.save(xin, x)
            with torch.no_grad():
                ref = model(torch.from_numpy(x)).numpy()
            for prec in args.precisions.split(","):
                fp16 = prec == "fp16"
                dt = torch.float16 if fp16 else torch.float32
                gm = copy.deepcopy(model).to("cuda", dt)
                xg = torch.from_numpy(x).to("cuda", dt)
                eager = time_torch(gm, xg, args.iterations, args.warmup, False)
                graph = time_torch(gm, xg, args.iterations, args.warmup, True)
                del gm, xg
                torch.cuda.empty_cache()
                eng = os.path.join(tmp, f"{name}-{batch}-{prec}.engine")
                outdir = os.path.join(tmp, f"{name}-{batch}-{prec}-out")
                shape = f"input:{batch}x3x224x224"
                row = f"| {name} | {batch} | {prec} "
                try:
                    t0 = time.perf_counter()
                    sh([args.plinth, "build", path, "-o", eng, "--device", "cuda", "--shapes", shape]
                       + (["--fp16"] if fp16 else []), env)
                    build_s = time.perf_counter() - t0
                    sh([args.plinth, "run", eng, "--input", "input=" + xin, "--outputs", outdir], env)
                    got = numpy_helper.to_array(onnx.load_tensor(os.path.join(outdir, "output_0.pb")))
                    rel = float(np.linalg.norm(got - ref) / max(np.linalg.norm(ref), 1e-30))
                    ok = rel < (3e-2 if fp16 else 1e-3)
                    failed |= not ok
                    bench = [args.plinth, "bench", eng, "--warmup", str(args.warmup),
                             "--iterations", str(args.iterations)]
                    if args.diagnose:
                        r = subprocess.run(bench + ["-v"], capture_output=True, text=True, env=env)
                        notes = [ln for ln in (r.stdout + r.stderr).splitlines()
                                 if re.search(r"captur|on the host|declines|runs uncaptured", ln)]
                        print(f"  {name} b{batch} {prec}: " + (" / ".join(notes[:6]) or "no notes"))
                        ins = sh([args.plinth, "inspect", eng], env)
                        kinds = {}
                        for ln in ins.splitlines():
                            m = re.match(r"\s+\d+\s+\S+\s+(\S+)\s+(\S+)$", ln)
                            if m:
                                kinds[m.group(1) + " " + m.group(2)] = kinds.get(m.group(1) + " " + m.group(2), 0) + 1
                        print("   ", ", ".join(f"{k} x{v}" for k, v in sorted(kinds.items())))
                    out = sh(bench, env)
                    pl = float(re.search(r"median ([0-9.]+)", out).group(1))
                    row += (f"| {'ok' if ok else 'FAIL'} {rel:.1e} | {eager:.3f} | {graph:.3f} "
                            f"| {pl:.3f} | {pl / eager:.2f}x | {pl / graph:.2f}x | {build_s:.1f} |")
                except Exception as e:  # one failing configuration does not stop the table
                    failed = True
                    msg = str(e).replace("\n", " ").replace("|", "/")[-160:]
                    row += f"| plinth failed: {msg} | {eager:.3f} | {graph:.3f} | | | | |"
                lines.append(row)
                print(row, flush=True)
    hdr = (f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, cuDNN "
           f"{torch.backends.cudnn.version()}, tf32 {args.tf32}; I/O on the device for both; command: python3 bench/gpu/bench-models.py "
           f"--plinth {args.plinth} --tf32 {args.tf32}")
    table = "\n".join(lines)
    print(hdr)
    print(table)
    if os.environ.get("OUT"):
        with open(os.path.join(os.environ["OUT"], "gpu-models.md"), "w") as f:
            f.write(hdr + "\n\n" + table + "\n")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
