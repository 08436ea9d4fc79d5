#!/usr/bin/python3
"""make_demo.py — makes the bundled example in examples/demo/: a small CNN
trained (seeded, about ten seconds on a CPU) to tell four synthetic 16x16
glyphs apart — horizontal bar, vertical bar, cross, box — drawn with random
position, thickness and noise.  Writes:

  model.onnx      Conv-ReLU-MaxPool-Conv-ReLU-GlobalAveragePool-Gemm, opset 13
  digit.npy       one sample, float32 (1, 1, 16, 16)
  data.npy        200 held-out samples, float32 (200, 1, 16, 16)
  labels.npy      their classes, int64 (200,)

The files are committed, so the example needs no Python; this script is how
they were made.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

CLASSES = ["hbar", "vbar", "cross", "box"]


def glyph(rng, c):
    img = np.zeros((16, 16), np.float32)
    t = rng.integers(1, 3)
    a, b = rng.integers(2, 6), rng.integers(10, 14)
    p = rng.integers(4, 12)
    if c in (0, 2):
        img[p:p + t, a:b] = 1
    if c in (1, 2):
        img[a:b, p:p + t] = 1
    if c == 3:
        img[a:a + t, a:b] = img[b - t:b, a:b] = img[a:b, a:a + t] = img[a:b, b - t:b] = 1
    img += rng.normal(0, 0.15, img.shape).astype(np.float32)
    return img


def make(rng, n):
    y = rng.integers(0, 4, n)
    x = np.stack([glyph(rng, c) for c in y])[:, None]
    return x.astype(np.float32), y.astype(np.int64)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "examples/demo"
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    torch.manual_seed(7)
    xtr, ytr = make(rng, 2000)
    xte, yte = make(rng, 200)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(16, 4))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    xt, yt = torch.from_numpy(xtr), torch.from_numpy(ytr)
    for epoch in range(15):
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), 64):
            idx = perm[i:i + 64]
            loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(torch.from_numpy(xte)).argmax(1).numpy() == yte).mean()
    print(f"held-out accuracy {acc:.3f}")
    torch.onnx.export(model, torch.from_numpy(xte[:1]), f"{out}/model.onnx", opset_version=13,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    np.save(f"{out}/digit.npy", xte[:1])
    np.save(f"{out}/data.npy", xte)
    np.save(f"{out}/labels.npy", yte)


if __name__ == "__main__":
    main()
