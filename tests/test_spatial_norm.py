"""Layers over channel-first samples (C, *spatial): BatchNorm2d and BatchNorm1d against PyTorch (training and
evaluation forward, running statistics, gradients) and float64 central differences; bit-identical results at
1 and 2 threads; Dropout2d's channel masks; bad shapes; Sequential, tensors, saving and PyTorch state dicts."""
import numpy as np
import pytest

import bprop
from bprop import _core, nn, optim, tensor
from gradcheck import assert_gradients_close, numeric_gradient, numeric_parameter_gradient

torch = pytest.importorskip("torch")

# float32 agreement with PyTorch (RELIABILITY.md). The reference runs in float64 on the same float32 inputs:
# the exact answer, where torch's own float32 loses digits (dx of two values per channel cancels to ~1e-3 of
# its terms; torch's float32 was off by 2% there, bprop's by 0.04%).
F32 = {"rtol": 1e-4, "atol": 1e-5}


def _t(x):
    return torch.from_numpy(np.asarray(x, np.float64))


def _randomize(layer, rng):
    """Scale and shift away from 1 and 0, so a swapped or dropped γ or β shows."""
    layer.weight.set_value(rng.uniform(0.5, 1.5, layer.num_features).astype(layer.dtype))
    layer.bias.set_value(rng.standard_normal(layer.num_features).astype(layer.dtype))


def _torch_copy(layer, momentum=0.1):
    """The torch layer of the same kind, holding the same weights and buffers, in float64."""
    cls = {"BatchNorm2d": torch.nn.BatchNorm2d, "BatchNorm1d": torch.nn.BatchNorm1d}[layer.name]
    ref = cls(layer.num_features, eps=layer.eps, momentum=momentum).double()
    with torch.no_grad():
        for name, value in [*layer.named_parameters(), *layer.named_buffers()]:
            getattr(ref, name).copy_(_t(value.value()))
    return ref


def _x(rng, shape, dtype=np.float32):
    # Channel means away from zero and spreads away from one: what the statistics must remove.
    channels = shape[1]
    offset = rng.uniform(-3, 3, (1, channels) + (1,) * (len(shape) - 2))
    scale = rng.uniform(0.5, 4, (1, channels) + (1,) * (len(shape) - 2))
    return (rng.standard_normal(shape) * scale + offset).astype(dtype)


# (batch, channels, height, width): batch 1..8, odd sizes, a single row and a single column, 1×1 planes.
SHAPES_2D = [(1, 3, 5, 7), (2, 1, 4, 4), (3, 4, 1, 9), (4, 2, 6, 1), (5, 6, 3, 3), (8, 16, 2, 5), (2, 5, 1, 1),
             (7, 3, 11, 13)]


# -- BatchNorm2d against PyTorch -----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", SHAPES_2D)
def test_batchnorm2d_training_forward_and_gradients_match_torch(shape):
    rng = np.random.default_rng(sum(shape))
    layer = nn.BatchNorm2d(shape[1])
    _randomize(layer, rng)
    ref = _torch_copy(layer)
    x = _x(rng, shape)
    y = layer.forward(x, training=True)
    tx = _t(x).requires_grad_(True)
    expected = ref(tx)
    np.testing.assert_allclose(y, expected.detach().numpy(), **F32)
    dy = rng.standard_normal(shape).astype(np.float32)
    dx = layer.backward(x, y, dy)
    expected.backward(_t(dy))
    np.testing.assert_allclose(dx, tx.grad.numpy(), **F32)
    np.testing.assert_allclose(layer.weight.grad, ref.weight.grad.numpy(), **F32)
    np.testing.assert_allclose(layer.bias.grad, ref.bias.grad.numpy(), **F32)
    np.testing.assert_allclose(layer.running_mean.value(), ref.running_mean.numpy(), **F32)
    np.testing.assert_allclose(layer.running_var.value(), ref.running_var.numpy(), **F32)


@pytest.mark.parametrize("momentum", [0.1, 0.3, 1.0, 0.0])
def test_running_statistics_after_several_steps_and_eval_forward_match_torch(momentum):
    rng = np.random.default_rng(7)
    layer = nn.BatchNorm2d(4, momentum=momentum)
    _randomize(layer, rng)
    ref = _torch_copy(layer, momentum)
    for step in range(6):  # batches of different sizes and statistics
        x = _x(rng, (2 + step, 4, 5, 3))
        layer.forward(x, training=True)
        ref(_t(x))
    np.testing.assert_allclose(layer.running_mean.value(), ref.running_mean.numpy(), **F32)
    np.testing.assert_allclose(layer.running_var.value(), ref.running_var.numpy(), **F32)

    ref.eval()
    x = _x(rng, (3, 4, 6, 2))
    y = layer.forward(x, training=False)
    tx = _t(x).requires_grad_(True)
    expected = ref(tx)
    np.testing.assert_allclose(y, expected.detach().numpy(), **F32)
    np.testing.assert_array_equal(layer.core().forward(x), y)  # predict's cache-free path, the same arithmetic
    # Evaluation backward: the running statistics are constants, so dx = γ·dy/√(var + eps).
    dy = rng.standard_normal(x.shape).astype(np.float32)
    dx = layer.backward(x, y, dy)
    expected.backward(_t(dy))
    np.testing.assert_allclose(dx, tx.grad.numpy(), **F32)
    np.testing.assert_allclose(layer.weight.grad, ref.weight.grad.numpy(), **F32)
    np.testing.assert_allclose(layer.bias.grad, ref.bias.grad.numpy(), **F32)


def test_batchnorm2d_on_tensors_matches_torch_autograd():
    rng = np.random.default_rng(3)
    layer = nn.BatchNorm2d(3)
    _randomize(layer, rng)
    ref = _torch_copy(layer)
    x, w = _x(rng, (4, 3, 5, 5)), rng.standard_normal((4, 3, 5, 5)).astype(np.float32)
    ours = tensor(x, requires_grad=True)
    (layer(ours) * tensor(w)).sum().backward()
    theirs = _t(x).requires_grad_(True)
    (ref(theirs) * _t(w)).sum().backward()
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), **F32)
    np.testing.assert_allclose(layer.weight.grad, ref.weight.grad.numpy(), **F32)
    layer.eval()
    ref.eval()
    np.testing.assert_allclose(layer(tensor(x)).numpy(), ref(_t(x)).detach().numpy(), **F32)


def test_large_channel_means_keep_float32_precision():
    # Sums in double: a channel at 1e4 ± 1 over 64·32·32 values still normalises as float64 does.
    rng = np.random.default_rng(9)
    x = (1e4 + rng.standard_normal((64, 2, 32, 32))).astype(np.float32)
    y = nn.BatchNorm2d(2).forward(x, training=True)
    x64 = x.astype(np.float64)
    mean, var = x64.mean(axis=(0, 2, 3), keepdims=True), x64.var(axis=(0, 2, 3), keepdims=True)
    np.testing.assert_allclose(y, (x64 - mean) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-4)


# -- BatchNorm1d ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 5), (1, 4, 7), (5, 3, 1), (8, 2, 9)])
def test_batchnorm1d_matches_torch_on_two_and_three_dimensional_batches(shape):
    rng = np.random.default_rng(len(shape) + shape[0])
    layer = nn.BatchNorm1d(shape[1], momentum=0.2)
    _randomize(layer, rng)
    ref = _torch_copy(layer, 0.2)
    x = _x(rng, shape)
    y = layer.forward(x, training=True)
    tx = _t(x).requires_grad_(True)
    expected = ref(tx)
    np.testing.assert_allclose(y, expected.detach().numpy(), **F32)
    dy = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(layer.backward(x, y, dy), torch.autograd.grad(expected, tx, _t(dy))[0],
                               **F32)
    np.testing.assert_allclose(layer.running_var.value(), ref.running_var.numpy(), **F32)


def test_batchnorm1d_on_feature_vectors_computes_what_batchnorm_does():
    x = _x(np.random.default_rng(2), (9, 6), np.float64)
    ours, last_axis = nn.BatchNorm1d(6, dtype="float64"), nn.BatchNorm(6, dtype="float64")
    np.testing.assert_allclose(ours.forward(x, training=True), last_axis.forward(x, training=True), rtol=1e-12)
    np.testing.assert_allclose(ours.running_var.value(), last_axis.buffers()[1].value(), rtol=1e-12)


# -- float64 central differences -----------------------------------------------------------------------------
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("cls, shape", [(nn.BatchNorm2d, (3, 2, 3, 4)), (nn.BatchNorm2d, (1, 3, 2, 2)),
                                        (nn.BatchNorm1d, (4, 3, 5)), (nn.BatchNorm1d, (5, 2))])
def test_gradients_match_central_differences(cls, shape, training):
    rng = np.random.default_rng(11)
    layer = cls(shape[1], dtype="float64")
    _randomize(layer, rng)
    layer.running_mean.set_value(rng.standard_normal(shape[1]))
    layer.running_var.set_value(rng.uniform(0.5, 2, shape[1]))
    x, r = _x(rng, shape, np.float64), rng.standard_normal(shape)

    def loss():  # a training forward moves the running statistics, but not its own output
        return float(np.sum(r * layer.forward(x, training=training)))

    y = layer.forward(x, training=training)
    dx = layer.backward(x, y, r)
    grads = {p.name: p.grad.copy() for p in layer.parameters()}
    assert_gradients_close(dx, numeric_gradient(loss, x), "dx")
    for p in layer.parameters():
        assert_gradients_close(grads[p.name], numeric_parameter_gradient(p, loss), p.name)


def test_backward_adds_parameter_gradients_on_request():
    rng = np.random.default_rng(4)
    layer = nn.BatchNorm2d(3, dtype="float64")
    x, dy = _x(rng, (2, 3, 4, 4), np.float64), rng.standard_normal((2, 3, 4, 4))
    y = layer.forward(x, training=True)
    layer.backward(x, y, dy)
    once = [p.grad.copy() for p in layer.parameters()]
    layer.backward(x, y, dy, accumulate=True)
    for p, g in zip(layer.parameters(), once):
        np.testing.assert_allclose(p.grad, 2 * g, rtol=1e-12)


def test_a_single_value_per_channel_normalises_to_zero_and_keeps_running_var():
    # PyTorch raises ("Expected more than 1 value per channel when training"); bprop follows its BatchNorm:
    # no variance exists, so the output is β, running_var stays, running_mean moves, and dx is 0.
    layer = nn.BatchNorm2d(2, momentum=0.5, dtype="float64")
    layer.bias.set_value(np.array([0.25, -1.0]))
    x = np.array([[[[3.0]], [[-2.0]]]])
    y = layer.forward(x, training=True)
    np.testing.assert_array_equal(y.reshape(-1), [0.25, -1.0])
    np.testing.assert_array_equal(layer.running_var.value(), [1.0, 1.0])
    np.testing.assert_array_equal(layer.running_mean.value(), [1.5, -1.0])
    np.testing.assert_array_equal(layer.backward(x, y, np.ones_like(x)), np.zeros_like(x))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        torch.nn.BatchNorm2d(2).double()(torch.from_numpy(x))


def test_eval_affine_is_the_evaluation_map():
    rng = np.random.default_rng(6)
    layer = nn.BatchNorm2d(5, eps=1e-3, dtype="float64")
    _randomize(layer, rng)
    layer.running_mean.set_value(rng.standard_normal(5))
    layer.running_var.set_value(rng.uniform(0.1, 3, 5))
    scale, shift = layer.core().eval_affine()
    expected_scale = layer.weight.value() / np.sqrt(layer.running_var.value() + 1e-3)
    np.testing.assert_allclose(scale, expected_scale, rtol=1e-14)
    np.testing.assert_allclose(shift, layer.bias.value() - layer.running_mean.value() * expected_scale, rtol=1e-14)
    x = rng.standard_normal((3, 5, 2, 4))
    np.testing.assert_array_equal(layer.forward(x), x * scale[:, None, None] + shift[:, None, None])


def test_replay_reuses_the_batch_statistics_without_a_second_update():
    rng = np.random.default_rng(8)
    layer = nn.BatchNorm2d(3, dtype="float64")
    core = layer.core()
    core.build([3, 3, 3])
    x = _x(rng, (4, 3, 3, 3), np.float64)
    trained = core.forward(x, _core.Mode.train)
    statistics = [b.value() for b in layer.buffers()]
    np.testing.assert_array_equal(core.forward(x, _core.Mode.replay), trained)
    for buffer, before in zip(layer.buffers(), statistics):
        np.testing.assert_array_equal(buffer.value(), before)


# -- threads -------------------------------------------------------------------------------------------------
def _one_pass(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    layer = nn.BatchNorm2d(shape[1], dtype=dtype)
    _randomize(layer, rng)
    x, dy = _x(rng, shape, dtype), rng.standard_normal(shape).astype(dtype)
    out = [layer.forward(x, training=True)]
    out.append(layer.backward(x, out[0], dy))
    out += [p.grad.copy() for p in layer.parameters()] + [b.value() for b in layer.buffers()]
    out.append(layer.forward(x, training=False))
    out.append(layer.backward(x, out[-1], dy))
    return out


# Large enough to split across threads (32768 values and more); one channel, or fewer planes than tasks.
@pytest.mark.parametrize("shape", [(16, 8, 24, 24), (3, 1, 128, 128), (64, 5, 7, 7), (2, 3, 100, 90)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bit_identical_at_one_and_two_threads(threads, shape, dtype):
    threads(1)
    reference = _one_pass(shape, dtype, 1)
    threads(2)
    for _ in range(3):  # the pool's team depends on which workers are awake: several tries
        for got, expected in zip(_one_pass(shape, dtype, 1), reference):
            assert got.tobytes() == expected.tobytes()


def _fitted(count, x, y):
    bprop.set_num_threads(count)
    model = bprop.Sequential([nn.BatchNorm2d(4), nn.Dropout2d(0.2), nn.Flatten(), nn.Linear(4 * 16 * 16, 3, seed=1)])
    model.compile(optim.Adam(lr=1e-3), nn.CrossEntropy())
    model.fit(x, y, epochs=2, batch_size=64, seed=0, verbose=0)
    return model.get_weights() + [b.value() for b in model.buffers()], model.predict(x[:50])


def test_a_fit_is_bit_identical_at_one_and_two_threads(threads):
    rng = np.random.default_rng(12)
    x, y = _x(rng, (256, 4, 16, 16)), rng.integers(0, 3, 256)
    threads(1)
    reference = _fitted(1, x, y)
    threads(2)
    weights, outputs = _fitted(2, x, y)
    for got, expected in zip(weights + [outputs], reference[0] + [reference[1]]):
        assert got.tobytes() == expected.tobytes()


# -- Dropout2d -----------------------------------------------------------------------------------------------
def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    x = np.random.default_rng(0).uniform(1, 2, (40, 16, 3, 5)).astype(np.float32)
    y = nn.Dropout2d(0.25, seed=3).forward(x, training=True)
    kept = (y[:, :, 0, 0] / x[:, :, 0, 0]).round(5)  # each plane's factor, read off its first value
    assert set(np.unique(kept)) == {0.0, np.float32(1 / 0.75).round(5)}
    factor = np.where(kept > 0, np.float32(1 / 0.75), np.float32(0))[:, :, None, None]
    np.testing.assert_array_equal(y, x * factor)  # one factor for every value of a plane
    assert 0.15 < (kept == 0).mean() < 0.35  # 640 planes at p = 0.25
    assert np.all(kept.std(axis=0) > 0)  # samples are masked independently, not one mask for the batch


def test_dropout2d_is_the_identity_in_evaluation_and_at_p_zero():
    x = np.random.default_rng(1).standard_normal((3, 4, 5))
    np.testing.assert_array_equal(nn.Dropout2d(0.5).forward(x, training=False), x)
    np.testing.assert_array_equal(nn.Dropout2d(0.0).forward(x, training=True), x)
    np.testing.assert_array_equal(nn.Dropout2d(1.0).forward(x, training=True), np.zeros_like(x))


def test_dropout2d_masks_are_keyed_by_seed_and_step():
    x = np.ones((4, 8, 2, 2))
    a, b = nn.Dropout2d(0.5, seed=11), nn.Dropout2d(0.5, seed=11)
    first = a.forward(x, training=True)
    np.testing.assert_array_equal(b.forward(x, training=True), first)  # same seed, same step: same mask
    assert not np.array_equal(a.forward(x, training=True), first)  # the next step draws anew
    assert not np.array_equal(nn.Dropout2d(0.5, seed=12).forward(x, training=True), first)
    a.core("float64").reseed(11)
    np.testing.assert_array_equal(a.forward(x, training=True), first)  # reseeding restarts the steps
    core = a.core("float64")
    np.testing.assert_array_equal(core.forward(x, _core.Mode.replay), first)  # replay: the last mask again


def test_dropout2d_backward_routes_through_the_mask():
    rng = np.random.default_rng(5)
    layer = nn.Dropout2d(0.4, seed=2)
    x, dy = rng.standard_normal((5, 6, 3, 3)), rng.standard_normal((5, 6, 3, 3))
    y = layer.forward(x, training=True)
    mask = y / x
    np.testing.assert_allclose(layer.backward(x, y, dy), dy * mask, rtol=1e-15)
    layer.forward(x, training=False)
    np.testing.assert_array_equal(layer.backward(x, x, dy), dy)


def test_a_sequential_gives_each_dropout2d_its_own_seed():
    model = bprop.Sequential([nn.Dropout2d(0.5, seed=1), nn.Dropout2d(0.5, seed=1)]).build((16, 2))
    model.reseed(7)
    x = np.ones((8, 16, 2), np.float32)
    first, second = (layer.core(np.float32).forward(x, True) for layer in model.layers)
    assert not np.array_equal(first, second)


# -- bad input -----------------------------------------------------------------------------------------------
def test_wrong_sample_shapes_are_named():
    with pytest.raises(ValueError, match=r"^\[BatchNorm2d\] expects samples of shape \(C, H, W\) with C = 16; got "
                                         r"\(3, 32, 32\)$"):
        nn.BatchNorm2d(16).forward(np.zeros((2, 3, 32, 32), np.float32))
    with pytest.raises(ValueError, match=r"\[BatchNorm2d\] expects samples of shape \(C, H, W\) with C = 3; got \(3, 4\)"):
        nn.BatchNorm2d(3).forward(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match=r"\[BatchNorm2d\] .* got \(3, 4, 4, 4\)"):
        nn.BatchNorm2d(3)(tensor(np.zeros((2, 3, 4, 4, 4), np.float32)))
    with pytest.raises(ValueError, match=r"\[BatchNorm1d\] expects samples of shape \(C,\) or \(C, L\) with C = 3; "
                                         r"got \(3, 2, 2\)"):
        nn.BatchNorm1d(3).forward(np.zeros((2, 3, 2, 2), np.float32))
    with pytest.raises(ValueError, match=r"\[Dropout2d\] expects samples of shape \(C, \*spatial\), rank 2 or more.*"
                                         r"got \(5,\)"):
        nn.Dropout2d(0.5).forward(np.zeros((2, 5), np.float32), training=True)
    with pytest.raises(ValueError, match=r"\[Sequential\] .*BatchNorm2d\] expects samples of shape \(C, H, W\) with "
                                         r"C = 2; got \(3, 4, 4\)|\[BatchNorm2d\] expects samples"):
        bprop.Sequential([nn.BatchNorm2d(2), nn.Flatten()]).build((3, 4, 4))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"\[BatchNorm2d\] num_features must be >= 1; got 0"):
        nn.BatchNorm2d(0)
    with pytest.raises(ValueError, match=r"\[BatchNorm2d\] eps must be > 0; got -1"):
        nn.BatchNorm2d(3, eps=-1.0)
    with pytest.raises(ValueError, match=r"\[BatchNorm1d\] momentum must be in \[0, 1\]; got 1.5"):
        nn.BatchNorm1d(3, momentum=1.5)
    with pytest.raises(TypeError, match=r"\[BatchNorm2d\] num_features must be an integer; got float"):
        nn.BatchNorm2d(3.0)
    with pytest.raises(TypeError, match=r"\[BatchNorm2d\] dtype must be float32 or float64"):
        nn.BatchNorm2d(3, dtype="int32")
    with pytest.raises(ValueError, match=r"\[BatchNorm2d\] .*sizes"):
        nn.BatchNorm2d(2**61)
    with pytest.raises(ValueError, match=r"\[Dropout2d\] p must be in \[0, 1\]; got -0.1"):
        nn.Dropout2d(-0.1)
    with pytest.raises(TypeError, match=r"\[BatchNorm2d\] computes in float32; got a float64 tensor"):
        nn.BatchNorm2d(2)(tensor(np.zeros((2, 2, 3, 3))))


# -- in models: training, summary, saving, PyTorch's state dict --------------------------------------------------
def _convnet():
    return bprop.Sequential([nn.Reshape((2, 4, 4)), nn.BatchNorm2d(2), nn.Dropout2d(0.3), nn.Flatten(),
                             nn.Linear(32, 3, seed=0)])


def test_a_sequential_trains_summarises_saves_and_loads(tmp_path):
    rng = np.random.default_rng(10)
    x, y = (rng.standard_normal((96, 32)) * 3 + 1).astype(np.float32), rng.integers(0, 3, 96)
    model = _convnet()
    model.compile(optim.Adam(lr=1e-2), nn.CrossEntropy(), metrics=["accuracy"])
    history = model.fit(x, y, epochs=8, batch_size=16, seed=0, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.allclose(model.layers[1].running_mean.value(), 0)  # the statistics moved
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "BatchNorm2d" in text and "(None, 2, 4, 4)" in text and "Dropout2d" in text, text
    assert [name for name, _ in model.named_buffers()] == ["1.running_mean", "1.running_var"]

    model.save(tmp_path / "m.safetensors")
    loaded = bprop.load(tmp_path / "m.safetensors")
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in model.layers]
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.layers[1].get_config() == model.layers[1].get_config()
    assert loaded.layers[2].get_config() == model.layers[2].get_config()


def test_a_sequential_starting_with_a_channel_first_layer_takes_its_shape_from_the_data():
    # A Linear after them implies (in_features,), which is no sample of theirs: the model waits for data.
    model = bprop.Sequential([nn.Dropout2d(0.2), nn.BatchNorm1d(3), nn.Linear(8, 2)])
    assert model.input_shape is None
    assert model.predict(np.ones((5, 3, 8), np.float32)).shape == (5, 3, 2)
    assert bprop.Sequential([nn.BatchNorm2d(2), nn.Linear(4, 3)]).build((2, 3, 4)).output_shape == (None, 2, 3, 3)


def test_config_round_trip_and_tensor_shapes():
    layer = nn.BatchNorm2d(7, eps=1e-3, momentum=0.2, dtype="float64")
    config = layer.get_config()
    assert config == {"num_features": 7, "eps": 1e-3, "momentum": 0.2, "dtype": "float64"}
    assert repr(nn.BatchNorm2d.from_config(config)) == repr(layer)
    assert nn.BatchNorm2d.tensor_shapes(config) == {name: (7,) for name in ("weight", "bias", "running_mean",
                                                                           "running_var")}
    assert nn.Dropout2d.from_config(nn.Dropout2d(0.2, seed=5).get_config()).get_config() == {"p": 0.2, "seed": 5}


def test_a_file_whose_batchnorm2d_tensors_do_not_fit_its_config_is_refused(tmp_path):
    model = bprop.Sequential([nn.BatchNorm2d(3), nn.Flatten()]).build((3, 2, 2))
    model.save(tmp_path / "m.safetensors")
    other = bprop.Sequential([nn.BatchNorm2d(4), nn.Flatten()]).build((4, 2, 2))
    with pytest.raises(bprop.CheckpointError):
        other.load_weights(tmp_path / "m.safetensors")


def test_a_pytorch_state_dict_copies_across():
    rng = np.random.default_rng(13)
    theirs = torch.nn.Sequential(torch.nn.BatchNorm2d(3), torch.nn.Flatten(), torch.nn.Linear(3 * 4 * 4, 2))
    theirs.train()
    for _ in range(3):  # running statistics away from their starting values
        theirs(torch.from_numpy(_x(rng, (8, 3, 4, 4))))
    with torch.no_grad():
        theirs[0].weight.uniform_(0.5, 1.5)
        theirs[0].bias.normal_()
    theirs.eval()
    ours = bprop.Sequential([nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(48, 2)]).build((3, 4, 4))
    state = {k: v.numpy() for k, v in theirs.state_dict().items() if not k.endswith("num_batches_tracked")}
    state["2.weight"] = state["2.weight"].T.copy()  # bprop's Linear keeps (in, out), Keras's layout
    ours.load_state_dict(state)
    x = _x(rng, (5, 3, 4, 4))
    np.testing.assert_allclose(ours.predict(x), theirs(torch.from_numpy(x)).detach().numpy(), **F32)  # both float32
