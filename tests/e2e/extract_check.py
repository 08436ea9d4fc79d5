#!/usr/bin/python3
"""extract_check.py NNTRACE — `nntrace extract` repros run in ONNX Runtime.

For a single node of a real model (a middle Conv of resnet18, a MatMul of the
transformer), a subgraph between two nodes, and an If node with its bodies:
the written model passes onnx.checker, the test case has the documented
layout, and ONNX Runtime (when onnxruntime-node is installed) run on
input_K.pb reproduces output_K.pb.  Without the exported models the demo CNN
is used.  Prints "extract-check: N passed, N failed"; exits 1 on failure.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
ORT = os.path.join(ROOT, "bench", "ort_run.js")
HAVE_ORT = os.path.isdir(os.path.join(ROOT, "bench", "node_modules", "onnxruntime-node"))
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {what}")


def run(args):
    return subprocess.run(args, capture_output=True, text=True)


def load_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t)


def sanitize(name):
    return "".join(c if c.isalnum() or c in "_.-" else "_" for c in name)


def verify(d, what):
    """Checks the layout, the checker and ORT against output_K.pb."""
    m = onnx.load(os.path.join(d, "model.onnx"))
    try:
        onnx.checker.check_model(m, full_check=True)
        ok = True
    except Exception as e:  # noqa: BLE001 - report any checker complaint
        ok = False
        print(f"  checker: {e}")
    check(ok, f"{what}: onnx.checker accepts the repro")
    ts = os.path.join(d, "test_data_set_0")
    ins = [load_pb(os.path.join(ts, f"input_{k}.pb")) for k in range(len(m.graph.input))]
    outs = [load_pb(os.path.join(ts, f"output_{k}.pb")) for k in range(len(m.graph.output))]
    check([n for n, _ in ins] == [i.name for i in m.graph.input], f"{what}: input_K.pb in graph input order")
    check([n for n, _ in outs] == [o.name for o in m.graph.output], f"{what}: output_K.pb in graph output order")
    if not HAVE_ORT:
        return
    args = []
    for k, (name, arr) in enumerate(ins):
        p = os.path.join(d, f"in{k}.npy")
        np.save(p, arr)
        args += ["-i", f"{name}={p}"]
    r = run(["node", ORT, os.path.join(d, "model.onnx"), *args, "-o", os.path.join(d, "ort")])
    check(r.returncode == 0, f"{what}: ONNX Runtime loads and runs the repro {r.stderr[-400:]}")
    if r.returncode:
        return
    for name, want in outs:
        got = np.load(os.path.join(d, "ort", sanitize(name) + ".npy"))
        close = got.shape == want.shape and (np.allclose(got, want, rtol=1e-3, atol=1e-4) if want.dtype.kind == "f"
                                             else np.array_equal(got, want))
        check(close, f"{what}: ORT's {name} matches what nntrace computed")


def descendants(m, start, limit):
    """A node reachable from `start` within the next `limit` nodes (for --to)."""
    nodes = list(m.graph.node)
    i = [n.name for n in nodes].index(start)
    reach = set(nodes[i].output)
    last = start
    for n in nodes[i + 1:i + 1 + limit]:
        if any(x in reach for x in n.input):
            reach.update(n.output)
            last = n.name
    return last


def main():
    nt = sys.argv[1]
    models = os.environ.get("NT_MODELS") or "/tmp/models"
    if not os.path.exists(os.path.join(models, "resnet18.onnx")):
        models = None
    with tempfile.TemporaryDirectory() as tmp:
        cases = []
        if models:
            rn = os.path.join(models, "resnet18.onnx")
            m = onnx.load(rn)
            convs = [n.name for n in m.graph.node if n.op_type == "Conv"]
            mid = convs[len(convs) // 2]
            cases.append(("resnet18 conv", rn, os.path.join(models, "resnet18.input.npy"), mid, None))
            cases.append(("resnet18 subgraph", rn, os.path.join(models, "resnet18.input.npy"), mid,
                          descendants(m, mid, 6)))
            tr = os.path.join(models, "transformer.onnx")
            if os.path.exists(tr):
                mt = onnx.load(tr)
                mm = [n.name for n in mt.graph.node if n.op_type in ("MatMul", "Softmax")]
                if mm:
                    cases.append(("transformer " + mm[len(mm) // 2], tr, os.path.join(models, "transformer.input.npy"),
                                  mm[len(mm) // 2], None))
            wi = os.path.join(models, "with_if.onnx")
            if os.path.exists(wi):
                mi = onnx.load(wi)
                ifs = [n.name for n in mi.graph.node if n.op_type == "If"]
                if ifs:
                    cases.append(("If node", wi, os.path.join(models, "with_if.input.npy"), ifs[0], None))
        else:
            demo = os.path.join(ROOT, "examples", "demo")
            cases.append(("demo conv", os.path.join(demo, "model.onnx"), os.path.join(demo, "digit.npy"), "/3/Conv", None))
            cases.append(("demo subgraph", os.path.join(demo, "model.onnx"), os.path.join(demo, "digit.npy"), "/3/Conv",
                          "/7/Gemm"))
        for k, (what, model, inp, node, to) in enumerate(cases):
            d = os.path.join(tmp, f"case{k}")
            args = [nt, "extract", model, "--node", node, "-i", inp, "-o", d]
            if to:
                args += ["--to", to]
            r = run(args)
            check(r.returncode == 0, f"{what}: extract {node}{' to ' + to if to else ''} ({r.returncode}) {r.stderr[-300:]}")
            if r.returncode == 0:
                verify(d, what)
        model, inp = cases[0][1], cases[0][2]
        r = run([nt, "extract", model, "--node", "no_such_node", "-i", inp, "-o", os.path.join(tmp, "x")])
        check(r.returncode == 1 and "no_such_node" in r.stderr, "an unknown node is a usage error naming it")
        r = run([nt, "extract", model, "-o", os.path.join(tmp, "x")])
        check(r.returncode == 1, "--node is required")
        if not HAVE_ORT:
            print("skipped: ONNX Runtime runs (needs bench/node_modules/onnxruntime-node)")
    print(f"extract-check: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
