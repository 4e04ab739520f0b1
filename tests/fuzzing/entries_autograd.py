"""Registry entries: autograd (backward, grad, gradcheck, grad modes, the module's joining functions) and
Parameters."""
import numpy as np
from hypothesis import strategies as st

import bprop

from .entries_tensor import ELEMENTWISE, P0, P23, broadcast_shapes, call_binary, operand_junk, pair_of_tensors
from .entry import Entry
from .values import (Invalid, R, arrays, build, builder, junk, junk_dtypes, junk_flags, junk_ints, junk_reals,
                     junk_scalars, parameters, shapes, tensors, valid_tensors)


def call_backward(graph, gradient, retain_graph, create_graph, times):
    """backward() on the result of a small recorded graph, `times` times; the leaf's gradient."""
    leaf, out = graph
    for _ in range(times):
        out.backward(gradient, retain_graph=retain_graph, create_graph=create_graph)
    return leaf.grad


@builder("graph", shared=True)
def build_graph(array, scalar):
    """(leaf, out): a leaf that requires grad and a small recorded expression of it (scalar or not)."""
    leaf = bprop.tensor(build(array), requires_grad=True)
    out = leaf.tanh() * 2.0 + leaf
    return leaf, out.sum() if scalar else out


@builder("graph_part")
def build_graph_part(graph, part):
    leaf, out = build(graph)
    return leaf if part == "leaf" else out


@builder("param_tensor")
def build_parameter_tensor(parameter):
    return build(parameter).tensor


def recorded_graphs(scalar=st.just(True)):
    return st.builds(lambda a, s: R("graph", a, s), arrays(("float32", "float64"), shapes(0, 2, 1, 3)), scalar)


def call_setters(x, requires_grad, grad, name):
    x.requires_grad = requires_grad
    x.grad = grad
    x.name = name
    return x


# -- module functions and autograd -----------------------------------------------------------------------------
def call_maximum_where(op, a, b, condition):
    return bprop.maximum(a, b) if op == "maximum" else bprop.where(condition, a, b)


@st.composite
def maximum_valid(draw):
    a, b = draw(pair_of_tensors(broadcast_shapes()))
    condition = draw(valid_tensors(draw(st.just(()))))
    return {"op": draw(st.sampled_from(("maximum", "where"))), "a": a, "b": b, "condition": condition}


def call_join(op, tensors_, axis):
    return getattr(bprop, op)(tensors_, axis)


@st.composite
def join_valid(draw):
    shape = draw(shapes(1, 3, 1, 3))
    op = draw(st.sampled_from(("concatenate", "stack")))
    count = draw(st.integers(1, 3))
    return {"op": op, "tensors_": [draw(valid_tensors(shape)) for _ in range(count)],
            "axis": draw(st.integers(-len(shape) - (op == "stack"), len(shape) - 1 + (op == "stack")))}


def call_grad(outputs, inputs, grad_outputs, retain_graph, create_graph):
    return bprop.grad(outputs, inputs, grad_outputs=grad_outputs, retain_graph=retain_graph, create_graph=create_graph)


@st.composite
def grad_valid(draw):
    graph = draw(recorded_graphs())
    return {"outputs": R("graph_part", graph, "out"), "inputs": R("graph_part", graph, "leaf"), "grad_outputs": None,
            "retain_graph": draw(st.sampled_from((None, True, False))), "create_graph": draw(st.booleans())}


def call_gradcheck(fn, inputs, eps, atol, rtol):
    return bprop.gradcheck(fn, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=False)


def call_grad_mode(steps):
    """no_grad / enable_grad used as context managers, decorators, or (wrong order) half of the protocol."""
    contexts = {"no_grad": bprop.no_grad, "enable_grad": bprop.enable_grad}
    for name, how in steps:
        context = contexts[name]()
        if how == "with":
            with context:
                bprop.is_grad_enabled()
        elif how == "decorate":
            context(lambda: bprop.is_grad_enabled())()
        elif how == "exit-first":
            context.__exit__(None, None, None)
        else:
            context.__enter__()
    return bprop.is_grad_enabled()


# -- Parameters ---------------------------------------------------------------------------------------------
def call_parameter(data, name, dtype):
    result = bprop.Parameter(data, name=name, dtype=dtype)
    if tuple(result.shape) != np.shape(data):
        raise Invalid(f"bprop.Parameter of data shaped {np.shape(data)} has shape {tuple(result.shape)}")
    return result


def call_parameter_set(p, method, x):
    getattr(p, method)(x)
    return p.value(), p.grad


def call_parameter_method(p, method, other):
    methods = {"value": lambda: p.value(), "grad": lambda: p.grad, "zero_grad": lambda: p.zero_grad(),
               "tensor": lambda: p.tensor, "repr": lambda: repr(p), "array": lambda: np.asarray(p),
               "getitem": lambda: p[other], "requires_grad": lambda: setattr(p, "requires_grad", other),
               "sum": lambda: p.sum(), "T": lambda: p.T, "neg": lambda: -p, "reshape": lambda: p.reshape(other),
               "eq": lambda: p == other, "hash": lambda: hash(p)}
    return methods[method]()


ENTRIES = [
    Entry("Tensor.backward", call_backward,
          st.fixed_dictionaries({"graph": recorded_graphs(), "gradient": st.none(), "retain_graph": st.booleans(),
                                 "create_graph": st.booleans(), "times": st.just(1)}),
          {"gradient": junk(), "times": st.sampled_from((2, 3)), "graph": recorded_graphs(st.booleans()),
           "retain_graph": junk_flags(),
           "create_graph": junk_flags()}),
    Entry("Tensor.requires_grad/grad/name=", call_setters,
          st.fixed_dictionaries({"x": valid_tensors(), "requires_grad": st.booleans(), "grad": st.none(),
                                 "name": st.sampled_from(("", "w", "ü"))}),
          {"requires_grad": junk_flags(), "grad": junk(), "name": junk_scalars(),
           "x": st.one_of(tensors(), parameters().map(lambda p: R("param_tensor", p)))}),
    Entry("bprop.maximum/where", call_maximum_where, maximum_valid(),
          {"a": junk(), "b": junk(), "condition": junk()}),
    Entry("bprop.concatenate/stack", call_join, join_valid(),
          {"tensors_": st.one_of(junk_scalars(), st.lists(junk(), max_size=3), st.lists(tensors(), max_size=3)),
           "axis": junk_ints(-9)}),
    Entry("bprop.grad", call_grad, grad_valid(),
          {"outputs": junk(), "inputs": st.one_of(junk(), st.lists(tensors(), max_size=2)),
           "grad_outputs": st.one_of(junk(), st.lists(junk(), max_size=2)), "retain_graph": junk_flags(),
           "create_graph": junk_flags()}),
    Entry("bprop.gradcheck", call_gradcheck,
          st.fixed_dictionaries({"fn": st.sampled_from((R("fn", "sum"), R("fn", "tanh"))),
                                 "inputs": st.lists(valid_tensors(shapes(0, 2, 1, 3), st.just(True)), min_size=1,
                                                    max_size=1),
                                 "eps": st.just(1e-6), "atol": st.just(1e-5), "rtol": st.just(1e-3)}),
          {"fn": st.sampled_from((R("fn", "none"), R("fn", "numpy"), R("fn", "str"), None, 3)),
           "inputs": st.one_of(junk(), st.lists(junk(), max_size=2)), "eps": junk_reals(), "atol": junk_reals()}),
    Entry("bprop.no_grad/enable_grad", call_grad_mode,
          st.fixed_dictionaries({"steps": st.lists(st.tuples(st.sampled_from(("no_grad", "enable_grad")),
                                                             st.sampled_from(("with", "decorate"))), max_size=3)}),
          {"steps": st.lists(st.tuples(st.sampled_from(("no_grad", "enable_grad")),
                                       st.sampled_from(("with", "decorate", "exit-first", "enter-only"))),
                             min_size=1, max_size=3)}),
    Entry("bprop.Parameter", call_parameter,
          st.fixed_dictionaries({"data": arrays(("float32", "float64", "int64"), shapes(0, 3, 0, 4)),
                                 "name": st.sampled_from(("w", "", "ü")),
                                 "dtype": st.sampled_from((None, "float64"))}),
          {"data": junk(), "name": junk_scalars(), "dtype": junk_dtypes()}),
    Entry("Parameter.set_value/set_grad", call_parameter_set,
          st.fixed_dictionaries({"p": parameters(st.just((2, 3)), ("float32",)),
                                 "method": st.sampled_from(("set_value", "set_grad")),
                                 "x": arrays(("float32",), (2, 3))}),
          {"x": junk(st.sampled_from(((2, 3), (3, 2), (6,), (2, 3, 1)))), "p": parameters(shapes(0, 2, 0, 3))},
          known=[{"p": P23, "method": "set_value", "x": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]},
                 {"p": P23, "method": "set_grad", "x": 1.0},
                 {"p": P0, "method": "set_value", "x": R("arr", "float32", (0,), "c", "rand")},
                 {"p": P0, "method": "set_grad", "x": R("arr", "float32", (0,), "c", "rand")}]),
    Entry("Parameter.<binary operator>", call_binary,
          st.fixed_dictionaries({"a": parameters(st.just((2, 3))), "b": valid_tensors(st.just((2, 3))),
                                 "op": st.sampled_from(ELEMENTWISE), "reflected": st.booleans()}),
          {"b": operand_junk(), "op": st.just("@")},
          known=[{"a": P23, "b": None, "op": op, "reflected": False} for op in ("+", "*", "@")]),
    Entry("Parameter.<method>", call_parameter_method,
          st.fixed_dictionaries({"p": parameters(st.just((2, 3))), "other": st.just(True),
                                 "method": st.sampled_from(("value", "grad", "zero_grad", "tensor", "repr", "array",
                                                            "sum", "T", "neg", "requires_grad", "hash"))}),
          {"other": junk(), "method": st.sampled_from(("getitem", "reshape", "eq", "requires_grad"))},
          known=[{"p": P0, "other": True, "method": m} for m in ("zero_grad", "value", "grad", "sum")]),
]
