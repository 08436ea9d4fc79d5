#!/usr/bin/python3
"""compare_ort.py NNTRACE MODELDIR [NAME...] — runs each MODELDIR/NAME.onnx in
nntrace and in ONNX Runtime (bench/ort_run.js) on NAME.input*.npy and compares
every output within rtol 1e-3, atol 1e-4.  Prints one line per model and a
closing "compare-ort: N passed, N failed" line; exits 1 on any failure."""
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

RTOL, ATOL = 1e-3, 1e-4


def main():
    nntrace, mdir = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or sorted(os.path.basename(p)[:-5] for p in glob.glob(f"{mdir}/*.onnx"))
    here = os.path.dirname(os.path.abspath(__file__))
    ort_run = os.path.join(here, "..", "..", "bench", "ort_run.js")
    passed = failed = 0
    for name in names:
        inputs = sorted(glob.glob(f"{mdir}/{name}.input*.npy"))
        if not inputs and "." in name:
            # a variant of another model (resnet18_int8.float) takes its inputs
            inputs = sorted(glob.glob(f"{mdir}/{name.split('.')[0]}.input*.npy"))
        with tempfile.TemporaryDirectory() as tmp:
            args = []
            for f in inputs:
                args += ["-i", f]
            a = subprocess.run([nntrace, "run", f"{mdir}/{name}.onnx", *args, "-o", f"{tmp}/nt"],
                               capture_output=True, text=True)
            b = subprocess.run(["node", ort_run, f"{mdir}/{name}.onnx", *args, "-o", f"{tmp}/ort"],
                               capture_output=True, text=True)
            if a.returncode != 0 or b.returncode != 0:
                print(f"FAIL {name}: nntrace exit {a.returncode} {a.stderr.strip()[:300]} / ort exit "
                      f"{b.returncode} {b.stderr.strip()[:300]}")
                failed += 1
                continue
            worst = 0.0
            ok = True
            outs = sorted(os.listdir(f"{tmp}/ort"))
            for f in outs:
                want = np.load(f"{tmp}/ort/{f}")
                try:
                    got = np.load(f"{tmp}/nt/{f}")
                except FileNotFoundError:
                    print(f"FAIL {name}: nntrace wrote no {f}")
                    ok = False
                    continue
                if got.shape != want.shape or got.dtype != want.dtype:
                    print(f"FAIL {name}: {f}: nntrace {got.dtype}{got.shape} vs ort {want.dtype}{want.shape}")
                    ok = False
                    continue
                if want.dtype.kind == "f":
                    err = np.abs(got.astype(np.float64) - want) - (ATOL + RTOL * np.abs(want))
                    worst = max(worst, float(np.max(np.abs(got.astype(np.float64) - want))) if got.size else 0.0)
                    if got.size and (np.any(err > 0) or np.any(np.isnan(got) != np.isnan(want))):
                        i = int(np.argmax(err))
                        print(f"FAIL {name}: {f}: element {i}: nntrace {got.flat[i]} vs ort {want.flat[i]}")
                        ok = False
                elif not np.array_equal(got, want):
                    print(f"FAIL {name}: {f}: integer outputs differ")
                    ok = False
            if ok:
                print(f"ok   {name}: {len(outs)} output(s), max |diff| {worst:.3g}")
                passed += 1
            else:
                failed += 1
    print(f"compare-ort: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
