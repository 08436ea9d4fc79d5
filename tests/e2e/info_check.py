#!/usr/bin/python3
"""info_check.py — `nntrace info --json` against the onnx Python library's view.

usage: /usr/bin/python3 tests/e2e/info_check.py [NNTRACE] [--limit N]

NNTRACE defaults to build/nntrace.  Models checked: every
<corpus>/*/model.onnx (corpus from $NT_CORPUS or ../shared/onnx-node-tests
next to the repository), plus models exported here with torch when it is
installed: a CNN with a dynamic batch axis, and a scripted module whose
branch becomes an If node with two subgraphs; and the loader's fixture
models in tests/fuzz/corpus/onnx/ (made by scripts/make_fixtures_loader.py).  Every JSON field is
compared: inputs, outputs (name, dtype, shape), opsets, nodes, ops,
nodes_in_subgraphs, ops_in_subgraphs (every If/Loop/Scan body, recursively),
parameters (initializers of every graph and Constant-node tensors),
parameters_in_constants, parameter_bytes, subgraphs, ir_version, producer,
path.  Also a model with named nodes in If and Loop bodies
(subgraph_model.py) and one whose weights sit in Constant nodes.

Prints "info-check: N passed, N failed" and exits non-zero on any failure.
"""
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile

import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# numpy-style names, as nt_dtype_name prints them (index = ONNX DataType).
DTYPE = ["undefined", "float32", "uint8", "int8", "uint16", "int16", "int32", "int64", "string",
         "bool", "float16", "float64", "uint32", "uint64", "complex64", "complex128", "bfloat16",
         "float8e4m3fn", "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "uint4", "int4",
         "float4e2m1", "float8e8m0", "uint2", "int2"]
SIZE = [0, 4, 1, 1, 2, 2, 4, 8, 0, 1, 2, 8, 4, 8, 8, 16, 2, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0]


def value_view(vi):
    """{name, dtype, shape} of a ValueInfoProto, as nntrace reports it."""
    t = vi.type
    which = t.WhichOneof("value")
    out = {"name": vi.name, "dtype": "undefined", "shape": None}
    if which in ("tensor_type", "sparse_tensor_type"):
        tt = getattr(t, which)
        et = tt.elem_type
        out["dtype"] = DTYPE[et] if 0 <= et < len(DTYPE) else "undefined"
        if tt.HasField("shape"):
            dims = []
            for d in tt.shape.dim:
                k = d.WhichOneof("value")
                if k == "dim_value" and d.dim_value >= 0:
                    dims.append(d.dim_value)
                elif k == "dim_param":
                    dims.append(d.dim_param)
                else:
                    dims.append(None)
            out["shape"] = dims
    kinds = {"sequence_type": "sequence", "map_type": "map", "optional_type": "optional",
             "sparse_tensor_type": "sparse_tensor"}
    if which in kinds:
        out["kind"] = kinds[which]
    return out


def count_subgraphs(graph):
    n = 0
    for node in graph.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH or a.HasField("g"):
                n += 1 + count_subgraphs(a.g)
            for g in a.graphs:
                n += 1 + count_subgraphs(g)
    return n


def op_key(n):
    return n.op_type if n.domain in ("", "ai.onnx") else n.domain + "::" + n.op_type


def tensor_size(t):
    """(elements, bytes) of a TensorProto."""
    n = 1
    for d in t.dims:
        n *= d
    b = 0
    if 0 < t.data_type < len(SIZE):
        b = (n + 1) // 2 if t.data_type in (21, 22, 23) else (n + 3) // 4 if t.data_type in (25, 26) else n * SIZE[t.data_type]
    return n, b


def walk(graph, depth, acc):
    """Adds a graph's weights and its bodies' nodes to acc, recursively."""
    for t in graph.initializer:
        n, b = tensor_size(t)
        acc["params"] += n
        acc["bytes"] += b
    for node in graph.node:
        if depth > 0:
            acc["body_ops"][op_key(node)] += 1
        for a in node.attribute:
            if node.op_type == "Constant" and node.domain in ("", "ai.onnx") and a.type == onnx.AttributeProto.TENSOR:
                n, b = tensor_size(a.t)
                acc["const"] += n
                acc["bytes"] += b
            if a.type == onnx.AttributeProto.GRAPH:
                walk(a.g, depth + 1, acc)
            for sub in a.graphs:
                walk(sub, depth + 1, acc)


def expected(path):
    m = onnx.load(path, load_external_data=False)
    g = m.graph
    init_names = {t.name for t in g.initializer}
    ops = collections.Counter(op_key(n) for n in g.node)
    acc = {"params": 0, "const": 0, "bytes": 0, "body_ops": collections.Counter()}
    walk(g, 0, acc)
    producer = " ".join(x for x in (m.producer_name, m.producer_version) if x)
    return {
        "inputs": [value_view(v) for v in g.input if v.name not in init_names],
        "outputs": [value_view(v) for v in g.output],
        "opsets": {(o.domain if o.domain not in ("", "ai.onnx") else "ai.onnx"): o.version
                   for o in m.opset_import},
        "nodes": len(g.node),
        "ops": dict(ops),
        "nodes_in_subgraphs": sum(acc["body_ops"].values()),
        "ops_in_subgraphs": dict(acc["body_ops"]),
        "parameters": acc["params"] + acc["const"],
        "parameters_in_constants": acc["const"],
        "parameter_bytes": acc["bytes"],
        "subgraphs": count_subgraphs(g),
        "ir_version": m.ir_version,
        "producer": producer,
        "path": path,
    }


def export_torch_models(outdir):
    """Two models from torch (random weights); [] when torch is missing."""
    try:
        import torch
    except ImportError:
        print("info-check: torch not installed, exported models skipped")
        return []
    torch.manual_seed(0)
    paths = []

    class Cnn(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
            self.bn = torch.nn.BatchNorm2d(8)
            self.fc = torch.nn.Linear(8, 10)

        def forward(self, x):
            y = torch.relu(self.bn(self.conv(x)))
            return self.fc(y.mean(dim=(2, 3)))

    p = os.path.join(outdir, "cnn_dynamic.onnx")
    torch.onnx.export(Cnn().eval(), torch.randn(2, 3, 16, 16), p, input_names=["image"],
                      output_names=["logits"], dynamic_axes={"image": {0: "batch", 2: "h", 3: "w"},
                                                             "logits": {0: "batch"}}, opset_version=13)
    paths.append(p)

    class Branchy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(4, 4)

        def forward(self, x):
            if bool(x.sum() > 0):
                return self.lin(x) * 2.0
            else:
                return self.lin(x) - 1.0

    p = os.path.join(outdir, "if_branch.onnx")
    scripted = torch.jit.script(Branchy().eval())
    torch.onnx.export(scripted, (torch.randn(3, 4),), p, input_names=["x"], output_names=["y"],
                      opset_version=13)
    m = onnx.load(p)
    if not any(n.op_type == "If" for n in m.graph.node):
        print("info-check: warning: the scripted export has no If node")
    paths.append(p)
    return paths


def made_models(outdir):
    """A model with named nodes in If and Loop bodies, and one whose weights
    are Constant nodes (as some exporters write them)."""
    from onnx import TensorProto, helper, numpy_helper
    import numpy as np
    sys.path.insert(0, HERE)
    import subgraph_model
    subgraph_model.main(outdir)
    w = numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(3, 4), "w")
    b = numpy_helper.from_array(np.ones(4, np.float32), "b")
    g = helper.make_graph(
        [helper.make_node("Constant", [], ["w"], name="weight", value=w),
         helper.make_node("Constant", [], ["b"], name="bias", value=b),
         helper.make_node("MatMul", ["x", "w"], ["xw"], name="mm"),
         helper.make_node("Add", ["xw", "b"], ["y"], name="add")],
        "constant_weights", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    p = os.path.join(outdir, "constant_weights.onnx")
    onnx.save(m, p)
    return [os.path.join(outdir, "subgraph.onnx"), p]


def check_made(nntrace, outdir):
    """Values that do not come from the onnx library's view: the counts
    this check's own models are known to have.  Returns (passed, failed)."""
    cases = [("subgraph.onnx", "nodes_in_subgraphs", 5), ("subgraph.onnx", "ops_in_subgraphs",
             {"Add": 2, "Identity": 1, "Mul": 1, "Neg": 1}), ("constant_weights.onnx", "parameters", 16),
             ("constant_weights.onnx", "parameters_in_constants", 16)]
    passed = failed = 0
    for model, key, want in cases:
        r = subprocess.run([nntrace, "info", "--json", os.path.join(outdir, model)], capture_output=True, text=True)
        got = json.loads(r.stdout).get(key) if r.returncode == 0 else None
        if got == want:
            passed += 1
        else:
            failed += 1
            print("FAIL %s: %s is %r, expected %r" % (model, key, got, want))
    r = subprocess.run([nntrace, "info", os.path.join(outdir, "subgraph.onnx")], capture_output=True, text=True)
    for line in ["subgraphs: 3 holding 5 nodes", "ops in If/Loop/Scan bodies (5 nodes, 4 types):", "       2  Add"]:
        if line in r.stdout:
            passed += 1
        else:
            failed += 1
            print("FAIL info subgraph.onnx: no line %r in:\n%s" % (line, r.stdout))
    r = subprocess.run([nntrace, "info", os.path.join(outdir, "constant_weights.onnx")], capture_output=True, text=True)
    if "parameters: 0 in 0 initializers + 16 in Constant nodes = 16" in r.stdout:
        passed += 1
    else:
        failed += 1
        print("FAIL info constant_weights.onnx: %s" % r.stdout)
    return passed, failed


def main():
    args = sys.argv[1:]
    limit = None
    if "--limit" in args:
        i = args.index("--limit")
        limit = int(args[i + 1])
        del args[i:i + 2]
    nntrace = args[0] if args else os.path.join(REPO, "build", "nntrace")
    corpus = os.environ.get("NT_CORPUS") or os.path.join(REPO, "..", "shared", "onnx-node-tests")
    models = []
    if os.path.isdir(corpus):
        for d in sorted(os.listdir(corpus)):
            p = os.path.join(corpus, d, "model.onnx")
            if os.path.isfile(p):
                models.append(p)
        if limit:
            models = models[:limit]
    else:
        print("info-check: corpus not found at %s, corpus models skipped" % corpus)
    seeds = os.path.join(REPO, "tests", "fuzz", "corpus", "onnx")
    if os.path.isdir(seeds):
        models += sorted(os.path.join(seeds, f) for f in os.listdir(seeds) if f.endswith(".onnx"))
    tmp = tempfile.mkdtemp(prefix="nt_info_check_")
    models += export_torch_models(tmp)
    models += made_models(tmp)

    passed = failed = 0
    for p in models:
        try:
            want = expected(p)
        except Exception as e:  # the onnx library itself cannot read it: not our comparison
            print("skip %s: the onnx library cannot load it (%s)" % (p, e))
            continue
        r = subprocess.run([nntrace, "info", "--json", p], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            failed += 1
            print("FAIL %s: exit %d: %s" % (p, r.returncode, r.stderr.strip()))
            continue
        try:
            got = json.loads(r.stdout)
        except ValueError as e:
            failed += 1
            print("FAIL %s: output is not JSON (%s)" % (p, e))
            continue
        diffs = [k for k in want if got.get(k) != want[k]]
        if diffs:
            failed += 1
            for k in diffs:
                print("FAIL %s: %s: nntrace %r, onnx %r" % (p, k, got.get(k), want[k]))
        else:
            passed += 1
    p, f = check_made(nntrace, tmp)
    passed += p
    failed += f
    shutil.rmtree(tmp, ignore_errors=True)
    print("info-check: %d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
