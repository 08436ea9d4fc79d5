#!/usr/bin/python3
"""corrupt_models.py — `nntrace info` on broken model files must fail cleanly.

usage: python3 tests/e2e/corrupt_models.py NNTRACE [--seed N] [--flips N]

Starting from the small seed models in tests/fuzz/corpus/onnx/, runs
`nntrace info --json` (under a 10 s timeout) on:
  - truncations at many offsets (every one of the first 256, then every 3rd),
  - thousands of seeded random mutations (byte flips, bit flips, byte runs),
  - absurd lengths: every length-delimited field's length rewritten to
    4 GB, 2^63 and a 10-byte varint, and one byte too long,
  - an empty file, text, random bytes, a PNG and a .npy header, a directory
    and a missing file.
A run passes when it exits 0 (a mutation that still makes a valid model)
or 2 with a message on stderr; for the inputs that cannot be a model
(empty, text, ...) only exit 2 passes.  A crash (signal, exit >= 128), a
hang, any other exit code, or a silent exit 2 fails.

Prints "corrupt: N passed, N failed" and exits non-zero on any failure.
Standard library only.
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(os.path.dirname(HERE), "fuzz", "corpus", "onnx")


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def read_varint(data, i, end):
    v = shift = 0
    for _ in range(10):
        if i >= end:
            return None, i
        b = data[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i
    return None, i


def len_fields(data, start=0, end=None, depth=0, out=None):
    """(offset of the length varint, its byte size, payload length) of every
    length-delimited field, descending into payloads that parse as messages."""
    if out is None:
        out = []
    end = len(data) if end is None else end
    i = start
    found = []
    while i < end:
        key, j = read_varint(data, i, end)
        if key is None or key >> 3 == 0:
            return False
        wt = key & 7
        if wt == 0:
            v, j = read_varint(data, j, end)
            if v is None:
                return False
        elif wt == 1:
            j += 8
        elif wt == 5:
            j += 4
        elif wt == 2:
            n, k = read_varint(data, j, end)
            if n is None or k + n > end:
                return False
            found.append((j, k - j, n, k))
            j = k + n
        else:
            return False
        if j > end:
            return False
        i = j
    for (off, size, n, payload) in found:
        out.append((off, size, n))
        if depth < 12 and n:
            len_fields(data, payload, payload + n, depth + 1, out)
    return out


class Runner:
    def __init__(self, nntrace, tmp):
        self.nntrace = nntrace
        self.tmp = tmp
        self.passed = 0
        self.failed = 0
        self.count = 0

    def check(self, label, data=None, path=None, must_fail=False):
        if path is None:
            self.count += 1
            path = os.path.join(self.tmp, "m%d.onnx" % (self.count % 4))
            with open(path, "wb") as f:
                f.write(data)
        try:
            r = subprocess.run(["timeout", "10", self.nntrace, "info", "--json", path],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
            code, err = r.returncode, r.stderr.decode("utf-8", "replace").strip()
        except subprocess.TimeoutExpired:
            code, err = 124, ""
        ok = (code == 2 and err) or (code == 0 and not must_fail)
        if ok:
            self.passed += 1
            return
        self.failed += 1
        why = ("hang (timeout)" if code == 124 else "crash (exit %d)" % code if code >= 128
               else "exit %d" % code + ("" if err else " without a message"))
        if self.failed <= 30:
            keep = os.path.join(self.tmp, "..", "corrupt_fail_%d.onnx" % self.failed)
            if data is not None:
                with open(keep, "wb") as f:
                    f.write(data)
            print("FAIL %s: %s%s" % (label, why, (" (input kept in %s)" % os.path.abspath(keep))
                                     if data is not None else ""))


def main():
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 1
    nntrace = os.path.abspath(args[0])
    seed = 1
    flips = 2000
    if "--seed" in args:
        seed = int(args[args.index("--seed") + 1])
    if "--flips" in args:
        flips = int(args[args.index("--flips") + 1])
    seeds = sorted(os.path.join(SEEDS, f) for f in os.listdir(SEEDS) if f.endswith(".onnx"))
    if not seeds:
        print("corrupt: no seed models in %s" % SEEDS)
        return 1
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="nt_corrupt_")
    tmp = os.path.join(work, "m")
    os.mkdir(tmp)
    run = Runner(nntrace, tmp)
    models = [(os.path.basename(p), open(p, "rb").read()) for p in seeds]

    # The seeds themselves load.
    for name, data in models:
        run.check("seed %s" % name, data)

    # Truncation: every offset of the first 256 bytes, then every 3rd.
    for name, data in models:
        for n in list(range(min(len(data), 256))) + list(range(256, len(data), 3)):
            run.check("%s truncated to %d bytes" % (name, n), data[:n], must_fail=(n == 0))

    # Absurd and off-by-one lengths.
    for name, data in models:
        fields = len_fields(data) or []
        for (off, size, n) in fields:
            for new in (0xFFFFFFFF, 1 << 63, (1 << 64) - 1, n + 1):
                mutated = data[:off] + varint(new) + data[off + size:]
                run.check("%s length at %d set to %d" % (name, off, new), mutated)

    # Seeded random mutations.
    for k in range(flips):
        name, data = models[rng.randrange(len(models))]
        b = bytearray(data)
        kind = rng.randrange(4)
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(b))
            if kind == 0:
                b[i] = rng.randrange(256)
            elif kind == 1:
                b[i] ^= 1 << rng.randrange(8)
            elif kind == 2:
                b[i:i + 4] = bytes([0xFF] * 4)
            else:
                del b[i:i + rng.randint(1, 16)]
                if not b:
                    b = bytearray(b"\x00")
        run.check("%s mutation %d (seed %d)" % (name, k, seed), bytes(b))

    # Things that are not models at all.
    run.check("empty file", b"", must_fail=True)
    run.check("text file", b"This is a text file, not an ONNX model.\n" * 20, must_fail=True)
    run.check("random bytes", bytes(rng.randrange(256) for _ in range(4096)), must_fail=True)
    run.check("png header", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64, must_fail=True)
    run.check("npy header", b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, "
              b"'shape': (3,), }" + b" " * 60 + b"\n" + b"\x00" * 12, must_fail=True)
    run.check("a directory", path=work, must_fail=True)
    run.check("a missing file", path=os.path.join(work, "missing.onnx"), must_fail=True)

    shutil.rmtree(tmp, ignore_errors=True)
    if run.failed == 0:
        shutil.rmtree(work, ignore_errors=True)
    print("corrupt: %d passed, %d failed" % (run.passed, run.failed))
    return 1 if run.failed else 0


if __name__ == "__main__":
    sys.exit(main())
