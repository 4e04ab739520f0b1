"""Residual with a projection shortcut, y = f(x) + g(x): forward against NumPy float64 references (dense and
convolutional, the shortcut changing the shape), float64 central differences for x and every parameter of
both branches, accumulate, replay and reseed, training with fit, saving, shape errors, PyTorch agreement;
and the identity Residual (no shortcut) as it was."""
import numpy as np
import pytest

import bprop
from bprop import _core, nn, optim
from gradcheck import assert_gradients_close, numeric_gradient, numeric_parameter_gradient


# -- references ----------------------------------------------------------------------------------------------
def value(layer, name):
    return dict(layer.named_parameters())[name].value()


def conv2d(x, weight, bias, stride=1, padding=0):
    """NCHW convolution in float64 (groups 1): windows of the padded input against the kernel."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    kh, kw = weight.shape[2:]
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("nchwij,ocij->nohw", windows, weight) + bias[None, :, None, None]


def batch_norm(x, layer):
    """Training-mode BatchNorm over every axis but the last (bprop's BatchNorm acts on the last axis)."""
    axes = tuple(range(x.ndim - 1))
    normal = (x - x.mean(axis=axes)) / np.sqrt(x.var(axis=axes) + layer.eps)
    return normal * value(layer, "weight") + value(layer, "bias")


def dense_block(dtype="float64", seed=0):
    """f = Linear(4, 6) → Tanh → Linear(6, 6); g = Linear(4, 6) → BatchNorm(6): both change the width."""
    return nn.Residual([nn.Linear(4, 6, dtype=dtype, seed=seed), nn.Tanh(), nn.Linear(6, 6, dtype=dtype, seed=seed + 1)],
                       shortcut=[nn.Linear(4, 6, dtype=dtype, seed=seed + 2), nn.BatchNorm(6, dtype=dtype)])


def dense_reference(block, x):
    f1, _, f2 = block.layers
    g1, g2 = block.shortcut
    f = np.tanh(x @ value(f1, "weight") + value(f1, "bias")) @ value(f2, "weight") + value(f2, "bias")
    g = batch_norm(x @ value(g1, "weight") + value(g1, "bias"), g2)
    return f + g


def conv_block(dtype="float64", seed=0):
    """A downsampling ResNet block on (2, 7, 7) samples: f = 3×3 stride-2 conv → ReLU → 3×3 conv, g = 1×1
    stride-2 conv; both give (3, 4, 4)."""
    return nn.Residual([nn.Conv2d(2, 3, 3, stride=2, padding=1, dtype=dtype, seed=seed), nn.ReLU(),
                        nn.Conv2d(3, 3, 3, padding=1, dtype=dtype, seed=seed + 1)],
                       shortcut=[nn.Conv2d(2, 3, 1, stride=2, dtype=dtype, seed=seed + 2)])


def conv_reference(block, x):
    c1, _, c2 = block.layers
    (s,) = block.shortcut
    h = np.maximum(conv2d(x, c1.weight.value(), c1.bias.value(), stride=2, padding=1), 0)
    return (conv2d(h, c2.weight.value(), c2.bias.value(), padding=1)
            + conv2d(x, s.weight.value(), s.bias.value(), stride=2))


def randomize(block, rng):
    """Every parameter in general position (biases and BatchNorm's γ, β start at 0 and 1)."""
    for p in block.parameters():
        p.set_value((rng.standard_normal(p.shape) * 0.5).astype(p.dtype))


CASES = {"dense": (dense_block, dense_reference, (4,)), "dense-2d-samples": (dense_block, dense_reference, (3, 4)),
         "conv": (conv_block, conv_reference, (2, 7, 7))}


# -- forward and gradients -----------------------------------------------------------------------------------
@pytest.mark.parametrize("rows", (2, 3, 17))
@pytest.mark.parametrize("case", CASES)
def test_forward_matches_numpy(case, rows):
    make, reference, sample = CASES[case]
    rng = np.random.default_rng(rows)
    block = make()
    randomize(block, rng)
    x = rng.standard_normal((rows, *sample))
    np.testing.assert_allclose(block.forward(x, training=True), reference(block, x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_gradients_of_x_and_every_parameter_of_both_branches_match_central_differences(case):
    make, _, sample = CASES[case]
    rng = np.random.default_rng(11)
    block = make()
    randomize(block, rng)
    x = rng.standard_normal((3, *sample))
    y = block.forward(x, training=True)
    r = rng.standard_normal(y.shape)

    def loss():
        return float(np.sum(r * block.forward(x, training=True)))

    dx = block.backward(x, y, r)
    assert_gradients_close(dx, numeric_gradient(loss, x), "x")
    names = [name for name, _ in block.named_parameters()]
    assert any(name.startswith("shortcut.") for name in names)
    analytic = {name: p.grad.copy() for name, p in block.named_parameters()}
    for name, p in block.named_parameters():
        assert np.any(analytic[name] != 0), name
        assert_gradients_close(analytic[name], numeric_parameter_gradient(p, loss), name)


def test_backward_overwrites_or_accumulates_the_gradients_of_both_branches():
    rng = np.random.default_rng(12)
    block = dense_block()
    randomize(block, rng)
    x = rng.standard_normal((5, 4))
    y = block.forward(x, training=True)
    dy = rng.standard_normal(y.shape)
    block.backward(x, y, dy)
    once = [p.grad.copy() for p in block.parameters()]
    block.backward(x, y, dy, accumulate=True)
    for p, g in zip(block.parameters(), once):
        # (the shortcut's Linear bias, before a BatchNorm, has gradients ~1e-17: summed in another order)
        np.testing.assert_allclose(p.grad, 2 * g, rtol=1e-12, atol=1e-15, err_msg=p.name)
    block.backward(x, y, dy)  # accumulate=False: overwritten, not added to
    for p, g in zip(block.parameters(), once):
        np.testing.assert_array_equal(p.grad, g)


def test_as_a_first_layer_the_shortcut_still_gets_its_gradients():
    """A network's first layer is asked for no dx: the shortcut's parameters must still get theirs."""
    rng = np.random.default_rng(13)
    block = dense_block()
    randomize(block, rng)
    model = bprop.Sequential([block])
    x = rng.standard_normal((6, 4))
    r = rng.standard_normal((6, 6))
    model.forward(x, training=True)
    model.backward(r)
    from_model = [p.grad.copy() for p in model.parameters()]
    block.backward(x, block.forward(x, training=True), r)  # the same layer, asked for dx
    for p, g in zip(block.parameters(), from_model):
        np.testing.assert_allclose(g, p.grad, rtol=1e-13, atol=1e-14, err_msg=p.name)


def test_predict_and_tensor_calls_agree_with_forward_and_backward():
    rng = np.random.default_rng(14)
    block = conv_block()
    randomize(block, rng)
    model = bprop.Sequential([block, nn.Flatten(), nn.Linear(48, 2, dtype="float64", seed=5)])
    x = rng.standard_normal((4, 2, 7, 7))
    np.testing.assert_array_equal(model.predict(x), model.forward(x))  # infer and forward(eval) round alike
    model.forward(x)
    model.backward(np.ones((4, 2)))
    grads = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    model.eval()
    model(bprop.tensor(x)).sum().backward()
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_allclose(p.grad, g, rtol=1e-13, atol=1e-14, err_msg=p.name)


def test_replay_and_reseed_cover_the_shortcut():
    block = nn.Residual([nn.Dropout(0.5)], shortcut=[nn.Dropout(0.5)])
    core = block.core("float64")
    core.build([64])
    x = np.ones((3, 64))
    core.reseed(4)
    first = core.forward(x, _core.Mode.train)
    assert core.forward(x, _core.Mode.replay).tobytes() == first.tobytes()
    assert set(np.unique(first)) <= {0.0, 2.0, 4.0}
    assert np.any(first == 2.0)  # the branches draw apart: one kept a value the other dropped
    core.reseed(4)
    assert core.forward(x, _core.Mode.train).tobytes() == first.tobytes()


# -- in a model: fit, save and load -----------------------------------------------------------------------------
def test_dense_projection_trains_with_fit():
    rng = np.random.default_rng(15)
    model = bprop.Sequential([dense_block("float32"), nn.ReLU(), nn.Linear(6, 2, seed=3)])
    assert model.input_shape == (None, 4)  # implied by the block's first Linear
    x = rng.standard_normal((128, 4)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    model.compile(optim.Adam(lr=0.02), nn.CrossEntropy(), metrics=["accuracy"])
    losses = model.fit(x, y, epochs=8, batch_size=16, seed=1, verbose=0).history["loss"]
    assert losses[-1] < 0.8 * losses[0]


def test_downsampling_conv_block_trains_with_fit():
    rng = np.random.default_rng(16)
    model = bprop.Sequential([conv_block("float32"), nn.ReLU(), nn.Flatten(), nn.Linear(48, 2, seed=3)])
    x = rng.standard_normal((96, 2, 7, 7)).astype(np.float32)
    y = (x[:, 0].mean(axis=(1, 2)) > x[:, 1].mean(axis=(1, 2))).astype(np.int64)
    model.compile(optim.Adam(lr=0.01), nn.CrossEntropy())
    losses = model.fit(x, y, epochs=6, batch_size=16, seed=2, verbose=0).history["loss"]
    assert model.output_shape == (None, 2)
    assert losses[-1] < 0.8 * losses[0]
    shortcut = model.layers[0].shortcut[0].weight
    assert shortcut.grad is not None and np.any(shortcut.grad != 0)


def test_save_and_load_round_trip_with_the_shortcut(tmp_path):
    rng = np.random.default_rng(17)
    model = bprop.Sequential([conv_block("float32"), nn.Flatten(), nn.Linear(48, 3, seed=4)])
    x = rng.standard_normal((5, 2, 7, 7)).astype(np.float32)
    model.compile(optim.SGD(lr=0.1), nn.MSE())
    model.fit(x, rng.standard_normal((5, 3)).astype(np.float32), epochs=1, verbose=0)  # weights off their init
    model.save(tmp_path / "resnet.bprop")
    loaded = bprop.load(tmp_path / "resnet.bprop")
    names = [name for name, _ in loaded.named_parameters()]
    assert names == [name for name, _ in model.named_parameters()]
    assert names[:6] == ["0.0.weight", "0.0.bias", "0.2.weight", "0.2.bias", "0.shortcut.0.weight",
                         "0.shortcut.0.bias"]
    assert loaded.get_config() == model.get_config()
    assert [entry["class"] for entry in loaded.get_config()["layers"][0]["config"]["shortcut"]] == ["Conv2d"]
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    plain = bprop.Sequential([nn.Residual([nn.Conv2d(2, 3, 1, stride=2)]), nn.Flatten(), nn.Linear(48, 3)])
    with pytest.raises(bprop.CheckpointError, match=r"unexpected .*0\.shortcut\.0\.weight"):
        plain.load_weights(tmp_path / "resnet.bprop")


def test_summary_shows_the_block_with_the_parameters_of_both_branches():
    model = bprop.Sequential([conv_block("float32"), nn.Flatten(), nn.Linear(48, 2)]).build((2, 7, 7))
    texts = []
    model.summary(print_fn=texts.append)
    rows = [row.split() for row in texts[0].splitlines()[4:-2]]
    block_params = (3 * 2 * 9 + 3) + (3 * 3 * 9 + 3) + (3 * 2 + 3)
    assert rows[0] == ["Residual", "(None,", "3,", "4,", "4)", str(block_params)]
    assert texts[0].splitlines()[-1] == f"Total params: {block_params + 48 * 2 + 2:,}"


def test_config_and_tensor_shapes():
    block = dense_block("float32")
    config = block.get_config()
    assert list(config) == ["layers", "shortcut"]
    assert nn.Residual.tensor_shapes(config) == {
        "0.weight": (4, 6), "0.bias": (6,), "2.weight": (6, 6), "2.bias": (6,), "shortcut.0.weight": (4, 6),
        "shortcut.0.bias": (6,), "shortcut.1.weight": (6,), "shortcut.1.bias": (6,),
        "shortcut.1.running_mean": (6,), "shortcut.1.running_var": (6,)}
    assert [name for name, _ in block.named_buffers()] == ["shortcut.1.running_mean", "shortcut.1.running_var"]
    again = nn.Residual.from_config(config)
    assert again.get_config() == config and repr(again) == repr(block)
    assert "shortcut=[Linear(" in repr(block)
    with pytest.raises(ValueError, match=r"\[Residual.from_config\] the config's 'shortcut' must be a list"):
        nn.Residual.from_config({**config, "shortcut": {"class": "Linear"}})
    with pytest.raises(ValueError, match=r"unknown keys \['shortcuts'\]"):
        nn.Residual.from_config({"layers": config["layers"], "shortcuts": config["shortcut"]})
    with pytest.raises(ValueError, match=r"\[Residual\] shortcut: needs at least one layer"):
        nn.Residual.from_config({**config, "shortcut": []})


# -- errors ----------------------------------------------------------------------------------------------------
def test_a_shortcut_that_does_not_match_the_block_names_both_shapes():
    mismatch = nn.Residual([nn.Conv2d(2, 3, 3, stride=2, padding=1)], shortcut=[nn.Conv2d(2, 3, 1)])
    with pytest.raises(ValueError, match=r"\[Residual\] the shortcut's output does not fit the block's.*expected "
                                         r"\(3, 4, 4\) .*samples of shape \(2, 7, 7\).*got \(3, 7, 7\)"):
        bprop.Sequential([mismatch]).build((2, 7, 7))
    with pytest.raises(ValueError, match=r"expected \(6,\).*got \(5,\)"):
        bprop.Sequential([nn.Residual([nn.Linear(4, 6)], shortcut=[nn.Linear(4, 5)])])
    with pytest.raises(ValueError, match=r"\[Residual\] shortcut: \[Sequential\] layer 0 \(Linear\).*expects 3 input"):
        bprop.Sequential([nn.Residual([nn.Linear(4, 6)], shortcut=[nn.Linear(3, 6)])])


def test_bad_shortcut_arguments():
    with pytest.raises(TypeError, match=r"\[Residual\] shortcut: expects a list of layers; got Linear"):
        nn.Residual([nn.Linear(4, 4)], shortcut=nn.Linear(4, 4))
    with pytest.raises(TypeError, match=r"\[Residual\] shortcut: item 1 is a str, not a bprop layer"):
        nn.Residual([nn.Linear(4, 4)], shortcut=[nn.Linear(4, 4), "relu"])
    with pytest.raises(TypeError, match=r"\[Residual\] layers mix dtypes"):
        nn.Residual([nn.Linear(4, 4)], shortcut=[nn.Linear(4, 4, dtype="float64")])
    with pytest.raises(ValueError, match=r"\[Residual\] its first layer takes integer indices"):
        bprop.Sequential([nn.Residual([nn.Embedding(10, 3)], shortcut=[nn.Embedding(10, 3)])]).build(5)


# -- PyTorch -----------------------------------------------------------------------------------------------------
def test_agrees_with_pytorch_on_a_downsampling_conv_block():
    """conv → ReLU → conv with a 1×1 strided conv shortcut, weights copied. (PyTorch's block has BatchNorm2d
    after each conv; bprop's BatchNorm acts on the last axis, so the BatchNorm of this check is the dense one.)"""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(18)
    ours = conv_block("float32")
    randomize(ours, rng)
    c1, _, c2 = ours.layers

    def torch_conv(layer, stride, padding):
        conv = torch.nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, stride, padding)
        with torch.no_grad():
            conv.weight.copy_(torch.tensor(layer.weight.value()))
            conv.bias.copy_(torch.tensor(layer.bias.value()))
        return conv

    body = torch.nn.Sequential(torch_conv(c1, 2, 1), torch.nn.ReLU(), torch_conv(c2, 1, 1))
    shortcut = torch_conv(ours.shortcut[0], 2, 0)
    x = rng.standard_normal((3, 2, 7, 7)).astype(np.float32)
    dy = rng.standard_normal((3, 3, 4, 4)).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    yt = body(xt) + shortcut(xt)
    yt.backward(torch.tensor(dy))
    y = ours.forward(x, training=True)
    dx = ours.backward(x, y, dy)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    theirs = [p.grad.numpy() for p in [*body[0].parameters(), *body[2].parameters(), *shortcut.parameters()]]
    for (name, p), g in zip(ours.named_parameters(), theirs):
        np.testing.assert_allclose(p.grad, g, rtol=1e-4, atol=1e-5, err_msg=name)


def test_agrees_with_pytorch_on_a_dense_block_with_batchnorm_in_both_branches():
    """Linear → BatchNorm1d → ReLU → Linear with a Linear → BatchNorm1d shortcut, in training mode."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(19)
    ours = nn.Residual([nn.Linear(4, 6, seed=1), nn.BatchNorm(6), nn.ReLU(), nn.Linear(6, 5, seed=2)],
                       shortcut=[nn.Linear(4, 5, seed=3), nn.BatchNorm(5)])
    randomize(ours, rng)

    def copy(module, layer):
        with torch.no_grad():
            for theirs, (name, p) in zip(module.parameters(), layer.named_parameters()):
                v = p.value()
                theirs.copy_(torch.tensor(v.T if isinstance(layer, nn.Linear) and name == "weight" else v))
        return module

    body = torch.nn.Sequential(copy(torch.nn.Linear(4, 6), ours.layers[0]), copy(torch.nn.BatchNorm1d(6), ours.layers[1]),
                               torch.nn.ReLU(), copy(torch.nn.Linear(6, 5), ours.layers[3]))
    shortcut = torch.nn.Sequential(copy(torch.nn.Linear(4, 5), ours.shortcut[0]),
                                   copy(torch.nn.BatchNorm1d(5), ours.shortcut[1]))
    x = rng.standard_normal((16, 4)).astype(np.float32)
    dy = rng.standard_normal((16, 5)).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    yt = body(xt) + shortcut(xt)
    yt.backward(torch.tensor(dy))
    y = ours.forward(x, training=True)
    dx = ours.backward(x, y, dy)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-4, atol=1e-4)
    modules = [body[0], body[1], body[3], shortcut[0], shortcut[1]]
    layers = [ours.layers[0], ours.layers[1], ours.layers[3], *ours.shortcut]
    for module, layer in zip(modules, layers):
        for theirs, (name, p) in zip(module.parameters(), layer.named_parameters()):
            g = theirs.grad.numpy()
            g = g.T if isinstance(layer, nn.Linear) and name == "weight" else g
            np.testing.assert_allclose(p.grad, g, rtol=1e-4, atol=1e-4, err_msg=f"{layer.name}.{name}")


# -- the identity Residual, as before shortcuts --------------------------------------------------------------
def test_the_identity_residual_is_unchanged():
    rng = np.random.default_rng(20)
    layers = [nn.Linear(5, 5, dtype="float64", seed=1), nn.Tanh(), nn.LayerNorm(5, dtype="float64")]
    block = nn.Residual(layers)
    assert block.shortcut is None and block.keeps_shape
    assert block.get_config() == {"layers": [nn.layers.base.serialize(layer) for layer in layers]}
    assert [name for name, _ in block.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert nn.Residual.tensor_shapes(block.get_config()) == {"0.weight": (5, 5), "0.bias": (5,), "2.weight": (5,),
                                                             "2.bias": (5,)}
    assert repr(block) == f"Residual({layers!r})"
    x = rng.standard_normal((7, 5))
    body = bprop.Sequential(layers)  # the same layers, the same fused steps
    y = block.forward(x, training=True)
    assert y.tobytes() == (x + body.forward(x, training=True)).tobytes()
    r = rng.standard_normal(y.shape)
    body.forward(x, training=True)
    body.backward(r)
    grads = [p.grad.copy() for p in body.parameters()]
    block.forward(x, training=True)
    dx = block.backward(x, y, r)
    for p, g in zip(block.parameters(), grads):
        assert p.grad.tobytes() == g.tobytes()
    assert_gradients_close(dx, numeric_gradient(lambda: float(np.sum(r * block.forward(x))), x), "x")
