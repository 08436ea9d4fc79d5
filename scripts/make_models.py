#!/usr/bin/python3
"""make_models.py OUTDIR [--bench] [--only NAME,...] — exports the real models nntrace is
tested and benchmarked on, with PyTorch's ONNX exporter (random weights with a
fixed seed: nothing is downloaded), plus one input per model as .npy.

Models: resnet18, mobilenet_v2, squeezenet (torchvision definitions), a
transformer encoder, an LSTM and a GRU tagger, a small OCR text detector
(DBNet-style: conv backbone, upsampling, sigmoid map), a model with dynamic
batch and sequence dims, one with an If subgraph (scripted control flow), and
vad_like, a Silero-VAD-style detector of ~180 tiny nodes a run with 25 If
nodes (vad_model.py).
Each NAME.onnx gets NAME.input.npy (and NAME.input1.npy... for more inputs).
Opsets vary on purpose (9 to 17) to exercise version dispatch.

These are the small test set `make check` uses.  --bench exports instead the
large models `make bench` adds (ViT, BERT-size, LLaMA-style prefill and
KV-cache step, a quantized CNN, EfficientNet, ConvNeXt, a 1024x1024 UNet):
see bench_models.py.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn


def export(model, args, path, opset, names_in, names_out, dynamic_axes=None, grad=False):
    model.eval()
    with torch.set_grad_enabled(grad):
        torch.onnx.export(model, args, path, opset_version=opset, input_names=names_in,
                          output_names=names_out, dynamic_axes=dynamic_axes, do_constant_folding=True)


class EncoderLayer(nn.Module):
    """A BERT-style encoder layer written out (torch 1.13's fused fast path
    cannot be exported): multi-head self-attention, GELU MLP, post-LayerNorm."""

    def __init__(self, d, heads, ff):
        super().__init__()
        self.h, self.dk = heads, d // heads
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.ff1, self.ff2 = nn.Linear(d, ff), nn.Linear(ff, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, self.h, self.dk).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-1, -2) / self.dk ** 0.5, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = self.ln1(x + self.proj(y))
        return self.ln2(x + self.ff2(nn.functional.gelu(self.ff1(x))))


class Transformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Linear(32, 128)
        self.layers = nn.Sequential(EncoderLayer(128, 4, 256), EncoderLayer(128, 4, 256))
        self.head = nn.Linear(128, 10)

    def forward(self, x):
        return self.head(self.layers(self.emb(x)))


class Tagger(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.rnn = cell(16, 32, num_layers=2, batch_first=True, bidirectional=True)
        self.out = nn.Linear(64, 5)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.out(y)


class OcrDetector(nn.Module):
    """A DBNet-like text detector: strided conv stages, FPN-style upsampling
    (Resize), concatenation, and a sigmoid probability map."""

    def __init__(self):
        super().__init__()
        def block(i, o, s):
            return nn.Sequential(nn.Conv2d(i, o, 3, s, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU())
        self.s1 = nn.Sequential(block(3, 16, 2), block(16, 16, 1))
        self.s2 = nn.Sequential(block(16, 32, 2), block(32, 32, 1))
        self.s3 = nn.Sequential(block(32, 64, 2), block(64, 64, 1))
        self.l1, self.l2, self.l3 = nn.Conv2d(16, 32, 1), nn.Conv2d(32, 32, 1), nn.Conv2d(64, 32, 1)
        self.head = nn.Sequential(block(96, 32, 1), nn.ConvTranspose2d(32, 16, 2, 2), nn.BatchNorm2d(16), nn.ReLU(),
                                  nn.ConvTranspose2d(16, 1, 2, 2), nn.Sigmoid())

    def forward(self, x):
        c1 = self.s1(x)
        c2 = self.s2(c1)
        c3 = self.s3(c2)
        p3 = nn.functional.interpolate(self.l3(c3), scale_factor=4, mode="nearest")
        p2 = nn.functional.interpolate(self.l2(c2), scale_factor=2, mode="bilinear", align_corners=False)
        p1 = self.l1(c1)
        return self.head(torch.cat([p1, p2, p3], dim=1))


class Dynamic(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 16)
        self.norm = nn.LayerNorm(16)

    def forward(self, x):
        h = torch.relu(self.norm(self.proj(x)))
        return h.mean(dim=1), torch.softmax(h, dim=-1)


class WithIf(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            y = x * 2.0 + 1.0
        else:
            y = torch.tanh(x) - 1.0
        return y


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "bench/models"
    only = None
    if "--only" in sys.argv:
        only = set(sys.argv[sys.argv.index("--only") + 1].split(","))
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)

    def want(name):
        return only is None or name in only

    def save_input(name, arrays):
        for k, a in enumerate(arrays):
            np.save(os.path.join(out, f"{name}.input{'' if k == 0 else k}.npy"), a)

    if "--bench" in sys.argv:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from bench_models import export_bench
        export_bench(out, want, export, save_input)
        return

    import torchvision.models as tvm
    img = rng.standard_normal((1, 3, 224, 224)).astype(np.float32)
    for name, ctor, opset in [("resnet18", tvm.resnet18, 13), ("mobilenet_v2", tvm.mobilenet_v2, 12),
                              ("squeezenet", tvm.squeezenet1_1, 9)]:
        if not want(name):
            continue
        m = ctor()
        # Non-trivial BatchNorm statistics so errors in the fold show up.
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.2, 0.2)
                mod.running_var.uniform_(0.5, 1.5)
        export(m, torch.from_numpy(img), f"{out}/{name}.onnx", opset, ["input"], ["logits"])
        save_input(name, [img])
    if want("transformer"):
        x = rng.standard_normal((1, 64, 32)).astype(np.float32)
        export(Transformer(), torch.from_numpy(x), f"{out}/transformer.onnx", 14, ["tokens"], ["logits"])
        save_input("transformer", [x])
    for name, cell, opset in [("lstm", nn.LSTM, 11), ("gru", nn.GRU, 14)]:
        if not want(name):
            continue
        x = rng.standard_normal((2, 20, 16)).astype(np.float32)
        export(Tagger(cell), torch.from_numpy(x), f"{out}/{name}.onnx", opset, ["x"], ["tags"])
        save_input(name, [x])
    if want("ocr_det"):
        x = rng.standard_normal((1, 3, 256, 256)).astype(np.float32)
        m = OcrDetector()
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.2, 0.2)
                mod.running_var.uniform_(0.5, 1.5)
        export(m, torch.from_numpy(x), f"{out}/ocr_det.onnx", 11, ["image"], ["prob"])
        save_input("ocr_det", [x])
    if want("dynamic"):
        x = rng.standard_normal((3, 5, 8)).astype(np.float32)
        export(Dynamic(), torch.from_numpy(x), f"{out}/dynamic.onnx", 17, ["x"], ["pooled", "probs"],
               dynamic_axes={"x": {0: "batch", 1: "seq"}, "pooled": {0: "batch"}, "probs": {0: "batch", 1: "seq"}})
        save_input("dynamic", [x])
    if want("with_if"):
        x = rng.standard_normal((2, 3)).astype(np.float32)
        export(torch.jit.script(WithIf()), torch.from_numpy(x), f"{out}/with_if.onnx", 16, ["x"], ["y"])
        save_input("with_if", [x])
    if want("vad_like"):
        import onnx
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from vad_model import make_vad
        model, inputs = make_vad()
        onnx.save(model, f"{out}/vad_like.onnx")
        save_input("vad_like", inputs)


if __name__ == "__main__":
    main()
