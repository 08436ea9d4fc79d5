#!/usr/bin/python3
"""subgraph_model.py OUTDIR — writes OUTDIR/subgraph.onnx and OUTDIR/subgraph_x.npy:
a model whose If branches and Loop body hold named nodes, for the checks of
subgraph visibility (debug, info, graph).

    x[2,3] -> ReduceSum -> Greater(0) -> If
        then_branch: then_mul = x * 2, then_add = then_mul + 1   (12 body nodes counted below)
        else_branch: else_neg = -x
    If output -> Loop (3 iterations, body: loop_add = acc + x, loop_cond = Identity(cond))
    -> y
x is all positive, so the run takes then_branch; the Loop runs 3 times:
y = (2x + 1) + 3x = 5x + 1.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main(out):
    f32 = TensorProto.FLOAT
    x = helper.make_tensor_value_info("x", f32, [2, 3])
    y = helper.make_tensor_value_info("y", f32, [2, 3])
    two = numpy_helper.from_array(np.array(2.0, np.float32), "two")
    one = numpy_helper.from_array(np.array(1.0, np.float32), "one")
    zero = numpy_helper.from_array(np.array(0.0, np.float32), "zero")
    trips = numpy_helper.from_array(np.array(3, np.int64), "trips")
    cond0 = numpy_helper.from_array(np.array(True), "cond0")

    then_g = helper.make_graph(
        [helper.make_node("Mul", ["x", "two"], ["then_mul_out"], name="then_mul"),
         helper.make_node("Add", ["then_mul_out", "one"], ["then_out"], name="then_add")],
        "then_graph", [], [helper.make_tensor_value_info("then_out", f32, [2, 3])])
    else_g = helper.make_graph(
        [helper.make_node("Neg", ["x"], ["else_out"], name="else_neg")],
        "else_graph", [], [helper.make_tensor_value_info("else_out", f32, [2, 3])])
    body = helper.make_graph(
        [helper.make_node("Add", ["acc_in", "x"], ["acc_out"], name="loop_add"),
         helper.make_node("Identity", ["cond_in"], ["cond_out"], name="loop_cond")],
        "loop_body",
        [helper.make_tensor_value_info("iter", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_in", f32, [2, 3])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_out", f32, [2, 3])])
    nodes = [
        helper.make_node("ReduceSum", ["x"], ["total"], name="sum", keepdims=0),
        helper.make_node("Greater", ["total", "zero"], ["positive"], name="is_positive"),
        helper.make_node("If", ["positive"], ["branch_out"], name="choose", then_branch=then_g, else_branch=else_g),
        helper.make_node("Loop", ["trips", "cond0", "branch_out"], ["y"], name="accumulate", body=body),
    ]
    g = helper.make_graph(nodes, "subgraphs", [x], [y], [two, one, zero, trips, cond0])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="nntrace-tests")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, f"{out}/subgraph.onnx")
    np.save(f"{out}/subgraph_x.npy", np.arange(1, 7, dtype=np.float32).reshape(2, 3))


if __name__ == "__main__":
    main(sys.argv[1])
