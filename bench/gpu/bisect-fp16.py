"""Finds the first tensor where a plinth fp16 CUDA engine departs from the fp32 one: exports a
torchvision model, marks every intermediate float tensor as a graph output, runs both engines on
the same input, and prints the relative L2 error per tensor in graph order.
    python3 bench/gpu/bisect-fp16.py --plinth build-gpu/plinth --model mobilenet_v3_large"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plinth", default="build-gpu/plinth")
    ap.add_argument("--model", default="mobilenet_v3_large")
    ap.add_argument("--show", type=int, default=25)
    args = ap.parse_args()
    import torch
    import torchvision
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "m.onnx")
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import model_zoo
    m = model_zoo.make(args.model)
    torch.onnx.export(m, (torch.randn(1, 3, 224, 224),), path, input_names=["input"],
                      output_names=["output"], opset_version=17, dynamo=False)
    model = shape_inference.infer_shapes(onnx.load(path))
    known = {vi.name: vi for vi in model.graph.value_info}
    outs = [o.name for o in model.graph.output]
    for node in model.graph.node:
        for o in node.output:
            vi = known.get(o)
            if vi is not None and vi.type.tensor_type.elem_type == onnx.TensorProto.FLOAT and o not in outs:
                model.graph.output.append(vi)
                outs.append(o)
    full = os.path.join(tmp, "full.onnx")
    onnx.save(model, full)
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    np.save(os.path.join(tmp, "x.npy"), x)
    res = {}
    for tag, flags in (("fp32", []), ("fp16", ["--fp16"])):
        for mpath, name in ((path, "orig"), (full, "full")):
            d = os.path.join(tmp, f"{name}-{tag}")
            r = subprocess.run([args.plinth, "run", mpath, "--device", "cuda", *flags, "--input",
                                "input=" + os.path.join(tmp, "x.npy"), "--outputs", d],
                               capture_output=True, text=True)
            if r.returncode:
                print(name, tag, "failed:", r.stderr.strip()[-300:])
                continue
            n = len(os.listdir(d))
            res[(name, tag)] = [numpy_helper.to_array(onnx.load_tensor(os.path.join(d, f"output_{k}.pb")))
                                for k in range(n)]
    def rel(a, b):
        a = a.astype(np.float64); b = b.astype(np.float64)
        return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), 1e-30))
    if ("orig", "fp32") in res and ("orig", "fp16") in res:
        print("original model: fp16 vs fp32 rel L2", rel(res[("orig", "fp32")][0], res[("orig", "fp16")][0]))
    if ("full", "fp32") in res and ("full", "fp16") in res:
        a, b = res[("full", "fp32")], res[("full", "fp16")]
        shown = 0
        for k, name in enumerate(outs):
            e = rel(a[k], b[k])
            prod = next((f"{n.op_type} {n.name}" for n in model.graph.node if name in n.output), "?")
            if e > 2e-2 or k < 3:
                print(f"{k:4d} {name:40s} {prod:45s} rel {e:.3e} max|fp32| {np.abs(a[k]).max():.3e} "
                      f"nan16 {int(np.isnan(b[k]).sum())}")
                shown += 1
                if shown >= args.show:
                    break
        print("full model: final output rel", rel(a[0], b[0]))


if __name__ == "__main__":
    main()
