"""CrossEntropy(ignore_index=...) beyond the loss alone (tests/test_losses.py sweeps its values and
gradients): fit and evaluate on per-position labels against torch, the accuracy metrics, an all-ignored
batch, class and sample weights, the autograd path, saving, and the errors."""
import numpy as np
import pytest

import bprop
from bprop import _core, nn, optim, tensor

torch = pytest.importorskip("torch")
F = torch.nn.functional

TOLERANCE = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-12)}


def _copy_linear(layer, dtype):
    ref = torch.nn.Linear(layer.in_features, layer.out_features).to(getattr(torch, dtype))
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(layer.weight.value().T))
        ref.bias.copy_(torch.from_numpy(layer.bias.value()))
    return ref


def _sequence_data(ignore_index, dtype, rows=6, time=5, features=4, classes=3, seed=4):
    """(x, y): x (rows, time, features); labels (rows, time) with about a third of them ignore_index."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, time, features)).astype(dtype)
    y = rng.integers(0, classes, (rows, time))
    y[rng.random(y.shape) < 0.3] = ignore_index
    return x, y


def _torch_loss(logits, y, ignore_index, weights=None):
    """torch's mean over the positions not ignored; with weights, the weighted terms over that count (bprop's
    contract: weights multiply terms, the mean divides by the count)."""
    classes = logits.shape[-1]
    labels = torch.from_numpy(y).reshape(-1)
    if weights is None:
        return F.cross_entropy(logits.reshape(-1, classes), labels, ignore_index=ignore_index)
    terms = F.cross_entropy(logits.reshape(-1, classes), labels, ignore_index=ignore_index, reduction="none")
    w = torch.from_numpy(np.broadcast_to(weights.reshape(weights.shape + (1,) * (y.ndim - weights.ndim)), y.shape)
                         .reshape(-1).astype(np.float64)).to(terms.dtype)
    return (terms * w).sum() / int((y != ignore_index).sum())


def _assert_close(actual, expected, dtype):
    np.testing.assert_allclose(actual, expected, **TOLERANCE[dtype])


@pytest.mark.parametrize("weighting", ["none", "per-sample", "per-position"])
@pytest.mark.parametrize("ignore_index", [-100, 0], ids=["ignore-100", "ignore-class-0"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_per_position_labels_with_ignored_positions_train_as_torch_does(dtype, ignore_index, weighting):
    # Outputs (n, time, classes): the loss is torch's over the positions not ignored, whatever the
    # evaluation batch size, and one SGD step moves the weights as torch's does.
    x, y = _sequence_data(ignore_index, dtype)
    rng = np.random.default_rng(1)
    weights = {"none": None, "per-sample": rng.uniform(0.2, 2.0, len(x)),
               "per-position": rng.uniform(0.2, 2.0, y.shape)}[weighting]
    model = bprop.Sequential([nn.Linear(4, 3, seed=2, dtype=dtype)])
    ref = _copy_linear(model.layers[0], dtype)
    model.compile(optim.SGD(lr=0.5), nn.CrossEntropy(ignore_index=ignore_index), metrics=["accuracy"])
    logits = ref(torch.from_numpy(x))
    loss = _torch_loss(logits, y, ignore_index, weights)
    for batch_size in (6, 4, 1):  # batches scoring different numbers of positions
        scores = model.evaluate(x, y, batch_size=batch_size, sample_weight=weights)
        _assert_close(scores["loss"], loss.item(), dtype)
    counted = y != ignore_index
    accuracy = (logits.argmax(-1).numpy() == y)[counted].mean()
    assert scores["accuracy"] == pytest.approx(accuracy, rel=1e-12)
    history = model.fit(x, y, epochs=1, batch_size=6, shuffle=False, sample_weight=weights, verbose=0)
    _assert_close(history.history["loss"][0], loss.item(), dtype)
    loss.backward()
    _assert_close(model.layers[0].weight.value(), (ref.weight - 0.5 * ref.weight.grad).detach().numpy().T, dtype)
    _assert_close(model.layers[0].bias.value(), (ref.bias - 0.5 * ref.bias.grad).detach().numpy(), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_two_d_outputs_with_ignored_rows_train_as_torch_does(dtype):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((9, 4)).astype(dtype)
    y = rng.integers(0, 5, 9)
    y[[1, 4, 5]] = -1
    model = bprop.Sequential([nn.Linear(4, 5, seed=3, dtype=dtype)])
    ref = _copy_linear(model.layers[0], dtype)
    model.compile(optim.SGD(lr=0.1), nn.CrossEntropy(0.2, ignore_index=-1), metrics=["accuracy", "top_2_accuracy"])
    logits = ref(torch.from_numpy(x))
    loss = F.cross_entropy(logits, torch.from_numpy(y), ignore_index=-1, label_smoothing=0.2)
    scores = model.evaluate(x, y, batch_size=4)
    _assert_close(scores["loss"], loss.item(), dtype)
    counted = y != -1
    top2 = np.argsort(-logits.detach().numpy(), axis=1)[:, :2]
    assert scores["accuracy"] == pytest.approx((logits.argmax(1).numpy() == y)[counted].mean(), rel=1e-12)
    assert scores["top_2_accuracy"] == pytest.approx((top2 == y[:, None]).any(1)[counted].mean(), rel=1e-12)
    model.fit(x, y, epochs=1, batch_size=9, shuffle=False, verbose=0)
    loss.backward()
    _assert_close(model.layers[0].weight.value(), (ref.weight - 0.1 * ref.weight.grad).detach().numpy().T, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_an_all_ignored_batch_has_loss_0_and_no_gradient(dtype):
    out = np.random.default_rng(0).standard_normal((4, 3)).astype(dtype)
    y = np.full(4, -100)
    for reduction in ("mean", "sum"):
        loss, grad = nn.CrossEntropy(ignore_index=-100, reduction=reduction).forward_backward(out, y)
        assert loss == 0 and grad.dtype == out.dtype and not grad.any()
    assert np.isnan(F.cross_entropy(torch.from_numpy(out), torch.from_numpy(y)).item())  # torch: nan (0/0)

    # In fit: a batch whose positions are all ignored steps on a zero gradient (plain SGD: no move), and
    # epochs report means over the positions scored.
    x, y = _sequence_data(-100, dtype, rows=4)
    y[2:] = -100
    model = bprop.Sequential([nn.Linear(4, 3, seed=2, dtype=dtype)])
    alone = bprop.Sequential([nn.Linear(4, 3, seed=2, dtype=dtype)])
    for m in (model, alone):
        m.compile(optim.SGD(lr=0.5), nn.CrossEntropy(ignore_index=-100), metrics=["accuracy"])
    first_half = model.evaluate(x[:2], y[:2])
    history = model.fit(x, y, epochs=1, batch_size=2, shuffle=False, verbose=0)
    alone.fit(x[:2], y[:2], epochs=1, batch_size=2, shuffle=False, verbose=0)
    np.testing.assert_array_equal(model.layers[0].weight.value(), alone.layers[0].weight.value())
    assert history.history["loss"][0] == pytest.approx(first_half["loss"], rel=1e-6)
    assert history.history["accuracy"][0] == pytest.approx(first_half["accuracy"], rel=1e-12)
    assert model.evaluate(x[2:], y[2:]) == {"loss": 0.0, "accuracy": 0.0}  # nothing scored


@pytest.mark.parametrize("sequence", [False, True], ids=["per-sample", "per-position"])
def test_class_weight_with_ignored_labels(sequence):
    # Ignored labels (-100) have no class to look up: their weight is irrelevant and never indexes the table.
    rng = np.random.default_rng(2)
    shape = (8, 5) if sequence else (8,)
    x = rng.standard_normal(shape + (4,))
    y = rng.integers(0, 3, shape)
    y.reshape(-1)[::3] = -100
    class_weight, sample_weight = {0: 0.5, 2: 3.0}, rng.uniform(0.5, 1.5, 8)
    model = bprop.Sequential([nn.Linear(4, 3, seed=5, dtype="float64")])
    ref = _copy_linear(model.layers[0], "float64")
    model.compile(optim.SGD(lr=0.3), nn.CrossEntropy(ignore_index=-100))
    model.fit(x, y, epochs=1, batch_size=8, shuffle=False, class_weight=class_weight, sample_weight=sample_weight,
              verbose=0)
    per_class = np.array([class_weight.get(c, 1.0) for c in range(3)])
    position_weights = np.where(y == -100, 0.0, per_class[np.maximum(y, 0)])
    if sequence:
        position_weights = position_weights * sample_weight[:, None]
    else:
        position_weights = position_weights * sample_weight
    loss = _torch_loss(ref(torch.from_numpy(x)), y, -100, position_weights)
    loss.backward()
    np.testing.assert_allclose(model.layers[0].weight.value(), (ref.weight - 0.3 * ref.weight.grad).detach().numpy().T,
                               rtol=1e-10, atol=1e-12)


def test_weights_and_labels_are_checked_naming_the_position():
    x, y = _sequence_data(-100, "float32")
    model = bprop.Sequential([nn.Linear(4, 3)])
    model.compile(optim.SGD(lr=0.1), nn.CrossEntropy(ignore_index=-100))
    weights = model.get_weights()
    bad = y.copy()
    bad[3, 2] = 3
    with pytest.raises(ValueError, match=r"\[CrossEntropy\] label 3 at index \(3, 2\) is out of range for 3 classes "
                                         r"\(expected 0\.\.2, or ignore_index -100\)"):
        model.fit(x, bad, epochs=1, verbose=0)
    bad[3, 2] = -1
    with pytest.raises(ValueError, match=r"label -1 at index \(3, 2\)"):
        model.evaluate(x, bad)
    with pytest.raises(ValueError, match=r"sample_weight has shape \(6, 4\); expected \(6,\) or \(6, 5\), one per "
                                         r"position"):
        model.fit(x, y, sample_weight=np.ones((6, 4)), epochs=1, verbose=0)
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)
    plain = bprop.Sequential([nn.Linear(4, 3)])
    plain.compile(optim.SGD(lr=0.1), nn.CrossEntropy())
    with pytest.raises(ValueError, match=r"label -100 at index \(0, 0\) is out of range for 3 classes "
                                         r"\(expected 0\.\.2\)$"):
        plain.fit(x, np.full_like(y, -100), epochs=1, verbose=0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_on_tensors_the_loss_ignores_as_torch(dtype):
    rng = np.random.default_rng(3)
    out, y = rng.standard_normal((7, 4)).astype(dtype), np.array([0, -100, 3, 3, -100, 1, 2])
    weights = rng.uniform(0.5, 2.0, 7)
    for sample_weight in (None, weights):
        logits = tensor(out, requires_grad=True)
        loss = nn.functional.cross_entropy(logits, y, ignore_index=-100, label_smoothing=0.1,
                                           sample_weight=sample_weight)
        loss.backward()
        expected_logits = torch.tensor(out, requires_grad=True)
        terms = F.cross_entropy(expected_logits, torch.from_numpy(y), ignore_index=-100, label_smoothing=0.1,
                                reduction="none")
        w = torch.ones(7, dtype=terms.dtype) if sample_weight is None else torch.from_numpy(weights).to(terms.dtype)
        expected = (terms * w).sum() / 5
        expected.backward()
        _assert_close(loss.item(), expected.item(), dtype)
        _assert_close(logits.grad, expected_logits.grad.numpy(), dtype)
    assert nn.CrossEntropy(ignore_index=-100)(tensor(out), np.full(7, -100)).item() == 0.0
    with pytest.raises(ValueError, match=r"label -7 at index 2 is out of range"):
        nn.CrossEntropy(ignore_index=-100)(tensor(out), [0, 1, -7, 0, 0, 0, 0])
    with pytest.raises(ValueError, match=r"\[CrossEntropy\] label -100 at index 0 is out of range for 4 classes"):
        _core.CrossEntropy_float64().graph_forward(tensor(out.astype(np.float64)), np.full(7, -100), None)


class _Net(bprop.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 3, seed=6, dtype="float64")

    def forward(self, x):
        return self.linear(x)


def test_a_module_fits_and_evaluates_with_ignored_labels():
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal((10, 4)), rng.integers(0, 3, 10)
    y[[0, 3, 4, 8]] = -100
    module = _Net()
    ref = _copy_linear(module.linear, "float64")
    module.compile(optim.SGD(lr=0.2), nn.CrossEntropy(ignore_index=-100), metrics=["accuracy"])
    logits = ref(torch.from_numpy(x))
    loss = F.cross_entropy(logits, torch.from_numpy(y))
    scores = module.evaluate(x, y, batch_size=3)
    assert scores["loss"] == pytest.approx(loss.item(), rel=1e-12)
    assert scores["accuracy"] == pytest.approx((logits.argmax(1).numpy() == y)[y != -100].mean(), rel=1e-12)
    module.fit(x, y, epochs=1, batch_size=10, shuffle=False, verbose=0)
    loss.backward()
    np.testing.assert_allclose(module.linear.weight.value(), (ref.weight - 0.2 * ref.weight.grad).detach().numpy().T,
                               rtol=1e-10)


def test_ignore_index_round_trips_through_config_and_saving(tmp_path):
    loss = nn.CrossEntropy(0.1, ignore_index=-100, reduction="sum")
    assert loss.get_config() == {"label_smoothing": 0.1, "ignore_index": -100, "reduction": "sum"}
    assert nn.losses.deserialize(nn.losses.serialize(loss)).ignore_index == -100
    assert nn.CrossEntropy(**{"label_smoothing": 0.0, "reduction": "mean"}).ignore_index is None  # older configs
    model = bprop.Sequential([nn.Linear(4, 3)]).build((5, 4))
    model.compile(optim.Adam(), loss, metrics=["accuracy"])
    model.save(tmp_path / "m.safetensors")
    loaded = bprop.load(tmp_path / "m.safetensors")
    assert loaded._trainer.loss.get_config() == loss.get_config()
    x, y = _sequence_data(-100, "float32")
    assert loaded.evaluate(x, y) == model.evaluate(x, y)
