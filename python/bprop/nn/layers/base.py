"""The base of every layer (Layer) and the registry of layer classes by name, with what turns a layer into
plain data and back (serialize, deserialize). Each layer wraps one C++ layer (``bprop._core.<Name>_<dtype>``),
where the math lives.

Layers with parameters (Linear, BatchNorm, LayerNorm) fix their dtype when made (``dtype="float32"``
by default; float64 is for gradient checks); layers without parameters take the dtype of the model
they join. ``forward(x, training=False)`` and ``backward(x, y, dy)`` run a single layer on numpy
arrays; models run whole stacks in one call.
"""
import inspect

import numpy as np

from ..._checks import as_array, c_array, flag, index_array, integer
from ..._mode import TrainingFlag
from ..._dtypes import resolve_dtype
from ...autograd.tensor import as_tensor

__all__ = ["Layer"]


# Every layer class bprop defines, by name, as saved files name them: filled as the classes are defined
# (Layer.__init_subclass__), so a new layer needs no list edited. Only bprop's own classes are listed: a
# file never names code to run.
_LAYER_CLASSES = {}


class Layer:
    """Base of all layers: a config and the C++ layer per dtype."""

    _fixed_dtype = None  # set by layers whose parameters fix their dtype
    takes_indices = False  # True for layers whose input is integer indices (Embedding), not values
    training = TrainingFlag()  # what calling the layer on a tensor uses (PyTorch's default: True); see eval()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("bprop.") and not cls.__name__.startswith("_"):
            _LAYER_CLASSES[cls.__name__] = cls

    def __init__(self):
        self._cores = {}

    keeps_shape = False  # True for layers whose output sample shape is their input's (activations, Dropout)

    def implied_input_shape(self):
        """The sample shape this layer implies for its input (a Linear's (in_features,)), or None when it
        implies none: what lets a model build itself from its layers alone, before it sees data."""
        return None

    # -- on tensors (autograd) ------------------------------------------------------------------------
    def __call__(self, x):
        """This layer on a tensor of shape (samples, *sample_shape) (a 1-D tensor is one sample), recorded as one graph node whose backward is
        the layer's own (it writes the parameter gradients). Arrays are taken as constant tensors."""
        x = as_tensor(x, dtype=self._fixed_dtype)
        return self.core(self._fixed_dtype or x.dtype).graph_forward(x, self.training)

    def train(self, mode=True):
        """Training behaviour (dropout active, batch statistics) when called on tensors; returns self."""
        self.training = flag(mode, "mode", f"{type(self).__name__}.train")
        return self

    def eval(self):
        """Evaluation behaviour when called on tensors (dropout off, running statistics); returns self."""
        return self.train(False)

    @property
    def name(self):
        return type(self).__name__

    @property
    def dtype(self):
        """The dtype the layer computes in, or None until a model gives it one."""
        return self._fixed_dtype

    def _make_core(self, dtype):
        raise TypeError(f"[{self.name}] is a Python subclass of nn.Layer with no C++ layer behind it, so it cannot "
                        "run; write its computation on tensors in a bprop.Module's forward instead")

    def core(self, dtype=None):
        """The C++ layer for `dtype` (the layer's own when it has parameters)."""
        dtype = resolve_dtype(dtype if dtype is not None else (self._fixed_dtype or "float32"), self.name)
        if self._fixed_dtype is not None and dtype != self._fixed_dtype:
            raise TypeError(f"[{self.name}] was made with dtype {self._fixed_dtype}; it cannot run in {dtype} "
                            f"(make it with dtype={dtype.name!r})")
        if dtype not in self._cores:
            self._cores[dtype] = self._make_core(dtype)
        return self._cores[dtype]

    def parameters(self):
        """Trainable parameters, in a fixed order (handles sharing the layer's storage)."""
        return list(self.core().parameters()) if self._fixed_dtype is not None else []

    def buffers(self):
        """Saved but untrained state (BatchNorm's running statistics)."""
        return list(self.core().buffers()) if self._fixed_dtype is not None else []

    def named_parameters(self):
        """(name, Parameter) pairs: "weight", "bias", ... (Residual prefixes the inner layer's index)."""
        return [(p.name, p) for p in self.parameters()]

    def named_buffers(self):
        return [(b.name, b) for b in self.buffers()]

    def _core_for_batch(self, x, where):
        if not isinstance(x, np.ndarray) or x.ndim < 2:
            raise ValueError(f"[{self.name}.{where}] x must be a numpy array (samples, *sample_shape) of 2 or more "
                             "dimensions")
        core = self.core(self._fixed_dtype or x.dtype)
        if tuple(core.in_shape) != x.shape[1:]:
            core.build(list(x.shape[1:]))
        return core

    def _input_for_core(self, x, where):
        """x as the C++ layer reads it: its own dtype, or int64 indices for a layer that takes them."""
        if not self.takes_indices:
            return c_array(x)
        return index_array(x, "x", f"{self.name}.{where}")

    def forward(self, x, training=False):
        """This layer alone on a batch x (samples, *sample_shape); returns a new array."""
        core = self._core_for_batch(x, "forward")
        return core.forward(self._input_for_core(x, "forward"), flag(training, "training", f"{self.name}.forward"))

    def backward(self, x, y, dy, accumulate=False):
        """dx for the x, y of the last forward; writes (or adds to) the parameter gradients."""
        core = self._core_for_batch(x, "backward")
        where = f"{self.name}.backward"
        y, dy = (as_array(value, name, where) for value, name in ((y, "y"), (dy, "dy")))
        return core.backward(self._input_for_core(x, "backward"), c_array(y), c_array(dy), bool(accumulate))

    def get_config(self):
        """The constructor's keywords, as plain data: ``type(layer).from_config(layer.get_config())``
        makes the same layer (with freshly initialised parameters)."""
        return {}

    @classmethod
    def from_config(cls, config):
        """A new layer from get_config()'s output; ValueError for a config that does not fit the class."""
        if not isinstance(config, dict):
            raise TypeError(f"[{cls.__name__}.from_config] config must be a dict (get_config()'s output); got "
                            f"{type(config).__name__}")
        try:
            inspect.signature(cls).bind(**config)
        except TypeError as error:  # an unknown, missing or non-str keyword
            raise ValueError(f"[{cls.__name__}.from_config] the config does not fit {cls.__name__}: {error}") from None
        return cls(**config)

    @classmethod
    def tensor_shapes(cls, config):
        """{name: shape} of the parameters and buffers a layer made from `config` holds, from the config
        alone: loading compares a file's tensors with it before building anything, so a small file cannot
        make bprop allocate what its config claims."""
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{self.name}({args})"


def config_size(config, key, where):
    """config[key], a size >= 1, checked: what tensor_shapes reads from a config it has not built."""
    if not isinstance(config, dict):
        raise TypeError(f"[{where}.tensor_shapes] config must be a dict; got {type(config).__name__}")
    if key not in config:
        raise ValueError(f"[{where}.tensor_shapes] the config has no {key!r}")
    return integer(config[key], key, where, minimum=1)



def serialize(layer):
    """{"class": name, "config": get_config()}: a layer as plain data (what saved models hold)."""
    return {"class": layer.name, "config": layer.get_config()}


def layer_class(entry):
    """The bprop layer class a serialized entry names; ValueError for anything else."""
    if not isinstance(entry, dict) or set(entry) != {"class", "config"}:
        raise ValueError(f"[nn.deserialize] expected {{'class': ..., 'config': {{...}}}}; got {entry!r:.200}")
    cls = _LAYER_CLASSES.get(entry["class"]) if isinstance(entry["class"], str) else None
    if cls is None:
        raise ValueError(f"[nn.deserialize] unknown layer class {entry['class']!r:.100}; expected one of "
                         f"{', '.join(_LAYER_CLASSES)}")
    if not isinstance(entry["config"], dict):
        raise ValueError(f"[nn.deserialize] the config of {cls.__name__} must be a dict")
    return cls


def deserialize(entry):
    """A new layer from serialize()'s output. Only bprop's own layer classes are made (a file never
    names code to run); ValueError or TypeError for anything else."""
    return layer_class(entry).from_config(entry["config"])
