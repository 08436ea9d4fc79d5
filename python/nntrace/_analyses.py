"""doctor, diff, eval and report: what the matching ``nntrace COMMAND --json``
prints, as Python objects.

These run the ``nntrace`` program built with this package (it is the same C
library, linked into a binary installed inside the package), so that their
results are byte for byte those of the command line.  Arrays are handed over
as temporary .npy files.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np

from ._nntrace import Error, InputError

PathLike = Union[str, os.PathLike]


def _binary() -> str:
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "nntrace")
    if os.access(here, os.X_OK):
        return here
    found = os.environ.get("NNTRACE_BIN") or shutil.which("nntrace")
    if not found:
        raise Error("the nntrace program is not installed with this package (reinstall with `pip install .`)")
    return found


def _call(args: List[str], ok_codes=(0, 3)) -> Any:
    r = subprocess.run([_binary()] + args, capture_output=True, text=True)
    if r.returncode not in ok_codes:
        msg = r.stderr.strip() or f"nntrace {args[0]} exited with {r.returncode}"
        raise (InputError if r.returncode in (1, 2) else Error)(msg)
    try:
        return json.loads(r.stdout)
    except json.JSONDecodeError as e:
        raise Error(f"nntrace {args[0]} printed no JSON ({e}): {r.stdout[:200]!r}") from None


def _save(tmp: str, tag: str, value) -> str:
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)
    path = os.path.join(tmp, f"{tag}.npy")
    np.save(path, np.ascontiguousarray(np.asarray(value)))
    return path


def _feed_args(tmp: str, feeds: Optional[Mapping[str, Any]]) -> List[str]:
    args: List[str] = []
    for k, (name, value) in enumerate((feeds or {}).items()):
        args += ["-i", f"{name}={_save(tmp, f'in{k}', value)}"]
    return args


def doctor(path: PathLike, feeds: Optional[Mapping[str, Any]] = None, data: Any = None) -> List[Dict[str, Any]]:
    """The findings of ``nntrace doctor --json`` (NaN/Inf origins first): a
    list of dicts with the keys kind, severity, node, op, output, detail...
    ``feeds`` maps input names to arrays (or .npy paths); ``data`` is a data
    set (samples along axis 0) for dead-unit findings."""
    with tempfile.TemporaryDirectory() as tmp:
        args = ["doctor", os.fspath(path), "--json"] + _feed_args(tmp, feeds)
        if data is not None:
            args += ["--data", _save(tmp, "data", data)]
        return _call(args)["findings"]


def diff(a: PathLike, b: PathLike, feeds: Optional[Mapping[str, Any]] = None,
         atol: Optional[float] = None, rtol: Optional[float] = None) -> Dict[str, Any]:
    """``nntrace diff A B --json``: A and B are run directories, directories of
    .npy files, or two models run on ``feeds``.  Returns first_divergent and
    the per-tensor rows."""
    with tempfile.TemporaryDirectory() as tmp:
        args = ["diff", os.fspath(a), os.fspath(b), "--json"] + _feed_args(tmp, feeds)
        if atol is not None:
            args += ["--atol", repr(float(atol))]
        if rtol is not None:
            args += ["--rtol", repr(float(rtol))]
        return _call(args)


def eval(model: PathLike, data: Any, labels: Any, batch: Optional[int] = None,
         output: Optional[str] = None, task: Optional[str] = None,
         run_dir: Optional[PathLike] = None) -> Dict[str, Any]:
    """``nntrace eval --json``: accuracy, confusion matrix (rows = true class),
    per-class precision/recall/F1/support, loss; ``data`` and ``labels`` are
    arrays or file paths."""
    with tempfile.TemporaryDirectory() as tmp:
        args = ["eval", os.fspath(model), "--data", _save(tmp, "data", data),
                "--labels", _save(tmp, "labels", labels), "--json"]
        if batch is not None:
            args += ["--batch", str(int(batch))]
        if output is not None:
            args += ["--output", output]
        if task is not None:
            args += ["--task", task]
        if run_dir is not None:
            args += ["--run-dir", os.fspath(run_dir)]
        r = _call(args, ok_codes=(0,))
    # arrays went through temporary files that no longer exist
    for key, given in (("data", data), ("labels", labels)):
        if key in r and not isinstance(given, (str, os.PathLike)):
            r[key] = "<array>"
    return r


def report(logdir: Union[PathLike, Sequence[PathLike]], train: Optional[str] = None,
           val: Optional[str] = None) -> Dict[str, Any]:
    """``nntrace report --json`` over one or more log directories (event files
    of any program: nntrace's, PyTorch's SummaryWriter, TensorFlow's):
    ``{"findings": [{"kind", "tag", "step", "detail"}, ...], ...}``."""
    dirs = [logdir] if isinstance(logdir, (str, os.PathLike)) else list(logdir)
    args = ["report"] + [os.fspath(d) for d in dirs] + ["--json"]
    if train is not None:
        args += ["--train", train]
    if val is not None:
        args += ["--val", val]
    return _call(args)
