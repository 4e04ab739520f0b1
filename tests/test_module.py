"""Layers, losses and Parameters as graph nodes, and bprop.Module: the same gradients as Sequential, the
functional losses against torch, training through fit, and the errors."""
import numpy as np
import pytest

import bprop
from bprop import nn, optim, tensor


def _mlp_layers(dtype, seed=0):
    return [nn.Linear(5, 7, seed=seed, dtype=dtype), nn.Tanh(), nn.Linear(7, 6, seed=seed + 1, dtype=dtype),
            nn.ReLU(), nn.Linear(6, 3, seed=seed + 2, dtype=dtype)]


class MLP(bprop.Module):
    def __init__(self, layers):
        super().__init__()
        self.layers = layers

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def _data(rng, rows=9, dtype=np.float64):
    return rng.standard_normal((rows, 5)).astype(dtype), rng.integers(0, 3, rows)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_module_and_sequential_give_identical_gradients(dtype):
    rng = np.random.default_rng(0)
    x, y = _data(rng, dtype=dtype)
    sequential = bprop.Sequential(_mlp_layers(dtype))
    module = MLP(_mlp_layers(dtype))
    for p, q in zip(module.parameters(), sequential.parameters()):
        assert p.value().tobytes() == q.value().tobytes()  # same seeds, same weights

    loss = nn.CrossEntropy()
    value, grad_out = loss.forward_backward(sequential.forward(x, training=True), y)
    sequential.backward(grad_out)

    graph_loss = nn.functional.cross_entropy(module(tensor(x, dtype=dtype)), y)
    graph_loss.backward()
    assert graph_loss.item() == float(np.dtype(dtype).type(value))  # the loss tensor has the model's dtype
    for (name, p), q in zip(module.named_parameters(), sequential.parameters()):
        assert p.grad.tobytes() == q.grad.tobytes(), name


def test_sequential_called_on_a_tensor_is_one_node_with_its_own_backward():
    rng = np.random.default_rng(1)
    x, y = _data(rng)
    model = bprop.Sequential(_mlp_layers("float64") + [nn.BatchNorm(3, dtype="float64")])
    xt = tensor(x, requires_grad=True)
    out = model(xt)
    assert out.grad_fn == "Sequential"
    nn.functional.cross_entropy(out, y).backward()
    # Against the numpy-level path on the same batch.
    _, grad_out = nn.CrossEntropy().forward_backward(model.forward(x, training=True), y)
    expected = [p.grad for p in model.parameters()]
    model.zero_grad()
    model.backward(grad_out)
    for got, want in zip(expected, [p.grad for p in model.parameters()]):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("make", [
    lambda: nn.Linear(4, 3, dtype="float64"),
    lambda: nn.Tanh(),
    lambda: nn.GELU(),
    lambda: nn.LayerNorm(4, dtype="float64"),
    lambda: nn.BatchNorm(4, dtype="float64"),
    lambda: nn.Residual([nn.Linear(4, 4, dtype="float64"), nn.Sigmoid()]),
], ids=["Linear", "Tanh", "GELU", "LayerNorm", "BatchNorm", "Residual"])
def test_layer_nodes_pass_gradcheck_for_input_and_parameters(make):
    layer = make()
    rng = np.random.default_rng(2)
    x = tensor(rng.standard_normal((6, 4)), requires_grad=True)
    weights = rng.standard_normal(layer(x).shape)
    assert bprop.gradcheck(lambda t: (layer(t) * tensor(weights)).sum(), [x])
    for p in layer.parameters():  # each parameter against central differences of the layer's forward
        original = p.value()
        analytic = bprop.grad((layer(x) * tensor(weights)).sum(), [p.tensor])[0].numpy()
        numeric = np.zeros_like(original)
        for i in np.ndindex(original.shape):
            values = []
            for step in (1e-6, -1e-6):
                changed = original.copy()
                changed[i] += step
                p.set_value(changed)
                with bprop.no_grad():
                    values.append(float((layer(x) * tensor(weights)).sum().item()))
            numeric[i] = (values[0] - values[1]) / 2e-6
        p.set_value(original)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8, err_msg=p.name)


def test_layers_take_any_leading_shape():
    layer = nn.Linear(4, 2, dtype="float64")
    x = np.random.default_rng(3).standard_normal((2, 3, 4))
    out = layer(tensor(x))
    assert out.shape == (2, 3, 2)
    np.testing.assert_allclose(out.numpy(), x @ layer.weight.value() + layer.bias.value(), rtol=1e-12)
    assert layer(tensor(x[0, 0])).shape == (2,)


def test_parameter_gradients_accumulate_and_grad_leaves_them_alone():
    layer = nn.Linear(3, 2, dtype="float64")
    x = tensor(np.ones((4, 3)))
    (layer(x) ** 2).sum().backward()
    once = layer.weight.grad
    (layer(x) ** 2).sum().backward()
    np.testing.assert_allclose(layer.weight.grad, 2 * once, rtol=1e-12)
    returned = bprop.grad((layer(x) ** 2).sum(), [layer.weight.tensor])[0]
    np.testing.assert_allclose(returned.numpy(), once, rtol=1e-12)
    np.testing.assert_allclose(layer.weight.grad, 2 * once, rtol=1e-12)  # untouched by grad()
    layer.weight.tensor.grad = None  # zeroes, as zero_grad
    assert not layer.weight.grad.any()


def test_shared_layer_sums_gradients_over_its_uses():
    rng = np.random.default_rng(4)
    layer = nn.Linear(3, 3, dtype="float64")
    x = tensor(rng.standard_normal((2, 3)), requires_grad=True)
    assert bprop.gradcheck(lambda t: layer(layer(t).tanh()).sum(), [x])
    w = layer.weight.value()
    b = layer.bias.value()

    def loss_of(weight):
        return np.tanh(np.tanh(x.numpy() @ weight + b) @ weight + b).sum()

    layer.weight.zero_grad()
    layer(layer(x).tanh()).tanh().sum().backward()
    numeric = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        d = np.zeros_like(w)
        d[i] = 1e-6
        numeric[i] = (loss_of(w + d) - loss_of(w - d)) / 2e-6
    np.testing.assert_allclose(layer.weight.grad, numeric, rtol=1e-6, atol=1e-9)


def test_raw_parameters_mix_with_layers_and_train():
    class Scaled(bprop.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 1, dtype="float64", seed=0)
            self.scale = bprop.Parameter(np.array([0.5]), name="scale")

        def forward(self, x):
            return self.fc(x) * self.scale + 1.0

    model = Scaled()
    assert [name for name, _ in model.named_parameters()] == ["fc.weight", "fc.bias", "scale"]
    rng = np.random.default_rng(5)
    x = rng.standard_normal((64, 2))
    y = x @ np.array([[2.0], [-1.0]]) + 1.0
    opt = optim.Adam(model.parameters(), lr=0.05)
    for _ in range(300):
        loss = nn.functional.mse(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 1e-4


def test_frozen_parameter_keeps_its_gradient_at_zero():
    layer = nn.Linear(3, 2, dtype="float64")
    layer.weight.requires_grad = False
    x = tensor(np.ones((2, 3)), requires_grad=True)
    layer(x).sum().backward()
    assert not layer.weight.grad.any()
    np.testing.assert_allclose(layer.bias.grad, [2.0, 2.0])
    np.testing.assert_allclose(x.grad, np.tile(layer.weight.value().sum(axis=1), (2, 1)))
    with pytest.raises(ValueError, match="set requires_grad on the Parameter"):
        layer.weight.tensor.requires_grad = True


def test_module_trains_through_fit_like_a_sequential():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((256, 5)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1)
    model = MLP(_mlp_layers("float32"))
    model.compile(optim.Adam(lr=0.02), nn.CrossEntropy(), metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=32, validation_split=0.25, verbose=0, seed=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.8
    result = model.evaluate(x, y)
    assert set(result) == {"loss", "accuracy"} and result["accuracy"] > 0.8
    predictions = model.predict(x, batch_size=100)
    assert predictions.shape == (256, 3) and predictions.dtype == np.float32
    assert model.training  # fit and predict restore the mode


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_module_and_sequential_fitted_with_one_seed_see_the_same_batches(dtype):
    # One epoch plan for both engines: the same shuffled batches, in the same order, so the same weights bit
    # for bit (their gradients are identical, as above). 37 rows in batches of 8: a short last batch too.
    rng = np.random.default_rng(8)
    x, y = _data(rng, rows=37, dtype=dtype)
    models = [bprop.Sequential(_mlp_layers(dtype)), MLP(_mlp_layers(dtype))]
    histories = []
    for model in models:
        model.compile(optim.SGD(lr=0.1, momentum=0.9), nn.CrossEntropy())
        histories.append(model.fit(x, y, epochs=3, batch_size=8, shuffle=True, seed=11, verbose=0).history["loss"])
    for p, q in zip(models[0].parameters(), models[1].parameters()):
        assert p.value().tobytes() == q.value().tobytes()
    # One loss accounting for both engines (train/accounting.h): the same histories, bit for bit.
    assert histories[0] == histories[1]
    assert list(bprop._core.epoch_order(5, True, 6)) != list(range(6))  # the plan does shuffle


def test_module_fit_is_reproducible_and_stops_on_nan():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((64, 5))
    y = rng.integers(0, 3, 64)

    def run():
        model = MLP(_mlp_layers("float64"))
        model.compile(optim.SGD(lr=0.1), nn.CrossEntropy())
        model.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=3)
        return [p.value() for p in model.parameters()]

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)
    model = MLP(_mlp_layers("float64"))
    model.compile(optim.SGD(lr=1e300), nn.MSE())
    with pytest.warns(RuntimeWarning, match="non-finite loss"):
        history = model.fit(x, rng.standard_normal((64, 3)) * 1e200, epochs=3, batch_size=16, verbose=0)
    assert history.stopped_reason


def test_train_and_eval_reach_every_layer():
    class Net(bprop.Module):
        def __init__(self):
            super().__init__()
            self.drop = nn.Dropout(0.5, seed=0)
            self.inner = MLP([nn.Dropout(0.5, seed=1)])

        def forward(self, x):
            return self.inner(self.drop(x))

    net = Net()
    x = tensor(np.ones((4, 8)))
    assert (net(x).numpy() == 0).any()
    net.eval()
    assert not net.drop.training and not net.inner.layers[0].training
    np.testing.assert_array_equal(net(x).numpy(), np.ones((4, 8)))


def test_applying_a_caching_layer_again_before_backward_is_refused():
    drop = nn.Dropout(0.5, seed=0)
    x = tensor(np.ones((4, 8)), requires_grad=True)
    first = drop(x)
    drop(x)
    with pytest.raises(ValueError, match="Dropout ran another forward"):
        first.sum().backward()


def test_layer_errors_name_the_problem():
    layer = nn.Linear(4, 3)
    with pytest.raises(ValueError, match=r"\[Linear\] expects 4 input features; got 5"):
        layer(tensor(np.ones((2, 5), np.float32)))
    with pytest.raises(TypeError, match=r"\[Linear\] computes in float32; got a float64 tensor"):
        layer(tensor(np.ones((2, 4))))
    with pytest.raises(ValueError, match="empty batch"):
        layer(tensor(np.ones((0, 4), np.float32)))
    x = tensor(np.ones((2, 4), np.float32), requires_grad=True)
    (g,) = bprop.grad(layer(x).sum(), [x], create_graph=True)
    with pytest.raises(ValueError, match="Linear has no second derivative"):
        g.sum().backward()


def test_module_errors_name_the_problem():
    class Forgot(bprop.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(TypeError, match=r"super\(\).__init__\(\)"):
        Forgot()
    with pytest.raises(TypeError, match="forward"):
        bprop.Module()(tensor(np.ones(2)))

    class Skipped(bprop.Module):
        def __init__(self):
            pass

    with pytest.raises(TypeError, match=r"\[Skipped\] its __init__ must call super\(\).__init__\(\) first"):
        Skipped().parameters()
    with pytest.raises(TypeError, match="bprop.Parameter"):
        optim.SGD([tensor(np.ones(2), requires_grad=True)], lr=0.1)
    model = MLP(_mlp_layers("float32"))
    model.compile(optim.SGD(lr=0.1), nn.CrossEntropy())
    with pytest.raises(ValueError, match=r"label 7 at index \d+ is out of range for 3 classes"):
        model.fit(np.ones((4, 5)), np.array([0, 1, 2, 7]), verbose=0)
    with pytest.raises(ValueError, match="NaN or Inf"):
        model.fit(np.full((4, 5), np.nan), np.array([0, 1, 2, 0]), verbose=0)

    class NoRows(bprop.Module):  # an output whose rows are not the samples (found by the fuzz sweep)
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x):
            return tensor(np.zeros((0, 2), np.float32))

    model = NoRows()
    model.compile(optim.SGD(lr=0.1), nn.MSE())
    with pytest.raises(ValueError, match=r"\[NoRows.forward\] must return one output per sample: 1 sample in, an "
                                         r"output of shape \(0, 2\) out"):
        model.fit(np.zeros((2, 0), np.float32), np.zeros((2, 2)), verbose=0)


def test_functional_losses_reject_bad_targets():
    out = tensor(np.zeros((3, 2)), requires_grad=True)
    with pytest.raises(ValueError, match="out of range"):
        nn.functional.cross_entropy(out, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="targets have shape"):
        nn.functional.mse(out, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="sample_weight"):
        nn.functional.mse(out, np.zeros((3, 2)), sample_weight=np.ones(2))


LOSSES = {
    "cross_entropy": (lambda o, y, w: nn.functional.cross_entropy(o, y, sample_weight=w, label_smoothing=0.1),
                      "labels"),
    "cross_entropy_probabilities": (lambda o, y, w: nn.functional.cross_entropy(o, y, reduction="sum"), "probs"),
    "mse": (lambda o, y, w: nn.functional.mse(o, y, sample_weight=w), "values"),
    "mae": (lambda o, y, w: nn.functional.l1_loss(o, y, reduction="sum"), "values"),
    "huber": (lambda o, y, w: nn.functional.huber(o, y, delta=0.5), "values"),
    "binary_cross_entropy": (lambda o, y, w: nn.functional.binary_cross_entropy(o, y, sample_weight=w), "binary"),
}


def _torch_loss(name, o, y, w):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    if name == "cross_entropy":
        terms = F.cross_entropy(o, torch.tensor(y), reduction="none", label_smoothing=0.1)
        return (terms * torch.tensor(w)).mean()
    if name == "cross_entropy_probabilities":
        return F.cross_entropy(o, torch.tensor(y), reduction="sum")
    if name == "mse":
        return (F.mse_loss(o, torch.tensor(y), reduction="none") * torch.tensor(w)[:, None]).mean()
    if name == "mae":
        return F.l1_loss(o, torch.tensor(y), reduction="sum")
    if name == "huber":
        return F.huber_loss(o, torch.tensor(y), delta=0.5)
    terms = F.binary_cross_entropy_with_logits(o, torch.tensor(y), reduction="none")
    return (terms * torch.tensor(w)[:, None]).mean()


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_functional_losses_match_torch(name):
    torch = pytest.importorskip("torch")
    fn, kind = LOSSES[name]
    rng = np.random.default_rng(8)
    logits = rng.standard_normal((6, 4))
    y = {"labels": rng.integers(0, 4, 6), "values": rng.standard_normal((6, 4)),
         "binary": rng.integers(0, 2, (6, 4)).astype(np.float64),
         "probs": rng.dirichlet(np.ones(4), 6)}[kind]
    w = rng.uniform(0.5, 2.0, 6)
    out = tensor(logits, requires_grad=True)
    loss = fn(out, y, w)
    loss.backward()
    reference = torch.tensor(logits, requires_grad=True)
    expected = _torch_loss(name, reference, y, w)
    expected.backward()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out.grad, reference.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_loss_objects_accept_tensors_and_one_output_as_1d():
    out = tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    loss = nn.BinaryCrossEntropy()(out, np.array([1.0, 0.0, 1.0]))
    loss.backward()
    p = 1 / (1 + np.exp(-out.numpy()))
    np.testing.assert_allclose(out.grad, (p - [1, 0, 1]) / 3, rtol=1e-12)
    assert bprop.gradcheck(lambda o: nn.functional.mse(o, np.zeros(3)), [out])


def test_loss_has_no_second_derivative():
    out = tensor(np.ones((2, 3)), requires_grad=True)
    (g,) = bprop.grad(nn.functional.mse(out, np.zeros((2, 3))), [out], create_graph=True)
    with pytest.raises(ValueError, match="MSE has no second derivative"):
        g.sum().backward()


def test_backward_after_an_optimizer_step_is_refused_not_mixed():
    layer = nn.Linear(3, 2, dtype="float64")
    opt = optim.SGD(layer.parameters(), lr=0.1)
    x = tensor(np.ones((2, 3)))
    loss = (layer(x) ** 2).sum()
    loss.backward(retain_graph=True)
    opt.step()  # the weights the graph used are gone
    with pytest.raises(ValueError, match="'weight' that Linear saved for backward was modified in place"):
        loss.backward()
    w = bprop.Parameter(np.ones((3, 2)), name="w")
    out = (x @ w).sum()
    w.set_value(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="'w' that matmul saved for backward was modified"):
        out.backward()


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
                                  lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.1),
                                  lambda ps: optim.AdamW(ps, lr=0.1),
                                  lambda ps: optim.RMSprop(ps, lr=0.1, momentum=0.5),
                                  lambda ps: optim.Adagrad(ps, lr=0.1, weight_decay=0.1)],
                         ids=["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_optimizers_leave_a_frozen_parameter_as_it_is(make):
    layer = nn.Linear(3, 2, dtype="float64")
    opt = make(layer.parameters())
    x = tensor(np.ones((4, 3)))
    for frozen in (False, True):  # first steps give the state (momentum, moments) something to carry
        layer.weight.requires_grad = not frozen
        before = layer.weight.value()
        opt.zero_grad()
        (layer(x) ** 2).sum().backward()
        opt.step()
        assert (layer.weight.value() != before).any() != frozen
    model = bprop.Sequential([nn.Linear(3, 2, dtype="float64")])
    model.layers[0].weight.requires_grad = False
    model.compile(optim.Adam(lr=0.1), nn.MSE())
    before = model.layers[0].weight.value()
    model.fit(np.ones((8, 3)), np.zeros((8, 2)), epochs=2, verbose=0)  # fit respects it too (Keras's trainable)
    np.testing.assert_array_equal(model.layers[0].weight.value(), before)
    assert (model.layers[0].bias.value() != 0).any()


def test_parameter_grad_is_an_attribute_like_tensor_grad():
    p = bprop.Parameter(np.ones(3))
    (p * 2.0).sum().backward()
    np.testing.assert_array_equal(p.grad, [2.0, 2.0, 2.0])
    assert isinstance(p.tensor.grad, np.ndarray)
    p.grad = np.full(3, 5.0)
    np.testing.assert_array_equal(p.grad, [5.0, 5.0, 5.0])
    p.grad = None  # as in PyTorch's zero_grad(set_to_none=True): nothing accumulated
    np.testing.assert_array_equal(p.grad, [0.0, 0.0, 0.0])
    with pytest.raises(TypeError, match=r"\[Parameter.grad\]"):
        p.grad = [1, 2, 3]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_reseed_reaches_a_layer_that_has_not_run_yet(dtype):
    """A Dropout makes its C++ layer on first use: reseeding the Module before that still fixes its masks."""
    x = bprop.tensor(np.ones((2, 64), dtype))
    masks = []
    for _ in range(2):
        net = bprop.Module()
        net.drop = nn.Dropout(0.5)
        net.reseed(3)
        masks.append(net.drop(x).numpy().copy())
        net.reseed(3)
        masks.append(net.drop(x).numpy().copy())
    assert all(np.array_equal(masks[0], m) for m in masks[1:])
