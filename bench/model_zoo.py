"""Random-weight torchvision models with realistic activation scales, shared by the benchmarks.

torchvision's initialisation leaves BatchNorm at mean 0 / variance 1 and some heads at zero (ViT),
so a random model's activations shrink layer by layer (MobileNetV3 reaches 1e-10, below float16's
range) or its output is exactly zero: comparisons on such models prove nothing. We re-randomise
zero-initialised parameters and calibrate BatchNorm statistics on random batches, so every layer
sees unit-scale data as in a trained model."""
import torch
import torchvision


def make(name, seed=0):
    torch.manual_seed(seed)
    model = getattr(torchvision.models, name)(weights=None)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() >= 1 and torch.count_nonzero(p) == 0 and p.dim() >= 2:
                p.normal_(0, 0.02)
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.reset_running_stats()
                m.momentum = None  # cumulative average over the calibration batches
        model.train()
        for _ in range(4):
            model(torch.randn(16, 3, 224, 224))
    return model.eval()


def export(name, path, opset=17):
    model = make(name)
    x = torch.randn(1, 3, 224, 224)
    kw = dict(input_names=["input"], output_names=["output"], opset_version=opset,
              dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    try:
        torch.onnx.export(model, (x,), path, dynamo=False, **kw)
    except TypeError:
        torch.onnx.export(model, (x,), path, **kw)
    return model
