#!/usr/bin/python3
"""diff_check.py NNTRACE — `nntrace diff` and `run --compare` on a held-out model.

A real model (resnet18 from $NT_MODELS when exported, else the demo CNN) and
a copy with one weight of one middle convolution perturbed: diff must name
that convolution as the first divergent node, from dumps (two run
directories), live (two models), and with `run --compare`; the numbers of
the divergent row are recomputed with numpy; identical runs and a reference
directory of ONNX Runtime's intermediates (when onnxruntime-node is
installed) must not diverge.

Prints "diff-check: N passed, N failed"; exits 1 on any failure.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
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


def pick_model():
    for d in [os.environ.get("NT_MODELS"), "/tmp/models"]:
        if d and os.path.exists(os.path.join(d, "resnet18.onnx")):
            return os.path.join(d, "resnet18.onnx"), os.path.join(d, "resnet18.input.npy")
    demo = os.path.join(ROOT, "examples", "demo")
    return os.path.join(demo, "model.onnx"), os.path.join(demo, "digit.npy")


def quantized_pair(nt, tmp):
    """A float CNN and its QDQ twin named as onnxruntime's quantizer names
    tensors (X -> QuantizeLinear -> X_QuantizeLinear_Output -> DequantizeLinear
    -> X_DequantizeLinear_Output), with a deliberately coarse scale on r2:
    diff pairs each float tensor with the DequantizeLinear output standing for
    it, reports SQNR (checked with numpy) and names r2's DequantizeLinear as
    the layer where the error jumps."""
    from onnx import helper as h, TensorProto as TP
    rng = np.random.RandomState(0)
    vi = h.make_tensor_value_info
    W1 = rng.randn(16, 3, 3, 3).astype(np.float32) * 0.3
    W2 = rng.randn(16, 16, 3, 3).astype(np.float32) * 0.1
    W3 = rng.randn(8, 16, 1, 1).astype(np.float32) * 0.2

    def save(nodes, inits, path):
        g = h.make_graph(nodes, "g", [vi("x", TP.FLOAT, [1, 3, 16, 16])], [vi("y", TP.FLOAT, None)], inits)
        m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
        m.ir_version = 8
        onnx.save(m, path)

    save([h.make_node("Conv", ["x", "W1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
          h.make_node("Relu", ["c1"], ["r1"], name="relu1"),
          h.make_node("Conv", ["r1", "W2"], ["c2"], pads=[1, 1, 1, 1], name="conv2"),
          h.make_node("Relu", ["c2"], ["r2"], name="relu2"),
          h.make_node("Conv", ["r2", "W3"], ["y"], name="conv3")],
         [numpy_helper.from_array(W1, "W1"), numpy_helper.from_array(W2, "W2"), numpy_helper.from_array(W3, "W3")],
         os.path.join(tmp, "float.onnx"))
    inits, nodes = [], []

    def q(t, scale, zp):
        inits.extend([numpy_helper.from_array(np.float32(scale), t + "_scale"),
                      numpy_helper.from_array(np.uint8(zp), t + "_zero_point")])
        nodes.append(h.make_node("QuantizeLinear", [t, t + "_scale", t + "_zero_point"],
                                 [t + "_QuantizeLinear_Output"], name=t + "_QuantizeLinear"))
        nodes.append(h.make_node("DequantizeLinear", [t + "_QuantizeLinear_Output", t + "_scale", t + "_zero_point"],
                                 [t + "_DequantizeLinear_Output"], name=t + "_DequantizeLinear"))
        return t + "_DequantizeLinear_Output"

    def qw(name, w):
        sc = np.abs(w).max() / 127
        inits.extend([numpy_helper.from_array(np.clip(np.round(w / sc), -127, 127).astype(np.int8), name + "_quantized"),
                      numpy_helper.from_array(np.float32(sc), name + "_scale"),
                      numpy_helper.from_array(np.int8(0), name + "_zero_point")])
        nodes.append(h.make_node("DequantizeLinear", [name + "_quantized", name + "_scale", name + "_zero_point"],
                                 [name + "_DequantizeLinear_Output"]))
        return name + "_DequantizeLinear_Output"

    nodes.append(h.make_node("Conv", [q("x", 0.02, 128), qw("W1", W1)], ["c1"], pads=[1, 1, 1, 1], name="conv1"))
    nodes.append(h.make_node("Relu", ["c1"], ["r1"], name="relu1"))
    nodes.append(h.make_node("Conv", [q("r1", 0.02, 0), qw("W2", W2)], ["c2"], pads=[1, 1, 1, 1], name="conv2"))
    nodes.append(h.make_node("Relu", ["c2"], ["r2"], name="relu2"))
    nodes.append(h.make_node("Conv", [q("r2", 0.5, 0), qw("W3", W3)], ["y"], name="conv3"))
    save(nodes, inits, os.path.join(tmp, "qdq.onnx"))
    xq = os.path.join(tmp, "xq.npy")
    np.save(xq, (rng.rand(1, 3, 16, 16) * 2).astype(np.float32))
    keep = os.path.join(tmp, "float_dump")
    r = run([nt, "diff", os.path.join(tmp, "float.onnx"), os.path.join(tmp, "qdq.onnx"), "-i", "x=" + xq,
             "--json", "--keep", keep])
    rep = json.loads(r.stdout) if r.stdout else {}
    rows = {(n["node"], n["matched_by"]): n for n in rep.get("nodes", [])}
    check(r.returncode == 3 and ("r1_DequantizeLinear", "dequantize") in rows and
          ("r2_DequantizeLinear", "dequantize") in rows, f"quantized diff pairs X with X_DequantizeLinear_Output {list(rows)}")
    check(not any(n["node"] in ("relu1", "relu2") for n in rep.get("nodes", [])),
          "the float tensor feeding QuantizeLinear is compared through its DequantizeLinear output")
    jump = rep.get("sqnr_jump") or {}
    check(jump.get("node") == "r2_DequantizeLinear" and jump.get("drop_db", 0) > 10,
          f"the error jumps at r2's DequantizeLinear ({jump})")
    row = rows.get(("r2_DequantizeLinear", "dequantize"), {})
    # recompute that row's SQNR and cosine with numpy from the float dump and a run of the quantized model
    idx = json.load(open(os.path.join(keep, "tensors", "index.json")))
    ents = idx["tensors"] if isinstance(idx, dict) and "tensors" in idx else idx
    fpath = [e for e in ents if e.get("output") == "r2"]
    qm = onnx.load(os.path.join(tmp, "qdq.onnx"))
    qm.graph.output.append(onnx.ValueInfoProto(name="r2_DequantizeLinear_Output"))
    onnx.save(qm, os.path.join(tmp, "qdq_out.onnx"))
    r2 = run([nt, "run", os.path.join(tmp, "qdq_out.onnx"), "-i", "x=" + xq, "-o", os.path.join(tmp, "qout")])
    if fpath and r2.returncode == 0:
        a = np.load(os.path.join(keep, "tensors", fpath[0]["file"])).astype(np.float64)
        b = np.load(os.path.join(tmp, "qout", "r2_DequantizeLinear_Output.npy")).astype(np.float64)
        sq = 10 * np.log10((b * b).sum() / ((a - b) ** 2).sum())
        cos = (a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum())
        check(abs(row.get("sqnr_db", 0) - sq) < 1e-6 and abs(row.get("cosine", 0) - cos) < 1e-9,
              f"SQNR {row.get('sqnr_db')} vs numpy {sq}, cosine {row.get('cosine')} vs {cos}")
    else:
        check(False, f"float dump has r2 and the quantized model runs ({r2.stderr[-200:]})")


def perturb(model, out):
    """Perturbs one weight of the middle Conv; returns that node's name."""
    m = onnx.load(model)
    inits = {i.name: i for i in m.graph.initializer}
    convs = [n for n in m.graph.node if n.op_type == "Conv" and len(n.input) > 1 and n.input[1] in inits]
    node = convs[len(convs) // 2]
    init = inits[node.input[1]]
    a = numpy_helper.to_array(init).copy()
    a.flat[a.size // 3] += 1.0 + abs(a).max()
    init.CopyFrom(numpy_helper.from_array(a, init.name))
    onnx.save(m, out)
    return node.name


def main():
    nt = sys.argv[1]
    model, inp = pick_model()
    print(f"model: {model}")
    with tempfile.TemporaryDirectory() as tmp:
        pert = os.path.join(tmp, "perturbed.onnx")
        target = perturb(model, pert)
        ra, rb = os.path.join(tmp, "ra"), os.path.join(tmp, "rb")
        for m, rd in [(model, ra), (pert, rb)]:
            r = run([nt, "run", m, "-i", inp, "--trace", "dump", "--run-dir", rd])
            check(r.returncode == 0, f"dump run of {m}: {r.stderr[-300:]}")

        # 1. two run directories
        r = run([nt, "diff", ra, rb, "--json"])
        check(r.returncode == 3, f"diff of dumps exits 3 (got {r.returncode}) {r.stderr[-300:]}")
        rep = json.loads(r.stdout) if r.stdout else {"nodes": [], "first_divergent": None}
        check(rep["first_divergent"] == target, f"first divergent {rep['first_divergent']} == {target}")
        rows = rep["nodes"]
        names = [x["node"] for x in rows]
        check(target in names, "the perturbed node is compared")
        if target in names:
            k = names.index(target)
            check(all(x["ok"] for x in rows[:k]), "every node before the perturbed one matches")
            check(all(set(x) >= {"node", "output", "max_abs", "max_rel", "cosine", "ok"} for x in rows),
                  "rows carry the DESIGN.md keys")
            row = rows[k]
            index = json.load(open(os.path.join(ra, "tensors", "index.json")))
            f = {e["output"]: e["file"] for e in index["tensors"]}[row["output"]]
            a = np.load(os.path.join(ra, "tensors", f)).astype(np.float64)
            b = np.load(os.path.join(rb, "tensors", f)).astype(np.float64)
            d = np.abs(a - b)
            check(np.isclose(row["max_abs"], d.max(), rtol=1e-9), f"max_abs {row['max_abs']} vs numpy {d.max()}")
            check(np.isclose(row["mean_abs"], d.mean(), rtol=1e-9), "mean_abs matches numpy")
            cos = (a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum())
            check(np.isclose(row["cosine"], cos, rtol=1e-9, atol=1e-12), f"cosine {row['cosine']} vs {cos}")
            nfail = int(((d > 1e-4) & (d > 1e-3 * np.abs(b))).sum())
            check(row["fail"] == nfail, f"failing elements {row['fail']} vs numpy {nfail}")
            nz = b != 0
            check(np.isclose(row["max_rel"], (d[nz] / np.abs(b[nz])).max(), rtol=1e-9), "max_rel matches numpy")

        r = run([nt, "diff", ra, rb])
        check(r.returncode == 3 and f"first divergent node: {target} " in r.stdout, "text report names the node")
        r = run([nt, "diff", ra, rb, "--atol", "1e9"])
        check(r.returncode == 0 and "no divergence" in r.stdout, "a huge --atol passes")
        r = run([nt, "diff", ra, ra, "--json"])
        check(r.returncode == 0 and json.loads(r.stdout)["first_divergent"] is None, "identical runs: no divergence")
        r = run([nt, "diff", ra])
        check(r.returncode == 1, "one argument is a usage error")
        r = run([nt, "diff", ra, os.path.join(tmp, "missing")])
        check(r.returncode == 2, "a missing directory exits 2")

        # 2. two models, live
        r = run([nt, "diff", model, pert, "-i", inp, "--json"])
        check(r.returncode == 3, f"live diff of two models exits 3 ({r.returncode}) {r.stderr[-300:]}")
        if r.stdout:
            check(json.loads(r.stdout)["first_divergent"] == target, "live diff names the perturbed node")
        r = run([nt, "diff", model, model, "-i", inp])
        check(r.returncode == 0, "live diff of a model with itself passes")

        # 3. run --compare against recorded tensors (writes diff.json in the run dir)
        rc = os.path.join(tmp, "rc")
        r = run([nt, "run", pert, "-i", inp, "--compare", ra, "--run-dir", rc])
        check(r.returncode == 3, f"run --compare exits 3 ({r.returncode})")
        dj = os.path.join(rc, "diff.json")
        check(os.path.exists(dj) and json.load(open(dj))["first_divergent"] == target, "run --compare diff.json")
        # a plain directory of .npy files (as saved from PyTorch) works as a reference
        npyd = os.path.join(tmp, "npy")
        os.makedirs(npyd)
        for e in json.load(open(os.path.join(ra, "tensors", "index.json")))["tensors"]:
            os.link(os.path.join(ra, "tensors", e["file"]), os.path.join(npyd, e["file"]))
        r = run([nt, "run", model, "-i", inp, "--compare", npyd])
        check(r.returncode == 0 and "no divergence" in r.stdout, f"run --compare against .npy files: {r.stdout[-300:]}")

        # 4. against ONNX Runtime's intermediates
        if os.path.isdir(os.path.join(ROOT, "bench", "node_modules", "onnxruntime-node")):
            m = onnx.load(model)
            have = {o.name for o in m.graph.output}
            for n in m.graph.node:
                for o in n.output:
                    if o and o not in have:
                        m.graph.output.append(onnx.ValueInfoProto(name=o))
                        have.add(o)
            allout = os.path.join(tmp, "all.onnx")
            onnx.save(m, allout)
            ortd = os.path.join(tmp, "ort")
            r = run(["node", os.path.join(ROOT, "bench", "ort_run.js"), allout, "-i", inp, "-o", ortd])
            check(r.returncode == 0, f"ORT run {r.stderr[-300:]}")
            r = run([nt, "diff", ra, ortd, "--json"])
            rep = json.loads(r.stdout) if r.stdout else {}
            check(r.returncode == 0 and rep.get("compared", 0) >= len(rep.get("nodes", [])) > 0,
                  f"nntrace's dump matches ORT's intermediates ({r.returncode}, {rep.get('first_divergent')})")
            r = run([nt, "diff", rb, ortd, "--json"])
            check(r.returncode == 3 and json.loads(r.stdout)["first_divergent"] == target,
                  "perturbed run vs ORT names the perturbed node")
        else:
            print("skipped: ORT reference (needs bench/node_modules/onnxruntime-node)")

        quantized_pair(nt, tmp)

    print(f"diff-check: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
