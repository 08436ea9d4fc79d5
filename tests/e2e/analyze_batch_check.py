#!/usr/bin/python3
"""analyze_batch_check.py NNTRACE — `analyze` refuses a batch from the .npy
header, before reading the file (issue 15: a batch of 200k samples was read,
410 MB, before it was refused).

A sparse .npy declaring 200,000 samples of 1x28x28 float32 (627 MB, no disk
blocks) is given to `analyze` on a model whose batch axis is symbolic: exit
2, the message names the file, the input and the batch, and the process's
peak memory stays under 100 MB.  The same model on one sample still runs.

Prints "analyze-batch-check: N passed, N failed"; exits 1 on any failure.
"""
import os
import resource
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import helper as h, numpy_helper as nh, TensorProto as TP

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {what}")


def main():
    nt = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="nt-anbatch-")
    try:
        w = np.random.RandomState(0).randn(10, 784).astype(np.float32) * 0.05
        g = h.make_graph([h.make_node("Flatten", ["x"], ["f"]), h.make_node("Gemm", ["f", "W"], ["y"], transB=1)],
                         "g", [h.make_tensor_value_info("x", TP.FLOAT, ["N", 1, 28, 28])],
                         [h.make_tensor_value_info("y", TP.FLOAT, ["N", 10])], [nh.from_array(w, "W")])
        m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
        m.ir_version = 8
        mp = os.path.join(tmp, "m.onnx")
        onnx.save(m, mp)
        big = os.path.join(tmp, "batch.npy")
        n = 200000
        header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 1, 28, 28), }" % n
        header += " " * (63 - (10 + len(header)) % 64) + "\n"
        with open(big, "wb") as f:
            f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
            f.truncate(f.tell() + n * 784 * 4)  # sparse: the data is never written
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        r = subprocess.run([nt, "analyze", mp, "-i", big, "--method", "occlusion", "-o", os.path.join(tmp, "o")],
                           capture_output=True, text=True)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        check(r.returncode == 2, f"a batch of {n} exits 2 (got {r.returncode}: {r.stderr[-300:]})")
        check("batch.npy" in r.stderr and "'x'" in r.stderr and "batch of 200000" in r.stderr,
              f"the message names the file, the input and the batch: {r.stderr[-300:]}")
        check(before < 100 * 1024 and peak_mb < 100, f"peak memory {peak_mb:.0f} MB < 100 MB (the file is 627 MB)")
        one = os.path.join(tmp, "one.npy")
        np.save(one, np.random.RandomState(1).rand(1, 1, 28, 28).astype(np.float32))
        r = subprocess.run([nt, "analyze", mp, "-i", one, "--method", "occlusion", "-o", os.path.join(tmp, "o")],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"one sample still analyzes (got {r.returncode}: {r.stderr[-300:]})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"analyze-batch-check: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
