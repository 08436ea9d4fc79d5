"""doctor, diff, eval, report and analyze from Python (library calls through
the extension) equal their --json command-line forms."""
import json
import subprocess

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import nntrace
from conftest import nntrace_binary


def cli_json(*args):
    r = subprocess.run([nntrace_binary(), *args, "--json"], capture_output=True, text=True)
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


def test_doctor_on_a_data_set_equals_the_command_line(demo):
    data = np.load(demo["data"])
    findings = nntrace.doctor(demo["model"], data=data)
    assert findings == cli_json("doctor", demo["model"], "--data", demo["data"])["findings"]
    assert any(f["kind"] == "dead" for f in findings) or findings == []


def test_diff_of_directories_equals_the_command_line(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.save(a / "t.npy", x)
    x[1, 2] += 0.5
    np.save(b / "t.npy", x)
    r = nntrace.diff(str(a), str(b), atol=0.1)
    assert r == cli_json("diff", str(a), str(b), "--atol", "0.1")
    assert r["first_divergent"] == "t"


def test_report_equals_the_command_line(tmp_path):
    with nntrace.SummaryWriter(str(tmp_path)) as w:
        for step in range(30):
            w.add_scalar("loss/train", 1.0 / (step + 1), step)
            w.add_scalar("loss/val", 0.5 + 0.01 * max(0, step - 10), step)
    assert nntrace.report(str(tmp_path)) == cli_json("report", str(tmp_path))


def _without_timing(r):
    for key in ("seconds", "ms_per_run"):
        r.pop(key)
    return r


def test_analyze_equals_the_command_line(tmp_path, demo):
    np.save(tmp_path / "x.npy", demo["x"])
    r = nntrace.analyze(demo["model"], {"image": demo["x"]}, "occlusion", window=4, stride=2,
                        out_dir=tmp_path / "occ")
    want = cli_json("analyze", demo["model"], "-i", f"image={tmp_path / 'x.npy'}", "--method", "occlusion",
                    "--window", "4", "--stride", "2", "-o", str(tmp_path / "occ"))
    assert _without_timing(r) == _without_timing(want)
    assert r["occlusion"]["window"] == [4, 4] and (tmp_path / "occ" / "occlusion.npy").exists()
    r = nntrace.analyze(demo["model"], {"image": demo["x"]}, "sweep", feature=(0, 0, 3, 5), range=(-1.0, 1.0, 5),
                        target=2)
    want = cli_json("analyze", demo["model"], "-i", f"image={tmp_path / 'x.npy'}", "--method", "sweep",
                    "--feature", "0,0,3,5", "--range", "-1:1:5", "--target", "2")
    assert _without_timing(r) == _without_timing(want)
    assert len(r["sweep"]["target"]) == 5
    with pytest.raises(ValueError, match="no input named 'nope'"):
        nntrace.analyze(demo["model"], {"image": demo["x"]}, "perturb", input="nope")


def test_a_traced_run_leaves_no_tracer_behind(demo):
    s = nntrace.Session(demo["model"])
    seen = []
    s.run({"image": demo["x"]}, tracer=lambda node, values: seen.append(node.name))
    n = len(seen)
    assert n > 0
    plain = s.run({"image": demo["x"]})
    assert len(seen) == n
    again = s.run({"image": demo["x"]}, tracer=lambda node, values: seen.append(node.name))
    assert len(seen) == 2 * n
    for k in plain:
        np.testing.assert_array_equal(plain[k], again[k])
