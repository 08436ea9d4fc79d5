#!/usr/bin/python3
"""memory_check.py — peak resident memory of `nntrace run` against what the
model needs, measured with wait4's ru_maxrss (deterministic enough with
generous bounds; nothing here is timed).

usage: /usr/bin/python3 tests/e2e/memory_check.py [NNTRACE]

- Weights at misaligned offsets in the file are copied to align them; the
  mapped originals must not stay resident as well.  A 64 MiB MatMul weight,
  stored misaligned, in the model file and in an external-data file, must
  add less than 1.3x its size over the same model with a tiny weight (held
  twice it would add 2x).  The aligned case is checked against the same
  bound.
- Convolution workspaces are bounded: a 3x3 convolution (Winograd) of a
  16x512x512 map must peak below its input and output plus half their size.

Prints "memory-check: N passed, N failed" and exits non-zero on any failure.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

NT = sys.argv[1] if len(sys.argv) > 1 else "build/nntrace"
MIB = 1 << 20
passed = failed = 0


def check(name, ok, detail):
    global passed, failed
    print(f"  {'ok  ' if ok else 'FAIL'} {name}: {detail}")
    if ok:
        passed += 1
    else:
        failed += 1


def peak_rss(args, out):
    """Peak RSS in bytes of one nntrace run, by /usr/bin/time: a child forked
    from this (large) Python process would inherit its high-water mark."""
    r = subprocess.run(["/usr/bin/time", "-o", out, "-f", "%M", NT] + args, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise SystemExit(f"memory-check: nntrace {' '.join(args)} failed: {r.stderr.decode(errors='replace')}")
    with open(out) as f:
        return int(f.read().split()[-1]) * 1024


def matmul_model(path, n, aligned, external=False):
    """x[1,4096] @ w[4096,n]; the weight's bytes placed (mis)aligned in the
    file by lengthening its name until the offset is right."""
    w = np.random.default_rng(0).standard_normal((4096, n)).astype(np.float32)
    for pad in range(16):
        name = "w" * (pad + 1)
        inits = [numpy_helper.from_array(w, name)]
        if external:
            # a 3-byte tensor first, so the weight sits at offset 3 of the data file
            inits.insert(0, numpy_helper.from_array(np.arange(3, dtype=np.uint8), "pad3"))
        g = helper.make_graph([helper.make_node("MatMul", ["x", name], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4096])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])], inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        if external:
            data = os.path.basename(path) + ".data"
            for t in m.graph.initializer:
                raw = t.raw_data if t.HasField("raw_data") else numpy_helper.to_array(t).tobytes()
                off = 0 if t.name == "pad3" else 3
                t.ClearField("raw_data")
                t.data_location = TensorProto.EXTERNAL
                for k, v in (("location", data), ("offset", str(off)), ("length", str(len(raw)))):
                    e = t.external_data.add()
                    e.key, e.value = k, v
            with open(os.path.join(os.path.dirname(path), data), "wb") as f:
                f.write(np.arange(3, dtype=np.uint8).tobytes() + w.tobytes())
            onnx.save(m, path)
            return
        b = m.SerializeToString()
        off = b.find(w.tobytes()[:64])
        if (off % 64 == 0) if aligned else (off % 4 != 0):
            with open(path, "wb") as f:
                f.write(b)
            return
    raise SystemExit("memory-check: could not place the weight")


def conv_model(path, c, hw):
    w = np.random.default_rng(1).standard_normal((c, c, 3, 3)).astype(np.float32) * 0.1
    g = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1], kernel_shape=[3, 3])],
                          "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, hw, hw])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, c, hw, hw])],
                          [numpy_helper.from_array(w, "w")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def main():
    with tempfile.TemporaryDirectory() as d:
        j = lambda f: os.path.join(d, f)
        np.save(j("x.npy"), np.ones((1, 4096), np.float32))
        matmul_model(j("small.onnx"), 16, False)
        base = peak_rss(["run", j("small.onnx"), "-i", j("x.npy")], j("rss"))
        wbytes = 4096 * 4096 * 4
        for label, aligned, external in (("misaligned weight", False, False), ("aligned weight", True, False),
                                         ("misaligned external weight", False, True)):
            os.makedirs(j(label.replace(" ", "_")), exist_ok=True)
            path = os.path.join(j(label.replace(" ", "_")), "m.onnx")
            matmul_model(path, 4096, aligned, external)
            grew = peak_rss(["run", path, "-i", j("x.npy")], j("rss")) - base
            check(f"{label}: resident once", grew < 1.3 * wbytes,
                  f"peak RSS grew {grew / MIB:.1f} MiB for a {wbytes / MIB:.0f} MiB weight (bound 1.3x)")
        c, hw = 16, 512
        conv_model(j("conv.onnx"), c, hw)
        np.save(j("cx.npy"), np.random.default_rng(2).standard_normal((1, c, hw, hw)).astype(np.float32))
        act = c * hw * hw * 4
        grew = peak_rss(["run", j("conv.onnx"), "-i", j("cx.npy")], j("rss")) - base
        check("3x3 conv workspace bounded", grew < 2.5 * act,
              f"peak RSS grew {grew / MIB:.1f} MiB for {act / MIB:.0f} MiB input and output each (bound 2.5x one)")
    print(f"memory-check: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
