#!/usr/bin/python3
"""report_check.py NNTRACE — `nntrace report` on event files with known
answers:

1. a healthy run written by nntrace's C API (build/examples/train_mlp):
   loss/train and loss/val paired, no warning or error, exit 0; nothing
   written into DIR; -o FILE and --plots DIR write what they name, and an
   unwritable -o or --plots exits 2 naming it;
2. "another program": event files written here with nothing but Python's
   struct module (TFRecord framing, masked CRC32C, hand-encoded protobuf),
   scalars as simple_value and as TF2-style tensors (plugin "scalars"):
   - train_loss / val_loss with an overfitting onset put at a known step;
   - Keras's layout: train/ and validation/ subdirectories with epoch_loss;
   - a loss that becomes NaN at a known step: divergence, exit 3;
   - logged sizes: a tiny validation set and a split that does not match;
   - --train/--val naming tags that no convention pairs;
3. a too-high learning rate (train_mlp --lr 20): oscillation;
4. usage and input errors (no DIR, a DIR without event files), and damaged
   event files (a corrupt record, a cut-off last record) named as damaged.

Prints "report-check: N passed, N failed"; exits 1 on any failure.
"""
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tfevents_writer import scalar_event, version_event  # noqa: E402

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {what}")


def run(args, expect=0):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != expect:
        print(f"exit {r.returncode} (expected {expect}): {' '.join(args)}\n{r.stdout[-1500:]}{r.stderr[-1500:]}")
    return r


# ---------------------------------------------------------------- a writer of our own

def write_events(path, points, style="simple"):
    """points: (step, tag, value); one Event per point."""
    with open(path, "wb") as f:
        f.write(version_event(time.time()))
        for step, tag, v in points:
            f.write(scalar_event(step, tag, v, time.time(), style))


def overfit_curves(onset, n=120, seed=0, sigma=0.03):
    """Training falls all along; validation falls to its best at `onset`, then rises."""
    rng = random.Random(seed)
    tr, va = [], []
    for i in range(n):
        tr.append(2.0 * math.exp(-i / 20) + 0.05 + rng.gauss(0, sigma))
        base = 0.35 + 1.8 * math.exp(-min(i, onset) / 20) + (0.008 * (i - onset) if i > onset else 0)
        va.append(base + rng.gauss(0, sigma))
    return tr, va


def findings(r):
    try:
        return json.loads(r.stdout)["findings"]
    except (ValueError, KeyError):
        return []


def kinds(fs, kind):
    return [f for f in fs if f["kind"] == kind]


# ---------------------------------------------------------------- checks

def healthy_c_run(nt, tmp, build):
    trainer = os.path.join(build, "examples", "train_mlp")
    if not os.path.exists(trainer):
        check(False, f"{trainer} exists (make examples)")
        return
    rd = os.path.join(tmp, "mlp")
    r = subprocess.run([trainer, rd, "--epochs", "200"], capture_output=True, text=True)
    check(r.returncode == 0, "train_mlp ran")
    r = run([nt, "report", rd, "--json"])
    fs = findings(r)
    check(r.returncode == 0, "healthy run: exit 0")
    bad = [f for f in fs if f["severity"] != "info"]
    check(not bad, f"healthy run: no warnings or errors ({[(f['kind'], f['tag']) for f in bad]})")
    pairs = json.loads(r.stdout)["runs"][0]["pairs"] if r.returncode == 0 else []
    check({"train": "loss/train", "val": "loss/val", "kind": "loss"} in pairs, "healthy run: loss/train + loss/val paired")
    check(any(p["val"] == "accuracy/val" for p in pairs), "healthy run: accuracy pair")
    before = sorted(os.listdir(rd))
    run([nt, "report", rd])
    check(sorted(os.listdir(rd)) == before, "report writes nothing into the directory it reads (%r)" %
          sorted(set(os.listdir(rd)) - set(before)))
    rep = os.path.join(tmp, "out", "mlp-report.json")
    plots = os.path.join(tmp, "plots")
    os.makedirs(os.path.dirname(rep))
    r = run([nt, "report", rd, "-o", rep, "--plots", plots])
    saved = json.load(open(rep))["findings"] if os.path.exists(rep) else None
    check(saved is not None and [(f["kind"], f["tag"]) for f in saved] == [(f["kind"], f["tag"]) for f in fs],
          "healthy run: -o FILE holds the same findings")
    svgs = os.listdir(plots) if os.path.isdir(plots) else []
    check(len(svgs) >= 2 and all(open(os.path.join(plots, s)).read().startswith("<svg") for s in svgs),
          "healthy run: --plots DIR holds SVG plots")
    check(sorted(os.listdir(rd)) == before, "-o and --plots elsewhere: still nothing written into the run")
    blocker = os.path.join(tmp, "a-file")
    open(blocker, "w").close()
    r = run([nt, "report", rd, "-o", os.path.join(blocker, "r.json")], expect=2)
    check(r.returncode == 2 and "r.json" in r.stderr, "-o into a path that cannot be written: exit 2 naming it")
    r = run([nt, "report", rd, "--plots", os.path.join(blocker, "plots")], expect=2)
    check(r.returncode == 2 and "plots" in r.stderr, "--plots into a path that cannot be written: exit 2")


def python_overfit(nt, tmp):
    # several onsets and noise seeds, written with simple_value and tensor scalars
    for k, (onset, style) in enumerate([(40, "simple"), (55, "tensor"), (70, "simple"), (62, "tensor")]):
        d = os.path.join(tmp, f"over{k}")
        os.makedirs(d)
        tr, va = overfit_curves(onset, seed=k)
        pts = []
        for i in range(len(tr)):
            step = 100 * (i + 1)
            pts += [(step, "train_loss", tr[i]), (step, "val_loss", va[i])]
        write_events(os.path.join(d, "events.out.tfevents.1700000000.other"), pts, style)
        r = run([nt, "report", d, "--json"])
        fs = kinds(findings(r), "overfitting")
        want = 100 * (onset + 1)
        check(r.returncode == 0, f"overfit {k}: exit 0 (a warning is not an error)")
        check(len(fs) == 1 and fs[0]["tag"] == "val_loss" and fs[0].get("train_tag") == "train_loss",
              f"overfit {k} ({style}): one overfitting finding on val_loss")
        if fs:
            check(abs(fs[0]["step"] - want) <= 100 * 10, f"overfit {k}: onset {fs[0]['step']} near {want}")
        r = run([nt, "report", d, "--json", "--strict", "--no-write"], expect=3)
        check(r.returncode == 3, f"overfit {k}: --strict exits 3 on the warning")
    # the Keras layout: train/ and validation/ runs, same tag
    d = os.path.join(tmp, "keras")
    os.makedirs(os.path.join(d, "train"))
    os.makedirs(os.path.join(d, "validation"))
    tr, va = overfit_curves(50, seed=9)
    write_events(os.path.join(d, "train", "events.out.tfevents.1.a"), [(i, "epoch_loss", v) for i, v in enumerate(tr)])
    write_events(os.path.join(d, "validation", "events.out.tfevents.1.b"),
                 [(i, "epoch_loss", v) for i, v in enumerate(va)], "tensor")
    r = run([nt, "report", d, "--json"])
    fs = kinds(findings(r), "overfitting")
    check(len(fs) == 1 and fs[0]["tag"] == "validation/epoch_loss" and abs(fs[0]["step"] - 50) <= 10,
          f"keras layout: overfitting on validation/epoch_loss near 50 ({[(f['tag'], f['step']) for f in fs]})")
    # a healthy Python-written run: no overfitting
    d = os.path.join(tmp, "healthy_py")
    os.makedirs(d)
    rng = random.Random(3)
    pts = []
    for i in range(150):
        pts += [(i, "loss/training", 1.5 * math.exp(-i / 30) + 0.1 + rng.gauss(0, 0.02)),
                (i, "loss/validation", 1.5 * math.exp(-i / 30) + 0.15 + rng.gauss(0, 0.05))]
    write_events(os.path.join(d, "events.out.tfevents.2.x"), pts)
    r = run([nt, "report", d, "--json"])
    fs = findings(r)
    check(r.returncode == 0 and not [f for f in fs if f["severity"] != "info"],
          f"healthy python run: quiet ({[(f['kind'], f['tag']) for f in fs if f['severity'] != 'info']})")


def python_divergence(nt, tmp):
    d = os.path.join(tmp, "nan")
    os.makedirs(d)
    pts = [(i, "loss", 2 * math.exp(-i / 20) if i < 83 else float("nan")) for i in range(120)]
    write_events(os.path.join(d, "events.out.tfevents.3.x"), pts)
    r = run([nt, "report", d, "--json"], expect=3)
    fs = kinds(findings(r), "divergence")
    check(r.returncode == 3, "NaN loss: exit 3")
    check(len(fs) == 1 and fs[0]["step"] == 83 and fs[0]["severity"] == "error", "NaN loss: divergence at step 83")
    r = run([nt, "report", d], expect=3)
    check("divergence" in r.stdout and "NaN" in r.stdout, "NaN loss: text output names it")
    d = os.path.join(tmp, "explode")
    os.makedirs(d)
    pts = [(i, "train/loss", (2 * math.exp(-i / 10) if i <= 50 else 2 * math.exp(-5) * math.exp((i - 50) / 12)))
           for i in range(120)]
    write_events(os.path.join(d, "events.out.tfevents.4.x"), pts)
    r = run([nt, "report", d, "--json"], expect=3)
    fs = kinds(findings(r), "divergence")
    check(len(fs) == 1 and 40 <= fs[0]["step"] <= 60, "exploding loss: divergence where it turned")


def python_sizes(nt, tmp):
    d = os.path.join(tmp, "sizes")
    os.makedirs(d)
    pts = [(0, "data/train_size", 4800), (0, "data/val_size", 24), (0, "data/validation_split", 0.2)]
    rng = random.Random(5)
    pts += [(i, "loss/train", 1 / (1 + i) + rng.gauss(0, 0.001)) for i in range(60)]
    write_events(os.path.join(d, "events.out.tfevents.5.x"), pts)
    r = run([nt, "report", d, "--json"])
    fs = findings(r)
    check(len(kinds(fs, "small_validation")) == 1, "sizes: tiny validation set")
    check(len(kinds(fs, "split_mismatch")) == 1, "sizes: split does not match the sizes")
    check(len(kinds(fs, "data_sizes")) == 1, "sizes: sizes reported")


def explicit_pair(nt, tmp):
    d = os.path.join(tmp, "explicit")
    os.makedirs(d)
    tr, va = overfit_curves(45, seed=11)
    pts = [(i, "fit/objective", tr[i]) for i in range(len(tr))] + [(i, "holdout/objective", va[i]) for i in range(len(va))]
    write_events(os.path.join(d, "events.out.tfevents.6.x"), pts)
    r = run([nt, "report", d, "--json", "--no-write"])
    check(r.returncode == 0 and not kinds(findings(r), "overfitting"), "unconventional tags: not paired by default")
    r = run([nt, "report", d, "--json", "--no-write", "--train", "fit/objective", "--val", "holdout/objective"])
    fs = kinds(findings(r), "overfitting")
    check(len(fs) == 1 and abs(fs[0]["step"] - 45) <= 10, "--train/--val: overfitting found near 45")
    check(not os.path.exists(os.path.join(d, "report.json")), "--no-write: nothing written")
    r = run([nt, "report", d, "--train", "nope", "--val", "holdout/objective"], expect=1)
    check(r.returncode == 1 and "nope" in r.stderr, "--train with an unknown tag: usage error")


def high_lr(nt, tmp, build):
    trainer = os.path.join(build, "examples", "train_mlp")
    if not os.path.exists(trainer):
        return
    rd = os.path.join(tmp, "mlp_lr")
    subprocess.run([trainer, rd, "--epochs", "100", "--lr", "20"], capture_output=True)
    r = run([nt, "report", rd, "--json"])
    check(len(kinds(findings(r), "oscillation")) >= 1, "learning rate 20: oscillation")


def errors(nt, tmp):
    r = run([nt, "report"], expect=1)
    check(r.returncode == 1, "no DIR: exit 1")
    empty = os.path.join(tmp, "empty")
    os.makedirs(empty)
    r = run([nt, "report", empty], expect=2)
    check(r.returncode == 2 and "no event files" in r.stderr, "no event files: exit 2")
    dmg = os.path.join(tmp, "damaged")
    os.makedirs(dmg)
    tr, va = overfit_curves(45, seed=3)
    path = os.path.join(dmg, "events.out.tfevents.9.x")
    write_events(path, [(i, "loss/train", tr[i]) for i in range(len(tr))])
    data = bytearray(open(path, "rb").read())
    data[200] ^= 0xFF                       # a corrupt record in the middle
    open(path, "wb").write(bytes(data[:-7]))  # and the last record cut off
    r = run([nt, "report", dmg, "--json"])
    dam = json.loads(r.stdout)["runs"][0]["damaged"] if r.returncode == 0 else []
    check("damaged" in r.stderr and "events.out.tfevents.9.x" in r.stderr,
          "a damaged event file is named as damaged on stderr (%r)" % r.stderr.strip()[:200])
    check(len(dam) == 1 and dam[0]["truncated"] and dam[0]["bad_records"] >= 1,
          "the JSON lists the damaged file with its bad records and the cut-off end (%r)" % dam)


def main():
    nt = sys.argv[1] if len(sys.argv) > 1 else "build/nntrace"
    build = os.path.dirname(os.path.abspath(nt))
    with tempfile.TemporaryDirectory() as tmp:
        for case in (lambda: healthy_c_run(nt, tmp, build), lambda: python_overfit(nt, tmp),
                     lambda: python_divergence(nt, tmp), lambda: python_sizes(nt, tmp),
                     lambda: explicit_pair(nt, tmp), lambda: high_lr(nt, tmp, build), lambda: errors(nt, tmp)):
            try:
                case()
            except Exception as e:  # one broken case must not hide the others
                check(False, f"raised {type(e).__name__}: {e}")
    print(f"report-check: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
