"""vad_model.py — a voice-activity detector built the way Silero VAD v5 exports
(written with onnx.helper, random weights, fixed seed; Silero's own model is
not downloaded): hundreds of tiny nodes around a small network, for
measuring per-node dispatch cost (`make bench`, issue 12 item 5).

  inputs   input (1, 512) float audio chunk, state (2, 1, 128) float LSTM
           state, sr () int64 sample rate
  outputs  output (1, 1) speech probability, stateN (2, 1, 128)

An If on sr == 16000 picks a 16 kHz or an 8 kHz body (the 8 kHz one takes
the first 256 samples, with its own weights).  Each body: a reflect Pad, an
STFT as a strided Conv1d (real and imaginary halves sliced off and turned
into a magnitude), four Conv1d+ReLU encoder blocks, an LSTM step whose
state comes from and goes back to `state`, then ReLU, a 1x1 Conv1d, Sigmoid
and a mean over time.  Around them, as the exporter leaves them: shape
arithmetic on every tensor (Shape/Gather/Unsqueeze/Concat/Reshape, Slice
with computed ends) and twelve If guards per body choosing on a scalar
(rank checks, length checks) with one- to three-node branches: 25 If nodes
in all.
"""
import numpy as np
from onnx import TensorProto, helper, numpy_helper

F, I64, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL


class Body:
    """Collects the nodes and initializers of one graph, naming values
    uniquely (prefix + counter)."""

    def __init__(self, prefix, rng):
        self.prefix, self.rng, self.nodes, self.inits, self.n = prefix, rng, [], [], 0

    def name(self, hint):
        self.n += 1
        return f"{self.prefix}{hint}_{self.n}"

    def op(self, op_type, inputs, n_out=1, **attrs):
        outs = [self.name(op_type.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=self.name("n_" + op_type), **attrs))
        return outs[0] if n_out == 1 else outs

    def const(self, value, dtype=np.int64):
        name = self.name("c")
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype), name))
        return name

    def weight(self, shape, scale):
        return self.const(self.rng.standard_normal(shape) * scale, np.float32)

    def dim(self, x, axis):
        """Gather(Shape(x), axis) unsqueezed to a 1-element vector."""
        return self.op("Unsqueeze", [self.op("Gather", [self.op("Shape", [x]), self.const(axis)], axis=0),
                                     self.const([0])])

    def reshape_same(self, x, rank):
        """x reshaped to its own shape, read dimension by dimension (the
        exporter's view/reshape of dynamic shapes)."""
        return self.op("Reshape", [x, self.op("Concat", [self.dim(x, a) for a in range(rank)], axis=0)])

    def guard(self, x, cond_of, then_fn, else_fn):
        """If(cond_of(x)) with one-graph branches then_fn(body, x) and
        else_fn(body, x) that read x from the outer scope."""
        cond = cond_of(x)
        branches = []
        for tag, fn in (("then", then_fn), ("else", else_fn)):
            sub = Body(self.name(tag) + "_", self.rng)
            y = fn(sub, x)
            out = helper.make_tensor_value_info(y, F, None)
            branches.append(helper.make_graph(sub.nodes, sub.prefix + "g", [], [out], sub.inits))
        return self.op("If", [cond], then_branch=branches[0], else_branch=branches[1])

    def rank_is(self, rank):
        return lambda x: self.op("Equal", [self.op("Size", [self.op("Shape", [x])]), self.const(rank)])

    def dim_at_least(self, axis, n):
        return lambda x: self.op("Not", [self.op("Less", [self.op("Gather", [self.op("Shape", [x]),
                                                                              self.const(axis)], axis=0),
                                                         self.const(n)])])


def identity(b, x):
    return b.op("Identity", [x])


def vad_body(b, samples, state, sr_tag):
    """The detector for one sample rate; returns (output, stateN) names."""
    n = 512 if sr_tag == 16 else 256
    nfft, hop, pad = (256, 128, 64) if sr_tag == 16 else (128, 64, 32)
    # rank guard (x.dim() == 1 -> unsqueeze), then the chunk of n samples
    x = b.guard(samples, b.rank_is(1), lambda s, v: s.op("Unsqueeze", [v, s.const([0])]), identity)
    x = b.op("Slice", [x, b.const([0]), b.const([n]), b.const([1])])
    x = b.guard(x, b.dim_at_least(1, n), identity,
                lambda s, v: s.op("Pad", [v, s.const([0, 0, 0, n])]))
    x = b.reshape_same(x, 2)
    # STFT: reflect pad, strided Conv1d with 2*(nfft/2+1) filters, magnitude
    x3 = b.op("Unsqueeze", [x, b.const([1])])
    x3 = b.op("Pad", [x3, b.const([0, 0, pad, 0, 0, pad])], mode="reflect")
    bins = nfft // 2 + 1
    spec = b.op("Conv", [x3, b.weight((2 * bins, 1, nfft), 0.05)], strides=[hop])
    half = b.op("Div", [b.dim(spec, 1), b.const([2])])
    re = b.op("Slice", [spec, b.const([0]), half, b.const([1])])
    im = b.op("Slice", [spec, half, b.dim(spec, 1), b.const([1])])
    h = b.op("Sqrt", [b.op("Add", [b.op("Mul", [re, re]), b.op("Mul", [im, im])])])
    h = b.guard(h, b.rank_is(3), identity, lambda s, v: s.op("Unsqueeze", [v, s.const([0])]))
    # encoder: Conv1d(k3) + ReLU blocks, each behind a length guard
    chans = [bins, 128, 64, 64, 128]
    strides = [1, 2, 2, 1]
    for i in range(4):
        w = b.weight((chans[i + 1], chans[i], 3), 1.0 / np.sqrt(3 * chans[i]))
        bias = b.weight((chans[i + 1],), 0.1)
        h = b.reshape_same(h, 3)
        h = b.guard(h, b.dim_at_least(2, 1),
                    lambda s, v, w=w, bias=bias, st=strides[i]: s.op("Relu", [s.op("Conv", [v, w, bias], pads=[1, 1],
                                                                                    kernel_shape=[3], strides=[st])]),
                    identity)
        if i % 2 == 0:
            h = b.guard(h, b.rank_is(3), identity, lambda s, v: s.op("Unsqueeze", [v, s.const([0])]))
    # decoder: one LSTM step from the incoming state
    t_len = b.dim(h, 2)
    feat = b.op("Transpose", [h], perm=[2, 0, 1])  # (T, 1, 128)
    h0 = b.op("Unsqueeze", [b.op("Gather", [state, b.const(0)], axis=0), b.const([0])])
    c0 = b.op("Unsqueeze", [b.op("Gather", [state, b.const(1)], axis=0), b.const([0])])
    h0 = b.guard(h0, b.rank_is(3), identity, lambda s, v: s.op("Unsqueeze", [v, s.const([0])]))
    c0 = b.guard(c0, b.rank_is(3), identity, lambda s, v: s.op("Unsqueeze", [v, s.const([0])]))
    y, yh, yc = b.op("LSTM", [feat, b.weight((1, 512, 128), 0.08), b.weight((1, 512, 128), 0.08),
                              b.weight((1, 1024), 0.1), "", h0, c0], n_out=3, hidden_size=128)
    state_n = b.op("Concat", [yh, yc], axis=0)
    # head: ReLU, 1x1 Conv1d, Sigmoid, mean over time
    dec = b.op("Relu", [b.op("Squeeze", [y, b.const([1])])])  # (T, 1, 128)
    dec = b.op("Transpose", [dec], perm=[1, 2, 0])  # (1, 128, T)
    dec = b.reshape_same(dec, 3)
    logit = b.op("Conv", [dec, b.weight((1, 128, 1), 0.1), b.weight((1,), 0.1)])
    prob = b.op("Sigmoid", [logit])
    shp = b.op("Concat", [b.dim(prob, 0), b.dim(prob, 1), t_len], axis=0)
    prob = b.op("Reshape", [prob, shp])
    out = b.op("ReduceMean", [prob], axes=[2], keepdims=0)
    out = b.guard(out, b.rank_is(2), identity, lambda s, v: s.op("Unsqueeze", [v, s.const([0])]))
    return b.op("Identity", [out]), b.op("Identity", [state_n])


def make_vad(seed=0):
    rng = np.random.default_rng(seed)
    top = Body("", rng)
    branches = []
    for tag in (16, 8):
        sub = Body(f"sr{tag}_", rng)
        out, st = vad_body(sub, "input", "state", tag)
        outs = [helper.make_tensor_value_info(out, F, None), helper.make_tensor_value_info(st, F, None)]
        branches.append(helper.make_graph(sub.nodes, f"sr{tag}", [], outs, sub.inits))
    is16 = top.op("Equal", ["sr", top.const(16000)])
    top.nodes.append(helper.make_node("If", [is16], ["output", "stateN"], name="sr_switch",
                                      then_branch=branches[0], else_branch=branches[1]))
    graph = helper.make_graph(top.nodes, "vad_like",
                              [helper.make_tensor_value_info("input", F, [1, 512]),
                               helper.make_tensor_value_info("state", F, [2, 1, 128]),
                               helper.make_tensor_value_info("sr", I64, [])],
                              [helper.make_tensor_value_info("output", F, [1, 1]),
                               helper.make_tensor_value_info("stateN", F, [2, 1, 128])], top.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)])
    model.ir_version = 8
    inputs = [rng.standard_normal((1, 512)).astype(np.float32) * 0.3,
              rng.standard_normal((2, 1, 128)).astype(np.float32) * 0.5, np.array(16000, np.int64)]
    return model, inputs


def count_nodes(graph):
    """Every node of graph and of its subgraphs, recursively."""
    n = 0
    for node in graph.node:
        n += 1
        for a in node.attribute:
            if a.type == 5:  # GRAPH
                n += count_nodes(a.g)
    return n
