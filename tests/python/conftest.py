"""Shared fixtures of the Python package's tests (run by `make python-check`,
part of `make check`, with the project's venv: scripts/setup.sh --test)."""
import os
import pathlib
import shutil

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def demo():
    d = ROOT / "examples" / "demo"
    return {"model": str(d / "model.onnx"), "x": np.load(d / "digit.npy"),
            "data": str(d / "data.npy"), "labels": str(d / "labels.npy")}


@pytest.fixture(scope="session")
def models_dir():
    """The models scripts/make_models.py exports into BUILD/models (make e2e
    or make bench make them); NT_MODELS overrides."""
    d = pathlib.Path(os.environ.get("NT_MODELS", ROOT / "build" / "models"))
    if not (d / "resnet18.onnx").exists():
        pytest.skip(f"no exported models in {d} (make e2e exports them)")
    return d


def nntrace_binary() -> str:
    """The nntrace program installed inside the package (to compare the
    Python results with the command line's)."""
    import nntrace
    here = pathlib.Path(nntrace.__file__).parent / "bin" / "nntrace"
    if os.access(here, os.X_OK):
        return str(here)
    found = os.environ.get("NNTRACE_BIN") or shutil.which("nntrace")
    if not found:
        pytest.skip("the nntrace program is not installed with the package")
    return found
