"""Recipes and the strategies that draw them.

A fuzz case holds recipes, not objects: plain, picklable, printable data such as
``R("arr", "float32", (2, 3), "neg", "nan")`` that the worker builds into the object (here a float32
array with negative strides holding a NaN) just before the call. So a case crosses the process boundary
unchanged (pickling a view would make it contiguous), and its repr is its reproducer.
"""
import math

import numpy as np
from hypothesis import strategies as st

nan, inf = math.nan, math.inf


class Invalid(Exception):
    """Raised by an entry's call when bprop returned but the result is wrong (a dtype not the one asked for,
    a fit that trained nothing): reported as an invalid result."""


class R(tuple):
    """A recipe: (kind, *arguments); built by ``build``."""

    def __new__(cls, kind, *args):
        return tuple.__new__(cls, (kind,) + args)

    def __getnewargs__(self):
        return tuple(self)

    def __repr__(self):
        return "R(" + ", ".join(map(repr, self)) + ")"


# -- building ------------------------------------------------------------------------------------------
BUILDERS = {}
SHARED = set()  # kinds built once per case: equal recipes give the same object (a graph, a model)
_built = {}     # a case runs in a fresh forked process, so this starts empty for each


def builder(kind, shared=False):
    def register(function):
        BUILDERS[kind] = function
        if shared:
            SHARED.add(kind)
        return function
    return register


def build(value):
    """The object a recipe describes; containers are built item by item, anything else is itself."""
    if isinstance(value, R):
        if value[0] in SHARED:
            key = repr(value)
            if key not in _built:
                _built[key] = BUILDERS[value[0]](*value[1:])
            return _built[key]
        return BUILDERS[value[0]](*value[1:])
    if isinstance(value, list):
        return [build(v) for v in value]
    if isinstance(value, tuple):
        return tuple(build(v) for v in value)
    if isinstance(value, dict):
        return {k: build(v) for k, v in value.items()}
    return value


def _values(shape, fill):
    """float64 values of the shape, deterministic, with the fill's special values."""
    n = math.prod(shape)
    base = np.random.default_rng(n).standard_normal(n)
    if fill == "zeros":
        base[:] = 0.0
    elif fill == "labels":
        base = np.arange(n) % 3.0
    elif fill == "unit":
        base = np.abs(base) / (1.0 + np.abs(base))
    elif fill == "onehot" and shape:
        base = np.eye(shape[-1])[np.arange(n // max(shape[-1], 1)) % shape[-1]] if shape[-1] else base
    elif fill in ("nan", "inf", "-inf") and n:
        base[n // 2] = {"nan": nan, "inf": inf, "-inf": -inf}[fill]
    elif fill == "huge":
        base *= 1e30  # finite in float32; squares overflow
    return base.reshape(shape)


_EXOTIC = {"object": lambda v: v.astype(object), "str": lambda v: v.astype(str).astype("<U4"),
           "complex64": lambda v: (v + 1j * v).astype(np.complex64),
           "complex128": lambda v: v + 1j * v, "bool": lambda v: v > 0}


@builder("arr")
def build_array(dtype, shape, layout="c", fill="rand"):
    """An array of dtype and shape: layout c, f (Fortran), T (a transposed view), neg (negative strides),
    step (every other element), bcast (stride 0, read-only), readonly, unaligned (1 byte off)."""
    shape = tuple(shape)
    if layout == "T":
        return build_array(dtype, shape[::-1], "c", fill).T
    if layout == "step" and shape:
        wide = build_array(dtype, shape[:-1] + (2 * shape[-1],), "c", fill)
        return wide[..., ::2]
    values = _values(shape, fill)
    with np.errstate(all="ignore"):
        a = np.asarray(_EXOTIC[dtype](values) if dtype in _EXOTIC else values.astype(dtype))  # 0-d stays an array
    if layout == "f":
        a = np.asfortranarray(a)
    elif layout == "neg" and a.ndim:
        a = np.ascontiguousarray(a[(slice(None, None, -1),) * a.ndim])[(slice(None, None, -1),) * a.ndim]
    elif layout == "bcast" and a.size:
        a = np.broadcast_to(a.reshape(-1)[:1].reshape((1,) * a.ndim), shape)
    elif layout == "readonly":
        a.setflags(write=False)
    elif layout == "unaligned" and a.dtype != object:
        buffer = np.zeros(a.nbytes + 1, np.uint8)
        a = np.ndarray(shape, a.dtype, buffer.data, offset=1, strides=a.strides if a.ndim else None)
        a[...] = values.astype(a.dtype) if dtype not in _EXOTIC else _EXOTIC[dtype](values)
    return a


@builder("ten")
def build_tensor(array, requires_grad=False, derived=False):
    """A Tensor from an array recipe; derived: the result of an op (has a grad_fn), not a leaf."""
    import bprop

    t = bprop.tensor(build(array), requires_grad=requires_grad)
    return t * 1.0 if derived else t


@builder("param")
def build_parameter(array):
    import bprop

    return bprop.Parameter(build(array))


@builder("object")
def build_object():
    return object()


@builder("fn")
def build_function(name):
    """A callable, by name (callbacks' hooks, LearningRateScheduler, gradcheck)."""
    import bprop

    return {"none": lambda *a, **k: None, "half": lambda epoch, lr: lr / 2, "nan": lambda *a: nan,
            "str": lambda *a: "x", "raise": lambda *a: [][1], "sum": lambda *ts: sum(t.sum() for t in ts),
            "tanh": lambda t, *rest: t.tanh(), "numpy": lambda *ts: ts[0].numpy(),
            "stop": lambda *a: bprop.no_grad()}[name]


def first_rows(x, default=1):
    """The harness's guess at how many rows x has (any junk included)."""
    return len(x) if isinstance(x, np.ndarray) and x.ndim else default


def float_dtype(x, default="float32"):
    return x.dtype if isinstance(x, np.ndarray) and x.dtype in (np.float32, np.float64) else np.dtype(default)


# -- strategies ----------------------------------------------------------------------------------------
VALID_DTYPES = ("float32", "float64")
NUMERIC_DTYPES = ("float16", "int8", "int32", "int64", "uint8", "bool", ">f4", "<f8")
EXOTIC_DTYPES = ("object", "str", "complex64", "complex128")
LAYOUTS = ("c", "f", "T", "neg", "step", "bcast", "readonly", "unaligned")
FILLS = ("rand", "zeros", "nan", "inf", "-inf", "huge")

HUGE_INTS = (2**31, 2**32, 2**62, 2**63 - 1, 2**63, 2**64, -1, -2**31, -2**63)
ODD_FLOATS = (nan, inf, -inf, -0.0, 1e308, -1e308, 5e-324, 1e-45)
JUNK_SCALARS = (None, True, False, 0, 1, -1, 0.5, "", "abc", "float32", b"x", 1j, np.float32(1.5),
                np.int64(-3), R("arr", "float64", (), "c", "rand")) + HUGE_INTS + ODD_FLOATS
JUNK_CONTAINERS = ((), [], [1, 2], [[1.0], [2.0, 3.0]], [None], {}, {"a": 1}, [[1.0, 2.0]], ("a", 1))


def dims(low=1, high=5):
    return st.integers(low, high)


def shapes(min_rank=0, max_rank=3, low=0, high=5):
    return st.lists(st.integers(low, high), min_size=min_rank, max_size=max_rank).map(tuple)


def arrays(dtypes=VALID_DTYPES, shape=None, layouts=("c",), fills=("rand",)):
    """Array recipes; shape: a strategy of shapes, or a fixed shape."""
    if shape is None:
        shape = shapes()
    elif isinstance(shape, tuple):
        shape = st.just(shape)
    return st.builds(lambda d, s, l, f: R("arr", d, s, l, f), st.sampled_from(dtypes), shape,
                     st.sampled_from(layouts), st.sampled_from(fills))


def odd_arrays(shape=None):
    """Arrays that are wrong in some way: an odd dtype, layout or fill, or any shape."""
    return arrays(VALID_DTYPES + NUMERIC_DTYPES + EXOTIC_DTYPES, shape, LAYOUTS, FILLS)


def valid_tensors(shape=None, requires_grad=st.booleans(), dtypes=VALID_DTYPES):
    return st.builds(lambda a, g: R("ten", a, g), arrays(dtypes, shape), requires_grad)


def tensors(shape=None):
    """Tensors of any shape (0-d and zero-size included), dtype, values (NaN, Inf); leaves or derived."""
    return st.builds(lambda a, g, d: R("ten", a, g, d), arrays(VALID_DTYPES, shape, ("c",), FILLS),
                     st.booleans(), st.booleans())


def parameters(shape=None, dtypes=VALID_DTYPES):
    return st.builds(lambda a: R("param", a), arrays(dtypes, shape))


# Drawn as often as all the others together: the values that have crashed bprop or slipped through before.
FIRST_JUNK = (None, 2**63, 2**64, -1, 2**62, nan, "abc", [], R("object"))


def junk_scalars():
    return st.one_of(st.sampled_from(FIRST_JUNK), st.sampled_from(JUNK_SCALARS + JUNK_CONTAINERS + (R("object"),
                                                                                                    R("fn", "none"))))


def junk(shape=None):
    """Anything: odd scalars and containers, odd arrays, tensors and parameters of any shape."""
    return st.one_of(junk_scalars(), odd_arrays(shape), tensors(), parameters(shapes(0, 2, 1, 3)))


def huge_ints():
    return st.sampled_from(HUGE_INTS)


def junk_ints(minimum=0):
    """Integers a size, count or index must refuse, and non-integers."""
    return st.one_of(st.sampled_from(HUGE_INTS + (minimum - 1, 1.5, nan, "3", None, True, 2.0, np.int64(2)),),
                     st.integers(-10, minimum - 1) if minimum > -10 else st.nothing())


def junk_reals():
    return st.sampled_from(ODD_FLOATS + (None, "0.1", True, -1.0, 0.0, 1e30, -1e30, 2**64, 1j, [0.1]))


def junk_flags():
    return st.sampled_from((None, "yes", 1, 0, 2, nan, [], np.bool_(True), R("object")))


def junk_dtypes():
    return st.sampled_from(NUMERIC_DTYPES + EXOTIC_DTYPES + ("int8", "float16", "nope", 5, None, "", "O", "f4",
                                                             "float128", "V8", "datetime64[s]"))


def junk_some_keywords(draw, kwargs, keys, junk_for, count):
    """Replaces `count` distinct keys of kwargs (drawn from keys, fewer if there are fewer) by draws from
    junk_for[key]: a valid call made invalid in a few named places, so the error can be checked to name them."""
    size = min(count, len(keys))
    for key in draw(st.lists(st.sampled_from(keys), min_size=size, max_size=size, unique=True)):
        kwargs[key] = draw(junk_for[key])
