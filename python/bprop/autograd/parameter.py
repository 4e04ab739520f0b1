"""bprop.Parameter: a trainable array in C++ storage, the handle layers, optimizers and models share.

In a tensor expression a parameter stands for its leaf tensor (``p.tensor``), which views the same
storage; backward adds the gradient into the parameter's own, which ``optimizer.step()`` reads. So a
custom model can mix layers and raw parameters:

    self.scale = bprop.Parameter(np.ones(10))
    ...
    return self.fc(x) * self.scale
"""
import operator

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .. import _core
from .._checks import as_array
from .._dtypes import core_class, resolve_dtype

__all__ = ["Parameter", "PARAMETER_TYPES", "is_parameter"]

PARAMETER_TYPES = (_core.Parameter_float32, _core.Parameter_float64)


def is_parameter(value):
    return isinstance(value, PARAMETER_TYPES)


class _ParameterType(type):
    def __instancecheck__(cls, value):
        return isinstance(value, PARAMETER_TYPES)


class Parameter(metaclass=_ParameterType):
    """A trainable array in C++ storage, shared by layers, optimizers and models.

    Calling it makes a new parameter holding a copy of data. In a tensor expression a parameter stands for
    its leaf tensor (``p.tensor``), so a custom model can mix layers and raw parameters.

    Parameters
    ----------
    data : array_like
        The initial values, finite.
    name : str, default "parameter"
        A label used in summaries, checkpoints and error messages.
    dtype : str or numpy.dtype, optional
        ``"float32"`` or ``"float64"``; by default float64 data stays float64 and anything else becomes
        float32.

    Raises
    ------
    TypeError
        If name is not a str, or data is not array-like.
    ValueError
        If data contains NaN or Inf.

    Examples
    --------
    >>> scale = bprop.Parameter(np.ones(2), name="scale")
    >>> y = (scale * bprop.tensor([3.0, 4.0])).sum()
    >>> y.backward()
    >>> scale.tensor.grad
    array([3., 4.])
    """

    def __new__(cls, data: ArrayLike, name: str = "parameter", dtype: DTypeLike | None = None) -> Any:
        if not isinstance(name, str):
            raise TypeError(f"[Parameter] name must be a str; got {type(name).__name__}")
        array = as_array(data, "data", "Parameter")
        dtype = (np.float64 if array.dtype == np.float64 else np.float32) if dtype is None else \
            resolve_dtype(dtype, "Parameter")
        array = np.asarray(array, dtype=dtype, order="C")  # not ascontiguousarray: it makes 0-d data 1-d
        if not np.isfinite(array).all():
            raise ValueError(f"[Parameter] {name} contains NaN or Inf")
        parameter = core_class("Parameter", dtype)(str(name), list(array.shape))
        parameter.set_value(array)
        return parameter


def _forward_binary(name):
    def method(self, other):
        if is_parameter(other):
            other = other.tensor
        return getattr(self.tensor, name)(other)
    return method


def _forward_reflected(operator):
    def method(self, other):
        return operator(other, self.tensor)
    return method


def _install():
    """Gives the bound parameter classes the tensor operators, forwarded to ``tensor``."""
    forwarded = {name: _forward_binary(name) for name in (
        "__add__", "__sub__", "__mul__", "__truediv__", "__pow__", "__matmul__", "__gt__", "__ge__", "__lt__",
        "__le__", "__getitem__")}
    # Reached when the left operand (a tensor or a number) gave up: compute other ∘ tensor.
    for name, op in (("__radd__", operator.add), ("__rsub__", operator.sub), ("__rmul__", operator.mul),
                     ("__rtruediv__", operator.truediv), ("__rpow__", operator.pow), ("__rmatmul__", operator.matmul)):
        forwarded[name] = _forward_reflected(op)
    forwarded["__neg__"] = lambda self: -self.tensor
    forwarded["__array__"] = lambda self, dtype=None, copy=None: np.asarray(self.value(), dtype=dtype)
    # Everything else a tensor has (exp, sum, reshape, T, ...), looked up only when the handle lacks it.
    forwarded["__getattr__"] = lambda self, name: getattr(self.tensor, name)
    for cls in PARAMETER_TYPES:
        for name, method in forwarded.items():
            setattr(cls, name, method)
        cls.__array_ufunc__ = None  # `array * parameter` reaches __rmul__: a tensor, not an array


_install()
