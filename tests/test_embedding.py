"""Embedding(padding_idx=...) against torch.nn.Embedding (forward, the weight gradient, training with
optimizers), its config and saving, and the index checks that run before any work on every entry point.
(The plain lookup and its scatter-add are in tests/test_sample_shapes.py.)"""
import numpy as np
import pytest

import bprop
from bprop import _core, nn, optim, tensor

torch = pytest.importorskip("torch")


def _torch_embedding(layer, padding_idx):
    ref = torch.nn.Embedding(layer.num_embeddings, layer.embedding_dim, padding_idx=padding_idx)
    ref = ref.to(getattr(torch, layer.dtype.name))
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(layer.weight.value()))
    return ref


@pytest.mark.parametrize("padding_idx", [0, 3, -1, -10])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_padding_row_starts_at_zero_and_gets_no_gradient_as_torch(dtype, padding_idx):
    layer = nn.Embedding(10, 4, padding_idx=padding_idx, seed=3, dtype=dtype)
    row = padding_idx % 10
    assert layer.padding_idx == row and layer.get_config()["padding_idx"] == row  # kept normalised
    table = layer.weight.value()
    assert not table[row].any()
    others = np.arange(10) != row  # drawn as without padding_idx: one seed, the same other rows
    np.testing.assert_array_equal(table[others], nn.Embedding(10, 4, seed=3, dtype=dtype).weight.value()[others])

    x = np.random.default_rng(0).integers(0, 10, (7, 5))
    x[0, :3] = row  # the padding row used, and repeated
    ref = _torch_embedding(layer, padding_idx)
    out = layer.forward(x, training=True)
    expected = ref(torch.from_numpy(x))
    np.testing.assert_array_equal(out, expected.detach().numpy())
    assert not out[0, :3].any()
    dy = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    layer.backward(x, out, dy)
    expected.backward(torch.from_numpy(dy))
    grad = layer.weight.grad
    assert not grad[row].any()
    np.testing.assert_allclose(grad, ref.weight.grad.numpy(), rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6)
    layer.backward(x, out, dy, accumulate=True)  # accumulating adds nothing to the padding row either
    assert not layer.weight.grad[row].any()
    np.testing.assert_allclose(layer.weight.grad, 2 * grad, rtol=1e-6)


@pytest.mark.parametrize("make_optimizer,make_torch", [
    (lambda: optim.SGD(lr=0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    (lambda: optim.Adam(lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    (lambda: optim.AdamW(lr=0.01, weight_decay=0.1), lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1)),
], ids=["SGD-momentum", "Adam", "AdamW"])
def test_the_padding_row_stays_zero_through_training_as_torch(make_optimizer, make_torch):
    rng = np.random.default_rng(2)
    x = rng.integers(0, 8, (12, 6))
    x[:, 4:] = 0  # padding at the end of every sequence
    y = rng.integers(0, 3, 12)
    embedding = nn.Embedding(8, 5, padding_idx=0, seed=1, dtype="float64")
    linear = nn.Linear(30, 3, seed=2, dtype="float64")
    model = bprop.Sequential([embedding, nn.Flatten(), linear])
    model.compile(make_optimizer(), nn.CrossEntropy())
    ref_embedding = _torch_embedding(embedding, 0)
    ref_linear = torch.nn.Linear(30, 3).double()
    with torch.no_grad():
        ref_linear.weight.copy_(torch.from_numpy(linear.weight.value().T))
        ref_linear.bias.copy_(torch.from_numpy(linear.bias.value()))
    ref = torch.nn.Sequential(ref_embedding, torch.nn.Flatten(), ref_linear)
    ref_optimizer = make_torch(ref.parameters())
    model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    for _ in range(3):
        for start in range(0, 12, 4):
            ref_optimizer.zero_grad()
            torch.nn.functional.cross_entropy(ref(torch.from_numpy(x[start:start + 4])),
                                              torch.from_numpy(y[start:start + 4])).backward()
            ref_optimizer.step()
    table = embedding.weight.value()
    assert not table[0].any()
    np.testing.assert_allclose(table, ref_embedding.weight.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(linear.weight.value(), ref_linear.weight.detach().numpy().T, rtol=1e-9, atol=1e-12)


def test_padding_idx_round_trips_through_config_and_saving(tmp_path):
    layer = nn.Embedding(6, 3, padding_idx=-2, seed=4)
    assert repr(layer) == f"Embedding(num_embeddings=6, embedding_dim=3, padding_idx=4, seed={layer.seed}, " \
                          "dtype='float32')"
    clone = nn.Embedding.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    np.testing.assert_array_equal(clone.weight.value(), layer.weight.value())
    assert nn.Embedding.from_config({"num_embeddings": 6, "embedding_dim": 3, "seed": 1}).padding_idx is None
    model = bprop.Sequential([layer, nn.Flatten(), nn.Linear(6, 2)]).build((2,))
    model.save(tmp_path / "e.safetensors")
    loaded = bprop.load(tmp_path / "e.safetensors")
    assert loaded.layers[0].padding_idx == 4
    x = np.array([[4, 1], [0, 4]])
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


@pytest.mark.parametrize("padding_idx,error,pattern", [
    (6, ValueError, r"\[Embedding\] padding_idx must be in \[-6, 6\) for a table of 6 rows; got 6"),
    (-7, ValueError, r"padding_idx must be in \[-6, 6\) .*got -7"),
    (2**70, ValueError, r"padding_idx must be in \[-6, 6\)"),
    (1.0, TypeError, r"\[Embedding\] padding_idx must be an integer; got float"),
    (True, TypeError, r"padding_idx must be an integer; got bool"),
])
def test_bad_padding_idx_raises(padding_idx, error, pattern):
    with pytest.raises(error, match=pattern):
        nn.Embedding(6, 3, padding_idx=padding_idx)


def test_the_core_checks_padding_idx_too():
    assert _core.Embedding_float64(6, 3, 0, padding_idx=-1).padding_idx == 5
    assert _core.Embedding_float32(6, 3, 0).padding_idx is None
    with pytest.raises(ValueError, match=r"\[Embedding\] padding_idx must be in \[-6, 6\) for a table of 6 rows; got 6"):
        _core.Embedding_float32(6, 3, 0, padding_idx=6)


def test_indices_out_of_range_are_refused_before_any_work_everywhere():
    # fit, evaluate, predict, and the layer's own forward and backward: ValueError naming the index and the
    # table size, with nothing computed or changed. (On tensors an Embedding is a TypeError: tensors hold
    # float32/float64, never integer indices.)
    layer = nn.Embedding(5, 2, padding_idx=0)
    model = bprop.Sequential([layer, nn.Flatten()])
    model.compile(optim.SGD(lr=1.0), nn.MSE())
    weights = model.get_weights()
    good, bad, negative = np.array([[0, 1], [4, 3]]), np.array([[0, 1], [4, 5]]), np.array([[0, -1], [1, 2]])
    message = r"holds the index {} \(at flat position {}\), out of range for a table of 5 rows \(expected 0\.\.4\)"
    with pytest.raises(ValueError, match=r"\[Trainer.start\] x " + message.format(5, 3)):
        model.fit(bad, np.zeros((2, 4)), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=message.format(-1, 1)):
        model.fit(negative, np.zeros((2, 4)), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=message.format(5, 3)):
        model.fit(good, np.zeros((2, 4)), validation_data=(bad, np.zeros((2, 4))), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=message.format(5, 3)):
        model.evaluate(bad, np.zeros((2, 4)))
    with pytest.raises(ValueError, match=message.format(5, 3)):
        model.predict(bad)
    with pytest.raises(ValueError, match=r"\[Embedding.forward\] x " + message.format(5, 3)):
        layer.forward(bad)
    out = layer.forward(good, training=True)
    layer.backward(good, out, np.ones_like(out))
    grad = layer.weight.grad.copy()
    with pytest.raises(ValueError, match=r"\[Embedding.backward\] x " + message.format(-1, 1)):
        layer.backward(negative, out, np.ones_like(out))
    np.testing.assert_array_equal(layer.weight.grad, grad)
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)
    with pytest.raises(TypeError, match=r"\[Embedding\] takes integer indices"):
        layer(tensor(np.zeros((2, 2), np.float32)))
