#!/usr/bin/python3
"""malicious_models.py — models that parse but ask for absurd work must fail cleanly.

usage: /usr/bin/python3 tests/e2e/malicious_models.py NNTRACE [--only NAME] [--keep DIR]
       /usr/bin/python3 tests/e2e/malicious_models.py --corpus DIR

Each case is a small hand-made ONNX model (built with onnx.helper in a temp
dir) whose offending node is named "evil": absurd or negative shapes,
out-of-range indices, huge Reshape/Expand/Tile/ConstantOfShape/Range/Pad/
Resize, attributes of the wrong type, cycles, If/Loop bodies of the wrong
arity, Loops that never end, integer division by zero, wrong dtypes ...
Each runs as `NNTRACE run MODEL --zeros` and `NNTRACE doctor MODEL --zeros`
under `timeout 20` (a few cases set a smaller NNTRACE_MEMORY_LIMIT to stay
quick).  A case passes when the exit code is 2 and stderr names
the node (or the input / value at fault), or, for the cases marked "either",
when the model is legitimately runnable and exits 0 (doctor: 0 or 3).  A
signal, an exit >= 128, a timeout, a silent exit 2 or an unnamed culprit
fails.

--corpus DIR writes every case's model to DIR/<case>.onnx (the seeds of the
fuzz_run harness, tests/fuzz/corpus/run/) and exits.

Prints "malicious: N passed, N failed" and exits non-zero on any failure.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT
I64 = TensorProto.INT64
I32 = TensorProto.INT32
BIG = 1 << 40          # elements no tensor may have
HUGE = (1 << 62)       # overflows any product of two
TIMEOUT = 20

CASES = []


def case(name, expect="error", names=("evil",), env=None):
    """Registers a builder; expect is "error" (exit 2 naming one of names) or
    "either" (exit 0 is fine too); env adds environment variables to the run."""
    def wrap(fn):
        CASES.append((name, fn, expect, names, env or {}))
        return fn
    return wrap


def vi(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


def const(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def model(nodes, inputs, outputs, inits=(), opset=18, extra_opsets=()):
    g = helper.make_graph(nodes, "malicious", inputs, outputs, initializer=list(inits))
    ops = [helper.make_opsetid("", opset)] + list(extra_opsets)
    m = helper.make_model(g, opset_imports=ops, producer_name="malicious_models.py")
    m.ir_version = 8
    return m


def unary_model(op, x_shape, attrs=None, consts=(), x_dtype=F, out_dtype=F, opset=18, out_shape=None):
    """x → op(x, *consts) named "evil"."""
    names = ["x"] + [c[0] for c in consts]
    node = helper.make_node(op, names, ["y"], name="evil", **(attrs or {}))
    return model([node], [vi("x", x_dtype, x_shape)], [vi("y", out_dtype, out_shape)],
                 [const(n, a) for n, a in consts], opset=opset)


# ---------------------------------------------------------------- shapes

@case("reshape_huge")
def _():
    return unary_model("Reshape", [2, 3], consts=[("s", np.array([BIG, BIG], np.int64))])


@case("reshape_negative")
def _():
    return unary_model("Reshape", [2, 3], consts=[("s", np.array([-5, 3], np.int64))])


@case("reshape_two_inferred")
def _():
    return unary_model("Reshape", [2, 3], consts=[("s", np.array([-1, -1], np.int64))])


@case("reshape_rank_20")
def _():
    return unary_model("Reshape", [1], consts=[("s", np.ones(20, np.int64))])


@case("expand_huge")
def _():
    return unary_model("Expand", [1], consts=[("s", np.array([1 << 20, 1 << 20, 1 << 20], np.int64))])


@case("expand_overflow")
def _():
    return unary_model("Expand", [1], consts=[("s", np.array([HUGE, HUGE, 4], np.int64))])


@case("expand_rank_9")
def _():
    return unary_model("Expand", [1], consts=[("s", np.ones(9, np.int64))])


@case("expand_negative")
def _():
    return unary_model("Expand", [1], consts=[("s", np.array([-7], np.int64))])


@case("tile_huge")
def _():
    return unary_model("Tile", [2, 2], consts=[("r", np.array([1 << 30, 1 << 30], np.int64))])


@case("tile_overflow")
def _():
    return unary_model("Tile", [2, 2], consts=[("r", np.array([HUGE, HUGE], np.int64))])


@case("tile_negative")
def _():
    return unary_model("Tile", [2, 2], consts=[("r", np.array([-1, 2], np.int64))])


def const_of_shape(shape):
    node = helper.make_node("ConstantOfShape", ["s"], ["y"], name="evil",
                            value=helper.make_tensor("v", F, [1], [1.0]))
    return model([node], [], [vi("y", F, None)], [const("s", np.array(shape, np.int64))])


@case("constantofshape_huge")
def _():
    return const_of_shape([BIG])


@case("constantofshape_overflow")
def _():
    return const_of_shape([HUGE, HUGE])


@case("constantofshape_negative")
def _():
    return const_of_shape([-3, 2])


@case("constantofshape_many_gb")
def _():
    return const_of_shape([1 << 16, 1 << 16, 4])   # 64 GB of floats


def range_model(dtype, start, limit, delta):
    np_t = {F: np.float32, I64: np.int64, I32: np.int32}[dtype]
    node = helper.make_node("Range", ["a", "b", "c"], ["y"], name="evil")
    return model([node], [], [vi("y", dtype, None)],
                 [const("a", np.array(start, np_t)), const("b", np.array(limit, np_t)),
                  const("c", np.array(delta, np_t))])


@case("range_huge")
def _():
    return range_model(I64, 0, 1 << 60, 1)


@case("range_zero_delta")
def _():
    return range_model(I64, 0, 10, 0)


@case("range_float_zero_delta")
def _():
    return range_model(F, 0.0, 10.0, 0.0)


@case("range_float_nan")
def _():
    return range_model(F, 0.0, float("nan"), 1.0)


@case("range_float_inf")
def _():
    return range_model(F, 0.0, float("inf"), 1.0)


@case("range_int_overflow", expect="either")
def _():
    return range_model(I64, -(1 << 63), (1 << 63) - 1, 1 << 62)


@case("pad_huge")
def _():
    return unary_model("Pad", [2, 2], consts=[("p", np.array([BIG, 0, BIG, 0], np.int64))])


@case("pad_overflow")
def _():
    return unary_model("Pad", [2, 2], consts=[("p", np.array([HUGE, HUGE, HUGE, HUGE], np.int64))])


@case("pad_negative_beyond")
def _():
    return unary_model("Pad", [2, 2], consts=[("p", np.array([-100, 0, 0, 0], np.int64))])


@case("pad_reflect_too_wide", expect="either")
def _():
    return unary_model("Pad", [2, 2], attrs={"mode": "reflect"},
                       consts=[("p", np.array([0, 50, 0, 50], np.int64))])


@case("pad_wrong_count")
def _():
    return unary_model("Pad", [2, 2], consts=[("p", np.array([1, 1, 1], np.int64))])


@case("resize_giant_scales")
def _():
    node = helper.make_node("Resize", ["x", "", "sc"], ["y"], name="evil")
    return model([node], [vi("x", F, [1, 1, 2, 2])], [vi("y", F, None)],
                 [const("sc", np.array([1, 1, 1e6, 1e6], np.float32))])


@case("resize_giant_sizes")
def _():
    node = helper.make_node("Resize", ["x", "", "", "sz"], ["y"], name="evil")
    return model([node], [vi("x", F, [1, 1, 2, 2])], [vi("y", F, None)],
                 [const("sz", np.array([1, 1, 1 << 31, 1 << 31], np.int64))])


@case("resize_nan_scales")
def _():
    node = helper.make_node("Resize", ["x", "", "sc"], ["y"], name="evil")
    return model([node], [vi("x", F, [1, 1, 2, 2])], [vi("y", F, None)],
                 [const("sc", np.array([1, 1, np.nan, -np.inf], np.float32))])


@case("resize_negative_sizes")
def _():
    node = helper.make_node("Resize", ["x", "", "", "sz"], ["y"], name="evil")
    return model([node], [vi("x", F, [1, 1, 2, 2])], [vi("y", F, None)],
                 [const("sz", np.array([1, 1, -4, 4], np.int64))])


@case("upsample_giant", expect="error")
def _():
    node = helper.make_node("Upsample", ["x", "sc"], ["y"], name="evil")
    return model([node], [vi("x", F, [1, 1, 2, 2])], [vi("y", F, None)],
                 [const("sc", np.array([1, 1, 1e7, 1e7], np.float32))], opset=9)


@case("onehot_huge_depth")
def _():
    node = helper.make_node("OneHot", ["i", "d", "v"], ["y"], name="evil")
    return model([node], [vi("i", I64, [3])], [vi("y", F, None)],
                 [const("d", np.array([BIG], np.int64)), const("v", np.array([0, 1], np.float32))])


@case("onehot_negative_depth")
def _():
    node = helper.make_node("OneHot", ["i", "d", "v"], ["y"], name="evil")
    return model([node], [vi("i", I64, [3])], [vi("y", F, None)],
                 [const("d", np.array([-4], np.int64)), const("v", np.array([0, 1], np.float32))])


@case("input_huge_static", names=("x",))
def _():
    node = helper.make_node("Relu", ["x"], ["y"], name="evil")
    return model([node], [vi("x", F, [100000, 100000, 100])], [vi("y", F, None)])


@case("input_negative_dim", expect="either", names=("x", "evil"))
def _():
    node = helper.make_node("Relu", ["x"], ["y"], name="evil")
    return model([node], [vi("x", F, [-5, 2])], [vi("y", F, None)])


# ---------------------------------------------------------------- indices

def indexed(op, x_shape, idx, attrs=None, extra=(), idx_name="i"):
    names = ["x", idx_name] + [e[0] for e in extra]
    node = helper.make_node(op, names, ["y"], name="evil", **(attrs or {}))
    return model([node], [vi("x", F, x_shape)], [vi("y", F, None)],
                 [const(idx_name, idx)] + [const(n, a) for n, a in extra])


@case("gather_oob")
def _():
    return indexed("Gather", [3, 2], np.array([100], np.int64))


@case("gather_negative_oob")
def _():
    return indexed("Gather", [3, 2], np.array([-(1 << 62)], np.int64))


@case("gather_axis_oob")
def _():
    return indexed("Gather", [3, 2], np.array([0], np.int64), attrs={"axis": 7})


@case("gather_elements_oob")
def _():
    return indexed("GatherElements", [3, 2], np.array([[9, 0]], np.int64))


@case("gathernd_oob")
def _():
    return indexed("GatherND", [3, 2], np.array([[5, 1]], np.int64))


@case("gathernd_batch_dims_too_big")
def _():
    return indexed("GatherND", [3, 2], np.array([[0]], np.int64), attrs={"batch_dims": 5})


def scatter(op, idx, upd, attrs=None):
    node = helper.make_node(op, ["x", "i", "u"], ["y"], name="evil", **(attrs or {}))
    return model([node], [vi("x", F, [3, 2])], [vi("y", F, None)],
                 [const("i", idx), const("u", upd)])


@case("scatter_elements_oob")
def _():
    return scatter("ScatterElements", np.array([[1000, 0]], np.int64), np.ones((1, 2), np.float32))


@case("scatter_elements_shape_mismatch")
def _():
    return scatter("ScatterElements", np.zeros((5, 5), np.int64), np.ones((1, 2), np.float32))


@case("scatternd_oob")
def _():
    return scatter("ScatterND", np.array([[7]], np.int64), np.ones((1, 2), np.float32))


@case("scatternd_index_too_deep")
def _():
    return scatter("ScatterND", np.array([[0, 0, 0, 0]], np.int64), np.ones((1,), np.float32))


@case("topk_k_too_big")
def _():
    node = helper.make_node("TopK", ["x", "k"], ["v", "i"], name="evil")
    return model([node], [vi("x", F, [3])], [vi("v", F, None), vi("i", I64, None)],
                 [const("k", np.array([1 << 40], np.int64))])


@case("topk_k_negative")
def _():
    node = helper.make_node("TopK", ["x", "k"], ["v", "i"], name="evil")
    return model([node], [vi("x", F, [3])], [vi("v", F, None), vi("i", I64, None)],
                 [const("k", np.array([-2], np.int64))])


@case("slice_zero_step")
def _():
    node = helper.make_node("Slice", ["x", "s", "e", "a", "st"], ["y"], name="evil")
    return model([node], [vi("x", F, [4])], [vi("y", F, None)],
                 [const("s", np.array([0], np.int64)), const("e", np.array([4], np.int64)),
                  const("a", np.array([0], np.int64)), const("st", np.array([0], np.int64))])


@case("slice_extreme_bounds", expect="either")
def _():
    node = helper.make_node("Slice", ["x", "s", "e", "a", "st"], ["y"], name="evil")
    return model([node], [vi("x", F, [4])], [vi("y", F, None)],
                 [const("s", np.array([(1 << 63) - 1], np.int64)), const("e", np.array([-(1 << 63)], np.int64)),
                  const("a", np.array([0], np.int64)), const("st", np.array([-(1 << 63)], np.int64))])


@case("slice_axis_oob")
def _():
    node = helper.make_node("Slice", ["x", "s", "e", "a"], ["y"], name="evil")
    return model([node], [vi("x", F, [4])], [vi("y", F, None)],
                 [const("s", np.array([0], np.int64)), const("e", np.array([4], np.int64)),
                  const("a", np.array([9], np.int64))])


@case("transpose_bad_perm")
def _():
    return unary_model("Transpose", [2, 3], attrs={"perm": [0, 0]})


@case("transpose_perm_oob")
def _():
    return unary_model("Transpose", [2, 3], attrs={"perm": [5, -9]})


@case("squeeze_axis_oob")
def _():
    return unary_model("Squeeze", [1, 3], consts=[("a", np.array([10], np.int64))])


@case("unsqueeze_rank_overflow")
def _():
    return unary_model("Unsqueeze", [1, 1], consts=[("a", np.arange(12, dtype=np.int64))])


@case("unsqueeze_duplicate_axes")
def _():
    return unary_model("Unsqueeze", [2], consts=[("a", np.array([0, 0], np.int64))])


@case("split_bad_sizes")
def _():
    node = helper.make_node("Split", ["x", "s"], ["a", "b"], name="evil")
    return model([node], [vi("x", F, [4])], [vi("a", F, None), vi("b", F, None)],
                 [const("s", np.array([-1, 5], np.int64))])


@case("split_more_outputs_than_elements", expect="either")
def _():
    node = helper.make_node("Split", ["x"], ["a", "b", "c"], name="evil", axis=0)
    return model([node], [vi("x", F, [2])], [vi("a", F, None), vi("b", F, None), vi("c", F, None)])


@case("concat_axis_oob")
def _():
    node = helper.make_node("Concat", ["x", "x"], ["y"], name="evil", axis=5)
    return model([node], [vi("x", F, [2, 2])], [vi("y", F, None)])


@case("concat_shape_mismatch")
def _():
    node = helper.make_node("Concat", ["x", "c"], ["y"], name="evil", axis=0)
    return model([node], [vi("x", F, [2, 2])], [vi("y", F, None)], [const("c", np.ones((1, 3), np.float32))])


@case("flatten_axis_oob")
def _():
    return unary_model("Flatten", [2, 3], attrs={"axis": 9})


@case("softmax_axis_oob")
def _():
    return unary_model("Softmax", [2, 3], attrs={"axis": -100})


@case("argmax_axis_oob")
def _():
    return unary_model("ArgMax", [2, 3], attrs={"axis": 4}, out_dtype=I64)


@case("reduce_axes_oob")
def _():
    return unary_model("ReduceSum", [2, 3], consts=[("a", np.array([3], np.int64))])


@case("cumsum_axis_oob")
def _():
    return unary_model("CumSum", [2, 3], consts=[("a", np.array(5, np.int64))])


@case("trilu_extreme_k", expect="either")
def _():
    return unary_model("Trilu", [3, 3], consts=[("k", np.array(-(1 << 63), np.int64))])


@case("depth_to_space_zero_block")
def _():
    return unary_model("DepthToSpace", [1, 4, 2, 2], attrs={"blocksize": 0})


@case("space_to_depth_huge_block")
def _():
    return unary_model("SpaceToDepth", [1, 1, 2, 2], attrs={"blocksize": 1 << 40})


@case("compress_long_condition", expect="either")
def _():
    node = helper.make_node("Compress", ["x", "c"], ["y"], name="evil", axis=0)
    return model([node], [vi("x", F, [2])], [vi("y", F, None)], [const("c", np.ones(50, bool))])


@case("reverse_sequence_long_lens")
def _():
    node = helper.make_node("ReverseSequence", ["x", "l"], ["y"], name="evil", batch_axis=1, time_axis=0)
    return model([node], [vi("x", F, [2, 2])], [vi("y", F, None)], [const("l", np.array([100, 1 << 40], np.int64))])


@case("where_shape_mismatch")
def _():
    node = helper.make_node("Where", ["c", "x", "z"], ["y"], name="evil")
    return model([node], [vi("x", F, [2, 3])], [vi("y", F, None)],
                 [const("c", np.ones((4,), bool)), const("z", np.ones((5,), np.float32))])


@case("matmul_shape_mismatch")
def _():
    node = helper.make_node("MatMul", ["x", "w"], ["y"], name="evil")
    return model([node], [vi("x", F, [2, 3])], [vi("y", F, None)], [const("w", np.ones((4, 5), np.float32))])


@case("einsum_bad_equation")
def _():
    node = helper.make_node("Einsum", ["x", "x"], ["y"], name="evil", equation="ij,jk->iz")
    return model([node], [vi("x", F, [2, 2])], [vi("y", F, None)])


@case("einsum_garbage_equation")
def _():
    node = helper.make_node("Einsum", ["x"], ["y"], name="evil", equation="...,,->->" * 20)
    return model([node], [vi("x", F, [2, 2])], [vi("y", F, None)])


@case("nms_huge_max_output", expect="either")
def _():
    node = helper.make_node("NonMaxSuppression", ["b", "s", "m"], ["y"], name="evil")
    return model([node], [], [vi("y", I64, None)],
                 [const("b", np.zeros((1, 3, 4), np.float32)), const("s", np.ones((1, 1, 3), np.float32)),
                  const("m", np.array([1 << 62], np.int64))])


@case("lstm_huge_hidden")
def _():
    node = helper.make_node("LSTM", ["x", "w", "r"], ["y"], name="evil", hidden_size=1 << 40)
    return model([node], [vi("x", F, [1, 1, 2])], [vi("y", F, None)],
                 [const("w", np.ones((1, 8, 2), np.float32)), const("r", np.ones((1, 8, 2), np.float32))])


@case("gru_weight_mismatch")
def _():
    node = helper.make_node("GRU", ["x", "w", "r"], ["y"], name="evil", hidden_size=3)
    return model([node], [vi("x", F, [1, 1, 2])], [vi("y", F, None)],
                 [const("w", np.ones((1, 2, 2), np.float32)), const("r", np.ones((1, 1, 1), np.float32))])


@case("gemm_shape_mismatch")
def _():
    node = helper.make_node("Gemm", ["x", "w"], ["y"], name="evil", transB=1)
    return model([node], [vi("x", F, [2, 3])], [vi("y", F, None)], [const("w", np.ones((4, 5), np.float32))])


@case("conv_weight_mismatch")
def _():
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="evil")
    return model([node], [vi("x", F, [1, 2, 4, 4])], [vi("y", F, None)],
                 [const("w", np.ones((3, 5, 3, 3), np.float32))])


@case("conv_huge_pads")
def _():
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="evil", pads=[1 << 40] * 4)
    return model([node], [vi("x", F, [1, 1, 4, 4])], [vi("y", F, None)],
                 [const("w", np.ones((1, 1, 3, 3), np.float32))])


@case("conv_zero_stride")
def _():
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="evil", strides=[0, 0])
    return model([node], [vi("x", F, [1, 1, 4, 4])], [vi("y", F, None)],
                 [const("w", np.ones((1, 1, 3, 3), np.float32))])


@case("conv_zero_group")
def _():
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="evil", group=0)
    return model([node], [vi("x", F, [1, 1, 4, 4])], [vi("y", F, None)],
                 [const("w", np.ones((1, 1, 3, 3), np.float32))])


@case("maxpool_zero_kernel")
def _():
    return unary_model("MaxPool", [1, 1, 4, 4], attrs={"kernel_shape": [0, 0]})


@case("maxpool_huge_pads")
def _():
    return unary_model("MaxPool", [1, 1, 4, 4], attrs={"kernel_shape": [2, 2], "pads": [1 << 40] * 4})


@case("avgpool_negative_stride")
def _():
    return unary_model("AveragePool", [1, 1, 4, 4], attrs={"kernel_shape": [2, 2], "strides": [-1, -1]})


# ---------------------------------------------------------------- types and attributes

@case("transpose_perm_as_float")
def _():
    node = helper.make_node("Transpose", ["x"], ["y"], name="evil")
    node.attribute.append(helper.make_attribute("perm", [1.0, 0.0]))
    return model([node], [vi("x", F, [2, 3])], [vi("y", F, None)])


@case("softmax_axis_as_string")
def _():
    node = helper.make_node("Softmax", ["x"], ["y"], name="evil")
    node.attribute.append(helper.make_attribute("axis", "last"))
    return model([node], [vi("x", F, [2, 3])], [vi("y", F, None)])


@case("cast_to_undefined")
def _():
    return unary_model("Cast", [2], attrs={"to": 0})


@case("cast_to_unknown")
def _():
    return unary_model("Cast", [2], attrs={"to": 99})


@case("cast_to_string", expect="either")
def _():
    return unary_model("Cast", [2], attrs={"to": TensorProto.STRING}, out_dtype=TensorProto.STRING)


@case("add_mixed_dtypes")
def _():
    node = helper.make_node("Add", ["x", "c"], ["y"], name="evil")
    return model([node], [vi("x", F, [2])], [vi("y", F, None)], [const("c", np.ones(2, np.int64))])


@case("relu_on_string")
def _():
    node = helper.make_node("Relu", ["c"], ["y"], name="evil")
    return model([node], [], [vi("y", F, None)],
                 [helper.make_tensor("c", TensorProto.STRING, [2], [b"a", b"b"])])


@case("sqrt_on_bool")
def _():
    node = helper.make_node("Sqrt", ["c"], ["y"], name="evil")
    return model([node], [], [vi("y", F, None)], [const("c", np.ones(2, bool))])


@case("matmul_on_int8", expect="either")
def _():
    node = helper.make_node("MatMul", ["c", "c"], ["y"], name="evil")
    return model([node], [], [vi("y", TensorProto.INT8, None)], [const("c", np.ones((2, 2), np.int8))])


@case("gather_float_indices")
def _():
    return indexed("Gather", [3, 2], np.array([0.5], np.float32))


@case("reshape_float_shape")
def _():
    return unary_model("Reshape", [2, 3], consts=[("s", np.array([3.0, 2.0], np.float32))])


@case("div_int_by_zero", expect="either")
def _():
    node = helper.make_node("Div", ["a", "b"], ["y"], name="evil")
    return model([node], [], [vi("y", I64, None)],
                 [const("a", np.array([7, 8], np.int64)), const("b", np.array([0, 0], np.int64))])


@case("div_int_min_by_minus_one", expect="either")
def _():
    node = helper.make_node("Div", ["a", "b"], ["y"], name="evil")
    return model([node], [], [vi("y", I64, None)],
                 [const("a", np.array([-(1 << 63)], np.int64)), const("b", np.array([-1], np.int64))])


@case("mod_int_by_zero", expect="either")
def _():
    node = helper.make_node("Mod", ["a", "b"], ["y"], name="evil")
    return model([node], [], [vi("y", I32, None)],
                 [const("a", np.array([7], np.int32)), const("b", np.array([0], np.int32))])


@case("mod_int_min_by_minus_one", expect="either")
def _():
    node = helper.make_node("Mod", ["a", "b"], ["y"], name="evil", fmod=0)
    return model([node], [], [vi("y", I32, None)],
                 [const("a", np.array([-(1 << 31)], np.int32)), const("b", np.array([-1], np.int32))])


@case("bitshift_too_far", expect="either")
def _():
    node = helper.make_node("BitShift", ["a", "b"], ["y"], name="evil", direction="LEFT")
    return model([node], [], [vi("y", TensorProto.UINT64, None)],
                 [const("a", np.array([1], np.uint64)), const("b", np.array([200], np.uint64))])


@case("pow_int_negative_exponent", expect="either")
def _():
    node = helper.make_node("Pow", ["a", "b"], ["y"], name="evil")
    return model([node], [], [vi("y", I64, None)],
                 [const("a", np.array([0, 2], np.int64)), const("b", np.array([-1, 70], np.int64))])


@case("cast_float_nan_to_int", expect="either")
def _():
    node = helper.make_node("Cast", ["c"], ["y"], name="evil", to=TensorProto.INT32)
    return model([node], [], [vi("y", I32, None)], [const("c", np.array([np.nan, np.inf, -1e30], np.float32))])


@case("quantize_zero_scale", expect="either")
def _():
    node = helper.make_node("QuantizeLinear", ["x", "s"], ["y"], name="evil")
    return model([node], [vi("x", F, [2])], [vi("y", TensorProto.UINT8, None)], [const("s", np.array(0.0, np.float32))])


@case("abs_int_min", expect="either")
def _():
    node = helper.make_node("Abs", ["c"], ["y"], name="evil")
    return model([node], [], [vi("y", I64, None)], [const("c", np.array([-(1 << 63)], np.int64))])


@case("neg_int_min", expect="either")
def _():
    node = helper.make_node("Neg", ["c"], ["y"], name="evil")
    return model([node], [], [vi("y", I32, None)], [const("c", np.array([-(1 << 31)], np.int32))])


@case("sum_int_overflow", expect="either")
def _():
    node = helper.make_node("Add", ["c", "c"], ["y"], name="evil")
    return model([node], [], [vi("y", I64, None)], [const("c", np.array([(1 << 62) + 5], np.int64))])


@case("reducesum_int_overflow", expect="either")
def _():
    node = helper.make_node("ReduceProd", ["c"], ["y"], name="evil", keepdims=0)
    return model([node], [], [vi("y", I64, None)], [const("c", np.full(8, 1 << 40, np.int64))])


@case("cumsum_int_overflow", expect="either")
def _():
    node = helper.make_node("CumSum", ["c", "a"], ["y"], name="evil")
    return model([node], [], [vi("y", I32, None)],
                 [const("c", np.full(4, 1 << 30, np.int32)), const("a", np.array(0, np.int64))])


# ---------------------------------------------------------------- graph structure

@case("cycle", names=("evil", "evil2"))
def _():
    a = helper.make_node("Add", ["x", "t2"], ["t1"], name="evil")
    b = helper.make_node("Relu", ["t1"], ["t2"], name="evil2")
    c = helper.make_node("Identity", ["t2"], ["y"], name="out")
    return model([a, b, c], [vi("x", F, [2])], [vi("y", F, None)])


@case("self_loop")
def _():
    a = helper.make_node("Add", ["x", "y"], ["y"], name="evil")
    return model([a], [vi("x", F, [2])], [vi("y", F, None)])


@case("missing_producer", names=("evil", "ghost"))
def _():
    a = helper.make_node("Add", ["x", "ghost"], ["y"], name="evil")
    return model([a], [vi("x", F, [2])], [vi("y", F, None)])


@case("output_not_produced", names=("nowhere",))
def _():
    a = helper.make_node("Relu", ["x"], ["y"], name="evil")
    return model([a], [vi("x", F, [2])], [vi("nowhere", F, None)])


@case("duplicate_output_names", expect="either", names=("evil", "evil2", "y"))
def _():
    a = helper.make_node("Relu", ["x"], ["y"], name="evil")
    b = helper.make_node("Neg", ["x"], ["y"], name="evil2")
    return model([a, b], [vi("x", F, [2])], [vi("y", F, None)])


@case("too_many_inputs", expect="either")
def _():
    a = helper.make_node("Sum", ["x"] * 100, ["y"], name="evil")
    return model([a], [vi("x", F, [2])], [vi("y", F, None)])


@case("relu_too_many_inputs", expect="either")
def _():
    a = helper.make_node("Relu", ["x", "x", "x"], ["y"], name="evil")
    return model([a], [vi("x", F, [2])], [vi("y", F, None)])


@case("add_too_few_inputs")
def _():
    a = helper.make_node("Add", ["x"], ["y"], name="evil")
    return model([a], [vi("x", F, [2])], [vi("y", F, None)])


@case("add_omitted_input")
def _():
    a = helper.make_node("Add", ["x", ""], ["y"], name="evil")
    return model([a], [vi("x", F, [2])], [vi("y", F, None)])


@case("topk_omitted_k")
def _():
    a = helper.make_node("TopK", ["x", ""], ["v", "i"], name="evil")
    return model([a], [vi("x", F, [3])], [vi("v", F, None), vi("i", I64, None)])


@case("unknown_op")
def _():
    a = helper.make_node("TotallyMadeUp", ["x"], ["y"], name="evil")
    return model([a], [vi("x", F, [2])], [vi("y", F, None)])


def body_graph(name, nodes, inputs, outputs, inits=()):
    return helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))


@case("if_branch_wrong_arity")
def _():
    then_g = body_graph("then", [helper.make_node("Identity", ["x"], ["t"], name="ti")], [], [vi("t", F, None)])
    else_g = body_graph("else", [], [], [])
    node = helper.make_node("If", ["c"], ["y", "z"], name="evil", then_branch=then_g, else_branch=else_g)
    return model([node], [vi("x", F, [2])], [vi("y", F, None), vi("z", F, None)],
                 [const("c", np.array(True))])


@case("if_else_wrong_arity")
def _():
    then_g = body_graph("then", [helper.make_node("Identity", ["x"], ["t"], name="ti")], [], [vi("t", F, None)])
    else_g = body_graph("else", [], [], [])
    node = helper.make_node("If", ["c"], ["y"], name="evil", then_branch=then_g, else_branch=else_g)
    return model([node], [vi("x", F, [2])], [vi("y", F, None)], [const("c", np.array(False))])


@case("if_branch_with_inputs")
def _():
    then_g = body_graph("then", [helper.make_node("Identity", ["a"], ["t"], name="ti")], [vi("a", F, [2])],
                        [vi("t", F, None)])
    node = helper.make_node("If", ["c"], ["y"], name="evil", then_branch=then_g, else_branch=then_g)
    return model([node], [vi("x", F, [2])], [vi("y", F, None)], [const("c", np.array(True))])


@case("if_empty_condition")
def _():
    then_g = body_graph("then", [helper.make_node("Identity", ["x"], ["t"], name="ti")], [], [vi("t", F, None)])
    node = helper.make_node("If", ["c"], ["y"], name="evil", then_branch=then_g, else_branch=then_g)
    return model([node], [vi("x", F, [2])], [vi("y", F, None)], [const("c", np.zeros(0, bool))])


@case("if_missing_branch")
def _():
    then_g = body_graph("then", [helper.make_node("Identity", ["x"], ["t"], name="ti")], [], [vi("t", F, None)])
    node = helper.make_node("If", ["c"], ["y"], name="evil", then_branch=then_g)
    return model([node], [vi("x", F, [2])], [vi("y", F, None)], [const("c", np.array(True))])


@case("if_branch_as_int")
def _():
    node = helper.make_node("If", ["c"], ["y"], name="evil", then_branch=3, else_branch=4)
    return model([node], [vi("x", F, [2])], [vi("y", F, None)], [const("c", np.array(True))])


def loop_body(extra_nodes=(), carried=1, scan_shape=None, cond_expr="pass"):
    """Body (iter, cond, v) -> (cond, v[, scan])."""
    nodes = [helper.make_node("Identity", ["cond_in"], ["cond_out"], name="b_cond")]
    outs = [vi("cond_out", TensorProto.BOOL, [])]
    ins = [vi("iter", I64, []), vi("cond_in", TensorProto.BOOL, [])]
    for k in range(carried):
        ins.append(vi("v%d" % k, F, None))
        nodes.append(helper.make_node("Identity", ["v%d" % k], ["vo%d" % k], name="b_id%d" % k))
        outs.append(vi("vo%d" % k, F, None))
    nodes += list(extra_nodes)
    if scan_shape is not None:
        outs.append(vi("scan", F, None))
    return body_graph("body", nodes, ins, outs)


@case("loop_huge_trip_count")
def _():
    node = helper.make_node("Loop", ["m", "c", "x"], ["y"], name="evil", body=loop_body())
    return model([node], [vi("x", F, [2])], [vi("y", F, None)],
                 [const("m", np.array((1 << 63) - 1, np.int64)), const("c", np.array(True))])


@case("loop_no_trip_count_forever")
def _():
    node = helper.make_node("Loop", ["", "c", "x"], ["y"], name="evil", body=loop_body())
    return model([node], [vi("x", F, [2])], [vi("y", F, None)], [const("c", np.array(True))])


# 4 MB more per iteration: the default limit (4 GiB) would be reached only
# after seconds of page faults, so the run uses a smaller one.
@case("loop_scan_output_grows", env={"NNTRACE_MEMORY_LIMIT": "256M"})
def _():
    big = helper.make_node("ConstantOfShape", ["bs"], ["scan"], name="b_big",
                           value=helper.make_tensor("v", F, [1], [1.0]))
    body = loop_body([big], scan_shape=True)
    body.initializer.append(const("bs", np.array([1 << 20], np.int64)))
    node = helper.make_node("Loop", ["m", "c", "x"], ["y", "s"], name="evil", body=body)
    return model([node], [vi("x", F, [2])], [vi("y", F, None), vi("s", F, None)],
                 [const("m", np.array(1 << 40, np.int64)), const("c", np.array(True))])


@case("loop_body_wrong_arity")
def _():
    node = helper.make_node("Loop", ["m", "c", "x", "x"], ["y"], name="evil", body=loop_body())
    return model([node], [vi("x", F, [2])], [vi("y", F, None)],
                 [const("m", np.array(3, np.int64)), const("c", np.array(True))])


@case("loop_too_many_outputs")
def _():
    node = helper.make_node("Loop", ["m", "c", "x"], ["y", "z", "w"], name="evil", body=loop_body())
    return model([node], [vi("x", F, [2])], [vi("y", F, None), vi("z", F, None), vi("w", F, None)],
                 [const("m", np.array(3, np.int64)), const("c", np.array(True))])


@case("loop_trip_count_float")
def _():
    node = helper.make_node("Loop", ["m", "c", "x"], ["y"], name="evil", body=loop_body())
    return model([node], [vi("x", F, [2])], [vi("y", F, None)],
                 [const("m", np.array(1e30, np.float32)), const("c", np.array(True))])


@case("loop_negative_trip_count", expect="either")
def _():
    node = helper.make_node("Loop", ["m", "c", "x"], ["y"], name="evil", body=loop_body())
    return model([node], [vi("x", F, [2])], [vi("y", F, None)],
                 [const("m", np.array(-5, np.int64)), const("c", np.array(True))])


@case("loop_scan_shape_changes", names=("evil", "b_range"))
def _():
    # scan output = Range(0, iter): its length changes every iteration.
    r = helper.make_node("Range", ["z", "iter", "one"], ["scan_i"], name="b_range")
    cst = helper.make_node("Cast", ["scan_i"], ["scan"], name="b_cast", to=F)
    body = loop_body([r, cst], scan_shape=True)
    body.initializer.extend([const("z", np.array(0, np.int64)), const("one", np.array(1, np.int64))])
    node = helper.make_node("Loop", ["m", "c", "x"], ["y", "s"], name="evil", body=body)
    return model([node], [vi("x", F, [2])], [vi("y", F, None), vi("s", F, None)],
                 [const("m", np.array(4, np.int64)), const("c", np.array(True))])


@case("scan_wrong_arity")
def _():
    body = body_graph("body", [helper.make_node("Identity", ["a"], ["b"], name="si")],
                      [vi("a", F, None)], [vi("b", F, None)])
    node = helper.make_node("Scan", ["x", "x"], ["y"], name="evil", body=body, num_scan_inputs=1)
    return model([node], [vi("x", F, [2, 2])], [vi("y", F, None)])


@case("scan_axis_oob")
def _():
    body = body_graph("body", [helper.make_node("Identity", ["a"], ["b"], name="si")],
                      [vi("a", F, None)], [vi("b", F, None)])
    node = helper.make_node("Scan", ["x"], ["y"], name="evil", body=body, num_scan_inputs=1,
                            scan_input_axes=[7])
    return model([node], [vi("x", F, [2, 2])], [vi("y", F, None)])


@case("scan_num_inputs_huge")
def _():
    body = body_graph("body", [helper.make_node("Identity", ["a"], ["b"], name="si")],
                      [vi("a", F, None)], [vi("b", F, None)])
    node = helper.make_node("Scan", ["x"], ["y"], name="evil", body=body, num_scan_inputs=1 << 40)
    return model([node], [vi("x", F, [2, 2])], [vi("y", F, None)])


@case("nested_if_deep", expect="either", names=("evil",))
def _():
    leaf = body_graph("leaf", [helper.make_node("Identity", ["x"], ["t"], name="leaf")], [], [vi("t", F, None)])
    inner = leaf
    for d in range(24):   # else is always the leaf: the file grows linearly
        node = helper.make_node("If", ["c"], ["t"], name="if%d" % d, then_branch=inner, else_branch=leaf)
        inner = body_graph("lvl%d" % d, [node], [], [vi("t", F, None)])
    node = helper.make_node("If", ["c"], ["y"], name="evil", then_branch=inner, else_branch=leaf)
    return model([node], [vi("x", F, [2])], [vi("y", F, None)], [const("c", np.array(True))])


# ---------------------------------------------------------------- runner

def run(cmd, env):
    try:
        p = subprocess.run(["timeout", str(TIMEOUT)] + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, env=dict(os.environ, **env))
        return p.returncode, p.stderr.decode("utf-8", "replace")
    except OSError as e:
        return -1, str(e)


def judge(code, err, expect, names, ok_codes):
    if code == 124:
        return "timeout (%d s)" % TIMEOUT
    if code < 0 or code >= 128:
        return "crashed (exit %d)" % code
    if code in ok_codes and expect == "either":
        return None
    if code != 2:
        return "exit %d, expected 2" % code
    if not err.strip():
        return "exit 2 without a message"
    if not any(("'%s'" % n) in err or (" %s " % n) in err or ("%s:" % n) in err for n in names):
        return "message does not name %s: %s" % (" or ".join(names), err.strip().splitlines()[0][:300])
    return None


def main():
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "--corpus":
        os.makedirs(args[1], exist_ok=True)
        for name, fn, _, _, _ in CASES:
            with open(os.path.join(args[1], name + ".onnx"), "wb") as f:
                f.write(fn().SerializeToString())
        print("wrote %d models to %s" % (len(CASES), args[1]))
        return 0
    if not args:
        print(__doc__, file=sys.stderr)
        return 1
    nt = args[0]
    only = args[args.index("--only") + 1] if "--only" in args else None
    keep = args[args.index("--keep") + 1] if "--keep" in args else None
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        d = keep or tmp
        os.makedirs(d, exist_ok=True)
        for name, fn, expect, names, env in CASES:
            if only and name != only:
                continue
            path = os.path.join(d, name + ".onnx")
            with open(path, "wb") as f:
                f.write(fn().SerializeToString())
            for sub, ok_codes in (("run", (0,)), ("doctor", (0, 3))):
                code, err = run([nt, sub, path, "--zeros"], env)
                why = judge(code, err, expect, names, ok_codes)
                if why:
                    failed += 1
                    print("FAIL %s (%s): %s" % (name, sub, why))
                else:
                    passed += 1
    print("malicious: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
