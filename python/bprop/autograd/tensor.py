"""bprop.Tensor: arrays that record the operations applied to them, for reverse-mode differentiation.

The tensor and its operations live in C++ (cpp/autograd/); this module adds the Python conveniences
on top of the bound class: construction from anything NumPy accepts, methods named as in NumPy and
PyTorch, indexing, and printing. Only float32 and float64 are supported: integer and boolean data become
float32, float64 stays float64; mixing float32 and float64 in one operation gives float64 (NumPy's rule).
"""
import functools
import threading
from typing import Any, Callable, Literal, Sequence, TypeVar, Union, cast

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .. import _activation_table as activation_table, _core
from .._checks import as_array, flag, integer, real
from .._dtypes import resolve_dtype
from .parameter import is_parameter

Tensor = _core.Tensor
# What the functions on tensors accept: tensors, parameters, numbers and array-likes (taken as constants).
Operand = Union[Tensor, ArrayLike, float]
F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["Tensor", "tensor", "no_grad", "enable_grad", "is_grad_enabled", "maximum", "where", "clip",
           "concatenate", "stack", "exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh", "gelu", "softmax",
           "log_softmax"]


def tensor(data: ArrayLike | Tensor, requires_grad: bool = False, dtype: DTypeLike | None = None) -> Tensor:
    """Make a new tensor holding a copy of data.

    Parameters
    ----------
    data : array_like or Tensor
        The values: anything ``numpy.asarray`` accepts, or a tensor (its values are copied).
    requires_grad : bool, default False
        Whether backward() computes a gradient for the new tensor.
    dtype : str or numpy.dtype, optional
        ``"float32"`` or ``"float64"``; by default float64 data stays float64 and anything else becomes
        float32.

    Returns
    -------
    Tensor
        A leaf tensor.

    Raises
    ------
    TypeError
        If data is not array-like (None, a string, an object array) or dtype is not a float dtype.
    ValueError
        If requires_grad is not a bool.

    Examples
    --------
    >>> x = bprop.tensor([[1, 2], [3, 4]], requires_grad=True)
    >>> x.shape, x.dtype
    ((2, 2), 'float32')
    """
    if isinstance(data, Tensor):
        data = data.numpy()
    array = as_array(data, "data", "tensor")
    if dtype is None:
        dtype = np.float64 if array.dtype == np.float64 else np.float32
    else:
        dtype = resolve_dtype(dtype, "tensor")
    requires_grad = flag(requires_grad, "requires_grad", "tensor")
    # asarray with order="C", not ascontiguousarray, which turns 0-d data into shape (1,).
    return _core.ag_tensor(np.asarray(array, dtype=dtype, order="C"), bool(requires_grad))


def as_operand(value: Any, like: Tensor, op: str) -> Tensor:
    """The other operand of a tensor operation `op`, as a tensor in like's dtype (array-likes become
    constants, as numbers do): what Tensor's operators call (from C++) for anything but a tensor or a
    Python number, and what maximum, where and the comparisons use."""
    return as_input(value, op, like.dtype)


def as_input(value: Any, op: str, dtype: DTypeLike | None = None) -> Tensor:
    """value as a tensor for a function of tensors (bprop.exp(x), ...): tensors as they are, parameters as
    their leaf, array-likes as constants; TypeError naming the function otherwise (None, strings, ...)."""
    if isinstance(value, Tensor):
        return value
    if is_parameter(value):
        return value.tensor
    return tensor(as_array(value, "the operand", op), dtype=dtype)


def as_tensor(value: Any, dtype: DTypeLike | None = None) -> Tensor:
    """value as a Tensor: tensors as they are, parameters as their leaf tensor, anything else copied
    (in `dtype` when given)."""
    if isinstance(value, Tensor):
        return value
    if is_parameter(value):
        return value.tensor
    return tensor(value, dtype=dtype)


class no_grad:
    """Context manager (and decorator) under which operations are not recorded, e.g. for updates.

    One object may be entered again while entered (nested, or on another thread): each exit restores what
    its own enter found.

    Examples
    --------
    >>> x = bprop.tensor([1.0], requires_grad=True)
    >>> with bprop.no_grad():
    ...     y = x * 2
    >>> y.requires_grad, bprop.is_grad_enabled()
    (False, True)
    >>> @bprop.no_grad()
    ... def double(t):
    ...     return t * 2
    >>> double(x).requires_grad
    False
    """

    _mode = False  # what __enter__ sets

    def __enter__(self) -> None:
        previous = self.__dict__.setdefault("_previous", threading.local())
        stack = previous.__dict__.setdefault("stack", [])
        stack.append(_core.ag_grad_enabled())
        _core.ag_set_grad_enabled(self._mode)

    def __exit__(self, *exc: object) -> Literal[False]:
        stack = getattr(self.__dict__.get("_previous"), "stack", None)
        if not stack:
            raise TypeError(f"[{type(self).__name__}] __exit__ without a matching __enter__ on this thread")
        _core.ag_set_grad_enabled(stack.pop())
        return False

    def __call__(self, function: F) -> F:
        if not callable(function):
            raise TypeError(f"[{type(self).__name__}] decorates a function; got {type(function).__name__}")

        @functools.wraps(function)
        def wrapped(*args, **kwargs):
            with self.__class__():
                return function(*args, **kwargs)
        return cast(F, wrapped)


class enable_grad(no_grad):
    """Context manager (and decorator) under which operations are recorded again, inside no_grad.

    Examples
    --------
    >>> x = bprop.tensor([1.0], requires_grad=True)
    >>> with bprop.no_grad():
    ...     with bprop.enable_grad():
    ...         y = x * 2
    >>> y.requires_grad
    True
    """

    _mode = True


def is_grad_enabled() -> bool:
    """Return whether operations are recorded for backward() on this thread.

    Returns
    -------
    bool
        False inside :class:`no_grad`, True otherwise (and inside :class:`enable_grad`).

    Examples
    --------
    >>> with bprop.no_grad():
    ...     bprop.is_grad_enabled()
    False
    """
    return _core.ag_grad_enabled()


def maximum(a: Operand, b: Operand) -> Tensor:
    """Return the elementwise maximum of a and b (broadcast), differentiable.

    Where a and b tie, the gradient is split evenly between them.

    Parameters
    ----------
    a, b : Tensor, array_like or float
        The operands; at least one is usually a tensor (array-likes are constants).

    Returns
    -------
    Tensor
        The maximum, in the operands' common dtype.

    Raises
    ------
    ValueError
        If the shapes do not broadcast.

    Examples
    --------
    >>> bprop.maximum(bprop.tensor([1.0, 5.0]), 3.0).numpy()
    array([3., 5.])
    """
    a = a if isinstance(a, Tensor) else as_operand(a, as_input(b, "maximum"), "maximum")
    return _core.ag_maximum(a, as_operand(b, a, "maximum"))


def where(condition: Operand, a: Operand, b: Operand) -> Tensor:
    """Return a where condition is non-zero, b elsewhere (broadcast), differentiable in a and b.

    Parameters
    ----------
    condition : Tensor or array_like
        Non-zero where a is chosen (for example a comparison ``x > 0``); not differentiated.
    a, b : Tensor, array_like or float
        The values chosen from.

    Returns
    -------
    Tensor
        The selection.

    Raises
    ------
    ValueError
        If the shapes do not broadcast.

    Examples
    --------
    >>> x = bprop.tensor([-1.0, 2.0])
    >>> bprop.where(x > 0, x, 0.0).numpy()
    array([0., 2.])
    """
    a = a if isinstance(a, Tensor) else as_operand(a, as_input(b, "where"), "where")
    b = as_operand(b, a, "where")
    return _core.ag_where(as_operand(condition, a, "where"), a, b)


def clip(x: Operand, low: float, high: float) -> Tensor:
    """Return x limited to [low, high], differentiable (the gradient is zero where x is clipped).

    NaN in x stays NaN.

    Parameters
    ----------
    x : Tensor or array_like
        The values.
    low, high : float
        The bounds.

    Returns
    -------
    Tensor
        The clipped values.

    Raises
    ------
    ValueError
        If a bound is NaN (NumPy would make every value NaN) or ``low > high``.

    Examples
    --------
    >>> bprop.clip(bprop.tensor([-2.0, 0.5, 2.0]), -1.0, 1.0).numpy()
    array([-1. ,  0.5,  1. ])
    """
    return _core.ag_clip(as_input(x, "clip"), real(low, "low", "clip"), real(high, "high", "clip"))


def _inputs(tensors: Any, op: str) -> list[Tensor]:
    """A non-empty sequence of tensors (array-likes taken as constants) for concatenate and stack."""
    if isinstance(tensors, (Tensor, np.ndarray)) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"[{op}] expects a sequence of tensors; got {type(tensors).__name__}")
    tensors = [as_input(t, op) for t in tensors]
    if not tensors:
        raise ValueError(f"[{op}] needs at least one tensor")
    return tensors


def concatenate(tensors: Sequence[Operand], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; each piece's gradient is its slice of the result's.

    Parameters
    ----------
    tensors : sequence of Tensor or array_like
        The pieces, the same shape off ``axis``.
    axis : int, default 0
        The axis to join along (negative counts from the end).

    Returns
    -------
    Tensor
        The joined tensor.

    Raises
    ------
    TypeError
        If tensors is not a sequence.
    ValueError
        If it is empty, the shapes differ off ``axis``, ``axis`` is out of range, or the pieces are 0-d.

    Examples
    --------
    >>> a, b = bprop.tensor([[1.0, 2.0]]), bprop.tensor([[3.0, 4.0]])
    >>> bprop.concatenate([a, b], axis=1).numpy()
    array([[1., 2., 3., 4.]])
    """
    pieces = _inputs(tensors, "concatenate")
    first = pieces[0]
    rank = first.ndim
    if rank == 0:
        raise ValueError("[concatenate] zero-dimensional tensors cannot be concatenated; use stack")
    axis = integer(axis, "axis", "concatenate", minimum=None)
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        raise ValueError(f"[concatenate] axis {axis} is out of range for {rank} dimensions")
    for t in pieces[1:]:
        if t.ndim != rank or any(t.shape[d] != first.shape[d] for d in range(rank) if d != axis):
            raise ValueError(f"[concatenate] shapes {first.shape} and {t.shape} differ off axis {axis}")
    shape = list(first.shape)
    shape[axis] = sum(t.shape[axis] for t in pieces)
    positions = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    result: Tensor | None = None
    start = 0
    for t in pieces:
        size = t.shape[axis]
        index = [slice(None)] * rank
        index[axis] = slice(start, start + size)
        start += size
        piece = _core.ag_scatter_add(t, positions[tuple(index)].ravel(), shape)
        result = piece if result is None else result + piece
    return cast(Tensor, result)  # pieces is not empty


def stack(tensors: Sequence[Operand], axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis, differentiable.

    Parameters
    ----------
    tensors : sequence of Tensor or array_like
        The pieces, all of one shape.
    axis : int, default 0
        Where the new axis goes in the result (negative counts from the end).

    Returns
    -------
    Tensor
        The stacked tensor, one dimension more than the pieces.

    Raises
    ------
    TypeError
        If tensors is not a sequence.
    ValueError
        If it is empty, the shapes differ or ``axis`` is out of range.

    Examples
    --------
    >>> a, b = bprop.tensor([1.0, 2.0]), bprop.tensor([3.0, 4.0])
    >>> bprop.stack([a, b], axis=1).shape
    (2, 2)
    """
    pieces = _inputs(tensors, "stack")
    rank = pieces[0].ndim + 1
    axis = integer(axis, "axis", "stack", minimum=None)
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        raise ValueError(f"[stack] axis {axis} is out of range for {rank} dimensions")
    for t in pieces[1:]:
        if t.shape != pieces[0].shape:
            raise ValueError(f"[stack] shapes {pieces[0].shape} and {t.shape} differ")
    expanded = [t.reshape(t.shape[:axis] + (1,) + t.shape[axis:]) for t in pieces]
    return concatenate(expanded, axis)


def _function_of(op, name):
    """bprop.<name>(x): op on x taken as a tensor (see _input)."""
    def function(x):
        return op(x if isinstance(x, Tensor) else as_input(x, name))
    function.__name__ = name
    function.__doc__ = (f"Return {name}(x), elementwise, differentiable.\n\nParameters\n----------\n"
                        f"x : Tensor or array_like\n    The values (an array is taken as a constant).\n\n"
                        f"Returns\n-------\nTensor\n    A new tensor of x's shape.\n\nExamples\n--------\n"
                        f">>> from bprop.tensor import {name}\n>>> {name}(bprop.tensor([1.0])).shape\n(1,)\n")
    return function


exp, log, sqrt, abs = (_function_of(getattr(_core, f"ag_{name}"), name) for name in ("exp", "log", "sqrt", "abs"))
relu, sigmoid, tanh = (_function_of(getattr(_core, f"ag_{name}"), name) for name in ("relu", "sigmoid", "tanh"))


_TABLE_FUNCTIONS: dict[str, Callable[..., Tensor]] = {}  # op -> function, for the activations below made from the C++ table


def _table_function(entry):
    """bprop.tensor.<op>(x, **parameters), also the method x.<op>(...): the activation `entry` of the C++
    table ("SiLU" -> silu), its keywords the entry's parameters; its vjp runs the entry's backward kernel."""
    op = activation_table.TABLE[entry][1]
    sig = activation_table.signature(entry, leading=("x",))

    def function(*args, **kwargs):
        values = activation_table.parameter_values(entry, op, sig, args, kwargs)
        return _core.ag_activation(as_input(args[0], op), entry, list(values.values()))
    function.__name__, function.__signature__ = op, sig
    function.__doc__ = _table_doc(entry, op)
    _TABLE_FUNCTIONS[op] = function
    return function


def _table_doc(entry, op):
    """The numpydoc docstring of the table activation `entry` as a function and a method."""
    params = "".join(f"{p} : float, default {default}\n    nn.{entry}'s {p}.\n" for p, default in
                     activation_table.entry_params(entry))
    return (f"Return nn.{entry}'s function of x, elementwise, differentiable once.\n\nParameters\n----------\n"
            f"x : Tensor or array_like\n    The values (an array is taken as a constant).\n{params}\n"
            f"Returns\n-------\nTensor\n    A new tensor of x's shape.\n\nRaises\n------\nValueError\n"
            f"    For a parameter outside its domain.\n\nExamples\n--------\n"
            f">>> bprop.tensor([0.0, 1.0]).{op}().shape\n(2,)\n")


def gelu(x: Operand, approximate: str = "none") -> Tensor:
    """Return GELU(x) = x * Phi(x), elementwise, differentiable.

    Parameters
    ----------
    x : Tensor or array_like
        The values (an array is taken as a constant).
    approximate : {"none", "tanh"}, default "none"
        "tanh" uses the tanh approximation of the Gaussian CDF Phi.

    Returns
    -------
    Tensor
        A new tensor of x's shape.

    Raises
    ------
    ValueError
        For another ``approximate``.

    Examples
    --------
    >>> bprop.tensor([0.0, 1.0]).gelu().numpy()
    array([0.        , 0.84134475])
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"[gelu] approximate must be 'none' or 'tanh'; got {approximate!r}")
    return _core.ag_gelu(as_input(x, "gelu"), approximate == "tanh")


silu = _table_function("SiLU")
softplus = _table_function("Softplus")
hardswish = _table_function("Hardswish")
mish = _table_function("Mish")


def softmax(x: Operand, axis: int = -1) -> Tensor:
    """Return the softmax of x along axis, differentiable.

    Parameters
    ----------
    x : Tensor or array_like
        The values (an array is taken as a constant).
    axis : int, default -1
        The axis whose entries sum to 1.

    Returns
    -------
    Tensor
        Probabilities of x's shape.

    Raises
    ------
    ValueError
        If axis is out of range.

    Examples
    --------
    >>> bprop.tensor([[0.0, 0.0]]).softmax().numpy()
    array([[0.5, 0.5]])
    """
    return _core.ag_softmax(as_input(x, "softmax"), integer(axis, "axis", "softmax", minimum=None))


def log_softmax(x: Operand, axis: int = -1) -> Tensor:
    """Return the logarithm of the softmax of x along axis, computed stably, differentiable.

    Parameters
    ----------
    x : Tensor or array_like
        The values (an array is taken as a constant).
    axis : int, default -1
        The axis normalised over.

    Returns
    -------
    Tensor
        Log-probabilities of x's shape.

    Raises
    ------
    ValueError
        If axis is out of range.

    Examples
    --------
    >>> bprop.tensor([[0.0, 0.0]]).log_softmax().numpy()
    array([[-0.69314718, -0.69314718]])
    """
    return _core.ag_log_softmax(as_input(x, "log_softmax"), integer(axis, "axis", "log_softmax", minimum=None))


__all__ += list(_TABLE_FUNCTIONS)
