"""pickle, copy.deepcopy and copy.copy of models, layers, losses, optimizers and schedules: bit-exact round
trips (weights, buffers, dtype, mode, optimizer state mid-training), object identity, spawn-based
multiprocessing, and clear errors for corrupt pickled state. The reference is the original object itself:
trained on after the copy, the original and the copy must stay bit-identical."""
import copy
import multiprocessing
import pickle

import numpy as np
import pytest

import bprop
from bprop import nn, optim
from bprop.io import CheckpointError, pickling
from bprop.io.checkpoint_file import to_bytes


def _data(n=48, features=6, outputs=3, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, features)).astype(dtype), rng.integers(0, outputs, n)


def _mlp(dtype="float32"):
    return bprop.Sequential([nn.Linear(6, 16, seed=1, dtype=dtype), nn.BatchNorm(16, dtype=dtype), nn.ReLU(),
                             nn.Dropout(0.3, seed=2), nn.Linear(16, 3, seed=3, dtype=dtype)])


class TwoBranch(bprop.Module):
    """A Module defined in the test module: a layer, a Sequential, a raw Parameter and dropout."""

    def __init__(self, dtype="float32"):
        super().__init__()
        self.fc = nn.Linear(6, 8, seed=4, dtype=dtype)
        self.body = bprop.Sequential([nn.ReLU(), nn.Dropout(0.2, seed=5), nn.Linear(8, 3, seed=6, dtype=dtype)])
        self.scale = bprop.Parameter(np.full(3, 0.5), dtype=dtype)

    def forward(self, x):
        return self.body(self.fc(x)) * self.scale


def _optimizer(kind):
    return optim.SGD(lr=0.05, momentum=0.9) if kind == "sgd" else \
        optim.Adam(lr=0.01, schedule=optim.StepDecay(2, 0.5, per="epoch"))


def _weights(model):
    return [p.value() for p in model.parameters() + model.buffers()]


def _assert_same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    assert len(wa) == len(wb) and wa
    for x, y in zip(wa, wb):
        assert x.dtype == y.dtype and np.array_equal(x, y)


def _pickle_copy(obj):
    return pickle.loads(pickle.dumps(obj))


COPIERS = {"pickle": _pickle_copy, "deepcopy": copy.deepcopy}


# -- the acceptance test: train, copy, train both on, bit-identical ------------------------------------
@pytest.mark.parametrize("copier", list(COPIERS))
@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("make", [_mlp, TwoBranch], ids=["Sequential", "Module"])
def test_training_continues_identically_after_a_copy(make, kind, copier):
    x, y = _data()
    model = make()
    model.compile(optimizer=_optimizer(kind), loss=nn.CrossEntropy(), metrics=["accuracy"])
    model.fit(x, y, epochs=3, batch_size=8, seed=11, verbose=0)
    clone = COPIERS[copier](model)
    assert type(clone) is type(model) and clone is not model
    _assert_same_weights(model, clone)
    original_opt, copied_opt = model._trainer.optimizer, clone._trainer.optimizer
    assert copied_opt is not original_opt and copied_opt.step_count == original_opt.step_count > 0
    assert copied_opt.parameters()[0] is clone.parameters()[0]
    assert clone._trainer.loss.get_config() == model._trainer.loss.get_config()
    assert clone._trainer.metrics == model._trainer.metrics and clone._trainer.seed == 11
    assert copied_opt.get_config() == original_opt.get_config() and copied_opt.epoch == original_opt.epoch
    h1 = model.fit(x, y, epochs=6, batch_size=8, seed=12, verbose=0, initial_epoch=3)
    h2 = clone.fit(x, y, epochs=6, batch_size=8, seed=12, verbose=0, initial_epoch=3)
    assert h1.history == h2.history
    _assert_same_weights(model, clone)
    assert np.array_equal(model.predict(x), clone.predict(x))
    assert copied_opt.current_lr == original_opt.current_lr


@pytest.mark.parametrize("make", [_mlp, TwoBranch], ids=["Sequential", "Module"])
def test_float64_models_stay_float64(make):
    x, y = _data(dtype=np.float64)
    model = make(dtype="float64")
    model.compile(optimizer=optim.Adam(lr=0.01), loss=nn.CrossEntropy())
    model.fit(x, y, epochs=2, batch_size=16, seed=1, verbose=0)
    clone = _pickle_copy(model)
    assert clone.dtype == np.float64 and all(w.dtype == np.float64 for w in _weights(clone))
    model.fit(x, y, epochs=2, batch_size=16, seed=2, verbose=0)
    clone.fit(x, y, epochs=2, batch_size=16, seed=2, verbose=0)
    _assert_same_weights(model, clone)


def test_an_unbuilt_uncompiled_model_copies_and_builds_the_same():
    model = bprop.Sequential([nn.Conv2d(1, 2, 3, seed=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                              nn.Linear(2, 3, seed=2)])
    assert model.input_shape is None
    clone = _pickle_copy(model)
    assert clone.input_shape is None and "_trainer" not in clone.__dict__
    x = np.random.default_rng(0).standard_normal((4, 1, 7, 7)).astype(np.float32)
    assert np.array_equal(model.predict(x), clone.predict(x))
    assert clone.input_shape == (None, 1, 7, 7)


def test_a_built_model_keeps_its_sample_shape_and_mode():
    model = bprop.Sequential([nn.Linear(4, 2, seed=0)]).eval()
    clone = copy.deepcopy(model)
    assert clone.input_shape == (None, 4) and clone.training is False and model.training is False
    with pytest.raises(ValueError, match="features"):
        clone.predict(np.zeros((2, 5)))


def test_a_loaded_model_copies_with_its_optimizer_state(tmp_path):
    x, y = _data()
    model = _mlp()
    model.compile(optimizer=optim.SGD(lr=0.05, momentum=0.9), loss=nn.CrossEntropy())
    model.fit(x, y, epochs=2, batch_size=8, seed=3, verbose=0)
    model.save(tmp_path / "m.bprop", include_optimizer=True)
    loaded = bprop.load(tmp_path / "m.bprop")
    clone = _pickle_copy(loaded)
    loaded.fit(x, y, epochs=2, batch_size=8, seed=4, verbose=0)
    clone.fit(x, y, epochs=2, batch_size=8, seed=4, verbose=0)
    _assert_same_weights(loaded, clone)


# -- identity and sharing -------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [_mlp, TwoBranch], ids=["Sequential", "Module"])
@pytest.mark.parametrize("model_first", [True, False])
def test_a_model_pickled_with_its_optimizer_gets_it_back_bound_to_the_copy(make, model_first):
    model = make()
    opt = optim.SGD(lr=0.1, momentum=0.9)
    model.compile(optimizer=opt, loss=nn.CrossEntropy())
    pair = (model, opt) if model_first else (opt, model)
    restored = pickle.loads(pickle.dumps(pair))
    clone, clone_opt = restored if model_first else restored[::-1]
    assert clone_opt is clone._trainer.optimizer
    assert all(a is b for a, b in zip(clone_opt.parameters(), clone.parameters()))


@pytest.mark.parametrize("make", [_mlp, TwoBranch], ids=["Sequential", "Module"])
def test_an_optimizer_bound_by_hand_follows_the_copied_model(make):
    model = make()
    opt = optim.Adam(model.parameters(), lr=0.01)
    x, y = _data()
    for _ in range(2):  # a custom loop
        opt.zero_grad()
        out = model(bprop.tensor(x))
        nn.CrossEntropy().on_tensor(out, y).backward()
        opt.step()
    clone, clone_opt = copy.deepcopy((model, opt))
    assert len(clone_opt.parameters()) == len(clone.parameters())
    assert all(a is b for a, b in zip(clone_opt.parameters(), clone.parameters()))
    assert clone_opt.step_count == 2
    for m, o in ((model, opt), (clone, clone_opt)):
        o.zero_grad()
        nn.CrossEntropy().on_tensor(m(bprop.tensor(x)), y).backward()
        o.step()
    _assert_same_weights(model, clone)


@pytest.mark.parametrize("copier", [copy.deepcopy, copy.copy], ids=["deepcopy", "copy"])
def test_a_copy_shares_no_storage_with_the_original(copier):
    """copy.copy is a deep copy too (documented in io/pickling.py): a shallow copy sharing C++ storage would
    move the original when the copy trains."""
    x, y = _data()
    model = _mlp()
    model.compile(optimizer=optim.SGD(lr=0.1, momentum=0.9), loss=nn.CrossEntropy())
    model.fit(x, y, epochs=1, seed=0, verbose=0)
    before = _weights(model)
    clone = copier(model)
    clone.fit(x, y, epochs=2, seed=1, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, _weights(model)))
    assert not all(np.array_equal(a, b) for a, b in zip(before, _weights(clone)))


def test_copy_copy_of_layers_optimizers_and_parameters_is_deep():
    layer = nn.Linear(3, 2, seed=0)
    twin = copy.copy(layer)
    twin.weight.set_value(np.zeros((3, 2), np.float32))
    assert not np.array_equal(layer.weight.value(), twin.weight.value())
    p = bprop.Parameter(np.ones(3))
    assert copy.copy(p) is not p and np.array_equal(copy.copy(p).value(), p.value())


def test_a_pickled_history_refers_to_the_copied_model():
    x, y = _data()
    model = _mlp()
    model.compile(optimizer=optim.SGD(lr=0.1), loss=nn.CrossEntropy())
    history = model.fit(x, y, epochs=2, seed=0, verbose=0)
    clone, clone_history = pickle.loads(pickle.dumps((model, history)))
    assert clone_history.history == history.history
    assert clone_history.trainer is clone._trainer and clone_history.trainer.model is clone


def test_frozen_parameters_and_modes_survive():
    model = _mlp()
    model.layers[0].weight.requires_grad = False
    model.layers[3].eval()
    clone = _pickle_copy(model)
    assert clone.layers[0].weight.requires_grad is False and clone.layers[0].bias.requires_grad is True
    assert clone.layers[3].training is False and clone.layers[1].training is True
    module = TwoBranch().eval()
    assert _pickle_copy(module).training is False


# -- every layer, loss, optimizer and schedule ----------------------------------------------------------
def _layer_cases():
    rng_shape = {"dense": (5,), "image": (2, 6, 6), "sequence": (3, 4)}
    cases = {
        "Linear": (lambda: nn.Linear(5, 4, seed=1), "dense"),
        "Dropout": (lambda: nn.Dropout(0.5, seed=1), "dense"),
        "Dropout2d": (lambda: nn.Dropout2d(0.5, seed=1), "image"),
        "BatchNorm": (lambda: nn.BatchNorm(5), "dense"),
        "LayerNorm": (lambda: nn.LayerNorm(5), "dense"),
        "BatchNorm1d": (lambda: nn.BatchNorm1d(3), "sequence"),
        "BatchNorm2d": (lambda: nn.BatchNorm2d(2), "image"),
        "Residual": (lambda: nn.Residual([nn.Linear(5, 5, seed=2), nn.ReLU()], shortcut=[nn.Linear(5, 5, seed=3)]),
                     "dense"),
        "Flatten": (lambda: nn.Flatten(), "image"),
        "Reshape": (lambda: nn.Reshape((6, 12)), "image"),
        "Embedding": (lambda: nn.Embedding(7, 3, seed=1), "indices"),
        "Conv1d": (lambda: nn.Conv1d(3, 2, 3, seed=1), "sequence"),
        "Conv2d": (lambda: nn.Conv2d(2, 3, 3, padding=1, seed=1), "image"),
        "ConvTranspose2d": (lambda: nn.ConvTranspose2d(2, 3, 3, stride=2, seed=1), "image"),
        "MaxPool1d": (lambda: nn.MaxPool1d(2), "sequence"),
        "MaxPool2d": (lambda: nn.MaxPool2d(2), "image"),
        "AvgPool1d": (lambda: nn.AvgPool1d(2), "sequence"),
        "AvgPool2d": (lambda: nn.AvgPool2d(2), "image"),
        "AdaptiveAvgPool1d": (lambda: nn.AdaptiveAvgPool1d(2), "sequence"),
        "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d(2), "image"),
        "Upsample": (lambda: nn.Upsample(2), "image"),
        "RNN": (lambda: nn.RNN(4, 5, num_layers=2, seed=1), "sequence"),
        "LSTM": (lambda: nn.LSTM(4, 5, bidirectional=True, seed=1), "sequence"),
        "GRU": (lambda: nn.GRU(4, 5, return_sequences=True, seed=1), "sequence"),
        "Sequential": (lambda: bprop.Sequential([nn.Linear(5, 4, seed=1),
                                                 bprop.Sequential([nn.ReLU(), nn.Linear(4, 2, seed=2)])]), "dense"),
    }
    from bprop.nn.layers.activations import __all__ as activations
    for name in activations:
        cases[name] = (getattr(nn, name), "dense")
    return {name: (make, rng_shape.get(kind, kind)) for name, (make, kind) in cases.items()}


LAYER_CASES = _layer_cases()


def test_the_layer_cases_cover_every_layer():
    assert set(nn.layers.__all__) - {"Layer", "register_layer"} <= set(LAYER_CASES)


def _layer_input(sample):
    rng = np.random.default_rng(3)
    if sample == "indices":
        return rng.integers(0, 7, (4, 5))
    return rng.standard_normal((4, *sample)).astype(np.float32)


@pytest.mark.parametrize("name", sorted(LAYER_CASES))
@pytest.mark.parametrize("copier", list(COPIERS))
def test_every_layer_round_trips(name, copier):
    make, sample = LAYER_CASES[name]
    model = bprop.Sequential([make()])
    x = _layer_input(sample)
    model.compile(optimizer=optim.Adam(lr=0.01), loss=nn.MSE())
    out = model.predict(x)
    if model.parameters():  # a few steps, so that the moments and the buffers hold something
        model.fit(x, np.zeros_like(out), epochs=2, batch_size=2, seed=0, verbose=0)
    layer = model.layers[0]
    clone_layer = COPIERS[copier](layer)
    assert type(clone_layer) is type(layer) and clone_layer.get_config() == layer.get_config()
    assert len(clone_layer.parameters() + clone_layer.buffers()) == len(layer.parameters() + layer.buffers())
    for a, b in zip(layer.parameters() + layer.buffers(), clone_layer.parameters() + clone_layer.buffers()):
        assert np.array_equal(a.value(), b.value())
    assert np.array_equal(layer.forward(x), clone_layer.forward(x))
    clone = COPIERS[copier](model)
    assert np.array_equal(model.predict(x), clone.predict(x))
    if model.parameters():
        model.fit(x, np.zeros_like(out), epochs=2, batch_size=2, seed=1, verbose=0)
        clone.fit(x, np.zeros_like(out), epochs=2, batch_size=2, seed=1, verbose=0)
        _assert_same_weights(model, clone)


@pytest.mark.parametrize("loss", [nn.MSE(reduction="sum"), nn.MAE(), nn.Huber(0.5), nn.BinaryCrossEntropy(),
                                  nn.CrossEntropy(0.1, ignore_index=-100)], ids=repr)
def test_losses_round_trip(loss):
    assert {"MSE", "MAE", "Huber", "BinaryCrossEntropy", "CrossEntropy"} == set(nn.losses.__all__) - {"Loss"}
    for clone in (_pickle_copy(loss), copy.deepcopy(loss), copy.copy(loss)):
        assert type(clone) is type(loss) and clone.get_config() == loss.get_config()


SCHEDULES = [optim.StepDecay(3, 0.5, per="epoch"), optim.ExponentialDecay(0.9, per="step"),
             optim.CosineDecay(10, 0.01, per="step"),
             optim.LinearWarmup(4, 0.1, then=optim.CosineDecay(10, per="step"), per="step")]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
def test_schedules_round_trip(schedule):
    clone = _pickle_copy(schedule)
    assert type(clone) is type(schedule) and clone.get_config() == schedule.get_config()
    assert [clone.rate(0.1, t) for t in range(20)] == [schedule.rate(0.1, t) for t in range(20)]


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad])
def test_optimizers_round_trip_unbound_and_mid_training(cls):
    unbound = cls(lr=0.02, clipnorm=1.0, schedule=optim.ExponentialDecay(0.9, per="step"))
    clone = _pickle_copy(unbound)
    assert not clone.bound and clone.get_config() == unbound.get_config()
    p = bprop.Parameter(np.linspace(-1, 1, 6))
    opt = cls([p], lr=0.02)
    for step in range(3):
        p.grad = np.full(6, 0.1 * (step + 1))
        opt.step()
    (p2,), opt2 = pickle.loads(pickle.dumps(([p], opt)))
    assert opt2.parameters()[0] is p2 and opt2.step_count == 3
    state, state2 = opt.state_dict()["state"], opt2.state_dict()["state"]
    assert state.keys() == state2.keys() and all(np.array_equal(state[k], state2[k]) for k in state)
    for q in (p, p2):
        q.grad = np.full(6, -0.3)
    opt.step()
    opt2.step()
    assert np.array_equal(p.value(), p2.value())


def test_gradient_hooks_travel_by_reference():
    p = bprop.Parameter(np.ones(2))
    opt = optim.SGD([p], lr=0.1)
    opt.add_gradient_hook(_double_gradients)
    p2, opt2 = pickle.loads(pickle.dumps((p, opt)))
    p2.grad = np.ones(2)
    opt2.step()
    assert np.allclose(p2.value(), 1 - 0.1 * 2)


def _double_gradients(parameters, step):
    for q in parameters:
        q.grad = q.grad * 2


# -- layers written in Python -------------------------------------------------------------------------------
class ScaledTanh(nn.Layer):
    """A layer on tensors with a learnt scale and a note that is not part of its config."""

    def __init__(self, init_scale=0.5):
        super().__init__()
        self.init_scale = init_scale
        self.scale = bprop.Parameter(np.full(1, init_scale), dtype="float32")
        self.note = "kept"

    def forward(self, x):
        return x.tanh() * self.scale


class ArrayScaledTanh(ScaledTanh):
    """The same function on numpy arrays, with its own backward."""

    def forward(self, x):
        return self.scale.value() * np.tanh(x)

    def backward(self, x, y, dy):
        t = np.tanh(x)
        self.scale.grad = np.array([np.sum(dy * t)], dtype=x.dtype)
        return dy * self.scale.value() * (1 - t * t)


@pytest.mark.parametrize("kind", [ScaledTanh, ArrayScaledTanh])
def test_python_layers_round_trip_alone_and_in_models(kind):
    x, y = _data()
    model = bprop.Sequential([nn.Linear(6, 4, seed=0), kind(0.7), nn.Linear(4, 3, seed=1)])
    model.compile(optimizer=optim.Adam(lr=0.05), loss=nn.CrossEntropy())
    model.fit(x, y, epochs=2, seed=0, verbose=0)
    clone = _pickle_copy(model)
    assert clone.layers[1].note == "kept" and type(clone.layers[1]) is kind
    assert clone._trainer.optimizer.parameters()[2] is clone.layers[1].scale
    model.fit(x, y, epochs=2, seed=1, verbose=0)
    clone.fit(x, y, epochs=2, seed=1, verbose=0)
    _assert_same_weights(model, clone)
    alone = copy.deepcopy(model.layers[1])
    assert np.array_equal(alone.scale.value(), model.layers[1].scale.value())


# -- protocols and processes --------------------------------------------------------------------------------
@pytest.mark.parametrize("protocol", range(2, pickle.HIGHEST_PROTOCOL + 1))
def test_every_pickle_protocol(protocol):
    x, y = _data()
    model = _mlp()
    model.compile(optimizer=optim.Adam(lr=0.01), loss=nn.CrossEntropy())
    model.fit(x, y, epochs=1, seed=0, verbose=0)
    clone = pickle.loads(pickle.dumps(model, protocol=protocol))
    _assert_same_weights(model, clone)
    assert np.array_equal(model.predict(x), clone.predict(x))


def _predict_in_worker(model, x):
    """Runs in a spawned process: the model arrived pickled."""
    return model.predict(x)


def test_spawned_processes_receive_models():
    x, y = _data()
    model = _mlp()
    model.compile(optimizer=optim.SGD(lr=0.1, momentum=0.9), loss=nn.CrossEntropy())
    model.fit(x, y, epochs=2, seed=0, verbose=0)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        remote = pool.apply(_predict_in_worker, (model, x))
    assert np.array_equal(remote, model.predict(x))


# -- corrupt or tampered state --------------------------------------------------------------------------------
def test_truncated_pickles_raise_a_clear_error():
    data = pickle.dumps(_mlp())
    for cut in (len(data) // 2, len(data) - 3):
        with pytest.raises((pickle.UnpicklingError, EOFError, CheckpointError, ValueError)):
            pickle.loads(data[:cut])


def test_flipped_tensor_bytes_fail_their_checksum():
    layer = nn.Linear(4, 3, seed=0)
    layer.weight.set_value(np.full((4, 3), 0.25, np.float32))
    data = bytearray(pickle.dumps(layer))
    marker = np.full(3, 0.25, np.float32).tobytes()
    at = bytes(data).index(marker)
    data[at] ^= 0x01
    with pytest.raises(CheckpointError, match="sha256"):
        pickle.loads(bytes(data))


def test_truncated_or_lying_state_bytes_name_the_problem():
    data = nn.Linear(4, 3, seed=0).__reduce__()[1][1]
    with pytest.raises(CheckpointError, match="truncated|corrupt"):
        pickling._restore_layer(nn.Linear, data[:-7])
    lying = (len(data) * 2).to_bytes(8, "little") + data[8:]
    with pytest.raises(CheckpointError, match="header length"):
        pickling._restore_layer(nn.Linear, lying)


def _layer_state(tensors, config=None, dtype="float32", random=None):
    document = {"config": config or nn.Linear(4, 3, seed=0).get_config(), "dtype": dtype, "training": True,
                "frozen": [], "random": random or {}}
    return to_bytes(tensors, document)


def test_wrong_shapes_nan_and_bad_configs_name_the_problem():
    good = {"weight": np.zeros((4, 3), np.float32), "bias": np.zeros(3, np.float32)}
    with pytest.raises(CheckpointError, match=r"weight is float32 \(5, 3\)"):
        pickling._restore_layer(nn.Linear, _layer_state({**good, "weight": np.zeros((5, 3), np.float32)}))
    with pytest.raises(CheckpointError, match="bias contains NaN"):
        pickling._restore_layer(nn.Linear, _layer_state({**good, "bias": np.full(3, np.nan, np.float32)}))
    with pytest.raises(CheckpointError, match="missing bias"):
        pickling._restore_layer(nn.Linear, _layer_state({"weight": good["weight"]}))
    with pytest.raises(CheckpointError, match="does not make a Linear"):
        pickling._restore_layer(nn.Linear, _layer_state(good, config={"in_features": 4}))
    with pytest.raises(CheckpointError, match="has no frozen"):
        pickling._restore_layer(nn.Linear, to_bytes(good, {"config": {}, "dtype": None, "training": True, "random": {}}))
    with pytest.raises(CheckpointError, match="contains NaN"):
        pickling._restore_parameter(to_bytes({"value": np.full(2, np.nan)}, {"name": "p", "requires_grad": True}))
    with pytest.raises(CheckpointError, match="too short"):
        pickling._restore_parameter(b"abc")
    with pytest.raises(CheckpointError, match="must be bytes"):
        pickling._restore_parameter("not bytes")


def test_a_tampered_optimizer_state_names_the_problem():
    p = bprop.Parameter(np.ones(3))
    opt = optim.Adam([p], lr=0.1)
    p.grad = np.ones(3)
    opt.step()
    state = opt.core.state()
    document = {"config": opt.get_config(), "bound": True, "step_count": 1, "epoch": 0}
    bad = {**state, next(iter(state)): np.full(3, np.inf)}
    with pytest.raises(CheckpointError, match="contains NaN or Inf"):
        pickling._restore_optimizer(optim.Adam, to_bytes(bad, document), [bprop.Parameter(np.ones(3))], [])
    short = {name: value[:2] for name, value in state.items()}
    with pytest.raises(CheckpointError, match="does not fit"):
        pickling._restore_optimizer(optim.Adam, to_bytes(short, document), [bprop.Parameter(np.ones(3))], [])


@pytest.mark.parametrize("make", [lambda: nn.Dropout(0.4, seed=3), lambda: nn.Dropout2d(0.4, seed=3),
                                  lambda: nn.LSTM(5, 4, num_layers=2, dropout=0.4, seed=3)],
                         ids=["Dropout", "Dropout2d", "LSTM"])
@pytest.mark.parametrize("copier", [lambda obj: pickle.loads(pickle.dumps(obj)), copy.deepcopy],
                         ids=["pickle", "deepcopy"])
def test_a_copy_continues_the_random_stream_of_its_dropout(make, copier):
    """After training forwards, a copy's next training forwards draw the same masks as the original's, in a
    loop run by hand (fit reseeds every epoch anyway)."""
    layer = make()
    shape = (3, 6, 5) if isinstance(layer, nn.LSTM) else (3, 2, 4, 4)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    model = bprop.Sequential([layer])
    for _ in range(3):
        model.forward(x, training=True)
    clone = copier(model)
    for _ in range(2):
        assert np.array_equal(model.forward(x, training=True), clone.forward(x, training=True))


def test_a_tampered_random_state_names_the_problem():
    config = nn.Dropout(0.5, seed=1).get_config()
    for bad, message in (({"float32": [1, 2]}, "3 values; got 2"), ({"float32": [-1, 0, 0]}, "malformed"),
                         ([1, 2, 3], "malformed"), ({"float32": "abc"}, "malformed"),
                         ({"float16": [1, 2, 3]}, "does not fit")):
        with pytest.raises(CheckpointError, match=message):
            pickling._restore_layer(nn.Dropout, _layer_state({}, config=config, dtype=None, random=bad))
