#!/usr/bin/python3
"""diff_qop_check.py NNTRACE — `nntrace diff float.onnx quantized.onnx` on a
QOperator-format model (QuantizeLinear -> QLinearConv -> QLinearConv ->
DequantizeLinear, tensors named as onnxruntime's quantizer names them: the
integer output of the layer computing X is "X_quantized", its scale and zero
point "X_scale"/"X_zero_point").

Each QLinearConv output is dequantized with its scale and zero point and
paired with the float model's tensor (JSON "matched_by": "dequantize"); the
SQNR and max abs of each pair are recomputed with numpy from dumps of both
models; the final DequantizeLinear output is not reported as unmatched.

Prints "diff-qop-check: N passed, N failed"; exits 1 on any failure.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import helper as h, numpy_helper as nh, TensorProto as TP

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


def models(out):
    rng = np.random.RandomState(0)
    W1 = rng.randn(8, 3, 3, 3).astype(np.float32) * 0.3
    W2 = rng.randn(8, 8, 3, 3).astype(np.float32) * 0.2
    vi = h.make_tensor_value_info
    g = h.make_graph([h.make_node("Conv", ["x", "W1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
                      h.make_node("Conv", ["c1", "W2"], ["c2"], pads=[1, 1, 1, 1], name="conv2")],
                     "g", [vi("x", TP.FLOAT, [1, 3, 10, 10])], [vi("c2", TP.FLOAT, None)],
                     [nh.from_array(W1, "W1"), nh.from_array(W2, "W2")])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, os.path.join(out, "float.onnx"))
    np.save(os.path.join(out, "x.npy"), rng.rand(1, 3, 10, 10).astype(np.float32))
    inits = []

    def sz(name, s, z):
        inits.extend([nh.from_array(np.float32(s), name + "_scale"), nh.from_array(np.uint8(z), name + "_zero_point")])

    def wq(name, w):
        s = np.abs(w).max() / 127
        inits.extend([nh.from_array(np.clip(np.round(w / s), -127, 127).astype(np.int8), name + "_quantized"),
                      nh.from_array(np.float32(s), name + "_scale"), nh.from_array(np.int8(0), name + "_zero_point")])

    sz("x", 1 / 255, 0)
    sz("c1", 0.02, 128)
    sz("c2", 0.1, 128)  # coarse: the error jumps here
    wq("W1", W1)
    wq("W2", W2)

    def qconv(x, w, y, name):
        return h.make_node("QLinearConv", [x + "_quantized", x + "_scale", x + "_zero_point", w + "_quantized",
                                           w + "_scale", w + "_zero_point", y + "_scale", y + "_zero_point"],
                           [y + "_quantized"], pads=[1, 1, 1, 1], name=name)

    nodes = [h.make_node("QuantizeLinear", ["x", "x_scale", "x_zero_point"], ["x_quantized"], name="x_QuantizeLinear"),
             qconv("x", "W1", "c1", "conv1_quant"), qconv("c1", "W2", "c2", "conv2_quant"),
             h.make_node("DequantizeLinear", ["c2_quantized", "c2_scale", "c2_zero_point"], ["c2"],
                         name="c2_DequantizeLinear")]
    g = h.make_graph(nodes, "g", [vi("x", TP.FLOAT, [1, 3, 10, 10])], [vi("c2", TP.FLOAT, None)], inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, os.path.join(out, "qop.onnx"))


def main():
    nt = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="nt-qop-")
    try:
        os.chdir(tmp)
        models(tmp)
        for d, mdl in [("rf", "float.onnx"), ("rq", "qop.onnx")]:
            r = run([nt, "run", mdl, "-i", "x.npy", "--trace", "dump", "--run-dir", d])
            check(r.returncode == 0, f"run {mdl}: {r.stderr}")
        r = run([nt, "diff", "float.onnx", "qop.onnx", "-i", "x.npy", "--json"])
        j = json.loads(r.stdout) if r.stdout.startswith("{") else {}
        check(r.returncode == 3, f"diff exits 3 (got {r.returncode}: {r.stderr})")
        rows = {n["output"]: n for n in j.get("nodes", [])}
        check(set(rows) == {"c1", "c2"}, f"rows for c1 and c2: {sorted(rows)}")
        check("c2" not in j.get("only_in_b", []), f"the final DequantizeLinear output is not unmatched: {j.get('only_in_b')}")
        scale = {"c1": 0.02, "c2": 0.1}
        for name in ("c1", "c2"):
            w = rows.get(name, {})
            check(w.get("matched_by") == "dequantize" and w.get("other_output") == name + "_quantized",
                  f"{name} paired through {name}_quantized: {w}")
            f = np.load(f"rf/tensors/{name}.npy").astype(np.float64)
            q = np.load(f"rq/tensors/{name}_quantized.npy")
            dq = ((q.astype(np.float32) - np.float32(128)) * np.float32(scale[name])).astype(np.float64)
            sqnr = 10 * np.log10((dq ** 2).sum() / ((f - dq) ** 2).sum())  # B (quantized) the signal
            mx = np.abs(f - dq).max()
            check(w.get("sqnr_db") is not None and abs(w["sqnr_db"] - sqnr) < 1e-3,
                  f"{name} SQNR {w.get('sqnr_db')} vs numpy {sqnr:.4f}")
            check(w.get("max_abs") is not None and abs(w["max_abs"] - mx) < 1e-6, f"{name} max_abs {w.get('max_abs')} vs {mx}")
        jump = j.get("sqnr_jump") or {}
        check(jump.get("output") == "c2", f"the error jumps at c2 (coarse scale): {jump}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"diff-qop-check: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
