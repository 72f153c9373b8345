"""A/B of the CUDA backend's channels-last pass: builds each model float16 with
PLINTH_CUDA_NHWC=0 and =1 and prints `plinth bench` medians side by side; with --nsys, also the
top GPU kernels of one configuration (if nsys is installed). Run on the GPU machine:
    python3 bench/gpu/layout-ab.py --plinth build-gpu/plinth [--models mobilenet_v3_large]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile


def ncu_table(plinth, eng, nhwc):
    import csv
    import io
    env = dict(os.environ, PLINTH_CUDA_NHWC=nhwc)
    r = subprocess.run(["ncu", "--csv", "--metrics", "gpu__time_duration.sum", plinth, "bench", eng,
                        "--warmup", "0", "--iterations", "1"], env=env, capture_output=True,
                       text=True)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith('"')]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines))))
    if not rows:
        print("ncu gave nothing:", (r.stderr or r.stdout)[-600:])
        return
    per = {}  # every execution bench makes (counts tell how many)
    for x in rows:
        k = re.sub(r"\(.*", "", x["Kernel Name"])[:70]
        v = float(x["Metric Value"].replace(",", ""))
        unit = x.get("Metric Unit", "nsecond")
        v = v / 1000 if unit.startswith("n") else v if unit.startswith("u") else v * 1000
        c, t = per.get(k, (0, 0.0))
        per[k] = (c + 1, t + v)
    tot = sum(t for _, t in per.values())
    print(f"--- ncu NHWC={nhwc}: {sum(c for c, _ in per.values())} kernels, {tot:.1f} us of GPU time")
    for k, (c, t) in sorted(per.items(), key=lambda kv: -kv[1][1])[:14]:
        print(f"  {t:8.1f} us  x{c:3d}  {k}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plinth", default="build-gpu/plinth")
    ap.add_argument("--models", default="resnet50,mobilenet_v3_large")
    ap.add_argument("--batches", default="1,32")
    ap.add_argument("--nsys", default="", help="model:batch:nhwc to profile, e.g. mobilenet_v3_large:1:1")
    ap.add_argument("--ncu", default="", help="model:batch to profile with ncu (both layouts): "
                    "per-kernel GPU time of one execution, grouped by kernel name")
    args = ap.parse_args()
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import model_zoo
    tmp = tempfile.mkdtemp(prefix="plinth-ab-")
    for name in args.models.split(","):
        path = os.path.join(tmp, name + ".onnx")
        model_zoo.export(name, path)
        for b in args.batches.split(","):
            row = []
            for nhwc in ("0", "1"):
                env = dict(os.environ, PLINTH_CUDA_NHWC=nhwc)
                eng = os.path.join(tmp, f"{name}-{b}-{nhwc}.engine")
                subprocess.run([args.plinth, "build", path, "-o", eng, "--device", "cuda", "--fp16",
                                "--shapes", f"input:{b}x3x224x224"], env=env, check=True,
                               capture_output=True)
                out = subprocess.run([args.plinth, "bench", eng, "--warmup", "20", "--iterations",
                                      "100"], env=env, check=True, capture_output=True,
                                     text=True).stdout
                row.append(float(re.search(r"median ([0-9.]+)", out).group(1)))
                if args.nsys == f"{name}:{b}:{nhwc}" and shutil.which("nsys"):
                    rep = os.path.join(tmp, "prof")
                    subprocess.run(["nsys", "profile", "-o", rep, "-f", "true", args.plinth, "bench",
                                    eng, "--iterations", "20"], env=env, capture_output=True)
                    st = subprocess.run(["nsys", "stats", "-q", "-r", "cuda_gpu_kern_sum", "-f",
                                         "csv", rep + ".nsys-rep"], capture_output=True, text=True)
                    print("\n".join(st.stdout.splitlines()[:25]))
            if args.ncu == f"{name}:{b}" and shutil.which("ncu"):
                for nhwc in ("0", "1"):
                    ncu_table(args.plinth, os.path.join(tmp, f"{name}-{b}-{nhwc}.engine"), nhwc)
            print(f"{name} b{b} fp16: NCHW {row[0]:.3f} ms, NHWC {row[1]:.3f} ms", flush=True)


if __name__ == "__main__":
    main()
