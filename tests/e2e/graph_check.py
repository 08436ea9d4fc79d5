#!/usr/bin/python3
"""graph_check.py NNTRACE — `nntrace graph` output parsed and rendered.

DOT rendered by Graphviz's own `dot` (when installed); SVG parsed as XML with
one node element per graph input, op node and graph output; the HTML page
self-contained (no network URLs), its JSON metadata and inline SVG parsed,
and (with Chromium) its script run headless: search and the node panel;
output byte-identical across runs; run overlays (NaN, time, diff) marked; an
If model's bodies as clusters; a 1,000-node model timed.

Prints "graph-check: N passed, N failed"; exits 1 on any failure.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
DEMO = os.path.join(ROOT, "examples", "demo")
SVG_NS = "{http://www.w3.org/2000/svg}"
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


def svg_nodes(root):
    return [g for g in root.iter(SVG_NS + "g") if g.get("class") == "node"]


def big_model(path, blocks=250):
    """A 1,000-node residual MLP (MatMul, Add, Relu, Add per block)."""
    rng = np.random.default_rng(0)
    nodes, inits, x = [], [], "x"
    for i in range(blocks):
        inits.append(numpy_helper.from_array((rng.standard_normal((16, 16)) * 0.1).astype(np.float32), f"w{i}"))
        inits.append(numpy_helper.from_array(np.zeros(16, np.float32), f"b{i}"))
        nodes += [helper.make_node("MatMul", [x, f"w{i}"], [f"m{i}"], name=f"blk{i}/MatMul"),
                  helper.make_node("Add", [f"m{i}", f"b{i}"], [f"a{i}"], name=f"blk{i}/Add"),
                  helper.make_node("Relu", [f"a{i}"], [f"r{i}"], name=f"blk{i}/Relu"),
                  helper.make_node("Add", [f"r{i}", x], [f"y{i}"], name=f"blk{i}/Residual")]
        x = f"y{i}"
    g = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
                          [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 16])], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def nan_model(path):
    """x -> Log (NaN for negative inputs) -> Relu -> y."""
    g = helper.make_graph([helper.make_node("Log", ["x"], ["l"], name="log"),
                           helper.make_node("Relu", ["l"], ["y"], name="relu")], "nan",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def main():
    nt = sys.argv[1]
    models = os.environ.get("NT_MODELS") or "/tmp/models"
    model = os.path.join(models, "resnet18.onnx")
    inp = os.path.join(models, "resnet18.input.npy")
    if not os.path.exists(model):
        model, inp = os.path.join(DEMO, "model.onnx"), os.path.join(DEMO, "digit.npy")
    m = onnx.load(model)
    n_elems = len(m.graph.node) + len([i for i in m.graph.input if i.name not in {x.name for x in m.graph.initializer}]) \
        + len(m.graph.output)
    with tempfile.TemporaryDirectory() as tmp:
        p = lambda name: os.path.join(tmp, name)  # noqa: E731

        # DOT: deterministic, and Graphviz's own dot renders it
        r1 = run([nt, "graph", model])
        r2 = run([nt, "graph", model, "-o", p("g.dot")])
        check(r1.returncode == 0 and r2.returncode == 0, "graph to DOT")
        check(r1.stdout == open(p("g.dot")).read(), "DOT on stdout equals -o FILE.dot (deterministic)")
        if shutil.which("dot"):
            r = run(["dot", "-Tsvg", p("g.dot"), "-o", p("dot.svg")])
            check(r.returncode == 0, f"`dot -Tsvg` renders the DOT {r.stderr[-300:]}")
            check(len(svg_nodes(ET.parse(p("dot.svg")).getroot())) == n_elems, "dot's SVG has every element")
        else:
            print("skipped: rendering with Graphviz's dot binary (apt package graphviz)")

        # SVG laid out in-process
        r = run([nt, "graph", model, "-o", p("a.svg")])
        run([nt, "graph", model, "-o", p("b.svg")])
        check(r.returncode == 0, f"graph to SVG {r.stderr[-300:]}")
        root = ET.parse(p("a.svg")).getroot()
        nodes = svg_nodes(root)
        check(len(nodes) == n_elems, f"SVG has {len(nodes)} node elements, model has {n_elems}")
        text = " ".join(t.text or "" for t in root.iter(SVG_NS + "text"))
        check(m.graph.node[0].op_type in text and "float32[" in text, "SVG labels carry ops and shapes")
        check(open(p("a.svg"), "rb").read() == open(p("b.svg"), "rb").read(), "SVG is byte-identical across runs")

        # HTML: self-contained, parsable parts
        r = run([nt, "graph", model, "-o", p("g.html")])
        check(r.returncode == 0, f"graph to HTML {r.stderr[-300:]}")
        html = open(p("g.html")).read()
        check(not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', html) and "@import" not in html
              and "fetch(" not in html and "XMLHttpRequest" not in html, "HTML loads nothing from the network")
        data_m = re.search(r'<script id="nt-data" type="application/json">(.*?)</script>', html, re.S)
        data = json.loads(data_m.group(1)) if data_m else {"nodes": {}}
        check(len(data["nodes"]) == n_elems, "HTML metadata has every element")
        conv = next((d for d in data["nodes"].values() if d["op"] == "Conv"), None)
        check(conv is not None and conv["params"] > 0 and "kernel_shape" in conv["attrs"] and conv["inputs"][1].get("weight"),
              "metadata of a Conv: params, attributes, weights")
        svg_m = re.search(r"(<svg.*</svg>)", html, re.S)
        check(svg_m is not None and len(svg_nodes(ET.fromstring(svg_m.group(1)))) == n_elems, "inline SVG parses")
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium and conv:
            url = "file://" + p("g.html") + "#search=" + conv["op"] + "&node=" + conv["name"]
            r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", url],
                               capture_output=True, text=True, timeout=120)
            dom = r.stdout
            check(dom.count("data-nt=") == n_elems, "the viewer script ran (SVG nodes bound to metadata)")
            want = sum(1 for d in data["nodes"].values() if conv["op"].lower() in (d["name"] + d["op"]).lower())
            got = len(re.findall(r'class="node match', dom))
            check(got == want, f"search marks {got} nodes, expected {want}")
            check(f"<h2>{conv['name']}</h2>" in dom and "kernel_shape" in dom, "clicking a node shows its panel")
        else:
            print("skipped: headless Chromium run of the viewer")

        # Run overlays: stats + profile, NaN marking, diff colouring
        rd = p("run")
        r = run([nt, "run", model, "-i", inp, "--trace", "stats", "--trace", "profile", "--run-dir", rd])
        check(r.returncode == 0, "traced run for the overlay")
        r = run([nt, "graph", model, "--run", rd, "--color", "time", "-o", p("t.dot")])
        dot = open(p("t.dot")).read() if r.returncode == 0 else ""
        check(" ms\"" in dot or " ms\\n" in dot, "--color time labels nodes with their time")
        check("colour: time (white" in dot, "--color time has a legend")
        r = run([nt, "graph", model, "--run", rd, "--color", "absmax", "-o", p("t.svg")])
        check(r.returncode == 0 and ET.parse(p("t.svg")) is not None, "--color absmax renders")
        nm = p("nan.onnx")
        nan_model(nm)
        x = p("x.npy")
        np.save(x, np.array([1.0, -1.0, 2.0, 0.5], np.float32))
        rn = p("nanrun")
        run([nt, "run", nm, "-i", x, "--trace", "stats", "--run-dir", rn])
        r = run([nt, "graph", nm, "--run", rn])
        check("NaN 1" in r.stdout and "penwidth=3" in r.stdout, "a NaN-producing node is marked")
        r = run([nt, "graph", model, "--run", p("nope")])
        check(r.returncode == 2, "a missing run directory exits 2")
        r = run([nt, "graph", model, "-o", p("g.png")])
        check(r.returncode == 1, "an unknown output suffix is a usage error")

        # If/Loop bodies as clusters
        wi = os.path.join(models, "with_if.onnx")
        if os.path.exists(wi):
            r = run([nt, "graph", wi, "-o", p("if.svg")])
            root = ET.parse(p("if.svg")).getroot() if r.returncode == 0 else None
            clusters = [g for g in root.iter(SVG_NS + "g") if g.get("class") == "cluster"] if root is not None else []
            check(len(clusters) >= 2, f"If bodies drawn as clusters ({len(clusters)})")

        # A 1,000-node model renders in seconds
        bm = p("big.onnx")
        big_model(bm)
        t0 = time.time()
        r = run([nt, "graph", bm, "-o", p("big.svg")])
        dt = time.time() - t0
        check(r.returncode == 0 and len(svg_nodes(ET.parse(p("big.svg")).getroot())) == 1002,
              "1,000-node model to SVG")
        check(dt < 60, f"1,000-node SVG in {dt:.1f} s")
        t0 = time.time()
        r = run([nt, "graph", bm, "-o", p("big.html")])
        dh = time.time() - t0
        check(r.returncode == 0, "1,000-node model to HTML")
        print(f"1,000-node model: SVG {dt:.1f} s, HTML {dh:.1f} s (wall clock)")

    print(f"graph-check: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
