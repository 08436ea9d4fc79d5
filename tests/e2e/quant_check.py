#!/usr/bin/env python3
"""quant_check.py NNTRACE [WORKDIR] — quantized graphs bit for bit against ONNX Runtime.

Graphs written with onnx.helper (random data, seeded), run in nntrace and in
ONNX Runtime (CPU, onnxruntime-node) on the same input; the listed outputs
must be equal in every bit:

  dynamic_chain  DynamicQuantizeLinear -> DequantizeLinear -> Add -> Mul ->
                 MaxPool -> Concat -> Resize (linear) -> DynamicQuantizeLinear:
                 the float ops between two quantize steps, every intermediate
  per_axis       DequantizeLinear per channel (axis 1) -> Mul -> QuantizeLinear
  blocked_*      opset 21 blocked DequantizeLinear (block_size 16) of int8,
                 int4 and uint4 weights -> MatMul -> QuantizeLinear ->
                 DequantizeLinear (the requantized result; the float MatMul
                 itself is compared at rtol 1e-4, as its sums may be ordered
                 differently)
  blocked_q      opset 21 blocked QuantizeLinear of activations and back
  avgpool        AveragePool 1-D and 2-D, padded (with and without the pads
                 counted), strided, ceil_mode

Not checked bit for bit, on purpose (see README): Sigmoid and Tanh (ONNX
Runtime evaluates them with its own rational approximations, 1 ulp from
nntrace's), and QDQ around Conv/MatMul (ONNX Runtime fuses those into
integer QLinearConv/QLinearMatMul; nntrace computes the float graph).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto as TP, helper as h, numpy_helper as nh

HERE = os.path.dirname(os.path.abspath(__file__))
INT4, UINT4 = 22, 21   # onnx < 1.16 has no names for them
vi = h.make_tensor_value_info


def save(path, nodes, inputs, outputs, inits, opset=21):
    g = h.make_graph(nodes, 'g', inputs, outputs, inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid('', opset)])
    m.ir_version = 10 if opset >= 21 else 9
    onnx.save(m, path)


def packed4(name, qt, dims, vals):
    """An int4/uint4 initializer: two values a byte, the first in the low nibble."""
    v = np.asarray(vals, np.int64).flatten() & 15
    if v.size % 2:
        v = np.concatenate([v, [0]])
    t = onnx.TensorProto()
    t.name = name
    t.data_type = qt
    t.dims.extend(dims)
    t.raw_data = (v[0::2] | (v[1::2] << 4)).astype(np.uint8).tobytes()
    return t


def qtensor(name, qt, dims, vals):
    if qt in (INT4, UINT4):
        return packed4(name, qt, dims, vals)
    return h.make_tensor(name, qt, dims, np.asarray(vals).flatten().tolist())


def build(work, rng):
    """[(name, model path, input .npy, {output: 'bits' | rtol})]"""
    out = []
    # the float ops between two dynamic quantize steps
    p = os.path.join(work, 'dynamic_chain.onnx')
    inits = [nh.from_array(rng.randn(1, 8, 1, 1).astype(np.float32), 'b'),
             nh.from_array((rng.rand(1, 8, 1, 1) + 0.5).astype(np.float32), 'm'),
             nh.from_array(np.array([], np.float32), 'roi'), nh.from_array(np.array([1, 1, 2, 2], np.float32), 'sc')]
    nodes = [h.make_node('DynamicQuantizeLinear', ['X'], ['q', 's', 'z']),
             h.make_node('DequantizeLinear', ['q', 's', 'z'], ['d']),
             h.make_node('Add', ['d', 'b'], ['a']), h.make_node('Mul', ['a', 'm'], ['mu']),
             h.make_node('MaxPool', ['mu'], ['mp'], kernel_shape=[2, 2], strides=[2, 2]),
             h.make_node('Concat', ['mp', 'mu2'], ['cc'], axis=1),
             h.make_node('AveragePool', ['mu'], ['mu2'], kernel_shape=[2, 2], strides=[2, 2]),
             h.make_node('Resize', ['cc', 'roi', 'sc'], ['rs'], mode='linear'),
             h.make_node('DynamicQuantizeLinear', ['rs'], ['q2', 's2', 'z2'])]
    outs = ['d', 'a', 'mu', 'mp', 'mu2', 'cc', 'rs', 'q2', 's2', 'z2']
    types = {'q2': TP.UINT8, 'z2': TP.UINT8}
    save(p, nodes, [vi('X', TP.FLOAT, [1, 8, 32, 32])], [vi(o, types.get(o, TP.FLOAT), None) for o in outs],
         inits, opset=19)
    x = os.path.join(work, 'x_chain.npy')
    np.save(x, (rng.randn(1, 8, 32, 32) * 2).astype(np.float32))
    out.append(('dynamic_chain', p, x, {o: 'bits' for o in outs}))
    # per-channel dequantize, float op, quantize
    p = os.path.join(work, 'per_axis.onnx')
    wq = rng.randint(-128, 128, size=(1, 16, 6, 6)).astype(np.int8)
    inits = [nh.from_array(wq, 'wq'), nh.from_array((rng.rand(16) * 0.05 + 0.01).astype(np.float32), 'ws'),
             nh.from_array(rng.randint(-5, 5, size=16).astype(np.int8), 'wz'),
             nh.from_array(np.float32(0.07), 'ys'), nh.from_array(np.uint8(121), 'yz')]
    nodes = [h.make_node('DequantizeLinear', ['wq', 'ws', 'wz'], ['wd'], axis=1),
             h.make_node('Mul', ['wd', 'X'], ['m']),
             h.make_node('QuantizeLinear', ['m', 'ys', 'yz'], ['yq'])]
    save(p, nodes, [vi('X', TP.FLOAT, [1, 16, 6, 6])], [vi('wd', TP.FLOAT, None), vi('yq', TP.UINT8, None)], inits)
    x = os.path.join(work, 'x_axis.npy')
    np.save(x, (rng.randn(1, 16, 6, 6) * 2).astype(np.float32))
    out.append(('per_axis', p, x, {'wd': 'bits', 'yq': 'bits'}))
    # blocked dequantize of int8 / int4 / uint4 weights
    x = os.path.join(work, 'x_mm.npy')
    np.save(x, rng.randn(5, 64).astype(np.float32))
    for qt, lo, hi, name in [(TP.INT8, -128, 127, 'blocked_int8'), (INT4, -8, 7, 'blocked_int4'),
                             (UINT4, 0, 15, 'blocked_uint4')]:
        K, N, B = 64, 24, 16
        p = os.path.join(work, name + '.onnx')
        inits = [qtensor('wq', qt, [K, N], rng.randint(lo, hi + 1, size=(K, N))),
                 nh.from_array((rng.rand(K // B, N) * 0.05 + 0.01).astype(np.float32), 'sc'),
                 qtensor('zp', qt, [K // B, N], rng.randint(lo, hi + 1, size=(K // B, N))),
                 nh.from_array(np.float32(0.02), 'ys'), qtensor('yz', qt, [], [8 if qt == UINT4 else 0])]
        nodes = [h.make_node('DequantizeLinear', ['wq', 'sc', 'zp'], ['wd'], axis=0, block_size=B),
                 h.make_node('MatMul', ['X', 'wd'], ['mm']),
                 h.make_node('QuantizeLinear', ['mm', 'ys', 'yz'], ['yq']),
                 h.make_node('DequantizeLinear', ['yq', 'ys', 'yz'], ['Y'])]
        save(p, nodes, [vi('X', TP.FLOAT, [5, K])], [vi('wd', TP.FLOAT, None), vi('mm', TP.FLOAT, None),
                                                     vi('Y', TP.FLOAT, None)], inits)
        out.append((name, p, x, {'wd': 'bits', 'mm': 1e-4, 'Y': 'bits'}))
    # AveragePool: float sums in window order, divided by the count
    p = os.path.join(work, 'avgpool.onnx')
    nodes = [h.make_node('AveragePool', ['X'], ['p3'], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             h.make_node('AveragePool', ['X'], ['p3i'], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                         count_include_pad=1),
             h.make_node('AveragePool', ['X'], ['p3c'], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
             h.make_node('AveragePool', ['X'], ['p5'], kernel_shape=[5, 2], strides=[1, 2], pads=[2, 0, 2, 0]),
             h.make_node('Reshape', ['X', 'shp'], ['x3']),
             h.make_node('AveragePool', ['x3'], ['p1d'], kernel_shape=[7], pads=[3, 3])]
    inits = [nh.from_array(np.array([1, 8, -1], np.int64), 'shp')]
    outs = ['p3', 'p3i', 'p3c', 'p5', 'p1d']
    save(p, nodes, [vi('X', TP.FLOAT, [1, 8, 13, 11])], [vi(o, TP.FLOAT, None) for o in outs], inits)
    xp = os.path.join(work, 'x_pool.npy')
    np.save(xp, (rng.randn(1, 8, 13, 11) * 3).astype(np.float32))
    out.append(('avgpool', p, xp, {o: 'bits' for o in outs}))
    # blocked quantize of activations
    p = os.path.join(work, 'blocked_q.onnx')
    inits = [nh.from_array((rng.rand(5, 4) * 0.05 + 0.01).astype(np.float32), 'sc'),
             nh.from_array(rng.randint(-3, 3, size=(5, 4)).astype(np.int8), 'zp')]
    nodes = [h.make_node('QuantizeLinear', ['X', 'sc', 'zp'], ['q'], axis=1, block_size=16),
             h.make_node('DequantizeLinear', ['q', 'sc', 'zp'], ['Y'], axis=1, block_size=16)]
    save(p, nodes, [vi('X', TP.FLOAT, [5, 64])], [vi('q', TP.INT8, None), vi('Y', TP.FLOAT, None)], inits)
    out.append(('blocked_q', p, x, {'q': 'bits', 'Y': 'bits'}))
    return out


def main():
    nt = sys.argv[1]
    work = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix='quant_check.')
    os.makedirs(work, exist_ok=True)
    cases = build(work, np.random.RandomState(11))
    jobs = [{'model': p, 'inputs': [{'name': 'X', 'file': x}], 'outdir': os.path.join(work, name + '.ort')}
            for name, p, x, _ in cases]
    with open(os.path.join(work, 'jobs.json'), 'w') as fh:
        json.dump(jobs, fh)
    subprocess.run(['node', os.path.join(HERE, 'ort_batch.js'), os.path.join(work, 'jobs.json')], check=True,
                   timeout=300)
    passed = failed = 0
    for name, p, x, outs in cases:
        err = os.path.join(work, name + '.ort', 'error.txt')
        if os.path.exists(err):
            failed += 1
            print('FAIL %s: ONNX Runtime declines: %s' % (name, open(err).read()[:200]))
            continue
        r = subprocess.run([nt, 'run', p, '-i', 'X=' + x, '-o', os.path.join(work, name + '.nt')],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            failed += 1
            print('FAIL %s: nntrace exit %d: %s' % (name, r.returncode, r.stderr.strip()[-300:]))
            continue
        for o, how in outs.items():
            want = np.load(os.path.join(work, name + '.ort', o + '.npy'))
            got = np.load(os.path.join(work, name + '.nt', o + '.npy'))
            if got.shape != want.shape or got.dtype != want.dtype:
                bad = '%s %s, ONNX Runtime %s %s' % (got.dtype, got.shape, want.dtype, want.shape)
            elif how == 'bits':
                n = int((np.atleast_1d(got).view(np.uint8) != np.atleast_1d(want).view(np.uint8)).sum())
                bad = '%d bytes differ' % n if n else None
            else:
                bad = None if np.allclose(got, want, rtol=how, atol=1e-6) else 'beyond rtol %g' % how
            if bad:
                failed += 1
                print('FAIL %s output %s: %s' % (name, o, bad))
            else:
                passed += 1
    print('quant-check: %d passed, %d failed' % (passed, failed))
    if len(sys.argv) <= 2:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
