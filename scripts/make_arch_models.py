#!/usr/bin/python3
"""make_arch_models.py OUTDIR — small exports of modern architectures for
`make check` (tests/e2e/arch_check.py), with PyTorch's ONNX exporter (Debian's
torch 1.13 + torchvision 0.14, random weights, fixed seed, nothing downloaded).

Sizes are cut down so the whole check runs in about a minute: small images
(32-96 px), fewer or narrower layers where the architecture is a
configuration (ViT, Swin, ConvNeXt, the transformer families), torchvision's
own definitions otherwise.

  vit            torchvision VisionTransformer: 32 px, patch 8, 2 layers, hidden 64
  convnext       torchvision ConvNeXt: 2 stages (32, 64 channels), 64 px
  efficientnet   torchvision efficientnet_b0, 64 px
  swin           torchvision SwinTransformer: embed 32, depths (2, 2), window 4, 64 px
  regnet         torchvision regnet_y_400mf, 64 px
  deeplabv3      torchvision deeplabv3_mobilenet_v3_large (no aux head), 96 px
  ssdlite        torchvision ssdlite320_mobilenet_v3_large with its NMS, 320 px
  bert           a BERT-style encoder (scripts/bench_models.py): 2 layers, hidden 64, 32 tokens
  llama_prefill  a LLaMA-style decoder (RMSNorm, rotary, SwiGLU; 2 layers, hidden 64) on 16 tokens
  llama_decode   its KV-cache step: one token, past K/V of 16 positions
  whisper_enc    a Whisper-style encoder: 2 Conv1d (GELU, stride 2) over 80 mel bins,
                 sinusoidal positions, 2 pre-LayerNorm transformer layers

Writes OUTDIR/NAME.onnx, NAME.input.npy (NAME.input1.npy... for more inputs)
and OUTDIR/manifest.json: {"NAME": {"status": "ok"} | {"status": "skipped",
"reason": ...}} -- a model torch 1.13 cannot export is skipped with the
exporter's reason, never counted as passed.
"""
import json
import math
import os
import sys
import traceback

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_models import Bert, Llama, LlamaDecode, LlamaPrefill, randomize_bn  # noqa: E402


def seeded():
    torch.manual_seed(0)
    return np.random.default_rng(0)


def export(model, args, path, opset, names_in, names_out, dynamic_axes=None, grad=False):
    model.eval()
    with torch.set_grad_enabled(grad):
        torch.onnx.export(model, args, path, opset_version=opset, input_names=names_in, output_names=names_out,
                          dynamic_axes=dynamic_axes, do_constant_folding=True)


class WhisperEncoder(nn.Module):
    """Whisper's encoder shape: conv stem over mel frames, sinusoidal positions,
    pre-LayerNorm self-attention blocks with GELU MLPs, a final LayerNorm."""

    def __init__(self, mels=80, d=64, heads=4, layers=2, frames=64):
        super().__init__()
        self.c1 = nn.Conv1d(mels, d, 3, padding=1)
        self.c2 = nn.Conv1d(d, d, 3, stride=2, padding=1)
        t = frames // 2
        pos = torch.arange(t).float()[:, None] * torch.exp(-math.log(10000) * torch.arange(0, d, 2).float() / d)
        self.register_buffer("pos", torch.cat([pos.sin(), pos.cos()], dim=1))
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(d, heads, 4 * d, dropout=0.0, activation="gelu", batch_first=True,
                                       norm_first=True) for _ in range(layers))
        self.ln = nn.LayerNorm(d)

    def forward(self, mel):
        x = nn.functional.gelu(self.c1(mel))
        x = nn.functional.gelu(self.c2(x)).transpose(1, 2) + self.pos
        for b in self.blocks:
            x = b(x)
        return self.ln(x)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    import torchvision.models as tvm
    from torchvision.models.convnext import CNBlockConfig, ConvNeXt
    from torchvision.models.swin_transformer import SwinTransformer
    manifest = {}

    def save_input(name, arrays):
        for i, a in enumerate(arrays):
            np.save(f"{out}/{name}.input{'' if i == 0 else i}.npy", a)

    def image(px):
        return seeded().standard_normal((1, 3, px, px)).astype(np.float32)

    def vision(name, ctor, px, opset=13, grad=False, outs=("logits",)):
        seeded()
        m = ctor()
        randomize_bn(m)
        img = image(px)
        export(m, torch.from_numpy(img), f"{out}/{name}.onnx", opset, ["image"], list(outs), grad=grad)
        save_input(name, [img])

    def vit():
        def make():
            m = tvm.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=4, hidden_dim=64,
                                      mlp_dim=128, num_classes=10)
            nn.init.normal_(m.heads.head.weight, std=0.5)  # torchvision zeroes the head: logits would all be 0
            return m
        # grad enabled: torch 1.13's MultiheadAttention fast path cannot be exported
        vision("vit", make, 32, 14, True)

    def convnext():
        cfg = [CNBlockConfig(32, 64, 1), CNBlockConfig(64, None, 1)]
        vision("convnext", lambda: ConvNeXt(cfg, stochastic_depth_prob=0.0, num_classes=10), 64)

    def swin():
        vision("swin", lambda: SwinTransformer(patch_size=[4, 4], embed_dim=32, depths=[2, 2], num_heads=[2, 4],
                                               window_size=[4, 4], num_classes=10), 64, 14)

    def deeplab():
        class Seg(nn.Module):
            def __init__(self):
                super().__init__()
                self.m = tvm.segmentation.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None,
                                                                       num_classes=5, aux_loss=False)

            def forward(self, x):
                return self.m(x)["out"]
        vision("deeplabv3", Seg, 96, 13, outs=("mask",))

    def ssdlite():
        seeded()
        m = tvm.detection.ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=5,
                                                        score_thresh=0.0, detections_per_img=20)
        # BatchNorm left at its defaults: randomized statistics saturate the
        # hard-swish head into many exactly tied scores, and then which of
        # the tied boxes NMS keeps depends on the last bit of each score
        m.eval()
        img = (seeded().random((3, 320, 320)) * 1.0).astype(np.float32)
        torch.onnx.export(m, ([torch.from_numpy(img)],), f"{out}/ssdlite.onnx", opset_version=13,
                          input_names=["image"], output_names=["boxes", "scores", "labels"])
        np.save(f"{out}/ssdlite.input.npy", img)

    def bert():
        rng = seeded()
        ids = rng.integers(0, 1000, (1, 32)).astype(np.int64)
        mask = np.ones((1, 32), np.int64)
        mask[0, 28:] = 0
        export(Bert(vocab=1000, d=64, layers=2, heads=4, ff=256, max_len=64),
               (torch.from_numpy(ids), torch.from_numpy(mask)), f"{out}/bert.onnx", 14,
               ["input_ids", "attention_mask"], ["hidden", "pooled"])
        save_input("bert", [ids, mask])

    def llama():
        rng = seeded()
        m = Llama(vocab=512, d=64, layers=2, heads=4, ff=160)
        kv = [f"{kind}_{i}" for i in range(2) for kind in ("k", "v")]
        ids = rng.integers(0, 512, (1, 16)).astype(np.int64)
        export(LlamaPrefill(m), (torch.from_numpy(ids),), f"{out}/llama_prefill.onnx", 14, ["input_ids"],
               ["logits"] + ["present_" + n for n in kv])
        save_input("llama_prefill", [ids])
        with torch.no_grad():
            past = [t.numpy() for t in m.run(torch.from_numpy(ids), None)[1:]]
        tok = rng.integers(0, 512, (1, 1)).astype(np.int64)
        dyn = {"past_" + n: {2: "past"} for n in kv}
        dyn.update({"present_" + n: {2: "total"} for n in kv})
        export(LlamaDecode(m), (torch.from_numpy(tok), *map(torch.from_numpy, past)), f"{out}/llama_decode.onnx",
               14, ["input_ids"] + ["past_" + n for n in kv], ["logits"] + ["present_" + n for n in kv],
               dynamic_axes=dyn)
        save_input("llama_decode", [tok] + past)
        manifest["llama_decode"] = {"status": "ok"}

    def whisper():
        rng = seeded()
        mel = rng.standard_normal((1, 80, 64)).astype(np.float32)
        export(WhisperEncoder(), torch.from_numpy(mel), f"{out}/whisper_enc.onnx", 14, ["mel"], ["hidden"],
               grad=True)
        save_input("whisper_enc", [mel])

    jobs = [("vit", vit), ("convnext", convnext),
            ("efficientnet", lambda: vision("efficientnet", lambda: tvm.efficientnet_b0(num_classes=10), 64)),
            ("swin", swin), ("regnet", lambda: vision("regnet", lambda: tvm.regnet_y_400mf(num_classes=10), 64)),
            ("deeplabv3", deeplab), ("ssdlite", ssdlite), ("bert", bert), ("llama_prefill", llama),
            ("whisper_enc", whisper)]
    only = set(sys.argv[2].split(",")) if len(sys.argv) > 2 else None
    for name, fn in jobs:
        if only and name not in only:
            continue
        try:
            fn()
            manifest[name] = {"status": "ok"}
        except Exception as e:  # the exporter's own reason, reported as a skip
            last = traceback.format_exception_only(type(e), e)[-1].strip()
            manifest[name] = {"status": "skipped", "reason": "torch %s cannot export it: %s" % (torch.__version__,
                                                                                             last[:300])}
            if name == "llama_prefill":
                manifest["llama_decode"] = manifest[name]
        print(name, manifest[name]["status"], file=sys.stderr)
    with open(f"{out}/manifest.json", "w") as fh:
        json.dump(manifest, fh, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
