#!/usr/bin/python3
"""diff_inputs_check.py NNTRACE — what `nntrace diff` says when the runs differ
by their inputs, and on run directories that hold statistics only.

A small CNN is run on two inputs (recorded with dumps, and with --trace stats
only), and a copy with one weight of the middle convolution perturbed is run
on the first input:
- different inputs: the report names the graph inputs as the likely cause
  (text and JSON "cause": "inputs"), with the max abs difference per input
  recomputed with numpy; the same inputs: "cause" is the node, inputs equal;
- stats-only directories: compared by statistics (said in text and JSON
  "compared_what"), the perturbed convolution is the first divergent node,
  identical runs do not diverge, a model against a stats-only directory
  works, a stats-only directory against one with neither exits 2 naming it.

Prints "diff-inputs-check: N passed, N failed"; exits 1 on any failure.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import helper as h, numpy_helper, TensorProto as TP

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


def cnn(path, bump=0.0):
    rng = np.random.RandomState(1)
    W1 = rng.randn(8, 3, 3, 3).astype(np.float32) * 0.3
    W2 = rng.randn(8, 8, 3, 3).astype(np.float32) * 0.2
    W3 = rng.randn(4, 8, 1, 1).astype(np.float32) * 0.3
    W2[2, 1, 1, 1] += bump
    vi = h.make_tensor_value_info
    g = h.make_graph([h.make_node("Conv", ["x", "W1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
                      h.make_node("Relu", ["c1"], ["r1"], name="relu1"),
                      h.make_node("Conv", ["r1", "W2"], ["c2"], pads=[1, 1, 1, 1], name="conv2"),
                      h.make_node("Relu", ["c2"], ["r2"], name="relu2"),
                      h.make_node("Conv", ["r2", "W3"], ["y"], name="conv3")],
                     "g", [vi("x", TP.FLOAT, [1, 3, 12, 12])], [vi("y", TP.FLOAT, None)],
                     [numpy_helper.from_array(W1, "W1"), numpy_helper.from_array(W2, "W2"),
                      numpy_helper.from_array(W3, "W3")])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, path)


def main():
    nt = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="nt-diffin-")
    try:
        os.chdir(tmp)
        cnn("m.onnx")
        cnn("m_bad.onnx", bump=3.0)
        rng = np.random.RandomState(2)
        xa = rng.rand(1, 3, 12, 12).astype(np.float32)
        xb = xa * 1.25
        np.save("xa.npy", xa)
        np.save("xb.npy", xb)
        for d, model, x, kind in [("da", "m.onnx", "xa.npy", "dump"), ("db", "m.onnx", "xb.npy", "dump"),
                                  ("dc", "m.onnx", "xa.npy", "dump"),
                                  ("sa", "m.onnx", "xa.npy", "stats"), ("sb", "m.onnx", "xb.npy", "stats"),
                                  ("sc", "m.onnx", "xa.npy", "stats"), ("sbad", "m_bad.onnx", "xa.npy", "stats")]:
            r = run([nt, "run", model, "-i", x, "--trace", kind, "--run-dir", d])
            check(r.returncode == 0, f"run {d}: {r.stderr}")

        # different inputs, tensors: the inputs are named as the cause
        r = run([nt, "diff", "da", "db"])
        check(r.returncode == 3, f"diff da db exits 3 (got {r.returncode})")
        check("GRAPH INPUTS DIFFER" in r.stdout and "likely cause" in r.stdout,
              f"text names the inputs as the cause:\n{r.stdout[:800]}")
        r = run([nt, "diff", "da", "db", "--json"])
        j = json.loads(r.stdout) if r.stdout.startswith("{") else {}
        check(j.get("cause") == "inputs" and j.get("inputs_differ") == 1, f"JSON cause inputs: {r.stdout[:300]}")
        ins = j.get("inputs", [])
        want = float(np.abs(xa - xb).max())
        check(len(ins) == 1 and not ins[0]["ok"] and abs(ins[0]["max_abs"] - want) <= 1e-6 * want,
              f"input max_abs {ins[:1]} vs numpy {want}")
        check(j.get("first_divergent") == "conv1", "first_divergent still names the first node (contract kept)")

        # the same inputs: equal, and the cause is a node only when one diverges
        r = run([nt, "diff", "da", "dc", "--json"])
        j = json.loads(r.stdout) if r.stdout.startswith("{") else {}
        check(r.returncode == 0 and j.get("cause") is None and j.get("inputs_differ") == 0 and
              len(j.get("inputs", [])) == 1 and j["inputs"][0]["ok"], f"same inputs: {r.stdout[:300]}")
        r = run([nt, "diff", "m_bad.onnx", "da", "-i", "xa.npy", "--json"])
        j = json.loads(r.stdout) if r.stdout.startswith("{") else {}
        check(r.returncode == 3 and j.get("cause") == "node" and j.get("first_divergent") == "conv2",
              f"model vs dir on the same input: cause node, conv2: {r.stdout[:300]} {r.stderr}")
        # a model live against a directory made from another input
        r = run([nt, "diff", "m.onnx", "db", "-i", "xa.npy", "--json"])
        j = json.loads(r.stdout) if r.stdout.startswith("{") else {}
        check(r.returncode == 3 and j.get("cause") == "inputs", f"live model vs db: {r.stdout[:300]}")

        # statistics only
        r = run([nt, "diff", "sa", "sc"])
        check(r.returncode == 0 and "compared per-node STATISTICS" in r.stdout and "not compared" in r.stdout,
              f"identical stats-only runs: rc {r.returncode}\n{r.stdout[-600:]}{r.stderr}")
        r = run([nt, "diff", "sbad", "sa", "--json"])
        j = json.loads(r.stdout) if r.stdout.startswith("{") else {}
        check(r.returncode == 3 and j.get("compared_what") == "statistics" and j.get("first_divergent") == "conv2",
              f"perturbed weight by statistics: rc {r.returncode} {r.stdout[:400]} {r.stderr}")
        rows = {n["node"]: n for n in j.get("nodes", [])}
        check("conv1" in rows and rows["conv1"]["ok"] and "statistic" in rows.get("conv2", {}),
              "conv1 equal, conv2 names the statistic that moved")
        if "conv2" in rows:
            s_bad = [json.loads(l) for l in open("sbad/stats.jsonl")]
            s_ok = [json.loads(l) for l in open("sa/stats.jsonl")]
            st = rows["conv2"]["statistic"]
            va = [l[st] for l in s_bad if l["output"] == "c2"][0]
            vb = [l[st] for l in s_ok if l["output"] == "c2"][0]
            check(rows["conv2"]["stat_a"] == va and rows["conv2"]["stat_b"] == vb,
                  f"conv2 {st}: {rows['conv2']['stat_a']}/{rows['conv2']['stat_b']} vs files {va}/{vb}")
        r = run([nt, "diff", "sa", "sb"])
        check(r.returncode == 3 and "GRAPH INPUTS DIFFER" in r.stdout, "stats-only runs on different inputs")
        r = run([nt, "diff", "m_bad.onnx", "sa", "-i", "xa.npy"])
        check(r.returncode == 3 and "first divergent node (by statistics): conv2" in r.stdout,
              f"model against a stats-only dir: rc {r.returncode}\n{r.stdout[-500:]}{r.stderr}")
        r = run([nt, "diff", "m.onnx", "sa", "-i", "xa.npy"])
        check(r.returncode == 0, f"the same model against its stats: rc {r.returncode} {r.stderr}")
        os.mkdir("empty")
        r = run([nt, "diff", "sa", "empty"])
        check(r.returncode == 2 and "empty" in r.stderr, f"stats vs nothing: rc {r.returncode} {r.stderr}")
        with open("sc/stats.jsonl", "r+") as f:
            lines = f.readlines()
            lines[1] = "{broken\n"
            f.seek(0)
            f.writelines(lines)
        r = run([nt, "diff", "sa", "sc"])
        check(r.returncode == 2 and "sc/stats.jsonl: line 2" in r.stderr,
              f"a damaged stats.jsonl is named with its line: rc {r.returncode} {r.stderr}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"diff-inputs-check: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
