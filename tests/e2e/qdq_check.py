#!/usr/bin/env python3
"""qdq_check.py NNTRACE [WORKDIR] — QDQ-format models bit for bit against ONNX Runtime.

The graphs are those ONNX Runtime's quantize_static writes (QDQ format):
DequantizeLinear of uint8/int8 activations and int8 weights (per tensor or
per output channel) and of an int32 bias -> Conv / MatMul -> QuantizeLinear,
chained, with the last value dequantized to float.  ONNX Runtime rewrites
these groups into QLinearConv / QLinearMatMul and requantizes the int32 sums
in float32; nntrace computes them the same way (src/exec/fuse_qdq.c).

Checked, per case:
  - every output equal to ONNX Runtime's in every bit;
  - the same bits with a tracer attached (--trace stats, so the groups run
    member by member) and with NNTRACE_FUSE=0: tracing never changes values;
  - how many quantized values numpy's float path (dequantize, float conv,
    quantize) would get wrong in the one-layer cases (printed; rare by
    nature, it depends on numpy's summation order).
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
vi = h.make_tensor_value_info


def conv_case(rng, name, cin, cout, k, stride, pad, group, per_channel, act=np.uint8, layers=2, hw=(17, 19)):
    """Input float X -> Q -> [DQ -> Conv(+bias) -> Q] * layers -> DQ -> Y."""
    nodes, inits = [], []
    qt = TP.UINT8 if act == np.uint8 else TP.INT8
    lo, hi = (0, 255) if act == np.uint8 else (-128, 127)
    xs = np.float32(0.02 + rng.rand() * 0.01)
    xz = act(rng.randint(lo + 100, hi - 100) if act == np.uint8 else rng.randint(-20, 20))
    inits += [nh.from_array(xs, 'xs'), nh.from_array(np.array(xz, act), 'xz')]
    nodes.append(h.make_node('QuantizeLinear', ['X', 'xs', 'xz'], ['q0']))
    cur, cur_s, cur_z, c = 'q0', 'xs', 'xz', cin
    x_scale, x_std = float(xs), 1.5
    for L in range(layers):
        p = 'l%d_' % L
        w = rng.randint(-127, 128, size=(cout, c // group, k, k)).astype(np.int8)
        if per_channel:
            ws = (rng.rand(cout) * 0.004 + 0.001).astype(np.float32)
            wz = np.zeros(cout, np.int8)
        else:
            ws, wz = np.float32(0.003), np.int8(0)
        bs = (np.float32(x_scale) * ws).astype(np.float32)
        b = rng.randint(-3000, 3000, size=cout).astype(np.int32)
        # outputs spread over about +-50 steps: few saturate, many round
        ys = np.float32(np.sqrt(c // group * k * k) * x_std * 0.22 / 50)
        yz = act(lo + 128 if act == np.uint8 else 0)
        inits += [nh.from_array(w, p + 'w'), nh.from_array(np.asarray(ws), p + 'ws'),
                  nh.from_array(np.asarray(wz), p + 'wz'), nh.from_array(b, p + 'b'),
                  nh.from_array(np.asarray(bs), p + 'bs'), nh.from_array(np.zeros(np.shape(bs), np.int32), p + 'bz'),
                  nh.from_array(ys, p + 'ys'), nh.from_array(np.array(yz, act), p + 'yz')]
        nodes += [h.make_node('DequantizeLinear', [cur, cur_s, cur_z], [p + 'xd']),
                  h.make_node('DequantizeLinear', [p + 'w', p + 'ws', p + 'wz'], [p + 'wd'], axis=0),
                  h.make_node('DequantizeLinear', [p + 'b', p + 'bs', p + 'bz'], [p + 'bd'], axis=0),
                  h.make_node('Conv', [p + 'xd', p + 'wd', p + 'bd'], [p + 'y'], kernel_shape=[k, k],
                              strides=[stride, stride], pads=[pad] * 4, group=group),
                  h.make_node('QuantizeLinear', [p + 'y', p + 'ys', p + 'yz'], [p + 'q'])]
        cur, cur_s, cur_z, c = p + 'q', p + 'ys', p + 'yz', cout
        x_scale, x_std = float(ys), float(ys) * 50
    nodes.append(h.make_node('DequantizeLinear', [cur, cur_s, cur_z], ['Y']))
    g = h.make_graph(nodes, name, [vi('X', TP.FLOAT, [1, cin, hw[0], hw[1]])], [vi('Y', TP.FLOAT, None)], inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid('', 13)])
    m.ir_version = 7
    return m, (rng.randn(1, cin, hw[0], hw[1]) * 1.5).astype(np.float32)


def matmul_case(rng, name, per_column):
    K, N = 96, 40
    w = rng.randint(-127, 128, size=(K, N)).astype(np.int8)
    ws = (rng.rand(N) * 0.004 + 0.001).astype(np.float32) if per_column else np.float32(0.003)
    inits = [nh.from_array(np.float32(0.03), 'xs'), nh.from_array(np.uint8(120), 'xz'),
             nh.from_array(w, 'w'), nh.from_array(np.asarray(ws), 'ws'),
             nh.from_array(np.zeros(np.shape(ws), np.int8), 'wz'),
             nh.from_array(np.float32(0.04), 'ys'), nh.from_array(np.uint8(128), 'yz')]
    nodes = [h.make_node('QuantizeLinear', ['X', 'xs', 'xz'], ['q0']),
             h.make_node('DequantizeLinear', ['q0', 'xs', 'xz'], ['xd']),
             h.make_node('DequantizeLinear', ['w', 'ws', 'wz'], ['wd'], axis=1),
             h.make_node('MatMul', ['xd', 'wd'], ['y']),
             h.make_node('QuantizeLinear', ['y', 'ys', 'yz'], ['q1']),
             h.make_node('DequantizeLinear', ['q1', 'ys', 'yz'], ['Y'])]
    g = h.make_graph(nodes, name, [vi('X', TP.FLOAT, [2, 33, K])], [vi('Y', TP.FLOAT, None)], inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid('', 13)])
    m.ir_version = 7
    return m, (rng.randn(2, 33, K) * 1.2).astype(np.float32)


def float_path(m, x):
    """The float graph in numpy (float32 convolution of dequantized values,
    then quantize), for the first conv layer's quantized output."""
    inits = {i.name: nh.to_array(i) for i in m.graph.initializer}
    xs, xz = inits['xs'], inits['xz'].astype(np.int32)
    q = np.clip(np.rint(x / xs) + xz, 0, 255).astype(np.float32)
    xd = ((q - xz) * xs).astype(np.float32)
    w = (inits['l0_w'].astype(np.float32) * inits['l0_ws'].reshape(-1, 1, 1, 1)).astype(np.float32)
    b = (inits['l0_b'] * inits['l0_bs']).astype(np.float32)
    conv = [n for n in m.graph.node if n.op_type == 'Conv'][0]
    at = {a.name: h.get_attribute_value(a) for a in conv.attribute}
    k, s, p = at['kernel_shape'][0], at['strides'][0], at['pads'][0]
    xp = np.pad(xd[0], ((0, 0), (p, p), (p, p)))
    C, H, W = xp.shape
    OH, OW = (H - k) // s + 1, (W - k) // s + 1
    cols = np.stack([xp[:, i:i + s * OH:s, j:j + s * OW:s] for i in range(k) for j in range(k)], 1)
    y = np.einsum('mck,ckhw->mhw', w.reshape(w.shape[0], C, k * k), cols.astype(np.float32)) + b[:, None, None]
    return np.clip(np.rint(y.astype(np.float32) / inits['l0_ys']) + inits['l0_yz'].astype(np.int32), 0, 255)


def main():
    nt = sys.argv[1]
    work = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix='qdq_check.')
    os.makedirs(work, exist_ok=True)
    rng = np.random.RandomState(5)
    cases = [('conv3x3', conv_case(rng, 'conv3x3', 16, 24, 3, 1, 1, 1, False)),
             ('conv3x3_pc', conv_case(rng, 'conv3x3_pc', 16, 24, 3, 1, 1, 1, True)),
             ('conv_s2', conv_case(rng, 'conv_s2', 8, 16, 3, 2, 1, 1, True, layers=1)),
             ('conv1x1', conv_case(rng, 'conv1x1', 32, 48, 1, 1, 0, 1, True)),
             ('conv5x5', conv_case(rng, 'conv5x5', 96, 96, 5, 1, 2, 1, False, layers=1, hw=(24, 24))),
             ('depthwise', conv_case(rng, 'depthwise', 24, 24, 3, 1, 1, 24, True)),
             ('conv_int8', conv_case(rng, 'conv_int8', 16, 16, 3, 1, 1, 1, True, act=np.int8)),
             ('matmul', matmul_case(rng, 'matmul', False)),
             ('matmul_pc', matmul_case(rng, 'matmul_pc', True))]
    jobs = []
    for name, (m, x) in cases:
        onnx.save(m, os.path.join(work, name + '.onnx'))
        np.save(os.path.join(work, name + '.x.npy'), x)
        jobs.append({'model': os.path.join(work, name + '.onnx'),
                     'inputs': [{'name': 'X', 'file': os.path.join(work, name + '.x.npy')}],
                     'outdir': os.path.join(work, name + '.ort')})
    with open(os.path.join(work, 'jobs.json'), 'w') as fh:
        json.dump(jobs, fh)
    subprocess.run(['node', os.path.join(HERE, 'ort_batch.js'), os.path.join(work, 'jobs.json')], check=True,
                   timeout=300)
    passed = failed = 0
    float_differs = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print('FAIL ' + what)

    for name, (m, x) in cases:
        model, xf = os.path.join(work, name + '.onnx'), os.path.join(work, name + '.x.npy')
        err = os.path.join(work, name + '.ort', 'error.txt')
        if os.path.exists(err):
            check(False, '%s: ONNX Runtime declines: %s' % (name, open(err).read()[:200]))
            continue
        want = np.load(os.path.join(work, name + '.ort', 'Y.npy'))
        runs = {'plain': ([], {}), 'traced': (['--trace', 'stats', '--run-dir', os.path.join(work, name + '.rd')], {}),
                'unfused': ([], {'NNTRACE_FUSE': '0'})}
        for kind, (extra, env) in runs.items():
            out = os.path.join(work, '%s.%s' % (name, kind))
            r = subprocess.run([nt, 'run', model, '-i', 'X=' + xf, '-o', out] + extra, capture_output=True,
                               text=True, timeout=120, env=dict(os.environ, **env))
            if r.returncode != 0:
                check(False, '%s (%s): nntrace exit %d: %s' % (name, kind, r.returncode, r.stderr.strip()[-300:]))
                continue
            got = np.load(os.path.join(out, 'Y.npy'))
            n = int((got.view(np.uint8) != want.view(np.uint8)).sum()) if got.shape == want.shape else -1
            check(n == 0, '%s (%s): %s' % (name, kind, 'shape %s vs %s' % (got.shape, want.shape) if n < 0
                                            else '%d bytes differ from ONNX Runtime' % n))
        if 'l0_w' in {i.name for i in m.graph.initializer} and 'l1_w' not in {i.name for i in m.graph.initializer}:
            # one uint8 conv layer: ONNX Runtime's quantized values, read back from Y
            inits = {i.name: nh.to_array(i) for i in m.graph.initializer}
            q_ort = np.rint(want / inits['l0_ys']) + inits['l0_yz'].astype(np.int32)
            float_differs += int((float_path(m, x)[None] != q_ort).sum())
    print('qdq-check: the float path differs from ONNX Runtime in %d quantized values' % float_differs)
    if float_differs == 0:  # depends on numpy's summation order: a warning, not a failure
        print('qdq-check: warning: the float path equals ONNX Runtime everywhere here, so these graphs do not '
              'tell integer from float requantization')
    print('qdq-check: %d passed, %d failed' % (passed, failed))
    if len(sys.argv) <= 2:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
