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


def _varint(b, i):
    x = shift = 0
    while True:
        c = b[i]
        i += 1
        x |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return x, i


def _fields(b):
    """(field, wire type, value) of a protobuf message; length-delimited values as bytes."""
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        f, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 2:
            n, i = _varint(b, i)
            v, i = b[i:i + n], i + n
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wt)
        yield f, wt, v


def graphdef_nodes(run_dir):
    """{NodeDef name: (op, [inputs])} of the GraphDef in a run directory's event file."""
    import struct
    out = {}
    for f in os.listdir(run_dir):
        if not f.startswith("events.out.tfevents"):
            continue
        buf = open(os.path.join(run_dir, f), "rb").read()
        pos = 0
        while pos + 12 <= len(buf):
            (n,) = struct.unpack_from("<Q", buf, pos)
            rec = buf[pos + 12:pos + 12 + n]
            pos += 16 + n
            for fld, wt, v in _fields(rec):
                if fld == 4 and wt == 2:  # Event.graph_def
                    for nf, nwt, nd in _fields(v):
                        if nf != 1:
                            continue
                        name, op, ins = "", "", []
                        for k, kwt, kv in _fields(nd):
                            if k == 1:
                                name = kv.decode()
                            elif k == 2:
                                op = kv.decode()
                            elif k == 3:
                                ins.append(kv.decode())
                        out[name] = (op, ins)
    return out


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

        # A model with named nodes in If branches and a Loop body: DOT, SVG and
        # HTML draw three clusters (the SVG once crashed Graphviz in-process),
        # the HTML folds them, and a run directory's TensorBoard GraphDef holds
        # the body nodes under "<owner>.<attribute>/" scopes
        sys.path.insert(0, HERE)
        import subgraph_model
        subgraph_model.main(tmp)
        sg, sx = p("subgraph.onnx"), p("subgraph_x.npy")
        r = run([nt, "graph", sg])
        check(r.returncode == 0 and r.stdout.count("subgraph cluster_") == 3 and "/choose.then_branch" in r.stdout
              and "then_mul" in r.stdout, "subgraph model: three clusters in the DOT")
        r = run([nt, "graph", sg, "-o", p("sg.svg")])
        root = ET.parse(p("sg.svg")).getroot() if r.returncode == 0 else None
        n_cl = len([g for g in root.iter(SVG_NS + "g") if g.get("class") == "cluster"]) if root is not None else 0
        check(n_cl == 3, f"subgraph model: three clusters in the SVG (exit {r.returncode}, {n_cl} clusters)")
        r = run([nt, "graph", sg, "-o", p("sg.html")])
        check(r.returncode == 0, "subgraph model to HTML")
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium and r.returncode == 0:
            d = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                                "file://" + p("sg.html") + "#fold=all"], capture_output=True, text=True, timeout=120)
            folded = re.findall(r"\[\+\] (/\S+) \((\d+) nodes\)", d.stdout)
            hidden = len(re.findall(r'class="node[^"]*"[^>]*style="display: none;"', d.stdout))
            check(len(folded) == 3 and {f[0] for f in folded} == {"/choose.then_branch", "/choose.else_branch",
                                                                  "/accumulate.body"},
                  f"HTML: #fold=all folds the three bodies ({folded})")
            check(hidden >= 5, f"HTML: folded bodies hide their nodes ({hidden} hidden)")
        rd = p("sgrun")
        r = run([nt, "run", sg, "-i", sx, "--trace", "stats", "--run-dir", rd])
        names = graphdef_nodes(rd) if r.returncode == 0 else {}
        check(names.get("choose.then_branch/then_mul", (None, []))[1] == ["x", "two"]
              or names.get("choose.then_branch/then_mul", (None, []))[1] == ["x", "choose.then_branch/two"],
              f"GraphDef: then_mul inside choose.then_branch reads x ({names.get('choose.then_branch/then_mul')})")
        check(names.get("accumulate.body/loop_add", (None, []))[1] == ["accumulate.body/acc_in", "x"],
              f"GraphDef: loop_add reads the body input and the outer x ({names.get('accumulate.body/loop_add')})")
        check(names.get("choose.else_branch/else_neg", ("", []))[0] == "Neg" and names.get("choose", ("", []))[0] == "If",
              "GraphDef: the else branch and the If itself")

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
