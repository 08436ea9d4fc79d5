#!/usr/bin/python3
"""arity_rows.py — prints the rows of src/exec/arity.c that come from the ONNX
operator schemas (onnx 1.12.0; domains "" and ai.onnx.ml): for every schema
version that is not deprecated, (op, domain, since, min inputs, mask of the
required single inputs among them, min outputs, the same mask), keeping a row
only when its counts differ from the op's previous row, in the table's order.
The rows after those (newer operators, and OptionalHasElement 18) are written
by hand from the ONNX spec.

With --check FILE (the e2e check "arity-rows"): every schema row must stand
in FILE as printed; prints "arity-rows: N passed, N failed" and exits 1 on a
missing row or another onnx version (other schemas, other rows).
"""
import re
import sys

import onnx
from onnx import defs


def mask(params, n):
    m = 0
    for k in range(min(n, len(params))):
        if params[k].option == defs.OpSchema.FormalParameterOption.Single:
            m |= 1 << k
    return m


def rows():
    out = []
    last = {}
    schemas = [s for s in defs.get_all_schemas_with_history() if not s.deprecated and s.domain in ("", "ai.onnx.ml")]
    schemas.sort(key=lambda s: (s.domain != "", s.domain, s.name, s.since_version))
    for s in schemas:
        r = (s.min_input, mask(s.inputs, s.min_input), s.min_output, mask(s.outputs, s.min_output))
        if last.get((s.name, s.domain)) == r:
            continue
        last[(s.name, s.domain)] = r
        out.append((s.name, s.domain, s.since_version) + r)
    return out


def fmt(r):
    return '    {"%s", "%s", %d, %d, 0x%x, %d, 0x%x},' % r


def main():
    got = rows()
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        failed = 0
        if onnx.__version__ != "1.12.0":
            print("FAIL the table was made from onnx 1.12.0's schemas; this is onnx %s" % onnx.__version__)
            failed += 1
        text = open(sys.argv[2]).read()
        have = set(re.findall(r'^    \{"\w+", "[\w.]*", \d+, \d+, 0x[0-9a-f]+, \d+, 0x[0-9a-f]+\},', text, re.M))
        for r in got:
            if fmt(r) not in have:
                print("FAIL not in %s: %s" % (sys.argv[2], fmt(r).strip()))
                failed += 1
        print("arity-rows: %d passed, %d failed" % (len(got) + 1 - failed, failed))
        sys.exit(1 if failed else 0)
    for r in got:
        print(fmt(r))


if __name__ == "__main__":
    main()
