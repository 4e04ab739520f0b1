"""export(): a Sequential to an ONNX file, checked before any work, written atomically."""
import os

import numpy as np
import onnx

from .._checks import as_array, file_path
from .._version import __version__
from ..io.checkpoint_file import _write_atomically
from ..models import Module, Sequential
from ..nn.layers.containers import LayerStack
from ._graph import OPSET, GraphBuilder, elem_type
from ._registry import find_converter, registered_classes

_WHERE = "bprop.onnx.export"


class ExportStep:
    """One layer's place in the export: the graph, the layer's name in the network ("layers[2].shortcut[0]"),
    its input and output sample shapes (without the batch axis) and the network's dtype. Containers convert
    their layers through convert()."""

    def __init__(self, graph, layer, where, dtype):
        self.graph, self.layer, self.where, self.dtype = graph, layer, where, dtype
        core = layer.core(dtype)
        self.in_shape, self.out_shape = tuple(core.in_shape), tuple(core.out_shape)

    def child(self, layer, where, in_shape):
        """The step of `layer`, a layer of this one, whose input samples have shape in_shape."""
        step = ExportStep(self.graph, layer, where, self.dtype)
        if step.in_shape != tuple(in_shape):  # one layer object used in two places, built for other shapes
            raise ValueError(f"[{_WHERE}] {where} ({layer.name}) was last built for samples of shape {step.in_shape}, "
                             f"but here it gets {tuple(in_shape)}; give each use its own layer object")
        return step

    def convert(self, layer, x, where, in_shape):
        """`layer` (a layer of this one) on x, whose samples have shape in_shape; returns (y, out_shape)."""
        step = self.child(layer, where, in_shape)
        return find_converter(layer)(layer, step, x), step.out_shape

    @property
    def float_attributes_exact(self):
        """Whether a real number given as an ONNX attribute (always float32: Elu's alpha, LayerNormalization's
        epsilon) is the layer's own: for float32 networks. float64 ones get those ops from constants of their
        dtype instead."""
        return self.dtype == np.float32

    def param(self, tensor):
        """A parameter or buffer (a bprop Parameter handle) as an initializer named after it."""
        return self.graph.constant(tensor.value(), f"{self.where}.{tensor.name}")

    def scalar(self, value, hint):
        """A real number of the network's dtype, as a 0-d initializer."""
        return self.graph.constant(np.asarray(value, dtype=self.dtype), f"{self.where}.{hint}")


def _layers_in(model, where):
    """(name, layer) of every layer of the network, containers' layers included, depth first."""
    yield where, model
    if isinstance(model, LayerStack):
        for i, layer in enumerate(model.layers):
            yield from _layers_in(layer, f"{where}.layers[{i}]")
        for i, layer in enumerate(getattr(model, "shortcut", None) or []):
            yield from _layers_in(layer, f"{where}.shortcut[{i}]")


def _check_model(model):
    if isinstance(model, Module):
        raise TypeError(f"[{_WHERE}] a Module's forward is Python code, which export cannot read (its layers alone "
                        "do not say how they connect); build the network as a bprop.Sequential (nn.Residual for "
                        "skip connections) to export it")
    if not isinstance(model, Sequential):
        raise TypeError(f"[{_WHERE}] model must be a bprop.Sequential; got {type(model).__name__}")
    missing = [f"{where} ({type(layer).__name__}"
               + (", written in Python)" if layer._written_in_python() else ")")
               for where, layer in _layers_in(model, "model") if find_converter(layer) is None]
    if missing:
        known = ", ".join(sorted(cls.__name__ for cls in registered_classes()))
        raise TypeError(f"[{_WHERE}] no ONNX converter for {'; '.join(missing)}. Layers written in Python or of "
                        f"classes of your own cannot be exported; the layers that can: {known}")


def _checked_path(path):
    path = file_path(path, "path", _WHERE)
    if os.path.isdir(path):
        raise IsADirectoryError(f"[{_WHERE}] path {path!r:.200} is a directory; give a file name")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"[{_WHERE}] the directory {directory!r:.200} of path does not exist")
    if not os.access(directory, os.W_OK | os.X_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise PermissionError(f"[{_WHERE}] cannot write {path!r:.200}: permission denied")
    return path


def _check_example(model, example_input):
    """Fixes the model's sample shape from example_input (or checks it against the built one) by running
    predict on it: bprop's own checks of its shape, values (NaN, indices out of range) and dtype."""
    if example_input is None:
        if model.input_shape is None:
            raise ValueError(f"[{_WHERE}] the model is not built (its sample shape is unknown): pass example_input, "
                             "a batch of inputs, or call model.build(sample_shape) first")
        return
    x = as_array(example_input, "example_input", _WHERE)
    takes_indices = model._net.takes_indices
    if takes_indices and x.dtype.kind not in "iu":
        raise TypeError(f"[{_WHERE}] the model starts with an Embedding: example_input must hold integer indices; "
                        f"got dtype {x.dtype}")
    if not takes_indices and x.dtype.kind != "f":
        raise TypeError(f"[{_WHERE}] example_input must be a float array (the model computes in "
                        f"{model.dtype.name}); got dtype {x.dtype}")
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(f"[{_WHERE}] example_input must be a batch (samples, *sample_shape) of at least one sample; "
                         f"got shape {x.shape}")
    try:
        model.predict(x)
    except (TypeError, ValueError) as error:
        raise type(error)(f"[{_WHERE}] example_input does not fit the model: {error}") from None


def build_onnx_model(model):
    """The ModelProto of a built Sequential whose layers all have converters."""
    dtype = model.dtype
    graph = GraphBuilder(dtype)
    in_type = np.dtype(np.int64) if model._net.takes_indices else dtype
    sample_shape = tuple(model.input_shape[1:])
    step = ExportStep(graph, model, "model", dtype)
    y = find_converter(model)(model, step, graph.reserve("input"))
    graph.op("Identity", [y], "model", names=[graph.reserve("output")])  # one output name, whatever comes last
    doc = f"bprop {__version__} Sequential ({dtype.name}), exported at opset {OPSET}"
    return graph.model([("input", elem_type(in_type), ["batch", *sample_shape])],
                       [("output", elem_type(dtype), ["batch", *step.out_shape])], doc)


def export(model, path, example_input=None):
    """Write a Sequential model to an ONNX file, for serving runtimes (onnxruntime and others).

    The graph computes ``model.predict``: evaluation mode (dropout off, BatchNorm's running statistics),
    opset 17, one input named "input" and one output named "output" whose first axis is the symbolic
    "batch" (any batch size); the other axes are the model's sample shape. Values are of the model's dtype
    (float32 or float64); a model starting with an Embedding takes int64 indices, and with
    ``padding_idx`` followed by a recurrent layer, the graph derives each sequence's length from its
    padding as bprop does (a sample of padding alone, which predict refuses, gives zero states in
    onnxruntime). onnxruntime's CPU provider has no float64 kernels for convolutions, pooling, the
    recurrent layers and some activations: a float64 file is valid ONNX that other runtimes (or
    ``onnx.reference``) run.

    Parameters
    ----------
    model : bprop.Sequential
        The network; every layer of it (inside nested Sequentials and Residuals too) must be one of
        bprop's layers. A Module cannot be exported: its forward is Python code.
    path : str or os.PathLike
        The file to write (replaced atomically if it exists).
    example_input : numpy.ndarray, optional
        A batch of inputs (samples, *sample_shape): floats, or integer indices for a model starting with an
        Embedding. It fixes the sample shape of a model not built yet, and is run through
        ``model.predict`` to check it fits. Needed unless the model is built.

    Returns
    -------
    str
        The path written.

    Raises
    ------
    TypeError
        For a model that is not a Sequential, a layer without a converter (naming it), or an example of the
        wrong dtype; all before any file is written.
    ValueError
        For an unbuilt model without an example, or an example that does not fit the model.
    OSError
        FileNotFoundError, IsADirectoryError or PermissionError for a path that cannot be written.

    Examples
    --------
    >>> import bprop.onnx
    >>> model = bprop.Sequential([nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)])
    >>> bprop.onnx.export(model, "mlp.onnx", np.zeros((1, 4), np.float32))
    'mlp.onnx'
    >>> import onnxruntime
    >>> session = onnxruntime.InferenceSession("mlp.onnx", providers=["CPUExecutionProvider"])
    >>> x = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    >>> np.allclose(session.run(None, {"input": x})[0], model.predict(x), rtol=1e-4, atol=1e-5)
    True
    """
    _check_model(model)
    path = _checked_path(path)
    _check_example(model, example_input)
    proto = build_onnx_model(model)
    onnx.checker.check_model(proto, full_check=True)  # a converter's mistake shows here, not in a runtime
    _write_atomically(path, proto.SerializeToString())
    return path
