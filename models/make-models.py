"""Writes the bundled demo model models/tiny-resnet.onnx: a small ResNet-style CNN (conv + batch
norm + relu stem, max pool, two residual stages, global average pool, fully connected layer,
softmax) with random weights from a fixed seed and a dynamic batch dimension "N".
Run: python3 models/make-models.py (needs numpy and onnx)."""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(20261121)
nodes, inits = [], []


def const(name, arr):
    inits.append(numpy_helper.from_array(arr.astype(np.float32), name))
    return name


def conv_bn(x, cin, cout, k, stride, name, relu=True):
    w = const(name + ".w", rng.normal(0, (2.0 / (cin * k * k)) ** 0.5, (cout, cin, k, k)))
    nodes.append(helper.make_node("Conv", [x, w], [name + ".c"], name=name, kernel_shape=[k, k],
                                  strides=[stride, stride], pads=[k // 2] * 4))
    bn = [const(name + s, v) for s, v in [
        (".g", rng.uniform(0.5, 1.5, cout)), (".b", rng.normal(0, 0.1, cout)),
        (".m", rng.normal(0, 0.1, cout)), (".v", rng.uniform(0.5, 1.5, cout))]]
    nodes.append(helper.make_node("BatchNormalization", [name + ".c"] + bn, [name + ".bn"],
                                  name=name + "_bn", epsilon=1e-5))
    if not relu:
        return name + ".bn"
    nodes.append(helper.make_node("Relu", [name + ".bn"], [name + ".r"], name=name + "_relu"))
    return name + ".r"


def block(x, cin, cout, stride, name):
    y = conv_bn(x, cin, cout, 3, stride, name + "a")
    y = conv_bn(y, cout, cout, 3, 1, name + "b", relu=False)
    sc = x if stride == 1 and cin == cout else conv_bn(x, cin, cout, 1, stride, name + "s", relu=False)
    nodes.append(helper.make_node("Add", [y, sc], [name + ".add"], name=name + "_add"))
    nodes.append(helper.make_node("Relu", [name + ".add"], [name + ".out"], name=name + "_out"))
    return name + ".out"


x = conv_bn("input", 3, 16, 3, 1, "stem")
nodes.append(helper.make_node("MaxPool", [x], ["pool"], name="pool", kernel_shape=[2, 2], strides=[2, 2]))
x = block("pool", 16, 16, 1, "l1")
x = block(x, 16, 32, 2, "l2")
x = block(x, 32, 64, 2, "l3")
nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap"], name="gap"))
nodes.append(helper.make_node("Flatten", ["gap"], ["flat"], name="flatten", axis=1))
fw = const("fc.w", rng.normal(0, 0.1, (10, 64)))
fb = const("fc.b", rng.normal(0, 0.1, 10))
nodes.append(helper.make_node("Gemm", ["flat", fw, fb], ["logits"], name="fc", transB=1))
nodes.append(helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=1))

graph = helper.make_graph(
    nodes, "tiny-resnet",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 64, 64])],
    [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 10])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="plinth")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, "models/tiny-resnet.onnx")
print("wrote models/tiny-resnet.onnx")
