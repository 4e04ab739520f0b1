"""Elementwise activations (one class per entry of the C++ activation table), PReLU and Softmax: their math
is in ops/ (C++)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple, Union

from ... import _activation_table as activation_table
from ..._checks import integer, real
from ..._dtypes import core_class, resolve_dtype
from .base import Layer, config_size

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

    from ..._core import Parameter_float32, Parameter_float64

    Parameter = Union[Parameter_float32, Parameter_float64]  # what bprop.Parameter(...) makes

# The activations are exported as their classes are defined (_Activation.__init_subclass__), after these.
__all__ = ["Softmax", "PReLU"]
_ACTIVATION_CLASSES: List[str] = []

# What each named parameter of the table's entries means; its type, default and domain come from the table.
_PARAMETER_DOCS = {
    "negative_slope": "The slope for x < 0.",
    "alpha": "The scale of e^x − 1 for x <= 0 (the value approached as x → −∞ is −alpha).",
    "beta": "The sharpness: larger beta brings the curve closer to ReLU.",
    "threshold": "Where beta·x exceeds it, the output is x itself (the curve's asymptote, without overflow).",
}


class _Activation(Layer):
    """An elementwise activation: an entry of the C++ table (cpp/ops/activations.cpp), the class's name. The
    entry's named parameters (LeakyReLU's negative_slope) become the class's keywords, attributes and
    config, with the entry's defaults and checks: a new activation is one line here."""

    keeps_shape = True
    _entry: Optional[str] = None  # the table entry's name when it differs from the class's (GELU's tanh form)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("bprop.") and not cls.__name__.startswith("_"):
            _ACTIVATION_CLASSES.append(cls.__name__)
        # Its keywords are the table entry's parameters, unless it writes its own __init__ (GELU).
        cls.__signature__ = None if "__init__" in vars(cls) else activation_table.signature(cls.__name__)
        # Its docstring: its own summary line, then the parameters, errors and example the table implies.
        if cls.__signature__ is not None and cls.__module__.startswith("bprop.") and cls.__doc__:
            cls.__doc__ = activation_table.docstring(cls.__name__, cls.__doc__, cls.__name__, _PARAMETER_DOCS)

    def __init__(self, *args, **kwargs):
        super().__init__()
        entry = type(self).__name__
        values = activation_table.parameter_values(entry, entry, type(self).__signature__, args, kwargs)
        self._params = list(values)
        for name, value in values.items():
            setattr(self, name, value)

    def _make_core(self, dtype):
        return core_class("Activation", dtype)(self._entry or self.name, [getattr(self, p) for p in self._params])

    def get_config(self) -> Dict[str, Any]:
        """The constructor's keywords: the activation's named parameters, as plain data.

        Returns
        -------
        dict
            {parameter: value}; empty for an activation without parameters.

        Examples
        --------
        >>> nn.ReLU().get_config()
        {}
        >>> nn.LeakyReLU(0.2).get_config()
        {'negative_slope': 0.2}
        """
        return {p: getattr(self, p) for p in self._params}


class ReLU(_Activation):
    """Rectified linear unit: max(x, 0)."""


class Sigmoid(_Activation):
    """Logistic sigmoid: 1 / (1 + e^-x), computed without overflow."""


class Tanh(_Activation):
    """Hyperbolic tangent: tanh(x)."""


class Identity(_Activation):
    """Identity: x, unchanged."""


class LeakyReLU(_Activation):
    """Leaky rectified linear unit: x for x > 0, negative_slope·x otherwise."""


class ELU(_Activation):
    """Exponential linear unit: x for x > 0, alpha·(e^x − 1) otherwise."""


class GELU(_Activation):
    """Gaussian error linear unit: x·Φ(x), exact or in its tanh approximation.

    Elementwise on samples of any shape; the output has the input's shape. As ``torch.nn.GELU``.

    Parameters
    ----------
    approximate : {"none", "tanh"}, default "none"
        "none" computes Φ exactly (with erf, PyTorch's default); "tanh" uses
        0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).

    Raises
    ------
    ValueError
        If `approximate` is neither "none" nor "tanh".

    Examples
    --------
    >>> nn.GELU(approximate="tanh")
    GELU(approximate='tanh')
    >>> nn.GELU().forward(np.zeros((2, 3), np.float32)).shape
    (2, 3)
    """

    def __init__(self, approximate: str = "none") -> None:
        Layer.__init__(self)
        if approximate not in ("none", "tanh"):
            raise ValueError(f"[GELU] approximate must be 'none' or 'tanh'; got {approximate!r}")
        self.approximate, self._params = approximate, []
        self._entry = "GELU" if approximate == "none" else "GELUTanh"

    def get_config(self) -> Dict[str, Any]:
        """The constructor's keywords, as plain data.

        Returns
        -------
        dict
            ``{"approximate": ...}``.

        Examples
        --------
        >>> nn.GELU().get_config()
        {'approximate': 'none'}
        """
        return {"approximate": self.approximate}


class SiLU(_Activation): """Sigmoid linear unit (also called swish): x·σ(x)."""


class Softplus(_Activation): """Softplus, a smooth ReLU: log(1 + e^(beta·x))/beta, and x where beta·x > threshold."""


class Hardswish(_Activation): """Hard swish: x·clamp(x + 3, 0, 6)/6."""


class Mish(_Activation): """Mish: x·tanh(softplus(x))."""


class Softmax(Layer):
    """Softmax over the last axis: e^x / Σ e^x, each row summing to 1.

    As ``torch.nn.Softmax(dim=-1)`` (always the last axis). For classification, prefer CrossEntropy on the
    logits: it computes the softmax inside the loss, more accurately.

    Examples
    --------
    >>> nn.Softmax().forward(np.zeros((2, 4), np.float32))
    array([[0.25, 0.25, 0.25, 0.25],
           [0.25, 0.25, 0.25, 0.25]], dtype=float32)
    """

    keeps_shape = True

    def _make_core(self, dtype):
        return core_class("Softmax", dtype)()


class PReLU(Layer):
    """Parametric ReLU: x for x > 0, weight·x otherwise, the slope learnt.

    As ``torch.nn.PReLU``, with the slopes applying to the last axis of each sample.

    Parameters
    ----------
    num_parameters : int, default 1
        1 for one slope shared by every feature, or the number of features (the size of the last axis)
        for one slope per feature.
    init : float, default 0.25
        The initial value of every slope.
    dtype : {"float32", "float64"}, default "float32"
        The dtype of the weight and of the computation.

    Raises
    ------
    ValueError
        If `num_parameters` is not an integer >= 1.
    TypeError
        If `init` is not a real number or `dtype` is not float32 or float64.

    Examples
    --------
    >>> layer = nn.PReLU()
    >>> layer.forward(np.array([[-2.0, 3.0]], np.float32))
    array([[-0.5,  3. ]], dtype=float32)
    >>> nn.PReLU(4).weight.shape
    (4,)
    """

    keeps_shape = True

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype: DTypeLike = "float32") -> None:
        super().__init__()
        self.num_parameters = integer(num_parameters, "num_parameters", "PReLU", minimum=1)
        self.init = real(init, "init", "PReLU")
        self._fixed_dtype = resolve_dtype(dtype, "PReLU")
        self.core()

    def implied_input_shape(self) -> Optional[Tuple[int, ...]]:
        """The sample shape PReLU implies: (num_parameters,) with one slope per feature, else None.

        Returns
        -------
        tuple of int or None
            ``(num_parameters,)`` when num_parameters > 1, else None (any sample shape).

        Examples
        --------
        >>> nn.PReLU(4).implied_input_shape()
        (4,)
        >>> nn.PReLU().implied_input_shape() is None
        True
        """
        return (self.num_parameters,) if self.num_parameters > 1 else None

    def _make_core(self, dtype):
        return core_class("PReLU", dtype)(self.num_parameters, self.init)

    @property
    def weight(self) -> Parameter:
        """The (num_parameters,) slope Parameter."""
        return self.parameters()[0]

    @classmethod
    def tensor_shapes(cls, config: Dict[str, Any]) -> Dict[str, Tuple[int, ...]]:
        """The shape of the weight a PReLU made from `config` holds, from the config alone.

        Parameters
        ----------
        config : dict
            The layer's config (`get_config`'s output); num_parameters defaults to 1.

        Returns
        -------
        dict
            ``{"weight": (num_parameters,)}``.

        Raises
        ------
        TypeError
            If `config` is not a dict.
        ValueError
            If num_parameters is not an integer >= 1.

        Examples
        --------
        >>> nn.PReLU.tensor_shapes({"num_parameters": 3})
        {'weight': (3,)}
        """
        with_default = {"num_parameters": 1, **config} if isinstance(config, dict) else config
        return {"weight": (config_size(with_default, "num_parameters", "PReLU"),)}

    def get_config(self) -> Dict[str, Any]:
        """The constructor's keywords, as plain data.

        Returns
        -------
        dict
            num_parameters, init and dtype.

        Examples
        --------
        >>> nn.PReLU().get_config()
        {'num_parameters': 1, 'init': 0.25, 'dtype': 'float32'}
        """
        return {"num_parameters": self.num_parameters, "init": self.init, "dtype": self._fixed_dtype.name}


__all__ += _ACTIVATION_CLASSES
