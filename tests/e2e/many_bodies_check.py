#!/usr/bin/env python3
"""many_bodies_check.py NNTRACE — a model with more subgraph bodies than any
fixed stack would hold (140 bodies in 70 If nodes): `--trace stats` must see
the node of every branch taken, and the outputs must be right.  (The session
once walked bodies with a stack of 64 and silently skipped the rest.)"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h

N_IF = 70


def make_model(path):
    nodes, prev = [], "x"
    for i in range(N_IF):
        nodes.append(h.make_node("ReduceSum", [prev], [f"s{i}"], keepdims=0, name=f"sum{i}"))
        nodes.append(h.make_node("Greater", [f"s{i}", "zero"], [f"c{i}"], name=f"gt{i}"))
        then = h.make_graph([h.make_node("Add", [prev, "one"], [f"t{i}"], name=f"then_add{i}")], f"then{i}", [],
                            [h.make_tensor_value_info(f"t{i}", T.FLOAT, [4])])
        other = h.make_graph([h.make_node("Sub", [prev, "one"], [f"e{i}"], name=f"else_sub{i}")], f"else{i}", [],
                             [h.make_tensor_value_info(f"e{i}", T.FLOAT, [4])])
        nodes.append(h.make_node("If", [f"c{i}"], [f"y{i}"], then_branch=then, else_branch=other, name=f"if{i}"))
        prev = f"y{i}"
    g = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", T.FLOAT, [4])],
                     [h.make_tensor_value_info(prev, T.FLOAT, [4])],
                     initializer=[h.make_tensor("one", T.FLOAT, [], [1.0]), h.make_tensor("zero", T.FLOAT, [], [0.0])])
    onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 17)]), path)


def main():
    nt = sys.argv[1]
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("  FAIL:", what)

    with tempfile.TemporaryDirectory() as tmp:
        model, x = os.path.join(tmp, "bodies.onnx"), os.path.join(tmp, "x.npy")
        make_model(model)
        np.save(x, np.ones(4, np.float32))
        rd, out = os.path.join(tmp, "rd"), os.path.join(tmp, "out")
        r = subprocess.run([nt, "run", model, "-i", x, "--trace", "stats", "--run-dir", rd, "-o", out],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"run exit {r.returncode}: {r.stderr}")
        names = set()
        with open(os.path.join(rd, "stats.jsonl")) as f:
            for line in f:
                names.add(json.loads(line)["node"])
        taken = {f"then_add{i}" for i in range(N_IF)}   # the sum stays positive: every If takes "then"
        check(taken <= names, f"{len(taken - names)} body nodes were never traced, e.g. {sorted(taken - names)[:3]}")
        check(not any(n.startswith("else_sub") for n in names), "an untaken branch was traced")
        y = np.load(os.path.join(out, f"y{N_IF - 1}.npy"))
        check(np.array_equal(y, np.full(4, 1 + N_IF, np.float32)), f"output {y}")
    print(f"many-bodies: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
