#!/usr/bin/python3
"""doctor_check.py NNTRACE — builds broken models with the onnx library and
checks that `nntrace doctor` finds what was planted: a NaN born at a known
node (and its propagators), a dead layer, partly dead units, exploding and
float16-overflowing values, saturated sigmoids, unused initializers/inputs,
and a clean bill (exit 0) for a healthy model.  Prints
"doctor-check: N passed, N failed"."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

passed = failed = 0


def check(cond, what, extra=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {what} {extra}")


def model(nodes, inits, inputs, outputs, path):
    g = helper.make_graph(nodes, "g", inputs, outputs, [numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, path)


def vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def doctor(nt, path, x, *extra):
    xp = path + ".x.npy"
    np.save(xp, x)
    r = subprocess.run([nt, "doctor", path, "-i", xp, "--json", *extra], capture_output=True, text=True)
    try:
        return r.returncode, json.loads(r.stdout)["findings"], r
    except Exception:
        print(r.stdout, r.stderr)
        return r.returncode, [], r


def main():
    nt = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        # 1. NaN born at Log (of x - 5 < 0), passed on by Mul and Add.
        p = f"{tmp}/nan.onnx"
        model([helper.make_node("Sub", ["x", "five"], ["d"], name="sub"),
               helper.make_node("Log", ["d"], ["l"], name="log"),
               helper.make_node("Mul", ["l", "two"], ["m"], name="mul"),
               helper.make_node("Add", ["m", "x"], ["y"], name="add")],
              {"five": np.array(5, np.float32), "two": np.array(2, np.float32)},
              [vi("x", [4])], [vi("y", [4])], p)
        code, f, _ = doctor(nt, p, np.array([6, 7, 1.8, 8], np.float32))
        check(code == 3, "nan: exit 3", code)
        check(f and f[0]["kind"] == "nan" and f[0]["node"] == "log" and f[0]["severity"] == "error",
              "nan: first finding is the Log origin", f[:1])
        check(f and "[2]" in f[0]["detail"] and "-3.2" in f[0]["detail"], "nan: detail has the element and input value",
              f[0]["detail"] if f else "")
        prop = [x for x in f if x["kind"] == "nan_propagation"]
        check(prop and set(prop[0]["propagators"]) == {"mul", "add"}, "nan: propagators listed", prop)
        check(sum(1 for x in f if x["kind"] in ("nan", "inf")) == 1, "nan: one origin only")

        # 2. Division by zero gives Inf (origin Div), not NaN.
        p = f"{tmp}/inf.onnx"
        model([helper.make_node("Div", ["x", "z"], ["y"], name="div")], {"z": np.zeros(3, np.float32)},
              [vi("x", [3])], [vi("y", [3])], p)
        code, f, _ = doctor(nt, p, np.array([1, 2, 3], np.float32))
        check(code == 3 and f and f[0]["kind"] == "inf" and f[0]["node"] == "div", "inf: Div origin", f[:1])

        # 3. A dense layer whose bias kills every unit; another with half dead.
        p = f"{tmp}/dead.onnx"
        w = np.random.default_rng(0).standard_normal((8, 6)).astype(np.float32) * 0.1
        b = np.array([-100, -100, -100, 0.5, 0.5, 0.5], np.float32)
        model([helper.make_node("MatMul", ["x", "w"], ["h"], name="fc1"),
               helper.make_node("Add", ["h", "bdead"], ["a"], name="bias1"),
               helper.make_node("Relu", ["a"], ["r"], name="relu_dead"),
               helper.make_node("Add", ["h", "bhalf"], ["a2"], name="bias2"),
               helper.make_node("Relu", ["a2"], ["r2"], name="relu_half"),
               helper.make_node("Concat", ["r", "r2"], ["y"], name="cat", axis=1)],
              {"w": w, "bdead": np.full(6, -100, np.float32), "bhalf": b},
              [vi("x", [5, 8])], [vi("y", [5, 12])], p)
        code, f, _ = doctor(nt, p, np.random.default_rng(1).standard_normal((5, 8)).astype(np.float32))
        dead = {x["node"]: x for x in f if x["kind"] == "dead"}
        check(code == 3 and dead.get("relu_dead", {}).get("severity") == "error", "dead: all-dead layer is an error", dead)
        check(dead.get("relu_half", {}).get("severity") == "warning" and dead["relu_half"]["dead_units"] == 3 and
              abs(dead["relu_half"]["fraction"] - 0.5) < 1e-9, "dead: half-dead layer is a warning with 3/6", dead)

        # 4. Exploding magnitudes, float16 overflow, saturation, unused initializer and input.
        p = f"{tmp}/explode.onnx"
        model([helper.make_node("Mul", ["x", "big"], ["a"], name="scale"),
               helper.make_node("Mul", ["a", "big"], ["b"], name="scale2"),
               helper.make_node("Sigmoid", ["b"], ["s"], name="sig"),
               helper.make_node("Add", ["s", "x"], ["y"], name="out")],
              {"big": np.array(300, np.float32), "unused_w": np.ones(7, np.float32)},
              [vi("x", [16]), vi("spare", [2])], [vi("y", [16])], p)
        x = np.linspace(-2, 2, 16).astype(np.float32)
        xp = f"{tmp}/x16.npy"
        np.save(xp, x)
        np.save(f"{tmp}/spare.npy", np.zeros(2, np.float32))
        r = subprocess.run([nt, "doctor", p, "-i", f"x={xp}", "-i", f"spare={tmp}/spare.npy", "--json", "--fp16"],
                           capture_output=True, text=True)
        f = json.loads(r.stdout)["findings"]
        kinds = {(x["kind"], x["node"]) for x in f}
        check(("fp16_overflow", "scale2") in kinds and r.returncode == 3, "fp16: overflow at scale2 (error)", kinds)
        r2 = subprocess.run([nt, "doctor", p, "-i", f"x={xp}", "-i", f"spare={tmp}/spare.npy", "--json"],
                            capture_output=True, text=True)
        f2 = json.loads(r2.stdout)["findings"]
        ex = [x for x in f2 if x["kind"] == "exploding"]
        check(ex and ex[0]["node"] == "scale2" and ex[0]["severity"] == "warning" and ex[0]["first"],
              "exploding starts at scale2 (warning, first)", ex)
        check(r2.returncode == 0, "exploding alone is not an error", r2.returncode)
        check(("saturated", "sig") in kinds, "saturated sigmoid", kinds)
        check(any(x["kind"] == "unused_initializer" and "unused_w" in x["detail"] for x in f), "unused initializer", kinds)
        check(any(x["kind"] == "unused_input" and "spare" in x["detail"] for x in f), "unused input", kinds)

        # 4b. A real float16 model: float32 beyond 65504 cast to float16, and a
        # float16 Mul whose float32 result is beyond 65504; both are Inf origins
        # that doctor names as float16 overflow.
        p = f"{tmp}/half.onnx"
        g = helper.make_graph(
            [helper.make_node("Cast", ["x"], ["h"], to=TensorProto.FLOAT16, name="to_half"),
             helper.make_node("Mul", ["h", "k"], ["m"], name="hmul"),
             helper.make_node("Cast", ["m"], ["y"], to=TensorProto.FLOAT, name="to_float")],
            "g", [vi("x", [4]), helper.make_tensor_value_info("k", TensorProto.FLOAT16, [4])], [vi("y", [4])])
        mh = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        mh.ir_version = 8
        onnx.save(mh, p)
        np.save(f"{tmp}/hx.npy", np.array([1, 2, 70000, 4], np.float32))
        np.save(f"{tmp}/hk.npy", np.array([1, 40000, 1, 3], np.float16))
        r = subprocess.run([nt, "doctor", p, "-i", f"x={tmp}/hx.npy", "-i", f"k={tmp}/hk.npy", "--json"],
                           capture_output=True, text=True)
        f = json.loads(r.stdout)["findings"] if r.stdout else []
        ov = [(x["node"], x.get("fp16_overflow")) for x in f if x["kind"] == "inf"]
        check(r.returncode == 3 and ("to_half", True) in ov and
              any(x["node"] == "to_half" and "float16 overflow" in x["detail"] and "cast" in x["detail"] for x in f),
              "fp16 model: Cast of 70000 to float16 is a float16 overflow", f[:2])
        np.save(f"{tmp}/hx.npy", np.array([1, 2, 3, 4], np.float32))
        r = subprocess.run([nt, "doctor", p, "-i", f"x={tmp}/hx.npy", "-i", f"k={tmp}/hk.npy", "--json"],
                           capture_output=True, text=True)
        f = json.loads(r.stdout)["findings"] if r.stdout else []
        check(r.returncode == 3 and f and f[0]["kind"] == "inf" and f[0]["node"] == "hmul" and
              f[0].get("fp16_overflow") is True and "exceeds 65504" in f[0]["detail"],
              "fp16 model: Mul 2*40000 in float16 overflows at hmul", f[:1])

        # 5. Healthy: the demo classifier on its data set has no errors (exit 0).
        demo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "demo")
        r = subprocess.run([nt, "doctor", f"{demo}/model.onnx", "--data", f"{demo}/data.npy", "--json"],
                           capture_output=True, text=True)
        f = json.loads(r.stdout)["findings"] if r.stdout else []
        check(r.returncode == 0 and not any(x["severity"] == "error" for x in f), "healthy demo model: exit 0", r.returncode)
        # Text form is grouped by severity.
        r = subprocess.run([nt, "doctor", f"{tmp}/nan.onnx", "-i", f"{tmp}/nan.onnx.x.npy"], capture_output=True, text=True)
        check(r.returncode == 3 and "errors:" in r.stdout and "[nan] log (Log)" in r.stdout, "text report", r.stdout[:300])
    print(f"doctor-check: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
