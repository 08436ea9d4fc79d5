"""nntrace.torch.compare: a faithful export shows no divergence; an export
with one weight changed names the module that holds it."""
import numpy as np
import onnx
import pytest
from onnx import numpy_helper

torch = pytest.importorskip("torch")
from nntrace.torch import compare, export  # noqa: E402


class Block(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = torch.nn.Conv2d(c, c, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(c)
        self.act = torch.nn.ReLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x))) + x


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.blocks = torch.nn.Sequential(Block(8), Block(8), Block(8))
        self.head = torch.nn.Linear(8, 5)

    def forward(self, x):
        y = self.blocks(torch.relu(self.stem(x)))
        return self.head(y.mean((2, 3)))


def make():
    torch.manual_seed(0)
    net = Net().eval()
    for m in net.modules():          # non-trivial BatchNorm statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    return net, torch.randn(1, 3, 16, 16)


def test_faithful_export_has_no_divergence():
    net, x = make()
    r = compare(net, x)
    assert r["first_divergent"] is None, r
    assert any(row["module"] == "blocks.1.conv" for row in r["layers"])
    assert all(row["ok"] for row in r["layers"])


def test_one_changed_weight_names_its_module(tmp_path):
    net, x = make()
    path = str(tmp_path / "net.onnx")
    export(net, x, path)
    m = onnx.load(path)
    # the head's weight keeps its name through the export
    init = next(i for i in m.graph.initializer if i.name == "head.weight")
    w = numpy_helper.to_array(init).copy()
    w[2, 3] += 0.5
    init.CopyFrom(numpy_helper.from_array(w, init.name))
    onnx.save(m, path)
    r = compare(net, x, onnx_path=path)
    assert r["first_divergent"] is not None
    assert r["first_divergent"]["module"] == "head"
    assert r["first_divergent"]["max_abs_diff"] > 0.01


def test_changed_conv_weight_in_the_middle(tmp_path):
    net, x = make()
    path = str(tmp_path / "net.onnx")
    export(net, x, path)
    m = onnx.load(path)
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    target = next(n for n in convs if n.name.startswith("/blocks/blocks.1/conv"))
    init = next(i for i in m.graph.initializer if i.name == target.input[1])
    w = numpy_helper.to_array(init).copy()
    w[0, 0, 1, 1] += 1.0
    init.CopyFrom(numpy_helper.from_array(w, init.name))
    onnx.save(m, path)
    r = compare(net, x, onnx_path=path)
    assert r["first_divergent"]["module"] == "blocks.1.conv"
