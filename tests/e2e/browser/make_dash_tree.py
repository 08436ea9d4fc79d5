#!/usr/bin/python3
"""make_dash_tree.py NNTRACE DIR — the directory tree dashboard.test.js
serves for the dashboard points of issue 14: three runs overfitting at
nearly the same step (onset markers must name their run and not overprint),
a markdown text summary with HTML in it (rendered, never executed), an
`nntrace eval --run-dir` output (single-step scalars, a confusion matrix),
an `nntrace analyze -o` output (a sensitivity map), a traced run of a model
whose Log makes NaN behind two Identity nodes (NaN origin, propagation,
folding), a killed run (run.json still "running") and a hidden run
directory (skipped, and listed as skipped)."""
import json
import math
import os
import random
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from tfevents_writer import ld, record, varint, write_scalars  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def text_event(step, tag, text):
    meta = ld(1, ld(1, b"text"))
    tensor = varint(1 << 3) + varint(7) + ld(2, b"") + ld(8, text.encode())
    val = ld(1, tag.encode()) + ld(9, meta) + ld(8, tensor)
    return record(bytes([1 << 3 | 1]) + struct.pack("<d", 1000.0 + step) + varint(2 << 3) + varint(step) +
                  ld(5, ld(1, val)))


def main():
    nt, top = sys.argv[1], sys.argv[2]
    for name, seed in (("of_a", 7), ("of_b", 8), ("of_c", 9)):
        rnd = random.Random(seed)
        d = os.path.join(top, name)
        os.makedirs(d)
        pts = []
        for i in range(1, 151):
            tr = 2.0 * math.exp(-i / 30.0) + 0.1 + rnd.gauss(0, 0.01)
            va = 2.0 * math.exp(-i / 30.0) + 0.3 + (0.004 * (i - 60) if i > 60 else 0) + rnd.gauss(0, 0.01)
            pts += [(i, "loss/train", tr, 1000.0 + i), (i, "loss/val", va, 1000.0 + i)]
        write_scalars(os.path.join(d, "events.out.tfevents.1.x"), pts)
    md = ("## Results\n\nAccuracy is **0.96** on *held-out* data; see `eval.json`.\n\n"
          "| class | recall |\n|---|---|\n| cat | 0.9 |\n| dog <b id=\"inj\">x</b> | 0.8 |\n\n"
          "- first\n- second [link](https://example.org)\n\n<script>window.__pwned = 1</script>\n"
          "<img src=x onerror=\"window.__pwned = 2\">\n")
    d = os.path.join(top, "notes")
    os.makedirs(d)
    with open(os.path.join(d, "events.out.tfevents.1.notes"), "wb") as f:
        f.write(text_event(1, "notes/summary", md))
    demo = os.path.join(ROOT, "examples", "demo")
    subprocess.run([nt, "eval", os.path.join(demo, "model.onnx"), "--data", os.path.join(demo, "data.npy"),
                    "--labels", os.path.join(demo, "labels.npy"), "--run-dir", os.path.join(top, "eval")],
                   check=True, capture_output=True)
    subprocess.run([nt, "analyze", os.path.join(demo, "model.onnx"), "-i", os.path.join(demo, "digit.npy"),
                    "--method", "occlusion", "-o", os.path.join(top, "occlusion")], check=True, capture_output=True)
    import numpy as np
    import onnx
    from onnx import TensorProto, helper
    nodes = [helper.make_node("Identity", ["x"], ["x1"], name="id1"),
             helper.make_node("Identity", ["x1"], ["x2"], name="id2"),
             helper.make_node("Abs", ["x2"], ["a"], name="abs"),
             helper.make_node("Neg", ["x2"], ["n"], name="neg"),
             helper.make_node("Log", ["n"], ["l"], name="log"),
             helper.make_node("Add", ["a", "l"], ["s"], name="add"),
             helper.make_node("Relu", ["s"], ["y"], name="relu")]
    g = helper.make_graph(nodes, "nan", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    model = os.path.join(top, "..", "nan.onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), model)
    np.save(os.path.join(top, "..", "nanx.npy"), np.array([[1, 2, -3, 4]], dtype=np.float32))
    subprocess.run([nt, "run", model, "-i", os.path.join(top, "..", "nanx.npy"), "--trace", "stats", "--trace",
                    "profile", "--run-dir", os.path.join(top, "nanrun")], check=True, capture_output=True)
    # An If whose branches hold named nodes (one branch nests a second If):
    # the Graph tab draws each body as a cluster.
    f4 = lambda n: helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 4])
    inner = helper.make_node("If", ["c"], ["e2"], name="inner",
                             then_branch=helper.make_graph([helper.make_node("Abs", ["x"], ["ia"], name="inner_abs")], "it", [], [f4("ia")]),
                             else_branch=helper.make_graph([helper.make_node("Relu", ["x"], ["ir"], name="inner_relu")], "ie", [], [f4("ir")]))
    then_g = helper.make_graph([helper.make_node("Mul", ["x", "x"], ["tm"], name="then_mul"),
                                helper.make_node("Add", ["tm", "x"], ["ta"], name="then_add")], "then", [], [f4("ta")])
    else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["en"], name="else_neg"), inner,
                                helper.make_node("Sub", ["en", "e2"], ["es"], name="else_sub")], "else", [], [f4("es")])
    nodes = [helper.make_node("ReduceSum", ["x"], ["r"], name="total", keepdims=0),
             helper.make_node("Greater", ["r", "zero"], ["c"], name="positive"),
             helper.make_node("If", ["c"], ["b"], name="choose", then_branch=then_g, else_branch=else_g),
             helper.make_node("Relu", ["b"], ["y"], name="out")]
    g = helper.make_graph(nodes, "branchy", [f4("x")], [f4("y")],
                          initializer=[helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])])
    model = os.path.join(top, "..", "ifmodel.onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), model)
    subprocess.run([nt, "run", model, "-i", os.path.join(top, "..", "nanx.npy"), "--trace", "stats",
                    "--run-dir", os.path.join(top, "ifrun")], check=True, capture_output=True)
    d = os.path.join(top, "killed")
    os.makedirs(d)
    with open(os.path.join(d, "run.json"), "w") as f:
        json.dump({"command": "run", "model": "m.onnx", "status": "running"}, f)
    d = os.path.join(top, ".hidden_run")
    os.makedirs(d)
    write_scalars(os.path.join(d, "events.out.tfevents.1.h"), [(1, "x", 1.0, 1.0)])


if __name__ == "__main__":
    main()
