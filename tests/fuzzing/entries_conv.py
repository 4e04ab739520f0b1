"""Registry entries: the convolution layers (made, run forward and backward on arrays) and their functional
forms on tensors, with valid and junk hyperparameters, shapes and values."""
import numpy as np
from hypothesis import strategies as st

from bprop import nn

from .entry import Entry
from .values import arrays, junk, junk_dtypes, junk_flags, junk_ints, junk_scalars, odd_arrays, shapes, valid_tensors

CONV_CLASSES = ("Conv1d", "Conv2d", "ConvTranspose2d")


def call_conv_layer(name, kwargs, x):
    """A convolution layer made from kwargs, then forward and backward on x (samples, C, *spatial)."""
    layer = getattr(nn, name)(**kwargs)
    y = layer.forward(x, training=True)
    return layer.backward(x, y, np.ones_like(y)), [p.grad for p in layer.parameters()]


def sizes(dims, low=1, high=3):
    return st.one_of(st.integers(low, high), st.tuples(*[st.integers(low, high)] * dims))


@st.composite
def conv_layer_valid(draw):
    name = draw(st.sampled_from(CONV_CLASSES))
    dims = 1 if name == "Conv1d" else 2
    groups = draw(st.sampled_from((1, 2)))
    kwargs = {"in_channels": groups * draw(st.integers(1, 3)), "out_channels": groups * draw(st.integers(1, 3)),
              "kernel_size": draw(sizes(dims)), "stride": draw(st.sampled_from((1, 2))), "groups": groups,
              "bias": draw(st.booleans()), "dtype": draw(st.sampled_from(("float32", "float64"))), "seed": 0}
    if name != "ConvTranspose2d":
        kwargs["padding"] = draw(st.sampled_from((0, 1, "valid") + (("same",) if kwargs["stride"] == 1 else ())))
        kwargs["dilation"] = draw(st.sampled_from((1, 2)))
    # Sizes the kernel fits: at least its dilated span.
    kernel = kwargs["kernel_size"] if isinstance(kwargs["kernel_size"], tuple) else (kwargs["kernel_size"],) * dims
    spatial = tuple(draw(st.integers(kwargs.get("dilation", 1) * (k - 1) + 1, 7)) for k in kernel)
    x = draw(arrays((kwargs["dtype"],), (draw(st.integers(1, 3)), kwargs["in_channels"], *spatial),
                    fills=("rand", "zeros", "huge")))
    return {"name": name, "kwargs": kwargs, "x": x}


CONV_JUNK = {"in_channels": junk_ints(1), "out_channels": junk_ints(1), "kernel_size": st.one_of(junk_ints(1), st.just((0, 2)), st.just((1, 2, 3))),
             "stride": junk_ints(1), "padding": st.one_of(junk_ints(0), st.just("full"), st.just((1,))),
             "dilation": junk_ints(1), "groups": st.one_of(junk_ints(1), st.just(3)), "bias": junk_flags(),
             "dtype": junk_dtypes(), "seed": junk_ints(0), "output_padding": st.sampled_from((2, -1, (5, 5), "a"))}


@st.composite
def conv_layer_junk_kwargs(draw):
    case = draw(conv_layer_valid())
    kwargs = dict(case["kwargs"])
    key = draw(st.sampled_from(sorted(k for k in CONV_JUNK if k != "output_padding" or case["name"] == "ConvTranspose2d")))
    kwargs[key] = draw(CONV_JUNK[key])
    return kwargs


def call_functional_conv(op, x, weight, bias, stride, padding):
    return getattr(nn.functional, op)(x, weight, bias, stride=stride, padding=padding)


@st.composite
def functional_conv_valid(draw):
    op = draw(st.sampled_from(("conv1d", "conv2d", "conv_transpose2d")))
    dims = 1 if op == "conv1d" else 2
    c_in, c_out, k = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    weight_shape = (c_in, c_out, *(k,) * dims) if op == "conv_transpose2d" else (c_out, c_in, *(k,) * dims)
    dtype = draw(st.sampled_from(("float32", "float64")))
    x_shape = (draw(st.integers(1, 2)), c_in, *(draw(st.integers(k, 6)) for _ in range(dims)))
    return {"op": op, "x": draw(valid_tensors(st.just(x_shape), dtypes=(dtype,))),
            "weight": draw(valid_tensors(st.just(weight_shape), dtypes=(dtype,))),
            "bias": draw(st.one_of(st.none(), valid_tensors(st.just((c_out,)), dtypes=(dtype,)))),
            "stride": draw(st.sampled_from((1, 2))),
            "padding": 0 if op == "conv_transpose2d" else draw(st.sampled_from((0, 1)))}  # a transposed output ≥ 1


ENTRIES = [
    Entry("nn.<Conv>(...).forward/backward", call_conv_layer, conv_layer_valid(),
          {"kwargs": conv_layer_junk_kwargs(), "x": st.one_of(junk(), odd_arrays(shapes(0, 5, 0, 6))),
           "name": st.sampled_from(CONV_CLASSES)}),
    Entry("nn.functional.conv*", call_functional_conv, functional_conv_valid(),
          {"x": junk(), "weight": junk(), "bias": junk(), "stride": junk_ints(1),
           "padding": st.one_of(junk_scalars(), st.just("same"), st.just((1, 2, 3)))}),
]
