"""RNN, LSTM and GRU against torch.nn.RNN/LSTM/GRU (batch_first, weights copied, the reference in float64) on
random configurations with variable lengths (packed sequences) and initial states: outputs, final states and
every gradient; float64 central differences; every ISA; thread-count invariance; training; saving; errors."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bprop
from bprop import _core, nn
from conftest import AVAILABLE_ISAS
from gradcheck import assert_gradients_close, numeric_gradient, numeric_parameter_gradient

torch = pytest.importorskip("torch")
pack = torch.nn.utils.rnn.pack_padded_sequence
unpack = torch.nn.utils.rnn.pad_packed_sequence

SETTINGS = dict(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
RTOL, ATOL = 1e-4, 1e-5  # float32 against PyTorch in float64
TIGHT = 1e-10            # float64 against PyTorch in float64

TORCH_CLASSES = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}


def make_layer(cell, dtype="float32", seed=1, **keywords):
    """cell: "RNN_TANH", "RNN_RELU", "LSTM" or "GRU"."""
    if cell.startswith("RNN"):
        return nn.RNN(nonlinearity=cell[4:].lower(), dtype=dtype, seed=seed, **keywords)
    return getattr(nn, cell)(dtype=dtype, seed=seed, **keywords)


def torch_twin(layer):
    """The torch layer of the same configuration and weights, in float64."""
    keywords = dict(num_layers=layer.num_layers, bias=layer.bias, bidirectional=layer.bidirectional,
                    batch_first=True, dtype=torch.float64)
    if layer.name == "RNN":
        keywords["nonlinearity"] = layer.nonlinearity
    twin = TORCH_CLASSES[layer.name](layer.input_size, layer.hidden_size, **keywords)
    with torch.no_grad():
        for name, parameter in layer.named_parameters():
            getattr(twin, name).copy_(torch.from_numpy(parameter.value().astype(np.float64)))
    return twin


def torch_reference(layer, x, lengths=None, h0=None, c0=None, dy=None, dh_n=None, dc_n=None):
    """y (as the layer outputs it), h_n, c_n and the gradients of x, h0, c0 and every parameter for the loss
    Σ dy⊙y + Σ dh_n⊙h_n + Σ dc_n⊙c_n, from torch in float64 (packed sequences for lengths)."""
    twin = torch_twin(layer)

    def leaf(value):
        return None if value is None else torch.tensor(np.asarray(value, np.float64), requires_grad=True)

    xt, h0t, c0t = leaf(x), leaf(h0), leaf(c0)
    lstm = layer.name == "LSTM"
    steps = x.shape[1]
    source = xt if lengths is None else pack(xt, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
    if lstm and (h0t is not None or c0t is not None):
        zeros = torch.zeros(layer.num_layers * layer.num_directions, x.shape[0], layer.hidden_size,
                            dtype=torch.float64)
        hx = (zeros if h0t is None else h0t, zeros if c0t is None else c0t)
    else:
        hx = h0t
    out, states = twin(source, hx)
    if lengths is not None:
        out = unpack(out, batch_first=True, total_length=steps)[0]
    h_n, c_n = states if lstm else (states, None)
    y = out if layer.return_sequences else torch.cat(list(h_n[-layer.num_directions:]), dim=1)
    loss = (y * torch.tensor(dy)).sum()
    if dh_n is not None:
        loss = loss + (h_n * torch.tensor(dh_n)).sum()
    if dc_n is not None:
        loss = loss + (c_n * torch.tensor(dc_n)).sum()
    loss.backward()
    grads = {name: getattr(twin, name).grad.numpy() for name, _ in layer.named_parameters()}
    return dict(y=y.detach().numpy(), h_n=h_n.detach().numpy(), c_n=None if c_n is None else c_n.detach().numpy(),
                dx=xt.grad.numpy(), dh0=None if h0t is None else h0t.grad.numpy(),
                dc0=None if c0t is None else c0t.grad.numpy(), grads=grads)


def run_layer(layer, x, lengths=None, h0=None, c0=None, dy=None, dh_n=None, dc_n=None):
    """The same quantities from bprop: run, then run_backward."""
    lstm = layer.name == "LSTM"
    kwargs = dict(c0=c0) if lstm else {}
    outputs = layer.run(x, h0=h0, lengths=lengths, training=True, **kwargs)
    back_kwargs = dict(dc_n=dc_n) if lstm else {}
    grads = layer.run_backward(x, dy, dh_n=dh_n, **back_kwargs)
    return dict(y=outputs[0], h_n=outputs[1], c_n=outputs[2] if lstm else None, dx=grads[0], dh0=grads[1],
                dc0=grads[2] if lstm else None, grads={name: np.array(p.grad) for name, p in layer.named_parameters()})


def random_inputs(layer, rng, rows, steps, lengths=None, states=False, state_grads=False):
    """x, h0, c0, dy, dh_n, dc_n for a check. dy and dh_n are scaled by 1/√(rows·steps) so that the weight
    gradients (sums over every step of every sample) have values of order 1, like y and dx."""
    dtype = layer.dtype
    lstm = layer.name == "LSTM"
    x = rng.standard_normal((rows, steps, layer.input_size)).astype(dtype)
    shape = (layer.num_layers * layer.num_directions, rows, layer.hidden_size)
    h0 = rng.standard_normal(shape).astype(dtype) if states else None
    c0 = rng.standard_normal(shape).astype(dtype) if states and lstm else None
    scale = 1 / np.sqrt(rows * steps)
    out_shape = (rows, steps, layer.num_directions * layer.hidden_size) if layer.return_sequences else \
        (rows, layer.num_directions * layer.hidden_size)
    dy = (rng.standard_normal(out_shape) * scale).astype(dtype)
    dh_n = (rng.standard_normal(shape) * scale).astype(dtype) if state_grads else None
    dc_n = (rng.standard_normal(shape) * scale).astype(dtype) if state_grads and lstm else None
    return dict(x=x, lengths=lengths, h0=h0, c0=c0, dy=dy, dh_n=dh_n, dc_n=dc_n)


def assert_matches(mine, reference, rtol, atol):
    for key in ("y", "h_n", "c_n", "dx", "dh0", "dc0"):
        if reference[key] is not None:
            np.testing.assert_allclose(mine[key], reference[key], rtol=rtol, atol=atol, err_msg=key)
    for name, grad in reference["grads"].items():
        np.testing.assert_allclose(mine["grads"][name], grad, rtol=rtol, atol=atol, err_msg=name)


@st.composite
def configurations(draw):
    """(layer keywords, rows, steps, lengths or None, states given, state gradients given): sizes 1-64, 1-3
    layers, both directions, 1-40 steps, batches of 1-4 with lengths of their own."""
    cell = draw(st.sampled_from(("RNN_TANH", "RNN_RELU", "LSTM", "GRU")))
    keywords = dict(cell=cell, input_size=draw(st.integers(1, 64)), hidden_size=draw(st.integers(1, 64)),
                    num_layers=draw(st.integers(1, 3)), bidirectional=draw(st.booleans()),
                    bias=draw(st.sampled_from((True, True, False))), return_sequences=draw(st.booleans()))
    rows, steps = draw(st.integers(1, 4)), draw(st.integers(1, 40))
    lengths = draw(st.one_of(st.none(), st.lists(st.integers(1, steps), min_size=rows, max_size=rows)))
    return keywords, rows, steps, lengths, draw(st.booleans()), draw(st.booleans())


def check_configuration(config, dtype, rtol, atol, seed=7):
    keywords, rows, steps, lengths, states, state_grads = config
    keywords = dict(keywords)
    layer = make_layer(keywords.pop("cell"), dtype=dtype, **keywords)
    inputs = random_inputs(layer, np.random.default_rng(seed), rows, steps, lengths, states, state_grads)
    assert_matches(run_layer(layer, **inputs), torch_reference(layer, **inputs), rtol, atol)


@settings(max_examples=150, **SETTINGS)
@given(configurations())
def test_float32_matches_torch(config):
    check_configuration(config, "float32", RTOL, ATOL)


@settings(max_examples=80, **SETTINGS)
@given(configurations())
def test_float64_matches_torch_to_1e10(config):
    check_configuration(config, "float64", TIGHT, TIGHT)


# A few configurations every ISA runs: each cell, both directions, lengths, states, several layers.
ISA_CASES = [
    (dict(cell="LSTM", input_size=24, hidden_size=40, num_layers=2, bidirectional=True, return_sequences=True), 4, 17,
     [17, 5, 1, 12], True, True),
    (dict(cell="GRU", input_size=9, hidden_size=33, num_layers=1, bidirectional=True, return_sequences=False), 3, 11,
     [4, 11, 2], True, False),
    (dict(cell="RNN_TANH", input_size=16, hidden_size=64, num_layers=3, bidirectional=False, return_sequences=True),
     2, 23, None, False, True),
    (dict(cell="RNN_RELU", input_size=5, hidden_size=19, num_layers=2, bidirectional=True, return_sequences=False),
     4, 8, [8, 8, 3, 6], True, True),
]


@pytest.mark.parametrize("isa", AVAILABLE_ISAS)
@pytest.mark.parametrize("config", ISA_CASES, ids=lambda c: c[0]["cell"])
def test_every_isa_matches_torch(isa, config, force_isa):
    force_isa(isa)
    check_configuration(config, "float32", RTOL, ATOL)
    check_configuration(config, "float64", TIGHT, TIGHT)


@pytest.mark.parametrize("isa", AVAILABLE_ISAS)
@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"])
def test_saturated_gates_and_nan_on_every_isa(isa, cell, force_isa):
    """The vectorised sigmoid and tanh at the ends of their range (inputs ×60: every gate saturates), and NaN
    going in comes out."""
    force_isa(isa)
    layer = make_layer(cell, input_size=5, hidden_size=7, num_layers=2, bidirectional=True, return_sequences=True)
    inputs = random_inputs(layer, np.random.default_rng(1), 3, 9, [9, 4, 2], states=True, state_grads=True)
    inputs["x"] = inputs["x"] * 60
    assert_matches(run_layer(layer, **inputs), torch_reference(layer, **inputs), RTOL, ATOL)
    x = np.zeros((1, 4, 5), np.float32)
    x[0, 1, 0] = np.nan
    y, h_n = layer.run(x)[:2]
    assert np.isnan(y[0, 1:, :7]).all() and np.isnan(h_n).all()


@pytest.mark.parametrize("config", ISA_CASES, ids=lambda c: c[0]["cell"])
def test_results_do_not_depend_on_thread_count(config, threads):
    keywords, rows, steps, lengths, states, state_grads = config
    keywords = dict(keywords)
    cell = keywords.pop("cell")
    keywords["hidden_size"] = 64  # the bias gradients' column sums large enough to run on two threads

    def run(n):
        threads(n)
        layer = make_layer(cell, dropout=0.3 if keywords["num_layers"] > 1 else 0.0, **keywords)
        inputs = random_inputs(layer, np.random.default_rng(3), rows, steps, lengths, states, state_grads)
        result = run_layer(layer, **inputs)
        return [result[k] for k in ("y", "h_n", "c_n", "dx", "dh0", "dc0") if result[k] is not None] + \
            list(result["grads"].values()) + [layer.forward(inputs["x"])]

    for one, two in zip(run(1), run(2)):
        np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_samples_split_across_threads_match_torch(cell, threads):
    """A batch large enough that threads take runs of samples through the steps (nn/recurrent_steps.h), with
    lengths and both directions: the same numbers as torch, and as one thread."""
    config = (dict(cell=cell, input_size=20, hidden_size=48, num_layers=2, bidirectional=True, return_sequences=True),
              64, 20, list(np.random.default_rng(5).integers(1, 21, 64)), True, True)
    threads(2)
    check_configuration(config, "float64", TIGHT, TIGHT)
    check_configuration(config, "float32", RTOL, ATOL)


# ---- float64 central differences -------------------------------------------------------------------------

GRADCHECK_CASES = [
    ("RNN_TANH", dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True, return_sequences=True)),
    ("RNN_RELU", dict(input_size=2, hidden_size=3, num_layers=1, bidirectional=False, return_sequences=False)),
    ("LSTM", dict(input_size=3, hidden_size=3, num_layers=2, bidirectional=True, return_sequences=False)),
    ("GRU", dict(input_size=2, hidden_size=4, num_layers=2, bidirectional=True, return_sequences=True)),
    ("LSTM", dict(input_size=2, hidden_size=3, num_layers=2, dropout=0.4, return_sequences=True, bias=False)),
]


@pytest.mark.parametrize("cell,keywords", GRADCHECK_CASES, ids=[c[0] for c in GRADCHECK_CASES])
def test_float64_gradients_match_central_differences(cell, keywords, rng):
    """Every gradient (x, h0, c0, each parameter) of Σ w⊙y + Σ v⊙h_n (+ Σ u⊙c_n), with lengths; a layer with
    dropout runs in Mode.replay, so every evaluation draws the mask of its training forward."""
    layer = make_layer(cell, dtype="float64", **keywords)
    rows, steps = 3, 5
    lengths = np.array([5, 2, 4])
    inputs = random_inputs(layer, rng, rows, steps, lengths, states=True, state_grads=True)
    lstm = cell == "LSTM"
    core = layer.core()
    core.build([steps, layer.input_size])
    x, h0, c0 = inputs["x"], inputs["h0"], inputs["c0"]
    weights = inputs["dy"], inputs["dh_n"], inputs["dc_n"]
    core.run(x, lengths, h0, c0, _core.Mode.train)

    def loss():
        y, h_n, c_n = core.run(x, lengths, h0, c0, _core.Mode.replay)
        total = np.sum(weights[0] * y) + np.sum(weights[1] * h_n)
        return total + (np.sum(weights[2] * c_n) if lstm else 0.0)

    loss()
    dx, dh0, dc0 = core.run_backward(x, weights[0], weights[1], weights[2] if lstm else None, False)
    assert_gradients_close(dx, numeric_gradient(loss, x), "dx")
    assert_gradients_close(dh0, numeric_gradient(loss, h0), "dh0")
    if lstm:
        assert_gradients_close(dc0, numeric_gradient(loss, c0), "dc0")
    for parameter in layer.parameters():  # the analytic gradient is copied before the differences run
        assert_gradients_close(np.array(parameter.grad), numeric_parameter_gradient(parameter, loss), parameter.name)


def test_padding_steps_output_zeros_and_take_no_gradient(rng):
    layer = nn.GRU(3, 5, bidirectional=True, return_sequences=True, seed=2)
    x = rng.standard_normal((2, 6, 3)).astype(np.float32)
    lengths = np.array([6, 3])
    y, h_n = layer.run(x, lengths=lengths, training=True)
    assert np.all(y[1, 3:] == 0) and np.any(y[1, :3] != 0)
    dx, _ = layer.run_backward(x, np.ones_like(y))
    assert np.all(dx[1, 3:] == 0)
    # The padding's values change nothing.
    x2 = x.copy()
    x2[1, 3:] = 1e3
    y2, h_n2 = layer.run(x2, lengths=lengths)
    np.testing.assert_array_equal(y2, y)
    np.testing.assert_array_equal(h_n2, h_n)
    # A sample of length n gives what a sequence of n steps gives on its own.
    alone, h_alone = layer.run(x[1:, :3])
    np.testing.assert_allclose(y[1, :3], alone[0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(h_n[:, 1], h_alone[:, 0], rtol=1e-6, atol=1e-7)


# ---- the layer contract, Sequential, dropout ---------------------------------------------------------------

def test_forward_backward_and_predict_agree_with_run(rng):
    layer = nn.LSTM(4, 6, num_layers=2, bidirectional=True, seed=3)
    x = rng.standard_normal((5, 7, 4)).astype(np.float32)
    y = layer.forward(x, training=True)
    y_run, _, _ = layer.run(x)
    np.testing.assert_array_equal(y, y_run)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx = layer.backward(x, y, dy)
    dx_run, _, _ = layer.run_backward(x, dy)
    np.testing.assert_array_equal(dx, dx_run)
    model = bprop.Sequential([layer])
    np.testing.assert_array_equal(model.predict(x), y)  # the cache-free inference path
    np.testing.assert_array_equal(model.predict(x[2:3]), y[2:3])  # a sample alone: the same bits


def test_dropout_between_layers_in_training_only(rng):
    x = rng.standard_normal((4, 9, 3)).astype(np.float32)
    layer = nn.GRU(3, 8, num_layers=3, dropout=0.5, seed=4)
    plain = nn.GRU(3, 8, num_layers=3, seed=4)
    assert np.array_equal(layer.forward(x), plain.forward(x))  # evaluation: no dropout
    first = layer.forward(x, training=True)
    second = layer.forward(x, training=True)
    assert not np.allclose(first, plain.forward(x)) and not np.allclose(first, second)  # a fresh mask per step
    replayed = layer.core().forward(x, _core.Mode.replay)  # the last training forward's masks again
    np.testing.assert_array_equal(replayed, second)
    again = nn.GRU(3, 8, num_layers=3, dropout=0.5, seed=4)  # the seed reproduces every mask
    again.forward(x, training=True)
    np.testing.assert_array_equal(again.forward(x, training=True), second)
    with pytest.warns(UserWarning, match="dropout applies between stacked layers"):
        one_layer = nn.GRU(3, 8, num_layers=1, dropout=0.5, seed=4)  # nothing to drop between layers
    np.testing.assert_array_equal(one_layer.forward(x, training=True), one_layer.forward(x))


def test_pytorch_state_dict_copies_across(rng):
    reference = torch.nn.LSTM(5, 8, num_layers=2, bidirectional=True, batch_first=True)
    model = bprop.Sequential([nn.LSTM(5, 8, num_layers=2, bidirectional=True, return_sequences=True)])
    state = {f"0.{name}": value.detach().numpy() for name, value in reference.state_dict().items()}
    model.load_state_dict(state)
    x = rng.standard_normal((3, 6, 5)).astype(np.float32)
    expected = reference(torch.tensor(x))[0].detach().numpy()
    np.testing.assert_allclose(model.predict(x), expected, rtol=RTOL, atol=ATOL)
    # And parameter by parameter, by PyTorch's attribute names.
    layer = nn.GRU(5, 4, bias=True)
    twin = torch.nn.GRU(5, 4, batch_first=True)
    for name, value in twin.state_dict().items():
        getattr(layer, name).set_value(value.numpy())
    assert [name for name, _ in layer.named_parameters()] == list(twin.state_dict())
    np.testing.assert_allclose(layer.forward(x), twin(torch.tensor(x))[1][0].detach().numpy(), rtol=RTOL, atol=ATOL)


def test_initialisation_is_pytorchs_uniform_and_seeded():
    layer = nn.LSTM(30, 50, num_layers=2, seed=9)
    bound = 1 / np.sqrt(50)
    for parameter in layer.parameters():
        values = parameter.value()
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.9 * bound
    np.testing.assert_array_equal(nn.LSTM(30, 50, num_layers=2, seed=9).weight_hh_l1.value(), layer.weight_hh_l1.value())
    assert not np.array_equal(layer.weight_ih_l1.value()[:, :50], layer.weight_hh_l1.value())


def test_parameters_have_pytorchs_names_shapes_and_order():
    for cls, gates in ((nn.RNN, 1), (nn.LSTM, 4), (nn.GRU, 3)):
        layer = cls(7, 5, num_layers=2, bidirectional=True)
        twin = TORCH_CLASSES[cls.__name__](7, 5, num_layers=2, bidirectional=True)
        assert [(p.name, tuple(p.shape)) for p in layer.parameters()] == \
            [(name, tuple(v.shape)) for name, v in twin.state_dict().items()]
        assert cls.tensor_shapes(layer.get_config()) == {p.name: tuple(p.shape) for p in layer.parameters()}
        assert layer.weight_hh_l1_reverse.shape == (gates * 5, 5)
    assert [p.name for p in nn.GRU(2, 3, bias=False).parameters()] == ["weight_ih_l0", "weight_hh_l0"]


def test_a_small_lstm_learns(rng):
    # The sign of a running sum: the class depends on every step.
    x = rng.standard_normal((384, 10, 2)).astype(np.float32)
    y = (x[:, :, 0].sum(axis=1) > 0).astype(np.int64)
    model = bprop.Sequential([nn.LSTM(2, 16, seed=1), nn.Linear(16, 2, seed=2)])
    model.compile(bprop.optim.Adam(lr=2e-2), nn.CrossEntropy(), metrics=["accuracy"])
    history = model.fit(x, y, epochs=12, batch_size=32, verbose=0, seed=0)
    assert history.history["accuracy"][-1] > 0.9


def test_embedding_lstm_and_a_linear_per_step_learn_a_sequence_task(rng):
    """Integer sequences in, a class per step out: the token one step back (needs the recurrent state)."""
    x = rng.integers(0, 12, (384, 16))
    y = np.concatenate([x[:, :1], x[:, :-1]], axis=1)
    model = bprop.Sequential([nn.Embedding(12, 16, seed=1), nn.LSTM(16, 32, return_sequences=True, seed=2),
                              nn.Linear(32, 12, seed=3)])
    model.compile(bprop.optim.Adam(lr=1e-2, clipnorm=1.0), nn.CrossEntropy(), metrics=["accuracy"])
    history = model.fit(x, y, epochs=8, batch_size=32, verbose=0, seed=0)
    assert history.history["accuracy"][-1] > 0.95


def test_saved_and_loaded_with_summary(tmp_path, rng):
    model = bprop.Sequential([nn.GRU(3, 6, num_layers=2, bidirectional=True, return_sequences=True, dropout=0.2),
                              nn.Linear(12, 4), nn.RNN(4, 5, nonlinearity="relu"), nn.Linear(5, 2)])
    model.build((7, 3))
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "GRU" in text and "(None, 7, 12)" in text and "(None, 7, 4)" in text and "(None, 5)" in text
    path = tmp_path / "rnn.bprop"
    model.save(path)
    loaded = bprop.load(path)
    x = rng.standard_normal((2, 7, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.layers[2].nonlinearity == "relu" and loaded.layers[0].bidirectional
    for cls in (nn.RNN, nn.LSTM, nn.GRU):
        layer = cls(3, 4, num_layers=2, return_sequences=True, seed=5)
        twin = cls.from_config(layer.get_config())
        assert twin.get_config() == layer.get_config()
        np.testing.assert_array_equal(twin.weight_hh_l1.value(), layer.weight_hh_l1.value())


# ---- on tensors, in Modules ------------------------------------------------------------------------------------

def tensor_call(layer, x, h0, c0, lengths, weights):
    """The layer called on tensors; returns the loss Σ w⊙y + Σ v⊙h_n (+ Σ u⊙c_n) and the input tensors."""
    xb = bprop.tensor(x, requires_grad=True)
    hb = None if h0 is None else bprop.tensor(h0, requires_grad=True)
    cb = None if c0 is None else bprop.tensor(c0, requires_grad=True)
    if layer.name == "LSTM":
        y, (h_n, c_n) = layer(xb, None if hb is None else (hb, cb), lengths=lengths)
        extra = (c_n * weights[2]).sum()
    else:
        y, h_n = layer(xb, hb, lengths=lengths)
        extra = 0.0
    return (y * weights[0]).sum() + (h_n * weights[1]).sum() + extra, (xb, hb, cb)


@pytest.mark.parametrize("config", ISA_CASES, ids=lambda c: c[0]["cell"])
def test_tensor_calls_match_torch(config):
    """out, h_n = gru(x, h0, lengths=...) / out, (h_n, c_n) = lstm(x, (h0, c0)): values and gradients to x,
    h0, c0 and every parameter through the autograd engine, in float64 at 1e-10."""
    keywords, rows, steps, lengths, _, _ = config
    keywords = dict(keywords)
    layer = make_layer(keywords.pop("cell"), dtype="float64", **keywords)
    inputs = random_inputs(layer, np.random.default_rng(11), rows, steps, lengths, states=True, state_grads=True)
    weights = inputs["dy"], inputs["dh_n"], inputs["dc_n"]
    loss, (xb, hb, cb) = tensor_call(layer, inputs["x"], inputs["h0"], inputs["c0"], lengths, weights)
    loss.backward()
    reference = torch_reference(layer, **inputs)
    np.testing.assert_allclose(xb.grad, reference["dx"], rtol=TIGHT, atol=TIGHT)
    np.testing.assert_allclose(hb.grad, reference["dh0"], rtol=TIGHT, atol=TIGHT)
    if cb is not None:
        np.testing.assert_allclose(cb.grad, reference["dc0"], rtol=TIGHT, atol=TIGHT)
    for name, grad in reference["grads"].items():
        np.testing.assert_allclose(getattr(layer, name).grad, grad, rtol=TIGHT, atol=TIGHT, err_msg=name)
    # bprop.grad: the same gradients returned instead of accumulated (the parameters' own are left alone).
    before = np.array(layer.weight_hh_l0.grad)
    loss, (xb, hb, _) = tensor_call(layer, inputs["x"], inputs["h0"], inputs["c0"], lengths, weights)
    dx, dw = bprop.grad(loss, [xb, layer.weight_hh_l0.tensor])
    np.testing.assert_allclose(dx.numpy(), reference["dx"], rtol=TIGHT, atol=TIGHT)
    np.testing.assert_allclose(dw.numpy(), reference["grads"]["weight_hh_l0"], rtol=TIGHT, atol=TIGHT)
    np.testing.assert_array_equal(layer.weight_hh_l0.grad, before)


def test_tensor_calls_without_graph_and_on_one_sequence(rng):
    layer = nn.LSTM(3, 4, num_layers=2, return_sequences=True, seed=6)
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    y_train, (h_train, c_train) = layer(bprop.tensor(x))
    with bprop.no_grad():
        layer.eval()
        y, (h_n, c_n) = layer(bprop.tensor(x))  # the cache-free inference path
        layer.train()
    np.testing.assert_array_equal(y.numpy(), y_train.numpy())
    np.testing.assert_array_equal(c_n.numpy(), c_train.numpy())
    one, (h_one, _) = layer(bprop.tensor(x[1]), (h_n.numpy()[:, 1], c_n.numpy()[:, 1]))  # PyTorch's unbatched call
    both, (h_both, _) = layer(bprop.tensor(x), (h_n, c_n))
    assert one.shape == (5, 4) and h_one.shape == (2, 4)
    np.testing.assert_allclose(one.numpy(), both.numpy()[1], rtol=1e-6, atol=1e-7)
    # Only c0 given (h0 zeros), x without gradient: the gradient reaches c0 alone.
    c0 = bprop.tensor(rng.standard_normal((2, 2, 4)).astype(np.float32), requires_grad=True)
    y, _ = layer(bprop.tensor(x), (None, c0))
    y.sum().backward()
    reference = torch_reference(layer, x, c0=c0.numpy(), dy=np.ones(y.shape))
    np.testing.assert_allclose(c0.grad, reference["dc0"], rtol=RTOL, atol=ATOL)
    with pytest.raises(ValueError, match=r"h0 must have shape \(2, 4\)"):
        layer(bprop.tensor(x[0]), (np.zeros((2, 1, 4), np.float32), np.zeros((2, 4), np.float32)))
    with pytest.raises(TypeError, match=r"hx must be None or the pair \(h0, c0\)"):
        layer(bprop.tensor(x), np.zeros((2, 2, 4), np.float32))
    with pytest.raises(ValueError, match="LSTM has no second derivative"):
        xb = bprop.tensor(x, requires_grad=True)
        y, _ = layer(xb)
        (g,) = bprop.grad((y * y).sum(), [xb], create_graph=True)
        g.sum().backward()


class SequenceClassifier(bprop.Module):
    """A Module as users write them: a GRU's final state into a Linear."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(2, 12, seed=1)
        self.head = nn.Linear(12, 2, seed=2)

    def forward(self, x):
        _, h_n = self.gru(x)
        return self.head(h_n[-1])


def test_a_module_with_a_gru_learns(rng):
    x = rng.standard_normal((256, 8, 2)).astype(np.float32)
    y = (x[:, :, 0].sum(axis=1) > 0).astype(np.int64)
    model = SequenceClassifier()
    model.compile(bprop.optim.Adam(lr=2e-2), nn.CrossEntropy(), metrics=["accuracy"])
    history = model.fit(x, y, epochs=10, batch_size=32, verbose=0, seed=0)
    assert history.history["accuracy"][-1] > 0.9


# ---- errors --------------------------------------------------------------------------------------------------

BAD_ARGUMENTS = [
    (lambda: nn.LSTM(0, 4), ValueError, "input_size must be >= 1"),
    (lambda: nn.GRU(3, 0), ValueError, "hidden_size must be >= 1"),
    (lambda: nn.RNN(3, 4, num_layers=0), ValueError, "num_layers must be >= 1"),
    (lambda: nn.LSTM(3, 4, dropout=1.0), ValueError, r"dropout must be in \[0, 1\)"),
    (lambda: nn.LSTM(3, 4, dropout=-0.1), ValueError, r"dropout must be in \[0, 1\)"),
    (lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), ValueError, "nonlinearity must be 'tanh' or 'relu'"),
    (lambda: nn.GRU(3.5, 4), TypeError, "input_size must be an integer"),
    (lambda: nn.GRU(3, 4, bidirectional=1), TypeError, "bidirectional must be a bool"),
]


@pytest.mark.parametrize("make,error,message", BAD_ARGUMENTS)
def test_bad_arguments_raise(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_bad_inputs_raise_value_errors_naming_the_shapes():
    layer = nn.LSTM(3, 4, num_layers=2)
    x = np.zeros((2, 5, 3), np.float32)
    with pytest.raises(ValueError, match=r"x has 4 input features .*expected input_size = 3"):
        layer.run(np.zeros((2, 5, 4), np.float32))
    with pytest.raises(ValueError, match=r"x must be a batch of sequences \(samples, time, input_size\).*\(2, 3\)"):
        layer.run(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"expects samples of shape \(time, input_size\) with input_size = 3; got "
                                         r"samples of shape \(5, 4\)"):
        layer.forward(np.zeros((2, 5, 4), np.float32))
    with pytest.raises(ValueError, match=r"expects samples of shape \(time, input_size\)"):
        bprop.Sequential([layer]).predict(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"lengths must have shape \(2,\)"):
        layer.run(x, lengths=[5])
    with pytest.raises(TypeError, match="lengths must hold integers"):
        layer.run(x, lengths=np.array([5.0, 2.0]))
    with pytest.raises(ValueError, match=r"each length must be in \[1, 5\] \(x has 5 steps\); got 6"):
        layer.run(x, lengths=[6, 2])
    with pytest.raises(ValueError, match=r"each length must be in \[1, 5\] .*got 0"):
        layer.run(x, lengths=[0, 2])
    with pytest.raises(ValueError, match=r"h0 must have shape \(num_layers\*num_directions, samples, hidden_size\) = "
                                         r"\(2, 2, 4\); got \(1, 2, 4\)"):
        layer.run(x, h0=np.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match=r"c0 must have shape .* = \(2, 2, 4\); got \(2, 2, 3\)"):
        layer.run(x, c0=np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match="c0 is the LSTM's cell state; GRU has none"):
        nn.GRU(3, 4).run(x, c0=np.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match=r"dy must have the shape of y, \(2, 4\); got \(2, 5, 4\)"):
        layer.run(x)
        layer.run_backward(x, np.zeros((2, 5, 4), np.float32))


def test_backward_must_follow_a_forward_of_the_same_batch():
    layer = nn.GRU(3, 4)
    x = np.zeros((2, 5, 3), np.float32)
    with pytest.raises(ValueError, match="call forward first"):
        layer.backward(x, np.zeros((2, 4), np.float32), np.zeros((2, 4), np.float32))
    layer.forward(x)
    with pytest.raises(ValueError, match="follows the last forward, of 2 samples of 5 steps; got 3 samples"):
        layer.backward(np.zeros((3, 5, 3), np.float32), np.zeros((3, 4), np.float32), np.zeros((3, 4), np.float32))
