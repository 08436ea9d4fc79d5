#!/usr/bin/python3
"""eval_check.py NNTRACE — `nntrace eval` against scikit-learn (Debian's
python3-sklearn), on held-out splits of real data sets bundled with it:

1. digits (1797 8x8 images, 10 classes): a multinomial logistic regression
   trained here, exported as ONNX (Gemm -> logits, and Gemm -> Softmax ->
   probs).  Predictions come from numpy; accuracy, confusion matrix (and its
   three normalizations), per-class precision/recall/F1/support, macro and
   weighted averages, the classification_report text (2 and 4 digits) and
   log_loss must match sklearn.  Batch sizes 1, 7 and 32 give the same
   result; CSV labels give the same result; --worst lists numpy's worst.
2. breast_cancer (binary): logistic regression exported with one logit per
   sample, and with a Sigmoid; ROC AUC, average precision, the PR curve,
   log loss and --threshold against sklearn.  With --run-dir: eval.json,
   confusion_matrix.png, and the event file's scalars, image, text and the
   pr_curves tensor (checked against TensorBoard's formula in numpy).
3. diabetes (regression): linear regression; MSE, MAE, RMSE, R2.
4. the demo CNN (examples/demo): logits recomputed in numpy from the ONNX
   weights; metrics against sklearn.
5. errors: a label outside the classes, sizes that differ, no --labels.

Prints "eval-check: N passed, N failed"; exits 1 on any failure.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

try:
    from sklearn import metrics as skm
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.model_selection import train_test_split
except ImportError:
    print("eval-check: needs python3-sklearn (scripts/setup.sh --test)")
    sys.exit(1)

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "..", "examples", "demo")
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {what}")


def close(a, b, tol=1e-9):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and np.allclose(a, b, rtol=tol, atol=tol, equal_nan=True)


def run(args, expect=0):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != expect:
        print(f"exit {r.returncode} (expected {expect}): {' '.join(args)}\n{r.stderr[-2000:]}")
    return r


def eval_json(nt, model, x, y, *extra):
    r = run([nt, "eval", model, "--data", x, "--labels", y, "--json", *extra])
    if r.returncode != 0:
        return None
    return json.loads(r.stdout)


def gemm_model(path, w, b, out_name, post=None, n_in=None):
    """ONNX model: x float[batch, n_in] -> Gemm(x, W^T, b) [-> post op]."""
    n_out, n_in = w.shape
    nodes = [helper.make_node("Gemm", ["x", "W", "B"], ["z" if post else out_name], transB=1)]
    if post == "Softmax":
        nodes.append(helper.make_node("Softmax", ["z"], [out_name], axis=1))
    elif post == "Sigmoid":
        nodes.append(helper.make_node("Sigmoid", ["z"], [out_name]))
    g = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", n_in])],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, ["batch", n_out])],
        [numpy_helper.from_array(w.astype(np.float32), "W"), numpy_helper.from_array(b.astype(np.float32), "B")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.save(m, path)


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def compare_report(res, y, pred, k, what):
    labels = list(range(k))
    check(res is not None, f"{what}: eval ran")
    if res is None:
        return
    check(abs(res["accuracy"] - skm.accuracy_score(y, pred)) < 1e-12, f"{what}: accuracy")
    check(res["confusion"] == skm.confusion_matrix(y, pred, labels=labels).tolist(), f"{what}: confusion matrix")
    p, r, f, s = skm.precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    got = res["per_class"]
    check(close([c["precision"] for c in got], p) and close([c["recall"] for c in got], r) and
          close([c["f1"] for c in got], f) and [c["support"] for c in got] == s.tolist(), f"{what}: per-class")
    for avg in ("macro", "weighted"):
        ap, ar, af, _ = skm.precision_recall_fscore_support(y, pred, labels=labels, average=avg, zero_division=0)
        g = res[avg + "_avg"]
        check(close([g["precision"], g["recall"], g["f1"]], [ap, ar, af]), f"{what}: {avg} average")


def report_text(stdout):
    """The classification report block of eval's text output."""
    lines = stdout.split("\n")
    start = next(i for i, l in enumerate(lines) if "precision" in l and "recall" in l)
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("weighted avg"))
    return "\n".join(lines[start:end + 1]) + "\n"


# ---------------------------------------------------------------- event files

def varint(buf, i):
    v = shift = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return v, i


def fields(buf):
    """(field, wire type, value) of a protobuf message."""
    i, out = 0, []
    while i < len(buf):
        k, i = varint(buf, i)
        f, wt = k >> 3, k & 7
        if wt == 0:
            v, i = varint(buf, i)
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        elif wt == 2:
            n, i = varint(buf, i)
            v, i = buf[i:i + n], i + n
        else:
            raise ValueError("wire type")
        out.append((f, wt, v))
    return out


def read_events(path):
    """Summary values as dicts: tag, step, and simple_value / image / tensor / plugin."""
    data = open(path, "rb").read()
    i, values = 0, []
    while i + 12 <= len(data):
        n = struct.unpack("<Q", data[i:i + 8])[0]
        rec = data[i + 12:i + 12 + n]
        i += 12 + n + 4
        step, summary = 0, None
        for f, wt, v in fields(rec):
            if f == 2:
                step = v
            elif f == 5:
                summary = v
        if summary is None:
            continue
        for f, wt, v in fields(summary):
            if f != 1:
                continue
            d = {"step": step}
            for g, wt2, x in fields(v):
                if g == 1:
                    d["tag"] = x.decode()
                elif g == 2:
                    d["simple_value"] = struct.unpack("<f", x)[0]
                elif g == 4:
                    d["image"] = {h: y for h, _, y in fields(x)}
                elif g == 8:
                    d["tensor"] = fields(x)
                elif g == 9:
                    for h, _, y in fields(x):
                        if h == 1:
                            d["plugin"] = dict((a, b) for a, _, b in fields(y))
            values.append(d)
    return values


def tensor_array(tfields):
    dtype, dims, content = None, [], b""
    for f, wt, v in tfields:
        if f == 1:
            dtype = v
        elif f == 2:
            dims = [dict((a, b) for a, _, b in fields(d))[1] for g, _, d in fields(v) if g == 2]
        elif f == 4:
            content = v
    return dtype, np.frombuffer(content, dtype="<f4").reshape(dims)


def tb_pr_curve(y, p, m=201):
    """TensorBoard's pr_curves tensor by its documented formula."""
    p = np.clip(p, 0, 1)
    th = np.arange(m) / (m - 1)
    b = np.floor(p * (m - 1)).astype(int)
    tp = np.array([((b >= i) & (y == 1)).sum() for i in range(m)], float)
    fp = np.array([((b >= i) & (y == 0)).sum() for i in range(m)], float)
    tn, fn = fp[0] - fp, tp[0] - tp
    return np.stack([tp, fp, tn, fn, tp / np.maximum(1, tp + fp), tp / np.maximum(1, tp + fn)]), th


# ---------------------------------------------------------------- checks

def digits_case(nt, tmp):
    d = load_digits()
    x, y = d.data.astype(np.float32) / 16, d.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    clf = LogisticRegression(max_iter=2000, C=0.05).fit(xtr, ytr)
    w, b = clf.coef_.astype(np.float32), clf.intercept_.astype(np.float32)
    logits_m, probs_m = os.path.join(tmp, "digits_logits.onnx"), os.path.join(tmp, "digits_probs.onnx")
    gemm_model(logits_m, w, b, "logits")
    gemm_model(probs_m, w, b, "probs", post="Softmax")
    xp, yp, yc = os.path.join(tmp, "dx.npy"), os.path.join(tmp, "dy.npy"), os.path.join(tmp, "dy.csv")
    np.save(xp, xte)
    np.save(yp, yte)
    with open(yc, "w") as f:
        f.write("id,label\n" + "".join(f"{i},{v}\n" for i, v in enumerate(yte)))
    logits = xte.astype(np.float64) @ w.T.astype(np.float64) + b
    pred = logits.argmax(1)
    check((pred == clf.predict(xte)).mean() > 0.99, "digits: numpy model agrees with sklearn's predict")
    res = eval_json(nt, logits_m, xp, yp)
    compare_report(res, yte, pred, 10, "digits logits")
    if res:
        check(res["outputs"] == "logits" and res["task"] == "multiclass", "digits: detected logits")
        ll = skm.log_loss(yte, softmax(logits), labels=list(range(10)))
        check(abs(res["loss"] - ll) < 1e-5, f"digits: log loss {res['loss']} vs sklearn {ll}")
        check(res["classes"] == list(range(10)), "digits: classes")
    # batch sizes and CSV labels give identical results
    for extra in (["--batch", "1"], ["--batch", "7"]):
        r2 = eval_json(nt, logits_m, xp, yp, *extra)
        check(r2 is not None and res is not None and r2["confusion"] == res["confusion"] and
              abs(r2["loss"] - res["loss"]) < 1e-6 and r2["runs"] == -(-len(yte) // int(extra[1])),
              f"digits: {' '.join(extra)} same result")
    r3 = eval_json(nt, logits_m, xp, yc)
    check(r3 is not None and res is not None and r3["confusion"] == res["confusion"], "digits: CSV labels")
    # probabilities
    rp = eval_json(nt, probs_m, xp, yp)
    compare_report(rp, yte, pred, 10, "digits probs")
    if rp:
        check(rp["outputs"] == "probs", "digits: detected probabilities")
        ll = skm.log_loss(yte, softmax(logits), labels=list(range(10)))
        check(abs(rp["loss"] - ll) < 1e-5, "digits probs: log loss")
    # normalizations
    for how in ("true", "pred", "all"):
        rn = eval_json(nt, logits_m, xp, yp, "--normalize", how)
        want = skm.confusion_matrix(yte, pred, labels=list(range(10)), normalize=how)
        check(rn is not None and close(rn["confusion_normalized"], want, 1e-12), f"digits: normalize={how}")
    # the report text, as sklearn lays it out
    for digits in (2, 4):
        r = run([nt, "eval", logits_m, "--data", xp, "--labels", yp, "--digits", str(digits)])
        want = skm.classification_report(yte, pred, digits=digits, zero_division=0)
        got = report_text(r.stdout) if r.returncode == 0 else ""
        check(got == want, f"digits: classification_report text, digits={digits}")
        if got != want:
            print("--- nntrace\n" + got + "--- sklearn\n" + want)
    # worst samples
    rw = eval_json(nt, logits_m, xp, yp, "--worst", "5")
    per = -np.log(softmax(logits)[np.arange(len(yte)), yte])
    want = list(np.argsort(-per, kind="stable")[:5])
    check(rw is not None and [s["index"] for s in rw["worst"]] == want and
          close([s["loss"] for s in rw["worst"]], per[want], 1e-4), "digits: --worst 5")
    # classes absent from the labels: micro avg row, zero_division 0 and 1
    few = yte < 8
    np.save(os.path.join(tmp, "fx.npy"), xte[few][:60])
    np.save(os.path.join(tmp, "fy.npy"), yte[few][:60])
    pf = pred[few][:60]
    for zd in ("0", "1"):
        r = run([nt, "eval", logits_m, "--data", os.path.join(tmp, "fx.npy"), "--labels", os.path.join(tmp, "fy.npy"),
                 "--zero-division", zd])
        want = skm.classification_report(yte[few][:60], pf, labels=list(range(10)), zero_division=int(zd))
        got = report_text(r.stdout) if r.returncode == 0 else ""
        check(got == want, f"digits subset with absent classes: report text, zero_division={zd}")
        if got != want:
            print("--- nntrace\n" + got + "--- sklearn\n" + want)


def binary_case(nt, tmp):
    d = load_breast_cancer()
    x, y = d.data, d.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.35, random_state=1, stratify=y)
    mu, sd = xtr.mean(0), xtr.std(0)
    clf = LogisticRegression(max_iter=5000, C=0.1).fit((xtr - mu) / sd, ytr)
    # fold the standardization into the Gemm
    w = (clf.coef_ / sd).astype(np.float32)
    b = (clf.intercept_ - (clf.coef_ / sd) @ mu).astype(np.float32)
    logit_m, prob_m = os.path.join(tmp, "bc_logit.onnx"), os.path.join(tmp, "bc_prob.onnx")
    gemm_model(logit_m, w, b, "logit")
    gemm_model(prob_m, w, b, "prob", post="Sigmoid")
    xp, yp = os.path.join(tmp, "bx.npy"), os.path.join(tmp, "by.npy")
    np.save(xp, xte.astype(np.float32))
    np.save(yp, yte)
    z = xte.astype(np.float32).astype(np.float64) @ w.T.astype(np.float64) + b
    z = z[:, 0]
    p = 1 / (1 + np.exp(-z))
    res = eval_json(nt, logit_m, xp, yp)
    compare_report(res, yte, (p >= 0.5).astype(int), 2, "breast_cancer logit")
    if res:
        check(res["outputs"] == "logits" and res["task"] == "binary", "binary: detected a logit")
        check(abs(res["roc_auc"] - skm.roc_auc_score(yte, z)) < 1e-9, "binary: ROC AUC")
        check(abs(res["average_precision"] - skm.average_precision_score(yte, z)) < 1e-9, "binary: average precision")
        pr, rc, th = skm.precision_recall_curve(yte, p)
        check(close(res["pr_curve"]["precision"], pr, 1e-9) and close(res["pr_curve"]["recall"], rc, 1e-9) and
              close(res["pr_curve"]["thresholds"], th, 1e-5), "binary: PR curve")
        check(abs(res["loss"] - skm.log_loss(yte, p)) < 1e-5, "binary: log loss")
    for t in ("0.3", "0.8"):
        rt = eval_json(nt, logit_m, xp, yp, "--threshold", t)
        check(rt is not None and rt["confusion"] == skm.confusion_matrix(yte, (p >= float(t)).astype(int)).tolist(),
              f"binary: --threshold {t}")
    rp = eval_json(nt, prob_m, xp, yp)
    if rp:
        check(rp["outputs"] == "probs", "binary: detected a probability")
        check(abs(rp["roc_auc"] - skm.roc_auc_score(yte, p)) < 1e-3, "binary (sigmoid output): ROC AUC")
        check(rp["confusion"] == skm.confusion_matrix(yte, (p >= 0.5).astype(int)).tolist(), "binary probs: confusion")
    else:
        check(False, "binary probs: eval ran")
    # run directory
    rd = os.path.join(tmp, "bc_run")
    r = run([nt, "eval", logit_m, "--data", xp, "--labels", yp, "--run-dir", rd, "--json"])
    check(r.returncode == 0, "binary: --run-dir")
    if r.returncode:
        return
    ej = json.load(open(os.path.join(rd, "eval.json")))
    check(ej == json.loads(r.stdout), "binary: eval.json equals the --json output")
    check(os.path.exists(os.path.join(rd, "confusion_matrix.png")) and os.path.exists(os.path.join(rd, "run.json")),
          "binary: confusion_matrix.png and run.json")
    evs = [f for f in os.listdir(rd) if "tfevents" in f]
    check(len(evs) == 1, "binary: one event file")
    if len(evs) != 1:
        return
    vals = read_events(os.path.join(rd, evs[0]))
    by = {v["tag"]: v for v in vals}
    check("eval/accuracy" in by and abs(by["eval/accuracy"]["simple_value"] - res["accuracy"]) < 1e-6,
          "events: eval/accuracy scalar")
    check("eval/roc_auc" in by and "eval/loss" in by, "events: roc_auc and loss scalars")
    img = by.get("eval/confusion_matrix", {}).get("image")
    check(img is not None and img.get(4, b"")[:4] == b"\x89PNG", "events: confusion matrix image (PNG)")
    check(by.get("eval/confusion_matrix_table", {}).get("plugin", {}).get(1) == b"text",
          "events: confusion matrix text table")
    prv = by.get("eval/pr_curve")
    check(prv is not None and prv.get("plugin", {}).get(1) == b"pr_curves", "events: pr_curves plugin")
    if prv:
        content = prv["plugin"].get(2, b"")
        nthr = dict((a, v) for a, _, v in fields(content)).get(2)
        dtype, arr = tensor_array(prv["tensor"])
        want, _ = tb_pr_curve(yte, p)
        check(dtype == 1 and nthr == 201 and arr.shape == (6, 201), "events: pr_curves tensor float [6, 201]")
        check(arr.shape == want.shape and np.allclose(arr, want, atol=1e-6), "events: pr_curves values")


def regression_case(nt, tmp):
    d = load_diabetes()
    x, y = d.data, d.target
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.3, random_state=2)
    reg = LinearRegression().fit(xtr, ytr)
    m = os.path.join(tmp, "diab.onnx")
    gemm_model(m, reg.coef_[None, :].astype(np.float32), np.array([reg.intercept_], np.float32), "y")
    np.save(os.path.join(tmp, "rx.npy"), xte.astype(np.float32))
    np.save(os.path.join(tmp, "ry.npy"), yte.astype(np.float32))
    yhat = xte.astype(np.float32).astype(np.float64) @ reg.coef_.astype(np.float32).astype(np.float64) + \
        np.float32(reg.intercept_)
    yt = yte.astype(np.float32).astype(np.float64)
    res = eval_json(nt, m, os.path.join(tmp, "rx.npy"), os.path.join(tmp, "ry.npy"), "--task", "regression")
    check(res is not None and res["task"] == "regression", "regression: ran")
    if res:
        mse = skm.mean_squared_error(yt, yhat)
        check(abs(res["mse"] - mse) / mse < 1e-5, "regression: MSE")
        check(abs(res["mae"] - skm.mean_absolute_error(yt, yhat)) / res["mae"] < 1e-5, "regression: MAE")
        check(abs(res["rmse"] - np.sqrt(mse)) / res["rmse"] < 1e-5, "regression: RMSE")
        check(abs(res["r2"] - skm.r2_score(yt, yhat)) < 1e-5, "regression: R2")


def conv2d(x, w, b, pad):
    """x (N,C,H,W), w (O,C,kh,kw): cross-correlation as ONNX Conv."""
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(x, w.shape[2:], axis=(2, 3))  # N,C,H,W,kh,kw
    return np.einsum("nchwij,ocij->nohw", win, w) + b[None, :, None, None]


def demo_case(nt, tmp):
    m = onnx.load(os.path.join(DEMO, "model.onnx"))
    ops = [n.op_type for n in m.graph.node]
    if ops != ["Conv", "Relu", "MaxPool", "Conv", "Relu", "GlobalAveragePool", "Flatten", "Gemm"]:
        print(f"demo: unexpected graph {ops}; skipping the numpy recomputation")
        return
    init = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in m.graph.initializer}
    conv = [n for n in m.graph.node if n.op_type == "Conv"]
    gemm = m.graph.node[-1]
    x = np.load(os.path.join(DEMO, "data.npy")).astype(np.float64)
    y = np.load(os.path.join(DEMO, "labels.npy"))
    h = np.maximum(conv2d(x, init[conv[0].input[1]], init[conv[0].input[2]], 1), 0)
    n, c, hh, ww = h.shape
    h = h.reshape(n, c, hh // 2, 2, ww // 2, 2).max(axis=(3, 5))
    h = np.maximum(conv2d(h, init[conv[1].input[1]], init[conv[1].input[2]], 1), 0)
    h = h.mean(axis=(2, 3))
    attrs = {a.name: helper.get_attribute_value(a) for a in gemm.attribute}
    wg = init[gemm.input[1]]
    logits = h @ (wg.T if attrs.get("transB", 0) else wg) + init[gemm.input[2]]
    pred = logits.argmax(1)
    res = eval_json(nt, os.path.join(DEMO, "model.onnx"), os.path.join(DEMO, "data.npy"),
                    os.path.join(DEMO, "labels.npy"))
    compare_report(res, y, pred, 4, "demo CNN")
    if res:
        ll = skm.log_loss(y, softmax(logits), labels=[0, 1, 2, 3])
        check(abs(res["loss"] - ll) < 1e-4, f"demo CNN: log loss {res['loss']} vs {ll}")


def error_cases(nt, tmp):
    x = os.path.join(DEMO, "data.npy")
    bad = os.path.join(tmp, "bad_labels.npy")
    yy = np.load(os.path.join(DEMO, "labels.npy")).copy()
    yy[3] = 7
    np.save(bad, yy)
    r = run([nt, "eval", os.path.join(DEMO, "model.onnx"), "--data", x, "--labels", bad], expect=2)
    check(r.returncode == 2 and "outside" in r.stderr, "error: label outside the classes -> exit 2")
    short = os.path.join(tmp, "short.npy")
    np.save(short, yy[:10])
    r = run([nt, "eval", os.path.join(DEMO, "model.onnx"), "--data", x, "--labels", short], expect=2)
    check(r.returncode == 2, "error: sizes differ -> exit 2")
    r = run([nt, "eval", os.path.join(DEMO, "model.onnx"), "--data", x], expect=1)
    check(r.returncode == 1, "error: no --labels -> exit 1")


def main():
    nt = sys.argv[1] if len(sys.argv) > 1 else "build/nntrace"
    with tempfile.TemporaryDirectory() as tmp:
        for case in (digits_case, binary_case, regression_case, demo_case, error_cases):
            try:
                case(nt, tmp)
            except Exception as e:  # a crash in one case must not hide the others
                check(False, f"{case.__name__} raised {type(e).__name__}: {e}")
    print(f"eval-check: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
