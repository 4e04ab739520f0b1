"""N-D samples: layers built for a per-sample shape (Linear, LayerNorm, BatchNorm, Softmax on the last axis;
Flatten and Reshape), models fitted on (n, *sample_shape) with per-position labels, against PyTorch; and the
modes (train, eval, replay)."""
import numpy as np
import pytest

import bprop
from bprop import _core, nn, optim, tensor

torch = pytest.importorskip("torch")

SAMPLE = (3, 4)  # (time, features), say


def _x(rows=5, sample=SAMPLE, seed=0):
    return np.random.default_rng(seed).standard_normal((rows, *sample))


def _copy_linear(layer):
    ref = torch.nn.Linear(layer.in_features, layer.out_features).double()
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(layer.weight.value().T))
        ref.bias.copy_(torch.from_numpy(layer.bias.value()))
    return ref


# (bprop layer, the same function in torch) over the last axis of (n, 3, 4) samples, float64.
CASES = {
    "Linear": lambda: (lambda l: (l, _copy_linear(l)))(nn.Linear(4, 6, seed=1, dtype="float64")),
    "LayerNorm": lambda: (nn.LayerNorm(4, dtype="float64"), torch.nn.LayerNorm(4).double()),
    "Softmax": lambda: (nn.Softmax(), torch.nn.Softmax(dim=-1)),
    "Tanh": lambda: (nn.Tanh(), torch.nn.Tanh()),
    "Flatten": lambda: (nn.Flatten(), torch.nn.Flatten()),
    "Reshape": lambda: (nn.Reshape((2, -1)), lambda x: x.reshape(len(x), 2, -1)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_layers_on_nd_samples_agree_with_torch(name):
    layer, ref = CASES[name]()
    x = _x()
    out = layer.forward(x, training=True)
    tx = torch.from_numpy(x).requires_grad_(True)
    expected = ref(tx)
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    dy = np.random.default_rng(1).standard_normal(out.shape)
    dx = layer.backward(x, out, dy)
    expected.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    if isinstance(ref, torch.nn.Module):
        grads = {n: p.grad for n, p in ref.named_parameters()}
        for p in layer.parameters():
            expected_grad = grads[p.name].numpy()
            if name == "Linear" and p.name == "weight":
                expected_grad = expected_grad.T  # Keras's layout
            np.testing.assert_allclose(p.grad, expected_grad, rtol=1e-10, atol=1e-12, err_msg=p.name)


def test_batchnorm_normalises_each_last_axis_feature_over_batch_and_leading_axes():
    x = _x(rows=6)
    out = nn.BatchNorm(4, dtype="float64").forward(x, training=True)
    flat = x.reshape(-1, 4)
    expected = (flat - flat.mean(0)) / np.sqrt(flat.var(0) + 1e-5)
    np.testing.assert_allclose(out.reshape(-1, 4), expected, rtol=1e-10)


def test_flatten_and_reshape_name_bad_shapes():
    with pytest.raises(ValueError, match=r"\[Flatten\] start_dim must be >= 1"):
        nn.Flatten(start_dim=0)
    with pytest.raises(ValueError, match=r"\[Reshape\] shape must be sizes >= 1, one of them -1 at most"):
        nn.Reshape((-1, -1))
    with pytest.raises(ValueError, match=r"cannot reshape samples of shape \(3, 4\) \(12 values\) to \(5, -1\)"):
        nn.Reshape((5, -1)).forward(_x())
    with pytest.raises(ValueError, match=r"\[Flatten\] start_dim 3 and end_dim -1 do not name axes"):
        nn.Flatten(start_dim=3).forward(_x())
    assert nn.Flatten(start_dim=2).forward(_x(sample=(2, 3, 4))).shape == (5, 2, 12)


def _mlp(seed=0):
    # A stack that starts by reshaping implies no input shape: its data (or build) give it.
    model = bprop.Sequential([nn.Flatten(), nn.Linear(12, 8, seed=seed), nn.ReLU(), nn.Linear(8, 3, seed=seed + 1)])
    assert model.input_shape is None
    return model.build((3, 4))


def test_a_sequential_fits_and_predicts_nd_samples():
    x, y = _x(rows=64).astype(np.float32), np.random.default_rng(2).integers(0, 3, 64)
    model = _mlp()
    assert model.input_shape == (None, 3, 4) and model.output_shape == (None, 3)
    w1, b1, w2, b2 = (p.value() for p in model.parameters())
    expected = np.maximum(x.reshape(64, 12) @ w1 + b1, 0) @ w2 + b2
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-6)
    model.compile(optim.Adam(lr=1e-2), nn.CrossEntropy(), metrics=["accuracy"])
    history = model.fit(x, y, epochs=30, batch_size=16, seed=0, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    with pytest.raises(ValueError, match=r"samples of shape \(4, 3\); the model expects \(3, 4\)"):
        model.predict(x.reshape(64, 4, 3))


def test_per_position_labels_train_as_torch_does():
    # Outputs (n, time, classes) and labels (n, time): the loss is the mean over every position, as
    # torch's CrossEntropyLoss over (n·time, classes); one SGD step moves the weights as torch's does.
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((6, 5, 4)), rng.integers(0, 3, (6, 5))
    model = bprop.Sequential([nn.Linear(4, 3, seed=2, dtype="float64")])
    ref = _copy_linear(model.layers[0])
    model.compile(optim.SGD(lr=0.5), nn.CrossEntropy(), metrics=["accuracy"])
    scores = model.evaluate(x, y)
    logits = ref(torch.from_numpy(x))
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 3), torch.from_numpy(y).reshape(-1))
    assert scores["loss"] == pytest.approx(loss.item(), rel=1e-12)
    accuracy = (logits.argmax(-1).numpy() == y).mean()
    assert scores["accuracy"] == pytest.approx(accuracy, rel=1e-12)
    model.fit(x, y, epochs=1, batch_size=6, shuffle=False, verbose=0)
    loss.backward()
    np.testing.assert_allclose(model.layers[0].weight.value(), (ref.weight - 0.5 * ref.weight.grad).detach().numpy().T,
                               rtol=1e-10)
    with pytest.raises(ValueError, match=r"need one label per position: \(n, 5\)"):
        model.fit(x, y[:, 0], epochs=1, verbose=0)


def test_summary_shows_nd_output_shapes():
    lines = []
    bprop.Sequential([nn.Linear(4, 6), nn.Flatten(), nn.Reshape((2, 9))]).build((3, 4)).summary(print_fn=lines.append)
    text = "\n".join(lines)
    for shape in ("(None, 3, 6)", "(None, 18)", "(None, 2, 9)"):
        assert shape in text, text


def test_an_nd_model_saves_and_loads(tmp_path):
    model = _mlp()
    x = _x(rows=4).astype(np.float32)
    model.save(tmp_path / "m.safetensors")
    loaded = bprop.load(tmp_path / "m.safetensors")
    assert loaded.input_shape == (None, 3, 4)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_one_activation_serves_two_widths_in_one_graph():
    act = nn.Tanh()
    a = tensor(np.full((2, 4), 0.5, np.float32), requires_grad=True)
    b = tensor(np.full((2, 3), 0.5, np.float32), requires_grad=True)
    (act(a).sum() + act(b).sum()).backward()
    slope = np.float32(1 - np.tanh(0.5) ** 2)
    np.testing.assert_allclose(a.grad, np.full((2, 4), slope), rtol=1e-6)
    np.testing.assert_allclose(b.grad, np.full((2, 3), slope), rtol=1e-6)


def test_a_layer_built_for_another_shape_by_another_use_is_refused_by_its_model():
    act = nn.Softmax()
    model = bprop.Sequential([nn.Linear(4, 8), act])
    act(tensor(np.ones((2, 3), np.float32)))  # the same object, now built for 3 features
    with pytest.raises(ValueError, match="built for samples of shape \\(3,\\) by another use"):
        model.predict(np.ones((2, 4), np.float32))


def test_replay_draws_the_last_dropout_mask_again_and_batchnorm_counts_a_batch_once():
    drop = nn.Dropout(0.5, seed=3).core("float64")
    drop.build([4, 5])
    x = np.ones((3, 4, 5))
    first = drop.forward(x, _core.Mode.train)
    assert drop.forward(x, _core.Mode.replay).tobytes() == first.tobytes()
    assert drop.forward(x, _core.Mode.train).tobytes() != first.tobytes()  # a new step, a new mask
    assert np.array_equal(drop.forward(x, _core.Mode.eval), x)

    norm = nn.BatchNorm(5, dtype="float64")
    core = norm.core("float64")
    core.build([5])
    x = np.random.default_rng(0).standard_normal((8, 5))
    trained = core.forward(x, _core.Mode.train)
    statistics = [b.value() for b in norm.buffers()]
    np.testing.assert_array_equal(core.forward(x, _core.Mode.replay), trained)
    for buffer, before in zip(norm.buffers(), statistics):
        np.testing.assert_array_equal(buffer.value(), before)


# -- integer inputs: a first layer that takes indices ---------------------------------------------------------
def _torch_embedding(layer):
    ref = torch.nn.Embedding(layer.num_embeddings, layer.embedding_dim).double()
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(layer.weight.value()))
    return ref


def test_embedding_agrees_with_torch_and_scatters_its_gradient():
    layer = nn.Embedding(10, 4, seed=3, dtype="float64")
    x = np.random.default_rng(0).integers(0, 10, (6, 5))  # repeated indices: the gradient adds up
    ref = _torch_embedding(layer)
    out = layer.forward(x)
    expected = ref(torch.from_numpy(x))
    np.testing.assert_array_equal(out, expected.detach().numpy())
    dy = np.random.default_rng(1).standard_normal(out.shape)
    assert layer.backward(x, out, dy) is None  # indices have no gradient
    expected.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(layer.weight.grad, ref.weight.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_a_sequential_of_integer_sequences_trains_predicts_and_saves(tmp_path):
    rng = np.random.default_rng(5)
    x = rng.integers(0, 12, (96, 6))
    y = (x[:, 0] % 3).astype(np.int64)  # learnable from the first token
    model = bprop.Sequential([nn.Embedding(12, 8, seed=1), nn.Flatten(), nn.Linear(48, 3, seed=2)])
    model.compile(optim.Adam(lr=0.05), nn.CrossEntropy(), metrics=["accuracy"])
    history = model.fit(x.astype(np.int32), y, epochs=30, batch_size=16, seed=0, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    model.save(tmp_path / "e.safetensors")
    loaded = bprop.load(tmp_path / "e.safetensors")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_indices_are_checked_before_any_work():
    model = bprop.Sequential([nn.Embedding(5, 2), nn.Flatten()])
    weights = model.get_weights()
    model.compile(optim.SGD(lr=1.0), nn.MSE())
    bad = np.array([[0, 1], [4, 5]])
    with pytest.raises(ValueError, match=r"index 5 \(at flat position 3\), out of range for a table of 5 rows"):
        model.fit(bad, np.zeros((2, 4)), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"index -1 .* out of range"):
        model.predict(np.array([[0, -1]]))
    with pytest.raises(TypeError, match=r"must hold integer indices; got dtype float64"):
        model.predict(np.array([[0.0, 1.0]]))
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)
    with pytest.raises(ValueError, match=r"layer 1 \(Embedding\) takes integer indices"):
        bprop.Sequential([nn.Linear(2, 2), nn.Embedding(3, 2)]).build(2)
    with pytest.raises(TypeError, match=r"\[Embedding\] takes integer indices"):
        nn.Embedding(3, 2)(tensor(np.zeros((2, 2), np.float32)))
