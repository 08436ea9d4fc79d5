#!/usr/bin/python3
"""arch_check.py NNTRACE MODELDIR — modern architectures against ONNX Runtime.

MODELDIR holds the exports of scripts/make_arch_models.py (ViT, ConvNeXt,
EfficientNet, Swin, RegNet, DeepLabV3, SSDlite with NMS, a BERT-style encoder,
a LLaMA-style decoder's prefill and KV-cache step, a Whisper-style encoder;
small sizes, see that script) and its manifest.json.  For every exported
model, nntrace and ONNX Runtime (CPU, onnxruntime-node) run the same input:

  outputs        every graph output within rtol 1e-3, atol 1e-4
  intermediates  every node output: the model is rewritten with all of them
                 as graph outputs for ONNX Runtime, nntrace dumps its own
                 (--trace dump), and `nntrace diff` compares them all at the
                 same tolerance (each family's model, every node)

  float16        the vision and transformer encoders (not SSDlite, whose NMS
                 thresholds make a half-precision box set a different set, nor
                 the LLaMA pair) rewritten as mixed-precision models: float16
                 weights and activations inside, Cast at the float32 borders
                 (to_half below); outputs compared with ONNX Runtime running
                 the same rewritten model at float16 tolerance, rtol 1e-2 and
                 atol 1e-2 times the output's largest magnitude

A model the exporter could not produce is printed as skipped with its reason
and is not counted as passed.  Prints "arch-check: N passed, N failed, N skipped".
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
ORT_RUN = os.path.join(HERE, "..", "..", "bench", "ort_run.js")
RTOL, ATOL = 1e-3, 1e-4


def inputs_of(mdir, name):
    files = []
    i = 0
    while True:
        f = os.path.join(mdir, f"{name}.input{'' if i == 0 else i}.npy")
        if not os.path.exists(f):
            return files
        files.append(f)
        i += 1


HALF_MODELS = {"vit", "convnext", "efficientnet", "swin", "regnet", "deeplabv3", "bert", "whisper_enc"}


def to_half(m):
    """A float32 model as a mixed-precision one: float16 initializers,
    constants and Casts inside, Cast nodes at the float32 inputs and outputs
    (Resize's scales and roi stay float32, as the spec types them)."""
    from onnx import TensorProto as TP, helper as h, numpy_helper as nh
    g = m.graph
    keep32 = set()
    for n in g.node:
        if n.op_type == "Resize":
            keep32.update(n.input[1:3])
    for i, t in enumerate(g.initializer):
        if t.data_type == TP.FLOAT and t.name not in keep32:
            g.initializer[i].CopyFrom(nh.from_array(nh.to_array(t).astype(np.float16), t.name))
    for n in g.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.TENSOR and a.t.data_type == TP.FLOAT and not set(n.output) & keep32:
                a.t.CopyFrom(nh.from_array(nh.to_array(a.t).astype(np.float16), a.t.name))
            if n.op_type == "Cast" and a.name == "to" and a.i == TP.FLOAT:
                a.i = TP.FLOAT16
    del g.value_info[:]
    pre, post = [], []
    for vi in g.input:
        if vi.type.tensor_type.elem_type == TP.FLOAT:
            for n in g.node:
                for k, x in enumerate(n.input):
                    if x == vi.name:
                        n.input[k] = vi.name + "__half"
            pre.append(h.make_node("Cast", [vi.name], [vi.name + "__half"], to=TP.FLOAT16))
    for vi in g.output:
        if vi.type.tensor_type.elem_type == TP.FLOAT:
            for n in g.node:
                for k, x in enumerate(n.output):
                    if x == vi.name:
                        n.output[k] = vi.name + "__half"
                for k, x in enumerate(n.input):
                    if x == vi.name:
                        n.input[k] = vi.name + "__half"
            post.append(h.make_node("Cast", [vi.name + "__half"], [vi.name], to=TP.FLOAT))
    nodes = pre + list(g.node) + post
    del g.node[:]
    g.node.extend(nodes)
    return m


def half_check(nt, model, ins, d, name):
    """(ok, message) for the mixed-precision form of model."""
    hm = f"{d}/half.onnx"
    onnx.save(to_half(onnx.load(model)), hm)
    a = run([nt, "run", hm, *ins, "-o", f"{d}/nt_half"])
    b = run(["node", ORT_RUN, hm, *ins, "-o", f"{d}/ort_half"])
    if a.returncode != 0 or b.returncode != 0:
        return False, (f"nntrace exit {a.returncode} {a.stderr.strip()[-300:]} / ONNX Runtime exit "
                       f"{b.returncode} {b.stderr.strip()[-200:]}")
    worst = []
    for f in sorted(os.listdir(f"{d}/ort_half")):
        y = np.load(f"{d}/ort_half/{f}").astype(np.float64)
        x = np.load(f"{d}/nt_half/{f}").astype(np.float64)
        scale = max(1.0, float(np.abs(y).max())) if y.size else 1.0
        if x.shape != y.shape or not np.allclose(x, y, rtol=1e-2, atol=1e-2 * scale):
            return False, f"{f}: max abs {float(np.abs(x - y).max()) if x.shape == y.shape else 'shape'}"
        worst.append(float(np.abs(x - y).max()) if x.size else 0.0)
    return True, f"max abs {max(worst):.3g}"


def run(args, timeout=300):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def sanitize(s):
    return "".join(c if c.isalnum() or c in "_.-" else "_" for c in s)


def main():
    nt, mdir = sys.argv[1], sys.argv[2]
    with open(os.path.join(mdir, "manifest.json")) as fh:
        manifest = json.load(fh)
    passed = failed = skipped = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(manifest):
            info = manifest[name]
            if info.get("status") != "ok":
                skipped += 1
                print(f"skipped {name}: {info.get('reason', 'not exported')}")
                continue
            model = os.path.join(mdir, f"{name}.onnx")
            ins = []
            for f in inputs_of(mdir, name):
                ins += ["-i", f]
            d = os.path.join(tmp, name)
            # outputs
            a = run([nt, "run", model, *ins, "-o", f"{d}/nt"])
            b = run(["node", ORT_RUN, model, *ins, "-o", f"{d}/ort"])
            if a.returncode != 0 or b.returncode != 0:
                failed += 1
                print(f"FAIL {name} outputs: nntrace exit {a.returncode} {a.stderr.strip()[-300:]} / "
                      f"ONNX Runtime exit {b.returncode} {b.stderr.strip()[-200:]}")
                continue
            m = onnx.load(model, load_external_data=False)
            bad = []
            for o in m.graph.output:
                f = sanitize(o.name) + ".npy"
                x, y = np.load(f"{d}/nt/{f}"), np.load(f"{d}/ort/{f}")
                if x.shape != y.shape or not np.allclose(x, y, rtol=RTOL, atol=ATOL, equal_nan=True):
                    err = float(np.abs(x.astype(np.float64) - y).max()) if x.shape == y.shape else None
                    bad.append(f"{o.name} {x.shape} vs {y.shape} max abs {err}")
            if bad:
                failed += 1
                print(f"FAIL {name} outputs: {'; '.join(bad)}")
            else:
                passed += 1
                print(f"ok   {name} outputs ({len(m.graph.output)})")
            if name in HALF_MODELS:
                ok, msg = half_check(nt, model, ins, d, name)
                if ok:
                    passed += 1
                    print(f"ok   {name} float16 ({msg})")
                else:
                    failed += 1
                    print(f"FAIL {name} float16: {msg}")
            # every intermediate
            have = {o.name for o in m.graph.output}
            for n in m.graph.node:
                for o in n.output:
                    if o and o not in have:
                        m.graph.output.append(onnx.ValueInfoProto(name=o))
                        have.add(o)
            allout = f"{d}/all.onnx"
            onnx.save(m, allout)
            b = run(["node", ORT_RUN, allout, *ins, "-o", f"{d}/ort_all"])
            a = run([nt, "run", model, *ins, "--trace", "dump", "--run-dir", f"{d}/rd"])
            if a.returncode != 0 or b.returncode != 0:
                failed += 1
                print(f"FAIL {name} intermediates: nntrace exit {a.returncode} {a.stderr.strip()[-200:]} / "
                      f"ONNX Runtime exit {b.returncode} {b.stderr.strip()[-200:]}")
                continue
            r = run([nt, "diff", f"{d}/rd", f"{d}/ort_all", "--json", "--atol", str(ATOL), "--rtol", str(RTOL)])
            rep = json.loads(r.stdout) if r.stdout else {}
            if r.returncode == 0 and rep.get("compared", 0) > 0:
                passed += 1
                print(f"ok   {name} intermediates ({rep['compared']} tensors)")
            else:
                failed += 1
                rows = [x for x in rep.get("nodes", []) if not x.get("ok")]
                first = rows[0] if rows else {}
                print(f"FAIL {name} intermediates: {rep.get('diverged')} of {rep.get('compared')} diverge; first "
                      f"{first.get('node')} ({first.get('op')}) max_abs {first.get('max_abs')} "
                      f"{r.stderr.strip()[-200:]}")
    print(f"arch-check: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
