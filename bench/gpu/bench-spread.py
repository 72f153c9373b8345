"""Where does run-to-run spread come from: the build (tactic choice) or the measurement?

Builds the same model --builds times (identical command) and times each engine --benches times
with `plinth bench`, printing a builds x benches matrix of median ms. Spread along a row is
measurement noise (clocks, warm-up); spread down a column is the build's choice. --warmup takes a
comma list of warm-up iteration counts; each bench round runs one bench per count.

Run on the GPU machine from the repo root:
    python3 bench/gpu/bench-spread.py --plinth build-gpu/plinth --model mobilenet_v3_large --fp16
"""
import argparse
import os
import re
import sys
import tempfile
from importlib import import_module

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
bm = import_module("bench-models")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plinth", default="build-gpu/plinth")
    ap.add_argument("--model", default="mobilenet_v3_large")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--fp16", action="store_true")
    ap.add_argument("--builds", type=int, default=5)
    ap.add_argument("--benches", type=int, default=4)
    ap.add_argument("--warmup", default="20,2000")
    ap.add_argument("--iterations", type=int, default=100)
    args = ap.parse_args()
    env = dict(os.environ)
    tmp = tempfile.mkdtemp(prefix="plinth-spread-")
    path = os.path.join(tmp, args.model + ".onnx")
    bm.export(args.model, path)
    print(f"{args.model} batch {args.batch} {'fp16' if args.fp16 else 'fp32'}: median ms of "
          f"`plinth bench --warmup W --iterations {args.iterations}`, "
          f"{args.builds} builds x {args.benches} rounds of W in {args.warmup}")
    for b in range(args.builds):
        eng = os.path.join(tmp, f"e{b}.engine")
        bm.sh([args.plinth, "build", path, "-o", eng, "--device", "cuda", "--shapes",
               f"input:{args.batch}x3x224x224"] + (["--fp16"] if args.fp16 else []), env)
        row = []
        for _ in range(args.benches):
            for w in args.warmup.split(","):
                out = bm.sh([args.plinth, "bench", eng, "--warmup", w, "--iterations",
                             str(args.iterations)], env)
                row.append(float(re.search(r"median ([0-9.]+)", out).group(1)))
        print(f"build {b}: " + " ".join(f"{v:.3f}" for v in row), flush=True)


if __name__ == "__main__":
    main()
