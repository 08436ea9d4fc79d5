"""nntrace.SummaryWriter read by TensorBoard's own EventAccumulator; the
CLI's run directories too; and PyTorch's SummaryWriter read by nntrace."""
import subprocess

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import nntrace


def accumulate(path):
    ea = EventAccumulator(str(path), size_guidance={"scalars": 0, "histograms": 0, "images": 0, "tensors": 0})
    ea.Reload()
    return ea


def test_everything_written_reads_back_in_tensorboard(tmp_path, demo):
    values = np.random.default_rng(0).normal(size=1000)
    with nntrace.SummaryWriter(str(tmp_path)) as w:
        for step in range(10):
            w.add_scalar("loss/train", 1.0 / (step + 1), step)
        w.add_scalar("timed", 3.5, 0, walltime=1234567.0)
        w.add_histogram("weights", values, 7)
        w.add_image("chw", np.random.rand(3, 8, 6), 1)
        w.add_image("hwc", (np.random.rand(5, 4, 3) * 255).astype(np.uint8), 1, dataformats="HWC")
        w.add_image("hw", np.random.rand(5, 4), 1, dataformats="HW")
        w.add_text("notes", "**bold** text", 2)
        w.add_graph(demo["model"])
        w.add_scalars("acc", {"train": 0.9, "val": 0.8}, 3)
    ea = accumulate(tmp_path)
    tags = ea.Tags()
    assert [round(e.value, 6) for e in ea.Scalars("loss/train")] == [round(1 / (s + 1), 6) for s in range(10)]
    assert [e.step for e in ea.Scalars("loss/train")] == list(range(10))
    assert ea.Scalars("timed")[0].wall_time == 1234567.0
    h = ea.Histograms("weights")[0]
    assert h.step == 7 and h.histogram_value.num == 1000
    assert abs(h.histogram_value.sum - values.sum()) < 1e-2
    assert set(tags["images"]) == {"chw", "hwc", "hw"}
    assert (ea.Images("chw")[0].height, ea.Images("chw")[0].width) == (8, 6)
    assert ea.Tensors("notes")[0].tensor_proto.string_val == [b"**bold** text"]
    assert tags["graph"] and len(ea.Graph().node) > 0
    for key, want in (("train", 0.9), ("val", 0.8)):
        sub = accumulate(tmp_path / f"acc_{key}")
        assert abs(sub.Scalars("acc")[0].value - want) < 1e-6


def test_closed_writer_refuses(tmp_path):
    w = nntrace.SummaryWriter(str(tmp_path))
    w.close()
    with pytest.raises(ValueError, match="closed"):
        w.add_scalar("x", 1.0, 0)
    with pytest.raises(ValueError):
        nntrace.SummaryWriter(str(tmp_path / "b")).add_image("bad", np.zeros((2, 8, 8)), 0)


def test_cli_run_directory_reads_in_tensorboard(tmp_path, demo):
    from conftest import nntrace_binary
    rd = tmp_path / "run"
    subprocess.run([nntrace_binary(), "run", demo["model"], "-i", f"image={demo['data']}", "--trace", "stats",
                    "--run-dir", str(rd)], check=True, capture_output=True)
    ea = accumulate(rd)
    tags = ea.Tags()
    assert tags["graph"]
    assert len(tags["histograms"]) > 0 or len(tags["scalars"]) > 0


def test_report_reads_pytorch_summary_writer(tmp_path):
    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    w = torch_tb.SummaryWriter(str(tmp_path))
    rng = np.random.default_rng(1)
    for step in range(100):
        w.add_scalar("loss/train", 2.0 * np.exp(-step / 20) + 0.01 * rng.random(), step)
        val = 2.0 * np.exp(-step / 20) + 0.2 + (0.02 * (step - 40) if step > 40 else 0.0) + 0.01 * rng.random()
        w.add_scalar("loss/val", val, step)
    w.close()
    r = nntrace.report(str(tmp_path))
    over = [f for f in r["findings"] if f["kind"] == "overfitting"]
    assert over, r["findings"]
    assert 30 <= over[0]["step"] <= 50
