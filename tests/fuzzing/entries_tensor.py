"""Registry entries: tensors, their operators and methods, and the module's elementwise functions."""
import importlib
import operator

import numpy as np
from hypothesis import strategies as st

import bprop

from .entry import Entry
from .values import (Invalid, R, arrays, huge_ints, junk, junk_dtypes, junk_flags, junk_ints, junk_reals,
                     junk_scalars, odd_arrays, parameters, shapes, tensors, valid_tensors)


BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "**": operator.pow,
          "@": operator.matmul, ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
ELEMENTWISE = [op for op in BINARY if op != "@"]
tensor_module = importlib.import_module("bprop.tensor")  # the attribute bprop.tensor is the function
# The activations of the C++ table bprop.tensor exports as functions and methods (silu, ...): each is
# fuzzed and counted as covered with no edit here.
TABLE_FUNCTIONS = tuple(importlib.import_module("bprop.autograd.tensor")._TABLE_FUNCTIONS)


@st.composite
def broadcast_shapes(draw):
    """Two shapes that broadcast together (NumPy's rule): b is a suffix of a with some sizes set to 1."""
    a = draw(shapes(0, 3, 1, 4))
    cut = draw(st.integers(0, len(a)))
    b = tuple(1 if draw(st.booleans()) else n for n in a[cut:])
    return (a, b) if draw(st.booleans()) else (b, a)


@st.composite
def matmul_shapes(draw):
    m, k, n = draw(st.integers(1, 4)), draw(st.integers(0, 4)), draw(st.integers(1, 4))
    batch = draw(shapes(0, 2, 1, 3))
    kind = draw(st.sampled_from(("2d", "batched", "vector-left", "vector-right")))
    if kind == "vector-left":
        return (k,), (k, n)
    if kind == "vector-right":
        return (m, k), (k,)
    return (batch + (m, k), (k, n)) if kind == "batched" else ((m, k), (k, n))


def pair_of_tensors(shape_pairs):
    return shape_pairs.flatmap(lambda p: st.tuples(valid_tensors(p[0]), valid_tensors(p[1])))


def operand_junk():
    return st.one_of(st.none(), junk_scalars(), odd_arrays(), tensors(), parameters(shapes(0, 2, 1, 3)))


def call_tensor(data, requires_grad, dtype, via="tensor"):
    """bprop.tensor(...), or the class itself, which users may call too."""
    if via == "Tensor":
        return bprop.Tensor(data)
    result = bprop.tensor(data, requires_grad=requires_grad, dtype=dtype)
    if result.shape != np.shape(data):
        raise Invalid(f"bprop.tensor of data shaped {np.shape(data)} has shape {result.shape}")
    return result


# -- operators ----------------------------------------------------------------------------------------------
def call_binary(a, b, op, reflected=False):
    """a op b (or b op a); an operator on a tensor or parameter gives a tensor (or an error), never an array
    that left the graph."""
    result = BINARY[op](b, a) if reflected else BINARY[op](a, b)
    if isinstance(result, np.ndarray):
        raise Invalid("the operator returned a NumPy array, not a tensor (NumPy took it over)")
    return result


@st.composite
def binary_valid(draw):
    op = draw(st.sampled_from(list(BINARY)))
    a, b = draw(pair_of_tensors(matmul_shapes() if op == "@" else broadcast_shapes()))
    if op != "@" and draw(st.booleans()):
        b = draw(st.sampled_from((2.0, -1, 0.5, 3)))
    return {"a": a, "b": b, "op": op, "reflected": draw(st.booleans()) if not isinstance(b, R) else False}


# -- methods ------------------------------------------------------------------------------------------------
UNARY = {
    "exp": lambda t: t.exp(), "log": lambda t: t.log(), "sqrt": lambda t: t.sqrt(), "abs": lambda t: abs(t),
    "relu": lambda t: t.relu(), "sigmoid": lambda t: t.sigmoid(), "tanh": lambda t: t.tanh(),
    "neg": lambda t: -t, "gelu": lambda t: t.gelu(), "gelu_tanh": lambda t: t.gelu("tanh"),
    "detach": lambda t: t.detach(), "numpy": lambda t: t.numpy(), "T": lambda t: t.T, "repr": repr,
    "to_dot": lambda t: t.to_dot(), "zero_grad": lambda t: t.zero_grad(), "array": np.asarray,
    "grad": lambda t: t.grad, "is_leaf": lambda t: (t.is_leaf, t.grad_fn, t.version, t.name, t.grad_tensor),
    **{op: (lambda op: lambda t: getattr(t, op)())(op) for op in TABLE_FUNCTIONS},
}
NEEDS_ROWS = {"len": len, "iter": list, "item": lambda t: t.item()}


def call_unary(x, method):
    return {**UNARY, **NEEDS_ROWS}[method](x)


def call_function(x, function, axis=-1):
    """The module-level functions (bprop.tensor.exp, ...), which take a tensor positionally."""
    if function in ("softmax", "log_softmax"):
        return getattr(tensor_module, function)(x, axis)
    if function == "gelu" or (function in TABLE_FUNCTIONS and axis not in (-1, 0)):
        return getattr(tensor_module, function)(x, axis)  # axis (a valid one aside) doubles as a parameter's junk
    return getattr(tensor_module, function)(x)


def call_reduce(x, method, axis, keepdims):
    return getattr(x, method)(axis=axis, keepdims=keepdims)


@st.composite
def reduce_valid(draw):
    shape = draw(shapes(0, 3, 1, 4))
    axis = None
    if shape and draw(st.booleans()):
        axis = draw(st.integers(-len(shape), len(shape) - 1))
    elif len(shape) > 1 and draw(st.booleans()):
        axis = tuple(draw(st.permutations(range(len(shape))))[:2])
    return {"x": draw(valid_tensors(shape)), "method": draw(st.sampled_from(("sum", "mean", "max"))), "axis": axis,
            "keepdims": draw(st.booleans())}


def wrapping_shape(size, factor):
    """(factor, m) whose product wraps around 2**64 to `size`: a reshape that only overflow accepts. For an odd
    factor, m = (j·2**64 + size) / factor with j = -size / 2**64 modulo factor."""
    j = (-size * pow(2**64, -1, factor)) % factor or factor
    return (factor, (j * 2**64 + size) // factor)


def call_reshape(x, shape, spread=False):
    if isinstance(shape, tuple) and shape[:1] == ("wrap",):
        shape = wrapping_shape(x.size, shape[1])
    return x.reshape(*shape) if spread and isinstance(shape, (tuple, list)) else x.reshape(shape)


@st.composite
def reshape_valid(draw):
    shape = draw(shapes(0, 3, 1, 4))
    n = int(np.prod(shape))
    target = draw(st.sampled_from([shape, (n,), (-1,), shape[::-1], (1,) + shape, shape + (1,), (n, 1), (1, -1),
                                   (-1, 1)]))
    return {"x": draw(valid_tensors(shape)), "shape": tuple(target), "spread": draw(st.booleans())}


def reshape_junk():
    return st.one_of(st.builds(lambda k: ("wrap", k), st.sampled_from((3, 5, 7, 2**32 + 1))),
                     st.lists(st.one_of(huge_ints(), st.integers(-3, 7)), min_size=1, max_size=4).map(tuple),
                     st.sampled_from([(2**32, 2**32), (0, 2**63 - 1), (2**62, 4), (-1, -1), (-2,), ("a",), (1.5,),
                                      None, [[2]], (), (np.int64(2**62), 8), "3"]))


def call_transpose(x, axes, spread=False):
    return x.transpose(*axes) if spread and isinstance(axes, (tuple, list)) else x.transpose(axes)


@st.composite
def transpose_valid(draw):
    shape = draw(shapes(0, 4, 1, 3))
    axes = tuple(draw(st.permutations(range(len(shape))))) if draw(st.booleans()) else ()
    return {"x": draw(valid_tensors(shape)), "axes": axes, "spread": draw(st.booleans())}


def call_getitem(x, index):
    return x[index]


@st.composite
def getitem_valid(draw):
    shape = draw(shapes(1, 3, 1, 4))
    items = []
    for n in shape[:draw(st.integers(1, len(shape)))]:
        bound = st.one_of(st.none(), st.integers(-n, n))
        items.append(draw(st.one_of(st.integers(-n, n - 1),
                                    st.builds(slice, bound, bound, st.sampled_from((None, 1, 2, -1))),
                                    st.lists(st.integers(-n, n - 1), min_size=1, max_size=3))))
    if draw(st.booleans()):  # a new axis anywhere, or an ellipsis after the indices (so they keep their axes)
        if draw(st.booleans()):
            items.insert(draw(st.integers(0, len(items))), None)
        else:
            items.append(Ellipsis)
    return {"x": draw(valid_tensors(shape)), "index": tuple(items) if len(items) != 1 else items[0]}


def index_junk():
    return st.one_of(huge_ints(), st.integers(-20, 20), junk_scalars(), st.sampled_from([
        slice(None, None, 0), (Ellipsis, Ellipsis), (0, 0, 0, 0, 0), slice(2**63, None), slice(None, 2**64),
        [2**63], [[0, 1], [2]], [True], 1.0, "0", (slice(None), None, None, 2**31)]),
        arrays(("bool", "int64", "float32", "int8", "object", "uint8"), shapes(0, 2, 0, 4)),
        tensors(shapes(0, 2, 0, 3)))


def call_astype(x, dtype):
    result = x.astype(dtype)
    if result.dtype != np.dtype(dtype).name:
        raise Invalid(f"astype({dtype!r}) returned a {result.dtype} tensor")
    return result


def call_softmax(x, method, axis):
    return getattr(x, method)(axis)


def call_clip(x, low, high, function=False):
    return x.clip(low, high) if isinstance(x, bprop.Tensor) and not function else bprop.clip(x, low, high)


T23 = R("ten", R("arr", "float32", (2, 3), "c", "rand"), False)
P23 = R("param", R("arr", "float32", (2, 3), "c", "rand"))
P0 = R("param", R("arr", "float32", (0,), "c", "rand"))

ENTRIES = [
    Entry("bprop.tensor", call_tensor,
          st.fixed_dictionaries({"data": st.one_of(arrays(("float32", "float64", "int32", "int64", "uint8", "bool")),
                                                   st.sampled_from((1.0, 2, [1.0, 2.0], [[1, 2], [3, 4]], True))),
                                 "requires_grad": st.booleans(), "dtype": st.sampled_from((None, "float32", "float64",
                                                                                           np.float32))}),
          {"data": junk(), "dtype": junk_dtypes(), "requires_grad": junk_flags(), "via": st.just("Tensor")}),
    Entry("Tensor.<binary operator>", call_binary, binary_valid(),
          {"b": operand_junk(), "a": tensors(), "reflected": st.just(True)},
          known=[{"a": T23, "b": None, "op": op, "reflected": False} for op in ("+", "-", "*", "/", "**", "@")]
          + [{"a": T23, "b": None, "op": "+", "reflected": True}]),
    Entry("Tensor.<unary method>", call_unary,
          st.fixed_dictionaries({"x": tensors(), "method": st.sampled_from(sorted(UNARY))}),
          {"method": st.sampled_from(sorted(NEEDS_ROWS))}),
    Entry("Tensor.item/len/iter", call_unary,
          st.fixed_dictionaries({"x": valid_tensors(st.sampled_from(((1,), (1, 1)))),
                                 "method": st.sampled_from(sorted(NEEDS_ROWS))}),
          {"x": tensors()}),
    Entry("bprop.tensor.<function>", call_function,
          st.fixed_dictionaries({"x": tensors(shapes(1, 3, 1, 4)), "axis": st.sampled_from((-1, 0)),
                                 "function": st.sampled_from(("exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh",
                                                              "softmax", "log_softmax") + tuple(TABLE_FUNCTIONS))}),
          {"x": junk(), "axis": junk_ints(-5), "function": st.sampled_from(("gelu",) + tuple(TABLE_FUNCTIONS))},
          known=[{"x": None, "axis": -1, "function": "exp"}]),
    Entry("Tensor.sum/mean/max", call_reduce, reduce_valid(),
          {"axis": st.one_of(junk_ints(-9), st.sampled_from([(0, 0), (0, 5), [None], "0", (2**63,)])),
           "keepdims": junk_flags(), "x": tensors()}),
    Entry("Tensor.reshape", call_reshape, reshape_valid(), {"shape": reshape_junk(), "x": tensors()},
          known=[{"x": R("ten", R("arr", "float32", (2,), "c", "rand"), False), "shape": ("wrap", 3), "spread": True},
                 {"x": R("ten", R("arr", "float32", (0,), "c", "rand"), False), "shape": (2**32, 2**32),
                  "spread": False}]),
    Entry("Tensor.transpose", call_transpose, transpose_valid(),
          {"axes": st.one_of(st.lists(st.one_of(huge_ints(), st.integers(-5, 5)), max_size=4).map(tuple),
                             junk_scalars()),
           "x": tensors()}),
    Entry("Tensor.__getitem__", call_getitem, getitem_valid(), {"index": index_junk(), "x": tensors()}),
    Entry("Tensor.astype", call_astype,
          st.fixed_dictionaries({"x": tensors(), "dtype": st.sampled_from(("float32", "float64", np.float64))}),
          {"dtype": junk_dtypes()}, known=[{"x": T23, "dtype": "int8"}]),
    Entry("Tensor.softmax/log_softmax", call_softmax,
          st.fixed_dictionaries({"x": valid_tensors(shapes(1, 3, 1, 4)), "method": st.sampled_from(("softmax",
                                                                                                     "log_softmax")),
                                 "axis": st.sampled_from((-1, 0))}),
          {"axis": junk_ints(-9), "x": tensors()}),
    Entry("Tensor.clip / bprop.clip", call_clip,
          st.fixed_dictionaries({"x": tensors(), "low": st.sampled_from((0, -1.0, -1e30)),
                                 "high": st.sampled_from((1, 2.5, 1e30)), "function": st.booleans()}),
          {"x": junk(), "low": junk_reals(), "high": junk_reals()},
          known=[{"x": None, "low": 0, "high": 1, "function": True}]),
]
