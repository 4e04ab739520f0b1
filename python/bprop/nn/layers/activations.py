"""Elementwise activations (one class per entry of the C++ activation table), PReLU and Softmax: their math
is in ops/ (C++)."""
from ... import _activation_table as activation_table
from ..._checks import integer, real
from ..._dtypes import core_class, resolve_dtype
from .base import Layer, config_size

# The activations are exported as their classes are defined (_Activation.__init_subclass__), after these.
__all__ = ["Softmax", "PReLU"]
_ACTIVATION_CLASSES = []


class _Activation(Layer):
    """An elementwise activation: an entry of the C++ table (cpp/ops/activations.cpp), the class's name. The
    entry's named parameters (LeakyReLU's negative_slope) become the class's keywords, attributes and
    config, with the entry's defaults and checks: a new activation is one line here."""

    keeps_shape = True
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


class Softmax(Layer):
    """Softmax over the last axis. For classification, prefer CrossEntropy on logits."""

    keeps_shape = True

    def _make_core(self, dtype):
        return core_class("Softmax", dtype)()


class PReLU(Layer):
    """x for x > 0, weight·x otherwise, the slope learnt: weight has shape (num_parameters,), one slope for
    every feature (num_parameters=1) or one per feature (the last axis), each starting at init. PyTorch's."""

    keeps_shape = True

    def __init__(self, num_parameters=1, init=0.25, dtype="float32"):
        super().__init__()
        self.num_parameters = integer(num_parameters, "num_parameters", "PReLU", minimum=1)
        self.init = real(init, "init", "PReLU")
        self._fixed_dtype = resolve_dtype(dtype, "PReLU")
        self.core()

    def implied_input_shape(self):
        return (self.num_parameters,) if self.num_parameters > 1 else None

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


__all__ += _ACTIVATION_CLASSES
