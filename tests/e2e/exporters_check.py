#!/usr/bin/python3
"""exporters_check.py NNTRACE [--models DIR] [NAME...] — models in the idioms
of tf2onnx, keras2onnx and older converters, and paddle2onnx (written by
tests/e2e/exporters/make_models.py) run in nntrace and in ONNX Runtime
(bench/ort_run.js) on the same inputs.

For every case: `NNTRACE run MODEL -i NAME=FILE... -o DIR` and the same through
ort_run.js; every output ONNX Runtime writes must exist in nntrace's with the
same dtype and shape, floats within rtol 1e-3 + atol 1e-4, integers and bools
exactly.  For every model (once): `NNTRACE info MODEL --json` inputs and
outputs against the onnx library's view (names, dtype names such as
"float32", shapes as ints / dim_param strings / null, null shape when the
value has none).

Models are built into a temporary directory unless --models DIR names one
already built (or to build into and keep).  NAME arguments keep only the
cases whose name contains one of them.  A case may name an equivalent
"ort_model" for ONNX Runtime (when ONNX Runtime refuses a valid idiom) and a
"known" nntrace limitation tracked elsewhere: such a case that fails prints
KNOWN and counts as skipped.  Prints one line per case and
"exporters: N passed, N failed[, N skipped]"; exits 1 on any failure.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
ORT_RUN = os.path.join(REPO, "bench", "ort_run.js")
RTOL, ATOL = 1e-3, 1e-4
DTYPE = ["undefined", "float32", "uint8", "int8", "uint16", "int16", "int32", "int64", "string",
         "bool", "float16", "float64", "uint32", "uint64", "complex64", "complex128", "bfloat16"]


def value_view(vi):
    """{name, dtype, shape} of a graph input or output as nntrace should report it."""
    tt = vi.type.tensor_type
    out = {"name": vi.name, "dtype": DTYPE[tt.elem_type] if tt.elem_type < len(DTYPE) else "undefined",
           "shape": None}
    if tt.HasField("shape"):
        dims = []
        for d in tt.shape.dim:
            k = d.WhichOneof("value")
            if k == "dim_value":
                dims.append(d.dim_value)
            elif k == "dim_param":
                dims.append(d.dim_param)
            else:
                dims.append(None)
        out["shape"] = dims
    return out


def check_info(nntrace, path):
    """'' when `nntrace info --json` agrees with onnx on inputs and outputs, else why not."""
    m = onnx.load(path, load_external_data=False)
    inits = {t.name for t in m.graph.initializer}
    want_in = [value_view(v) for v in m.graph.input if v.name not in inits]
    want_out = [value_view(v) for v in m.graph.output]
    r = subprocess.run([nntrace, "info", path, "--json"], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        return "info exit %d: %s" % (r.returncode, r.stderr.strip()[:300])
    try:
        got = json.loads(r.stdout)
    except ValueError as e:
        return "info output is not JSON (%s)" % e
    for key, want in (("inputs", want_in), ("outputs", want_out)):
        have = [{k: v.get(k) for k in ("name", "dtype", "shape")} for v in got.get(key, [])]
        if have != want:
            return "info %s: nntrace %s, onnx %s" % (key, json.dumps(have), json.dumps(want))
    return ""


def compare(ntdir, ortdir):
    """(ok, message): every ONNX Runtime output matched by nntrace's."""
    outs = sorted(os.listdir(ortdir))
    worst = 0.0
    problems = []
    for f in outs:
        want = np.load(os.path.join(ortdir, f))
        p = os.path.join(ntdir, f)
        if not os.path.exists(p):
            problems.append("nntrace wrote no %s" % f)
            continue
        got = np.load(p)
        if got.shape != want.shape or got.dtype != want.dtype:
            problems.append("%s: nntrace %s%s vs ort %s%s" % (f, got.dtype, got.shape, want.dtype, want.shape))
            continue
        if want.dtype.kind == "f":
            g64, w64 = got.astype(np.float64), want.astype(np.float64)
            nan_bad = np.isnan(g64) != np.isnan(w64)
            with np.errstate(invalid="ignore"):
                diff = np.where(np.isnan(w64) | (g64 == w64), 0.0, np.abs(g64 - w64))
                bad = (diff > ATOL + RTOL * np.abs(w64)) | nan_bad
            if got.size:
                worst = max(worst, float(np.max(diff)))
            if np.any(bad):
                i = int(np.argmax(bad))
                problems.append("%s: %d of %d elements off, first at %s: nntrace %r vs ort %r" % (
                    f, int(bad.sum()), got.size, np.unravel_index(i, got.shape), got.flat[i], want.flat[i]))
        elif not np.array_equal(got, want):
            bad = got != want
            i = int(np.argmax(bad))
            problems.append("%s: %d of %d elements differ, first at %s: nntrace %r vs ort %r" % (
                f, int(bad.sum()), got.size, np.unravel_index(i, got.shape), got.flat[i], want.flat[i]))
    if problems:
        return False, "; ".join(problems)
    return True, "%d output(s), max |diff| %.3g" % (len(outs), worst)


def main():
    args = sys.argv[1:]
    models = None
    if "--models" in args:
        i = args.index("--models")
        models = args[i + 1]
        del args[i:i + 2]
    nntrace = args[0] if args else os.path.join(REPO, "build", "nntrace")
    filters = args[1:]
    if not os.path.isdir(os.path.join(REPO, "bench", "node_modules", "onnxruntime-node")):
        print("exporters: skipped, needs onnxruntime-node in bench/node_modules (scripts/setup.sh --test)")
        return
    tmp = tempfile.mkdtemp(prefix="nt_exporters_")
    try:
        mdir = models or os.path.join(tmp, "models")
        if not os.path.exists(os.path.join(mdir, "manifest.json")):
            r = subprocess.run([sys.executable, os.path.join(HERE, "exporters", "make_models.py"), mdir],
                               capture_output=True, text=True)
            if r.returncode != 0:
                print("FAIL make_models.py: %s" % r.stderr.strip()[-2000:])
                print("exporters: 0 passed, 1 failed")
                sys.exit(1)
        with open(os.path.join(mdir, "manifest.json")) as f:
            cases = json.load(f)["cases"]
        if filters:
            cases = [c for c in cases if any(s in c["name"] for s in filters)]
        passed = failed = skipped = 0
        info_done = {}
        for c in cases:
            path = os.path.join(mdir, c["model"])
            if c["model"] not in info_done:
                info_done[c["model"]] = check_info(nntrace, path)
            info_err = info_done[c["model"]]
            feeds = []
            for iname, f in c["inputs"]:
                feeds += ["-i", "%s=%s" % (iname, os.path.join(mdir, f))]
            ntdir = os.path.join(tmp, c["name"], "nt")
            ortdir = os.path.join(tmp, c["name"], "ort")
            ort_path = os.path.join(mdir, c.get("ort_model", c["model"]))
            b = subprocess.run(["node", ORT_RUN, ort_path, *feeds, "-o", ortdir],
                               capture_output=True, text=True, timeout=600)
            if b.returncode != 0:
                failed += 1
                print("FAIL %s: ONNX Runtime rejects the model (exit %d): %s" % (
                    c["name"], b.returncode, b.stderr.strip()[:400]))
                continue
            a = subprocess.run([nntrace, "run", path, *feeds, "-o", ntdir],
                               capture_output=True, text=True, timeout=600)
            if a.returncode != 0:
                kind = "declined" if a.returncode == 2 else "error"
                ok, msg = False, "nntrace %s (exit %d): %s" % (kind, a.returncode, a.stderr.strip()[:400])
            else:
                ok, msg = compare(ntdir, ortdir)
            if info_err:
                ok, msg = False, "; ".join(x for x in (msg if not ok else "", info_err) if x)
            if ok:
                passed += 1
                print("ok   %s: %s%s" % (c["name"], msg, " (marked known issue: unmark it)" if "known" in c else ""))
            elif "known" in c:
                skipped += 1
                print("KNOWN %s: %s [%s]" % (c["name"], msg, c["known"]))
            else:
                failed += 1
                print("FAIL %s: %s" % (c["name"], msg))
            shutil.rmtree(os.path.join(tmp, c["name"]), ignore_errors=True)
        print("exporters: %d passed, %d failed%s" % (passed, failed,
                                                    ", %d skipped" % skipped if skipped else ""))
        sys.exit(1 if failed else 0)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
