#!/usr/bin/python3
"""make_fixtures_loader.py — small ONNX models that exercise the loader.

usage: /usr/bin/python3 scripts/make_fixtures_loader.py [OUTDIR]

Writes (default OUTDIR tests/fuzz/corpus/onnx/) a handful of models, each
well under 20 KB, used as fuzzing seeds and by tests/e2e/corrupt_models.py:
  conv_attrs.onnx   Conv + BatchNorm with raw-data weights, many attribute types
  if_capture.onnx   If whose branches capture outer values (a nested If inside)
  loop.onnx         Loop with a body graph using an outer initializer
  typed_inits.onnx  initializers in float_data / int64_data / int32_data / string_data
  ir3_inputs.onnx   IR 3: initializers also listed as graph inputs
  symbolic.onnx     dynamic dims (dim_param), unknown dims and unknown rank
  tensor.pb         a TensorProto file
Deterministic: fixed seeds, no timestamps.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "fuzz", "corpus", "onnx")
rng = np.random.default_rng(0)


def save(model, name, check=True):
    model.producer_name = "make_fixtures_loader"
    if check:  # the checker wants a shape on graph outputs; symbolic.onnx has none on purpose
        onnx.checker.check_model(model)
    path = os.path.join(OUT, name)
    onnx.save(model, path)
    size = os.path.getsize(path)
    assert size < 20000, (name, size)
    print("%s (%d bytes)" % (path, size))


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def conv_attrs():
    w = numpy_helper.from_array(f32(4, 3, 3, 3), "w")
    b = numpy_helper.from_array(f32(4), "b")
    bn = [numpy_helper.from_array(np.abs(f32(4)) + 0.5, n) for n in ("scale", "bias", "mean", "var")]
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv1", pads=[1, 1, 1, 1],
                         strides=[1, 1], dilations=[1, 1], group=1, auto_pad="NOTSET"),
        helper.make_node("BatchNormalization", ["c", "scale", "bias", "mean", "var"], ["bn"],
                         epsilon=1e-5, momentum=0.9),
        helper.make_node("Relu", ["bn"], ["r"]),
        helper.make_node("Constant", [], ["shape"], value=numpy_helper.from_array(
            np.array([1, -1], dtype=np.int64))),
        helper.make_node("Reshape", ["r", "shape"], ["y"]),
        helper.make_node("Constant", [], ["strs"], value_strings=["a", "bc"]),
        helper.make_node("Constant", [], ["fl"], value_floats=[1.0, 2.5]),
    ]
    g = helper.make_graph(nodes, "conv_attrs",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 256])],
                          [w, b] + bn)
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "conv_attrs.onnx")


def if_capture():
    k = numpy_helper.from_array(f32(3), "k")
    inner_then = helper.make_graph([helper.make_node("Mul", ["x", "k"], ["it"])], "inner_then", [],
                                   [helper.make_tensor_value_info("it", TensorProto.FLOAT, [3])])
    inner_else = helper.make_graph([helper.make_node("Sub", ["x", "k"], ["ie"])], "inner_else", [],
                                   [helper.make_tensor_value_info("ie", TensorProto.FLOAT, [3])])
    then_g = helper.make_graph(
        [helper.make_node("If", ["c2"], ["t"], then_branch=inner_then, else_branch=inner_else)],
        "then", [], [helper.make_tensor_value_info("t", TensorProto.FLOAT, [3])])
    else_g = helper.make_graph([helper.make_node("Add", ["x", "k"], ["e"])], "else", [],
                               [helper.make_tensor_value_info("e", TensorProto.FLOAT, [3])])
    g = helper.make_graph(
        [helper.make_node("If", ["c"], ["y"], name="if0", then_branch=then_g, else_branch=else_g)],
        "if_capture",
        [helper.make_tensor_value_info("c", TensorProto.BOOL, []),
         helper.make_tensor_value_info("c2", TensorProto.BOOL, []),
         helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])], [k])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "if_capture.onnx")


def loop():
    step = numpy_helper.from_array(np.array([0.5, 1.0], dtype=np.float32), "step")
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Add", ["acc_in", "step"], ["acc_out"]),
         helper.make_node("Identity", ["acc_out"], ["scan_out"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [2]),
         helper.make_tensor_value_info("scan_out", TensorProto.FLOAT, [2])])
    g = helper.make_graph(
        [helper.make_node("Loop", ["n", "", "a0"], ["a", "s"], body=body)], "loop",
        [helper.make_tensor_value_info("n", TensorProto.INT64, []),
         helper.make_tensor_value_info("a0", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [2]),
         helper.make_tensor_value_info("s", TensorProto.FLOAT, ["T", 2])], [step])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "loop.onnx")


def typed_inits():
    inits = [
        helper.make_tensor("tf", TensorProto.FLOAT, [2, 2], [1.0, 2.0, 3.0, 4.0]),
        helper.make_tensor("ti", TensorProto.INT64, [3], [1, -2, 1 << 40]),
        helper.make_tensor("t8", TensorProto.INT8, [2], [-1, 7]),
        helper.make_tensor("th", TensorProto.FLOAT16, [2], np.array([1.0, -2.0], dtype=np.float16)),
        helper.make_tensor("td", TensorProto.DOUBLE, [1], [0.125]),
        helper.make_tensor("tb", TensorProto.BOOL, [2], [True, False]),
        helper.make_tensor("ts", TensorProto.STRING, [2], [b"hello", b""]),
        helper.make_tensor("tu", TensorProto.UINT64, [1], [1 << 63]),
    ]
    g = helper.make_graph([helper.make_node("Add", ["x", "tf"], ["y"])], "typed",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 2])], inits)
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "typed_inits.onnx")


def ir3_inputs():
    w = numpy_helper.from_array(f32(4, 4), "w")
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "ir3",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4]),
                           helper.make_tensor_value_info("w", TensorProto.FLOAT, [4, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 8)])
    m.ir_version = 3
    save(m, "ir3_inputs.onnx")


def symbolic():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", None, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    g = helper.make_graph([helper.make_node("Softmax", ["x"], ["y"], axis=-1)], "sym", [x], [y])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13),
                                             helper.make_opsetid("com.microsoft", 1)]),
         "symbolic.onnx", check=False)


def tensor_pb():
    t = numpy_helper.from_array(f32(2, 3), "input_0")
    with open(os.path.join(OUT, "tensor.pb"), "wb") as f:
        f.write(t.SerializeToString())


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    conv_attrs()
    if_capture()
    loop()
    typed_inits()
    ir3_inputs()
    symbolic()
    tensor_pb()
