"""Inference folds an evaluation-mode BatchNorm into the convolution before it (and the activation after it
into the convolution's epilogue): which runs fold, and that predictions still match PyTorch's evaluation
forward (float64 reference) after the weights and running statistics have moved."""
import numpy as np
import pytest

import bprop
from bprop import nn, optim

torch = pytest.importorskip("torch")
F = torch.nn.functional

F32 = {"rtol": 1e-4, "atol": 1e-5}
F64 = {"rtol": 1e-10, "atol": 1e-12}


def _t(value):
    return torch.from_numpy(np.asarray(value, np.float64))


def _reference(layers, x):
    """The layers' evaluation forward in torch float64, from their current values."""
    for layer in layers:
        x = _reference_layer(layer, x)
    return x


def _reference_layer(layer, x):
    p = {name: _t(v.value()) for name, v in [*layer.named_parameters(), *layer.named_buffers()]}
    kind = layer.name
    if kind in ("Conv1d", "Conv2d"):
        conv = F.conv1d if kind == "Conv1d" else F.conv2d
        return conv(x, p["weight"], p.get("bias"), layer.stride, layer.padding, layer.dilation, layer.groups)
    if kind in ("BatchNorm1d", "BatchNorm2d"):
        return F.batch_norm(x, p["running_mean"], p["running_var"], p["weight"], p["bias"], False, 0.0, layer.eps)
    if kind == "Residual":
        shortcut = _reference(layer.shortcut, x) if layer.shortcut else x
        return _reference(layer.layers, x) + shortcut
    simple = {"ReLU": F.relu, "Sigmoid": torch.sigmoid, "Tanh": torch.tanh, "Flatten": lambda v: v.flatten(1),
              "AdaptiveAvgPool2d": lambda v: v.mean(dim=(2, 3))}
    if kind == "Linear":
        return x @ p["weight"] + p["bias"]  # bprop's Linear keeps (in, out)
    return simple[kind](x)


def _move_statistics(model, x, rng, steps=3):
    """Running statistics and every γ, β away from their starting values (1, 0), as after training."""
    model.compile(optim.SGD(lr=1e-2), nn.MSE())
    y = np.zeros((len(x),) + model.output_shape[1:], x.dtype)
    model.fit(x, y, epochs=steps, batch_size=len(x), verbose=0)
    for name, parameter in model.named_parameters():
        if ".weight" in name and parameter.value().ndim == 1:  # a BatchNorm's γ
            parameter.set_value(rng.uniform(0.5, 1.5, parameter.value().shape).astype(x.dtype))
        elif name.endswith("bias"):
            parameter.set_value(rng.standard_normal(parameter.value().shape).astype(x.dtype))


def _input(rng, shape, dtype):
    return (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)


@pytest.mark.parametrize("activation", [nn.ReLU, nn.Sigmoid, None])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_batchnorm_activation_predicts_as_pytorch_evaluates(activation, bias, dtype):
    rng = np.random.default_rng(3 + bias)
    tail = [activation()] if activation else []
    layers = [nn.Conv2d(3, 8, 3, padding=1, bias=bias, seed=1, dtype=dtype), nn.BatchNorm2d(8, dtype=dtype), *tail,
              nn.Flatten(), nn.Linear(8 * 6 * 5, 4, seed=2, dtype=dtype)]
    model = bprop.Sequential(layers).build((3, 6, 5))
    x = _input(rng, (9, 3, 6, 5), dtype)
    _move_statistics(model, x, rng)
    folded = "Conv2d+BatchNorm2d" + (f"+{activation().name}" if activation else "")
    assert model._net.infer_step_names[0] == folded
    assert "BatchNorm2d" in model._net.step_names  # training runs the layers as they are
    expected = _reference(model.layers, _t(x)).numpy()
    np.testing.assert_allclose(model.predict(x), expected, **(F32 if dtype == np.float32 else F64))


@pytest.mark.parametrize("config", [dict(stride=2, padding=1), dict(groups=4, padding=2, dilation=2),
                                    dict(groups=8, padding=1)])  # strided, grouped, depthwise
def test_strided_grouped_and_depthwise_convolutions_fold(config):
    rng = np.random.default_rng(7)
    model = bprop.Sequential([nn.Conv2d(8, 8, 3, seed=4, **config), nn.BatchNorm2d(8), nn.ReLU(),
                              nn.AdaptiveAvgPool2d(1), nn.Flatten()]).build((8, 9, 7))
    x = _input(rng, (6, 8, 9, 7), np.float32)
    _move_statistics(model, x, rng)
    assert model._net.infer_step_names[0] == "Conv2d+BatchNorm2d+ReLU"
    np.testing.assert_allclose(model.predict(x), _reference(model.layers, _t(x)).numpy(), **F32)


def test_conv1d_with_batchnorm1d_folds():
    rng = np.random.default_rng(11)
    model = bprop.Sequential([nn.Conv1d(2, 5, 3, seed=1), nn.BatchNorm1d(5), nn.Tanh(), nn.Flatten()]).build((2, 12))
    x = _input(rng, (4, 2, 12), np.float32)
    _move_statistics(model, x, rng)
    assert model._net.infer_step_names == ["Conv1d+BatchNorm1d+Tanh", "Flatten"]
    np.testing.assert_allclose(model.predict(x), _reference(model.layers, _t(x)).numpy(), **F32)


def test_residual_blocks_fold_inside_and_track_training():
    """A ResNet block's convolutions fold, and the fold follows the weights and statistics as they train."""
    rng = np.random.default_rng(5)

    def block(c_in, c_out, stride):
        shortcut = None if stride == 1 and c_in == c_out else [nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                                                              nn.BatchNorm2d(c_out)]
        return nn.Residual([nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(c_out),
                            nn.ReLU(), nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out)],
                           shortcut=shortcut)

    model = bprop.Sequential([nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                              block(4, 4, 1), nn.ReLU(), block(4, 8, 2), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                              nn.Flatten(), nn.Linear(8, 3, seed=0)]).build((3, 8, 8))
    body = model._net.layers[5].body
    assert body.infer_step_names == ["Conv2d+BatchNorm2d+ReLU", "Conv2d+BatchNorm2d"]
    model.compile(optim.Adam(lr=1e-2), nn.CrossEntropy())
    x = _input(rng, (16, 3, 8, 8), np.float32)
    y = rng.integers(0, 3, 16)
    for _ in range(2):  # the fold is taken afresh: predictions follow each round of training
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)
        np.testing.assert_allclose(model.predict(x), _reference(model.layers, _t(x)).numpy(), **F32)


@pytest.mark.parametrize("batch", [1, 2, 40])
def test_small_outputs_apply_the_map_instead_and_agree_with_the_fold(batch):
    """A 16-channel 3×3 convolution has 144-value weight rows: a batch of one 3×3 output (9 values a channel)
    runs the three layers one after the other, a batch of 40 (360) folds; both are PyTorch's numbers."""
    rng = np.random.default_rng(batch)
    model = bprop.Sequential([nn.Conv2d(16, 6, 3, seed=2), nn.BatchNorm2d(6), nn.ReLU(), nn.Flatten()]).build((16, 5, 5))
    x = _input(rng, (batch, 16, 5, 5), np.float32)
    _move_statistics(model, _input(rng, (8, 16, 5, 5), np.float32), rng)
    assert model._net.infer_step_names == ["Conv2d+BatchNorm2d+ReLU", "Flatten"]
    np.testing.assert_allclose(model.predict(x), _reference(model.layers, _t(x)).numpy(), **F32)


def test_a_batchnorm_over_other_channels_or_not_after_a_convolution_does_not_fold():
    model = bprop.Sequential([nn.BatchNorm2d(3), nn.Conv2d(3, 4, 1), nn.ReLU(), nn.Flatten(), nn.Linear(16, 4),
                              nn.BatchNorm1d(4)]).build((3, 2, 2))
    assert model._net.infer_step_names == ["BatchNorm2d", "Conv2d+ReLU", "Flatten", "Linear", "BatchNorm1d"]
