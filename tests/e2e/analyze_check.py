#!/usr/bin/python3
"""analyze_check.py NNTRACE — end-to-end checks of `nntrace analyze`:
occlusion on the demo CNN (the drops concentrate on the digit's bar), map
shapes and valid PNGs, perturb rankings on models built with the onnx library
where only some features matter (y = 3*x0 - 2*x5: exact finite differences
for a small input, the noise-correlation estimate for a large one), sweep
CSV values equal to the model's known function, NHWC images, 1-D occlusion,
extra inputs bound with -i, --json equal to analysis.json, and exit codes.
Prints "analyze-check: N passed, N failed"."""
import json
import os
import struct
import subprocess
import sys
import tempfile
import xml.dom.minidom
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "..", "examples", "demo")
passed = failed = 0


def check(cond, what, extra=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {what} {extra}")


def png_info(path):
    """(width, height) of a valid 8-bit RGB PNG whose pixel data inflates to
    the right size, else None."""
    try:
        data = open(path, "rb").read()
        if data[:8] != b"\x89PNG\r\n\x1a\n":
            return None
        pos, idat, w, h = 8, b"", None, None
        while pos < len(data):
            n, kind = struct.unpack(">I4s", data[pos:pos + 8])
            body = data[pos + 8:pos + 8 + n]
            if zlib.crc32(kind + body) != struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]:
                return None
            if kind == b"IHDR":
                w, h, depth, color = struct.unpack(">IIBB", body[:10])
                if depth != 8 or color != 2:
                    return None
            elif kind == b"IDAT":
                idat += body
            pos += 12 + n
        raw = zlib.decompress(idat)
        return (w, h) if len(raw) == h * (1 + 3 * w) else None
    except Exception as e:  # noqa: BLE001 — any malformation is a failure
        print("png:", path, e)
        return None


def save_model(nodes, inits, inputs, outputs, path):
    g = helper.make_graph(nodes, "g", inputs, outputs, [numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, path)


def vi(name, shape, t=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, t, shape)


def linear(path, shape, w, bias_input=False):
    """y (1, k) = Flatten(x) @ w (+ b when bias_input: a second graph input)."""
    nodes = [helper.make_node("Flatten", ["x"], ["f"], axis=0),
             helper.make_node("MatMul", ["f", "W"], ["y0" if bias_input else "y"])]
    inputs = [vi("x", list(shape))]
    if bias_input:
        nodes.append(helper.make_node("Add", ["y0", "b"], ["y"]))
        inputs.append(vi("b", [1, w.shape[1]]))
    save_model(nodes, {"W": w.astype(np.float32)}, inputs, [vi("y", [1, w.shape[1]])], path)


def analyze(nt, *args):
    r = subprocess.run([nt, "analyze", *args], capture_output=True, text=True)
    return r


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except Exception as e:  # noqa: BLE001
        print("json:", path, e)
        return {}


def main():
    nt = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        # ---- 1. occlusion on the demo CNN: the bar matters, the background not
        model, digit = os.path.join(DEMO, "model.onnx"), os.path.join(DEMO, "digit.npy")
        out = f"{tmp}/occ"
        r = analyze(nt, model, "-i", digit, "--method", "occlusion", "-o", out)
        check(r.returncode == 0, "occlusion: exit 0", r.stderr)
        check(r.stderr == "", "occlusion: nothing on stderr when it is not a terminal", repr(r.stderr[:200]))
        check("argmax" in r.stdout and "2x2" in r.stdout, "occlusion: summary names the target and window",
              r.stdout)
        m = np.load(f"{out}/occlusion.npy") if os.path.exists(f"{out}/occlusion.npy") else np.zeros((0,))
        check(m.shape == (16, 16) and m.dtype == np.float32, "occlusion: map (16,16) float32", m.shape)
        x = np.load(digit)[0, 0]
        bar = x > 0.8
        near = np.zeros_like(bar)
        for dy in range(-3, 4):
            for dx in range(-3, 4):
                near |= np.roll(np.roll(bar, dy, 0), dx, 1)
        if m.shape == (16, 16):
            on, off = m[bar].mean(), np.abs(m[~near]).mean()
            check(bar.sum() >= 4 and on > 1.0 and on > 10 * off,
                  "occlusion: drops on the bar far above the background", (on, off))
            check(m[bar].min() > np.percentile(m[~near], 95), "occlusion: every bar pixel above the background",
                  (m[bar].min(), np.percentile(m[~near], 95)))
        pi = png_info(f"{out}/occlusion.png")
        check(pi is not None and pi[0] > 256 and pi[1] > 256 and pi[0] < 640 and pi[1] < 640,
              "occlusion: heatmap PNG valid, the 256x256 map framed by axes and a colour bar", pi)
        check(png_info(f"{out}/occlusion_overlay.png") == (256, 256), "occlusion: overlay PNG valid")
        a = load_json(f"{out}/analysis.json")
        check(a.get("method") == "occlusion" and a.get("target", {}).get("index") == 0 and
              a["target"].get("default") is True and a.get("runs") == 226,
              "occlusion: analysis.json target and runs", {k: a.get(k) for k in ("target", "runs")})
        occ = a.get("occlusion", {})
        check(occ.get("window") == [2, 2] and occ.get("stride") == [1, 1] and occ.get("map_shape") == [16, 16],
              "occlusion: default window ~H/8, stride half", occ)
        check(a.get("files", {}).get("map_npy") == "occlusion.npy", "occlusion: files listed", a.get("files"))
        # --json prints what analysis.json holds
        r = analyze(nt, model, "-i", digit, "--method", "occlusion", "--window", "4", "--stride", "2",
                    "--baseline", "mean", "--json", "-o", f"{tmp}/occ2")
        try:
            j = json.loads(r.stdout)
        except ValueError:
            j = {}
        check(r.returncode == 0 and j == load_json(f"{tmp}/occ2/analysis.json") and
              j["occlusion"]["window"] == [4, 4] and j["occlusion"]["baseline"] == "mean",
              "occlusion: --json equals analysis.json, options honored", r.stderr)
        # an explicit target that is not the prediction
        r = analyze(nt, model, "-i", digit, "--method", "occlusion", "--target", "2", "--json")
        j = json.loads(r.stdout) if r.returncode == 0 else {}
        check(j.get("target", {}).get("index") == 2 and j["target"]["default"] is False and
              j["target"]["predicted"] == 0, "occlusion: --target 2 watched, prediction reported", r.stderr)

        # ---- 2. perturb on y = 3*x0 - 2*x5 (small input: exact ranking)
        w = np.zeros((10, 1), np.float32)
        w[0, 0], w[5, 0] = 3, -2
        lin = f"{tmp}/lin.onnx"
        linear(lin, (1, 10), w)
        xv = np.linspace(-1, 1, 10, dtype=np.float32).reshape(1, 10)
        np.save(f"{tmp}/x10.npy", xv)
        out = f"{tmp}/pert"
        r = analyze(nt, lin, "-i", f"{tmp}/x10.npy", "--method", "perturb", "--seed", "5", "-o", out)
        check(r.returncode == 0, "perturb: exit 0", r.stderr)
        check("exact central finite differences" in r.stdout and "seed 5" in r.stdout and
              "the only output value" in r.stdout, "perturb: summary says ranking, seed, target", r.stdout)
        a = load_json(f"{out}/analysis.json")
        p = a.get("perturb", {})
        top = p.get("top", [])
        check(p.get("ranking") == "exact" and [t["index"] for t in top[:2]] == [0, 5],
              "perturb: x0 then x5 ranked first (exact)", top[:3])
        check(len(top) >= 3 and abs(top[0]["gradient"] - 3) < 1e-3 and abs(top[1]["gradient"] + 2) < 1e-3 and
              abs(top[2]["gradient"]) < 1e-6, "perturb: gradients 3, -2, 0", top[:3])
        check([s["scale"] for s in p.get("scales", [])] == [0.01, 0.05, 0.1] and p.get("trials") == 20,
              "perturb: default scales and trials", p.get("scales"))
        sc = p.get("scales", [{}])
        # dtarget = sigma * (3 e0 - 2 e5): mean |dtarget| = sqrt(13) sigma sqrt(2/pi) on average
        if sc and "sigma" in sc[-1]:
            expect = np.sqrt(13) * sc[-1]["sigma"] * np.sqrt(2 / np.pi)
            check(0.5 * expect < sc[-1]["mean_abs_dtarget"] < 1.6 * expect, "perturb: mean |dtarget| plausible",
                  (sc[-1]["mean_abs_dtarget"], expect))
            check(all(s["flips"] == 0 for s in sc), "perturb: one output never flips")
        sens = np.load(f"{out}/sensitivity.npy") if os.path.exists(f"{out}/sensitivity.npy") else None
        grad = np.load(f"{out}/gradient.npy") if os.path.exists(f"{out}/gradient.npy") else None
        check(sens is not None and sens.shape == (1, 10) and abs(sens[0, 0] - 3) < 1e-3 and abs(sens[0, 5] - 2) < 1e-3,
              "perturb: sensitivity.npy in the input's shape", sens)
        check(grad is not None and abs(grad[0, 5] + 2) < 1e-3, "perturb: gradient.npy signed")
        smap = np.load(f"{out}/sensitivity_map.npy") if os.path.exists(f"{out}/sensitivity_map.npy") else None
        check(smap is not None and smap.shape == (10,), "perturb: 1-D sensitivity map (10,)",
              None if smap is None else smap.shape)
        check(png_info(f"{out}/sensitivity.png") is not None, "perturb: PNG valid")
        r2 = analyze(nt, lin, "-i", f"{tmp}/x10.npy", "--method", "perturb", "--seed", "5", "--json")
        j = json.loads(r2.stdout) if r2.returncode == 0 else {}
        check(j.get("perturb", {}).get("scales") == p.get("scales"), "perturb: same seed, same statistics")

        # large input: the noise-correlation estimate
        w = np.zeros((5000, 1), np.float32)
        w[0, 0], w[5, 0] = 3, -2
        big = f"{tmp}/big.onnx"
        linear(big, (1, 5000), w)
        np.save(f"{tmp}/x5000.npy", np.random.default_rng(0).standard_normal((1, 5000)).astype(np.float32))
        r = analyze(nt, big, "-i", f"{tmp}/x5000.npy", "--method", "perturb", "--trials", "100", "--json")
        j = json.loads(r.stdout) if r.returncode == 0 else {}
        p = j.get("perturb", {})
        check(p.get("ranking") == "noise" and {t["index"] for t in p.get("top", [])[:2]} == {0, 5},
              "perturb: noise-correlation ranking finds x0 and x5 among 5000", p.get("top", [])[:3])
        check(j.get("runs") == 301, "perturb: 3 x 100 trials + the base run", j.get("runs"))

        # ---- 3. sweep: CSV equals the known function
        out = f"{tmp}/sweep"
        r = analyze(nt, lin, "-i", f"{tmp}/x10.npy", "--method", "sweep", "--feature", "0,5", "--range", "-2:2:9",
                    "-o", out)
        check(r.returncode == 0, "sweep: exit 0", r.stderr)
        try:
            rows = open(f"{out}/sweep.csv").read().strip().split("\n")
        except OSError:
            rows = []
        check(rows and rows[0] == "value,target,y[0]", "sweep: CSV header", rows[:1])
        vals = np.array([[float(v) for v in row.split(",")] for row in rows[1:]]) if rows else np.zeros((0, 3))
        check(vals.shape == (9, 3), "sweep: 9 points", vals.shape)
        if vals.shape == (9, 3):
            expect = 3 * xv[0, 0] - 2 * np.linspace(-2, 2, 9)
            check(np.allclose(vals[:, 0], np.linspace(-2, 2, 9)) and np.allclose(vals[:, 1], expect, atol=1e-5) and
                  np.array_equal(vals[:, 1], vals[:, 2]), "sweep: target = 3*x0 - 2*v", vals[:, 1])
        try:
            svg = xml.dom.minidom.parse(f"{out}/sweep.svg")
            check(svg.documentElement.tagName == "svg", "sweep: SVG parses")
        except Exception as e:  # noqa: BLE001
            check(False, "sweep: SVG parses", e)
        a = load_json(f"{out}/analysis.json")
        check(a.get("sweep", {}).get("feature") == 5 and a["sweep"].get("points") == 9, "sweep: analysis.json",
              a.get("sweep"))
        # flat index form, default range around the value
        r = analyze(nt, lin, "-i", f"{tmp}/x10.npy", "--method", "sweep", "--feature", "5", "--json")
        j = json.loads(r.stdout) if r.returncode == 0 else {}
        s = j.get("sweep", {})
        sd = float(np.std(xv))
        check(s.get("points") == 21 and abs(s["range"][0] - (xv[0, 5] - 3 * sd)) < 1e-4, "sweep: default range",
              s.get("range"))

        # ---- 4. 1-D occlusion: map = w_i x_i with a window of 1
        r = analyze(nt, lin, "-i", f"{tmp}/x10.npy", "--method", "occlusion", "--window", "1", "-o", f"{tmp}/o1")
        m = np.load(f"{tmp}/o1/occlusion.npy") if r.returncode == 0 else np.zeros(0)
        wx = np.zeros(10)
        wx[0], wx[5] = 3 * xv[0, 0], -2 * xv[0, 5]
        check(m.shape == (10,) and np.allclose(m, wx, atol=1e-5), "occlusion 1-D: map = w_i x_i", m)
        check(png_info(f"{tmp}/o1/occlusion.png") is not None and not os.path.exists(f"{tmp}/o1/occlusion_overlay.png"),
              "occlusion 1-D: strip PNG, no overlay")

        # ---- 5. NHWC image: map over (H, W), overlay drawn
        wimg = np.random.default_rng(1).standard_normal((8 * 8 * 3, 2)).astype(np.float32)
        nhwc = f"{tmp}/nhwc.onnx"
        linear(nhwc, (1, 8, 8, 3), wimg)
        r = analyze(nt, nhwc, "--random=3", "--method", "perturb", "-o", f"{tmp}/nhwc")
        a = load_json(f"{tmp}/nhwc/analysis.json")
        smap = np.load(f"{tmp}/nhwc/sensitivity_map.npy") if r.returncode == 0 else np.zeros(0)
        check(a.get("input", {}).get("layout") == "NHWC" and smap.shape == (8, 8), "NHWC: layout and map shape",
              (a.get("input"), smap.shape))
        g = np.abs(np.load(f"{tmp}/nhwc/gradient.npy")) if r.returncode == 0 else np.zeros((1, 8, 8, 3))
        check(np.allclose(smap, g[0].sum(axis=2), rtol=1e-5), "NHWC: map = sum over channels of |gradient|")
        t = a.get("target", {}).get("index", 0)
        check(np.allclose(np.load(f"{tmp}/nhwc/gradient.npy").reshape(-1), wimg[:, t], atol=2e-3) if r.returncode == 0
              else False, "NHWC: exact gradient equals the weights")
        check(png_info(f"{tmp}/nhwc/sensitivity_overlay.png") == (256, 256), "NHWC: overlay PNG")
        check("random values (seed 3)" in r.stderr, "NHWC: --random seed reported")

        # ---- 6. another input bound with -i; --input picks which one is analyzed
        wb = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]], np.float32)
        two = f"{tmp}/two.onnx"
        linear(two, (1, 3), wb, bias_input=True)
        np.save(f"{tmp}/x3.npy", np.array([[1, 2, 3]], np.float32))
        np.save(f"{tmp}/b.npy", np.array([[0.5, -10]], np.float32))
        r = analyze(nt, two, "-i", f"x={tmp}/x3.npy", "-i", f"b={tmp}/b.npy", "--method", "sweep", "--feature", "1",
                    "--range", "0:1:3", "--output", "y", "--target", "0,1", "--json")
        j = json.loads(r.stdout) if r.returncode == 0 else {}
        check(j.get("sweep", {}).get("target") == [-10.0, -9.0, -8.0], "two inputs: y1 = 2*x1 + b1 swept",
              (j.get("sweep"), r.stderr))
        r = analyze(nt, two, "-i", f"x={tmp}/x3.npy", "-i", f"b={tmp}/b.npy", "--input", "b", "--method", "perturb",
                    "--target", "1", "--json")
        j = json.loads(r.stdout) if r.returncode == 0 else {}
        check(j.get("input", {}).get("name") == "b" and j["perturb"]["top"][0]["index"] == 1 and
              abs(j["perturb"]["top"][0]["gradient"] - 1) < 1e-3, "--input b: the bias analyzed",
              (j.get("input"), r.stderr))

        # ---- 7. exit codes
        def code(*args):
            return analyze(nt, *args).returncode

        check(code(model, "-i", digit) == 1, "exit 1: no --method")
        check(code(model, "-i", digit, "--method", "blur") == 1, "exit 1: unknown method")
        check(code(model, "-i", digit, "--method", "sweep") == 1, "exit 1: sweep without --feature")
        check(code(model, "-i", digit, "--method", "sweep", "--feature", "999") == 1, "exit 1: feature out of range")
        check(code(model, "-i", digit, "--method", "occlusion", "--target", "9") == 1, "exit 1: target out of range")
        check(code(model, "-i", digit, "--method", "occlusion", "--input", "nope") == 1, "exit 1: unknown --input")
        check(code(model, "-i", digit, "--method", "occlusion", "--window", "17") == 1, "exit 1: window too large")
        check(code(model, "-i", digit, "--method", "perturb", "--scales", "0.1,-2") == 1, "exit 1: bad scales")
        check(code(model, "--method", "occlusion") == 1, "exit 1: input not given")
        check(code(f"{tmp}/missing.onnx", "--zeros", "--method", "occlusion") == 2, "exit 2: missing model")
        np.save(f"{tmp}/bad.npy", np.zeros((1, 1, 5, 5), np.float32))
        check(code(model, "-i", f"{tmp}/bad.npy", "--method", "occlusion") == 2, "exit 2: input of the wrong shape")
        ids = f"{tmp}/ids.onnx"
        save_model([helper.make_node("Cast", ["t"], ["y"], to=TensorProto.FLOAT)], {}, [vi("t", [1, 4], TensorProto.INT64)],
                   [vi("y", [1, 4])], ids)
        r = analyze(nt, ids, "--zeros", "--method", "perturb")
        check(r.returncode == 2 and "floating-point" in r.stderr, "exit 2: integer input declined", r.stderr)
    print(f"analyze-check: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
