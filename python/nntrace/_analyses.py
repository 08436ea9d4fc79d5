"""doctor, diff, eval, report and analyze: what the matching
``nntrace COMMAND --json`` prints, as Python objects.

Each calls its library function (include/nntrace/analysis.h) through the
extension, in this process: arrays are read in place, the GIL is released
while the library works, and the results are byte for byte the JSON the
command line prints.  Only ``eval(run_dir=...)``, which records a whole run
directory (run.json, events, eval.json) the way the command line does, runs
the ``nntrace`` program installed with the package.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _nntrace
from ._nntrace import Error, InputError

PathLike = Union[str, os.PathLike]


def _tensor(name: str, value) -> tuple:
    arr = np.ascontiguousarray(np.asarray(value))
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    return (name, arr.dtype.name, arr.shape, arr)


def _feeds(feeds: Optional[Mapping[str, Any]]) -> List[tuple]:
    out = []
    for name, value in (feeds or {}).items():
        if isinstance(value, (str, os.PathLike)):
            value = np.load(os.fspath(value))
        out.append(_tensor(name, value))
    return out


def _parse(text: str) -> Any:
    return json.loads(text)


def doctor(path: PathLike, feeds: Optional[Mapping[str, Any]] = None, data: Any = None) -> List[Dict[str, Any]]:
    """The findings of ``nntrace doctor --json`` (NaN/Inf origins first): a
    list of dicts with the keys kind, severity, node, op, output, detail...
    ``feeds`` maps input names to arrays (or .npy paths); ``data`` is a data
    set (samples along axis 0, bound to the first input) for dead-unit
    findings."""
    if isinstance(data, (str, os.PathLike)):
        data = np.load(os.fspath(data))
    d = _tensor("", data) if data is not None else None
    return _parse(_nntrace.doctor(os.fspath(path), _feeds(feeds), d))["findings"]


def diff(a: PathLike, b: PathLike, feeds: Optional[Mapping[str, Any]] = None,
         atol: Optional[float] = None, rtol: Optional[float] = None) -> Dict[str, Any]:
    """``nntrace diff A B --json``: A and B are run directories, directories of
    .npy files, or two models run on ``feeds``.  Returns first_divergent and
    the per-tensor rows."""
    for name, tol in (("atol", atol), ("rtol", rtol)):
        if tol is not None and not float(tol) >= 0:
            raise InputError(f"{name} must be a number >= 0, not {tol!r}")
    return _parse(_nntrace.diff(os.fspath(a), os.fspath(b), _feeds(feeds),
                                -1.0 if atol is None else float(atol), -1.0 if rtol is None else float(rtol),
                                tempfile.gettempdir()))


def _eval_cli(args: List[str]) -> Any:
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "nntrace")
    binary = here if os.access(here, os.X_OK) else (os.environ.get("NNTRACE_BIN") or shutil.which("nntrace"))
    if not binary:
        raise Error("eval(run_dir=...) needs the nntrace program installed with this package")
    r = subprocess.run([binary] + args, capture_output=True, text=True)
    if r.returncode != 0:
        raise (InputError if r.returncode in (1, 2) else Error)(r.stderr.strip() or f"nntrace eval exited {r.returncode}")
    return json.loads(r.stdout)


def eval(model: PathLike, data: Any, labels: Any, batch: Optional[int] = None,
         output: Optional[str] = None, task: Optional[str] = None,
         run_dir: Optional[PathLike] = None) -> Dict[str, Any]:
    """``nntrace eval --json``: accuracy, confusion matrix (rows = true class),
    per-class precision/recall/F1/support, loss; ``data`` and ``labels`` are
    arrays or file paths.  With ``run_dir`` the run is also recorded there
    (by the nntrace program, as ``eval --run-dir`` does)."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for key, value in (("data", data), ("labels", labels)):
            if isinstance(value, (str, os.PathLike)):
                paths.append(os.fspath(value))
            else:
                paths.append(os.path.join(tmp, f"{key}.npy"))
                np.save(paths[-1], np.ascontiguousarray(np.asarray(value)))
        if run_dir is not None:
            args = ["eval", os.fspath(model), "--data", paths[0], "--labels", paths[1], "--json",
                    "--run-dir", os.fspath(run_dir)]
            for flag, v in (("--batch", batch), ("--output", output), ("--task", task)):
                if v is not None:
                    args += [flag, str(int(v)) if flag == "--batch" else v]
            r = _eval_cli(args)
        else:
            r = _parse(_nntrace.eval(os.fspath(model), paths[0], paths[1], 0 if batch is None else int(batch),
                                     output, task))
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
    if (train is None) != (val is None):
        raise InputError("give both train and val tags, or neither")
    return _parse(_nntrace.report([os.fspath(d) for d in dirs], train, val))


def _pair(v: Union[int, Tuple[int, int], None]) -> Tuple[int, int]:
    if v is None:
        return 0, 0
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


def _index(v: Union[int, Sequence[int], None]) -> Optional[str]:
    if v is None:
        return None
    if isinstance(v, (tuple, list)):
        return ",".join(str(int(x)) for x in v)
    return str(int(v))


def analyze(path: PathLike, feeds: Mapping[str, Any], method: str, input: Optional[str] = None,
            output: Optional[str] = None, target: Union[int, Sequence[int], None] = None,
            layout: Optional[str] = None, out_dir: Optional[PathLike] = None,
            window: Union[int, Tuple[int, int], None] = None, stride: Union[int, Tuple[int, int], None] = None,
            baseline: Union[str, float, None] = None, scales: Optional[Sequence[float]] = None,
            trials: int = 20, seed: int = 0, ranking: str = "auto", top: int = 10,
            feature: Union[int, Sequence[int], None] = None,
            range: Optional[Tuple[float, float, int]] = None) -> Dict[str, Any]:
    """``nntrace analyze --json`` (analysis.json): ``method`` is occlusion,
    perturb or sweep; the options are those of the command line (``window``
    and ``stride`` an int or (h, w); ``target`` and ``feature`` a flat index
    or coordinates; ``range`` (lo, hi, points)).  With ``out_dir`` the maps,
    plots and analysis.json are written there."""
    wh, ww = _pair(window)
    sh, sw = _pair(stride)
    lo, hi, points = (0.0, 0.0, 0) if range is None else (float(range[0]), float(range[1]), int(range[2]))
    if range is not None and points < 1:
        raise InputError("range needs (lo, hi, points) with points >= 1")
    return _parse(_nntrace.analyze(
        os.fspath(path), _feeds(feeds), method, input, output, _index(target), layout,
        None if out_dir is None else os.fspath(out_dir), wh, ww, sh, sw,
        None if baseline is None else (baseline if isinstance(baseline, str) else repr(float(baseline))),
        None if scales is None else [float(s) for s in scales], int(trials), int(seed), ranking, int(top),
        _index(feature), lo, hi, points))
