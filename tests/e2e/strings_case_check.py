#!/usr/bin/python3
"""strings_case_check.py NNTRACE — StringNormalizer's case changes on
non-ASCII text.

Every code point of U+00C0..U+024F (Latin-1 Supplement, Latin Extended-A
and -B) and U+0370..U+052F (Greek, Cyrillic), one a string, plus mixed
words, go through StringNormalizer UPPER and LOWER.  nntrace's output must
equal Unicode's simple case mappings (Python's unicodedata; U+0130 lowers
to 'i') and ONNX Runtime's (onnxruntime-node, locale C.UTF-8, when
installed), whatever the process locale (LC_ALL=C and C.UTF-8 give the same
bytes).  Case-insensitive stopwords match across cases ("привет" is removed
by the stopword "ПРИВЕТ").

Prints "strings-case-check: N passed, N failed"; exits 1 on any failure.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import helper as h, TensorProto as TP

HERE = os.path.dirname(os.path.abspath(__file__))
ORT = os.path.join(HERE, "..", "..", "bench", "node_modules", "onnxruntime-node")
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {what}")


def simple(s, upper):
    out = []
    for ch in s:
        if not upper and ch == "\u0130":
            out.append("i")  # the simple lowercase; Python's lower() gives the full "i\u0307"
            continue
        m = ch.upper() if upper else ch.lower()
        out.append(m if len(m) == 1 else ch)
    return "".join(out)


def model(path, action, stopwords=None, case_sensitive=0):
    kw = {"case_change_action": action, "locale": "C.UTF-8", "is_case_sensitive": case_sensitive}
    if stopwords:
        kw["stopwords"] = stopwords
    g = h.make_graph([h.make_node("StringNormalizer", ["x"], ["y"], **kw)], "g",
                     [h.make_tensor_value_info("x", TP.STRING, [None])],
                     [h.make_tensor_value_info("y", TP.STRING, None)])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 10)])
    m.ir_version = 7
    onnx.save(m, path)


ORT_JS = r"""
const ort = require(process.argv[2]);
(async () => {
  const words = JSON.parse(require('fs').readFileSync(process.argv[4], 'utf8'));
  const s = await ort.InferenceSession.create(process.argv[3]);
  const r = await s.run({x: new ort.Tensor('string', words, [words.length])});
  console.log(JSON.stringify(Array.from(r.y.data)));
})().catch(e => { console.log('ERR ' + e.message); });
"""


def ort_run(tmp, mpath, words):
    if not os.path.isdir(ORT) or not shutil.which("node"):
        return None
    js, wj = os.path.join(tmp, "ort.js"), os.path.join(tmp, "words.json")
    with open(js, "w") as f:
        f.write(ORT_JS)
    with open(wj, "w", encoding="utf-8") as f:
        json.dump(words, f, ensure_ascii=False)
    p = subprocess.run(["node", js, os.path.abspath(ORT), mpath, wj], capture_output=True, text=True)
    return json.loads(p.stdout) if p.stdout.startswith("[") else p.stdout[:300] + p.stderr[-300:]


def nt_run(nt, tmp, mpath, words, lc):
    xp, out = os.path.join(tmp, "x.npy"), os.path.join(tmp, "out_" + lc)
    np.save(xp, np.array(words, dtype=str))
    env = dict(os.environ, LC_ALL=lc, LANG=lc)
    p = subprocess.run([nt, "run", mpath, "-i", xp, "-o", out], capture_output=True, env=env)
    if p.returncode != 0:
        return "exit %d: %s" % (p.returncode, p.stderr[-300:])
    return [str(s) for s in np.load(os.path.join(out, "y.npy")).reshape(-1)]


def main():
    nt = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="nt-strcase-")
    try:
        cps = list(range(0xC0, 0x250)) + list(range(0x370, 0x530))
        words = [chr(c) for c in cps] + ["Ärger Straße ÿ µ", "Ωμέγα ς Ά", "Привет МИР Ёё", "Ђ Ѣѣ Ґґ ı İ ſ",
                                         "mixed ASCII and ÉCOLE", "\u023a\u023e"]
        have_ort = None
        for action in ("UPPER", "LOWER"):
            mp = os.path.join(tmp, action + ".onnx")
            model(mp, action)
            want = [simple(w, action == "UPPER") for w in words]
            got_c = nt_run(nt, tmp, mp, words, "C")
            got_u = nt_run(nt, tmp, mp, words, "C.UTF-8")
            bad = [(words[i], got_c[i], want[i]) for i in range(len(words))
                   if isinstance(got_c, list) and got_c[i] != want[i]] if isinstance(got_c, list) else got_c
            check(isinstance(got_c, list) and not bad, f"{action}: Unicode simple mappings, first misses {bad[:8]}")
            check(got_c == got_u, f"{action}: the same under LC_ALL=C and C.UTF-8")
            ref = ort_run(tmp, mp, words)
            if ref is not None:
                have_ort = True
                bad = ([(words[i], got_c[i], ref[i]) for i in range(len(words)) if got_c[i] != ref[i]]
                       if isinstance(ref, list) and isinstance(got_c, list) else ref)
                check(isinstance(ref, list) and not bad, f"{action}: equal to ONNX Runtime, first misses {bad[:8]}")
        mp = os.path.join(tmp, "stop.onnx")
        model(mp, "NONE", stopwords=["ПРИВЕТ", "ÉCOLE"])
        sw = ["привет", "мир", "école", "École", "straße"]
        got = nt_run(nt, tmp, mp, sw, "C")
        check(got == ["мир", "straße"], f"case-insensitive stopwords across cases: {got}")
        ref = ort_run(tmp, mp, sw)
        if ref is not None:
            check(ref == got, f"stopwords as ONNX Runtime: {ref} vs {got}")
        if not have_ort:
            print("strings-case-check: onnxruntime-node not installed; compared with unicodedata only")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"strings-case-check: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
