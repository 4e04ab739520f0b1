"""Layers. Each wraps one C++ layer (``bprop._core.<Name>_<dtype>``), where the math lives.

Layers with parameters (Linear, BatchNorm, LayerNorm) fix their dtype when made (``dtype="float32"``
by default; float64 is for gradient checks); layers without parameters take the dtype of the model
they join. ``forward(x, training=False)`` and ``backward(x, y, dy)`` run a single layer on numpy
arrays; models run whole stacks in one call.
"""
import inspect

import numpy as np

from .. import _activation_table as activation_table
from .._checks import c_array, flag, integer, real
from .._mode import TrainingFlag
from .._dtypes import core_class, resolve_dtype
from ..random import resolve_seed

# The activations are exported as their classes are defined (_Activation.__init_subclass__), after these.
__all__ = ["Layer", "Linear", "PReLU", "Softmax", "Dropout", "BatchNorm", "LayerNorm", "Residual"]

_INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal",
                 "uniform", "zeros", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal")


# Every layer class bprop defines, by name, as saved files name them: filled as the classes are defined
# (Layer.__init_subclass__), so a new layer needs no list edited. Only bprop's own classes are listed: a
# file never names code to run.
_LAYER_CLASSES = {}
_ACTIVATION_CLASSES = []


class Layer:
    """Base of all layers: a config and the C++ layer per dtype."""

    _fixed_dtype = None  # set by layers whose parameters fix their dtype
    training = TrainingFlag()  # what calling the layer on a tensor uses (PyTorch's default: True); see eval()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("bprop.") and not cls.__name__.startswith("_"):
            _LAYER_CLASSES[cls.__name__] = cls

    def __init__(self):
        self._cores = {}

    def input_width(self):
        """The input width this layer fixes (a Linear's in_features), or None when it takes the width it is
        given (activations, Dropout): what lets a model build itself from its layers alone."""
        return None

    # -- on tensors (autograd) ------------------------------------------------------------------------
    def __call__(self, x):
        """This layer on a tensor of shape (..., features), recorded as one graph node whose backward is
        the layer's own (it writes the parameter gradients). Arrays are taken as constant tensors."""
        from ..tensor import as_tensor

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
        if not isinstance(x, np.ndarray) or x.ndim != 2:
            raise ValueError(f"[{self.name}.{where}] x must be a 2-D numpy array (samples, features)")
        core = self.core(self._fixed_dtype or x.dtype)
        if core.in_features != x.shape[1]:
            core.build(x.shape[1])
        return core

    def forward(self, x, training=False):
        """This layer alone on a batch x (samples × features); returns a new array."""
        core = self._core_for_batch(x, "forward")
        return core.forward(c_array(x), flag(training, "training", f"{self.name}.forward"))

    def backward(self, x, y, dy, accumulate=False):
        """dx for the x, y of the last forward; writes (or adds to) the parameter gradients."""
        core = self._core_for_batch(x, "backward")
        return core.backward(c_array(x), c_array(y), c_array(dy),
                             bool(accumulate))

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


class Linear(Layer):
    """y = x·W + b with W of shape (in_features, out_features) (Keras's layout; PyTorch stores Wᵀ).

    init: glorot_uniform (default), glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal,
    uniform (with init_limit) or zeros; xavier_* and kaiming_* are aliases. The bias starts at zero.
    seed: the initialisation seed (default: the next from bprop's global seed source).
    """

    def __init__(self, in_features, out_features, bias=True, init="glorot_uniform", init_limit=None, seed=None,
                 dtype="float32"):
        super().__init__()
        self.in_features = integer(in_features, "in_features", "Linear", minimum=1)
        self.out_features = integer(out_features, "out_features", "Linear", minimum=1)
        if init not in _INITIALIZERS:
            raise ValueError(f"[Linear] unknown init {init!r}; expected one of {', '.join(_INITIALIZERS)}")
        if (init == "uniform") != (init_limit is not None):
            raise ValueError("[Linear] init_limit goes with init='uniform' (and only with it)")
        self.use_bias = bool(bias)
        self.init, self.init_limit = init, init_limit
        self.seed = resolve_seed(seed, "Linear")
        self._fixed_dtype = resolve_dtype(dtype, "Linear")
        self.core()

    def input_width(self):
        return self.in_features

    def _make_core(self, dtype):
        limit = 0.0 if self.init_limit is None else real(self.init_limit, "init_limit", "Linear")
        return core_class("Linear", dtype)(self.in_features, self.out_features, self.use_bias, self.init, limit,
                                           self.seed)

    @property
    def weight(self):
        """The (in_features, out_features) weight Parameter."""
        return self.parameters()[0]

    @property
    def bias(self):
        """The bias Parameter, or None for a layer made with bias=False."""
        return self.parameters()[1] if self.use_bias else None

    @classmethod
    def tensor_shapes(cls, config):
        rows, cols = (config_size(config, key, "Linear") for key in ("in_features", "out_features"))
        return {"weight": (rows, cols), "bias": (cols,)} if config.get("bias", True) else {"weight": (rows, cols)}

    def get_config(self):
        return {"in_features": self.in_features, "out_features": self.out_features, "bias": self.use_bias,
                "init": self.init, "init_limit": self.init_limit, "seed": self.seed,
                "dtype": self._fixed_dtype.name}


class _Activation(Layer):
    """An elementwise activation: an entry of the C++ table (cpp/ops/activations.cpp), the class's name. The
    entry's named parameters (LeakyReLU's negative_slope) become the class's keywords, attributes and
    config, with the entry's defaults and checks: a new activation is one line here."""

    _entry = None  # the table entry's name when it differs from the class's (GELU's tanh form)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("bprop.") and not cls.__name__.startswith("_"):
            _ACTIVATION_CLASSES.append(cls.__name__)
        # Its keywords are the table entry's parameters, unless it writes its own __init__ (GELU).
        cls.__signature__ = None if "__init__" in vars(cls) else activation_table.signature(cls.__name__)

    def __init__(self, *args, **kwargs):
        super().__init__()
        entry = type(self).__name__
        values = activation_table.parameter_values(entry, entry, type(self).__signature__, args, kwargs)
        self._params = list(values)
        for name, value in values.items():
            setattr(self, name, value)

    def _make_core(self, dtype):
        return core_class("Activation", dtype)(self._entry or self.name, [getattr(self, p) for p in self._params])

    def get_config(self):
        return {p: getattr(self, p) for p in self._params}


class ReLU(_Activation):
    """max(x, 0)."""


class Sigmoid(_Activation):
    """1 / (1 + e^-x), computed without overflow."""


class Tanh(_Activation):
    """tanh(x)."""


class Identity(_Activation):
    """x, unchanged."""


class LeakyReLU(_Activation):
    """x for x > 0, negative_slope·x otherwise (negative_slope=0.01)."""


class ELU(_Activation):
    """x for x > 0, alpha·(e^x − 1) otherwise (alpha=1.0, > 0)."""


class GELU(_Activation):
    """x·Φ(x): exact (approximate="none", PyTorch's default) or its tanh approximation ("tanh")."""

    def __init__(self, approximate="none"):
        Layer.__init__(self)
        if approximate not in ("none", "tanh"):
            raise ValueError(f"[GELU] approximate must be 'none' or 'tanh'; got {approximate!r}")
        self.approximate, self._params = approximate, []
        self._entry = "GELU" if approximate == "none" else "GELUTanh"

    def get_config(self):
        return {"approximate": self.approximate}


class SiLU(_Activation): """x·σ(x), also called swish."""


class Softplus(_Activation): """log(1 + e^(beta·x))/beta; x where beta·x > threshold, as PyTorch."""


class Hardswish(_Activation): """x·clamp(x + 3, 0, 6)/6."""


class Mish(_Activation): """x·tanh(softplus(x))."""


class PReLU(Layer):
    """x for x > 0, weight·x otherwise, the slope learnt: weight has shape (num_parameters,), one slope for
    every feature (num_parameters=1) or one per feature (the last axis), each starting at init. PyTorch's."""

    def __init__(self, num_parameters=1, init=0.25, dtype="float32"):
        super().__init__()
        self.num_parameters = integer(num_parameters, "num_parameters", "PReLU", minimum=1)
        self.init = real(init, "init", "PReLU")
        self._fixed_dtype = resolve_dtype(dtype, "PReLU")
        self.core()

    def input_width(self):
        return self.num_parameters if self.num_parameters > 1 else None

    def _make_core(self, dtype):
        return core_class("PReLU", dtype)(self.num_parameters, self.init)

    @property
    def weight(self):
        """The (num_parameters,) slope Parameter."""
        return self.parameters()[0]

    @classmethod
    def tensor_shapes(cls, config):
        with_default = {"num_parameters": 1, **config} if isinstance(config, dict) else config
        return {"weight": (config_size(with_default, "num_parameters", "PReLU"),)}

    def get_config(self):
        return {"num_parameters": self.num_parameters, "init": self.init, "dtype": self._fixed_dtype.name}


class Softmax(Layer):
    """Softmax over each sample's features. For classification, prefer CrossEntropy on logits."""

    def _make_core(self, dtype):
        return core_class("Softmax", dtype)()


class Dropout(Layer):
    """Zeroes each value with probability p in training and scales the rest by 1/(1-p)."""

    def __init__(self, p=0.5, seed=None):
        super().__init__()
        self.p = real(p, "p", "Dropout")
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"[Dropout] p must be in [0, 1]; got {self.p}")
        self.seed = resolve_seed(seed, "Dropout")

    def _make_core(self, dtype):
        return core_class("Dropout", dtype)(self.p, self.seed)

    def get_config(self):
        return {"p": self.p, "seed": self.seed}


class BatchNorm(Layer):
    """Normalises each feature over the batch (training) or with running statistics (evaluation)."""

    def __init__(self, features, eps=1e-5, momentum=0.1, dtype="float32"):
        super().__init__()
        self.features = integer(features, "features", "BatchNorm", minimum=1)
        self.eps = real(eps, "eps", "BatchNorm")
        self.momentum = real(momentum, "momentum", "BatchNorm")
        self._fixed_dtype = resolve_dtype(dtype, "BatchNorm")
        self.core()

    def input_width(self):
        return self.features

    def _make_core(self, dtype):
        return core_class("BatchNorm", dtype)(self.features, self.eps, self.momentum)

    @classmethod
    def tensor_shapes(cls, config):
        size = (config_size(config, "features", "BatchNorm"),)
        return {"weight": size, "bias": size, "running_mean": size, "running_var": size}

    def get_config(self):
        return {"features": self.features, "eps": self.eps, "momentum": self.momentum,
                "dtype": self._fixed_dtype.name}


class LayerNorm(Layer):
    """Normalises each sample over its features, then scales and shifts them."""

    def __init__(self, features, eps=1e-5, dtype="float32"):
        super().__init__()
        self.features = integer(features, "features", "LayerNorm", minimum=1)
        self.eps = real(eps, "eps", "LayerNorm")
        self._fixed_dtype = resolve_dtype(dtype, "LayerNorm")
        self.core()

    def input_width(self):
        return self.features

    def _make_core(self, dtype):
        return core_class("LayerNorm", dtype)(self.features, self.eps)

    @classmethod
    def tensor_shapes(cls, config):
        size = (config_size(config, "features", "LayerNorm"),)
        return {"weight": size, "bias": size}

    def get_config(self):
        return {"features": self.features, "eps": self.eps, "dtype": self._fixed_dtype.name}


def common_dtype(layers, where):
    """The one dtype of the layers that fix theirs (float32 when none does); TypeError on a mix."""
    fixed = {layer.dtype for layer in layers if layer.dtype is not None}
    if len(fixed) > 1:
        raise TypeError(f"[{where}] layers mix dtypes {sorted(d.name for d in fixed)}; make them with one dtype")
    return fixed.pop() if fixed else np.dtype(np.float32)


def indexed_names(layers, kind):
    """(f"{i}.{name}", tensor) over the layers' named parameters or buffers, i the layer's index."""
    return [(f"{i}.{name}", p) for i, layer in enumerate(layers) for name, p in getattr(layer, kind)()]


def check_layers(layers, where):
    if isinstance(layers, (Layer, np.ndarray, str, dict)) or not hasattr(layers, "__iter__"):
        raise TypeError(f"[{where}] expects a list of layers; got {type(layers).__name__}")
    layers = list(layers)
    if not layers:
        raise ValueError(f"[{where}] needs at least one layer")
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(f"[{where}] item {i} is a {type(layer).__name__}, not a bprop layer")
        if type(layer)._make_core is Layer._make_core:
            raise TypeError(f"[{where}] item {i} ({type(layer).__name__}) is a Python subclass of nn.Layer with no "
                            f"C++ layer behind it; a {where} runs bprop's own layers only. Write its computation "
                            "on tensors in a bprop.Module's forward instead")
    return layers


class LayerStack:
    """What holds layers in order (Sequential, Residual): their parameters and buffers, gathered in order,
    named by the layer's index ("0.weight")."""

    def parameters(self):
        """Trainable parameters in a fixed order; handles share the layers' storage (for optimizers)."""
        return [p for layer in self.layers for p in layer.parameters()]

    def buffers(self):
        return [b for layer in self.layers for b in layer.buffers()]

    def named_parameters(self):
        return indexed_names(self.layers, "named_parameters")

    def named_buffers(self):
        return indexed_names(self.layers, "named_buffers")


class Residual(LayerStack, Layer):
    """y = x + f(x), with f the given layers applied in order; f must keep the width."""

    def __init__(self, layers):
        super().__init__()
        self.layers = check_layers(layers, "Residual")
        dtype = common_dtype(self.layers, "Residual")
        if any(layer.dtype is not None for layer in self.layers):
            self._fixed_dtype = dtype

    def input_width(self):
        return first_input_width(self.layers)

    def _make_core(self, dtype):
        return core_class("Residual", dtype)([layer.core(dtype) for layer in self.layers])

    def get_config(self):
        return {"layers": [serialize(layer) for layer in self.layers]}

    @classmethod
    def from_config(cls, config):
        return cls([deserialize(entry) for entry in config_layers(config, "Residual")])

    @classmethod
    def tensor_shapes(cls, config):
        return stack_tensor_shapes(config_layers(config, "Residual"))

    def __repr__(self):
        return f"Residual({self.layers!r})"


def first_input_width(layers):
    """The input width the first layer that fixes one fixes (those before it keep the width they are given),
    or None when no layer fixes it."""
    return next((width for width in (layer.input_width() for layer in layers) if width is not None), None)


def config_size(config, key, where):
    """config[key], a size >= 1, checked: what tensor_shapes reads from a config it has not built."""
    if not isinstance(config, dict):
        raise TypeError(f"[{where}.tensor_shapes] config must be a dict; got {type(config).__name__}")
    if key not in config:
        raise ValueError(f"[{where}.tensor_shapes] the config has no {key!r}")
    return integer(config[key], key, where, minimum=1)


def config_layers(config, where):
    """config["layers"], checked to be a list (of layer entries, which deserialize checks)."""
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ValueError(f"[{where}.from_config] config must be a dict with a 'layers' list (get_config()'s "
                         f"output); got {config!r:.100}")
    return config["layers"]


def stack_tensor_shapes(entries):
    """{"<index>.<name>": shape} over serialized layers, as the stack holding them names its tensors."""
    shapes = {}
    for i, entry in enumerate(entries):
        for name, shape in layer_class(entry).tensor_shapes(entry["config"]).items():
            shapes[f"{i}.{name}"] = shape
    return shapes


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


__all__ += _ACTIVATION_CLASSES
