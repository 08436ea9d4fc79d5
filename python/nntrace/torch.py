"""nntrace.torch — does an ONNX export reproduce its PyTorch module?

``compare(module, args)`` exports the module (or takes the ONNX file given),
runs PyTorch with a forward hook on every submodule and the ONNX model in
nntrace with a tracer, pairs each submodule with the ONNX value that stands
for its output, and names the first submodule (in the order they finish)
whose output the ONNX model does not reproduce.

Pairing uses the exporter's node names: PyTorch >= 1.13 names a node
``/scope/scope/Op`` after the modules it came from (``/layer1/layer1.0/conv1/Conv``
for ``layer1.0.conv1``).  A module's ONNX value is the last output, in
execution order, of a node inside its scope with the shape of the module's
output.  Where the exporter folded a module into the one before it (a
BatchNorm into its Conv), that module has no nodes, and the earlier module's
ONNX value is compared with the folded module's output instead.

torch is imported when these functions are called, not before: the rest of
nntrace works without it.
"""
from __future__ import annotations

import os
import tempfile
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np


def _torch():
    try:
        import torch  # noqa: F401  (the real PyTorch, not this module)
    except ImportError as e:  # pragma: no cover
        raise ImportError("nntrace.torch needs PyTorch (pip install torch, or Debian's python3-torch)") from e
    return torch


def _as_tuple(args: Any) -> tuple:
    return args if isinstance(args, tuple) else (args,)


def export(module: Any, args: Any, path: str, opset: int = 14) -> str:
    """Exports ``module`` on ``args`` to ONNX at ``path`` (inputs named
    input_0, input_1...) and returns the path."""
    torch = _torch()
    args = _as_tuple(args)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            torch.onnx.export(module, args, path, opset_version=opset,
                              input_names=[f"input_{i}" for i in range(len(args))])
    finally:
        module.train(was_training)
    return path


def _module_of(node_name: str) -> Optional[str]:
    """"/layer1/layer1.0/conv1/Conv" -> "layer1.0.conv1"; "" for the root;
    None for names that are not exporter scopes."""
    if not node_name.startswith("/"):
        return None
    parts = node_name.split("/")[1:-1]
    return ".".join(p.split(".")[-1] for p in parts)


def _flat_tensor(out: Any):
    torch = _torch()
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0]
    return None


def compare(module: Any, args: Any, onnx_path: Optional[str] = None, rtol: float = 1e-3,
            atol: float = 1e-4, threads: int = 1) -> Dict[str, Any]:
    """Runs ``module(*args)`` in PyTorch and its ONNX export in nntrace and
    compares every submodule's output with the ONNX value that stands for it.

    Returns ``{"first_divergent": {"node", "module", "output", "max_abs_diff"}
    or None, "layers": [{"module", "node", "output", "max_abs_diff", "ok"}...],
    "unmatched": [module paths with no ONNX value]}``.  An element differs
    when ``|a - b| > atol + rtol * |b|`` (b from PyTorch), as numpy.isclose."""
    torch = _torch()
    from . import Session

    args = _as_tuple(args)
    with tempfile.TemporaryDirectory() as tmp:
        path = onnx_path or export(module, args, os.path.join(tmp, "model.onnx"))

        # PyTorch: every submodule's output, in the order the modules finish.
        finished: List[Tuple[str, np.ndarray]] = []
        names = {m: n for n, m in module.named_modules()}
        hooks = []

        def hook(mod, inputs, output):
            t = _flat_tensor(output)
            if t is not None:
                finished.append((names[mod], t.detach().cpu().numpy().copy()))
        for m in names:
            hooks.append(m.register_forward_hook(hook))
        was_training = module.training
        module.eval()
        try:
            with torch.no_grad():
                module(*args)
        finally:
            module.train(was_training)
            for h in hooks:
                h.remove()

        # nntrace: every node output, in execution order.
        session = Session(path, threads=threads)
        feeds = {}
        for info, a in zip(session.inputs, args):
            feeds[info.name] = np.ascontiguousarray(a.detach().cpu().numpy())
        produced: List[Tuple[str, str, np.ndarray]] = []   # (module path, node, output name, value)

        def tracer(node, values):
            scope = _module_of(node.name)
            for name, v in values.items():
                produced.append((scope, node.name, name, v))
        session.run(feeds, tracer=tracer)

    in_scope: Dict[str, List[Tuple[str, str, np.ndarray]]] = {}
    for scope, node, name, v in produced:
        if scope is None:
            continue
        parts = scope.split(".") if scope else []
        for k in range(len(parts) + 1):
            in_scope.setdefault(".".join(parts[:k]), []).append((node, name, v))

    layers, unmatched = [], []
    first = None
    for i, (path_, want) in enumerate(finished):
        nodes = in_scope.get(path_, [])
        pick = next(((n, o, v) for n, o, v in reversed(nodes) if v.shape == want.shape), None)
        if pick is None:
            if path_ and not nodes:
                unmatched.append(path_)
            continue
        node, out, got = pick
        # A module folded into this one (no nodes of its own, finishing right
        # after it) may be what the ONNX value computes.
        candidates = [want]
        for later, later_out in finished[i + 1:]:
            if in_scope.get(later):
                break
            if later_out.shape == want.shape:
                candidates.append(later_out)
        diffs = []
        for c in candidates:
            if got.dtype.kind in "fc" or c.dtype.kind in "fc":
                d = np.abs(got.astype(np.float64) - c.astype(np.float64))
                bad = ~np.isclose(got.astype(np.float64), c.astype(np.float64), rtol=rtol, atol=atol, equal_nan=True)
            else:
                d = np.abs(got.astype(np.int64) - c.astype(np.int64)).astype(np.float64)
                bad = d > 0
            diffs.append((bool(bad.any()), float(np.nanmax(d)) if d.size else 0.0))
        ok_diffs = [d for bad, d in diffs if not bad]
        ok = bool(ok_diffs)
        max_abs = min(ok_diffs) if ok else diffs[0][1]
        row = {"module": path_ or "(root)", "node": node, "output": out, "max_abs_diff": max_abs, "ok": ok}
        layers.append(row)
        if not ok and first is None:
            first = {"node": node, "module": row["module"], "output": out, "max_abs_diff": max_abs}
    return {"first_divergent": first, "layers": layers, "unmatched": unmatched}
