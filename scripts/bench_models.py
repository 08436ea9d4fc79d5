"""bench_models.py — the large models `make bench` measures, exported by
`make_models.py OUTDIR --bench` (random weights, fixed seed, nothing
downloaded).  They are too slow to export and run for `make check`.

  vit_s16        a ViT-S/16 (torchvision's VisionTransformer with ViT-Small's
                 config: 12 layers, hidden 384, 6 heads; ViT-B/16 is 4x bigger)
  bert_base      a BERT-base-size encoder: embeddings, 12 layers, hidden 768,
                 12 heads, MLP 3072, sequence 128
  llama_prefill  a LLaMA-style decoder (RMSNorm, rotary embeddings, SwiGLU,
                 8 layers, hidden 512) over a 128-token prompt, returning the
                 K/V cache
  llama_decode   the same decoder's KV-cache step: one token, past K/V of 128
                 positions as inputs (dynamic length), present K/V as outputs
  resnet18_int8  ResNet-18 dynamically quantized the way ONNX Runtime's tools
                 do it: DynamicQuantizeLinear + ConvInteger / MatMulInteger
                 (uint8 weights per tensor), rescaled in float
  resnet18_qdq   the same ResNet-18 statically quantized in the QDQ format
                 ONNX Runtime's quantize_static writes (uint8 activations
                 calibrated by nntrace's own stats tracer on the input, int8
                 per-channel weights, int32 biases)
  efficientnet_b0, convnext_t   torchvision definitions
  unet1024       a UNet-like segmenter on a 1024x1024 image (base 16 channels,
                 four levels): large activations, for peak memory
"""
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import helper, numpy_helper, TensorProto

BENCH_MODELS = ["vit_s16", "bert_base", "llama_prefill", "llama_decode", "resnet18_int8", "resnet18_qdq", "efficientnet_b0",
                "convnext_t", "unet1024"]


def randomize_bn(m):
    """Non-trivial BatchNorm statistics so errors in folding show up."""
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.2, 0.2)
            mod.running_var.uniform_(0.5, 1.5)


class EncoderLayer(nn.Module):
    """Post-LayerNorm BERT layer written out (torch 1.13's fused fast path
    cannot be exported)."""

    def __init__(self, d, heads, ff):
        super().__init__()
        self.h, self.dk = heads, d // heads
        self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.proj = nn.Linear(d, d)
        self.ln1, self.ln2 = nn.LayerNorm(d, eps=1e-12), nn.LayerNorm(d, eps=1e-12)
        self.ff1, self.ff2 = nn.Linear(d, ff), nn.Linear(ff, d)

    def heads(self, x):
        b, t, _ = x.shape
        return x.reshape(b, t, self.h, self.dk).transpose(1, 2)

    def forward(self, x, bias):
        b, t, d = x.shape
        q, k, v = self.heads(self.q(x)), self.heads(self.k(x)), self.heads(self.v(x))
        att = torch.softmax(q @ k.transpose(-1, -2) / self.dk ** 0.5 + bias, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = self.ln1(x + self.proj(y))
        return self.ln2(x + self.ff2(nn.functional.gelu(self.ff1(x))))


class Bert(nn.Module):
    def __init__(self, vocab=30522, d=768, layers=12, heads=12, ff=3072, max_len=512):
        super().__init__()
        self.tok, self.pos, self.typ = nn.Embedding(vocab, d), nn.Embedding(max_len, d), nn.Embedding(2, d)
        self.ln = nn.LayerNorm(d, eps=1e-12)
        self.layers = nn.ModuleList(EncoderLayer(d, heads, ff) for _ in range(layers))
        self.pool = nn.Linear(d, d)

    def forward(self, ids, mask):
        t = ids.shape[1]
        pos = torch.arange(t).unsqueeze(0)
        x = self.ln(self.tok(ids) + self.pos(pos) + self.typ(torch.zeros_like(ids)))
        bias = (1.0 - mask[:, None, None, :].to(torch.float32)) * -10000.0
        for layer in self.layers:
            x = layer(x, bias)
        return x, torch.tanh(self.pool(x[:, 0]))


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(1.0 + 0.1 * torch.randn(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class LlamaBlock(nn.Module):
    def __init__(self, d, heads, ff):
        super().__init__()
        self.h, self.dk = heads, d // heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d, bias=False) for _ in range(4))
        self.gate, self.up = nn.Linear(d, ff, bias=False), nn.Linear(d, ff, bias=False)
        self.down = nn.Linear(ff, d, bias=False)
        self.n1, self.n2 = RMSNorm(d), RMSNorm(d)

    def forward(self, x, cos, sin, mask, past_k, past_v):
        b, t, d = x.shape
        n = self.n1(x)
        q, k, v = (p(n).reshape(b, t, self.h, self.dk).transpose(1, 2) for p in (self.q, self.k, self.v))
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        att = q @ k.transpose(-1, -2) / self.dk ** 0.5
        if mask is not None:
            att = att + mask
        y = (torch.softmax(att, dim=-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.o(y)
        n = self.n2(x)
        return x + self.down(nn.functional.silu(self.gate(n)) * self.up(n)), k, v


class Llama(nn.Module):
    def __init__(self, vocab=8192, d=512, layers=8, heads=8, ff=1408):
        super().__init__()
        self.dk = d // heads
        self.emb = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(LlamaBlock(d, heads, ff) for _ in range(layers))
        self.norm = RMSNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.register_buffer("inv_freq", 1.0 / (10000 ** (torch.arange(0, self.dk, 2).float() / self.dk)))

    def run(self, ids, past):
        t = ids.shape[1]
        start = past[0].shape[2] if past else 0
        pos = torch.arange(t).float() + start
        freqs = pos[:, None] * self.inv_freq[None, :]
        emb = torch.cat([freqs, freqs], dim=-1)
        cos, sin = emb.cos(), emb.sin()
        mask = torch.full((t, t), -1e9).triu(1) if t > 1 else None
        x = self.emb(ids)
        present = []
        for i, blk in enumerate(self.blocks):
            x, k, v = blk(x, cos, sin, mask, past[2 * i] if past else None, past[2 * i + 1] if past else None)
            present += [k, v]
        return (self.head(self.norm(x)), *present)


class LlamaPrefill(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, ids):
        return self.m.run(ids, None)


class LlamaDecode(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, ids, *past):
        return self.m.run(ids, list(past))


class UNet(nn.Module):
    def __init__(self, base=16, levels=4):
        super().__init__()
        def block(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, 1, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU(),
                                 nn.Conv2d(o, o, 3, 1, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU())
        ch = [base * 2 ** k for k in range(levels + 1)]
        self.inc = block(3, ch[0])
        self.down = nn.ModuleList(block(ch[k], ch[k + 1]) for k in range(levels))
        self.up = nn.ModuleList(nn.ConvTranspose2d(ch[k + 1], ch[k], 2, 2) for k in reversed(range(levels)))
        self.dec = nn.ModuleList(block(2 * ch[k], ch[k]) for k in reversed(range(levels)))
        self.out = nn.Conv2d(ch[0], 2, 1)

    def forward(self, x):
        skips = [self.inc(x)]
        for d in self.down:
            skips.append(d(nn.functional.max_pool2d(skips[-1], 2)))
        x = skips.pop()
        for up, dec in zip(self.up, self.dec):
            x = dec(torch.cat([skips.pop(), up(x)], dim=1))
        return self.out(x)


def quantize_uint8(w):
    """Asymmetric per-tensor uint8 (scale, zero point) as ONNX Runtime's dynamic quantizer does."""
    lo, hi = min(float(w.min()), 0.0), max(float(w.max()), 0.0)
    scale = (hi - lo) / 255.0 if hi > lo else 1.0
    zp = int(np.clip(round(-lo / scale), 0, 255))
    q = np.clip(np.round(w / scale) + zp, 0, 255).astype(np.uint8)
    return q, np.float32(scale), np.uint8(zp)


def dynamic_quantize(src, dst):
    """Rewrites every Conv and Gemm (transB=1) with a constant weight of a float
    ONNX model into DynamicQuantizeLinear + ConvInteger / MatMulInteger, a Cast
    of the int32 result and a float rescale (+ bias)."""
    m = onnx.load(src)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    nodes, new_inits, k = [], [], 0
    for n in g.node:
        if n.op_type not in ("Conv", "Gemm") or n.input[1] not in inits:
            nodes.append(n)
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        if n.op_type == "Gemm" and (attrs.get("transA", 0) or not attrs.get("transB", 0)):
            nodes.append(n)
            continue
        k += 1
        p = f"q{k}_"
        w = numpy_helper.to_array(inits[n.input[1]])
        if n.op_type == "Gemm":
            w = np.ascontiguousarray(w.T)
        wq, ws, wzp = quantize_uint8(w)
        new_inits += [numpy_helper.from_array(wq, p + "w"), numpy_helper.from_array(np.array(wzp), p + "wzp"),
                      numpy_helper.from_array(np.array(ws), p + "ws")]
        nodes.append(helper.make_node("DynamicQuantizeLinear", [n.input[0]], [p + "x", p + "xs", p + "xzp"]))
        if n.op_type == "Conv":
            nodes.append(helper.make_node("ConvInteger", [p + "x", p + "w", p + "xzp", p + "wzp"], [p + "acc"],
                                          **{a: v for a, v in attrs.items()}))
        else:
            nodes.append(helper.make_node("MatMulInteger", [p + "x", p + "w", p + "xzp", p + "wzp"], [p + "acc"]))
        nodes.append(helper.make_node("Cast", [p + "acc"], [p + "accf"], to=TensorProto.FLOAT))
        nodes.append(helper.make_node("Mul", [p + "xs", p + "ws"], [p + "s"]))
        has_bias = len(n.input) > 2 and n.input[2]
        nodes.append(helper.make_node("Mul", [p + "accf", p + "s"], [p + "y" if has_bias else n.output[0]]))
        if has_bias:
            b = numpy_helper.to_array(inits[n.input[2]])
            if n.op_type == "Conv":
                b = b.reshape(1, -1, 1, 1)
            new_inits.append(numpy_helper.from_array(b.astype(np.float32), p + "b"))
            nodes.append(helper.make_node("Add", [p + "y", p + "b"], [n.output[0]]))
    used = {i for n in nodes for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.node[:]
    g.node.extend(nodes)
    del g.initializer[:]
    g.initializer.extend(keep + new_inits)
    onnx.checker.check_model(m)
    onnx.save(m, dst)


def static_quantize_qdq(src, dst, ranges):
    """Rewrites a float CNN (Conv, Relu, Add, MaxPool, GlobalAveragePool,
    Flatten, Gemm) in the QDQ format ONNX Runtime's quantize_static writes with
    uint8 activations: every activation tensor gets QuantizeLinear ->
    DequantizeLinear (asymmetric uint8 from its calibrated [min, max], so a
    Relu output gets zero point 0 and the Relu becomes redundant), Conv and
    Gemm weights int8 symmetric per output channel, biases int32 with scale
    x_scale * w_scale.  ranges: tensor name -> (min, max)."""
    m = onnx.load(src)
    g = m.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    nodes, new_inits, qparams = [], [], {}

    def act(name):
        """The dequantized stand-in of activation `name` (one Q -> DQ pair per tensor)."""
        if name not in qparams:
            lo, hi = ranges[name]
            lo, hi = min(lo, 0.0), max(hi, 0.0)
            scale = np.float32((hi - lo) / 255.0 if hi > lo else 1.0)
            zp = np.uint8(np.clip(round(-lo / float(scale)), 0, 255))
            new_inits.extend([numpy_helper.from_array(scale, name + "_s"), numpy_helper.from_array(zp, name + "_z")])
            nodes.append(helper.make_node("QuantizeLinear", [name, name + "_s", name + "_z"], [name + "_q"]))
            nodes.append(helper.make_node("DequantizeLinear", [name + "_q", name + "_s", name + "_z"], [name + "_d"]))
            qparams[name] = float(scale)
        return name + "_d"

    def weights(node, xs):
        w = inits[node.input[1]]
        flat = w.reshape(w.shape[0], -1)
        ws = (np.abs(flat).max(axis=1) / 127.0).astype(np.float32)
        ws[ws == 0] = 1.0
        wq = np.clip(np.round(flat / ws[:, None]), -127, 127).astype(np.int8).reshape(w.shape)
        p = node.input[1]
        new_inits.extend([numpy_helper.from_array(wq, p + "_q"), numpy_helper.from_array(ws, p + "_s"),
                          numpy_helper.from_array(np.zeros_like(ws, np.int8), p + "_z")])
        nodes.append(helper.make_node("DequantizeLinear", [p + "_q", p + "_s", p + "_z"], [p + "_d"], axis=0))
        ins = [p + "_d"]
        if len(node.input) > 2 and node.input[2]:
            b = inits[node.input[2]]
            bs = (np.float32(xs) * ws).astype(np.float32)
            bq = np.round(b / bs).astype(np.int32)
            q = node.input[2]
            new_inits.extend([numpy_helper.from_array(bq, q + "_q"), numpy_helper.from_array(bs, q + "_s"),
                              numpy_helper.from_array(np.zeros_like(bq), q + "_z")])
            nodes.append(helper.make_node("DequantizeLinear", [q + "_q", q + "_s", q + "_z"], [q + "_d"], axis=0))
            ins.append(q + "_d")
        return ins

    produced_by_op = {n.output[0] for n in g.node if n.op_type in ("Conv", "Add")}
    for n in g.node:
        if n.op_type in ("Conv", "Gemm") and n.input[1] in inits:
            x = act(n.input[0])
            ins = [x] + weights(n, qparams[n.input[0]])
            nodes.append(helper.make_node(n.op_type, ins, list(n.output), name=n.name,
                                          **{a.name: helper.get_attribute_value(a) for a in n.attribute}))
        elif n.op_type in ("Add", "MaxPool", "GlobalAveragePool", "Flatten", "Relu"):
            if n.op_type == "Relu" and n.input[0] in produced_by_op:
                ins = list(n.input)  # after a Conv/Add: only the Relu's output is quantized
            else:
                ins = [act(i) if i and i not in inits else i for i in n.input]
            nodes.append(helper.make_node(n.op_type, ins, list(n.output), name=n.name,
                                          **{a.name: helper.get_attribute_value(a) for a in n.attribute}))
        else:
            nodes.append(n)
    out = g.output[0].name
    final = act(out)
    used = {i for n in nodes for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.node[:]
    g.node.extend(nodes)
    del g.initializer[:]
    g.initializer.extend(keep + new_inits)
    g.output[0].name = final
    onnx.checker.check_model(m)
    onnx.save(m, dst)


def calibrate(model, x, out):
    """Per-tensor (min, max) of every node output of a float model on input x,
    from nntrace's stats tracer (the binary next to OUTDIR, or $NNTRACE)."""
    import json
    import os
    import subprocess
    import tempfile
    nt = os.environ.get("NNTRACE") or os.path.join(os.path.dirname(os.path.abspath(out)), "nntrace")
    with tempfile.TemporaryDirectory() as tmp:
        np.save(os.path.join(tmp, "x.npy"), x)
        subprocess.run([nt, "run", model, "-i", os.path.join(tmp, "x.npy"), "--trace", "stats",
                        "--run-dir", os.path.join(tmp, "run")], check=True, capture_output=True)
        ranges = {}
        with open(os.path.join(tmp, "run", "stats.jsonl")) as fh:
            for line in fh:
                r = json.loads(line)
                ranges[r["output"]] = (float(r["min"]), float(r["max"]))
    return ranges


def seeded():
    """The same weights and inputs for a model whichever others are exported with it."""
    torch.manual_seed(0)
    return np.random.default_rng(0)


def export_bench(out, want, export, save_input):
    import torchvision.models as tvm
    img = seeded().standard_normal((1, 3, 224, 224)).astype(np.float32)
    if want("vit_s16"):
        seeded()
        m = tvm.VisionTransformer(image_size=224, patch_size=16, num_layers=12, num_heads=6, hidden_dim=384,
                                  mlp_dim=1536)
        # Grad enabled: torch 1.13's MultiheadAttention fast path (not exportable) is skipped.
        export(m, torch.from_numpy(img), f"{out}/vit_s16.onnx", 14, ["image"], ["logits"], grad=True)
        save_input("vit_s16", [img])
    if want("bert_base"):
        rng = seeded()
        ids = rng.integers(0, 30522, (1, 128)).astype(np.int64)
        mask = np.ones((1, 128), np.int64)
        mask[0, 112:] = 0
        export(Bert(), (torch.from_numpy(ids), torch.from_numpy(mask)), f"{out}/bert_base.onnx", 14,
               ["input_ids", "attention_mask"], ["hidden", "pooled"])
        save_input("bert_base", [ids, mask])
    if want("llama_prefill") or want("llama_decode"):
        rng = seeded()
        llama = Llama()
        layers = len(llama.blocks)
        kv = [f"{kind}_{i}" for i in range(layers) for kind in ("k", "v")]
        ids = rng.integers(0, 8192, (1, 128)).astype(np.int64)
        if want("llama_prefill"):
            export(LlamaPrefill(llama), (torch.from_numpy(ids),), f"{out}/llama_prefill.onnx", 14, ["input_ids"],
                   ["logits"] + ["present_" + n for n in kv])
            save_input("llama_prefill", [ids])
        if want("llama_decode"):
            with torch.no_grad():
                past = [t.numpy() for t in llama.run(torch.from_numpy(ids), None)[1:]]
            tok = rng.integers(0, 8192, (1, 1)).astype(np.int64)
            dyn = {"past_" + n: {2: "past"} for n in kv}
            dyn.update({"present_" + n: {2: "total"} for n in kv})
            export(LlamaDecode(llama), (torch.from_numpy(tok), *map(torch.from_numpy, past)),
                   f"{out}/llama_decode.onnx", 14, ["input_ids"] + ["past_" + n for n in kv],
                   ["logits"] + ["present_" + n for n in kv], dynamic_axes=dyn)
            save_input("llama_decode", [tok] + past)
    if want("resnet18_int8"):
        seeded()
        m = tvm.resnet18()
        randomize_bn(m)
        export(m, torch.from_numpy(img), f"{out}/resnet18_int8.float.onnx", 13, ["input"], ["logits"])
        dynamic_quantize(f"{out}/resnet18_int8.float.onnx", f"{out}/resnet18_int8.onnx")
        save_input("resnet18_int8", [img])
    if want("resnet18_qdq"):
        seeded()
        fp = f"{out}/resnet18_qdq.float.onnx"
        m = tvm.resnet18()
        randomize_bn(m)
        export(m, torch.from_numpy(img), fp, 13, ["input"], ["logits"])
        ranges = calibrate(fp, img, out)
        ranges["input"] = (float(img.min()), float(img.max()))
        static_quantize_qdq(fp, f"{out}/resnet18_qdq.onnx", ranges)
        os.remove(fp)  # no input of its own: a stray model for the scripts that run every .onnx here
        save_input("resnet18_qdq", [img])
    for name, ctor in [("efficientnet_b0", tvm.efficientnet_b0), ("convnext_t", tvm.convnext_tiny)]:
        if want(name):
            seeded()
            m = ctor()
            randomize_bn(m)
            export(m, torch.from_numpy(img), f"{out}/{name}.onnx", 13, ["input"], ["logits"])
            save_input(name, [img])
    if want("unet1024"):
        rng = seeded()
        x = rng.standard_normal((1, 3, 1024, 1024)).astype(np.float32)
        m = UNet()
        randomize_bn(m)
        export(m, torch.from_numpy(x), f"{out}/unet1024.onnx", 13, ["image"], ["mask"])
        save_input("unet1024", [x])
