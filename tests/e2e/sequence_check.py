#!/usr/bin/env python3
"""sequence_check.py — sequences through the command line and the tracers.

Runs the corpus's SplitToSequence case (a float32 (3, 6) split into three
(3, 2) pieces) with --trace print, stats and dump, and checks: the print
line describes the output as sequence<float32>[3]; the stats line covers the
18 elements of the whole sequence with the input's min, max and mean; the
dump writes seq.0.npy, seq.1.npy, seq.2.npy holding exactly the numpy split
and lists them in the index; `-o` writes the sequence output element by
element (seq.0.npy, seq.1.npy, seq.2.npy, equal to the split; --json lists
them as "files").  Also runs an int4 Cast case and checks the
output .npy holds the wrapped int8 values.

usage: sequence_check.py NNTRACE [CORPUS]
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

nt = sys.argv[1]
corpus = sys.argv[2] if len(sys.argv) > 2 else os.environ.get(
    "NT_CORPUS", os.path.join(os.path.dirname(__file__), "../../../shared/onnx-node-tests"))
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL", what)


def load_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


if not os.path.isdir(corpus):
    print("sequence-check: skipped (no corpus at %s)" % corpus)
    sys.exit(0)

case = os.path.join(corpus, "test_split_to_sequence_1")
ds = os.path.join(case, "test_data_set_0")
with tempfile.TemporaryDirectory() as tmp:
    rd = os.path.join(tmp, "run")
    p = subprocess.run([nt, "run", os.path.join(case, "model.onnx"), "-i", os.path.join(ds, "input_0.pb"),
                        "-i", os.path.join(ds, "input_1.pb"), "--trace", "print", "--trace", "stats",
                        "--trace", "dump", "--run-dir", rd], capture_output=True, text=True)
    check(p.returncode == 0, "run with tracers: exit %d: %s" % (p.returncode, p.stderr[-300:]))
    check("seq:sequence<float32>[3]" in p.stdout, "print line: %s" % p.stdout[:300])
    x = load_pb(os.path.join(ds, "input_0.pb"))
    want = np.split(x, 3, axis=1)
    with open(os.path.join(rd, "stats.jsonl")) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    st = [s for s in lines if s.get("output") == "seq"]
    check(len(st) == 1, "one stats line for the sequence, got %d" % len(st))
    if st:
        check(st[0]["count"] == x.size, "stats count %s, want %d" % (st[0]["count"], x.size))
        check(st[0]["min"] == float(x.min()) and st[0]["max"] == float(x.max()), "stats min/max")
        check(abs(st[0]["mean"] - float(x.mean())) < 1e-6, "stats mean")
    with open(os.path.join(rd, "tensors", "index.json")) as f:
        index = json.load(f)
    files = [e["file"] for e in index["tensors"]]
    check(files == ["seq.0.npy", "seq.1.npy", "seq.2.npy"], "index lists %s" % files)
    for i, w in enumerate(want):
        path = os.path.join(rd, "tensors", "seq.%d.npy" % i)
        check(os.path.exists(path) and np.array_equal(np.load(path), w), "seq.%d.npy equals the numpy split" % i)
    out = os.path.join(tmp, "out")
    p = subprocess.run([nt, "run", os.path.join(case, "model.onnx"), "-i", os.path.join(ds, "input_0.pb"),
                        "-i", os.path.join(ds, "input_1.pb"), "-o", out, "--json"], capture_output=True, text=True)
    check(p.returncode == 0, "-o with a sequence output: exit %d: %s" % (p.returncode, p.stderr[-200:]))
    for i, w in enumerate(want):
        path = os.path.join(out, "seq.%d.npy" % i)
        check(os.path.exists(path) and np.array_equal(np.load(path), w), "-o: seq.%d.npy equals the numpy split" % i)
    check(not os.path.exists(os.path.join(out, "seq.3.npy")) and not os.path.exists(os.path.join(out, "seq.npy")),
          "-o: exactly the three elements")
    try:
        files = json.loads(p.stdout)["outputs"][0].get("files")
    except (ValueError, KeyError, IndexError):
        files = None
    check(files == [os.path.join(out, "seq.%d.npy" % i) for i in range(3)], "--json lists the files: %s" % files)

    case = os.path.join(corpus, "test_cast_FLOAT_to_INT4")
    ds = os.path.join(case, "test_data_set_0")
    p = subprocess.run([nt, "run", os.path.join(case, "model.onnx"), "-i", os.path.join(ds, "input_0.pb"),
                        "-o", out], capture_output=True, text=True)
    check(p.returncode == 0, "int4 cast: exit %d: %s" % (p.returncode, p.stderr[-200:]))
    if p.returncode == 0:
        got = np.load(os.path.join(out, "output.npy"))
        x = load_pb(os.path.join(ds, "input_0.pb"))
        wrapped = ((x.astype(np.int64) + 8) % 16 - 8).astype(np.int8)
        check(got.dtype == np.int8 and np.array_equal(got, wrapped), "int4 output widened to int8, wrapped")

print("sequence-check: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
