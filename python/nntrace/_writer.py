"""SummaryWriter: TensorBoard event files with the signatures of
``torch.utils.tensorboard.SummaryWriter``, written by libnntrace's writer.

Switching is one line: ``from nntrace import SummaryWriter``.  TensorBoard and
``nntrace serve`` read the result.  ``add_scalars`` writes one subdirectory
per series, as PyTorch does (``LOGDIR/MAIN_TAG_KEY``)."""
from __future__ import annotations

import os
import socket
import time
from datetime import datetime
from typing import Any, Dict, Optional

import numpy as np

from . import _nntrace


def _numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):          # a torch tensor, without importing torch
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _scalar(x: Any) -> float:
    a = _numpy(x)
    if a.size != 1:
        raise ValueError(f"scalar_value must hold one value, not {a.size}")
    return float(a.reshape(()))


def _image_hwc(img: Any, dataformats: str) -> np.ndarray:
    a = _numpy(img)
    fmt = dataformats.upper()
    if sorted(fmt) != sorted(set(fmt)) or not set(fmt) <= set("NCHW") or len(fmt) != a.ndim:
        raise ValueError(f"dataformats {dataformats!r} does not fit an image of shape {a.shape}")
    if "N" in fmt:
        if a.shape[fmt.index("N")] != 1:
            raise ValueError("add_image takes one image; use one call per image")
        a = np.take(a, 0, axis=fmt.index("N"))
        fmt = fmt.replace("N", "")
    if "C" not in fmt:
        a = a[..., None] if fmt == "HW" else a.T[..., None]
        fmt = "HWC"
    a = np.transpose(a, [fmt.index(c) for c in "HWC"])
    if a.shape[2] not in (1, 3, 4):
        raise ValueError(f"an image has 1, 3 or 4 channels, not {a.shape[2]}")
    # As PyTorch: uint8 as is, anything else is taken as [0, 1] and scaled.
    if a.dtype != np.uint8:
        a = np.clip(a.astype(np.float64) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(a)


class SummaryWriter:
    """Writes scalars, histograms, images, text and graphs to an event file
    in ``log_dir`` (default ``runs/DATETIME_HOSTNAME{comment}``, as PyTorch)."""

    def __init__(self, log_dir: Optional[str] = None, comment: str = "", purge_step: Optional[int] = None,
                 max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = ""):
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        os.makedirs(self.log_dir, exist_ok=True)
        self._w: Optional[_nntrace.Writer] = _nntrace.Writer(self.log_dir)
        self._series: Dict[str, _nntrace.Writer] = {}

    # -- PyTorch's API ---------------------------------------------------
    def get_logdir(self) -> str:
        return self.log_dir

    def add_scalar(self, tag: str, scalar_value: Any, global_step: Optional[int] = None,
                   walltime: Optional[float] = None, new_style: bool = False, double_precision: bool = False):
        self._open().scalar(tag, _step(global_step), _wall(walltime), _scalar(scalar_value))

    def add_scalars(self, main_tag: str, tag_scalar_dict: Dict[str, Any], global_step: Optional[int] = None,
                    walltime: Optional[float] = None):
        self._open()
        for key, value in tag_scalar_dict.items():
            sub = os.path.join(self.log_dir, main_tag.replace("/", "_") + "_" + key)
            w = self._series.get(sub)
            if w is None:
                os.makedirs(sub, exist_ok=True)
                w = self._series[sub] = _nntrace.Writer(sub)
            w.scalar(main_tag, _step(global_step), _wall(walltime), _scalar(value))

    def add_histogram(self, tag: str, values: Any, global_step: Optional[int] = None, bins: Any = "tensorflow",
                      walltime: Optional[float] = None, max_bins: Optional[int] = None):
        v = np.ascontiguousarray(_numpy(values), dtype=np.float32).reshape(-1)
        self._open().histogram(tag, _step(global_step), _wall(walltime), v.tobytes())

    def add_image(self, tag: str, img_tensor: Any, global_step: Optional[int] = None,
                  walltime: Optional[float] = None, dataformats: str = "CHW"):
        a = _image_hwc(img_tensor, dataformats)
        self._open().image(tag, _step(global_step), _wall(walltime), a.tobytes(), a.shape[0], a.shape[1], a.shape[2])

    def add_text(self, tag: str, text_string: str, global_step: Optional[int] = None,
                 walltime: Optional[float] = None):
        self._open().text(tag, _step(global_step), _wall(walltime), str(text_string))

    def add_graph(self, model: Any, input_to_model: Any = None, verbose: bool = False,
                  use_strict_trace: bool = True):
        """``model`` is the path of an ONNX file; a torch.nn.Module with
        ``input_to_model`` is exported to ONNX first (needs torch)."""
        if isinstance(model, (str, os.PathLike)):
            self._open().graph(os.fspath(model))
            return
        if input_to_model is None:
            raise ValueError("add_graph: give an ONNX file path, or a torch module with input_to_model")
        import tempfile
        from .torch import export
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "model.onnx")
            export(model, input_to_model, path)
            self._open().graph(path)

    def flush(self):
        for w in [self._w, *self._series.values()]:
            if w is not None:
                w.flush()

    def close(self):
        writers, self._w = [self._w, *self._series.values()], None
        self._series = {}
        for w in writers:
            if w is not None:
                w.close()

    def __enter__(self) -> "SummaryWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _open(self) -> _nntrace.Writer:
        if self._w is None:
            raise ValueError("the SummaryWriter is closed")
        return self._w


def _step(step: Optional[int]) -> int:
    return 0 if step is None else int(step)


def _wall(walltime: Optional[float]) -> float:
    return 0.0 if walltime is None else float(walltime)
