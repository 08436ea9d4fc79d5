#!/usr/bin/python3
"""npy_numpy_check.py — nntrace's tensor files and model writer, checked by
numpy and onnx themselves (an independent implementation, not our own
reader).

    /usr/bin/python3 tests/e2e/npy_numpy_check.py BUILD_DIR | PATH/TO/npy_tool

Given a build directory, the helper BUILD_DIR/tests/npy_tool is used if it
is newer than BUILD_DIR/libnntrace.a and npy_tool.c, and otherwise compiled
here from tests/e2e/npy_tool.c against BUILD_DIR/libnntrace.a (retrying
with -fsanitize=address,undefined for a sanitizer build's library).

1. nntrace -> numpy: `npy_tool write DIR` saves every dtype in four shapes;
   np.load must read back the expected values and dtype, and the file must
   be byte-identical to np.save of the same array.  The .pb twins must load
   with onnx.numpy_helper.  DIR/model.onnx (built with the C model builder,
   with an If subgraph) must pass onnx.checker.check_model(full_check=True).
2. numpy -> nntrace: numpy writes C-order, Fortran-order, big-endian, 0-d,
   zero-size and format 2.0/3.0 files; `npy_tool convert in.npy out.npy`
   (and out.pb) must reproduce the same values in little-endian C order.
3. Refusals: object, unicode and structured arrays and a truncated file make
   npy_tool fail with the right status and a message naming the file.

Prints "npy-check: N passed, N failed" and exits 1 on any failure.
"""
import io
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

DTYPES = ["bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
          "float16", "float32", "float64", "complex64", "complex128"]
SHAPES = {"234": (2, 3, 4), "scalar": (), "empty": (0, 3), "vec": (5,)}

passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def pattern(dtype, shape):
    """The values npy_tool.c's fill_pattern writes, element i in C order."""
    n = int(np.prod(shape)) if shape else 1
    i = np.arange(n, dtype=np.int64)
    base = (i * 37) % 200
    dt = np.dtype(dtype)
    if dt.kind == "c":
        a = ((base - 100) * 0.25) + 1j * (i * 0.5)
    elif dt.kind == "b":
        a = i % 3 == 0
    elif dt.kind == "f":
        a = (base - 100) * 0.25
    elif dt.kind == "u":
        a = base
    else:
        a = base - 100
    return a.astype(dt).reshape(shape)


def npy_bytes(arr, version=None):
    f = io.BytesIO()
    if version is None:
        np.save(f, arr)
    else:
        np.lib.format.write_array(f, arr, version=version)
    return f.getvalue()


def same(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


def run(tool, *args):
    return subprocess.run([tool] + list(args), capture_output=True, text=True)


def check_written(tool, d):
    r = run(tool, "write", d)
    check(r.returncode == 0, "npy_tool write: %s" % r.stderr.strip())
    if r.returncode != 0:
        return
    for dtype in DTYPES:
        for tag, shape in SHAPES.items():
            want = pattern(dtype, shape)
            path = os.path.join(d, "w_%s_%s.npy" % (dtype, tag))
            try:
                got = np.load(path)
                check(same(got, want), "%s: np.load gives %s%s %r, expected %s%s" %
                      (path, got.dtype, got.shape, got.ravel()[:4], want.dtype, want.shape))
                with open(path, "rb") as f:
                    check(f.read() == npy_bytes(want), "%s: bytes differ from np.save" % path)
            except Exception as e:  # noqa: BLE001 - any failure is a test failure
                check(False, "%s: %s" % (path, e))
            pb = path[:-4] + ".pb"
            try:
                t = onnx.load_tensor(pb)
                got = numpy_helper.to_array(t)
                check(t.name == dtype, "%s: name %r" % (pb, t.name))
                check(same(got, want), "%s: onnx gives %s%s, expected %s%s" %
                      (pb, got.dtype, got.shape, want.dtype, want.shape))
            except Exception as e:  # noqa: BLE001
                check(False, "%s: %s" % (pb, e))
    check_model(os.path.join(d, "model.onnx"))


def check_model(path):
    try:
        m = onnx.load(path)
        onnx.checker.check_model(m, full_check=True)
        check(True, "")
    except Exception as e:  # noqa: BLE001
        check(False, "%s: onnx.checker: %s" % (path, e))
        return
    g = m.graph
    check([n.op_type for n in g.node] == ["MatMul", "Constant", "Add", "If", "Transpose"],
          "%s: node op types %s" % (path, [n.op_type for n in g.node]))
    check(m.ir_version == 8 and [(o.domain, o.version) for o in m.opset_import] == [("", 17)],
          "%s: ir_version %d opsets %s" % (path, m.ir_version, m.opset_import))
    check(m.producer_name == "nntrace", "%s: producer %r" % (path, m.producer_name))
    x = g.input[1]
    dims = x.type.tensor_type.shape.dim
    check(x.name == "X" and dims[0].dim_param == "N" and dims[1].dim_value == 3,
          "%s: input X declared as %s" % (path, x))
    w = numpy_helper.to_array(g.initializer[0])
    check(g.initializer[0].name == "W" and same(w, (0.5 * np.arange(6, dtype=np.float32)).reshape(3, 2)),
          "%s: initializer W = %s" % (path, w))
    const = {a.name: a for a in g.node[1].attribute}
    check(same(numpy_helper.to_array(const["value"].t), np.array([-1, 2], np.float32)),
          "%s: Constant value %s" % (path, const.get("value")))
    branches = {a.name: a for a in g.node[3].attribute}
    check(set(branches) == {"then_branch", "else_branch"}, "%s: If attributes %s" % (path, list(branches)))
    if set(branches) == {"then_branch", "else_branch"}:
        tb, eb = branches["then_branch"].g, branches["else_branch"].g
        check([n.op_type for n in tb.node] == ["Relu"] and [n.op_type for n in eb.node] == ["LeakyRelu"],
              "%s: If bodies %s / %s" % (path, tb.node, eb.node))
        alpha = [a.f for a in eb.node[0].attribute if a.name == "alpha"]
        check(alpha and abs(alpha[0] - 0.1) < 1e-7, "%s: LeakyRelu alpha %s" % (path, alpha))
    perm = [list(a.ints) for a in g.node[4].attribute if a.name == "perm"]
    check(perm == [[1, 0]], "%s: Transpose perm %s" % (path, perm))
    inferred = onnx.shape_inference.infer_shapes(m, strict_mode=True)
    z = [o for o in inferred.graph.output if o.name == "Z"][0]
    check(z.type.tensor_type.elem_type == onnx.TensorProto.FLOAT, "%s: shape inference on Z" % path)


def numpy_cases():
    """(name, array, version) triples numpy writes for nntrace to read."""
    for dtype in DTYPES:
        c = pattern(dtype, (2, 3, 4))
        yield dtype + "_c", c, None
        yield dtype + "_fortran", np.asfortranarray(c), None
        yield dtype + "_scalar", pattern(dtype, ()), None
        yield dtype + "_empty", pattern(dtype, (0, 3)), None
        yield dtype + "_v2", c, (2, 0)
        yield dtype + "_v3", c, (3, 0)
        if np.dtype(dtype).itemsize > 1 or dtype in ("int8", "uint8", "bool"):
            be = c.astype(np.dtype(dtype).newbyteorder(">"))
            yield dtype + "_bigendian", be, None
            yield dtype + "_bigendian_fortran", np.asfortranarray(be), None
    # a transposed view: np.save writes it as Fortran order
    yield "float32_transposed", pattern("float32", (3, 4, 5)).transpose(2, 1, 0), None
    yield "int64_rank8", pattern("int64", (2, 1, 2, 1, 3, 1, 2, 1)), None


def check_read(tool, d):
    for name, arr, version in numpy_cases():
        src = os.path.join(d, "in_%s.npy" % name)
        with open(src, "wb") as f:
            f.write(npy_bytes(arr, version))
        le = arr.dtype.newbyteorder("<") if arr.dtype.itemsize > 1 else arr.dtype
        want = arr.astype(le, order="C")
        out = os.path.join(d, "out_%s.npy" % name)
        r = run(tool, "convert", src, out)
        check(r.returncode == 0, "convert %s: %s" % (src, r.stderr.strip()))
        if r.returncode == 0:
            got = np.load(out)
            check(same(got, want), "%s: nntrace read %s%s, numpy wrote %s%s" %
                  (src, got.dtype, got.shape, arr.dtype, arr.shape))
            with open(out, "rb") as f:
                check(f.read() == npy_bytes(want), "%s: re-saved bytes differ from np.save" % src)
        pb = os.path.join(d, "out_%s.pb" % name)
        r = run(tool, "convert", src, pb)
        check(r.returncode == 0, "convert %s -> .pb: %s" % (src, r.stderr.strip()))
        if r.returncode == 0:
            got = numpy_helper.to_array(onnx.load_tensor(pb))
            check(same(got, want), "%s: .pb has %s%s" % (pb, got.dtype, got.shape))


def check_refused(tool, d):
    cases = [
        ("object", np.array([1, "a", None], dtype=object), "unsupported", "dtype=str"),
        ("structured", np.zeros(3, dtype=[("a", "<f4"), ("b", "<i8")]), "unsupported", "structured"),
        ("datetime", np.array(["2020-01-01"], dtype="datetime64[D]"), "unsupported", "'<M8[D]'"),
        ("longdouble", np.zeros(2, dtype=np.longdouble), "unsupported", "'<f16'"),
    ]
    for name, arr, status, needle in cases:
        src = os.path.join(d, "bad_%s.npy" % name)
        np.save(src, arr, allow_pickle=True)
        r = run(tool, "convert", src, os.path.join(d, "never.npy"))
        check(r.returncode == 2 and status in r.stderr and needle in r.stderr and src in r.stderr,
              "%s: expected %s naming %s, got exit %d: %s" % (src, status, needle, r.returncode, r.stderr.strip()))
    full = npy_bytes(pattern("float32", (3, 4)))
    src = os.path.join(d, "bad_truncated.npy")
    with open(src, "wb") as f:
        f.write(full[:-8])
    r = run(tool, "convert", src, os.path.join(d, "never.npy"))
    msg = "%s: header says shape (3, 4) = 48 bytes of <f4 but the file has 40" % src
    check(r.returncode == 2 and "parse error" in r.stderr and msg in r.stderr,
          "%s: expected the size message, got exit %d: %s" % (src, r.returncode, r.stderr.strip()))
    check(not os.path.exists(os.path.join(d, "never.npy")), "a refused convert left a file behind")

def check_strings(tool, nntrace, d):
    """numpy str/bytes arrays: npy_tool re-saves them byte-identical to
    np.save, and `nntrace run` binds one as a STRING input and writes the
    string output numpy loads back equal."""
    os.makedirs(d, exist_ok=True)
    words = np.array([["Hello", ""], ["h\u00e9\u20ac\U0001F600", "WORLD  x"]])
    cases = [("str", words, words), ("str_be", words.astype(">U8"), words),
             ("fortran", np.asfortranarray(words), words),
             ("bytes", np.array([b"ab", b"", b"xyz"]), np.array(["ab", "", "xyz"])),
             ("empty", np.array([], dtype=str).reshape(0, 2), np.array([], dtype=str).reshape(0, 2))]
    for name, arr, want in cases:
        src = os.path.join(d, "%s.npy" % name)
        np.save(src, arr)
        out = os.path.join(d, "out_%s.npy" % name)
        r = run(tool, "convert", src, out)
        check(r.returncode == 0, "convert %s: %s" % (src, r.stderr.strip()))
        if r.returncode == 0:
            got = np.load(out)
            check(got.dtype.kind == "U" and got.shape == want.shape and (got == want).all(),
                  "%s: nntrace read %r, numpy wrote %r" % (src, got, arr))
            with open(out, "rb") as f:
                check(f.read() == npy_bytes(want), "%s: re-saved bytes differ from np.save" % src)
    if nntrace is None:
        check(False, "no nntrace binary next to the build dir")
        return
    from onnx import helper, TensorProto
    node = helper.make_node("StringNormalizer", ["x"], ["y"], case_change_action="UPPER")
    graph = helper.make_graph([node], "strnorm",
                              [helper.make_tensor_value_info("x", TensorProto.STRING, [1, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.STRING, [1, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    mpath = os.path.join(d, "strnorm.onnx")
    onnx.save(model, mpath)
    x = np.array([["monday", "\u20ac5 x", ""]])
    xpath = os.path.join(d, "x.npy")
    np.save(xpath, x)
    odir = os.path.join(d, "run_out")
    r = subprocess.run([nntrace, "run", mpath, "-i", "x=" + xpath, "-o", odir], capture_output=True, text=True)
    check(r.returncode == 0, "nntrace run %s: exit %d: %s" % (mpath, r.returncode, r.stderr.strip()))
    if r.returncode == 0:
        got = np.load(os.path.join(odir, "y.npy"))
        want = np.array([["MONDAY", "\u20ac5 X", ""]])
        check(got.dtype == want.dtype and (got == want).all(), "StringNormalizer output %r, want %r" % (got, want))
    bad = os.path.join(d, "obj.npy")
    np.save(bad, np.array(["a", None], dtype=object), allow_pickle=True)
    r = subprocess.run([nntrace, "run", mpath, "-i", "x=" + bad], capture_output=True, text=True)
    check(r.returncode == 2 and "dtype=str" in r.stderr and bad in r.stderr,
          "object input: expected exit 2 naming dtype=str, got %d: %s" % (r.returncode, r.stderr.strip()))


def find_tool(arg):
    """The npy_tool binary: arg itself, or built inside the build dir arg."""
    if os.path.isfile(arg) and os.access(arg, os.X_OK):
        return os.path.abspath(arg)
    if not os.path.isdir(arg):
        return None
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    src = os.path.join(here, "npy_tool.c")
    lib = os.path.join(arg, "libnntrace.a")
    tool = os.path.join(arg, "tests", "npy_tool")
    if not os.path.exists(lib):
        print("npy-check: %s not built" % lib, file=sys.stderr)
        return None
    if os.path.exists(tool) and os.path.getmtime(tool) >= max(os.path.getmtime(lib), os.path.getmtime(src)):
        return os.path.abspath(tool)
    os.makedirs(os.path.dirname(tool), exist_ok=True)
    pkgs = ["openblas", "libpng", "zlib", "libmicrohttpd", "libgvc", "libedit", "jansson"]
    libs = subprocess.run(["pkg-config", "--libs"] + pkgs, capture_output=True, text=True).stdout.split()
    cc = os.environ.get("CC", "cc").split()
    base = cc + ["-I" + os.path.join(root, "include"), "-I" + os.path.join(root, "src"), "-D_GNU_SOURCE",
                 "-std=c11", "-O1", "-g", "-pthread", "-o", tool, src, lib] + libs + ["-lm", "-lpthread"]
    err = ""
    for extra in ([], ["-fsanitize=address,undefined"]):
        r = subprocess.run(base + extra, capture_output=True, text=True)
        if r.returncode == 0:
            return os.path.abspath(tool)
        err = r.stderr
    print("npy-check: cannot build %s:\n%s" % (tool, err[-2000:]), file=sys.stderr)
    return None


def main():
    tool = find_tool(sys.argv[1]) if len(sys.argv) == 2 else None
    if tool is None:
        print("usage: npy_numpy_check.py BUILD_DIR | PATH/TO/npy_tool", file=sys.stderr)
        print("npy-check: 0 passed, 1 failed")
        return 2
    with tempfile.TemporaryDirectory(prefix="nt_npy_check_") as d:
        check_written(tool, os.path.join(d, "written"))
        check_read(tool, d)
        check_refused(tool, d)
        nt = os.path.join(sys.argv[1], "nntrace") if os.path.isdir(sys.argv[1]) else None
        check_strings(tool, nt if nt and os.access(nt, os.X_OK) else None, os.path.join(d, "strings"))
    print("npy-check: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
