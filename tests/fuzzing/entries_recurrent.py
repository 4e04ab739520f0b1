"""Registry entries: the recurrent layers (RNN, LSTM, GRU) made, run with lengths and states and back, with valid
and junk hyperparameters, sequences, lengths and states."""
import numpy as np
from hypothesis import strategies as st

from bprop import nn

from .entry import Entry
from .values import (R, arrays, junk, junk_dtypes, junk_flags, junk_ints, junk_reals, junk_scalars, odd_arrays, shapes,
                     tensors, valid_tensors)

RECURRENT_CLASSES = ("RNN", "LSTM", "GRU")


def call_recurrent(name, kwargs, x, lengths, h0, c0, training):
    """A recurrent layer made from kwargs, then run (with lengths and initial states) and run_backward on x, and
    its Sequential forward on x."""
    layer = getattr(nn, name)(**kwargs)
    states = {"c0": c0} if c0 is not None else {}
    outputs = layer.run(x, h0=h0, lengths=lengths, training=training, **states)
    grads = layer.run_backward(x, np.ones_like(outputs[0]))
    return outputs, grads, [p.grad for p in layer.parameters()], layer.forward(x)


@st.composite
def recurrent_valid(draw):
    name = draw(st.sampled_from(RECURRENT_CLASSES))
    dtype = draw(st.sampled_from(("float32", "float64")))
    kwargs = {"input_size": draw(st.integers(1, 4)), "hidden_size": draw(st.integers(1, 4)),
              "num_layers": draw(st.integers(1, 3)), "bias": draw(st.booleans()),
              "dropout": draw(st.sampled_from((0.0, 0.5))), "bidirectional": draw(st.booleans()),
              "return_sequences": draw(st.booleans()), "seed": 0, "dtype": dtype}
    if name == "RNN":
        kwargs["nonlinearity"] = draw(st.sampled_from(("tanh", "relu")))
    rows, time = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    state_shape = (kwargs["num_layers"] * (2 if kwargs["bidirectional"] else 1), rows, kwargs["hidden_size"])
    return {"name": name, "kwargs": kwargs,
            "x": draw(arrays((dtype,), (rows, time, kwargs["input_size"]), fills=("rand", "zeros", "huge"))),
            "lengths": draw(st.none() | st.lists(st.integers(1, time), min_size=rows, max_size=rows)),
            "h0": draw(st.none() | arrays((dtype,), state_shape)),
            "c0": draw(st.none() | arrays((dtype,), state_shape)) if name == "LSTM" else None,
            "training": draw(st.booleans())}


RECURRENT_JUNK = {"input_size": junk_ints(1), "hidden_size": junk_ints(1), "num_layers": junk_ints(1),
                  "bias": junk_flags(), "dropout": st.one_of(junk_reals(), st.just(1.0)),
                  "bidirectional": junk_flags(), "return_sequences": junk_flags(), "seed": junk_ints(0),
                  "dtype": junk_dtypes(), "nonlinearity": st.one_of(junk_scalars(), st.just("sigmoid"))}


@st.composite
def recurrent_junk_kwargs(draw):
    case = draw(recurrent_valid())
    kwargs = dict(case["kwargs"])
    key = draw(st.sampled_from(sorted(kwargs)))
    kwargs[key] = draw(RECURRENT_JUNK[key])
    return kwargs


def call_recurrent_on_tensors(name, kwargs, x, hx, lengths, training):
    """A recurrent layer called on tensors as a Module calls it, then backward from everything it returned."""
    layer = getattr(nn, name)(**kwargs)
    layer.train(training)
    y, states = layer(x, hx, lengths=lengths)
    total = y.sum()
    for state in states if isinstance(states, tuple) else (states,):
        total = total + state.sum()
    if total.requires_grad:
        total.backward()
    return y, states, [p.grad for p in layer.parameters()]


@st.composite
def recurrent_tensor_valid(draw):
    case = draw(recurrent_valid())
    dtype = case["kwargs"]["dtype"]
    x = case["x"]
    rows, time = x[2][0], x[2][1]
    shape = (case["kwargs"]["num_layers"] * (2 if case["kwargs"]["bidirectional"] else 1), rows,
             case["kwargs"]["hidden_size"])
    state = st.none() | valid_tensors(st.just(shape), dtypes=(dtype,))
    hx = (draw(state), draw(state)) if case["name"] == "LSTM" and draw(st.booleans()) else draw(state)
    if case["name"] == "LSTM" and isinstance(hx, R):  # a tensor alone: an LSTM takes the pair or None
        hx = None
    return {"name": case["name"], "kwargs": case["kwargs"], "x": draw(valid_tensors(st.just((rows, time, x[2][2])),
                                                                                    dtypes=(dtype,))),
            "hx": hx, "lengths": case["lengths"], "training": case["training"]}


ENTRIES = [
    Entry("nn.<Recurrent>(x, hx, lengths)", call_recurrent_on_tensors, recurrent_tensor_valid(),
          {"x": st.one_of(junk(), tensors(shapes(0, 4, 0, 4))), "hx": st.one_of(junk(), st.tuples(junk(), junk())),
           "lengths": st.one_of(junk(), st.sampled_from(([0], [9, 9, 9], [1.5], [-1, 2], [2**63], [[1]]))),
           "training": junk_flags()}),
    Entry("nn.<Recurrent>(...).run/run_backward", call_recurrent, recurrent_valid(),
          {"kwargs": recurrent_junk_kwargs(), "x": st.one_of(junk(), odd_arrays(shapes(0, 4, 0, 4))),
           "name": st.sampled_from(RECURRENT_CLASSES),
           "lengths": st.one_of(junk(), st.sampled_from(([0], [9, 9, 9], [1.5], [-1, 2], [2**63], [[1]]))),
           "h0": st.one_of(junk(), odd_arrays(shapes(3, 3, 0, 3))), "c0": st.one_of(junk(), odd_arrays(shapes(3, 3, 0, 3))),
           "training": junk_flags()}),
]


@st.composite
def sequence_layers(draw):
    """(layer recipe, sample shape in, sample shape out) of a small recurrent layer, for the generic layer entries."""
    name = draw(st.sampled_from(RECURRENT_CLASSES))
    kwargs = {"input_size": draw(st.integers(1, 3)), "hidden_size": draw(st.integers(1, 3)),
              "num_layers": draw(st.integers(1, 2)), "bidirectional": draw(st.booleans()),
              "return_sequences": draw(st.booleans()), "dropout": draw(st.sampled_from((0.0, 0.3))),
              "dtype": draw(st.sampled_from(("float32", "float64")))}
    time = draw(st.integers(1, 4))
    width = kwargs["hidden_size"] * (2 if kwargs["bidirectional"] else 1)
    return R("layer", name, kwargs), (time, kwargs["input_size"]), (time, width) if kwargs["return_sequences"] else (width,)
