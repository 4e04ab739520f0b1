"""Every layer: forward against a NumPy float64 reference, backward against central differences
(dx and every parameter), train/eval behaviour, bad input, and PyTorch agreement in float32."""
import math

import numpy as np
import pytest

import bprop
from bprop import nn
from gradcheck import assert_gradients_close, numeric_gradient, numeric_parameter_gradient

ROWS = (1, 3, 17)
WIDTHS = (1, 3, 17, 65)


def _erf(x):
    return np.vectorize(math.erf)(x)


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _normalize(x, axis, eps=1e-5):
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


# name -> (factory(width, dtype), reference(layer, x, training) or None, training, keeps away from 0)
# A reference reads the layer's parameters, so it is independent of the layer's own forward.
def _param(layer, name):
    return next(p.value() for p in layer.parameters() + layer.buffers() if p.name == name)


def _with_slopes(layer):
    """Distinct slopes, some negative (they start all at 0.25), so each is tested in general position."""
    layer.weight.set_value(np.linspace(-0.5, 1.5, layer.weight.shape[0]).astype(layer.dtype))
    return layer


REGISTRY = {
    "Linear": (lambda w, dt: nn.Linear(w, 5, dtype=dt), lambda l, x, t: x @ _param(l, "weight") + _param(l, "bias"),
               True, False),
    "Linear-nobias": (lambda w, dt: nn.Linear(w, 4, bias=False, init="he_normal", dtype=dt),
                      lambda l, x, t: x @ _param(l, "weight"), True, False),
    "ReLU": (lambda w, dt: nn.ReLU(), lambda l, x, t: np.maximum(x, 0), True, True),
    "LeakyReLU": (lambda w, dt: nn.LeakyReLU(0.1), lambda l, x, t: np.where(x > 0, x, 0.1 * x), True, True),
    "ELU": (lambda w, dt: nn.ELU(1.5), lambda l, x, t: np.where(x > 0, x, 1.5 * np.expm1(x)), True, True),
    "GELU": (lambda w, dt: nn.GELU(), lambda l, x, t: 0.5 * x * (1 + _erf(x / np.sqrt(2))), True, False),
    "GELU-tanh": (lambda w, dt: nn.GELU("tanh"),
                  lambda l, x, t: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))), True, False),
    "Sigmoid": (lambda w, dt: nn.Sigmoid(), lambda l, x, t: 1 / (1 + np.exp(-x)), True, False),
    "Tanh": (lambda w, dt: nn.Tanh(), lambda l, x, t: np.tanh(x), True, False),
    "Identity": (lambda w, dt: nn.Identity(), lambda l, x, t: x, True, False),
    "PReLU": (lambda w, dt: _with_slopes(nn.PReLU(w, dtype=dt)),
              lambda l, x, t: np.where(x > 0, x, _param(l, "weight") * x), True, True),
    "PReLU-shared": (lambda w, dt: _with_slopes(nn.PReLU(dtype=dt)),
                     lambda l, x, t: np.where(x > 0, x, _param(l, "weight") * x), True, True),
    "Softmax": (lambda w, dt: nn.Softmax(), lambda l, x, t: _softmax(x), True, False),
    "Dropout-eval": (lambda w, dt: nn.Dropout(0.3, seed=1), lambda l, x, t: x, False, False),
    "Dropout-train": (lambda w, dt: nn.Dropout(0.3, seed=1), None, True, False),
    "BatchNorm-train": (lambda w, dt: nn.BatchNorm(w, dtype=dt), lambda l, x, t: _normalize(x, 0), True, False),
    "BatchNorm-eval": (lambda w, dt: nn.BatchNorm(w, dtype=dt), lambda l, x, t: x / np.sqrt(1 + 1e-5), False, False),
    "LayerNorm": (lambda w, dt: nn.LayerNorm(w, dtype=dt), lambda l, x, t: _normalize(x, 1), True, False),
    "Residual": (lambda w, dt: nn.Residual([nn.Linear(w, w, dtype=dt), nn.Tanh()]),
                 lambda l, x, t: x + np.tanh(x @ _param(l.layers[0], "weight") + _param(l.layers[0], "bias")),
                 True, False),
    # A Sequential is a layer too: here as a Residual's body, run as one step of it.
    "Residual-of-Sequential": (
        lambda w, dt: nn.Residual([bprop.Sequential([nn.Linear(w, w, dtype=dt), nn.Tanh()])]),
        lambda l, x, t: x + np.tanh(x @ _param(l.layers[0].layers[0], "weight")
                                    + _param(l.layers[0].layers[0], "bias")),
        True, False),
    # A projection shortcut: y = f(x) + g(x), both branches to 5 features whatever the input width.
    "Residual-shortcut": (
        lambda w, dt: nn.Residual([nn.Linear(w, 5, dtype=dt), nn.Tanh()], shortcut=[nn.Linear(w, 5, dtype=dt)]),
        lambda l, x, t: (np.tanh(x @ _param(l.layers[0], "weight") + _param(l.layers[0], "bias"))
                         + x @ _param(l.shortcut[0], "weight") + _param(l.shortcut[0], "bias")),
        True, False),
}


def make_input(rng, rows, width, away_from_zero):
    x = rng.standard_normal((rows, width))
    if away_from_zero:  # keep kinks (ReLU's 0) out of the finite-difference stencil
        x = np.where(np.abs(x) < 1e-2, 0.5, x)
    return x


def randomize_affine(layer, rng):
    """Non-trivial γ, β (they start at 1 and 0) so their gradients are tested in general position."""
    for p in layer.parameters():
        p.set_value(rng.standard_normal(p.shape))


def cases():
    for name in REGISTRY:
        for rows in ROWS:
            for width in WIDTHS:
                if name.startswith("BatchNorm-train") and rows == 1:
                    continue  # one sample normalises to zero: nothing to differentiate
                yield pytest.param(name, rows, width, id=f"{name}-{rows}x{width}")


@pytest.mark.parametrize("name,rows,width", list(cases()))
def test_forward_matches_numpy_and_backward_matches_finite_differences(name, rows, width):
    factory, reference, training, away = REGISTRY[name]
    rng = np.random.default_rng(rows * 100 + width)
    layer = factory(width, "float64")
    if name.startswith(("BatchNorm", "LayerNorm")):
        randomize_affine(layer, rng)
    core = layer.core("float64")
    x = make_input(rng, rows, width, away)

    def run(x_in):
        core.reseed(7)  # the same dropout mask in every evaluation
        return layer.forward(x_in, training=training)

    y = run(x)
    if reference is not None:
        expected = reference(layer, x, training)
        if name.startswith(("BatchNorm", "LayerNorm")):
            expected = expected * _param(layer, "weight") + _param(layer, "bias")
        np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)

    r = rng.standard_normal(y.shape)  # L = Σ r ⊙ y, so dL/dy = r
    core.reseed(7)
    y = layer.forward(x, training=training)
    dx = layer.backward(x, y, r)
    grads = {key: p.grad for key, p in layer.named_parameters()}  # "shortcut.0.weight": unique in a Residual
    assert_gradients_close(dx, numeric_gradient(lambda: float(np.sum(r * run(x))), x), f"{name} dx")
    for key, p in layer.named_parameters():
        numeric = numeric_parameter_gradient(p, lambda: float(np.sum(r * run(x))))
        assert_gradients_close(grads[key], numeric, f"{name} d{key}")


def test_backward_accumulates_on_request():
    layer = nn.Linear(3, 2, dtype="float64")
    x = np.ones((4, 3))
    y = layer.forward(x)
    layer.backward(x, y, np.ones_like(y))
    once = layer.parameters()[0].grad
    layer.backward(x, y, np.ones_like(y), accumulate=True)
    np.testing.assert_allclose(layer.parameters()[0].grad, 2 * once)
    layer.backward(x, y, np.ones_like(y))
    np.testing.assert_allclose(layer.parameters()[0].grad, once)


@pytest.mark.parametrize("make", [lambda: nn.BatchNorm(3, dtype="float64"), lambda: nn.LayerNorm(3, dtype="float64")],
                         ids=["BatchNorm", "LayerNorm"])
def test_backward_without_its_forward_reads_no_stale_cache(make):
    # Once a segfault (found by the fuzzer): the caches were read for rows no forward had written. Now backward
    # computes them from x as an evaluation-mode forward would.
    x = np.random.default_rng(0).standard_normal((4, 3))
    layer = make()
    before_any_forward = layer.backward(x, x, np.ones_like(x))
    layer.forward(x[:1])  # a forward of another batch size
    after_another_batch = layer.backward(x, x, np.ones_like(x))
    expected = layer.backward(x, layer.forward(x), np.ones_like(x))
    np.testing.assert_array_equal(before_any_forward, expected)
    np.testing.assert_array_equal(after_another_batch, expected)


class TestTrainEval:
    def test_dropout_masks_and_scales_in_training_only(self):
        layer = nn.Dropout(0.25, seed=3)
        x = np.ones((200, 50), np.float32)
        np.testing.assert_array_equal(layer.forward(x), x)
        y = layer.forward(x, training=True)
        kept = y != 0
        assert abs(kept.mean() - 0.75) < 0.02
        np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)

    def test_dropout_seed_reproduces_the_mask(self):
        x = np.ones((10, 10), np.float32)
        a = nn.Dropout(0.5, seed=11).forward(x, training=True)
        b = nn.Dropout(0.5, seed=11).forward(x, training=True)
        np.testing.assert_array_equal(a, b)

    def test_batchnorm_running_statistics_as_pytorch(self):
        rng = np.random.default_rng(0)
        layer = nn.BatchNorm(4, momentum=0.2, dtype="float64")
        mean, var = np.zeros(4), np.ones(4)
        for _ in range(3):
            x = rng.standard_normal((8, 4)) * 3 + 1
            layer.forward(x, training=True)
            mean = 0.8 * mean + 0.2 * x.mean(axis=0)
            var = 0.8 * var + 0.2 * x.var(axis=0, ddof=1)
        buffers = {b.name: b.value() for b in layer.buffers()}
        np.testing.assert_allclose(buffers["running_mean"], mean, rtol=1e-12)
        np.testing.assert_allclose(buffers["running_var"], var, rtol=1e-12)
        x = rng.standard_normal((5, 4))
        np.testing.assert_allclose(layer.forward(x), (x - mean) / np.sqrt(var + 1e-5), rtol=1e-12)


class TestInitialisers:
    @pytest.mark.parametrize("init,bound", [("glorot_uniform", np.sqrt(6 / 300)), ("he_uniform", np.sqrt(6 / 200)),
                                            ("lecun_uniform", np.sqrt(3 / 200))])
    def test_uniform_limits(self, init, bound):
        w = nn.Linear(200, 100, init=init, seed=1).parameters()[0].value()
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
        assert abs(w.std() - bound / np.sqrt(3)) < 0.02 * bound

    @pytest.mark.parametrize("init,std", [("glorot_normal", np.sqrt(2 / 300)), ("he_normal", np.sqrt(2 / 200)),
                                          ("lecun_normal", np.sqrt(1 / 200))])
    def test_normal_scales(self, init, std):
        w = nn.Linear(200, 100, init=init, seed=1, dtype="float64").parameters()[0].value()
        assert abs(w.std() - std) < 0.02 * std and abs(w.mean()) < 0.02 * std

    def test_seed_reproduces_and_global_seed_reproduces(self):
        a = nn.Linear(5, 5, seed=9).parameters()[0].value()
        np.testing.assert_array_equal(a, nn.Linear(5, 5, seed=9).parameters()[0].value())
        bprop.manual_seed(123)
        b = nn.Linear(5, 5).parameters()[0].value()
        bprop.manual_seed(123)
        np.testing.assert_array_equal(b, nn.Linear(5, 5).parameters()[0].value())
        assert not np.array_equal(a, b)

    def test_uniform_limit_and_zeros(self):
        w = nn.Linear(10, 10, init="uniform", init_limit=0.01, seed=2).parameters()[0].value()
        assert np.abs(w).max() <= 0.01
        assert not nn.Linear(3, 3, init="zeros").parameters()[0].value().any()
        assert not nn.Linear(3, 3).parameters()[1].value().any()  # biases start at zero


class TestBadInput:
    def test_bad_constructor_arguments(self):
        with pytest.raises(ValueError, match=r"\[Linear\] in_features must be >= 1; got 0"):
            nn.Linear(0, 3)
        with pytest.raises(TypeError, match="in_features must be an integer"):
            nn.Linear(2.5, 3)
        with pytest.raises(ValueError, match="unknown init 'bogus'"):
            nn.Linear(2, 3, init="bogus")
        with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
            nn.Dropout(1.5)
        with pytest.raises(ValueError, match="alpha must be > 0"):
            nn.ELU(0)
        with pytest.raises(TypeError, match="float32 or float64"):
            nn.Linear(2, 3, dtype="int32")
        with pytest.raises(ValueError, match="approximate"):
            nn.GELU("fast")

    def test_wrong_width_names_both(self):
        with pytest.raises(ValueError, match=r"\[Linear\] expects 3 input features; got 4"):
            nn.Linear(3, 2).forward(np.ones((2, 4), np.float32))

    def test_model_widths_that_do_not_chain(self):
        with pytest.raises(ValueError, match=r"layer 2 \(Linear\).*expects 5 input features; got 4"):
            bprop.Sequential([nn.Linear(3, 4), nn.ReLU(), nn.Linear(5, 2)])
        with pytest.raises(ValueError, match="skip connection needs them equal"):
            bprop.Sequential([nn.Residual([nn.Linear(3, 4)])])

    def test_mixed_dtypes_and_non_layers(self):
        with pytest.raises(TypeError, match="mix dtypes"):
            bprop.Sequential([nn.Linear(3, 4), nn.Linear(4, 2, dtype="float64")])
        with pytest.raises(TypeError, match="not a bprop layer"):
            bprop.Sequential([nn.Linear(3, 4), "relu"])
        with pytest.raises(ValueError, match="at least one layer"):
            bprop.Sequential([])

    def test_model_batches(self):
        model = bprop.Sequential([nn.Linear(3, 2)])
        with pytest.raises(ValueError, match="has 4 features; the model expects 3"):
            model.forward(np.ones((2, 4)))
        with pytest.raises(ValueError, match="NaN or Inf"):
            model.forward(np.array([[1.0, np.nan, 0.0]]))
        with pytest.raises(ValueError, match="is empty"):
            model.forward(np.ones((0, 3)))
        with pytest.raises(ValueError, match="2-D"):
            model.forward(np.ones(3))
        with pytest.raises(TypeError, match="must hold numbers"):
            model.forward(np.array([["a", "b", "c"]]))
        model.forward(np.ones((2, 3), dtype=np.int64))  # integers are converted, not rejected
        with pytest.raises(ValueError, match=r"grad_out has shape \(3, 2\); expected \(2, 2\)"):
            model.backward(np.ones((3, 2)))

    def test_set_weights_checks_everything_first(self):
        model = bprop.Sequential([nn.Linear(3, 2, seed=0)])
        before = model.get_weights()
        with pytest.raises(ValueError, match=r"array 1 \(bias\) has shape \(3,\); expected \(2,\)"):
            model.set_weights([np.zeros((3, 2)), np.zeros(3)])
        for a, b in zip(before, model.get_weights()):
            np.testing.assert_array_equal(a, b)  # nothing was assigned


def test_sequential_matches_layer_by_layer_and_its_gradients():
    rng = np.random.default_rng(5)
    layers = [nn.Linear(6, 9, dtype="float64"), nn.GELU(), nn.LayerNorm(9, dtype="float64"),
              nn.Residual([nn.Linear(9, 9, dtype="float64"), nn.Tanh()]), nn.Linear(9, 4, dtype="float64")]
    model = bprop.Sequential(layers)
    x = rng.standard_normal((7, 6))
    y = model.forward(x)
    h = x
    for layer in layers:
        h = layer.forward(h)
    np.testing.assert_allclose(y, h, rtol=1e-12)
    r = rng.standard_normal(y.shape)
    model.forward(x)
    model.backward(r)
    grads = [p.grad for p in model.parameters()]
    for p, grad in zip(model.parameters(), grads):
        numeric = numeric_parameter_gradient(p, lambda: float(np.sum(r * model.forward(x))))
        assert_gradients_close(grad, numeric, p.name)


def test_matches_pytorch_in_float32():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    ours = bprop.Sequential([nn.Linear(10, 16), nn.BatchNorm(16), nn.ELU(), nn.Linear(16, 16), nn.LayerNorm(16),
                             nn.GELU(), nn.Linear(16, 12), nn.LeakyReLU(0.2), nn.Linear(12, 8), nn.Sigmoid(),
                             nn.Linear(8, 5), nn.Tanh(), nn.Softmax()])
    theirs = torch.nn.Sequential(torch.nn.Linear(10, 16), torch.nn.BatchNorm1d(16), torch.nn.ELU(),
                                 torch.nn.Linear(16, 16), torch.nn.LayerNorm(16), torch.nn.GELU(),
                                 torch.nn.Linear(16, 12), torch.nn.LeakyReLU(0.2), torch.nn.Linear(12, 8),
                                 torch.nn.Sigmoid(), torch.nn.Linear(8, 5), torch.nn.Tanh(), torch.nn.Softmax(dim=1))
    ours_params = ours.parameters()
    torch_params = list(theirs.parameters())
    assert len(ours_params) == len(torch_params)
    for mine, t in zip(ours_params, torch_params):
        value = rng.standard_normal(mine.shape).astype(np.float32) * 0.5
        mine.set_value(value)
        with torch.no_grad():
            t.copy_(torch.from_numpy(value.T.copy() if value.ndim == 2 else value))  # torch stores Wᵀ
    x = rng.standard_normal((32, 10)).astype(np.float32)
    r = rng.standard_normal((32, 5)).astype(np.float32)
    y = ours.forward(x, training=True)
    ours.backward(r)
    tx = torch.from_numpy(x)
    ty = theirs.train()(tx)
    (ty * torch.from_numpy(r)).sum().backward()
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    for mine, t in zip(ours_params, torch_params):
        expected = t.grad.numpy().T if t.grad.ndim == 2 else t.grad.numpy()
        np.testing.assert_allclose(mine.grad, expected, rtol=1e-4, atol=1e-5, err_msg=mine.name)


ACTIVATIONS = ("ReLU", "LeakyReLU", "ELU", "GELU", "GELU-tanh", "Sigmoid", "Tanh", "Identity", "Softmax", "PReLU")


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_activation_propagates_nan(name, dtype):
    """A NaN going in comes out (PyTorch's behaviour): an activation that turned it into a number would
    hide a diverging run."""
    layer = REGISTRY[name][0](3, dtype)
    x = np.array([[np.nan, -1.0, 2.0], [0.5, np.nan, -0.25]], dtype)
    y = layer.forward(x)
    assert np.isnan(y[0, 0]) and np.isnan(y[1, 1])
    if name != "Softmax":  # softmax mixes a row: all of it is NaN
        assert np.isfinite(y[0, 1:]).all()


@pytest.mark.parametrize("activation", [nn.ReLU(), nn.LeakyReLU(0.2), nn.ELU(), nn.Sigmoid(), nn.Tanh()])
def test_a_fused_linear_and_activation_propagates_nan(activation):
    """The GEMM epilogue applies the activation of a fused Linear+activation step: NaN passes there too."""
    linear = nn.Linear(2, 2)
    linear.weight.set_value(np.array([[1, 0], [0, 0]], np.float32))
    net = bprop.Sequential([linear, activation])
    assert net._net.step_names == [f"Linear+{activation.name}"]
    core = net._net
    y = core.forward(np.array([[np.inf, -1.0]], np.float32))  # inf·0 = NaN in the product's second column
    assert np.isnan(y[0, 1])


def test_tensor_relu_and_maximum_propagate_nan():
    x = bprop.tensor(np.array([np.nan, -1.0, 2.0], np.float32))
    for y in (x.relu(), bprop.maximum(x, 0.0), bprop.maximum(0.0, x)):
        values = y.numpy()
        assert np.isnan(values[0]) and values[1] == 0 and values[2] == 2


@pytest.mark.parametrize("make", [lambda: nn.Linear(2**62, 1), lambda: nn.Linear(1, 2**40),
                                  lambda: nn.BatchNorm(2**62), lambda: nn.LayerNorm(2**61),
                                  lambda: bprop.Parameter(np.zeros(2)).__class__("p", [2**40, 2**40])])
def test_absurd_sizes_are_refused_before_allocating(make):
    with pytest.raises(ValueError, match=r"this machine has|multiply past|more than 2\^63"):
        make()


@pytest.mark.parametrize("make", [lambda: nn.Linear(2**63, 1), lambda: nn.LayerNorm(2**64),
                                  lambda: nn.BatchNorm(-(2**63))])
def test_sizes_beyond_int64_are_a_clear_error(make):
    with pytest.raises(ValueError, match=r"^\[(Linear|LayerNorm|BatchNorm)\] \w+ must be"):
        make()


def test_every_bprop_layer_class_is_registered_for_loading_and_no_user_class_is():
    # Saved files name layers by class: the registry fills itself as bprop's classes are defined, so a new
    # layer needs no list edited, and a user's subclass (code a file must never name) stays out of it.
    from bprop.nn import layers as layers_module
    from bprop.nn.layers import base

    exported = {name for name in layers_module.__all__
                if isinstance(getattr(nn, name, None), type) and issubclass(getattr(nn, name), nn.Layer)}
    assert base._BPROP_LAYER_NAMES == exported - {"Layer"} | {"Sequential"}  # a Sequential is a layer too
    assert all(base._LAYER_CLASSES[name].__module__.startswith("bprop.") for name in base._BPROP_LAYER_NAMES)

    class UserLayer(nn.Layer):  # only nn.register_layer lists a user's class
        pass

    assert "UserLayer" not in base._LAYER_CLASSES
    with pytest.raises(ValueError, match="unknown layer class 'UserLayer'"):
        layers_module.deserialize({"class": "UserLayer", "config": {}})


@pytest.mark.parametrize("layers,width", [
    ([nn.ReLU(), nn.Dropout(0.2), nn.Linear(3, 2)], 3),
    ([nn.Residual([nn.Dropout(0.1), nn.LayerNorm(5)]), nn.Linear(5, 2)], 5),
    ([nn.Tanh(), nn.BatchNorm(4)], 4),
    ([nn.ReLU(), nn.Sigmoid()], None),
])
def test_a_sequential_builds_for_the_width_its_first_width_fixing_layer_declares(layers, width):
    assert bprop.Sequential(layers).in_features == width
