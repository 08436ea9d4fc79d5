#!/usr/bin/python3
"""fuse_conv_check.py NNTRACE — a Conv fused with its element-wise epilogue
gives the nodes' own bits.

Models: Conv + Relu (GEMM path), Conv + bias + residual Add + Relu, a
depthwise 5x5 Conv + Clip (ReLU6), a 1x1 Conv + Sigmoid * x (SiLU), a 3x3
Conv + LeakyRelu (Winograd: epilogue after the whole output), a 3-D Conv +
scalar Mul, and the bench ResNet-18 and MobileNet-V2 ($NT_MODELS).  For each,
with the same checks as fuse_check.py (its helpers): outputs fused equal
NNTRACE_FUSE=0 byte for byte at 1 and 2 threads, and `--trace dump:NODE` on
an interior node keeps the group unfused and dumps the unfused node's tensor.

Prints "fuse-conv-check: N passed, N failed"; exits 1 on any failure.
"""
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuse_check  # noqa: E402  (its check/run helpers and counters)

N = helper.make_node
rs = np.random.RandomState(7)


def arr(name, shape, scale=0.3):
    return numpy_helper.from_array((rs.randn(*shape) * scale).astype(np.float32), name)


def model(nodes, inits, shape, out_shape=None):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def conv_relu():
    return model([N("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 0, 2, 1], strides=[2, 1]),
                  N("Relu", ["c"], ["y"], name="relu")], [arr("w", (24, 5, 3, 3))], [2, 5, 23, 19]), "conv"


def conv_residual():
    return model([N("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1], dilations=[2, 2], strides=[1, 1]),
                  N("Conv", ["x", "w2"], ["r"], name="skip"),
                  N("Add", ["c", "r"], ["s"], name="add"), N("Relu", ["s"], ["y"], name="relu")],
                 [arr("w", (16, 16, 2, 2)), arr("b", (16,)), arr("w2", (16, 16, 1, 1))], [1, 16, 18, 21]), "add"


def dw_relu6():
    return model([N("Conv", ["x", "w", "b"], ["c"], name="dw", group=12, pads=[2, 2, 2, 2], strides=[2, 2]),
                  N("Clip", ["c", "lo", "hi"], ["y"], name="relu6")],
                 [arr("w", (12, 1, 5, 5)), arr("b", (12,)), numpy_helper.from_array(np.array(0, np.float32), "lo"),
                  numpy_helper.from_array(np.array(6, np.float32), "hi")], [2, 12, 29, 30]), "dw"


def pw_silu():
    return model([N("Conv", ["x", "w", "b"], ["c"], name="pw"), N("Sigmoid", ["c"], ["s"], name="sig"),
                  N("Mul", ["c", "s"], ["y"], name="silu")],
                 [arr("w", (40, 24, 1, 1)), arr("b", (40,))], [1, 24, 17, 16]), "sig"


def wino_leaky():
    return model([N("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
                  N("LeakyRelu", ["c"], ["y"], name="leaky", alpha=0.1)],
                 [arr("w", (32, 32, 3, 3), 0.1)], [1, 32, 20, 20]), "conv"


def conv3d_scale():
    return model([N("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1, 1, 1]),
                  N("Mul", ["c", "k"], ["y"], name="scale")],
                 [arr("w", (6, 3, 3, 3, 3)), numpy_helper.from_array(np.array(0.5, np.float32), "k")],
                 [1, 3, 6, 7, 5]), "conv"


def main():
    nt = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        for make in (conv_relu, conv_residual, dw_relu6, pw_silu, wino_leaky, conv3d_scale):
            m, interior = make()
            name = make.__name__
            path = os.path.join(tmp, name + ".onnx")
            onnx.save(m, path)
            shape = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
            xv = (rs.randn(*shape) * 3).astype(np.float32)
            xv.flat[:6] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30]
            x = os.path.join(tmp, name + ".npy")
            np.save(x, xv)
            fuse_check.check_model(nt, tmp, name, path, x, interior)
        models = os.environ.get("NT_MODELS", "")
        for bench in ("resnet18", "mobilenet_v2"):
            path = os.path.join(models, bench + ".onnx")
            if not os.path.exists(path):
                print(f"fuse-conv-check: {bench}.onnx not found (NT_MODELS), skipped")
                continue
            conv = next(n.name for n in onnx.load(path).graph.node if n.op_type == "Conv")
            fuse_check.check_model(nt, tmp, bench, path, os.path.join(models, bench + ".input.npy"), conv)
    print(f"fuse-conv-check: {fuse_check.passed} passed, {fuse_check.failed} failed")
    return 1 if fuse_check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
