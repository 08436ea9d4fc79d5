#!/usr/bin/python3
"""trace_check.py NNTRACE — checks the tracers with independent readers.

1. stats vs dump: runs the demo model with --trace stats --trace dump; numpy
   loads every dumped tensor and recomputes count/min/max/mean/std/zeros/
   negatives, which must match stats.jsonl; the histogram counts must add up.
2. intermediates vs ONNX Runtime (when bench/node_modules has onnxruntime-node):
   every node output of a model is made a graph output with the onnx library,
   run in ORT, and compared with nntrace's dump of the same tensors.
3. profile.json is valid Chrome trace JSON with one complete event per node.
   Filters: op types in any case, unmatched patterns named on stderr.
4. big tensors (several scan pieces, NaN/Inf/-0 inside), mid-size ones (one
   piece, shared by 2 threads) and a Loop whose body makes big tensors:
   stats.jsonl matches numpy and is the same bytes scanned in the background,
   inline (NNTRACE_STATS_INLINE=1) and on 2 threads, and run again; three
   runs give three times every count; the histogram is that of every
   hist_stride-th element, all of them with --exact-hist.

Prints "trace-check: N passed, N failed"; exits 1 on any failure.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
DEMO = os.path.join(ROOT, "examples", "demo")
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {what}")


def run(args):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"command failed ({r.returncode}): {' '.join(args)}\n{r.stderr[-2000:]}")
    return r


def stats_vs_dump(nt, tmp):
    rd = os.path.join(tmp, "run")
    r = run([nt, "run", os.path.join(DEMO, "model.onnx"), "-i", os.path.join(DEMO, "digit.npy"), "--trace", "stats",
             "--trace", "dump", "--trace", "profile", "--run-dir", rd])
    check(r.returncode == 0, "demo run with stats+dump+profile")
    if r.returncode:
        return
    index = json.load(open(os.path.join(rd, "tensors", "index.json")))
    files = {e["output"]: e for e in index["tensors"]}
    lines = [json.loads(l) for l in open(os.path.join(rd, "stats.jsonl"))]
    check(len(lines) == 8, f"stats.jsonl has one line per node output (got {len(lines)})")
    for s in lines:
        e = files.get(s["output"])
        check(e is not None, f"dump has {s['output']}")
        if e is None:
            continue
        a = np.load(os.path.join(rd, "tensors", e["file"])).astype(np.float64)
        check(list(a.shape) == s["shape"] == e["shape"], f"{s['output']}: shape")
        check(s["count"] == a.size, f"{s['output']}: count")
        check(np.isclose(s["min"], a.min(), rtol=1e-6) and np.isclose(s["max"], a.max(), rtol=1e-6),
              f"{s['output']}: min/max {s['min']} {s['max']} vs {a.min()} {a.max()}")
        check(np.isclose(s["mean"], a.mean(), rtol=1e-5, atol=1e-6), f"{s['output']}: mean {s['mean']} vs {a.mean()}")
        check(np.isclose(s["std"], a.std(), rtol=1e-4, atol=1e-6), f"{s['output']}: std {s['std']} vs {a.std()}")
        check(s["zeros"] == int((a == 0).sum()) and s["negatives"] == int((a < 0).sum()), f"{s['output']}: zeros/negatives")
        h = s["histogram"]
        check(sum(h["counts"]) == a.size and len(h["edges"]) == len(h["counts"]) + 1, f"{s['output']}: histogram")
        # every value lies inside the histogram's span
        check(h["edges"][0] <= a.min() and a.max() <= h["edges"][-1], f"{s['output']}: histogram span")
    prof = json.load(open(os.path.join(rd, "profile.json")))
    ev = [e for e in prof["traceEvents"] if e.get("ph") == "X"]
    check(len(ev) == 8 and all("flops" in e["args"] and e["dur"] >= 0 for e in ev), "profile.json events")
    info = json.load(open(os.path.join(rd, "run.json")))
    check(len(info["model"]["sha256"]) == 64 and info["runs"] == 1, "run.json")


def filter_patterns(nt, tmp):
    """--trace filters: op types match in any case; a pattern that matches no
    node is named on stderr and the run still succeeds."""
    model, x = os.path.join(DEMO, "model.onnx"), os.path.join(DEMO, "digit.npy")
    r = run([nt, "run", model, "-i", x, "--trace", "print:op:conv"])
    convs = [l for l in r.stdout.splitlines() if l.startswith("[") and "(Conv)" in l]
    check(r.returncode == 0 and len(convs) == 2 and "(Relu)" not in r.stdout, "op:conv traces both Conv nodes only")
    r = run([nt, "run", model, "-i", x, "--trace", "print:/[12]/*", "--trace", "print:nosuch*", "--trace",
             "print:op:LSTM"])
    check(r.returncode == 0, "a filter that matches nothing does not change the exit code")
    check("'nosuch*' matches no node" in r.stderr and "'op:LSTM' matches no node" in r.stderr
          and "/[12]/*" not in r.stderr, f"unmatched filters are named on stderr: {r.stderr!r}")


def profile_report(nt, tmp):
    """--trace profile without --repeat measures a warm run and says so;
    mean and median are labelled; a per-node top table gives share and
    GFLOP/s for the ops whose FLOPs are known (Conv, Gemm), '-' otherwise."""
    rd = os.path.join(tmp, "prof")
    r = run([nt, "run", os.path.join(DEMO, "model.onnx"), "-i", os.path.join(DEMO, "digit.npy"), "--trace",
             "profile", "--run-dir", rd])
    out = r.stdout
    check(r.returncode == 0 and "1 warm run measured (after 1 untraced warm-up run)" in out,
          f"profile without --repeat measures a warm run and says so: {out[:300]!r}")
    check("mean" in out and "median" in out and "mean ms/run" in out, "profile labels mean and median")
    lines = out.splitlines()
    top = [i for i, l in enumerate(lines) if l.startswith("top ") and "nodes by time" in l]
    check(len(top) == 1, "profile prints a per-node top table")
    if top:
        rows = [l.split() for l in lines[top[0] + 2:top[0] + 2 + 8]]
        check(len(rows) == 8 and all(len(x) == 5 and x[3].endswith("%") for x in rows), f"top table rows: {rows}")
        shares = sum(float(x[3][:-1]) for x in rows)
        check(abs(shares - 100) < 1.0, f"the 8 nodes' shares add up to 100 % ({shares})")
        check(all((x[4] != "-") == (x[1] in ("Conv", "Gemm")) for x in rows),
              "GFLOP/s only for Conv and Gemm nodes")
    ev = [e for e in json.load(open(os.path.join(rd, "profile.json")))["traceEvents"] if e.get("ph") == "X"]
    check(len(ev) == 8 and all(e["args"]["run"] == 0 for e in ev), "profile.json holds the one profiled run")


def same_stats_every_way(nt, tmp, model, x, what, repeat=1):
    """Runs --trace stats on one thread (background scans), on one thread
    with NNTRACE_STATS_INLINE=1 and on two threads; the three stats.jsonl
    must be the same bytes.  Returns them, or None."""
    out = {}
    for way, threads, env in (("background", "1", {}), ("inline", "1", {"NNTRACE_STATS_INLINE": "1"}),
                              ("2 threads", "2", {})):
        rd = os.path.join(tmp, what.replace(" ", "_") + "_" + way.replace(" ", "_"))
        r = subprocess.run([nt, "run", model, "-i", x, "--threads", threads, "--trace", "stats", "--repeat", str(repeat),
                            "--run-dir", rd], capture_output=True, text=True, env={**os.environ, **env})
        check(r.returncode == 0, f"{what}, stats, {way}: {r.stderr[-300:]}")
        if r.returncode:
            return None
        out[way] = open(os.path.join(rd, "stats.jsonl"), "rb").read()
    check(out["background"] == out["inline"] == out["2 threads"],
          f"{what}: stats.jsonl is the same scanned in the background, inline and on 2 threads")
    return out["inline"]


def loop_model(nt, tmp):
    """A Loop whose body makes big tensors: the same node output is scanned
    once per iteration, possibly while the previous one is still queued."""
    from onnx import TensorProto, helper
    shape = [128, 1024]  # above the background threshold (65,536 elements)
    body = helper.make_graph(
        [helper.make_node("Add", ["acc_in", "one"], ["acc_out"], name="body_add"),
         helper.make_node("Mul", ["acc_out", "acc_out"], ["sq"], name="body_sq"),
         helper.make_node("Identity", ["cond_in"], ["cond_out"], name="body_cond")],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, shape),
         helper.make_tensor_value_info("sq", TensorProto.FLOAT, shape)],
        [helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])])
    g = helper.make_graph(
        [helper.make_node("Loop", ["n", "", "x"], ["y", "sqs"], name="loop", body=body)],
        "loop", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape),
         helper.make_tensor_value_info("sqs", TensorProto.FLOAT, [6] + shape)],
        [helper.make_tensor("n", TensorProto.INT64, [], [6])])
    model = os.path.join(tmp, "loop.onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), model)
    x = np.random.default_rng(9).standard_normal(shape).astype(np.float32)
    np.save(os.path.join(tmp, "loop_x.npy"), x)
    out = same_stats_every_way(nt, tmp, model, os.path.join(tmp, "loop_x.npy"), "loop model", repeat=2)
    if not out:
        return
    lines = {json.loads(l)["output"]: json.loads(l) for l in out.decode().splitlines()}
    # two runs of six iterations: the body's Add saw x+1 ... x+6, twice
    want = np.concatenate([x + k for k in range(1, 7)] * 2).astype(np.float64)
    got = lines.get("acc_out")
    check(got is not None and got["count"] == want.size, "loop model: the body output counts every iteration")
    if got:
        check(np.isclose(got["mean"], want.mean(), rtol=1e-6) and np.isclose(got["std"], want.std(), rtol=1e-5),
              f"loop model: body output mean/std {got['mean']} {got['std']} vs {want.mean()} {want.std()}")


def big_tensors(nt, tmp, shape=(1, 4, 300, 300), tag="big"):
    """shape: 360,000 floats are six pieces of the scan; 40,000 are less
    than one piece but are still shared among two threads (20 blocks)."""
    from onnx import TensorProto, helper
    shape = list(shape)
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("Neg", ["x"], ["n"], name="neg"),
             helper.make_node("Mul", ["n", "x"], ["m"], name="mul")]
    g = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, shape) for o in ("r", "m")])
    model = os.path.join(tmp, tag + ".onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), model)
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(shape) * np.exp2(rng.integers(-40, 40, shape))).astype(np.float32)
    flat = x.reshape(-1)
    for v, k in ((np.nan, 101), (np.inf, 202), (-np.inf, 303), (-0.0, 404), (0.0, 505), (1e-42, 606)):
        flat[rng.choice(flat.size, k, replace=False)] = v
    xpath = os.path.join(tmp, tag + "_x.npy")
    np.save(xpath, x)
    out = same_stats_every_way(nt, tmp, model, xpath, tag + " model")
    if not out:
        return
    repeated_runs(nt, tmp, model, xpath, out, tag)
    rd = os.path.join(tmp, tag + "_exact")
    r = run([nt, "run", model, "-i", xpath, "--trace", "stats", "--exact-hist", "--run-dir", rd])
    check(r.returncode == 0, f"{tag} model, stats --exact-hist")
    exact = open(os.path.join(rd, "stats.jsonl"), "rb").read() if r.returncode == 0 else b""
    with np.errstate(invalid="ignore", over="ignore"):
        ref = {"x": x, "r": np.maximum(x, 0), "n": -x, "m": -x * x}
    for mode, text in (("sampled", out), ("exact", exact)):
        for line in text.decode().splitlines():
            big_line_vs_numpy(json.loads(line), ref, mode)
    if tag != "big":
        return  # the dump-cap sizes below are the big model's
    # the dump size cap: 2 MiB holds r (1.44 MB) but not n; the library only
    # records the warning, the CLI prints it once
    rd = os.path.join(tmp, "big_capped")
    r = run([nt, "run", model, "-i", os.path.join(tmp, "big_x.npy"), "--trace", "dump", "--dump-limit", "2",
             "--run-dir", rd])
    warn = [l for l in r.stderr.splitlines() if "dump size cap" in l]
    check(r.returncode == 0 and len(warn) == 1 and warn[0].startswith("nntrace: warning: dump size cap of 2097152 "
                                                                       "bytes reached at node 'neg'"),
          f"dump cap: one warning naming node 'neg' ({warn})")
    if r.returncode == 0:
        index = json.load(open(os.path.join(rd, "tensors", "index.json")))
        check([e["output"] for e in index["tensors"]] == ["r"], "dump cap: only r dumped")


def repeated_runs(nt, tmp, model, x, one, tag):
    """The same run again gives the same bytes; --repeat 3 (as many runs as
    the tracer reports) gives that many times every count and every
    histogram count, the same min, max and hist_stride, and the same mean
    and std (one run's lines are `one`)."""
    import re
    for again, extra in (("again", []), ("repeated", ["--repeat", "3"])):
        rd = os.path.join(tmp, f"{tag}_{again}")
        r = subprocess.run([nt, "run", model, "-i", x, "--trace", "stats", "--run-dir", rd] + extra,
                           capture_output=True, text=True, env={**os.environ, "NNTRACE_STATS_INLINE": "1"})
        check(r.returncode == 0, f"{tag} model, stats {again}: {r.stderr[-300:]}")
        if r.returncode:
            return
        text = open(os.path.join(rd, "stats.jsonl"), "rb").read()
        if again == "again":
            check(text == one, f"{tag} model: stats.jsonl is the same bytes run again")
            continue
        m = re.search(r"over (\d+) runs", r.stdout)
        n = int(m.group(1)) if m else 0
        check(n >= 3, f"{tag} model: --repeat 3 traced {n} runs")
        a = [json.loads(l) for l in one.decode().splitlines()]
        b = [json.loads(l) for l in text.decode().splitlines()]
        check(len(a) == len(b) and len(a) > 0, f"{tag} model: {n} runs, as many stats lines")
        for p, q in zip(a, b):
            name = p["output"]
            check(all(q[k] == n * p[k] for k in ("count", "nan", "pinf", "ninf", "zeros", "negatives")),
                  f"{tag} {name}: {n} runs, {n} times every count")
            check(q["min"] == p["min"] and q["max"] == p["max"] and q["hist_stride"] == p["hist_stride"],
                  f"{tag} {name}: {n} runs, the same min, max and hist_stride")
            check(np.isclose(q["mean"], p["mean"], rtol=1e-12, atol=0) and np.isclose(q["std"], p["std"], rtol=1e-9),
                  f"{tag} {name}: {n} runs, mean {q['mean']} std {q['std']} vs {p['mean']} {p['std']}")
            check(q["histogram"]["edges"] == p["histogram"]["edges"] and
                  q["histogram"]["counts"] == [n * c for c in p["histogram"]["counts"]],
                  f"{tag} {name}: {n} runs, {n} times every histogram count")


def big_line_vs_numpy(s, ref, mode):
    """One stats.jsonl line against numpy: everything exact; the histogram
    exactly that of every hist_stride-th element (1 with --exact-hist)."""
    a = ref[s["output"]].astype(np.float64).reshape(-1)
    fin = a[np.isfinite(a)]
    name = f"{s['output']} ({mode})"
    k = s.get("hist_stride")
    # 360,000 elements: sampled every 360000 // 65536 = 5th by default; under
    # 2 * 65,536 always exact
    check(k == (1 if mode == "exact" or a.size < 2 * 65536 else a.size // 65536), f"big {name}: hist_stride {k}")
    k = k or 1
    check(s["count"] == a.size and s["nan"] == int(np.isnan(a).sum()), f"big {name}: count/nan")
    check(s["pinf"] == int((a == np.inf).sum()) and s["ninf"] == int((a == -np.inf).sum()), f"big {name}: inf")
    check(s["zeros"] == int((a == 0).sum()) and s["negatives"] == int((a < 0).sum()), f"big {name}: zeros/negatives")
    f32 = np.float32  # the JSON carries 9 significant digits: exact for float32
    check(f32(s["min"]) == f32(fin.min()) and f32(s["max"]) == f32(fin.max()),
          f"big {name}: min/max {s['min']!r} {s['max']!r} vs {fin.min()!r} {fin.max()!r}")
    check(np.isclose(s["mean"], fin.mean(), rtol=1e-6), f"big {name}: mean {s['mean']} vs {fin.mean()}")
    check(np.isclose(s["std"], fin.std(), rtol=1e-5), f"big {name}: std {s['std']} vs {fin.std()}")
    h = s["histogram"]
    edges = np.array(h["edges"])
    counts = np.array(h["counts"])
    sample = a[::k]
    sample = sample[np.isfinite(sample)]
    check(counts.sum() == sample.size, f"big {name}: histogram total {counts.sum()} vs {sample.size}")
    # each positive bucket holds [lo, hi), each negative one (lo, hi]; zero has its own
    pos, neg = sample[sample > 0], sample[sample < 0]
    want = np.zeros(len(counts), dtype=np.int64)
    for i in range(len(counts)):
        lo, hi = edges[i], edges[i + 1]
        if lo == 0 and hi == 0:
            want[i] = int((sample == 0).sum())
        elif hi <= 0:
            want[i] = int(((neg > lo) & (neg <= hi)).sum())
        else:
            want[i] = int(((pos >= lo) & (pos < hi)).sum())
    check(np.array_equal(want, counts), f"big {name}: every histogram bucket count matches numpy")


def intermediates_vs_ort(nt, tmp, model_path, inputs):
    ort_run = os.path.join(ROOT, "bench", "ort_run.js")
    if not os.path.isdir(os.path.join(ROOT, "bench", "node_modules", "onnxruntime-node")):
        print("skipped: intermediates vs ONNX Runtime (run scripts/setup.sh --test to install onnxruntime-node)")
        return
    m = onnx.load(model_path)
    have = {o.name for o in m.graph.output}
    for n in m.graph.node:
        for o in n.output:
            if o and o not in have:
                m.graph.output.append(onnx.ValueInfoProto(name=o))
                have.add(o)
    all_out = os.path.join(tmp, "all_outputs.onnx")
    onnx.save(m, all_out)
    args = []
    for f in inputs:
        args += ["-i", f]
    r = run(["node", ort_run, all_out, *args, "-o", os.path.join(tmp, "ort")])
    check(r.returncode == 0, f"ORT run of {os.path.basename(model_path)}")
    rd = os.path.join(tmp, "rd_" + os.path.basename(model_path))
    r = run([nt, "run", model_path, *args, "--trace", "dump", "--run-dir", rd])
    check(r.returncode == 0, f"nntrace dump of {os.path.basename(model_path)}")
    if r.returncode:
        return
    index = json.load(open(os.path.join(rd, "tensors", "index.json")))
    compared = 0
    for e in index["tensors"]:
        ref = os.path.join(tmp, "ort", os.path.basename(e["file"]))
        if not os.path.exists(ref):
            continue
        a = np.load(os.path.join(rd, "tensors", e["file"]))
        b = np.load(ref)
        ok = a.shape == b.shape and (np.allclose(a, b, rtol=1e-3, atol=1e-4) if a.dtype.kind == "f" else np.array_equal(a, b))
        check(ok, f"{os.path.basename(model_path)}: intermediate {e['output']} ({e['node']}) matches ORT")
        compared += 1
    check(compared == len(index["tensors"]), f"{os.path.basename(model_path)}: all {len(index['tensors'])} dumped tensors compared ({compared})")


def main():
    nt = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        stats_vs_dump(nt, tmp)
        filter_patterns(nt, tmp)
        profile_report(nt, tmp)
        big_tensors(nt, tmp)
        big_tensors(nt, tmp, (1, 4, 100, 100), "mid")
        loop_model(nt, tmp)
        intermediates_vs_ort(nt, tmp, os.path.join(DEMO, "model.onnx"), [os.path.join(DEMO, "digit.npy")])
        models = os.environ.get("NT_MODELS")
        if models and os.path.isdir(models):
            for name in ("resnet18", "transformer", "dynamic"):
                p = os.path.join(models, name + ".onnx")
                if os.path.exists(p):
                    sub = os.path.join(tmp, name)
                    os.makedirs(sub)
                    intermediates_vs_ort(nt, sub, p, [os.path.join(models, name + ".input.npy")])
    print(f"trace-check: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
