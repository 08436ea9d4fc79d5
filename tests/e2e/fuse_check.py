#!/usr/bin/python3
"""fuse_check.py NNTRACE — fused node groups give the nodes' own bits.

For models holding each fusion pattern (GELU in Erf and Tanh forms, SiLU,
LayerNorm as older opsets export it, RMSNorm, a scaled and masked Softmax,
attention from Q·Kᵀ to ·V, a no-op Cast, element-wise
chains) and for the bench transformer ($NT_MODELS/transformer.onnx):
1. the outputs with fusion (default) are byte-identical to NNTRACE_FUSE=0,
   at 1 and 2 threads;
2. `--trace dump:NODE` on a node inside a group keeps that group unfused: the
   outputs are still the same bytes, and the dumped tensor is the one the
   unfused run dumps for that node.

Prints "fuse-check: N passed, N failed"; exits 1 on any failure.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {what}")


def const(name, value, shape=()):
    return numpy_helper.from_array(np.array(value, dtype=np.float32).reshape(shape), name)


def model(nodes, inits, shape, opset=13, extra_outputs=()):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)] +
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in extra_outputs], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


N = helper.make_node


def gelu_erf():
    return model([N("MatMul", ["x", "w"], ["h"], name="mm"),
                  N("Div", ["h", "s2"], ["d"], name="div"), N("Erf", ["d"], ["e"], name="erf"),
                  N("Add", ["e", "one"], ["a"], name="add1"), N("Mul", ["h", "a"], ["m"], name="mul"),
                  N("Mul", ["m", "half"], ["y"], name="half")],
                 [const("w", np.random.RandomState(1).randn(48, 48) * 0.5, (48, 48)), const("s2", 1.4142135),
                  const("one", 1.0), const("half", 0.5)], [4, 37, 48]), "erf"


def gelu_tanh_silu_cast():
    return model([N("Sigmoid", ["x"], ["s"], name="sig"), N("Mul", ["x", "s"], ["h0"], name="silu"),
                  N("Cast", ["h0"], ["h"], name="cast", to=TensorProto.FLOAT),
                  N("Pow", ["h", "three"], ["p"], name="cube"), N("Mul", ["p", "c"], ["q"], name="mc"),
                  N("Add", ["h", "q"], ["r"], name="ah"), N("Mul", ["r", "k"], ["t0"], name="mk"),
                  N("Tanh", ["t0"], ["t"], name="tanh"), N("Add", ["t", "one"], ["u"], name="a1"),
                  N("Mul", ["h", "u"], ["v"], name="mh"), N("Mul", ["v", "half"], ["y"], name="m5")],
                 [const("three", 3.0), const("c", 0.044715), const("k", 0.7978846), const("one", 1.0),
                  const("half", 0.5)], [3, 50, 41]), "tanh"


def layernorm_old():
    d = 96
    rs = np.random.RandomState(2)
    return model([N("ReduceMean", ["x"], ["mu"], name="mean", axes=[-1]), N("Sub", ["x", "mu"], ["c"], name="sub"),
                  N("Pow", ["c", "two"], ["c2"], name="pow"), N("ReduceMean", ["c2"], ["var"], name="var", axes=[-1]),
                  N("Add", ["var", "eps"], ["ve"], name="addeps"), N("Sqrt", ["ve"], ["sd"], name="sqrt"),
                  N("Div", ["c", "sd"], ["n"], name="div"), N("Mul", ["n", "gamma"], ["g"], name="scale"),
                  N("Add", ["g", "beta"], ["y"], name="shift")],
                 [const("two", 2.0), const("eps", 1e-5), const("gamma", rs.randn(d), (d,)),
                  const("beta", rs.randn(d), (d,))], [2, 33, d]), "sqrt"


def rmsnorm():
    d = 64
    rs = np.random.RandomState(3)
    return model([N("Pow", ["x", "two"], ["x2"], name="pow"), N("ReduceMean", ["x2"], ["ms"], name="ms", axes=[-1]),
                  N("Add", ["ms", "eps"], ["me"], name="addeps"), N("Sqrt", ["me"], ["r"], name="sqrt"),
                  N("Reciprocal", ["r"], ["ir"], name="recip"), N("Mul", ["x", "ir"], ["n"], name="norm"),
                  N("Mul", ["n", "w"], ["y"], name="scale")],
                 [const("two", 2.0), const("eps", 1e-6), const("w", rs.randn(d), (d,))], [3, 17, d]), "recip"


def attention_softmax():
    rs = np.random.RandomState(4)
    mask = np.where(rs.rand(1, 1, 77) < 0.2, -1e9, 0.0)
    return model([N("Div", ["x", "c"], ["s"], name="scale"), N("Add", ["s", "mask"], ["a"], name="mask"),
                  N("Softmax", ["a"], ["y"], name="softmax", axis=-1)],
                 [const("c", 8.0), const("mask", mask, (1, 1, 77))], [2, 4, 77]), "mask"


def attention_full():
    rs = np.random.RandomState(5)
    mask = np.where(rs.rand(90, 90) < 0.2, -1e9, 0.0)
    return model([N("Transpose", ["x"], ["kt"], name="kt", perm=[0, 1, 3, 2]),
                  N("MatMul", ["x", "kt"], ["s"], name="qk"), N("Div", ["s", "c"], ["d"], name="scale"),
                  N("Add", ["d", "mask"], ["a"], name="mask"), N("Softmax", ["a"], ["p"], name="softmax", axis=-1),
                  N("MatMul", ["p", "v"], ["y"], name="pv")],
                 [const("c", 8.0), const("mask", mask, (90, 90)),
                  const("v", rs.randn(2, 3, 90, 64), (2, 3, 90, 64))], [2, 3, 90, 64]), "mask"


def noop_cast():
    return model([N("Softmax", ["x"], ["s"], name="sm", axis=-1),
                  N("Cast", ["s"], ["c"], name="cast", to=TensorProto.FLOAT),
                  N("Softmax", ["c"], ["t"], name="sm2", axis=-1), N("Add", ["t", "c"], ["y"], name="add")],
                 [], [5, 130]), "cast"


def run(nt, path, x, out, threads=1, fuse=True, dump=None):
    env = dict(os.environ)
    if not fuse:
        env["NNTRACE_FUSE"] = "0"
    args = [nt, "run", path, "-i", x, "-o", out, "--threads", str(threads)]
    if dump:
        args += ["--trace", f"dump:{dump}", "--run-dir", out + "_rd"]
    r = subprocess.run(args, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        print(f"command failed ({r.returncode}): {' '.join(args)}\n{r.stderr[-1500:]}")
        return None
    outs = {f: open(os.path.join(out, f), "rb").read() for f in sorted(os.listdir(out))}
    dumped = None
    if dump:
        index = json.load(open(os.path.join(out + "_rd", "tensors", "index.json")))
        entries = [e for e in index["tensors"] if e.get("node") == dump]
        if entries:
            dumped = open(os.path.join(out + "_rd", "tensors", entries[0]["file"]), "rb").read()
    return outs, dumped


def check_model(nt, tmp, name, path, x, interior):
    ref = run(nt, path, x, os.path.join(tmp, name + "_ref"), fuse=False)
    check(ref is not None, f"{name}: unfused run")
    if ref is None:
        return
    for threads in (1, 2):
        ref_t = ref if threads == 1 else run(nt, path, x, os.path.join(tmp, name + "_ref2"), 2, fuse=False)
        got = run(nt, path, x, os.path.join(tmp, f"{name}_f{threads}"), threads)
        check(got is not None and ref_t is not None and got[0] == ref_t[0],
              f"{name}: fused outputs are the unfused bytes at {threads} thread(s)")
    if interior:
        got = run(nt, path, x, os.path.join(tmp, name + "_dump"), dump=interior)
        ref_d = run(nt, path, x, os.path.join(tmp, name + "_dumpref"), fuse=False, dump=interior)
        check(got is not None and got[0] == ref[0], f"{name}: outputs unchanged with {interior} traced")
        check(got is not None and ref_d is not None and got[1] is not None and got[1] == ref_d[1],
              f"{name}: the dump of {interior} is the unfused node's tensor")


def main():
    nt = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        rs = np.random.RandomState(0)
        for make in (gelu_erf, gelu_tanh_silu_cast, layernorm_old, rmsnorm, attention_softmax, attention_full,
                     noop_cast):
            m, interior = make()
            name = make.__name__
            path = os.path.join(tmp, name + ".onnx")
            onnx.save(m, path)
            shape = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
            xv = (rs.randn(*shape) * 3).astype(np.float32)
            xv.flat[:6] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30]
            x = os.path.join(tmp, name + ".npy")
            np.save(x, xv)
            check_model(nt, tmp, name, path, x, interior)
        models = os.environ.get("NT_MODELS", "")
        tr = os.path.join(models, "transformer.onnx")
        if os.path.exists(tr):
            erf = next(n.name for n in onnx.load(tr).graph.node if n.op_type == "Erf")
            check_model(nt, tmp, "transformer", tr, os.path.join(models, "transformer.input.npy"), erf)
        else:
            print("fuse-check: transformer.onnx not found (NT_MODELS), bench transformer skipped")
    print(f"fuse-check: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
