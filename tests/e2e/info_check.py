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
parameters, parameter_bytes, subgraphs, ir_version, producer.

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
         "float4e2m1"]
SIZE = [0, 4, 1, 1, 2, 2, 4, 8, 0, 1, 2, 8, 4, 8, 8, 16, 2, 1, 1, 1, 1, 0, 0, 0]


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


def expected(path):
    m = onnx.load(path, load_external_data=False)
    g = m.graph
    init_names = {t.name for t in g.initializer}
    ops = collections.Counter(
        (n.op_type if n.domain in ("", "ai.onnx") else n.domain + "::" + n.op_type) for n in g.node)
    params = 0
    pbytes = 0
    for t in g.initializer:
        n = 1
        for d in t.dims:
            n *= d
        params += n
        if 0 < t.data_type < len(SIZE):
            if t.data_type in (21, 22, 23):
                pbytes += (n + 1) // 2
            else:
                pbytes += n * SIZE[t.data_type]
    producer = " ".join(x for x in (m.producer_name, m.producer_version) if x)
    return {
        "inputs": [value_view(v) for v in g.input if v.name not in init_names],
        "outputs": [value_view(v) for v in g.output],
        "opsets": {(o.domain if o.domain not in ("", "ai.onnx") else "ai.onnx"): o.version
                   for o in m.opset_import},
        "nodes": len(g.node),
        "ops": dict(ops),
        "parameters": params,
        "parameter_bytes": pbytes,
        "subgraphs": count_subgraphs(g),
        "ir_version": m.ir_version,
        "producer": producer,
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
    shutil.rmtree(tmp, ignore_errors=True)
    print("info-check: %d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
