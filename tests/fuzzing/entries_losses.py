"""Registry entries: losses, as objects and as nn.functional on tensors."""
import numpy as np
from hypothesis import strategies as st

from bprop import nn
from bprop.nn import functional

from .entry import Entry
from .values import (R, arrays, build, builder, dims, junk, junk_dtypes, junk_ints, junk_reals, junk_scalars,
                     odd_arrays, shapes)


# -- losses ---------------------------------------------------------------------------------------------------
LOSSES = ("MSE", "MAE", "Huber", "CrossEntropy", "BinaryCrossEntropy")


@builder("loss")
def build_loss(name, kwargs):
    return getattr(nn, name)(**build(kwargs))


def loss_kwargs(name):
    extra = {"Huber": {"delta": st.sampled_from((1.0, 0.5))},
             "CrossEntropy": {"label_smoothing": st.sampled_from((0.0, 0.1)),
                              "ignore_index": st.sampled_from((None, -100, 0))}}.get(name, {})
    return st.fixed_dictionaries({"reduction": st.sampled_from(("mean", "sum")), **extra})


@st.composite
def targets(draw, name, rows, k, dtype="float64"):
    """Valid targets for loss `name` and outputs (rows, k)."""
    if name == "CrossEntropy":
        if draw(st.booleans()):
            return draw(arrays(("int64", "int32", "float32"), (rows,), fills=("labels",))), max(k, 3)
        return draw(arrays((dtype, "float32"), (rows, k), fills=("onehot",))), k
    fill = "unit" if name == "BinaryCrossEntropy" else "rand"
    shape = (rows,) if k == 1 and draw(st.booleans()) else (rows, k)
    return draw(arrays((dtype, "float32", "int64" if fill == "rand" else "float64"), shape, fills=(fill,))), k


def call_loss(loss, out, y, sample_weight, how):
    if how == "call":
        return loss(out, y, sample_weight=sample_weight)
    if how == "forward_backward":
        return loss.forward_backward(out, y, sample_weight)
    if how == "tensor":
        return loss(out, y, sample_weight)
    function = {"MSE": functional.mse, "MAE": functional.mae, "Huber": functional.huber,
                "CrossEntropy": functional.cross_entropy, "BinaryCrossEntropy": functional.binary_cross_entropy}
    return function[loss.name](out, y, sample_weight=sample_weight)


@st.composite
def loss_valid(draw):
    name = draw(st.sampled_from(LOSSES))
    rows, dtype = draw(dims(1, 4)), draw(st.sampled_from(("float32", "float64")))
    y, k = draw(targets(name, rows, draw(dims(1, 4))))
    how = draw(st.sampled_from(("call", "forward_backward", "tensor", "functional")))
    out = arrays((dtype,), (rows, k), fills=("rand", "huge"))
    out = draw(out.map(lambda a: R("ten", a, True)) if how in ("tensor", "functional") else out)
    weights = draw(st.one_of(st.none(), arrays(("float64", "float32", "int64"), (rows,), fills=("unit", "zeros"))))
    return {"loss": R("loss", name, draw(loss_kwargs(name))), "out": out, "y": y, "sample_weight": weights,
            "how": how}


def call_loss_init(spec):
    name, kwargs = spec
    return getattr(nn, name)(**kwargs)


def call_prepare_targets(loss, y, n_outputs, dtype):
    return loss.prepare_targets(y, n_outputs, dtype)


def call_prepare_labels(loss, y, n_outputs):
    return loss.prepare_labels(y, n_outputs)


@st.composite
def labels_valid(draw):
    """Labels of one or two axes (a label per position) for a CrossEntropy with or without an ignore_index."""
    ignore_index = draw(st.sampled_from((None, -100)))
    shape = draw(st.one_of(st.tuples(dims(1, 4)), st.tuples(dims(1, 4), dims(1, 3))))
    return {"loss": R("loss", "CrossEntropy", {"ignore_index": ignore_index}),
            "y": draw(arrays(("int64", "int32", "float32"), shape, fills=("labels",))), "n_outputs": max(draw(dims(1, 4)), 3)}


@st.composite
def prepare_valid(draw):
    name = draw(st.sampled_from(LOSSES))
    y, k = draw(targets(name, draw(dims(1, 4)), draw(dims(1, 4))))
    return {"loss": R("loss", name, {}), "y": y, "n_outputs": k,
            "dtype": draw(st.sampled_from(("float32", "float64")))}


LOSS_METHODS = ("core", "targets_are_labels", "reduction", "ignore_index", "get_config", "repr", "name", "on_tensor")


def call_loss_method(loss, method, argument):
    if method in ("core", "targets_are_labels"):
        return getattr(loss, method)(argument)
    if method == "on_tensor":
        return loss.on_tensor(argument, np.zeros(2))
    return repr(loss) if method == "repr" else (getattr(loss, method)() if method == "get_config"
                                               else getattr(loss, method))


ENTRIES = [
    Entry("Loss.<method>", call_loss_method,
          st.builds(lambda name, m, a: {"loss": R("loss", name, {}), "method": m, "argument": a},
                    st.sampled_from(LOSSES),
                    st.sampled_from(LOSS_METHODS[:-1]), st.sampled_from(("float32", "float64", np.float64))),
          {"argument": junk(), "method": st.just("on_tensor")}),
    Entry("nn.<Loss>(...)", call_loss_init,
          st.fixed_dictionaries({"spec": st.sampled_from(LOSSES).flatmap(lambda n: st.tuples(st.just(n),
                                                                                               loss_kwargs(n)))}),
          {"spec": st.tuples(st.sampled_from(LOSSES), st.fixed_dictionaries({}, optional={
              "reduction": junk_scalars(), "delta": junk_reals(), "label_smoothing": junk_reals(),
              "ignore_index": junk_ints(-(2**63))}))}),
    Entry("Loss(out, y) / nn.functional.*", call_loss, loss_valid(),
          {"out": st.one_of(junk(), odd_arrays(shapes(1, 3, 0, 4))), "y": st.one_of(junk(), odd_arrays()),
           "sample_weight": junk(), "how": st.sampled_from(("functional", "tensor"))},
          known=[{"loss": R("loss", "MSE", {}), "out": R("arr", "float32", (2, 1), "c", "rand"),
                  "y": R("arr", "float32", (2, 1), "c", "rand"), "sample_weight": None, "how": "functional"}]),
    Entry("Loss.prepare_targets", call_prepare_targets, prepare_valid(),
          {"y": junk(), "n_outputs": junk_ints(1), "dtype": junk_dtypes()}),
    Entry("Loss.prepare_labels", call_prepare_labels, labels_valid(),
          {"y": st.one_of(junk(), odd_arrays()), "n_outputs": junk_ints(1),
           "loss": st.sampled_from(LOSSES).map(lambda name: R("loss", name, {}))}),
]
