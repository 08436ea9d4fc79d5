#!/usr/bin/env python3
"""qdq_check.py NNTRACE [WORKDIR] — QDQ-format models bit for bit against ONNX Runtime.

The graphs are those ONNX Runtime's quantize_static writes (QDQ format):
DequantizeLinear of uint8/int8 activations and int8 weights (per tensor or
per output channel) and of an int32 bias -> Conv / MatMul -> QuantizeLinear,
chained, with the last value dequantized to float.  ONNX Runtime rewrites
these groups into QLinearConv / QLinearMatMul and requantizes the int32 sums
in float32; nntrace computes them the same way (src/exec/fuse_qdq.c).

Also a residual block (Conv, Relu, Add, GlobalAveragePool, Gemm) in QDQ format
and ONNX Runtime's com.microsoft QLinearAdd / QLinearMul / QLinearConcat /
QLinearSigmoid / QLinearLeakyRelu / QLinearGlobalAveragePool / QGemm (QOperator
format).  Checked, per case:
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


def ms_case(rng, name):
    """ONNX Runtime's com.microsoft QLinearAdd (same shapes, a broadcast row,
    a scalar), QLinearMul, QLinearConcat (one input copied, one requantized),
    QLinearSigmoid, QLinearLeakyRelu, QLinearGlobalAveragePool and QGemm (quantized and float output, transB,
    per-column B) on uint8 activations, as its QOperator format writes them."""
    def q(n, v, t=np.uint8):
        return nh.from_array(np.asarray(v, t), n)
    inits = [q('xs', np.float32(0.031), np.float32), q('xz', 121), q('ys', np.float32(0.047), np.float32), q('yz', 7),
             q('bs_', np.float32(0.019), np.float32), q('bz_', 200),
             q('sgs', np.float32(1 / 255.0), np.float32), q('sgz', 0),
             nh.from_array(rng.randint(0, 256, size=(1, 8, 1, 5)).astype(np.uint8), 'row'),
             nh.from_array(np.array(77, np.uint8), 'one'),
             nh.from_array(rng.randint(-127, 128, size=(10, 40)).astype(np.int8), 'w'),
             nh.from_array(rng.randint(-127, 128, size=(10, 40)).astype(np.int8), 'w2'),
             nh.from_array((rng.rand(10) * 0.01 + 0.002).astype(np.float32), 'wsc'),
             nh.from_array(np.zeros(10, np.int8), 'wz'),
             nh.from_array(rng.randint(-5000, 5000, size=10).astype(np.int32), 'bias'),
             ]
    ms = 'com.microsoft'
    nodes = [h.make_node('QuantizeLinear', ['X', 'xs', 'xz'], ['xq']),
             h.make_node('QuantizeLinear', ['X2', 'xs', 'xz'], ['flat']),
             h.make_node('QLinearAdd', ['xq', 'xs', 'xz', 'xq', 'xs', 'xz', 'ys', 'yz'], ['add_same'], domain=ms),
             h.make_node('QLinearAdd', ['xq', 'xs', 'xz', 'row', 'bs_', 'bz_', 'ys', 'yz'], ['add_row'], domain=ms),
             h.make_node('QLinearAdd', ['one', 'bs_', 'bz_', 'xq', 'xs', 'xz', 'ys', 'yz'], ['add_one'], domain=ms),
             h.make_node('QLinearGlobalAveragePool', ['xq', 'xs', 'xz', 'ys', 'yz'], ['gap'], domain=ms),
             h.make_node('QLinearMul', ['xq', 'xs', 'xz', 'row', 'bs_', 'bz_', 'ys', 'yz'], ['mul_row'], domain=ms),
             h.make_node('QLinearSigmoid', ['xq', 'xs', 'xz', 'sgs', 'sgz'], ['sig'], domain=ms),
             h.make_node('QLinearLeakyRelu', ['xq', 'xs', 'xz', 'ys', 'yz'], ['lrelu'], domain=ms, alpha=0.1),
             h.make_node('QLinearConcat', ['ys', 'yz', 'xq', 'xs', 'xz', 'add_same', 'ys', 'yz'], ['cat'], domain=ms,
                         axis=1),
             h.make_node('QGemm', ['flat', 'xs', 'xz', 'w', 'wsc', 'wz', 'bias', 'ys', 'yz'], ['gemm_q'], domain=ms,
                         transB=1, alpha=0.75),
             h.make_node('QGemm', ['flat', 'xs', 'xz', 'w2', 'wsc', 'wz', 'bias'], ['gemm_f'], domain=ms, transB=1)]
    outs = [('add_same', TP.UINT8), ('add_row', TP.UINT8), ('add_one', TP.UINT8), ('gap', TP.UINT8),
            ('mul_row', TP.UINT8), ('cat', TP.UINT8), ('sig', TP.UINT8), ('lrelu', TP.UINT8),
            ('gemm_q', TP.UINT8), ('gemm_f', TP.FLOAT)]
    g = h.make_graph(nodes, name, [vi('X', TP.FLOAT, [4, 8, 1, 5]), vi('X2', TP.FLOAT, [4, 40])],
                     [vi(o, t, None) for o, t in outs], inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid('', 13), h.make_opsetid(ms, 1)])
    m.ir_version = 7
    return m, [(rng.randn(4, 8, 1, 5) * 2).astype(np.float32), (rng.randn(4, 40) * 2).astype(np.float32)]


def qdq_block_case(rng, name):
    """A residual block in QDQ format with uint8 activations, the way
    quantize_static writes a ResNet: DQ -> Conv -> Q twice, DQ + DQ -> Add -> Q,
    DQ -> GlobalAveragePool -> Q, DQ -> Flatten, DQ -> Gemm (int32 bias) -> Q -> DQ;
    the first Conv has a Relu before its QuantizeLinear (zero point 0)."""
    C, H = 16, 9
    inits, nodes = [], []

    def add(n, v):
        inits.append(nh.from_array(np.asarray(v), n))

    add('xs', np.float32(0.03)), add('xz', np.uint8(128))
    nodes.append(h.make_node('QuantizeLinear', ['X', 'xs', 'xz'], ['q0']))
    cur, cs = 'q0', 'xs'
    for L in range(2):
        p = 'c%d_' % L
        add(p + 'w', rng.randint(-127, 128, size=(C, C, 3, 3)).astype(np.int8))
        add(p + 'ws', (rng.rand(C) * 0.004 + 0.001).astype(np.float32)), add(p + 'wz', np.zeros(C, np.int8))
        add(p + 'b', rng.randint(-2000, 2000, size=C).astype(np.int32))
        add(p + 'bs', (np.float32(0.03 if L == 0 else 0.05) * nh.to_array(inits[-3])).astype(np.float32))
        add(p + 'bz', np.zeros(C, np.int32))
        add(p + 'ys', np.float32(0.05)), add(p + 'yz', np.uint8(0 if L == 0 else 128))
        nodes += [h.make_node('DequantizeLinear', [cur, cs, 'xz' if L == 0 else 'c0_yz'], [p + 'xd']),
                  h.make_node('DequantizeLinear', [p + 'w', p + 'ws', p + 'wz'], [p + 'wd'], axis=0),
                  h.make_node('DequantizeLinear', [p + 'b', p + 'bs', p + 'bz'], [p + 'bd'], axis=0),
                  h.make_node('Conv', [p + 'xd', p + 'wd', p + 'bd'], [p + 'y0' if L == 0 else p + 'y'],
                              kernel_shape=[3, 3], pads=[1] * 4),
                  h.make_node('QuantizeLinear', [p + 'y', p + 'ys', p + 'yz'], [p + 'q'])]
        if L == 0:  # Conv -> Relu -> QuantizeLinear with zero point 0: the Relu is redundant
            nodes.append(h.make_node('Relu', [p + 'y0'], [p + 'y']))
        cur, cs = p + 'q', p + 'ys'
    add('as', np.float32(0.06)), add('az', np.uint8(0))
    nodes += [h.make_node('DequantizeLinear', ['c1_q', 'c1_ys', 'c1_yz'], ['r1']),
              h.make_node('DequantizeLinear', ['q0', 'xs', 'xz'], ['r0']),
              h.make_node('Add', ['r1', 'r0'], ['sum']),
              h.make_node('QuantizeLinear', ['sum', 'as', 'az'], ['sq']),
              h.make_node('DequantizeLinear', ['sq', 'as', 'az'], ['sd']),
              h.make_node('GlobalAveragePool', ['sd'], ['gp']),
              h.make_node('QuantizeLinear', ['gp', 'as', 'az'], ['gq']),
              h.make_node('DequantizeLinear', ['gq', 'as', 'az'], ['gd']),
              h.make_node('Flatten', ['gd'], ['fl'])]
    add('fw', rng.randint(-127, 128, size=(10, C)).astype(np.int8)), add('fws', np.float32(0.004))
    add('fwz', np.int8(0)), add('fb', rng.randint(-900, 900, size=10).astype(np.int32))
    add('fbs', np.float32(0.06 * 0.004)), add('fbz', np.int32(0)), add('os', np.float32(0.02)), add('oz', np.uint8(100))
    nodes += [h.make_node('QuantizeLinear', ['fl', 'as', 'az'], ['flq']),
              h.make_node('DequantizeLinear', ['flq', 'as', 'az'], ['fld']),
              h.make_node('DequantizeLinear', ['fw', 'fws', 'fwz'], ['fwd']),
              h.make_node('DequantizeLinear', ['fb', 'fbs', 'fbz'], ['fbd']),
              h.make_node('Gemm', ['fld', 'fwd', 'fbd'], ['logit'], transB=1),
              h.make_node('QuantizeLinear', ['logit', 'os', 'oz'], ['lq']),
              h.make_node('DequantizeLinear', ['lq', 'os', 'oz'], ['Y'])]
    g = h.make_graph(nodes, name, [vi('X', TP.FLOAT, [1, C, H, H])], [vi('Y', TP.FLOAT, None)], inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid('', 13)])
    m.ir_version = 7
    return m, (rng.randn(1, C, H, H) * 1.5).astype(np.float32)


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
             ('residual_block', qdq_block_case(rng, 'residual_block')),
             ('ms_ops', ms_case(rng, 'ms_ops')),
             ('matmul', matmul_case(rng, 'matmul', False)),
             ('matmul_pc', matmul_case(rng, 'matmul_pc', True))]
    jobs = []
    for name, (m, x) in cases:
        onnx.save(m, os.path.join(work, name + '.onnx'))
        xs = x if isinstance(x, list) else [x]
        names = ['X', 'X2'][:len(xs)]
        for k, xv in enumerate(xs):
            np.save(os.path.join(work, '%s.x%d.npy' % (name, k)), xv)
        jobs.append({'model': os.path.join(work, name + '.onnx'),
                     'inputs': [{'name': nm, 'file': os.path.join(work, '%s.x%d.npy' % (name, k))}
                                for k, nm in enumerate(names)],
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
        model = os.path.join(work, name + '.onnx')
        bind = []
        for k, nm in enumerate(['X', 'X2'][:len(x) if isinstance(x, list) else 1]):
            bind += ['-i', '%s=%s' % (nm, os.path.join(work, '%s.x%d.npy' % (name, k)))]
        err = os.path.join(work, name + '.ort', 'error.txt')
        if os.path.exists(err):
            check(False, '%s: ONNX Runtime declines: %s' % (name, open(err).read()[:200]))
            continue
        outs = sorted(f for f in os.listdir(os.path.join(work, name + '.ort')) if f.endswith('.npy'))
        runs = {'plain': ([], {}), 'traced': (['--trace', 'stats', '--run-dir', os.path.join(work, name + '.rd')], {}),
                'unfused': ([], {'NNTRACE_FUSE': '0'})}
        for kind, (extra, env) in runs.items():
            out = os.path.join(work, '%s.%s' % (name, kind))
            r = subprocess.run([nt, 'run', model] + bind + ['-o', out] + extra, capture_output=True,
                               text=True, timeout=120, env=dict(os.environ, **env))
            if r.returncode != 0:
                check(False, '%s (%s): nntrace exit %d: %s' % (name, kind, r.returncode, r.stderr.strip()[-300:]))
                continue
            for f in outs:
                want = np.load(os.path.join(work, name + '.ort', f))
                got = np.load(os.path.join(out, f))
                n = int((got.view(np.uint8) != want.view(np.uint8)).sum()) if got.shape == want.shape else -1
                check(n == 0, '%s %s (%s): %s' % (name, f, kind, 'shape %s vs %s' % (got.shape, want.shape) if n < 0
                                                   else '%d bytes differ from ONNX Runtime' % n))
        if 'l0_w' in {i.name for i in m.graph.initializer} and 'l1_w' not in {i.name for i in m.graph.initializer}:
            # one uint8 conv layer: ONNX Runtime's quantized values, read back from Y
            inits = {i.name: nh.to_array(i) for i in m.graph.initializer}
            want = np.load(os.path.join(work, name + '.ort', 'Y.npy'))
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
