#!/usr/bin/python3
"""fault_check.py BUILD — crash-safe run directories (issue 15).

1. kill -9 at random points of `run --trace stats --trace dump --repeat 50
   --run-dir D` (5 kills, seeded): D/run.json parses and says "running",
   every stats.jsonl line parses, every line of tensors/index.jsonl but
   possibly the last parses and names a file that loads, no file that is
   not hidden looks like a temporary, and diff, report, graph --run and
   run --compare accept D and say it is incomplete.
2. A full disk, made by an LD_PRELOAD shim (tests/e2e/failwrite.c) that
   fails writes growing files past a byte budget with ENOSPC: at several
   budgets the run exits 2 with a message naming a file of D and "No space
   left on device", and run.json says "failed" with that reason.
3. A 50k-node graph traced with stats: the work is linear in the nodes —
   its peak memory above an untraced run's stays under 2 KiB a node (a
   full histogram per node took 8 KiB), and CPU time traced at 50k nodes is
   at most 8 times that at 12.5k nodes (quadratic would be 16).

Prints "fault-check: N passed, N failed"; exits 1 on any failure.
"""
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {what}")


def chain_model(path, n, shape):
    """x -> Neg -> Relu -> Neg -> ... : n nodes, outputs v0..v{n-1}."""
    nodes, prev = [], "x"
    for i in range(n):
        nodes.append(helper.make_node("Relu" if i % 2 else "Neg", [prev], [f"v{i}"], name=f"n{i}"))
        prev = f"v{i}"
    g = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info(prev, TensorProto.FLOAT, shape)])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)


def looks_like_data_tmp(name):
    return not name.startswith(".") and "tmp" in name


def check_killed_dir(nt, d, model, x, k):
    what = f"kill {k}"
    try:
        info = json.load(open(os.path.join(d, "run.json")))
    except (OSError, ValueError) as e:
        check(False, f"{what}: run.json parses ({e})")
        return False
    check(info.get("status") in ("running", "ok"), f"{what}: run.json status {info.get('status')!r}")
    running = info.get("status") == "running"
    sj = os.path.join(d, "stats.jsonl")
    if os.path.exists(sj):
        lines = open(sj).read().splitlines()
        bad = 0
        for l in lines:
            try:
                json.loads(l)
            except ValueError:
                bad += 1
        check(bad == 0, f"{what}: every stats.jsonl line parses ({bad} do not)")
    journal = os.path.join(d, "tensors", "index.jsonl")
    if os.path.exists(journal):
        lines = open(journal).read().split("\n")
        ok = bad = 0
        for i, l in enumerate(lines):
            if not l:
                continue
            try:
                e = json.loads(l)
            except ValueError:
                check(i == len(lines) - 1, f"{what}: only the last index.jsonl line may be cut")
                continue
            try:
                good = list(np.load(os.path.join(d, "tensors", e["file"])).shape) == e["shape"]
            except Exception:  # noqa: BLE001 - a file that does not load is the finding
                good = False
            ok += good
            bad += not good
        # (a kill may land before the first tensor is written: no entries is fine)
        check(bad == 0, f"{what}: the journal's entries name files that load ({ok} do, {bad} do not)")
    stray = [os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs if looks_like_data_tmp(f)]
    check(not stray, f"{what}: no temporary that looks like data: {stray}")
    for r, _, fs in os.walk(d):
        for f in fs:
            if f.endswith(".npy") and not f.startswith("."):
                try:
                    np.load(os.path.join(r, f))
                except Exception as e:  # noqa: BLE001 - any failure to load is the finding
                    check(False, f"{what}: {f} loads ({e})")
    if not running:
        return False
    # every reader accepts the directory and calls it incomplete
    for args in (["diff", d, d], ["report", d], ["graph", model, "--run", d, "-o", os.path.join(d, "..", "g.svg")],
                 ["run", model, "-i", x, "--compare", d]):
        r = subprocess.run([nt, *args], capture_output=True, text=True)
        check(r.returncode == 0 and "incomplete run directory" in r.stderr,
              f"{what}: {args[0]} accepts the killed directory and says it is incomplete "
              f"(exit {r.returncode}): {r.stderr[-300:]!r}")
    return True


def kills(nt, tmp):
    model, x = os.path.join(tmp, "chain.onnx"), os.path.join(tmp, "x.npy")
    chain_model(model, 120, [64, 1024])
    np.save(x, np.random.default_rng(1).standard_normal((64, 1024)).astype(np.float32))
    rng = random.Random(15)
    mid_run = 0
    for k in range(5):
        d = os.path.join(tmp, f"killed{k}")
        # --repeat 1000: the run outlasts the kill (at most 1.5 s) on a fast, quiet machine too
        p = subprocess.Popen([nt, "run", model, "-i", x, "--trace", "stats", "--trace", "dump", "--repeat", "1000",
                              "--dump-limit", "24", "--run-dir", d],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 1.5))
        p.kill()  # SIGKILL
        p.wait()
        if os.path.isdir(d):
            mid_run += check_killed_dir(nt, d, model, x, k)
    check(mid_run >= 3, f"at least 3 of 5 kills came mid-run ({mid_run})")


def full_disk(build, nt, tmp):
    shim = os.path.join(tmp, "failwrite.so")
    r = subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", shim, os.path.join(HERE, "failwrite.c"), "-ldl"],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"building the write-failure shim: {r.stderr[-300:]}")
    if r.returncode:
        return
    model, x = os.path.join(tmp, "chain.onnx"), os.path.join(tmp, "x.npy")
    env = dict(os.environ)
    asan = env.get("LD_PRELOAD", "")
    for budget in (20000, 200000, 1500000, 6000000):
        d = os.path.join(tmp, f"full{budget}")
        env.update(FAILWRITE_AFTER=str(budget), LD_PRELOAD=(asan + " " + shim).strip())
        r = subprocess.run([nt, "run", model, "-i", x, "--trace", "stats", "--trace", "dump", "--repeat", "3",
                            "--run-dir", d], capture_output=True, text=True, env=env)
        what = f"disk full after {budget} bytes"
        check(r.returncode == 2, f"{what}: exit 2 (got {r.returncode})")
        check("No space left on device" in r.stderr and d in r.stderr,
              f"{what}: the message names a file of the run directory and the cause: {r.stderr[-300:]!r}")
        check("stopped by a tracer" not in r.stderr, f"{what}: not 'stopped by a tracer'")
        try:
            info = json.load(open(os.path.join(d, "run.json")))
            check(info["status"] == "failed" and "No space left on device" in info.get("reason", ""),
                  f"{what}: run.json says failed with the reason: {info.get('status')} {info.get('reason')!r}")
        except (OSError, ValueError) as e:
            # the first budget is smaller than run.json itself: nothing could be written at all
            check(budget < 8192, f"{what}: run.json readable ({e})")


def child_usage(args):
    """(CPU seconds, peak RSS in KiB) of one run of args."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    pid = os.fork()
    if pid == 0:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        os.execv(args[0], args)
    _, status, ru = os.wait4(pid, 0)
    return (ru.ru_utime + ru.ru_stime, ru.ru_maxrss, os.waitstatus_to_exitcode(status))


def big_graph(nt, tmp):
    x = os.path.join(tmp, "small_x.npy")
    np.save(x, np.random.default_rng(2).standard_normal((4, 8)).astype(np.float32))
    got = {}
    for n in (12500, 50000):
        model = os.path.join(tmp, f"chain{n}.onnx")
        chain_model(model, n, [4, 8])
        base = child_usage([nt, "run", model, "-i", x])
        traced = child_usage([nt, "run", model, "-i", x, "--trace", "stats", "--run-dir", os.path.join(tmp, f"big{n}")])
        check(base[2] == 0 and traced[2] == 0, f"{n} nodes: untraced and traced runs succeed")
        got[n] = (base, traced)
        per_node = (traced[1] - base[1]) * 1024 / n
        check(per_node < 2048, f"{n} nodes: stats tracing holds {per_node:.0f} bytes a node over untraced (< 2048)")
        lines = sum(1 for _ in open(os.path.join(tmp, f"big{n}", "stats.jsonl")))
        check(lines == n, f"{n} nodes: stats.jsonl has a line per node ({lines})")
    small, large = got[12500][1][0], got[50000][1][0]
    print(f"  stats traced CPU time: 12.5k nodes {small:.2f} s, 50k nodes {large:.2f} s "
          f"(untraced {got[12500][0][0]:.2f} s, {got[50000][0][0]:.2f} s)")
    check(large <= 8 * max(small, 0.05), f"traced CPU time grows linearly: {small:.2f} s -> {large:.2f} s for 4x nodes")


def main():
    build = sys.argv[1]
    nt = os.path.join(build, "nntrace")
    with tempfile.TemporaryDirectory() as tmp:
        kills(nt, tmp)
        full_disk(build, nt, tmp)
        big_graph(nt, tmp)
    print(f"fault-check: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
