"""nntrace.Session against ONNX Runtime: outputs, and every traced
intermediate; bad input raises with the library's message."""
import threading

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import nntrace


def ort_run(path, feeds, extra_outputs=()):
    m = onnx.load(path)
    have = {o.name for o in m.graph.output}
    for name in extra_outputs:
        if name not in have:
            m.graph.output.append(onnx.ValueInfoProto(name=name))
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    s = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    names = [o.name for o in s.get_outputs()]
    return dict(zip(names, s.run(names, feeds)))


def test_inputs_outputs_describe_the_graph(demo):
    s = nntrace.Session(demo["model"])
    assert [(i.name, i.dtype) for i in s.inputs] == [("image", "float32")]
    assert s.inputs[0].shape == ["batch", 1, 16, 16]
    assert s.outputs[0].name == "logits"


@pytest.mark.parametrize("name", ["demo", "resnet18", "transformer", "lstm", "gru", "with_if", "dynamic"])
def test_outputs_equal_onnxruntime(name, demo, request):
    if name == "demo":
        path, x = demo["model"], demo["x"]
    else:
        d = request.getfixturevalue("models_dir")
        path, x = str(d / f"{name}.onnx"), np.load(d / f"{name}.input.npy")
    s = nntrace.Session(path)
    feeds = {s.inputs[0].name: x}
    got = s.run(feeds)
    want = ort_run(path, feeds)
    assert set(got) == {o.name for o in s.outputs}
    for k, v in got.items():
        np.testing.assert_allclose(v, want[k], rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("threads", [1, 2])
def test_tracer_values_equal_onnxruntime_intermediates(models_dir, threads):
    path, x = str(models_dir / "resnet18.onnx"), np.load(models_dir / "resnet18.input.npy")
    s = nntrace.Session(path, threads=threads)
    seen = {}
    nodes = []

    def tracer(node, values):
        nodes.append(node)
        assert set(values) <= set(node.outputs)
        for k, v in values.items():
            seen[k] = v
    out = s.run({s.inputs[0].name: x}, tracer=tracer)
    assert len(nodes) == len(onnx.load(path).graph.node)
    want = ort_run(path, {s.inputs[0].name: x}, extra_outputs=list(seen))
    for k, v in seen.items():
        np.testing.assert_allclose(v, want[k], rtol=1e-3, atol=1e-4, err_msg=k)
    # the traced run and an untraced one agree bit for bit
    again = s.run({s.inputs[0].name: x})
    for k in out:
        assert np.array_equal(out[k], again[k])


def test_nodes_inside_if_bodies_reach_the_tracer(models_dir):
    s = nntrace.Session(str(models_dir / "with_if.onnx"))
    depths = []
    s.run({s.inputs[0].name: np.load(models_dir / "with_if.input.npy")}, tracer=lambda n, v: depths.append(n.depth))
    assert max(depths) >= 1


def test_bad_input_raises_value_error_with_the_message(demo):
    s = nntrace.Session(demo["model"])
    x = demo["x"]
    with pytest.raises(ValueError, match="no input 'nope'"):
        s.run({"nope": x})
    with pytest.raises(ValueError, match="not given: image"):
        s.run({})
    with pytest.raises(nntrace.InputError, match="expected dtype float32, given float64"):
        s.run({"image": x.astype(np.float64)})
    with pytest.raises(ValueError, match="expected shape"):
        s.run({"image": x[..., :3]})
    with pytest.raises(TypeError):
        s.run([x])
    # a non-contiguous view is accepted (copied once) and gives the same result
    wide = np.zeros((1, 1, 16, 32), np.float32)
    wide[..., ::2] = x
    np.testing.assert_array_equal(s.run({"image": wide[..., ::2]})["logits"], s.run({"image": x})["logits"])


def test_bad_files_raise_error_naming_the_file(tmp_path):
    with pytest.raises(nntrace.Error, match="nonexistent.onnx"):
        nntrace.Session(str(tmp_path / "nonexistent.onnx"))
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x0a\xff\xff\xff\xff\x0f garbage")
    with pytest.raises(nntrace.Error, match="junk.onnx"):
        nntrace.Session(str(junk))
    with pytest.raises(ValueError):
        nntrace.Session(str(junk), threads=0)


def test_tracer_exception_stops_the_run_and_propagates(demo):
    s = nntrace.Session(demo["model"])
    calls = []

    def tracer(node, values):
        calls.append(node.name)
        raise KeyError("stop here")
    with pytest.raises(KeyError, match="stop here"):
        s.run({"image": demo["x"]}, tracer=tracer)
    assert len(calls) == 1
    assert s.run({"image": demo["x"]})["logits"].shape == (1, 4)   # the session is still usable


def test_gil_is_released_while_kernels_run(models_dir):
    s = nntrace.Session(str(models_dir / "resnet18.onnx"))
    x = np.load(models_dir / "resnet18.input.npy")
    ticks = 0
    done = threading.Event()

    def count():
        nonlocal ticks
        while not done.is_set():
            ticks += 1
    t = threading.Thread(target=count)
    t.start()
    try:
        before = ticks
        for _ in range(3):
            s.run({s.inputs[0].name: x})
        during = ticks - before
    finally:
        done.set()
        t.join()
    assert during > 1000   # the counting thread ran while the model did
