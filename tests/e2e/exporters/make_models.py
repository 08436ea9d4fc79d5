#!/usr/bin/python3
"""make_models.py OUTDIR — ONNX models in the idioms of exporters other than PyTorch.

Only PyTorch can be installed here, so these are written by hand with the onnx
helper API, reproducing what tf2onnx (TensorFlow/Keras), keras2onnx and older
converters, and paddle2onnx emit: NHWC layouts with Transposes around every
Conv, SAME padding made explicit, folded batch norms, int32 shape arithmetic,
Loop/If with outer-scope captures, attribute forms of old opsets (Upsample,
Pad-2, Slice-1, Clip-6, Softmax coerced to 2-D), unfolded BN, Hardswish as
HardSigmoid*Mul, TopK/Gather/NonZero post-processing, symbolic dims of every
kind, and weights kept in external data files.

Writes OUTDIR/<model>.onnx, the inputs as OUTDIR/<case>.<k>.npy and
OUTDIR/manifest.json: {"cases": [{"name", "model", "inputs": [[input, file]]}]}.
A model may have several cases (e.g. an If taken both ways).  Random data is
seeded, so two runs write the same files.
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

IR_FOR_OPSET = {9: 4, 10: 5, 11: 6, 12: 7, 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8}
F, I64, I32, BOOL = TensorProto.FLOAT, TensorProto.INT64, TensorProto.INT32, TensorProto.BOOL
I64MAX = np.iinfo(np.int64).max


class Graph:
    """Collects nodes, initializers and value infos of one (sub)graph."""

    def __init__(self, name, prefix=""):
        self.name = name
        self.prefix = prefix
        self.nodes, self.inits, self.inputs, self.outputs = [], [], [], []
        self.count = 0
        self.used = set()

    def fresh(self, hint):
        self.count += 1
        return "%s%s_%d" % (self.prefix, hint, self.count)

    def const(self, arr, name=None, dtype=None):
        arr = np.asarray(arr, dtype=dtype)
        name = name or self.fresh("const")
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def const_node(self, arr, dtype=None):
        """A Constant node (paddle2onnx and tf2onnx both emit some)."""
        out = self.fresh("Constant")
        t = numpy_helper.from_array(np.asarray(arr, dtype=dtype), out + "_value")
        self.nodes.append(helper.make_node("Constant", [], [out], value=t, name=out))
        return out

    def op(self, op_type, inputs, n_out=1, name=None, outputs=None, **attrs):
        """Appends a node; its outputs are named after `name` (a fresh one
        when None) unless given.  name="" leaves the node unnamed."""
        base = name if name and name not in self.used else self.fresh(op_type)
        self.used.add(base)
        name = base if name is None else name
        outs = outputs or ["%s:%d" % (base, i) for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=name, **attrs))
        return outs[0] if len(outs) == 1 else outs

    def inp(self, name, elem, shape):
        self.inputs.append(helper.make_tensor_value_info(name, elem, shape))
        return name

    def out(self, name, elem, shape):
        self.outputs.append(helper.make_tensor_value_info(name, elem, shape))
        return name

    def graph(self, inits_as_inputs=False):
        inputs = list(self.inputs)
        if inits_as_inputs:  # IR 3: every initializer is also a graph input
            inputs += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
                       for t in self.inits]
        return helper.make_graph(self.nodes, self.name, inputs, self.outputs, self.inits)


def fill_output_shapes(m):
    """Exporters write a shape on most graph outputs: take the ones left
    unset (None) from onnx shape inference, as converters do.  False when
    some output's rank is unknown even to shape inference (then the onnx
    checker, which wants a shape on every output, cannot be used)."""
    todo = [o for o in m.graph.output if not o.type.tensor_type.HasField("shape")]
    if not todo:
        return True
    inferred = onnx.shape_inference.infer_shapes(m)
    known = {v.name: v for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    for o in todo:
        v = known.get(o.name)
        if v is not None and v.type.tensor_type.HasField("shape"):
            o.type.tensor_type.shape.CopyFrom(v.type.tensor_type.shape)
        else:
            return False
    return True


class Maker:
    """Writes models, their inputs and the manifest into one directory."""

    def __init__(self, outdir):
        self.outdir = outdir
        self.rng = np.random.default_rng(20240611)
        self.cases = []

    def rand(self, *shape, scale=1.0):
        return (self.rng.standard_normal(shape) * scale).astype(np.float32)

    def save(self, g, name, opset, producer, inits_as_inputs=False, ir=None, extra_opsets=(),
             external=None, check=True):
        m = helper.make_model(g.graph(inits_as_inputs), producer_name=producer[0],
                              producer_version=producer[1],
                              opset_imports=[helper.make_opsetid("", opset)] + list(extra_opsets))
        m.ir_version = ir or IR_FOR_OPSET[opset]
        if opset <= 17:  # this onnx (1.12) knows opsets up to 17
            if check and fill_output_shapes(m):
                onnx.checker.check_model(m)
        path = os.path.join(self.outdir, name + ".onnx")
        if external:
            onnx.save_model(m, path, save_as_external_data=True, **external)
        else:
            onnx.save_model(m, path)
        return name + ".onnx"

    def case(self, name, model, feeds, ort_model=None, known=None):
        """One run: `model` in nntrace, `ort_model` (an equivalent model, when
        ONNX Runtime rejects a valid idiom of `model`) or `model` in ONNX
        Runtime.  `known` names an nntrace limitation tracked elsewhere: the
        checker reports the case without counting it as a failure."""
        files = []
        for k, (iname, arr) in enumerate(feeds):
            f = "%s.%d.npy" % (name, k)
            np.save(os.path.join(self.outdir, f), arr)
            files.append([iname, f])
        c = {"name": name, "model": model, "inputs": files}
        if ort_model:
            c["ort_model"] = ort_model
        if known:
            c["known"] = known
        self.cases.append(c)

    def finish(self):
        with open(os.path.join(self.outdir, "manifest.json"), "w") as f:
            json.dump({"cases": self.cases}, f, indent=1)


# ---------------------------------------------------------------- tf2onnx

TF = ("tf2onnx", "1.9.3 1190aa")


def unsq(g, x, axes, opset):
    if opset >= 13:
        return g.op("Unsqueeze", [x, g.const(axes, dtype=np.int64)])
    return g.op("Unsqueeze", [x], axes=axes)


def sq(g, x, axes, opset):
    if opset >= 13:
        return g.op("Squeeze", [x, g.const(axes, dtype=np.int64)])
    return g.op("Squeeze", [x], axes=axes)


def clip(g, x, lo, hi, opset):
    if opset >= 11:
        return g.op("Clip", [x, g.const(np.float32(lo)), g.const(np.float32(hi))])
    return g.op("Clip", [x], min=lo, max=hi)


def tf_cnn(mk, opset):
    """Keras CNN via tf2onnx, transpose optimizer off: NHWC input, Transpose
    pairs around every Conv and pool, SAME pads made explicit (asymmetric),
    FusedBatchNorm folded into Mul/Add, Relu6 as Clip, Identity nodes."""
    g = Graph("tf2onnx")
    x = g.inp("input_1:0", F, ["unk__123", 32, 32, 3])
    t = g.op("Transpose", [x], perm=[0, 3, 1, 2], name="model/conv2d/Conv2D__6")
    # 32 -> 16 with k3 s2: SAME pads 0 before, 1 after
    t = g.op("Conv", [t, g.const(mk.rand(8, 3, 3, 3, scale=0.3)), g.const(mk.rand(8, scale=0.1))],
             kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1], dilations=[1, 1], group=1)
    t = g.op("Mul", [t, g.const(np.abs(mk.rand(8, 1, 1)) + 0.5)])
    t = g.op("Add", [t, g.const(mk.rand(8, 1, 1, scale=0.1))])
    t = clip(g, t, 0.0, 6.0, opset)
    t = g.op("Transpose", [t], perm=[0, 2, 3, 1])
    t = g.op("Identity", [t])
    t = g.op("Transpose", [t], perm=[0, 3, 1, 2])
    # depthwise 3x3, dilation 2 (atrous), SAME
    t = g.op("Conv", [t, g.const(mk.rand(8, 1, 3, 3, scale=0.3))], kernel_shape=[3, 3],
             pads=[2, 2, 2, 2], dilations=[2, 2], group=8, strides=[1, 1])
    t = g.op("Relu", [t])
    # MaxPool SAME, 16 -> 8, k3 s2: pads 0/1
    t = g.op("MaxPool", [t], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1])
    pooled = g.op("Transpose", [t], perm=[0, 2, 3, 1])
    g.op("Identity", [pooled], outputs=["pool:0"])
    t = g.op("Transpose", [pooled], perm=[0, 3, 1, 2])
    if opset >= 10:
        # AveragePool SAME on 8 with k3 s1: TF excludes the padding from the count
        t = g.op("AveragePool", [t], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1],
                 count_include_pad=0)
    t = g.op("Transpose", [t], perm=[0, 2, 3, 1])
    if opset >= 13:
        s = g.op("ReduceSum", [t, g.const([1, 2], dtype=np.int64)], keepdims=1)
        t = g.op("Mul", [s, g.const(np.float32(1 / 64))])
    else:
        t = g.op("ReduceMean", [t], axes=[1, 2], keepdims=1)
    t = sq(g, t, [1, 2], opset)
    t = g.op("MatMul", [t, g.const(mk.rand(8, 10, scale=0.5))])
    t = g.op("Add", [t, g.const(mk.rand(10, scale=0.1))])
    t = g.op("Softmax", [t], axis=-1 if opset >= 11 else 1)
    g.op("Identity", [t], outputs=["Identity:0"])
    g.out("Identity:0", F, ["unk__123", 10])
    g.out("pool:0", F, ["unk__123", 8, 8, 8])
    name = "tf_cnn_nhwc_op%d" % opset
    model = mk.save(g, name, opset, TF)
    mk.case(name, model, [("input_1:0", mk.rand(2, 32, 32, 3))])


def tf_shape_arith(mk, opset):
    """tf.shape gives int32; tf2onnx casts Shape's int64 to int32, does the
    arithmetic in int32, and casts back to int64 for Reshape."""
    g = Graph("tf2onnx")
    x = g.inp("x:0", F, ["unk__1", "unk__2", 6])
    shp = g.op("Cast", [g.op("Shape", [x])], to=I32)
    b = g.op("Gather", [shp, g.const(np.int64(0))], axis=0)  # scalar
    s = g.op("Gather", [shp, g.const(np.int64(1))], axis=0)
    s6 = g.op("Mul", [s, g.const(np.int32(6))])
    new = g.op("Concat", [unsq(g, b, [0], opset), unsq(g, s6, [0], opset)], axis=0)
    flat = g.op("Reshape", [x, g.op("Cast", [new], to=I64)])
    g.op("Identity", [flat], outputs=["flat:0"])
    # Shape -> Slice -> Concat -> Reshape: [b, s, 2, 3]
    shp64 = g.op("Shape", [x])
    if opset >= 10:
        head = g.op("Slice", [shp64, g.const([0], dtype=np.int64), g.const([2], dtype=np.int64),
                              g.const([0], dtype=np.int64)])
    else:
        head = g.op("Slice", [shp64], starts=[0], ends=[2], axes=[0])
    r = g.op("Reshape", [x, g.op("Concat", [head, g.const([2, 3], dtype=np.int64)], axis=0)])
    r = g.op("Transpose", [r], perm=[0, 2, 1, 3])
    # [b, 2, s*3] computed in int32, with a floor division by 2
    half = g.op("Div", [s6, g.const(np.int32(2))])
    tail = g.op("Concat", [unsq(g, b, [0], opset), g.const([2], dtype=np.int32),
                           unsq(g, half, [0], opset)], axis=0)
    r = g.op("Reshape", [r, g.op("Cast", [tail], to=I64)])
    # positional term: tf.range(s) in int32, cast to float
    if opset >= 11:
        pos = g.op("Range", [g.const(np.int32(0)), s, g.const(np.int32(1))])
        pos = g.op("Cast", [pos], to=F)
        pos = unsq(g, pos, [0, 2], opset)
        r2 = g.op("Add", [x, pos])
    else:
        r2 = g.op("Add", [x, g.const(np.float32(1))])
    g.op("Identity", [r], outputs=["regroup:0"])
    g.op("Identity", [r2], outputs=["pos:0"])
    g.op("Identity", [g.op("Shape", [r])], outputs=["shape:0"])
    g.out("flat:0", F, ["unk__1", "unk__3"])
    g.out("regroup:0", F, ["unk__1", 2, "unk__4"])
    g.out("pos:0", F, ["unk__1", "unk__2", 6])
    g.out("shape:0", I64, [3])
    name = "tf_shape_arith_op%d" % opset
    model = mk.save(g, name, opset, TF)
    mk.case(name, model, [("x:0", mk.rand(3, 5, 6))])


def tf_strided_slice(mk, opset):
    """tf.strided_slice via Slice-10+: huge ends, negative starts, step -1
    (tf.reverse), shrink_axis as Squeeze, ends from a Shape computation."""
    g = Graph("tf2onnx")
    x = g.inp("x:0", F, ["unk__10", 7, 9])
    c = lambda v: g.const(v, dtype=np.int64)  # noqa: E731
    a = g.op("Slice", [x, c([1, -6]), c([I64MAX, I64MAX]), c([1, 2]), c([2, 3])])
    rev = g.op("Slice", [x, c([-1]), c([-I64MAX]), c([2]), c([-1])])
    rev2 = g.op("Slice", [x, c([6, 8]), c([-I64MAX - 1, 0]), c([1, 2]), c([-2, -3])])
    dim1 = g.op("Gather", [g.op("Shape", [x]), c([1])], axis=0)
    end = g.op("Sub", [dim1, c([1])])
    mid = g.op("Slice", [x, c([1]), end, c([1])])
    shrink = sq(g, g.op("Slice", [x, c([2]), c([3]), c([1])]), [1], opset)
    clamp = g.op("Slice", [x, c([-100, 2]), c([100, 2147483647]), c([1, 2])])
    b = "unk__10"
    for o, n, shp in zip([a, rev, rev2, mid, shrink, clamp],
                         ["a", "rev", "rev2", "mid", "shrink", "clamp"],
                         [[b, 6, 6], [b, 7, 9], [b, 4, 3], [b, "unk__11", 9], [b, 9], [b, 7, 7]]):
        g.op("Identity", [o], outputs=[n + ":0"])
        g.out(n + ":0", F, shp)
    name = "tf_strided_slice_op%d" % opset
    model = mk.save(g, name, opset, TF)
    mk.case(name, model, [("x:0", mk.rand(2, 7, 9))])


def loop_body(mk, opset, with_m):
    """while i < limit: acc = acc * w + x; scan out sum(acc) and acc.
    x, w and limit come from the outer scope."""
    b = Graph("while_body", prefix="body/")
    b.inp("i_iter", I64, [])
    b.inp("cond_in", BOOL, [])
    i = b.inp("i_in", I32, [])
    acc = b.inp("acc_in", F, ["unk__5", 4])
    acc2 = b.op("Add", [b.op("Mul", [acc, "w_outer:0"]), "x:0"])
    acc2 = b.op("Identity", [acc2], outputs=["body/acc_out"])
    i2 = b.op("Add", [i, b.const(np.int32(1))], outputs=["body/i_out"])
    # use the iteration number too (int64 -> float)
    it = b.op("Cast", [b.op("Identity", ["i_iter"])], to=F)
    cnd = b.op("Less", [i2, "limit:0"]) if with_m else \
        b.op("Less", [b.op("ReduceSum", [acc2], keepdims=0), b.const(np.float32(40.0))])
    cnd = b.op("Identity", [cnd], outputs=["body/cond_out"])
    s = b.op("Add", [b.op("ReduceSum", [acc2], keepdims=0), it], outputs=["body/scan_sum"])
    b.op("Identity", [acc2], outputs=["body/scan_acc"])
    b.out("body/cond_out", BOOL, [])
    b.out("body/i_out", I32, [])
    b.out("body/acc_out", F, ["unk__5", 4])
    b.out("body/scan_sum", F, [])
    b.out("body/scan_acc", F, ["unk__5", 4])
    del s
    return b.graph()


def tf_loop(mk, opset, with_m):
    """tf.while_loop as Loop: trip count INT64_MAX (or absent) with a cond
    input, loop-carried int32 counter and tensor, two scan outputs, and
    outer-scope captures in the body."""
    g = Graph("tf2onnx")
    x = g.inp("x:0", F, ["unk__5", 4])
    g.const(np.float32(0.9), name="w_outer:0")
    # limit = batch + 3, in int32 as TF computes it
    bsz = g.op("Gather", [g.op("Cast", [g.op("Shape", [x])], to=I32), g.const(np.int64(0))], axis=0)
    g.op("Add", [bsz, g.const(np.int32(3))], outputs=["limit:0"])
    i0 = g.const(np.int32(0))
    cond0 = g.op("Less", [i0, "limit:0"]) if with_m else g.const(np.bool_(True))
    acc0 = g.op("Mul", [x, g.const(np.float32(0.0))])
    m = g.const(np.int64(I64MAX)) if with_m else ""
    outs = ["i_final:0", "acc_final:0", "sums:0", "accs:0"]
    g.op("Loop", [m, cond0, i0, acc0], outputs=outs, body=loop_body(mk, opset, with_m),
         name="while/LoopCond")
    g.out("i_final:0", I32, [])
    g.out("acc_final:0", F, ["unk__5", 4])
    g.out("sums:0", F, ["unk__6"])
    g.out("accs:0", F, ["unk__6", "unk__5", 4])
    name = "tf_loop_%s_op%d" % ("trip_cond" if with_m else "cond_only", opset)
    model = mk.save(g, name, opset, TF)
    mk.case(name, model, [("x:0", mk.rand(2, 4) * 0.5 + 1.0)])


def tf_if(mk, opset):
    """tf.cond as If: both branches read outer-scope values (the input, an
    initializer, a value computed outside); the then-branch holds a nested If;
    the else-branch has a Loop-free chain ending in Identity."""
    g = Graph("tf2onnx")
    x = g.inp("x:0", F, ["unk__7", 5])
    w = g.const(mk.rand(5, 5, scale=0.4), name="cond/W:0")
    g.op("Add", [x, g.const(np.float32(1.0))], outputs=["outer_sum:0"])
    pred = g.op("Greater", [g.op("ReduceMean", [x], keepdims=0), g.const(np.float32(0.0))])

    inner_t = Graph("inner_then", prefix="cond/inner_t/")
    inner_t.op("Mul", ["outer_sum:0", "x:0"], outputs=["cond/inner_t/y"])
    inner_t.out("cond/inner_t/y", F, ["unk__7", 5])
    inner_e = Graph("inner_else", prefix="cond/inner_e/")
    inner_e.op("Sub", ["outer_sum:0", "x:0"], outputs=["cond/inner_e/y"])
    inner_e.out("cond/inner_e/y", F, ["unk__7", 5])

    then = Graph("then_branch", prefix="cond/then/")
    mm = then.op("MatMul", [x, w])
    p2 = then.op("Greater", [then.op("ReduceMax", [mm], keepdims=0), then.const(np.float32(0.5))])
    nested = then.op("If", [p2], outputs=["cond/then/nested"], then_branch=inner_t.graph(),
                     else_branch=inner_e.graph())
    then.op("Identity", [then.op("Add", [mm, nested])], outputs=["cond/then/out"])
    then.out("cond/then/out", F, ["unk__7", 5])
    els = Graph("else_branch", prefix="cond/else/")
    e = els.op("Sub", [els.op("Mul", [x, els.const(np.float32(2.0))]), "outer_sum:0"])
    els.op("Identity", [e], outputs=["cond/else/out"])
    els.out("cond/else/out", F, ["unk__7", 5])
    g.op("If", [pred], outputs=["cond/Merge:0"], then_branch=then.graph(), else_branch=els.graph())
    g.out("cond/Merge:0", F, ["unk__7", 5])
    name = "tf_if_outer_op%d" % opset
    model = mk.save(g, name, opset, TF)
    mk.case(name + "_then", model, [("x:0", mk.rand(3, 5) + 0.8)])
    mk.case(name + "_else", model, [("x:0", mk.rand(3, 5) - 0.8)])


def tf_resize(mk, opset):
    """tf.image.resize in its flavours, sizes computed from Shape in NCHW
    (after the layout Transpose); at opset 11 roi and scales are empty
    initializers, at 13 they are omitted."""
    g = Graph("tf2onnx")
    x = g.inp("images:0", F, ["unk__8", 6, 8, 3])
    t = g.op("Transpose", [x], perm=[0, 3, 1, 2])
    shp = g.op("Shape", [t])
    nc = g.op("Slice", [shp, g.const([0], dtype=np.int64), g.const([2], dtype=np.int64)])
    hw = g.op("Slice", [shp, g.const([2], dtype=np.int64), g.const([4], dtype=np.int64)])
    up = g.op("Cast", [g.op("Mul", [g.op("Cast", [hw], to=F), g.const(np.float32(1.5))])], to=I64)
    sizes_up = g.op("Concat", [nc, up], axis=0)
    sizes_dn = g.op("Concat", [nc, g.const([4, 5], dtype=np.int64)], axis=0)
    if opset >= 13:
        roi, scales = "", ""
    else:
        roi = g.const(np.zeros(0, np.float32))
        scales = g.const(np.zeros(0, np.float32))
    flavours = [
        ("nearest_tf1", sizes_up, dict(mode="nearest", coordinate_transformation_mode="asymmetric",
                                       nearest_mode="floor")),
        ("nearest_hp", sizes_up, dict(mode="nearest", coordinate_transformation_mode="tf_half_pixel_for_nn"
                                      if opset < 13 else "half_pixel", nearest_mode="round_prefer_ceil")),
        ("bilinear_tf2", sizes_up, dict(mode="linear", coordinate_transformation_mode="half_pixel")),
        ("bilinear_ac", sizes_up, dict(mode="linear", coordinate_transformation_mode="align_corners")),
        ("bilinear_tf1", sizes_dn, dict(mode="linear", coordinate_transformation_mode="asymmetric")),
        ("bicubic", sizes_up, dict(mode="cubic", cubic_coeff_a=-0.5, exclude_outside=1,
                                   coordinate_transformation_mode="half_pixel")),
        ("area_down", sizes_dn, dict(mode="linear", coordinate_transformation_mode="pytorch_half_pixel")),
    ]
    for n, sizes, attrs in flavours:
        r = g.op("Resize", [t, roi, scales, sizes], **attrs)
        g.op("Transpose", [r], perm=[0, 2, 3, 1], outputs=[n + ":0"])
        g.out(n + ":0", F, ["unk__8", None, None, 3])
    name = "tf_resize_sizes_op%d" % opset
    model = mk.save(g, name, opset, TF)
    mk.case(name, model, [("images:0", mk.rand(2, 6, 8, 3))])


def tf_where_mask(mk, opset):
    """Masking as tf2onnx writes it: Greater/Less/Equal -> Where, a sequence
    mask from lengths, ConstantOfShape and Expand; opset 9 forms only."""
    g = Graph("tf2onnx")
    x = g.inp("x:0", F, ["unk__9", 6])
    lens = g.inp("lengths:0", I32, ["unk__9"])
    zeros = g.op("ConstantOfShape", [g.op("Shape", [x])],
                 value=helper.make_tensor("v", F, [1], [0.0]))
    y = g.op("Where", [g.op("Greater", [x, g.const(np.float32(0.25))]), x, zeros])
    g.op("Identity", [y], outputs=["relu_like:0"])
    ar = g.const(np.arange(6, dtype=np.int32).reshape(1, 6))
    lens2 = unsq(g, lens, [1], opset)
    mask = g.op("Less", [ar, lens2])
    big = g.op("Expand", [g.const(np.float32(-1e9)), g.op("Shape", [x])])
    masked = g.op("Where", [mask, x, big])
    g.op("Identity", [g.op("Softmax", [masked], axis=1)], outputs=["masked_softmax:0"])
    eq = g.op("Equal", [lens2, g.const(np.array([[2]], np.int32))])
    eqf = g.op("Where", [eq, g.const(np.float32(1.0)), g.const(np.float32(-1.0))])
    notm = g.op("Cast", [g.op("Not", [mask])], to=F)
    g.op("Add", [notm, eqf], outputs=["notmask:0"])
    tiled = g.op("Tile", [g.op("Cast", [mask], to=I32), g.const([1, 2], dtype=np.int64)])
    g.op("Identity", [tiled], outputs=["tiled:0"])
    g.out("relu_like:0", F, ["unk__9", 6])
    g.out("masked_softmax:0", F, ["unk__9", 6])
    g.out("notmask:0", F, ["unk__9", 6])
    g.out("tiled:0", I32, ["unk__9", 12])
    name = "tf_where_mask_op%d" % opset
    model = mk.save(g, name, opset, TF)
    mk.case(name, model, [("x:0", mk.rand(4, 6)), ("lengths:0", np.array([1, 2, 6, 4], np.int32))])


def tf_gather_scatter(mk):
    """Opset 12 ops tf2onnx emits for tf.gather_nd, tf.tensor_scatter_nd_update,
    tf.one_hot, tf.cumsum, tf.argmax, tf.einsum."""
    opset = 12
    g = Graph("tf2onnx")
    x = g.inp("params:0", F, [4, 5, 3])
    idx = g.inp("indices:0", I64, [6, 2])
    lab = g.inp("labels:0", I32, ["unk__11"])
    g.op("GatherND", [x, idx], outputs=["gnd:0"])
    g.op("GatherND", [x, g.const(np.array([[1], [4], [0], [2]], np.int64))], batch_dims=1,
         outputs=["gnd_b:0"])
    upd = g.const(mk.rand(2, 3))
    g.op("ScatterND", [x, g.const(np.array([[0, 1], [3, 4]], np.int64)), upd], outputs=["snd:0"])
    oh = g.op("OneHot", [lab, g.const(np.int32(7)), g.const(np.array([0.0, 1.0], np.float32))],
              axis=-1)
    g.op("Identity", [oh], outputs=["onehot:0"])
    g.op("CumSum", [x, g.const(np.int32(1))], exclusive=1, reverse=1, outputs=["cumsum:0"])
    g.op("ArgMax", [x], axis=2, keepdims=0, select_last_index=1, outputs=["argmax:0"])
    w = g.const(mk.rand(4, 3, 2))
    g.op("Einsum", [x, w], equation="bij,bjk->bik", outputs=["einsum:0"])
    g.op("GatherElements", [x, g.const(np.random.default_rng(1).integers(0, 5, (4, 2, 3)))],
         axis=1, outputs=["gel:0"])
    for n, et in [("gnd", F), ("gnd_b", F), ("snd", F), ("onehot", F), ("cumsum", F),
                  ("argmax", I64), ("einsum", F), ("gel", F)]:
        g.out(n + ":0", et, None)
    name = "tf_gather_scatter_op12"
    model = mk.save(g, name, opset, TF)
    idxv = np.array([[0, 0], [3, 4], [1, 2], [2, -1], [0, 4], [3, 0]], np.int64)
    idxv[3, 1] = 3
    mk.case(name, model, [("params:0", mk.rand(4, 5, 3)), ("indices:0", idxv),
                          ("labels:0", np.array([0, 6, 3, 3, 1], np.int32))])


def tf_transformer(mk, opset):
    """A Keras encoder block through tf2onnx: LayerNormalization unfolded
    (ReduceMean, Sub, Pow, Sqrt, Div), GELU tanh approximation, 3-D MatMul
    with 2-D weights, multi-head reshapes with dims from Shape, Softmax."""
    g = Graph("tf2onnx")
    d, h = 16, 2
    x = g.inp("input_ids:0", F, ["unk__20", "unk__21", d])

    def ln(v, pfx):
        mu = g.op("ReduceMean", [v], axes=[-1], keepdims=1)
        c = g.op("Sub", [v, mu])
        var = g.op("ReduceMean", [g.op("Pow", [c, g.const(np.float32(2.0))])], axes=[-1], keepdims=1)
        den = g.op("Sqrt", [g.op("Add", [var, g.const(np.float32(1e-3))])])
        y = g.op("Div", [c, den])
        return g.op("Add", [g.op("Mul", [y, g.const(np.abs(mk.rand(d)) + 0.5)]),
                            g.const(mk.rand(d, scale=0.1))])

    shp = g.op("Shape", [x])
    bs = g.op("Slice", [shp, g.const([0], dtype=np.int64), g.const([2], dtype=np.int64)])
    heads = g.op("Concat", [bs, g.const([h, d // h], dtype=np.int64)], axis=0)

    def proj(v):
        p = g.op("Add", [g.op("MatMul", [v, g.const(mk.rand(d, d, scale=0.3))]),
                         g.const(mk.rand(d, scale=0.1))])
        return g.op("Transpose", [g.op("Reshape", [p, heads])], perm=[0, 2, 1, 3])

    q, k, v = proj(x), proj(x), proj(x)
    sc = g.op("Mul", [g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 1, 3, 2])]),
                      g.const(np.float32(1 / np.sqrt(d // h)))])
    att = g.op("Softmax", [sc], axis=-1 if opset >= 13 else 3)
    ctx = g.op("Transpose", [g.op("MatMul", [att, v])], perm=[0, 2, 1, 3])
    ctx = g.op("Reshape", [ctx, g.op("Concat", [bs, g.const([d], dtype=np.int64)], axis=0)])
    x1 = ln(g.op("Add", [x, ctx]), "ln1")
    f = g.op("MatMul", [x1, g.const(mk.rand(d, 32, scale=0.3))])
    inner = g.op("Mul", [g.op("Add", [f, g.op("Mul", [g.op("Pow", [f, g.const(np.float32(3.0))]),
                                                      g.const(np.float32(0.044715))])]),
                         g.const(np.float32(np.sqrt(2 / np.pi)))])
    gelu = g.op("Mul", [g.op("Mul", [f, g.const(np.float32(0.5))]),
                        g.op("Add", [g.op("Tanh", [inner]), g.const(np.float32(1.0))])])
    f2 = g.op("MatMul", [gelu, g.const(mk.rand(32, d, scale=0.3))])
    y = ln(g.op("Add", [x1, f2]), "ln2")
    g.op("Identity", [y], outputs=["Identity:0"])
    g.out("Identity:0", F, ["unk__20", "unk__21", d])
    name = "tf_transformer_op%d" % opset
    model = mk.save(g, name, opset, TF)
    mk.case(name, model, [("input_ids:0", mk.rand(2, 7, d))])


def tf_identity_edges(mk):
    """Graph outputs that are a graph input, an initializer through Identity,
    and an intermediate value also consumed further (tf2onnx keeps such
    Identity-only paths for tf.identity outputs)."""
    g = Graph("tf2onnx")
    x = g.inp("x:0", F, ["unk__30", 3])
    w = g.const(mk.rand(3, 3), name="dense/kernel:0")
    a = g.op("Identity", [x])
    y = g.op("MatMul", [a, w], outputs=["dense/MatMul:0"])
    g.op("Relu", [g.op("Identity", [g.op("Identity", [y])])], outputs=["relu:0"])
    g.op("Identity", [w], outputs=["kernel_out:0"])
    g.out("dense/MatMul:0", F, ["unk__30", 3])
    g.out("relu:0", F, ["unk__30", 3])
    g.out("kernel_out:0", F, [3, 3])
    g.out("x:0", F, ["unk__30", 3])
    name = "tf_identity_edges_op12"
    model = mk.save(g, name, 12, TF)
    mk.case(name, model, [("x:0", mk.rand(4, 3))])


def tf_int32_ops(mk):
    """TF int32 tensors end to end: arithmetic, Gather, Where, reductions,
    ArgMax cast back to int32, int32 Div/Mod with negative values."""
    g = Graph("tf2onnx")
    a = g.inp("a:0", I32, ["unk__40", 5])
    b = g.inp("b:0", I32, ["unk__40", 5])
    g.op("Add", [g.op("Mul", [a, b]), g.const(np.int32(7))], outputs=["muladd:0"])
    g.op("Div", [a, b], outputs=["div:0"])
    g.op("Mod", [a, b], outputs=["mod:0"])
    g.op("Mod", [a, b], fmod=1, outputs=["fmod:0"])
    g.op("ReduceSum", [a, g.const([1], dtype=np.int64)], keepdims=0, outputs=["rsum:0"])
    g.op("ReduceMax", [b], axes=[0], keepdims=1, outputs=["rmax:0"])
    am = g.op("Cast", [g.op("ArgMax", [a], axis=1, keepdims=0)], to=I32)
    g.op("Identity", [am], outputs=["argmax:0"])
    g.op("Gather", [a, g.const(np.array([-1, 0, 2], np.int64)), ], axis=1, outputs=["gather:0"])
    g.op("Where", [g.op("Greater", [a, b]), a, b], outputs=["max:0"])
    g.op("Abs", [g.op("Neg", [a])], outputs=["abs:0"])
    g.op("Cast", [g.op("Div", [g.op("Cast", [a], to=F), g.const(np.float32(3.0))])], to=I32,
         outputs=["cast_trunc:0"])
    outs = [("muladd", I32), ("div", I32), ("mod", I32), ("fmod", I32), ("rsum", I32),
            ("rmax", I32), ("argmax", I32), ("gather", I32), ("max", I32), ("abs", I32),
            ("cast_trunc", I32)]
    for n, et in outs:
        g.out(n + ":0", et, None)
    name = "tf_int32_ops_op13"
    model = mk.save(g, name, 13, TF)
    r = np.random.default_rng(5)
    av = r.integers(-20, 20, (3, 5)).astype(np.int32)
    bv = r.integers(1, 7, (3, 5)).astype(np.int32) * np.where(r.random((3, 5)) < 0.5, -1, 1).astype(np.int32)
    mk.case(name, model, [("a:0", av), ("b:0", bv)])


def tf_qdq(mk):
    """A quantization-aware Keras model through tf2onnx: QuantizeLinear /
    DequantizeLinear pairs on activations (uint8) and per-channel weights
    (int8, axis 0), float Conv and MatMul between them."""
    g = Graph("tf2onnx")
    x = g.inp("input:0", F, ["unk__50", 8, 8, 4])
    t = g.op("Transpose", [x], perm=[0, 3, 1, 2])
    t = g.op("DequantizeLinear", [g.op("QuantizeLinear", [t, g.const(np.float32(0.02)),
                                                         g.const(np.uint8(128))]),
                                  g.const(np.float32(0.02)), g.const(np.uint8(128))])
    wq = np.random.default_rng(9).integers(-100, 100, (6, 4, 3, 3)).astype(np.int8)
    ws = (np.abs(mk.rand(6)) * 0.01 + 0.002).astype(np.float32)
    w = g.op("DequantizeLinear", [g.const(wq), g.const(ws), g.const(np.zeros(6, np.int8))], axis=0)
    t = g.op("Relu", [g.op("Conv", [t, w, g.const(mk.rand(6, scale=0.1))], pads=[1, 1, 1, 1],
                           kernel_shape=[3, 3])])
    t = g.op("DequantizeLinear", [g.op("QuantizeLinear", [t, g.const(np.float32(0.05)),
                                                         g.const(np.uint8(0))]),
                                  g.const(np.float32(0.05)), g.const(np.uint8(0))])
    t = g.op("Transpose", [t], perm=[0, 2, 3, 1], outputs=["features:0"])
    g.out("features:0", F, ["unk__50", 8, 8, 6])
    name = "tf_qdq_op13"
    model = mk.save(g, name, 13, TF)
    mk.case(name, model, [("input:0", mk.rand(2, 8, 8, 4))])


# ---------------------------------------------------- keras2onnx / older

K2O = ("keras2onnx", "1.7.0")


def keras_cnn_op9(mk):
    """keras2onnx at opset 9 with IR 3 (initializers listed as graph inputs):
    Conv, BatchNormalization-9, LeakyRelu (Keras alpha 0.3), Upsample-9 with
    a scales input (nearest and linear), MaxPool, Flatten + Gemm, Softmax-9."""
    g = Graph("keras")
    x = g.inp("input_1", F, ["N", 3, 8, 8])
    t = g.op("Conv", [x, g.const(mk.rand(8, 3, 3, 3, scale=0.3), name="conv2d/kernel"),
                      g.const(mk.rand(8, scale=0.1), name="conv2d/bias")],
             kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    t = g.op("BatchNormalization", [t, g.const(np.abs(mk.rand(8)) + 0.5, name="bn/gamma"),
                                    g.const(mk.rand(8, scale=0.1), name="bn/beta"),
                                    g.const(mk.rand(8, scale=0.1), name="bn/moving_mean"),
                                    g.const(np.abs(mk.rand(8)) + 0.5, name="bn/moving_variance")],
             epsilon=1e-3, momentum=0.99)
    t = g.op("LeakyRelu", [t], alpha=0.3)
    up_n = g.op("Upsample", [t, g.const(np.array([1, 1, 2, 2], np.float32), name="up/scales")],
                mode="nearest")
    up_l = g.op("Upsample", [t, g.const(np.array([1, 1, 2, 1.5], np.float32), name="up/scales2")],
                mode="linear")
    g.op("Identity", [up_l], outputs=["upsample_linear"])
    t = g.op("Conv", [up_n, g.const(mk.rand(4, 8, 3, 3, scale=0.2), name="conv2d_1/kernel")],
             kernel_shape=[3, 3], auto_pad="SAME_UPPER", strides=[2, 2])
    t = g.op("MaxPool", [t], kernel_shape=[2, 2], strides=[2, 2], auto_pad="VALID")
    t = g.op("Flatten", [t], axis=1)
    t = g.op("Gemm", [t, g.const(mk.rand(10, 64, scale=0.2), name="dense/kernel"),
                      g.const(mk.rand(10, scale=0.1), name="dense/bias")],
             transB=1, alpha=1.0, beta=1.0)
    g.op("Softmax", [t], axis=1, outputs=["dense"])
    g.out("dense", F, ["N", 10])
    g.out("upsample_linear", F, ["N", 8, 16, 12])
    name = "keras_cnn_op9_ir3"
    model = mk.save(g, name, 9, K2O, inits_as_inputs=True, ir=3)
    mk.case(name, model, [("input_1", mk.rand(2, 3, 8, 8))])


def keras_pad_slice(mk, opset):
    """Pad-2 (pads, mode and value as attributes, valid until opset 10) and,
    at opset 9, Slice-1 attributes; Softmax/LogSoftmax before 13 flatten
    everything from `axis` into one dimension."""
    g = Graph("keras")
    x = g.inp("input_1", F, ["N", 3, 5, 6])
    g.op("Pad", [x], pads=[0, 0, 1, 2, 0, 0, 2, 1], mode="constant", value=0.5,
         outputs=["pad_const"])
    g.op("Pad", [x], pads=[0, 0, 2, 1, 0, 0, 1, 3], mode="reflect", outputs=["pad_reflect"])
    g.op("Pad", [x], pads=[0, 0, 1, 1, 0, 0, 2, 2], mode="edge", outputs=["pad_edge"])
    if opset == 9:
        s = g.op("Slice", [x], starts=[1, -4], ends=[2147483647, -1], axes=[2, 3])
        s2 = g.op("Slice", [x], starts=[0, 1], ends=[2, 1000])
    else:
        c = lambda v: g.const(v, dtype=np.int64)  # noqa: E731
        s = g.op("Slice", [x, c([1, -4]), c([2147483647, -1]), c([2, 3])])
        s2 = g.op("Slice", [x, c([0, 1]), c([2, 1000])])
    g.op("Identity", [s], outputs=["slice"])
    g.op("Identity", [s2], outputs=["slice_noaxes"])
    g.op("Softmax", [x], axis=1, outputs=["softmax_flat"])
    g.op("LogSoftmax", [x], axis=2, outputs=["logsoftmax_flat"])
    g.op("Softmax", [x], outputs=["softmax_default"])  # default axis 1 before 13
    g.op("Hardmax", [x], axis=2, outputs=["hardmax_flat"])
    for n in ["pad_const", "pad_reflect", "pad_edge", "slice", "slice_noaxes", "softmax_flat",
              "logsoftmax_flat", "softmax_default", "hardmax_flat"]:
        g.out(n, F, None)
    name = "keras_pad_slice_op%d" % opset
    model = mk.save(g, name, opset, K2O)
    mk.case(name, model, [("input_1", mk.rand(2, 3, 5, 6))])


def keras_rnn(mk):
    """keras2onnx recurrent layers: LSTM with Keras' hard_sigmoid recurrent
    activation (HardSigmoid alpha 0.2 beta 0.5), GRU with
    linear_before_reset=0 (Keras' reset_after=False), sequence_lens for
    masking, a bidirectional LSTM; opset 9."""
    g = Graph("keras")
    hdim, idim = 5, 4
    x = g.inp("input_1", F, [6, "N", idim])
    lens = g.inp("seq_lens", I32, ["N"])
    r = np.random.default_rng(3)

    def w(*s):
        return g.const((r.standard_normal(s) * 0.4).astype(np.float32))
    y, yh, yc = g.op("LSTM", [x, w(1, 4 * hdim, idim), w(1, 4 * hdim, hdim), w(1, 8 * hdim)], n_out=3,
                     hidden_size=hdim, activations=["HardSigmoid", "Tanh", "Tanh"],
                     activation_alpha=[0.2], activation_beta=[0.5])
    g.op("Identity", [y], outputs=["lstm_y"])
    g.op("Identity", [yc], outputs=["lstm_c"])
    gy, gh = g.op("GRU", [x, w(1, 3 * hdim, idim), w(1, 3 * hdim, hdim), w(1, 6 * hdim), lens],
                  n_out=2, hidden_size=hdim, linear_before_reset=0)
    g.op("Identity", [gy], outputs=["gru_y"])
    g.op("Identity", [gh], outputs=["gru_h"])
    by, bh, bc = g.op("LSTM", [x, w(2, 4 * hdim, idim), w(2, 4 * hdim, hdim), w(2, 8 * hdim), lens,
                               w(2, 2, hdim), w(2, 2, hdim)], n_out=3,
                      hidden_size=hdim, direction="bidirectional")
    g.op("Identity", [by], outputs=["bilstm_y"])
    g.op("Identity", [bh], outputs=["bilstm_h"])
    del yh, bc
    for n in ["lstm_y", "lstm_c", "gru_y", "gru_h", "bilstm_y", "bilstm_h"]:
        g.out(n, F, None)
    name = "keras_rnn_op9"
    model = mk.save(g, name, 9, K2O)
    mk.case(name, model, [("input_1", mk.rand(6, 2, idim)), ("seq_lens", np.array([6, 3], np.int32))])


def keras_resize10(mk):
    """Opset 10 converters: Resize-10 (scales only, asymmetric), TopK-10
    with k as an input, ThresholdedRelu, Dropout with ratio attribute."""
    g = Graph("keras")
    x = g.inp("input_1", F, ["N", 2, 4, 5])
    g.op("Resize", [x, g.const(np.array([1, 1, 2, 2], np.float32))], mode="nearest",
         outputs=["resize_nearest"])
    g.op("Resize", [x, g.const(np.array([1, 1, 1.5, 2.5], np.float32))], mode="linear",
         outputs=["resize_linear"])
    v, i = g.op("TopK", [g.op("Flatten", [x], axis=1), g.const([5], dtype=np.int64)], n_out=2, axis=1)
    g.op("Identity", [v], outputs=["topk_v"])
    g.op("Identity", [i], outputs=["topk_i"])
    g.op("ThresholdedRelu", [x], alpha=0.4, outputs=["trelu"])
    g.op("Dropout", [x], ratio=0.3, outputs=["dropout"])
    for n, et in [("resize_nearest", F), ("resize_linear", F), ("topk_v", F), ("topk_i", I64),
                  ("trelu", F), ("dropout", F)]:
        g.out(n, et, None)
    name = "keras_resize_op10"
    model = mk.save(g, name, 10, K2O)
    mk.case(name, model, [("input_1", mk.rand(2, 2, 4, 5))])


# ------------------------------------------------------------- paddle2onnx

PD = ("PaddlePaddle", "2.4.2")
PDIM = "p2o.DynamicDimension.0"


def bn(g, mk, t, c):
    return g.op("BatchNormalization", [t, g.const(np.abs(mk.rand(c)) + 0.5), g.const(mk.rand(c, scale=0.1)),
                                       g.const(mk.rand(c, scale=0.1)), g.const(np.abs(mk.rand(c)) + 0.5)],
                epsilon=1e-5, momentum=0.9)


def paddle_mobilenet(mk, opset):
    """PP-LCNet-like block: Conv + unfolded BatchNormalization, Hardswish
    as HardSigmoid(1/6, 0.5) * x, Relu6 as Clip with min/max inputs,
    depthwise Conv, GlobalAveragePool, Reshape with a 0 (copy) dim,
    ReduceMean keepdims=0, Softmax."""
    g = Graph("paddle")
    x = g.inp("x", F, [PDIM, 3, 16, 16])
    t = g.op("Conv", [x, g.const(mk.rand(8, 3, 3, 3, scale=0.3))], kernel_shape=[3, 3], strides=[2, 2],
             pads=[1, 1, 1, 1], group=1, dilations=[1, 1])
    t = bn(g, mk, t, 8)
    t = g.op("Mul", [t, g.op("HardSigmoid", [t], alpha=0.1666666716337204, beta=0.5)])
    t = g.op("Conv", [t, g.const(mk.rand(8, 1, 3, 3, scale=0.3))], kernel_shape=[3, 3], group=8,
             pads=[1, 1, 1, 1])
    t = bn(g, mk, t, 8)
    t = g.op("Clip", [t, g.const_node(np.float32(0.0)), g.const_node(np.float32(6.0))])
    t = g.op("Conv", [t, g.const(mk.rand(16, 8, 1, 1, scale=0.3)), g.const(mk.rand(16, scale=0.1))],
             kernel_shape=[1, 1])
    g.op("ReduceMean", [t], axes=[2, 3], keepdims=0, outputs=["mean_0.tmp_0"])
    p = g.op("GlobalAveragePool", [t])
    p = g.op("Reshape", [p, g.const_node(np.array([0, -1], np.int64))])
    p = g.op("Add", [g.op("MatMul", [p, g.const(mk.rand(16, 6, scale=0.3))]), g.const(mk.rand(6))])
    g.op("Softmax", [p], axis=1 if opset < 13 else -1, outputs=["softmax_0.tmp_0"])
    g.out("softmax_0.tmp_0", F, [PDIM, 6])
    g.out("mean_0.tmp_0", F, [PDIM, 16])
    name = "paddle_mobilenet_op%d" % opset
    model = mk.save(g, name, opset, PD)
    mk.case(name, model, [("x", mk.rand(2, 3, 16, 16))])


def paddle_split_cast(mk, opset):
    """Split with a split attribute (11) or input (13), Casts to and from
    bool, logical ops, integer reductions with keepdims=0."""
    g = Graph("paddle")
    x = g.inp("x", F, [PDIM, 8])
    if opset >= 13:
        a, b, c = g.op("Split", [x, g.const([2, 3, 3], dtype=np.int64)], n_out=3, axis=1)
    else:
        a, b, c = g.op("Split", [x], n_out=3, axis=1, split=[2, 3, 3])
    e0, e1 = g.op("Split", [x], n_out=2, axis=-1)  # even split, no sizes
    g.op("Identity", [a], outputs=["split_a"])
    g.op("Identity", [c], outputs=["split_c"])
    g.op("Sub", [e0, e1], outputs=["split_even"])
    bb = g.op("Cast", [b], to=BOOL)  # nonzero -> true
    gt = g.op("Greater", [b, g.const(np.float32(0.0))])
    g.op("Cast", [g.op("Xor", [bb, gt])], to=F, outputs=["xor_f"])
    land = g.op("And", [gt, g.op("Not", [g.op("Less", [b, g.const(np.float32(-0.5))])])])
    cnt = g.op("Cast", [land], to=I64)
    if opset >= 13:
        g.op("ReduceSum", [cnt, g.const([1], dtype=np.int64)], keepdims=0, outputs=["count"])
    else:
        g.op("ReduceSum", [cnt], axes=[1], keepdims=0, outputs=["count"])
    g.op("ReduceMean", [x], axes=[1], keepdims=0, outputs=["mean"])
    g.op("ReduceMax", [x], axes=[0, 1], keepdims=0, outputs=["max"])
    g.op("ReduceProd", [c], axes=[-1], keepdims=0, outputs=["prod"])
    g.op("Or", [bb, g.op("Cast", [g.op("Cast", [gt], to=I64)], to=BOOL)], outputs=["or"])
    g.op("Round", [g.op("Mul", [x, g.const(np.float32(2.0))])], outputs=["round"])
    for n, et in [("split_a", F), ("split_c", F), ("split_even", F), ("xor_f", F), ("count", I64),
                  ("mean", F), ("max", F), ("prod", F), ("or", BOOL), ("round", F)]:
        g.out(n, et, None)
    name = "paddle_split_cast_op%d" % opset
    model = mk.save(g, name, opset, PD)
    xv = mk.rand(3, 8)
    xv[0, 2:5] = 0.0
    xv[1, 1] = 1.25  # Round to even: 2.5 -> 2
    xv[2, 0] = -0.75
    mk.case(name, model, [("x", xv)])


def paddle_det_post(mk):
    """Detection post-processing as paddle2onnx writes it: ReduceMax and
    ArgMax over classes, TopK, Gather of boxes/labels by the TopK indices,
    score threshold through Greater -> NonZero -> Gather, int64 everywhere.
    Second case: a threshold no box passes (empty outputs)."""
    g = Graph("paddle")
    boxes = g.inp("boxes", F, [1, "num_boxes", 4])
    scores = g.inp("scores", F, [1, "num_boxes", 5])
    thr = g.inp("score_threshold", F, [1])
    best = g.op("ReduceMax", [scores], axes=[2], keepdims=0)
    label = g.op("ArgMax", [scores], axis=2, keepdims=0)
    nb = g.op("Gather", [g.op("Shape", [best]), g.const(np.int64(1))], axis=0)
    k = g.op("Min", [g.op("Reshape", [nb, g.const([1], dtype=np.int64)]), g.const([20], dtype=np.int64)])
    v, i = g.op("TopK", [best, k], n_out=2, axis=-1, largest=1, sorted=1)
    i0 = sq(g, i, [0], 13)
    v0 = sq(g, v, [0], 13)
    b0 = sq(g, boxes, [0], 13)
    l0 = sq(g, label, [0], 13)
    tb = g.op("Gather", [b0, i0], axis=0)
    tl = g.op("Gather", [l0, i0], axis=0)
    keep = g.op("NonZero", [g.op("Greater", [v0, thr])])
    keep = g.op("Reshape", [keep, g.const([-1], dtype=np.int64)])
    g.op("Gather", [tb, keep], axis=0, outputs=["det_boxes"])
    g.op("Gather", [tl, keep], axis=0, outputs=["det_labels"])
    g.op("Gather", [v0, keep], axis=0, outputs=["det_scores"])
    g.op("Cast", [g.op("Shape", [keep])], to=I32, outputs=["det_num"])
    for n, et in [("det_boxes", F), ("det_labels", I64), ("det_scores", F), ("det_num", I32)]:
        g.out(n, et, None)
    name = "paddle_det_post_op13"
    model = mk.save(g, name, 13, PD)
    bx = np.random.default_rng(11).random((1, 50, 4)).astype(np.float32)
    sc = np.random.default_rng(12).random((1, 50, 5)).astype(np.float32)
    mk.case(name, model, [("boxes", bx), ("scores", sc), ("score_threshold", np.array([0.9], np.float32))])
    mk.case(name + "_empty", model, [("boxes", bx), ("scores", sc),
                                      ("score_threshold", np.array([2.0], np.float32))])


def paddle_nms(mk):
    """multiclass_nms as paddle2onnx lowers it: NonMaxSuppression, then the
    selected (batch, class, box) triples sliced and used to Gather."""
    g = Graph("paddle")
    boxes = g.inp("boxes", F, [1, "num_boxes", 4])
    scores = g.inp("scores", F, [1, 3, "num_boxes"])
    sel = g.op("NonMaxSuppression", [boxes, scores, g.const([10], dtype=np.int64),
                                     g.const([0.5], dtype=np.float32), g.const([0.2], dtype=np.float32)],
               center_point_box=0)
    g.op("Identity", [sel], outputs=["selected"])
    bi = g.op("Slice", [sel, g.const([2], dtype=np.int64), g.const([3], dtype=np.int64),
                        g.const([1], dtype=np.int64)])
    bi = sq(g, bi, [1], 11)
    g.op("Gather", [sq(g, boxes, [0], 11), bi], axis=0, outputs=["kept_boxes"])
    g.op("GatherND", [scores, g.op("Slice", [sel, g.const([0], dtype=np.int64),
                                             g.const([3], dtype=np.int64), g.const([1], dtype=np.int64)])],
         outputs=["kept_scores"])
    for n, et, shp in [("selected", I64, ["num_selected", 3]), ("kept_boxes", F, ["num_selected", 4]),
                       ("kept_scores", F, ["num_selected"])]:
        g.out(n, et, shp)
    name = "paddle_nms_op11"
    model = mk.save(g, name, 11, PD)
    r = np.random.default_rng(13)
    xy = r.random((1, 30, 2)).astype(np.float32) * 4
    wh = r.random((1, 30, 2)).astype(np.float32) + 0.5
    bx = np.concatenate([xy, xy + wh], axis=2)
    mk.case(name, model, [("boxes", bx), ("scores", r.random((1, 3, 30)).astype(np.float32))])


def paddle_int64(mk):
    """int64 index arithmetic: NonZero -> Transpose -> GatherND, Expand and
    Tile from Shape, Unsqueeze with an axes input, integer Div (truncating)
    and Mod (sign of the divisor), Clip-13 on int64, CumSum, Gather with a
    negative index."""
    g = Graph("paddle")
    x = g.inp("x", I64, [PDIM, 6])
    nz = g.op("Transpose", [g.op("NonZero", [g.op("Greater", [x, g.const(np.int64(0))])])], perm=[1, 0])
    g.op("GatherND", [x, nz], outputs=["positives"])
    g.op("Div", [x, g.const(np.int64(3))], outputs=["div"])
    g.op("Mod", [x, g.const(np.int64(4))], outputs=["mod"])
    g.op("Mod", [x, g.const(np.int64(-4))], outputs=["mod_neg"])
    g.op("Clip", [x, g.const(np.int64(-3)), g.const(np.int64(5))], outputs=["clip"])
    g.op("CumSum", [x, g.const(np.int64(-1))], outputs=["cumsum"])
    u = g.op("Unsqueeze", [g.op("ReduceSum", [x, g.const([1], dtype=np.int64)], keepdims=0),
                           g.const([1], dtype=np.int64)])
    e = g.op("Expand", [u, g.op("Shape", [x])])
    g.op("Sub", [x, e], outputs=["centered"])
    g.op("Tile", [g.op("Gather", [x, g.const([-1], dtype=np.int64)], axis=1),
                  g.const([1, 3], dtype=np.int64)], outputs=["tile"])
    g.op("ArgMin", [x], axis=0, keepdims=1, outputs=["argmin"])
    g.op("Max", [x, g.const(np.int64(0))], outputs=["relu"])
    g.op("Cast", [g.op("Cast", [x], to=I32)], to=F, outputs=["asfloat"])
    for n, et in [("positives", I64), ("div", I64), ("mod", I64), ("mod_neg", I64), ("clip", I64),
                  ("cumsum", I64), ("centered", I64), ("tile", I64), ("argmin", I64), ("relu", I64),
                  ("asfloat", F)]:
        g.out(n, et, None)
    name = "paddle_int64_op13"
    model = mk.save(g, name, 13, PD)
    mk.case(name, model, [("x", np.random.default_rng(14).integers(-9, 10, (4, 6)).astype(np.int64))])


def paddle_ernie(mk):
    """An ERNIE-like block: GELU from Erf, LayerNorm unfolded with keepdims,
    4-D batched MatMul for attention, Softmax, swish (Sigmoid * x),
    Softplus, ReduceL2, InstanceNormalization; opset 12."""
    opset = 12
    g = Graph("paddle")
    d = 8
    x = g.inp("x", F, [PDIM, "p2o.DynamicDimension.1", d])
    mu = g.op("ReduceMean", [x], axes=[-1], keepdims=1)
    c = g.op("Sub", [x, mu])
    var = g.op("ReduceMean", [g.op("Mul", [c, c])], axes=[-1], keepdims=1)
    y = g.op("Div", [c, g.op("Sqrt", [g.op("Add", [var, g.const(np.float32(1e-12))])])])
    y = g.op("Add", [g.op("Mul", [y, g.const(np.abs(mk.rand(d)) + 0.5)]), g.const(mk.rand(d, scale=0.1))])
    gelu = g.op("Mul", [g.op("Mul", [y, g.const(np.float32(0.5))]),
                        g.op("Add", [g.op("Erf", [g.op("Div", [y, g.const(np.float32(np.sqrt(2)))])]),
                                     g.const(np.float32(1.0))])])
    g.op("Identity", [gelu], outputs=["gelu"])
    q = g.op("Transpose", [g.op("Reshape", [y, g.const([0, 0, 2, 4], dtype=np.int64)])], perm=[0, 2, 1, 3])
    s = g.op("MatMul", [q, g.op("Transpose", [q], perm=[0, 1, 3, 2])])
    p = g.op("Softmax", [s], axis=3)
    ctx = g.op("Reshape", [g.op("Transpose", [g.op("MatMul", [p, q])], perm=[0, 2, 1, 3]),
                           g.const([0, 0, d], dtype=np.int64)])
    g.op("Identity", [ctx], outputs=["attn"])
    g.op("Mul", [x, g.op("Sigmoid", [x])], outputs=["swish"])
    g.op("Softplus", [x], outputs=["softplus"])
    g.op("ReduceL2", [x], axes=[2], keepdims=0, outputs=["l2"])
    xt = g.op("Transpose", [x], perm=[0, 2, 1])
    g.op("InstanceNormalization", [xt, g.const(np.abs(mk.rand(d)) + 0.5), g.const(mk.rand(d))],
         epsilon=1e-5, outputs=["instnorm"])
    for n in ["gelu", "attn", "swish", "softplus", "l2", "instnorm"]:
        g.out(n, F, None)
    name = "paddle_ernie_op%d" % opset
    model = mk.save(g, name, opset, PD)
    mk.case(name, model, [("x", mk.rand(2, 5, d))])


def paddle_op14(mk):
    """paddle2onnx at opset 14: native HardSwish, BatchNormalization-14,
    Reshape-14 with a 0 dim (allowzero=0), Trilu."""
    g = Graph("paddle")
    x = g.inp("x", F, [PDIM, 4, 5, 5])
    t = bn(g, mk, x, 4)
    g.op("HardSwish", [g.op("Mul", [t, g.const(np.float32(3.0))])], outputs=["hardswish"])
    g.op("Reshape", [x, g.const([0, -1, 5], dtype=np.int64)], allowzero=0, outputs=["reshape0"])
    g.op("Trilu", [x, g.const(np.int64(1))], upper=1, outputs=["triu"])
    g.op("Trilu", [x], upper=0, outputs=["tril"])
    for n in ["hardswish", "reshape0", "triu", "tril"]:
        g.out(n, F, None)
    name = "paddle_op14"
    model = mk.save(g, name, 14, PD)
    mk.case(name, model, [("x", mk.rand(2, 4, 5, 5))])


# -------------------------------------------------------- newer opsets

def opset15_17(mk):
    """Shape-15 with start/end, CastLike, BatchNormalization-15,
    LayerNormalization-17 as tf2onnx emits for Keras at opset 17."""
    g = Graph("tf2onnx")
    x = g.inp("x:0", F, ["unk__60", 3, 4, 5])
    hw = g.op("Shape", [x], start=2)
    mid = g.op("Shape", [x], start=1, end=-1)
    g.op("Identity", [hw], outputs=["shape_hw:0"])
    g.op("Identity", [mid], outputs=["shape_mid:0"])
    g.op("CastLike", [g.op("Mul", [x, g.const(np.float32(10))]), g.const(np.int32(0))], outputs=["castlike:0"])
    g.op("BatchNormalization", [x, g.const(np.abs(mk.rand(3)) + 0.5), g.const(mk.rand(3)),
                                g.const(mk.rand(3)), g.const(np.abs(mk.rand(3)) + 0.5)], outputs=["bn:0"])
    g.op("LayerNormalization", [x, g.const(np.abs(mk.rand(4, 5)) + 0.5), g.const(mk.rand(4, 5))],
         axis=-2, epsilon=1e-3, outputs=["ln:0"])
    for n, et in [("shape_hw:0", I64), ("shape_mid:0", I64), ("castlike:0", I32), ("bn:0", F), ("ln:0", F)]:
        g.out(n, et, None)
    name = "tf_newer_op17"
    model = mk.save(g, name, 17, TF)
    mk.case(name, model, [("x:0", mk.rand(2, 3, 4, 5))])


def opset18(mk):
    """Opset 18: Reduce* with axes as an input (and empty axes with
    noop_with_empty_axes), Split with num_outputs (uneven), Pad with an axes
    input and reflect mode, ScatterElements with reduction=max, BitwiseAnd."""
    g = Graph("tf2onnx")
    x = g.inp("x:0", F, ["unk__70", 4, 10])
    c = lambda v: g.const(v, dtype=np.int64)  # noqa: E731
    g.op("ReduceMean", [x, c([1, 2])], keepdims=0, outputs=["rmean:0"])
    g.op("ReduceMax", [x, c([-1])], keepdims=1, outputs=["rmax:0"])
    g.op("ReduceSumSquare", [x, c([1])], keepdims=0, outputs=["rss:0"])
    # (ReduceL1 with noop would differ: ONNX Runtime applies |x|, the spec says identity)
    g.op("ReduceSum", [x, c(np.zeros(0, np.int64))], keepdims=0, noop_with_empty_axes=1, outputs=["rsum_noop:0"])
    g.op("ReduceLogSumExp", [x], keepdims=0, outputs=["rlse_all:0"])
    s = g.op("Split", [x], n_out=3, axis=2, num_outputs=3)
    for k, o in enumerate(s):
        g.op("Identity", [o], outputs=["split%d:0" % k])
    g.op("Pad", [x, c([1, 2]), g.const(np.float32(0)), c([2])], mode="reflect", outputs=["pad_axes:0"])
    upd = g.const(mk.rand(2, 4, 3) * 5)
    g.op("ScatterElements", [x, g.const(np.random.default_rng(2).integers(0, 10, (2, 4, 3))), upd],
         axis=2, reduction="max", outputs=["scatter_max:0"])
    xi = g.op("Cast", [g.op("Mul", [x, g.const(np.float32(100))])], to=I32)
    g.op("BitwiseAnd", [xi, g.const(np.int32(0x5a))], outputs=["band:0"])
    for n, et in [("rmean:0", F), ("rmax:0", F), ("rss:0", F), ("rsum_noop:0", F), ("rlse_all:0", F),
                  ("split0:0", F), ("split1:0", F), ("split2:0", F), ("pad_axes:0", F),
                  ("scatter_max:0", F), ("band:0", I32)]:
        g.out(n, et, None)
    name = "tf_newer_op18"
    model = mk.save(g, name, 18, TF)
    mk.case(name, model, [("x:0", mk.rand(2, 4, 10))])


# ------------------------------------------------- dims and external data

def symbolic_dims(mk):
    """Inputs and outputs whose dims are named like tf2onnx ("unk__123"),
    Keras ("N"), paddle2onnx, or have neither value nor name; one input has
    no shape at all, one output no shape."""
    g = Graph("dims")
    shp_a = ["unk__123", "N", 4]
    a = g.inp("a", F, shp_a)
    vi_b = helper.make_tensor_value_info("b", F, [None, None, 4])
    g.inputs.append(vi_b)
    vi_c = helper.make_tensor_value_info("c", F, None)  # no shape: rank unknown
    g.inputs.append(vi_c)
    d = g.inp("d", I64, [PDIM, 0 + 3])
    y = g.op("Add", [g.op("Mul", [a, "b"]), "c"])
    g.op("MatMul", [y, g.const(mk.rand(4, 2))], outputs=["y"])
    g.op("ReduceSum", [d, g.const([1], dtype=np.int64)], keepdims=0, outputs=["dsum"])
    g.op("Identity", ["c"], outputs=["c_copy"])
    g.out("y", F, ["unk__123", "N", 2])
    g.out("dsum", I64, [None])
    g.outputs.append(helper.make_tensor_value_info("c_copy", F, None))
    name = "symbolic_dims_op13"
    model = mk.save(g, name, 13, ("onnx-helper", "1"), check=False)
    mk.case(name, model, [("a", mk.rand(2, 3, 4)), ("b", mk.rand(2, 3, 4)), ("c", mk.rand(3, 1)),
                          ("d", np.arange(12, dtype=np.int64).reshape(4, 3))])


def external_data(mk, one_file):
    """Weights in external files: one 20 MB file with offsets, or one file
    per tensor with a subdirectory in the location."""
    g = Graph("ext")
    x = g.inp("x", F, ["N", 2048])
    w1 = mk.rand(2048, 2560, scale=0.02)
    t = g.op("Gemm", [x, g.const(w1, name="fc1.weight"), g.const(mk.rand(2560, scale=0.1), name="fc1.bias")])
    t = g.op("Relu", [t])
    t = g.op("MatMul", [t, g.const(mk.rand(2560, 16, scale=0.05), name="fc2.weight")])
    g.op("Add", [t, g.const(np.float32(0.5), name="tiny")], outputs=["y"])
    g.out("y", F, ["N", 16])
    name = "external_data_%s" % ("one_file" if one_file else "per_tensor")
    if one_file:
        ext = dict(all_tensors_to_one_file=True, location=name + ".weights", size_threshold=1024)
    else:
        # location with a subdirectory: save to a temp model next to it first
        ext = None
    model = mk.save(g, name, 13, ("onnx-helper", "1"), external=ext)
    if not one_file:
        m = onnx.load(os.path.join(mk.outdir, model))
        os.makedirs(os.path.join(mk.outdir, name + "_weights"), exist_ok=True)
        for t in m.graph.initializer:
            if t.name != "tiny":
                onnx.external_data_helper.set_external_data(
                    t, location="%s_weights/%s.bin" % (name, t.name))
        onnx.save_model(m, os.path.join(mk.outdir, model))
    mk.case(name, model, [("x", mk.rand(2, 2048))])


# ------------------------------------------------ control-flow edge cases

def tf_loop_edges(mk):
    """See _tf_loop_edges; ONNX Runtime refuses a subgraph output that is an
    outer-scope value, so it runs a twin with an Identity in between."""
    model = _tf_loop_edges(mk, False)
    twin = _tf_loop_edges(mk, True)
    xv = mk.rand(3, 4)
    name = model[:-5]
    mk.case(name, model, [("x:0", xv), ("n:0", np.array(5, np.int64))], ort_model=twin)
    mk.case(name + "_zero_iter", model, [("x:0", xv), ("n:0", np.array(0, np.int64))], ort_model=twin)


def _tf_loop_edges(mk, identity):
    """Loop bodies as tf2onnx and others write them: a carried value passed
    straight through (body output = body input, no node), a body output that
    is an outer-scope value, the cond passed through unchanged in a for-loop,
    an If inside the body capturing two scopes up, and a trip count from the
    input so that one case runs zero iterations (empty scan outputs)."""
    opset = 13
    g = Graph("tf2onnx")
    x = g.inp("x:0", F, [3, 4])
    n = g.inp("n:0", I64, [])
    g.op("Mul", [x, g.const(np.float32(0.5))], outputs=["half:0"])
    inner_t = Graph("it", prefix="loop/if_t/")
    inner_t.op("Add", ["loop/acc_in", "half:0"], outputs=["loop/if_t/y"])
    inner_t.out("loop/if_t/y", F, [3, 4])
    inner_e = Graph("ie", prefix="loop/if_e/")
    inner_e.op("Sub", ["loop/acc_in", "x:0"], outputs=["loop/if_e/y"])
    inner_e.out("loop/if_e/y", F, [3, 4])
    b = Graph("body", prefix="loop/")
    b.inp("loop/iter", I64, [])
    b.inp("loop/cond_in", BOOL, [])
    b.inp("loop/keep_in", F, [3, 4])
    b.inp("loop/acc_in", F, [3, 4])
    even = b.op("Equal", [b.op("Mod", ["loop/iter", b.const(np.int64(2))]), b.const(np.int64(0))])
    b.op("If", [even], outputs=["loop/acc_out"], then_branch=inner_t.graph(), else_branch=inner_e.graph())
    b.op("ReduceSum", ["loop/acc_out"], keepdims=0, outputs=["loop/scan"])
    b.out("loop/cond_in", BOOL, [])          # for-loop: cond passed through
    b.out("loop/keep_in", F, [3, 4])         # carried unchanged, no node
    b.out("loop/acc_out", F, [3, 4])
    b.out("loop/scan", F, [])
    if identity:
        b.op("Identity", ["half:0"], outputs=["loop/half"])
    b.out("loop/half" if identity else "half:0", F, [3, 4])  # scan output straight from the outer scope
    g.op("Loop", [n, "", x, g.op("Identity", [x])], outputs=["keep:0", "acc:0", "sums:0", "halves:0"],
         body=b.graph())
    g.out("keep:0", F, [3, 4])
    g.out("acc:0", F, [3, 4])
    g.out("sums:0", F, ["N"])
    g.out("halves:0", F, ["N", 3, 4])
    name = "tf_loop_edges_op13" + ("_ort" if identity else "")
    return mk.save(g, name, opset, TF)


def tf_if_shapes(mk):
    """See _tf_if_shapes; ONNX Runtime runs a twin with an Identity where the
    else-branch returns an outer value."""
    model = _tf_if_shapes(mk, False)
    twin = _tf_if_shapes(mk, True)
    xv = mk.rand(5, 6)
    name = model[:-5]
    mk.case(name + "_then", model, [("x:0", xv), ("flag:0", np.array(True))], ort_model=twin)
    mk.case(name + "_else", model, [("x:0", xv), ("flag:0", np.array(False))], ort_model=twin)


def _tf_if_shapes(mk, identity):
    """tf.cond whose branches give different shapes (allowed when the If
    output has no fixed shape), and If with an empty-node branch that returns
    an outer value; also a Scan-9 (keras2onnx's loops) over a reversed axis."""
    opset = 11
    g = Graph("tf2onnx")
    x = g.inp("x:0", F, ["unk__80", 6])
    pred = g.inp("flag:0", BOOL, [])
    t = Graph("t", prefix="t/")
    t.op("Slice", [x, t.const([0], dtype=np.int64), t.const([3], dtype=np.int64),
                   t.const([1], dtype=np.int64)], outputs=["t/y"])
    t.out("t/y", F, None)
    e = Graph("e", prefix="e/")
    if identity:
        e.op("Identity", ["x:0"], outputs=["e/y"])
    e.out("e/y" if identity else "x:0", F, None)  # returns the outer value itself
    g.op("If", [pred], outputs=["y:0"], then_branch=t.graph(), else_branch=e.graph())
    # Scan: cumulative state over the rows, scanning backwards
    sb = Graph("scan_body", prefix="scan/")
    sb.inp("scan/state_in", F, [6])
    sb.inp("scan/row", F, [6])
    sb.op("Add", [sb.op("Mul", ["scan/state_in", sb.const(np.float32(0.5))]), "scan/row"],
          outputs=["scan/state_out"])
    sb.op("Identity", ["scan/state_out"], outputs=["scan/out"])
    sb.out("scan/state_out", F, [6])
    sb.out("scan/out", F, [6])
    g.op("Scan", [g.const(np.zeros(6, np.float32)), x], outputs=["scan_state:0", "scan_out:0"],
         body=sb.graph(), num_scan_inputs=1, scan_input_directions=[1], scan_output_directions=[1])
    g.out("y:0", F, None)
    g.out("scan_state:0", F, [6])
    g.out("scan_out:0", F, ["unk__80", 6])
    name = "tf_if_shapes_op11" + ("_ort" if identity else "")
    return mk.save(g, name, opset, TF, check=False)


def tf_dynamic_same(mk):
    """Conv with padding='SAME' on dynamic H and W: tf2onnx computes the pads
    at run time (ceil division, Max with 0, begin = total // 2) and feeds them
    to Pad-11, then a Conv without pads; uint8 image input scaled by 1/255;
    DepthToSpace in TF's DCR order; Concat with an empty piece."""
    opset = 13
    g = Graph("tf2onnx")
    img = g.inp("image:0", TensorProto.UINT8, ["unk__90", "unk__91", "unk__92", 3])
    x = g.op("Div", [g.op("Cast", [img], to=F), g.const(np.float32(255.0))])
    x = g.op("Transpose", [x], perm=[0, 3, 1, 2])
    hw = g.op("Slice", [g.op("Shape", [x]), g.const([2], dtype=np.int64), g.const([4], dtype=np.int64)])
    k, st = 3, 2
    outhw = g.op("Div", [g.op("Add", [hw, g.const(np.int64(st - 1))]), g.const(np.int64(st))])
    total = g.op("Sub", [g.op("Add", [g.op("Mul", [g.op("Sub", [outhw, g.const(np.int64(1))]),
                                                   g.const(np.int64(st))]), g.const(np.int64(k))]), hw])
    total = g.op("Max", [total, g.const(np.zeros(2, np.int64))])
    beg = g.op("Div", [total, g.const(np.int64(2))])
    end = g.op("Sub", [total, beg])
    empty = g.const(np.zeros(0, np.int64))
    pads = g.op("Concat", [g.const([0, 0], dtype=np.int64), beg, empty, g.const([0, 0], dtype=np.int64), end],
                axis=0)
    p = g.op("Pad", [x, pads, g.const(np.float32(0.0))], mode="constant")
    c = g.op("Conv", [p, g.const(mk.rand(8, 3, k, k, scale=0.3)), g.const(mk.rand(8, scale=0.1))],
             kernel_shape=[k, k], strides=[st, st])
    c = g.op("Elu", [c], alpha=1.0)
    d2s = g.op("DepthToSpace", [c], blocksize=2, mode="DCR")
    g.op("Transpose", [d2s], perm=[0, 2, 3, 1], outputs=["d2s:0"])
    s2d = g.op("SpaceToDepth", [d2s], blocksize=2)
    g.op("Transpose", [s2d], perm=[0, 2, 3, 1], outputs=["s2d:0"])
    g.op("Identity", [pads], outputs=["pads:0"])
    g.out("d2s:0", F, ["unk__90", None, None, 2])
    g.out("s2d:0", F, ["unk__90", None, None, 8])
    g.out("pads:0", I64, [8])
    name = "tf_dynamic_same_pad_op13"
    model = mk.save(g, name, opset, TF)
    r = np.random.default_rng(21)
    mk.case(name + "_9x12", model, [("image:0", r.integers(0, 256, (1, 9, 12, 3)).astype(np.uint8))])
    mk.case(name + "_8x7", model, [("image:0", r.integers(0, 256, (2, 8, 7, 3)).astype(np.uint8))])


def tf_optional_io(mk):
    """Optional inputs and outputs left empty ("") as tf2onnx writes them:
    LSTM with B and sequence_lens skipped and only Y_h wanted, Clip with only
    a max, Dropout with its mask output, Constant nodes with value_float /
    value_ints, a Sum of three broadcast inputs, divide_no_nan as
    Where(Equal(y, 0), 0, x / y), Squeeze with no axes."""
    opset = 13
    g = Graph("tf2onnx")
    x = g.inp("x:0", F, [5, "unk__100", 3])
    y = g.inp("y:0", F, [5, "unk__100", 3])
    hd = 4
    r = np.random.default_rng(31)
    W = g.const((r.standard_normal((1, 4 * hd, 3)) * 0.5).astype(np.float32))
    R = g.const((r.standard_normal((1, 4 * hd, hd)) * 0.5).astype(np.float32))
    h0 = g.const((r.standard_normal((1, 1, hd)) * 0.5).astype(np.float32))
    h0b = g.op("Expand", [h0, g.op("Concat", [g.const([1], dtype=np.int64),
                                              g.op("Slice", [g.op("Shape", [x]), g.const([1], dtype=np.int64),
                                                             g.const([2], dtype=np.int64)]),
                                              g.const([hd], dtype=np.int64)], axis=0)])
    g.nodes.append(helper.make_node("LSTM", [x, W, R, "", "", h0b], ["", "lstm_h"], hidden_size=hd,
                                    name="lstm"))
    g.op("Squeeze", ["lstm_h"], outputs=["lstm_h:0"])
    g.op("Clip", [x, "", g.const_node(np.float32(0.3))], outputs=["clip_max:0"])
    d, mask = g.op("Dropout", [x], n_out=2)
    g.op("Cast", [mask], to=F, outputs=["mask:0"])
    g.op("Identity", [d], outputs=["dropout:0"])
    cf = g.fresh("Constant")
    g.nodes.append(helper.make_node("Constant", [], [cf], value_float=2.5, name=cf))
    ci = g.fresh("Constant")
    g.nodes.append(helper.make_node("Constant", [], [ci], value_ints=[1, 1, 3], name=ci))
    g.op("Sum", [x, g.op("Reshape", [g.const(np.arange(3, dtype=np.float32)), ci]), cf], outputs=["sum3:0"])
    zero = g.op("Equal", [y, g.const(np.float32(0.0))])
    g.op("Where", [zero, g.const(np.float32(0.0)), g.op("Div", [x, y])], outputs=["div_no_nan:0"])
    g.op("Div", [x, y], outputs=["div_raw:0"])
    for n, shp in [("lstm_h:0", None), ("clip_max:0", None), ("mask:0", None), ("dropout:0", None),
                   ("sum3:0", None), ("div_no_nan:0", None), ("div_raw:0", None)]:
        g.out(n, F, shp)
    name = "tf_optional_io_op13"
    model = mk.save(g, name, opset, TF)
    yv = mk.rand(5, 1, 3)
    yv[0, 0, :] = 0.0
    yv[1, 0, 0] = -0.0
    xv = mk.rand(5, 1, 3)
    xv[0, 0, 1] = 0.0  # 0/0 -> NaN in the raw division
    mk.case(name, model, [("x:0", xv), ("y:0", yv)])


def unsorted_nodes(mk):
    """Nodes not in topological order (some converters and graph editors
    write them so; ONNX Runtime sorts them itself)."""
    g = Graph("unsorted")
    x = g.inp("x", F, ["N", 4])
    a = g.op("Relu", [x], outputs=["a"])
    b = g.op("Mul", ["a", g.const(np.float32(2.0))], outputs=["b"])
    c = g.op("Add", ["b", "a"], outputs=["c"])
    g.op("Softmax", ["c"], axis=1, outputs=["y"])
    del a, b, c
    g.nodes.reverse()
    g.out("y", F, ["N", 4])
    name = "unsorted_nodes_op11"
    model = mk.save(g, name, 11, ("onnx-helper", "1"), check=False)
    mk.case(name, model, [("x", mk.rand(3, 4))])


def misc_shapes(mk):
    """Shape idioms from every converter: MatMul with 1-D operands, Gemm with
    transA and a scalar C, Flatten at axis 0 and at the last axis, Reshape
    of an empty batch, Unsqueeze with unsorted negative axes, Expand to a
    shape holding 1s, Tile with repeats from Shape, Gather with int32
    indices, float Range with a fractional step, TopK with ties, DepthToSpace
    CRD, float64 arithmetic."""
    opset = 13
    g = Graph("misc")
    x = g.inp("x", F, ["N", 4])
    v = g.inp("v", F, [4])
    e = g.inp("empty", F, [0, 3, 2])
    g.op("MatMul", [v, g.const(mk.rand(4, 3))], outputs=["vecmat"])
    g.op("MatMul", [x, v], outputs=["matvec"])
    g.op("MatMul", [v, v], outputs=["dot"])
    g.op("Gemm", [x, g.const(mk.rand(3, 4))], outputs=["gemm_noc"], transB=1, alpha=0.5)
    g.op("Gemm", [g.op("Transpose", [x]), g.const(mk.rand(4, 2)), g.const(np.float32(1.5))], transA=1,
         beta=2.0, outputs=["gemm_ta"])
    g.op("Flatten", [x], axis=0, outputs=["flat0"])
    g.op("Flatten", [e], axis=3, outputs=["flat_empty"])
    g.op("Reshape", [e, g.const([0, 3, 1, 2], dtype=np.int64)], outputs=["reshape_empty"])
    g.op("Reshape", [e, g.const([0, 0, 2], dtype=np.int64)], outputs=["reshape_copy0"])
    g.op("Unsqueeze", [x, g.const([-1, 0], dtype=np.int64)], outputs=["unsq"])
    g.op("Expand", [g.op("Reshape", [v, g.const([4, 1], dtype=np.int64)]), g.const([1, 1, 3], dtype=np.int64)],
         outputs=["expand1"])
    g.op("Tile", [x, g.op("Concat", [g.const([1], dtype=np.int64), g.op("Shape", [v])], axis=0)],
         outputs=["tile_dyn"])
    g.op("Gather", [x, g.const(np.array([[3, 0], [1, 1]], np.int32))], axis=1, outputs=["gather_i32"])
    g.op("Range", [g.const(np.float32(0.1)), g.const(np.float32(1.0)), g.const(np.float32(0.3))],
         outputs=["range_f"])
    tv, ti = g.op("TopK", [g.const(np.array([[3, 1, 3, 2, 3, 1]], np.float32)), g.const([4], dtype=np.int64)],
                  n_out=2, axis=1)
    g.op("Identity", [tv], outputs=["topk_ties_v"])
    g.op("Identity", [ti], outputs=["topk_ties_i"])
    sv, si = g.op("TopK", [g.const(np.array([5, 1, 5, 2, 1, 0], np.int64)), g.const([3], dtype=np.int64)],
                  n_out=2, largest=0)
    g.op("Identity", [sv], outputs=["topk_small_v"])
    g.op("Identity", [si], outputs=["topk_small_i"])
    g.op("DepthToSpace", [g.op("Reshape", [g.op("Tile", [x, g.const([1, 2], dtype=np.int64)]),
                                           g.const([-1, 8, 1, 1], dtype=np.int64)])],
         blocksize=2, mode="CRD", outputs=["d2s_crd"])
    xd = g.op("Cast", [x], to=TensorProto.DOUBLE)
    g.op("Sqrt", [g.op("Add", [g.op("Mul", [xd, xd]), g.const(np.float64(1e-300))])], outputs=["f64"])
    outs = [("vecmat", F), ("matvec", F), ("dot", F), ("gemm_noc", F), ("gemm_ta", F), ("flat0", F),
            ("flat_empty", F), ("reshape_empty", F), ("reshape_copy0", F), ("unsq", F), ("expand1", F),
            ("tile_dyn", F), ("gather_i32", F), ("range_f", F), ("topk_ties_v", F), ("topk_ties_i", I64),
            ("topk_small_v", I64), ("topk_small_i", I64), ("d2s_crd", F), ("f64", TensorProto.DOUBLE)]
    for n, et in outs:
        g.out(n, et, None)
    name = "misc_shapes_op13"
    model = mk.save(g, name, opset, ("onnx-helper", "1"))
    mk.case(name, model, [("x", mk.rand(2, 4)), ("v", mk.rand(4)), ("empty", np.zeros((0, 3, 2), np.float32))])


def keras_upsample_scales(mk):
    """Keras UpSampling2D and tf.image.resize with scales (not sizes) at
    opset 13: nearest asymmetric floor and bilinear half_pixel with scales
    (2, 2) and a non-integer (1.7, 2.5), output size floor(in * scale);
    ConvTranspose as Conv2DTranspose with SAME (asymmetric) pads."""
    opset = 13
    g = Graph("keras")
    x = g.inp("input_1", F, ["N", 3, 5, 6])
    for n, sc, attrs in [("up_nearest", [1, 1, 2, 2], dict(mode="nearest", nearest_mode="floor",
                                                           coordinate_transformation_mode="asymmetric")),
                         ("up_bilinear", [1, 1, 2, 2], dict(mode="linear",
                                                            coordinate_transformation_mode="half_pixel")),
                         ("up_frac", [1, 1, 1.7, 2.5], dict(mode="linear",
                                                            coordinate_transformation_mode="half_pixel")),
                         ("down_frac", [1, 1, 0.6, 0.5], dict(mode="nearest",
                                                              coordinate_transformation_mode="asymmetric",
                                                              nearest_mode="floor"))]:
        g.op("Resize", [x, "", g.const(np.array(sc, np.float32))], outputs=[n], **attrs)
        g.out(n, F, None)
    g.op("ConvTranspose", [x, g.const(mk.rand(3, 4, 3, 3, scale=0.3)), g.const(mk.rand(4))],
         kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1], outputs=["deconv_same"])
    g.op("ConvTranspose", [x, g.const(mk.rand(3, 2, 3, 3, scale=0.3))], kernel_shape=[3, 3], strides=[2, 2],
         output_shape=[10, 12], outputs=["deconv_outshape"])
    g.out("deconv_same", F, None)
    g.out("deconv_outshape", F, None)
    name = "keras_upsample_scales_op13"
    model = mk.save(g, name, opset, K2O)
    mk.case(name, model, [("input_1", mk.rand(2, 3, 5, 6))])


def paddle_nms_flipped(mk):
    """NonMaxSuppression fed TF-style [y1, x1, y2, x2] boxes whose corners are
    given in either diagonal order (the spec allows any), with per-class
    limits and a score threshold that removes some classes entirely."""
    g = Graph("paddle")
    boxes = g.inp("boxes", F, [2, "num_boxes", 4])
    scores = g.inp("scores", F, [2, 2, "num_boxes"])
    g.op("NonMaxSuppression", [boxes, scores, g.const([3], dtype=np.int64), g.const([0.4], dtype=np.float32),
                               g.const([0.5], dtype=np.float32)], outputs=["selected"])
    g.out("selected", I64, ["num_selected", 3])
    name = "paddle_nms_flipped_op11"
    model = mk.save(g, name, 11, PD)
    r = np.random.default_rng(41)
    a = r.random((2, 20, 2)).astype(np.float32) * 3
    b = a + r.random((2, 20, 2)).astype(np.float32) + 0.5
    flip = r.random((2, 20, 1)) < 0.5
    bx = np.where(flip, np.concatenate([b, a], 2), np.concatenate([a, b], 2)).astype(np.float32)
    sc = r.random((2, 2, 20)).astype(np.float32)
    sc[1, 1] *= 0.4  # that class never reaches the threshold
    mk.case(name, model, [("boxes", bx), ("scores", sc)])


def fp16_converted(mk):
    """A model after onnxconverter-common's float16 conversion: float32 I/O
    with Cast to float16 at the input and back at the output, float16
    weights, MatMul/Add/Relu/Softmax/ReduceMean/LayerNorm-by-hand in half."""
    opset = 13
    g = Graph("fp16")
    x = g.inp("x", F, ["N", 8])
    H = TensorProto.FLOAT16
    t = g.op("Cast", [x], to=H)
    t = g.op("Add", [g.op("MatMul", [t, g.const(mk.rand(8, 8, scale=0.3).astype(np.float16))]),
                     g.const(mk.rand(8, scale=0.1).astype(np.float16))])
    t = g.op("Relu", [t])
    mu = g.op("ReduceMean", [t], axes=[1], keepdims=1)
    t = g.op("Sub", [t, mu])
    t = g.op("Softmax", [t], axis=-1)
    g.op("Cast", [t], to=F, outputs=["y"])
    g.out("y", F, ["N", 8])
    name = "fp16_converted_op13"
    model = mk.save(g, name, opset, ("onnxconverter-common", "1.13"))
    mk.case(name, model, [("x", mk.rand(3, 8))])


def tf_layers_misc(mk):
    """More Keras layers as tf2onnx writes them at opset 13: Embedding as
    Gather with int32 ids, Conv1D on NWC (Transpose, Conv with dilation and
    causal left padding), BatchNormalization on (N, C), LRN, PReLU with an
    NHWC slope, Selu, Softsign, Average/Maximum of three tensors,
    GlobalMaxPool, tf.boolean_mask as Compress, tf.reverse_sequence,
    tf.einsum with an ellipsis and a transpose, Softmax on axis 1."""
    opset = 13
    g = Graph("tf2onnx")
    ids = g.inp("ids:0", I32, ["unk__110", 7])
    x = g.inp("x:0", F, ["unk__110", 5, 6, 4])
    lens = g.inp("lens:0", I64, ["unk__110"])
    emb = g.op("Gather", [g.const(mk.rand(20, 6)), ids], axis=0)
    g.op("Identity", [emb], outputs=["embed:0"])
    t = g.op("Transpose", [emb], perm=[0, 2, 1])
    t = g.op("Conv", [t, g.const(mk.rand(5, 6, 3, scale=0.3)), g.const(mk.rand(5, scale=0.1))], kernel_shape=[3],
             dilations=[2], pads=[4, 0])
    g.op("Transpose", [t], perm=[0, 2, 1], outputs=["conv1d_causal:0"])
    rs = g.op("ReverseSequence", [emb, lens], batch_axis=0, time_axis=1)
    g.op("Identity", [rs], outputs=["revseq:0"])
    flat = g.op("ReduceMean", [emb], axes=[1], keepdims=0)
    g.op("BatchNormalization", [flat, g.const(np.abs(mk.rand(6)) + 0.5), g.const(mk.rand(6)), g.const(mk.rand(6)),
                                g.const(np.abs(mk.rand(6)) + 0.5)], epsilon=1e-3, outputs=["bn2d:0"])
    xt = g.op("Transpose", [x], perm=[0, 3, 1, 2])
    lrn = g.op("LRN", [xt], size=3, alpha=1e-2, beta=0.75, bias=1.0)
    g.op("Transpose", [lrn], perm=[0, 2, 3, 1], outputs=["lrn:0"])
    g.op("PRelu", [x, g.const(np.abs(mk.rand(1, 1, 4)) * 0.3)], outputs=["prelu:0"])
    g.op("Selu", [x], outputs=["selu:0"])
    g.op("Softsign", [x], outputs=["softsign:0"])
    g.op("Mean", [x, g.op("Sigmoid", [x]), g.const(mk.rand(4))], outputs=["average:0"])
    g.op("Max", [x, g.op("Neg", [x]), g.const(np.float32(0.5))], outputs=["maximum:0"])
    g.op("GlobalMaxPool", [xt], outputs=["gmp:0"])
    keep = g.op("Greater", [g.op("ReduceSum", [x, g.const([1, 2, 3], dtype=np.int64)], keepdims=0),
                            g.const(np.float32(0.0))])
    g.op("Compress", [x, g.op("Reshape", [keep, g.const([-1], dtype=np.int64)])], axis=0,
         outputs=["boolean_mask:0"])
    g.op("Compress", [x, g.const(np.array([1, 0, 0, 1, 1], bool))], outputs=["compress_flat:0"])
    g.op("Einsum", [x, g.const(mk.rand(4, 3))], equation="...c,cd->...d", outputs=["einsum_ell:0"])
    g.op("Einsum", [x], equation="bhwc->bchw", outputs=["einsum_tr:0"])
    g.op("Softmax", [x], axis=1, outputs=["softmax_ax1:0"])
    outs = ["embed:0", "conv1d_causal:0", "revseq:0", "bn2d:0", "lrn:0", "prelu:0", "selu:0", "softsign:0",
            "average:0", "maximum:0", "gmp:0", "boolean_mask:0", "compress_flat:0", "einsum_ell:0", "einsum_tr:0",
            "softmax_ax1:0"]
    for n in outs:
        g.out(n, F, None)
    name = "tf_layers_misc_op13"
    model = mk.save(g, name, opset, TF)
    r = np.random.default_rng(51)
    mk.case(name, model, [("ids:0", r.integers(0, 20, (3, 7)).astype(np.int32)), ("x:0", mk.rand(3, 5, 6, 4)),
                          ("lens:0", np.array([7, 2, 5], np.int64))])


def paddle_vision16(mk):
    """paddle2onnx at opset 16 for detection and segmentation heads:
    RoiAlign-16 with half_pixel (and output_half_pixel), GridSample-16,
    pixel_shuffle as DepthToSpace CRD, ScatterND with reduction add,
    LeakyRelu, Where with int64 broadcasting."""
    opset = 16
    g = Graph("paddle")
    x = g.inp("x", F, [1, 4, 10, 12])
    rois = g.inp("rois", F, ["num_rois", 4])
    bidx = g.inp("batch_idx", I64, ["num_rois"])
    grid = g.inp("grid", F, [1, 5, 6, 2])
    for n, ctm, mode in [("roi_hp", "half_pixel", "avg"), ("roi_ohp", "output_half_pixel", "avg"),
                         ("roi_max", "half_pixel", "max")]:
        g.op("RoiAlign", [x, rois, bidx], output_height=3, output_width=4, sampling_ratio=2, spatial_scale=0.5,
             coordinate_transformation_mode=ctm, mode=mode, outputs=[n])
    g.op("GridSample", [x, grid], mode="bilinear", padding_mode="zeros", align_corners=0, outputs=["gs_bilinear"])
    g.op("GridSample", [x, grid], mode="nearest", padding_mode="border", align_corners=1, outputs=["gs_nearest"])
    g.op("GridSample", [x, grid], mode="bicubic", padding_mode="reflection", align_corners=0, outputs=["gs_bicubic"])
    g.op("DepthToSpace", [x], blocksize=2, mode="CRD", outputs=["pixel_shuffle"])
    g.op("ScatterND", [x, g.const(np.array([[0, 1], [0, 1], [0, 3]], np.int64)), g.const(mk.rand(3, 10, 12))],
         reduction="add", outputs=["scatter_add"])
    g.op("LeakyRelu", [x], alpha=0.1, outputs=["leaky"])
    g.op("Where", [g.op("Greater", [bidx, g.const(np.int64(0))]), bidx, g.const(np.array([[-1], [-2]], np.int64))],
         outputs=["where_i64"])
    for n, et in [("roi_hp", F), ("roi_ohp", F), ("roi_max", F), ("gs_bilinear", F), ("gs_nearest", F),
                  ("gs_bicubic", F), ("pixel_shuffle", F), ("scatter_add", F), ("leaky", F), ("where_i64", I64)]:
        g.out(n, et, None)
    name = "paddle_vision_op16"
    model = mk.save(g, name, opset, PD)
    r = np.random.default_rng(61)
    xy = r.random((5, 2)).astype(np.float32) * 14
    rv = np.concatenate([xy, xy + r.random((5, 2)).astype(np.float32) * 8 + 1], 1)
    mk.case(name, model, [("x", mk.rand(1, 4, 10, 12)), ("rois", rv), ("batch_idx", np.zeros(5, np.int64)),
                          ("grid", (r.random((1, 5, 6, 2)) * 2.4 - 1.2).astype(np.float32))])


def loader_idioms(mk):
    """What older converters put in the file rather than in the graph:
    initializers in typed fields (float_data, int64_data, int32_data for
    int32/int8/uint8/bool/float16 bit patterns, double_data) instead of
    raw_data; nodes with no name and nodes sharing one name; stale
    value_info shapes (batch 1) for intermediates of a dynamic-batch graph;
    extra opset imports (ai.onnx.ml, com.microsoft) and a node whose domain
    is written "ai.onnx"; doc strings and metadata."""
    g = Graph("old")
    x = g.inp("input", F, ["N", 4])
    T = TensorProto
    r = np.random.default_rng(71)
    w = (r.standard_normal((4, 3)) * 0.5).astype(np.float32)
    g.inits.append(helper.make_tensor("w", T.FLOAT, [4, 3], w.flatten().tolist()))
    g.inits.append(helper.make_tensor("shape", T.INT64, [2], [-1, 3]))
    g.inits.append(helper.make_tensor("i32", T.INT32, [3], [1, -2, 3]))
    g.inits.append(helper.make_tensor("i8", T.INT8, [3], [-7, 0, 5]))
    g.inits.append(helper.make_tensor("u8", T.UINT8, [3], [0, 200, 255]))
    g.inits.append(helper.make_tensor("b", T.BOOL, [3], [True, False, True]))
    h = np.array([0.5, -1.25, 3.0], np.float16)
    g.inits.append(helper.make_tensor("f16", T.FLOAT16, [3], h.view(np.uint16).astype(np.int32).tolist()))
    g.inits.append(helper.make_tensor("f64", T.DOUBLE, [3], [0.1, 0.2, -0.3]))
    y = g.op("MatMul", [x, "w"], name="")  # (output names stay unique: see Graph.op)
    y = g.op("Reshape", [y, "shape"], name="dup")
    y = g.op("Add", [y, g.op("Cast", ["i32"], to=F, name="dup")], name="")
    y = g.op("Add", [y, g.op("Cast", ["i8"], to=F, name="")], name="dup")
    y = g.op("Add", [y, g.op("Cast", ["u8"], to=F, name="")], name="")
    y = g.op("Where", ["b", y, g.op("Cast", ["f16"], to=F, name="")], name="")
    g.nodes.append(helper.make_node("Relu", [y], ["relu_out"], name="relu", domain="ai.onnx"))
    g.op("Add", ["relu_out", g.op("Cast", ["f64"], to=F)], outputs=["out"], name="")
    g.op("Cast", ["f16"], to=F, outputs=["f16_out"])
    g.out("out", F, ["N", 3])
    g.out("f16_out", F, [3])
    graph = g.graph()
    graph.doc_string = "converted by an old converter"
    graph.value_info.extend([helper.make_tensor_value_info(y, F, [1, 3]),
                             helper.make_tensor_value_info("relu_out", F, [1, 3])])
    m = helper.make_model(graph, producer_name="onnxmltools", producer_version="1.6.0",
                          opset_imports=[helper.make_opsetid("", 11), helper.make_opsetid("ai.onnx.ml", 2),
                                         helper.make_opsetid("com.microsoft", 1)])
    m.ir_version = 6
    m.doc_string = "typed-field initializers"
    helper.set_model_props(m, {"author": "someone", "framework": "keras"})
    name = "loader_idioms_op11"
    onnx.save_model(m, os.path.join(mk.outdir, name + ".onnx"))
    # ONNX Runtime refuses repeated node names: its twin numbers them
    for k, nd in enumerate(m.graph.node):
        if nd.name == "dup":
            nd.name = "dup_%d" % k
    onnx.save_model(m, os.path.join(mk.outdir, name + "_ort.onnx"))
    mk.case(name, name + ".onnx", [("input", mk.rand(5, 4))], ort_model=name + "_ort.onnx")


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    mk = Maker(outdir)
    for op in (9, 11, 13, 15):
        tf_cnn(mk, op)
    for op in (9, 11, 13):
        tf_shape_arith(mk, op)
    tf_strided_slice(mk, 10)
    tf_strided_slice(mk, 13)
    tf_loop(mk, 11, True)
    tf_loop(mk, 13, False)
    tf_if(mk, 11)
    tf_if(mk, 13)
    tf_resize(mk, 11)
    tf_resize(mk, 13)
    tf_where_mask(mk, 9)
    tf_where_mask(mk, 13)
    tf_gather_scatter(mk)
    tf_transformer(mk, 11)
    tf_transformer(mk, 13)
    tf_identity_edges(mk)
    tf_int32_ops(mk)
    tf_qdq(mk)
    keras_cnn_op9(mk)
    keras_pad_slice(mk, 9)
    keras_pad_slice(mk, 10)
    keras_rnn(mk)
    keras_resize10(mk)
    paddle_mobilenet(mk, 11)
    paddle_mobilenet(mk, 13)
    paddle_split_cast(mk, 11)
    paddle_split_cast(mk, 13)
    paddle_det_post(mk)
    paddle_nms(mk)
    paddle_int64(mk)
    paddle_ernie(mk)
    paddle_op14(mk)
    opset15_17(mk)
    opset18(mk)
    symbolic_dims(mk)
    tf_loop_edges(mk)
    tf_if_shapes(mk)
    tf_dynamic_same(mk)
    tf_optional_io(mk)
    unsorted_nodes(mk)
    misc_shapes(mk)
    keras_upsample_scales(mk)
    paddle_nms_flipped(mk)
    fp16_converted(mk)
    tf_layers_misc(mk)
    loader_idioms(mk)
    paddle_vision16(mk)
    external_data(mk, True)
    external_data(mk, False)
    mk.finish()
    print("%d cases written to %s" % (len(mk.cases), outdir))


if __name__ == "__main__":
    main()
