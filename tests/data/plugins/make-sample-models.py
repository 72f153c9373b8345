"""Writes the ONNX models of the four QDP samples used by tests/test-plugin-samples-cli.c, in the
two mapping styles plinth accepts: a node domain naming the plugin namespace, and op_type plus a
plugin_namespace attribute (TensorRT's onnx parser style). Run: python3 make-sample-models.py"""
import os

import onnx
from onnx import TensorProto, helper

here = os.path.dirname(os.path.abspath(__file__))


def save(name, nodes, x_shape, y_type, y_shape, domains):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                          [helper.make_tensor_value_info("y", y_type, y_shape)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)] +
                          [helper.make_opsetid(d, 1) for d in domains], producer_name="plinth-tests")
    m.ir_version = 8
    onnx.save(m, os.path.join(here, name + ".onnx"))


save("elemwise-add", [helper.make_node("elemwise_add_plugin", ["x"], ["y"], domain="sample",
                                       block_size=256)],
     [2, 3], TensorProto.FLOAT, [2, 3], ["sample"])
save("elemwise-add-inplace",
     [helper.make_node("elemwise_add_plugin_", ["x"], ["t"], plugin_namespace="sample"),
      helper.make_node("elemwise_add_plugin_", ["t"], ["y"], plugin_namespace="sample")],
     [2, 3], TensorProto.FLOAT, [2, 3], [])
save("non-zero", [helper.make_node("non_zero_plugin", ["x"], ["y", "count"], domain="sample")],
     [3, 4], TensorProto.INT32, ["N", 2], ["sample"])
save("circ-pad", [helper.make_node("circ_pad_plugin", ["x"], ["y"], plugin_namespace="sample",
                                   pads=[1, 2, 0, 1])],
     [2, 3, 4], TensorProto.FLOAT, [2, 4, 7], [])
print("wrote 4 models to", here)
