"""Layers written in Python: what runs a Python subclass of nn.Layer inside a C++ network.

The C++ side (cpp/bindings/python_layer.h) calls an adapter made here, which turns either kind of user
layer into one protocol on numpy arrays (output_shape, forward, infer, backward):
  - array kind: the class defines ``forward(x)`` and ``backward(x, y, dy)`` on numpy arrays; backward
    returns dx and sets each parameter's gradient (``p.grad = ...``);
  - autograd kind: the class defines only ``forward(x)`` on Tensors; the adapter records the forward's
    graph (x as a tensor requiring grad) and its backward asks that graph for dx and the parameters'
    gradients, so the user writes no derivative.
This module also finds a Python layer's parameters (its attributes that are Parameters, or what its own
parameters() returns), their names, its dtype and its default config. It never imports base.py (which
imports it).
"""
import inspect
import weakref

import numpy as np

from ... import _core
from ..._dtypes import core_class
from ..._mode import evaluating
from ...autograd.parameter import is_parameter
from ...autograd.tensor import Tensor, enable_grad, no_grad, tensor

__all__ = ["make_core", "attribute_parameters", "named_parameters", "parameters_dtype", "default_config",
           "is_array_kind"]


def is_array_kind(cls, base):
    """Whether a Python layer class writes its own backward (on arrays); else autograd differentiates its
    forward (on tensors). base: nn.Layer, whose backward runs a C++ layer."""
    return cls.backward is not base.backward


def attribute_parameters(layer):
    """(attribute name, Parameter) for the layer's attributes that are Parameters, or non-empty lists or
    tuples of them ("weights.0"), in assignment order, each parameter once."""
    found, seen = [], set()
    for name, value in vars(layer).items():
        if is_parameter(value):
            items = [(name, value)]
        elif isinstance(value, (list, tuple)) and value and all(is_parameter(v) for v in value):
            items = [(f"{name}.{i}", v) for i, v in enumerate(value)]
        else:
            continue
        for item in items:
            if item[1] not in seen:
                seen.add(item[1])
                found.append(item)
    return found


def named_parameters(layer):
    """(name, Parameter) for layer.parameters(), in its order: named by the attribute holding each (else
    the Parameter's own name). TypeError for a non-parameter, ValueError for two of one name or for
    parameters replaced since the layer first ran (its C++ layer keeps the first ones)."""
    where = type(layer).__name__
    params = list(layer.parameters())
    for i, p in enumerate(params):
        if not is_parameter(p):
            raise TypeError(f"[{where}.parameters] item {i} is a {type(p).__name__}, not a bprop.Parameter")
    by_attribute = {p: name for name, p in attribute_parameters(layer)}
    named = [(by_attribute.get(p, p.name), p) for p in params]
    names = [name for name, _ in named]
    if len(set(names)) != len(names):
        raise ValueError(f"[{where}.parameters] two parameters are named alike ({names}); hold each in its own "
                         "attribute or give each a distinct name")
    running = layer.__dict__.get("_running_parameters")
    if running is not None and (len(running) != len(params) or any(a is not b and a != b
                                                                      for a, b in zip(running, params))):
        raise ValueError(f"[{where}] its parameters were replaced after the layer first ran; create them in "
                         "__init__ and change their values with p.set_value(array)")
    return named


def parameters_dtype(layer):
    """The one dtype of the layer's parameters, or None without any; TypeError on a mix."""
    dtypes = {np.dtype(p.dtype) for p in layer.parameters() if is_parameter(p)}
    if len(dtypes) > 1:
        raise TypeError(f"[{type(layer).__name__}] its parameters mix dtypes {sorted(d.name for d in dtypes)}; "
                        "make them with one dtype (bprop.Parameter(data, dtype='float32'))")
    return dtypes.pop() if dtypes else None


def default_config(layer):
    """The constructor's keywords, read from the attributes of the same names (scikit-learn's rule):
    ValueError naming the argument when one is not kept as plain data, with what to do instead."""
    cls = type(layer)
    config = {}
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        value = layer.__dict__.get(name, inspect.Parameter.empty)
        if value is inspect.Parameter.empty or not _plain(value):
            raise ValueError(f"[{cls.__name__}.get_config] its constructor takes {name!r}, which is not kept as "
                             f"plain data in self.{name}: define get_config(self) returning the constructor's "
                             "keywords (as Keras asks of custom layers)")
        config[name] = value
    return config


def _plain(value):
    """JSON-able data: what a saved config may hold."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def _accepts_training(method):
    try:
        parameters = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False
    return "training" in parameters or any(p.kind == p.VAR_KEYWORD for p in parameters.values())


class _Adapter:
    """What the C++ layer calls, on numpy arrays. It holds the layer weakly: the layer holds its C++ layer,
    which holds this, and a cycle through C++ is one Python's collector cannot see."""

    def __init__(self, layer, array_kind):
        self._layer = weakref.ref(layer)
        self._name = type(layer).__name__
        self._array_kind = array_kind
        self._training_keyword = _accepts_training(layer.forward)
        self._graph = None  # autograd kind: (x, y) tensors of the last forward, for its backward

    def _get(self):
        layer = self._layer()
        if layer is None:
            raise ValueError(f"[{self._name}] the Python layer was deleted while its network still runs")
        return layer

    def _run_forward(self, layer, x, training):
        out = layer.forward(x, training=training) if self._training_keyword else layer.forward(x)
        if self._array_kind:
            return out
        if is_parameter(out):
            out = out.tensor
        if not isinstance(out, Tensor):
            raise TypeError(f"[{self._name}.forward] returned a {type(out).__name__}; a layer without backward() "
                            "computes on Tensors and returns one (or define backward(x, y, dy) for numpy arrays)")
        return out

    def output_shape(self, in_shape):
        """The output sample shape: compute_output_shape((None, *in_shape)) when the class defines it,
        else the shape of the forward of one sample of zeros (evaluation mode, nothing recorded)."""
        layer = self._get()
        compute = getattr(layer, "compute_output_shape", None)
        if compute is not None:
            shape = compute((None, *in_shape))
            if not isinstance(shape, (tuple, list)) or len(shape) < 2 or shape[0] is not None:
                raise ValueError(f"[{self._name}.compute_output_shape] must return (None, *sample_shape), as it is "
                                 f"given (None, {', '.join(map(str, in_shape))}); got {shape!r:.100}")
            return tuple(shape[1:])
        dtype = layer.dtype or np.float32
        out = self.infer(np.zeros((1, *in_shape), dtype=dtype))
        return tuple(np.shape(out)[1:])

    def forward(self, x, training):
        layer = self._get()
        if self._array_kind:
            if training:
                return self._run_forward(layer, x, True)
            with evaluating():
                return self._run_forward(layer, x, False)
        self._graph = None
        with enable_grad():
            xt = tensor(x, requires_grad=True)
            if training:
                yt = self._run_forward(layer, xt, True)
            else:
                with evaluating():
                    yt = self._run_forward(layer, xt, False)
        self._graph = (xt, yt)
        return yt.numpy()

    def infer(self, x):
        layer = self._get()
        with evaluating():
            if self._array_kind:
                return self._run_forward(layer, x, False)
            with no_grad():
                return self._run_forward(layer, tensor(x), False).numpy()

    def backward(self, x, y, dy):
        layer = self._get()
        if self._array_kind:
            return layer.backward(x, y, dy)
        if self._graph is None:
            raise ValueError(f"[{self._name}.backward] needs the forward just before it (the graph it recorded); "
                             "run forward first")
        xt, yt = self._graph
        self._graph = None  # one backward per forward, as the graph is freed
        trainable = [p for p in layer.parameters() if p.requires_grad]
        if not yt.requires_grad:  # the output depends on nothing differentiable
            return np.zeros_like(x)
        inputs = [xt] + [p.tensor for p in trainable]
        grads = _core.ag_grad([yt], [tensor(dy, dtype=yt.dtype)], inputs, False, False)
        for p, g in zip(trainable, grads[1:]):
            if g is not None:
                p.grad = np.array(g.numpy(), dtype=p.dtype)
        return np.zeros_like(x) if grads[0] is None else np.array(grads[0].numpy())


def make_core(layer, dtype, base):
    """The C++ layer running `layer` (a Python subclass of base, nn.Layer) in `dtype`."""
    params = [p for _, p in named_parameters(layer)]
    array_kind = is_array_kind(type(layer), base)
    core = core_class("PythonLayer", dtype)(type(layer).__name__, _Adapter(layer, array_kind), params,
                                            not array_kind)
    layer.__dict__["_running_parameters"] = params
    return core
