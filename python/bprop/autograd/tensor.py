"""bprop.Tensor: arrays that record the operations applied to them, for reverse-mode differentiation.

The tensor and its operations live in C++ (cpp/autograd/); this module adds the Python conveniences
on top of the bound class: construction from anything NumPy accepts, methods named as in NumPy and
PyTorch, indexing, and printing. Only float32 and float64 are supported: integer and boolean data become
float32, float64 stays float64; mixing float32 and float64 in one operation gives float64 (NumPy's rule).
"""
import threading

import numpy as np

from .. import _activation_table as activation_table, _core
from .._checks import as_array, flag, integer, real
from .._dtypes import resolve_dtype
from ._indexing import flat_positions
from .parameter import is_parameter

Tensor = _core.Tensor

__all__ = ["Tensor", "tensor", "no_grad", "enable_grad", "is_grad_enabled", "maximum", "where", "clip",
           "concatenate", "stack", "exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh", "gelu", "softmax",
           "log_softmax"]


def tensor(data, requires_grad=False, dtype=None):
    """A new tensor holding a copy of data (array-like). dtype: "float32" or "float64" (default: float64
    data stays float64, anything else becomes float32)."""
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


def as_operand(value, like, op):
    """The other operand of a tensor operation `op`, as a tensor in like's dtype (array-likes become
    constants, as numbers do): what Tensor's operators call (from C++) for anything but a tensor or a
    Python number, and what maximum, where and the comparisons use."""
    return as_input(value, op, like.dtype)


def as_input(value, op, dtype=None):
    """value as a tensor for a function of tensors (bprop.exp(x), ...): tensors as they are, parameters as
    their leaf, array-likes as constants; TypeError naming the function otherwise (None, strings, ...)."""
    if isinstance(value, Tensor):
        return value
    if is_parameter(value):
        return value.tensor
    return tensor(as_array(value, "the operand", op), dtype=dtype)


def as_tensor(value, dtype=None):
    """value as a Tensor: tensors as they are, parameters as their leaf tensor, anything else copied
    (in `dtype` when given)."""
    if isinstance(value, Tensor):
        return value
    if is_parameter(value):
        return value.tensor
    return tensor(value, dtype=dtype)


class no_grad:
    """Context manager (and decorator) under which operations are not recorded, e.g. for updates. One
    object may be entered again while entered (nested, or on another thread): each exit restores what its
    own enter found."""

    _mode = False  # what __enter__ sets

    def __enter__(self):
        previous = self.__dict__.setdefault("_previous", threading.local())
        stack = previous.__dict__.setdefault("stack", [])
        stack.append(_core.ag_grad_enabled())
        _core.ag_set_grad_enabled(self._mode)

    def __exit__(self, *exc):
        stack = getattr(self.__dict__.get("_previous"), "stack", None)
        if not stack:
            raise TypeError(f"[{type(self).__name__}] __exit__ without a matching __enter__ on this thread")
        _core.ag_set_grad_enabled(stack.pop())
        return False

    def __call__(self, function):
        if not callable(function):
            raise TypeError(f"[{type(self).__name__}] decorates a function; got {type(function).__name__}")

        def wrapped(*args, **kwargs):
            with self.__class__():
                return function(*args, **kwargs)
        return wrapped


class enable_grad(no_grad):
    """Context manager (and decorator) under which operations are recorded again, inside no_grad."""

    _mode = True


def is_grad_enabled():
    return _core.ag_grad_enabled()


def _axes(axis, where):
    """An axis argument (None, an int or a sequence of ints) as the list the core takes; [] means all."""
    if axis is None:
        return []
    axes = axis if isinstance(axis, (tuple, list)) else [axis]
    return [integer(a, "axis", where, minimum=None) for a in axes]


def maximum(a, b):
    a = a if isinstance(a, Tensor) else as_operand(a, as_input(b, "maximum"), "maximum")
    return _core.ag_maximum(a, as_operand(b, a, "maximum"))


def where(condition, a, b):
    a = a if isinstance(a, Tensor) else as_operand(a, as_input(b, "where"), "where")
    b = as_operand(b, a, "where")
    return _core.ag_where(as_operand(condition, a, "where"), a, b)


def clip(x, low, high):
    """x limited to [low, high]; NaN in x stays NaN. A NaN bound is a ValueError (NumPy would make every
    value NaN)."""
    return _core.ag_clip(as_input(x, "clip"), real(low, "low", "clip"), real(high, "high", "clip"))


def _inputs(tensors, op):
    """A non-empty sequence of tensors (array-likes taken as constants) for concatenate and stack."""
    if isinstance(tensors, (Tensor, np.ndarray)) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"[{op}] expects a sequence of tensors; got {type(tensors).__name__}")
    tensors = [as_input(t, op) for t in tensors]
    if not tensors:
        raise ValueError(f"[{op}] needs at least one tensor")
    return tensors


def concatenate(tensors, axis=0):
    """Joins tensors along an existing axis; each piece's gradient is its slice of the result's."""
    tensors = _inputs(tensors, "concatenate")
    first = tensors[0]
    rank = first.ndim
    if rank == 0:
        raise ValueError("[concatenate] zero-dimensional tensors cannot be concatenated; use stack")
    axis = integer(axis, "axis", "concatenate", minimum=None)
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        raise ValueError(f"[concatenate] axis {axis} is out of range for {rank} dimensions")
    for t in tensors[1:]:
        if t.ndim != rank or any(t.shape[d] != first.shape[d] for d in range(rank) if d != axis):
            raise ValueError(f"[concatenate] shapes {first.shape} and {t.shape} differ off axis {axis}")
    shape = list(first.shape)
    shape[axis] = sum(t.shape[axis] for t in tensors)
    positions = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    result, start = None, 0
    for t in tensors:
        size = t.shape[axis]
        index = [slice(None)] * rank
        index[axis] = slice(start, start + size)
        start += size
        piece = _core.ag_scatter_add(t, positions[tuple(index)].ravel(), shape)
        result = piece if result is None else result + piece
    return result


def stack(tensors, axis=0):
    """Joins same-shaped tensors along a new axis."""
    tensors = _inputs(tensors, "stack")
    rank = tensors[0].ndim + 1
    axis = integer(axis, "axis", "stack", minimum=None)
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        raise ValueError(f"[stack] axis {axis} is out of range for {rank} dimensions")
    for t in tensors[1:]:
        if t.shape != tensors[0].shape:
            raise ValueError(f"[stack] shapes {tensors[0].shape} and {t.shape} differ")
    expanded = [t.reshape(t.shape[:axis] + (1,) + t.shape[axis:]) for t in tensors]
    return concatenate(expanded, axis)


def _function_of(op, name):
    """bprop.<name>(x): op on x taken as a tensor (see _input)."""
    def function(x):
        return op(x if isinstance(x, Tensor) else as_input(x, name))
    function.__name__ = name
    function.__doc__ = f"{name}(x), elementwise, differentiable; x a Tensor (or an array, taken as a constant)."
    return function


exp, log, sqrt, abs = (_function_of(getattr(_core, f"ag_{name}"), name) for name in ("exp", "log", "sqrt", "abs"))
relu, sigmoid, tanh = (_function_of(getattr(_core, f"ag_{name}"), name) for name in ("relu", "sigmoid", "tanh"))


_TABLE_FUNCTIONS = {}  # op -> function, for the activations below made from the C++ table


def _table_function(entry):
    """bprop.tensor.<op>(x, **parameters), also the method x.<op>(...): the activation `entry` of the C++
    table ("SiLU" -> silu), its keywords the entry's parameters; its vjp runs the entry's backward kernel."""
    op = activation_table.TABLE[entry][1]
    sig = activation_table.signature(entry, leading=("x",))

    def function(*args, **kwargs):
        values = activation_table.parameter_values(entry, op, sig, args, kwargs)
        return _core.ag_activation(as_input(args[0], op), entry, list(values.values()))
    function.__name__, function.__signature__ = op, sig
    function.__doc__ = f"nn.{entry}'s function, elementwise, differentiable once; x a Tensor (or an array, taken as a constant)."
    _TABLE_FUNCTIONS[op] = function
    return function


def gelu(x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"[gelu] approximate must be 'none' or 'tanh'; got {approximate!r}")
    return _core.ag_gelu(as_input(x, "gelu"), approximate == "tanh")


silu = _table_function("SiLU")
softplus = _table_function("Softplus")
hardswish = _table_function("Hardswish")
mish = _table_function("Mish")


def softmax(x, axis=-1):
    return _core.ag_softmax(as_input(x, "softmax"), integer(axis, "axis", "softmax", minimum=None))


def log_softmax(x, axis=-1):
    return _core.ag_log_softmax(as_input(x, "log_softmax"), integer(axis, "axis", "log_softmax", minimum=None))


# -- methods of the bound class ------------------------------------------------------------------------
def _getitem(self, index):
    """NumPy indexing (basic and advanced), differentiable: the selected positions are gathered."""
    if isinstance(index, Tensor):
        index = index.numpy().astype(np.int64)
    elif isinstance(index, tuple):
        index = tuple(i.numpy().astype(np.int64) if isinstance(i, Tensor) else i for i in index)
    try:
        positions = flat_positions(self.shape, index)
    except IndexError:
        raise
    except (ValueError, TypeError) as error:  # NumPy's words for an index it cannot take (a zero step, ...)
        raise type(error)(f"[Tensor.__getitem__] {error}") from None
    return _core.ag_gather(self, positions.reshape(-1), list(positions.shape))


def _compare(op):
    def method(self, other):
        return _core.ag_compare(self, as_operand(other, self, "compare"), op)
    return method


def _repr(self):
    body = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
    extra = f", dtype={self.dtype}" if self.dtype != "float32" else ""
    if self.grad_fn is not None:
        extra += f", grad_fn={self.grad_fn}"
    elif self.requires_grad:
        extra += ", requires_grad=True"
    return f"tensor({body}{extra})"


def _item(self):
    if self.size != 1:
        raise ValueError(f"[Tensor.item] needs exactly one element; the tensor has shape {self.shape}")
    return float(self.numpy().reshape(()))


def _zero_grad(self):
    self.grad = None


def _len(self):
    if not self.ndim:
        raise TypeError("[Tensor.__len__] a 0-d tensor has no length")
    return self.shape[0]


def _integers(values, name, where):
    """A shape or axes given as t.reshape(2, 3) or t.reshape((2, 3)): a list of ints, checked."""
    if len(values) == 1 and isinstance(values[0], (tuple, list)):
        values = values[0]
    return [integer(v, f"{name}[{i}]", where, minimum=None) for i, v in enumerate(values)]


def _reshape(self, *shape):
    return _core.ag_reshape(self, _integers(shape, "shape", "reshape"))


def _transpose(self, *axes):
    return _core.ag_transpose(self, _integers(axes, "axes", "transpose"))


def _astype(self, dtype):
    """A differentiable copy in dtype: float32 or float64, the two dtypes tensors hold."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"[Tensor.astype] dtype must be float32 or float64; got {dtype!r}") from None
    if resolved not in (np.float32, np.float64):
        raise TypeError(f"[Tensor.astype] tensors hold float32 or float64; got {resolved} (for other dtypes, "
                        f"convert the values: t.numpy().astype({resolved.name!r}))")
    return _core.ag_to_dtype(self, resolved.name)


_METHODS = {
    "__getitem__": _getitem,
    "__repr__": _repr,
    "__array__": lambda self, dtype=None, copy=None: np.asarray(self.numpy(), dtype=dtype),
    "__len__": _len,
    "__gt__": _compare(0), "__ge__": _compare(1), "__lt__": _compare(2), "__le__": _compare(3),
    "item": _item,
    "zero_grad": _zero_grad,
    "reshape": _reshape,
    "transpose": _transpose,
    "T": property(lambda self: _core.ag_transpose(self, [])),
    "sum": lambda self, axis=None, keepdims=False: _core.ag_sum(self, _axes(axis, "sum"),
                                                                flag(keepdims, "keepdims", "sum")),
    "mean": lambda self, axis=None, keepdims=False: _core.ag_mean(self, _axes(axis, "mean"),
                                                                  flag(keepdims, "keepdims", "mean")),
    "max": lambda self, axis=None, keepdims=False: _core.ag_max(self, _axes(axis, "max"),
                                                                flag(keepdims, "keepdims", "max")),
    "gelu": gelu, "softmax": softmax, "log_softmax": log_softmax,
    "clip": clip,
    "astype": _astype,
}
for _name, _method in {**_METHODS, **_TABLE_FUNCTIONS}.items():
    setattr(Tensor, _name, _method)
__all__ += list(_TABLE_FUNCTIONS)
# NumPy defers to tensors in mixed expressions: `array * tensor` calls Tensor.__rmul__ (a tensor with its
# graph) instead of turning the tensor into an array and dropping the graph.
Tensor.__array_ufunc__ = None
Tensor.__hash__ = object.__hash__  # tensors are graph nodes, compared by identity
