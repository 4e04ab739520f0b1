"""Export of bprop models to ONNX (``import bprop.onnx``, then ``bprop.onnx.export(model, path, x)``), for
serving runtimes such as onnxruntime.

Needs the optional ``onnx`` package (``pip install "bprop[onnx]"``); ``import bprop`` never loads it. One
converter per layer class, in one file per family: _dense.py (Linear, activations, Dropout, Flatten,
Reshape, Embedding), _normalization.py, _conv.py (convolutions, pooling, Upsample), _recurrent.py (RNN,
LSTM, GRU) and _containers.py (Sequential, Residual); _registry.py finds them, _graph.py builds the graph.
"""
try:
    import onnx  # noqa: F401 (only to fail early, with the extra's name)
except ImportError as error:
    raise ImportError('bprop.onnx needs the optional onnx package: pip install "bprop[onnx]" '
                      f"(or pip install onnx); importing it failed: {error}") from error

from . import _containers, _conv, _dense, _normalization, _recurrent  # noqa: F401 (they register converters)
from ._export import export
from ._graph import OPSET

__all__ = ["export", "OPSET"]
