"""Layers written in Python (nn.Layer subclasses) inside a Sequential: both kinds (forward/backward on numpy
arrays; forward on tensors with autograd's backward) against NumPy, float64 central differences and PyTorch,
in fit, summary, save/load, with the user's exceptions, bad outputs and threads."""
import threading

import numpy as np
import pytest
import torch

import bprop
from bprop import nn

from gradcheck import assert_gradients_close, numeric_gradient, numeric_parameter_gradient


class _ScaledTanh(nn.Layer):
    """What both kinds below share: a learnt scale, and the config that remakes it."""

    def __init__(self, init_scale=0.5, dtype="float32"):
        super().__init__()
        self.init_scale, self.dtype_name = init_scale, dtype
        self.scale = bprop.Parameter(np.full(1, init_scale), dtype=dtype)

    def get_config(self):
        return {"init_scale": self.init_scale, "dtype": self.dtype_name}


class ArrayScaledTanh(_ScaledTanh):
    """y = scale · tanh(x), forward and backward on arrays."""

    def forward(self, x):
        return self.scale.value() * np.tanh(x)

    def backward(self, x, y, dy):
        t = np.tanh(x)
        self.scale.grad = np.array([np.sum(dy * t)], dtype=x.dtype)
        return dy * self.scale.value() * (1 - t * t)


@nn.register_layer
class TensorScaledTanh(_ScaledTanh):
    """The same function on tensors; autograd gives its backward."""

    def forward(self, x):
        return x.tanh() * self.scale


KINDS = [ArrayScaledTanh, TensorScaledTanh]
CUSTOM = {"ArrayScaledTanh": ArrayScaledTanh}  # TensorScaledTanh is registered; this one is passed to load


def make_model(kind, dtype="float32", seed=0):
    return bprop.Sequential([nn.Linear(3, 5, seed=seed, dtype=dtype), kind(0.7, dtype=dtype),
                             nn.Linear(5, 2, seed=seed + 1, dtype=dtype)])


def data(n=40, dtype=np.float32):
    rng = np.random.default_rng(1)
    return rng.standard_normal((n, 3)).astype(dtype), rng.standard_normal((n, 2)).astype(dtype)


def numpy_forward(model, x):
    w1, b1, scale, w2, b2 = (p.value().astype(np.float64) for p in model.parameters())
    return (scale * np.tanh(x @ w1 + b1)) @ w2 + b2


@pytest.mark.parametrize("kind", KINDS)
def test_forward_matches_numpy(kind):
    model = make_model(kind, "float64")
    x, _ = data(17, np.float64)
    np.testing.assert_allclose(model.predict(x), numpy_forward(model, x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model.forward(x, training=True), numpy_forward(model, x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_match_central_differences(kind):
    model = make_model(kind, "float64")
    x, _ = data(7, np.float64)
    weights = np.random.default_rng(2).standard_normal((7, 2))

    def loss():
        return float(np.sum(model.forward(x) * weights))

    model.forward(x, training=True)
    model.backward(weights)
    for name, p in model.named_parameters():
        assert_gradients_close(p.grad, numeric_parameter_gradient(p, loss), name)
    layer = model.layers[1]  # dx of the layer alone
    z = np.random.default_rng(3).standard_normal((4, 5))
    dy = np.random.default_rng(4).standard_normal((4, 5))
    y = layer.core().forward(z, True)
    dx = layer.core().backward(z, y, dy, False)
    assert_gradients_close(dx, numeric_gradient(lambda: float(np.sum(layer.core().forward(z) * dy)), z), "dx")


@pytest.mark.parametrize("kind", KINDS)
def test_accumulate_adds_and_frozen_parameters_keep_their_gradient(kind):
    model = make_model(kind, "float64")
    x, _ = data(5, np.float64)
    g = np.ones((5, 2))
    model.forward(x, training=True)
    model.backward(g)
    once = model.layers[1].scale.grad
    model.forward(x, training=True)
    model.backward(g, accumulate=True)
    np.testing.assert_allclose(model.layers[1].scale.grad, 2 * once, rtol=1e-12)
    model.layers[1].scale.requires_grad = False
    model.forward(x, training=True)
    model.backward(g)
    np.testing.assert_allclose(model.layers[1].scale.grad, 2 * once, rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_whole_model_gradients_match_torch(kind):
    model = make_model(kind)
    x, y = data(9)
    out = model.forward(x, training=True)
    model.backward(2 * (out - y) / out.size)  # d mean((out - y)^2)
    w1, b1, scale, w2, b2 = (torch.tensor(p.value(), requires_grad=True) for p in model.parameters())
    t_out = (scale * torch.tanh(torch.tensor(x) @ w1 + b1)) @ w2 + b2
    torch.mean((t_out - torch.tensor(y)) ** 2).backward()
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-4, atol=1e-5)
    for p, t in zip(model.parameters(), (w1, b1, scale, w2, b2)):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_the_two_kinds_compute_the_same():
    x, y = data()
    models = [make_model(kind) for kind in KINDS]
    for m in models:
        m.compile(optimizer=bprop.optim.Adam(lr=0.01), loss=nn.MSE())
        m.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    np.testing.assert_allclose(models[0].predict(x), models[1].predict(x), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(models[0].layers[1].scale.value(), models[1].layers[1].scale.value(), rtol=1e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_trains_in_fit_and_shows_in_summary(kind):
    model = make_model(kind)
    x, y = data(64)
    model.compile(optimizer=bprop.optim.Adam(lr=0.02), loss=nn.MSE())
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.8 * history.history["loss"][0]
    assert model.layers[1].scale.value()[0] != np.float32(0.7)  # its parameter was trained too
    lines = []
    model.summary(print_fn=lines.append)
    row = [line for line in lines[0].splitlines() if line.startswith(kind.__name__)]
    assert row and "(None, 5)" in row[0] and row[0].split()[-1] == "1"
    assert "Total params: 33" in lines[0]


@pytest.mark.parametrize("kind", KINDS)
def test_save_and_load(kind, tmp_path):
    model = make_model(kind)
    x, y = data()
    model.compile(optimizer=bprop.optim.Adam(lr=0.01), loss=nn.MSE())
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    path = tmp_path / "model.bprop"
    model.save(str(path))
    loaded = bprop.load(str(path), custom_objects=CUSTOM)
    assert type(loaded.layers[1]) is kind
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert [n for n, _ in loaded.named_parameters()] == ["0.weight", "0.bias", "1.scale", "2.weight", "2.bias"]
    loaded.fit(x, y, epochs=1, batch_size=8, verbose=0)  # compiled as it was


def test_loading_an_unregistered_class_says_how_to_register(tmp_path):
    path = tmp_path / "model.bprop"
    make_model(ArrayScaledTanh).save(str(path))
    with pytest.raises(ValueError, match=r"ArrayScaledTanh.*register_layer.*custom_objects"):
        bprop.load(str(path))


def test_register_layer_refuses_bprop_names_and_non_layers():
    with pytest.raises(TypeError, match="register_layer"):
        nn.register_layer(int)
    linear = type("Linear", (nn.Layer,), {"forward": lambda self, x: x})
    with pytest.raises(ValueError, match="name of a bprop layer"):
        nn.register_layer(linear)


def test_default_config_is_the_constructor_keywords_kept_as_attributes():
    class Shift(nn.Layer):
        def __init__(self, amount=1.0):
            super().__init__()
            self.amount = amount

        def forward(self, x):
            return x + self.amount

    class Forgetful(nn.Layer):
        def __init__(self, amount=1.0):
            super().__init__()
            self.shift = amount

        def forward(self, x):
            return x + self.shift

    assert Shift(2.5).get_config() == {"amount": 2.5}
    with pytest.raises(ValueError, match=r"Forgetful.get_config.*'amount'.*define get_config"):
        Forgetful(2.5).get_config()
    model = bprop.Sequential([nn.Linear(3, 2), Shift(2.5)])  # no parameters: it takes the model's dtype
    x, _ = data(4)
    np.testing.assert_allclose(model.predict(x), model.layers[0].forward(x) + 2.5, rtol=1e-6)


class Boom(Exception):
    pass


class ExplodesWhenTraining(nn.Layer):
    def forward(self, x, training=False):
        if training:
            raise Boom("from the user's forward")
        return x

    def backward(self, x, y, dy):
        return dy


def test_an_exception_in_forward_during_fit_is_the_users():
    model = bprop.Sequential([nn.Linear(3, 2), ExplodesWhenTraining()])
    x, y = data()
    model.compile(optimizer=bprop.optim.SGD(lr=0.1), loss=nn.MSE())
    with pytest.raises(Boom, match="user's forward"):
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    np.testing.assert_allclose(model.predict(x), model.layers[0].forward(x), rtol=1e-6)  # usable afterwards


class WrongShape(nn.Layer):
    def compute_output_shape(self, input_shape):
        return input_shape

    def forward(self, x):
        return x[:, :1]


class WrongDtype(nn.Layer):
    def forward(self, x):
        return x.astype(np.float64)

    def backward(self, x, y, dy):
        return dy


class ReturnsNaN(nn.Layer):
    def forward(self, x):
        return x * np.nan

    def backward(self, x, y, dy):
        return dy


def test_bad_outputs_are_clear_errors_naming_the_layer():
    x, _ = data(4)
    with pytest.raises(ValueError, match=r"\[WrongShape.forward\] returned an array of shape \(4, 1\); expected \(4, 2\)"):
        bprop.Sequential([nn.Linear(3, 2), WrongShape()]).predict(x)
    with pytest.raises(TypeError, match=r"WrongDtype.forward\] returned an array of float64; the layer computes in "
                                        r"float32"):
        bprop.Sequential([nn.Linear(3, 2), WrongDtype()]).predict(x)
    with pytest.raises(ValueError, match=r"ReturnsNaN.forward\] returned NaN"):
        bprop.Sequential([nn.Linear(3, 2), ReturnsNaN()]).predict(x)


def test_a_layer_without_forward_is_refused():
    class Empty(nn.Layer):
        pass

    with pytest.raises(TypeError, match="Empty.*defines no forward"):
        bprop.Sequential([nn.Linear(3, 2), Empty()])


@pytest.mark.parametrize("kind", KINDS)
def test_predict_from_two_threads(kind):
    model = make_model(kind)
    x, _ = data(2000)
    expected = model.predict(x, batch_size=50)
    results, errors = [None, None], []

    def run(i):
        try:
            for _ in range(5):
                results[i] = model.predict(x, batch_size=50)
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for r in results:
        np.testing.assert_array_equal(r, expected)


def test_a_python_layer_on_tensors_inside_a_module():
    layer = ArrayScaledTanh(0.7, dtype="float64")
    x = bprop.tensor(np.random.default_rng(5).standard_normal((3, 4)), requires_grad=True)
    layer(x).sum().backward()
    t = np.tanh(x.numpy())
    np.testing.assert_allclose(x.grad, 0.7 * (1 - t * t), rtol=1e-12)
    np.testing.assert_allclose(layer.scale.grad, [t.sum()], rtol=1e-12)
