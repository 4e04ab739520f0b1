"""The methods and properties bprop.Tensor gets from Python, and the docstrings of those it has from C++.

The class is bound in cpp/bindings/init_autograd.cpp. Its properties are Python `property` objects, so
their docstrings are set here; its methods bound in C++ (exp, numpy, backward, ...) have no numpydoc
docstring there, so each is replaced by a one-line Python method that calls the bound one and carries it.
"""
import inspect

import numpy as np

from .. import _core
from .._checks import flag, integer
from ._indexing import flat_positions
from .tensor import Tensor, _TABLE_FUNCTIONS, as_operand, clip, gelu, log_softmax, softmax

_TENSOR_DOC = """A float32/float64 array that records the operations applied to it, for backward().

``bprop.Tensor(data)`` is ``bprop.tensor(data)``. Operators (``+ - * / @ **``, unary ``-``, comparisons)
take tensors, Python numbers and array-likes (taken as constants in the tensor's dtype).

Parameters
----------
data : array_like
    The values, copied (float64 stays float64; anything else becomes float32).
requires_grad : bool, default False
    Whether backward() computes a gradient for this tensor.

Examples
--------
>>> x = bprop.Tensor([1.0, 2.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad
array([2., 4.])
"""

_PROPERTY_DOCS = {
    "shape": "The tuple of the tensor's dimensions.\n\nExamples\n--------\n"
             ">>> bprop.tensor(np.zeros((2, 3))).shape\n(2, 3)\n",
    "ndim": "The number of dimensions.\n\nExamples\n--------\n>>> bprop.tensor(np.zeros((2, 3))).ndim\n2\n",
    "size": "The number of elements.\n\nExamples\n--------\n>>> bprop.tensor(np.zeros((2, 3))).size\n6\n",
    "dtype": "The dtype's name, ``'float32'`` or ``'float64'``.\n\nExamples\n--------\n"
             ">>> bprop.tensor(np.zeros(2, np.float32)).dtype\n'float32'\n",
    "requires_grad": "Whether backward() computes a gradient for this tensor (settable on leaves).\n\n"
                     "Setting it on a tensor that views a Parameter is a ValueError: set it on the Parameter.\n\n"
                     "Examples\n--------\n>>> x = bprop.tensor([1.0])\n>>> x.requires_grad = True\n"
                     ">>> x.requires_grad\nTrue\n",
    "is_leaf": "Whether the tensor was made by the user rather than by an operation.\n\nExamples\n--------\n"
               ">>> x = bprop.tensor([1.0], requires_grad=True)\n>>> x.is_leaf, (x * 2).is_leaf\n(True, False)\n",
    "grad_fn": "The name of the operation that made the tensor (``None`` for a leaf).\n\nExamples\n--------\n"
               ">>> x = bprop.tensor([1.0], requires_grad=True)\n>>> (x * 2).grad_fn\n'mul'\n",
    "grad": "The accumulated gradient, a new numpy array (``None`` before backward()).\n\n"
            "It can only be set to None (as zero_grad() does).\n\nExamples\n--------\n"
            ">>> x = bprop.tensor([3.0], requires_grad=True)\n>>> (x * x).sum().backward()\n>>> x.grad\n"
            "array([6.])\n",
    "name": "A label shown by to_dot() (settable, a str).\n\nExamples\n--------\n"
            ">>> x = bprop.tensor([1.0])\n>>> x.name = \"input\"\n>>> x.name\n'input'\n",
    "version": "How many times the tensor was changed in place (an optimizer step is one change).\n\n"
               "Examples\n--------\n>>> bprop.tensor([1.0]).version\n0\n",
}


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


def _len(self):
    if not self.ndim:
        raise TypeError("[Tensor.__len__] a 0-d tensor has no length")
    return self.shape[0]


def item(self):
    """Return the value of a one-element tensor as a Python float.

    Returns
    -------
    float
        The single value.

    Raises
    ------
    ValueError
        If the tensor does not have exactly one element.

    Examples
    --------
    >>> bprop.tensor([[2.5]]).item()
    2.5
    """
    if self.size != 1:
        raise ValueError(f"[Tensor.item] needs exactly one element; the tensor has shape {self.shape}")
    return float(self.numpy().reshape(()))


def zero_grad(self):
    """Clear the gradient (a parameter's keeps its storage, filled with zeros).

    Examples
    --------
    >>> x = bprop.tensor([1.0], requires_grad=True)
    >>> (x * 3).sum().backward()
    >>> x.zero_grad()
    >>> x.grad is None
    True
    """
    self.grad = None


def _integers(values, name, where):
    """A shape or axes given as t.reshape(2, 3) or t.reshape((2, 3)): a list of ints, checked."""
    if len(values) == 1 and isinstance(values[0], (tuple, list)):
        values = values[0]
    return [integer(v, f"{name}[{i}]", where, minimum=None) for i, v in enumerate(values)]


def reshape(self, *shape):
    """Return the same values in a new shape, differentiable.

    Parameters
    ----------
    *shape : int or tuple of int
        The new dimensions, as ``reshape(2, 3)`` or ``reshape((2, 3))``; one may be -1 (inferred).

    Returns
    -------
    Tensor
        The reshaped tensor.

    Raises
    ------
    ValueError
        If the sizes do not match.

    Examples
    --------
    >>> bprop.tensor(np.arange(6.0)).reshape(2, 3).shape
    (2, 3)
    """
    return _core.ag_reshape(self, _integers(shape, "shape", "reshape"))


def transpose(self, *axes):
    """Return the tensor with its axes permuted (reversed when none are given), differentiable.

    Parameters
    ----------
    *axes : int or tuple of int
        The permutation, as ``transpose(1, 0)`` or ``transpose((1, 0))``.

    Returns
    -------
    Tensor
        The transposed tensor.

    Examples
    --------
    >>> bprop.tensor(np.zeros((2, 3))).transpose().shape
    (3, 2)
    """
    return _core.ag_transpose(self, _integers(axes, "axes", "transpose"))


def _transposed(self):
    """The tensor with its axes reversed (``t.transpose()``).

    Examples
    --------
    >>> bprop.tensor(np.zeros((2, 3))).T.shape
    (3, 2)
    """
    return _core.ag_transpose(self, [])


def astype(self, dtype):
    """Return a differentiable copy in dtype: float32 or float64, the two dtypes tensors hold.

    Parameters
    ----------
    dtype : str or numpy.dtype
        ``"float32"`` or ``"float64"`` (or the NumPy type).

    Returns
    -------
    Tensor
        The converted copy.

    Raises
    ------
    TypeError
        For any other dtype.

    Examples
    --------
    >>> bprop.tensor([1.0]).astype("float32").dtype
    'float32'
    """
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"[Tensor.astype] dtype must be float32 or float64; got {dtype!r}") from None
    if resolved not in (np.float32, np.float64):
        raise TypeError(f"[Tensor.astype] tensors hold float32 or float64; got {resolved} (for other dtypes, "
                        f"convert the values: t.numpy().astype({resolved.name!r}))")
    return _core.ag_to_dtype(self, resolved.name)


def _axes(axis, where):
    """An axis argument (None, an int or a sequence of ints) as the list the core takes; [] means all."""
    if axis is None:
        return []
    axes = axis if isinstance(axis, (tuple, list)) else [axis]
    return [integer(a, "axis", where, minimum=None) for a in axes]


_REDUCTION_DOC = """Return the {what} over ``axis`` (all elements by default), differentiable.

Parameters
----------
axis : int or sequence of int, optional
    The axes to reduce; None (the default) reduces all of them.
keepdims : bool, default False
    Keep the reduced axes, with length 1.

Returns
-------
Tensor
    The reduced tensor.

Examples
--------
>>> x = bprop.tensor([[1.0, 2.0], [3.0, 6.0]])
>>> x.{name}(axis=0).numpy()
array({result})
"""


def sum(self, axis=None, keepdims=False):  # noqa: A001 (the method's name, as in NumPy)
    return _core.ag_sum(self, _axes(axis, "sum"), flag(keepdims, "keepdims", "sum"))


def mean(self, axis=None, keepdims=False):
    return _core.ag_mean(self, _axes(axis, "mean"), flag(keepdims, "keepdims", "mean"))


def max(self, axis=None, keepdims=False):  # noqa: A001
    return _core.ag_max(self, _axes(axis, "max"), flag(keepdims, "keepdims", "max"))


sum.__doc__ = _REDUCTION_DOC.format(what="sum", name="sum", result="[4., 8.]")
mean.__doc__ = _REDUCTION_DOC.format(what="mean", name="mean", result="[2., 4.]")
max.__doc__ = _REDUCTION_DOC.format(what="maximum (the gradient goes to the first maximum)", name="max",
                                    result="[3., 6.]")

# -- methods bound in C++, given a Python method that carries their docstring ---------------------------
_bound = {name: getattr(Tensor, name) for name in ("exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh",
                                                   "detach", "numpy", "backward")}

_UNARY_DOC = """Return {what}, elementwise, differentiable.

Returns
-------
Tensor
    A new tensor of the same shape and dtype.

Examples
--------
>>> bprop.tensor([{example}]).{name}().numpy()
array([{result}])
"""
_UNARY = {"exp": ("exp(x)", "0.0, 1.0", "1.        , 2.71828183"),
          "log": ("the natural logarithm", "1.0, 4.0", "0.        , 1.38629436"),
          "sqrt": ("the square root", "1.0, 4.0", "1., 2."),
          "abs": ("the absolute value", "-1.5, 2.0", "1.5, 2. "),
          "relu": ("max(x, 0)", "-1.0, 2.0", "0., 2."),
          "sigmoid": ("the logistic function 1 / (1 + exp(-x))", "0.0", "0.5"),
          "tanh": ("the hyperbolic tangent", "0.0", "0.")}


def _unary(name):
    core_method = _bound[name]

    def method(self):
        return core_method(self)
    what, example, result = _UNARY[name]
    method.__name__ = method.__qualname__ = name
    method.__doc__ = _UNARY_DOC.format(what=what, name=name, example=example, result=result)
    return method


def detach(self):
    """Return a tensor sharing these values, outside the graph (no grad_fn, requires_grad False).

    Returns
    -------
    Tensor
        The detached tensor.

    Examples
    --------
    >>> x = bprop.tensor([1.0], requires_grad=True)
    >>> (x * 2).detach().requires_grad
    False
    """
    return _bound["detach"](self)


def numpy(self):
    """Return a read-only view of the values (copy it to write).

    A parameter's view made before an optimizer binds the parameter keeps the values it had then; take a
    new one to see the optimizer's updates.

    Returns
    -------
    numpy.ndarray
        The values, in the tensor's dtype and shape.

    Examples
    --------
    >>> bprop.tensor([1.0, 2.0]).numpy()
    array([1., 2.])
    """
    return _bound["numpy"](self)


def backward(self, gradient=None, retain_graph=False, create_graph=False):
    """Compute the gradients of this tensor with respect to the leaves and add them to their ``grad``.

    Parameters
    ----------
    gradient : Tensor or array_like, optional
        The gradient of the final result with respect to this tensor; may be omitted for one element.
    retain_graph : bool, default False
        Keep the graph so backward() can run through it again.
    create_graph : bool, default False
        Record the gradient computation, for gradients of gradients (see ``grad_tensor``).

    Raises
    ------
    ValueError
        If ``gradient`` is omitted for a tensor of more than one element, or its shape differs, or the
        graph was already freed by an earlier backward().

    Examples
    --------
    >>> x = bprop.tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).backward(gradient=[1.0, 1.0])
    >>> x.grad
    array([2., 4.])
    """
    _bound["backward"](self, gradient, retain_graph, create_graph)


_METHODS = {
    "__getitem__": _getitem,
    "__repr__": _repr,
    "__array__": lambda self, dtype=None, copy=None: np.asarray(self.numpy(), dtype=dtype),
    "__len__": _len,
    "__gt__": _compare(0), "__ge__": _compare(1), "__lt__": _compare(2), "__le__": _compare(3),
    "item": item,
    "zero_grad": zero_grad,
    "reshape": reshape,
    "transpose": transpose,
    "T": property(_transposed),
    "sum": sum, "mean": mean, "max": max,
    "gelu": gelu, "softmax": softmax, "log_softmax": log_softmax,
    "clip": clip,
    "astype": astype,
    "detach": detach, "numpy": numpy, "backward": backward,
    **{name: _unary(name) for name in _UNARY},
}


def install():
    """Give the bound class its Python methods and its docstrings (once, at import)."""
    for name, method in {**_METHODS, **_TABLE_FUNCTIONS}.items():
        setattr(Tensor, name, method)
    Tensor.__doc__ = _TENSOR_DOC
    # The constructor is bound in C++, where inspect cannot read its parameters (help() and numpydoc can).
    Tensor.__signature__ = inspect.Signature([
        inspect.Parameter("data", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("requires_grad", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=False)])
    for name, doc in _PROPERTY_DOCS.items():
        vars(Tensor)[name].__doc__ = doc
    # NumPy defers to tensors in mixed expressions: `array * tensor` calls Tensor.__rmul__ (a tensor with its
    # graph) instead of turning the tensor into an array and dropping the graph.
    Tensor.__array_ufunc__ = None
    Tensor.__hash__ = object.__hash__  # tensors are graph nodes, compared by identity
