"""nntrace — watch every step a neural network takes, from Python.

The C library does the work; this package gives it numpy in and out:

    import numpy as np, nntrace
    s = nntrace.Session("model.onnx")
    out = s.run({"x": np.zeros((1, 3, 224, 224), np.float32)},
                tracer=lambda node, values: print(node.name, node.op, list(values)))

``Session`` runs a model (optionally calling a tracer after every node),
``doctor``/``diff``/``eval``/``report``/``analyze`` return what the ``--json``
forms of the matching ``nntrace`` commands print (library calls, in process), ``SummaryWriter`` writes TensorBoard
event files with the signatures of ``torch.utils.tensorboard.SummaryWriter``,
and ``nntrace.torch.compare`` finds the first PyTorch module whose output an
ONNX export of it does not reproduce.
"""
from ._nntrace import Error, InputError, version as __version__
from ._session import Node, Session, ValueInfo
from ._analyses import analyze, diff, doctor, eval, report
from ._writer import SummaryWriter

__all__ = ["Error", "InputError", "Node", "Session", "SummaryWriter", "ValueInfo",
           "analyze", "diff", "doctor", "eval", "report", "__version__"]
