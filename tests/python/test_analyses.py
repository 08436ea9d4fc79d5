"""doctor, diff, eval from Python equal their --json command-line forms."""
import json
import subprocess

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import nntrace
from nntrace._analyses import _binary


def cli_json(*args):
    r = subprocess.run([_binary(), *args, "--json"], capture_output=True, text=True)
    assert r.returncode in (0, 3), r.stderr
    return json.loads(r.stdout)


def test_doctor_finds_nan_origin(tmp_path):
    from onnx import TensorProto as T, helper as h
    g = h.make_graph([h.make_node("Log", ["x"], ["y"], name="log"), h.make_node("Relu", ["y"], ["z"], name="relu")],
                     "g", [h.make_tensor_value_info("x", T.FLOAT, [3])], [h.make_tensor_value_info("z", T.FLOAT, [3])])
    path = str(tmp_path / "nan.onnx")
    onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 17)]), path)
    findings = nntrace.doctor(path, {"x": np.array([1.0, -3.2, 2.0], np.float32)})
    assert findings[0]["kind"] == "nan" and findings[0]["node"] == "log"
    np.save(tmp_path / "x.npy", np.array([1.0, -3.2, 2.0], np.float32))
    assert findings == cli_json("doctor", path, "-i", f"x={tmp_path / 'x.npy'}")["findings"]


def test_diff_of_two_models_names_the_changed_weight(tmp_path, demo):
    m = onnx.load(demo["model"])
    init = m.graph.initializer[0]
    w = numpy_helper.to_array(init).copy()
    w.flat[0] += 1.0
    init.CopyFrom(numpy_helper.from_array(w, init.name))
    changed = str(tmp_path / "changed.onnx")
    onnx.save(m, changed)
    r = nntrace.diff(demo["model"], changed, {"image": demo["x"]})
    assert r["first_divergent"] is not None
    np.save(tmp_path / "x.npy", demo["x"])
    want = cli_json("diff", demo["model"], changed, "-i", f"image={tmp_path / 'x.npy'}")
    assert r["first_divergent"] == want["first_divergent"]
    same = nntrace.diff(demo["model"], demo["model"], {"image": demo["x"]})
    assert same["first_divergent"] is None


def test_eval_equals_the_command_line(demo):
    r = nntrace.eval(demo["model"], np.load(demo["data"]), np.load(demo["labels"]))
    want = cli_json("eval", demo["model"], "--data", demo["data"], "--labels", demo["labels"])
    assert r["data"] == r["labels"] == "<array>"
    for volatile in ("data", "labels", "elapsed_ms"):
        r.pop(volatile, None)
        want.pop(volatile, None)
    assert r == want
    assert 0.0 <= r["accuracy"] <= 1.0


def test_errors_carry_the_message(tmp_path):
    with pytest.raises(ValueError, match="nope.onnx"):
        nntrace.doctor(str(tmp_path / "nope.onnx"), {})
