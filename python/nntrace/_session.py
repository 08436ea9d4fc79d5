"""Session: a loaded, planned model that runs on numpy arrays."""
from __future__ import annotations

from typing import Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence, Union

import numpy as np

from . import _nntrace
from ._nntrace import InputError

Dim = Union[int, str, None]


class ValueInfo(NamedTuple):
    """A graph input or output: its name, numpy dtype name and shape (an int
    per static dim, the name of a symbolic dim, None for an unknown one;
    shape None when the rank is unknown)."""
    name: str
    dtype: str
    shape: Optional[List[Dim]]


class Node(NamedTuple):
    """The node a tracer is called after.  ``depth`` is 0 in the top-level
    graph and counts the If/Loop/Scan bodies around nodes inside them."""
    name: str
    op: str
    domain: str
    index: int
    depth: int
    inputs: List[str]
    outputs: List[str]


def _dtype(name: str) -> np.dtype:
    if name == "bfloat16":
        raise InputError("bfloat16 has no numpy dtype: pass the values as float32 through a Cast in the model")
    return np.dtype(name)


def _array(item) -> np.ndarray:
    name, dtype, shape, data = item
    return np.frombuffer(data, dtype=_dtype(dtype)).reshape(shape)


class Session:
    """A model loaded from an ONNX file and planned for ``threads`` threads.

    ``inputs`` and ``outputs`` describe the graph's inputs and outputs.
    ``run`` takes ``{input name: array}`` and returns ``{output name: array}``.
    Errors raise ``nntrace.Error`` (``nntrace.InputError``, also a
    ``ValueError``, for a wrong name, dtype or shape) with the library's
    message.  A Session runs one model at a time: use one per thread."""

    def __init__(self, path: str, threads: int = 1):
        self._s = _nntrace.Session(str(path), int(threads))
        self.path = self._s.path
        self.threads = int(threads)
        self.inputs = [ValueInfo(n, d, s) for n, d, s in self._s.inputs]
        self.outputs = [ValueInfo(n, d, s) for n, d, s in self._s.outputs]

    def __repr__(self) -> str:
        return f"nntrace.Session({self.path!r}, threads={self.threads})"

    def _feeds(self, feeds: Mapping[str, np.ndarray]) -> list:
        if not isinstance(feeds, Mapping):
            raise TypeError("feeds must be a dict {input name: numpy array}")
        known = {i.name: i for i in self.inputs}
        for name in feeds:
            if name not in known:
                raise InputError(f"{self.path}: the model has no input '{name}' (inputs: "
                                 + ", ".join(f"'{n}'" for n in known) + ")")
        missing = [n for n in known if n not in feeds]
        if missing:
            raise InputError(f"{self.path}: input{'s' if len(missing) > 1 else ''} not given: " + ", ".join(missing))
        out = []
        for name, value in feeds.items():
            info = known[name]
            arr = np.asarray(value)
            want = _dtype(info.dtype) if info.dtype != "undefined" else arr.dtype
            if arr.dtype != want:
                raise InputError(f"input '{name}': expected dtype {want.name}, given {arr.dtype.name}")
            # Used in place when already C-contiguous (no copy); otherwise one copy.
            arr = np.ascontiguousarray(arr)
            out.append((name, arr.dtype.name, arr.shape, arr))
        return out

    def run(self, feeds: Mapping[str, np.ndarray],
            tracer: Optional[Callable[[Node, Dict[str, np.ndarray]], None]] = None) -> Dict[str, np.ndarray]:
        """Runs the model.  ``tracer(node, values)``, when given, is called
        after every node (inside If/Loop/Scan bodies too) with ``values``
        mapping each output name to a copy of the output as a numpy array; an
        exception it raises stops the run and propagates.  The GIL is released
        while kernels run."""
        trampoline = None
        if tracer is not None:
            if not callable(tracer):
                raise TypeError("tracer must be callable as tracer(node, values)")

            def trampoline(name, op, domain, index, depth, ins, outs, values):
                tracer(Node(name, op, domain, index, depth, ins, outs), {v[0]: _array(v) for v in values})
        result = self._s.run(self._feeds(feeds), trampoline)
        return {item[0]: _array(item) for item in result}
