"""Pooling and upsampling layers (MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d, Upsample) against
torch.nn.functional on random configurations (outputs and input gradients, float32), against central
differences in float64, PyTorch's tie and NaN rules, thread-count invariance, their errors, and their use in
Sequential, Module, saving, summary and the functional forms."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import bprop
from bprop import nn, optim
from gradcheck import assert_gradients_close, numeric_gradient

torch = pytest.importorskip("torch")
F = torch.nn.functional

SETTINGS = dict(deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
EXAMPLES = 150  # per layer family


# -- one shared check: a layer against a torch function ------------------------------------------------------
def _against_torch(layer, torch_fn, x, rtol=1e-4, atol=1e-5, seed=0):
    """layer.forward / layer.backward on x against torch_fn and torch's autograd: outputs and input gradients."""
    y = layer.forward(x, training=True)
    tx = torch.from_numpy(x).requires_grad_(True)
    ty = torch_fn(tx)
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=rtol, atol=atol)
    dy = np.random.default_rng(seed).standard_normal(y.shape).astype(x.dtype)
    ty.backward(torch.from_numpy(dy))
    dx = layer.backward(x, y, dy)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=rtol, atol=atol)
    return y, dx


def _arg(values, dims):
    """A per-axis argument as a user writes it: an int for a 1d layer, a tuple for a 2d one."""
    return values[0] if dims == 1 else tuple(values)


def _every_window_holds_input(size, kernel, stride, padding, dilation, out):
    # With dilation and ceil_mode a window can lie wholly in the padding: PyTorch's argmax then points outside
    # the plane, so those cases are tested on their own (test_a_window_of_padding_alone_...).
    return all(any(0 <= o * stride - padding + j * dilation < size for j in range(kernel)) for o in range(out))


@st.composite
def pool_cases(draw, kind):
    """(bprop layer, torch function, x) for a random max or average pool, 1d or 2d, float32."""
    dims = draw(st.sampled_from((1, 2)))
    kernel = [draw(st.integers(1, 7)) for _ in range(dims)]
    stride = [draw(st.integers(1, 3)) for _ in range(dims)]
    padding = [draw(st.integers(0, k // 2)) for k in kernel]
    dilation = [draw(st.integers(1, 3)) if kind == "max" else 1 for _ in range(dims)]
    ceil_mode = draw(st.booleans())
    # Each axis at least as long as a window spans beyond its padding, so the output is never empty.
    sizes = [draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), d * (k - 1) + 14))
             for k, p, d in zip(kernel, padding, dilation)]
    channels, batch = draw(st.integers(1, 16)), draw(st.integers(1, 3))
    x = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal(
        (batch, channels, *sizes)).astype(np.float32)
    k, s, p = _arg(kernel, dims), _arg(stride, dims), _arg(padding, dims)
    if kind == "max":
        d = _arg(dilation, dims)
        layer = (nn.MaxPool1d if dims == 1 else nn.MaxPool2d)(k, s, p, d, ceil_mode)
        for a in range(dims):  # windows of padding alone: see _every_window_holds_input
            out = layer.core("float32").build(list(x.shape[1:]))[1 + a]
            assume(_every_window_holds_input(sizes[a], kernel[a], stride[a], padding[a], dilation[a], out))
        fn = F.max_pool1d if dims == 1 else F.max_pool2d
        return layer, lambda t: fn(t, k, s, p, d, ceil_mode), x
    count_include_pad = draw(st.booleans())
    layer = (nn.AvgPool1d if dims == 1 else nn.AvgPool2d)(k, s, p, ceil_mode, count_include_pad)
    fn = F.avg_pool1d if dims == 1 else F.avg_pool2d
    return layer, lambda t: fn(t, k, s, p, ceil_mode, count_include_pad), x


@settings(max_examples=EXAMPLES, **SETTINGS)
@given(pool_cases("max"))
def test_max_pool_agrees_with_torch(case):
    _against_torch(*case)


@settings(max_examples=EXAMPLES, **SETTINGS)
@given(pool_cases("avg"))
def test_avg_pool_agrees_with_torch(case):
    _against_torch(*case)


@st.composite
def adaptive_cases(draw):
    dims = draw(st.sampled_from((1, 2)))
    sizes = [draw(st.integers(1, 20)) for _ in range(dims)]
    out = [draw(st.integers(1, 9)) for _ in range(dims)]  # above the input size too: windows then repeat
    x = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal(
        (draw(st.integers(1, 3)), draw(st.integers(1, 16)), *sizes)).astype(np.float32)
    o = _arg(out, dims)
    if dims == 1:
        return nn.AdaptiveAvgPool1d(o), lambda t: F.adaptive_avg_pool1d(t, o), x
    return nn.AdaptiveAvgPool2d(o), lambda t: F.adaptive_avg_pool2d(t, o), x


@settings(max_examples=EXAMPLES, **SETTINGS)
@given(adaptive_cases())
def test_adaptive_avg_pool_agrees_with_torch(case):
    _against_torch(*case)


@st.composite
def upsample_cases(draw):
    dims = draw(st.sampled_from((1, 2)))
    sizes = [draw(st.integers(1, 13)) for _ in range(dims)]
    scales = [draw(st.integers(1, 4)) for _ in range(dims)]
    scale = draw(st.sampled_from((scales[0], tuple(scales))))  # one factor for every axis, or one per axis
    x = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal(
        (draw(st.integers(1, 3)), draw(st.integers(1, 16)), *sizes)).astype(np.float32)
    return nn.Upsample(scale), lambda t: F.interpolate(t, scale_factor=scale, mode="nearest"), x


@settings(max_examples=EXAMPLES, **SETTINGS)
@given(upsample_cases())
def test_upsample_agrees_with_torch(case):
    layer, fn, x = case
    y, _ = _against_torch(layer, fn, x)
    assert y.shape[2:] == tuple(n * s for n, s in zip(x.shape[2:], np.broadcast_to(layer.scale_factor, x.ndim - 2)))


# -- float64 central differences ---------------------------------------------------------------------------
GRADCHECK_LAYERS = {
    "MaxPool1d": (lambda: nn.MaxPool1d(3, 2, 1, 2, ceil_mode=True), (2, 3, 11)),
    "MaxPool2d": (lambda: nn.MaxPool2d((3, 2), (1, 2), (1, 0)), (2, 3, 7, 6)),
    "MaxPool2d-2x2": (lambda: nn.MaxPool2d(2), (1, 2, 5, 7)),
    "AvgPool1d": (lambda: nn.AvgPool1d(4, 3, 2, ceil_mode=True, count_include_pad=False), (2, 3, 10)),
    "AvgPool2d": (lambda: nn.AvgPool2d(3, 2, 1, ceil_mode=True), (2, 2, 7, 8)),
    "AvgPool2d-nopad": (lambda: nn.AvgPool2d((2, 3), 1, (1, 1), count_include_pad=False), (1, 3, 5, 6)),
    "AdaptiveAvgPool1d": (lambda: nn.AdaptiveAvgPool1d(4), (2, 3, 9)),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d((3, 5)), (2, 2, 7, 4)),
    "AdaptiveAvgPool2d-global": (lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 5, 6)),
    "Upsample1d": (lambda: nn.Upsample(3), (2, 3, 4)),
    "Upsample2d": (lambda: nn.Upsample((2, 3)), (2, 2, 3, 4)),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK_LAYERS))
def test_input_gradient_matches_central_differences_in_float64(name):
    make, shape = GRADCHECK_LAYERS[name]
    rng = np.random.default_rng(len(name))
    # Distinct values 0.01 apart at least (a shuffled ramp): no ties, so a step of 1e-6 moves no argmax.
    x = (rng.permutation(int(np.prod(shape))).reshape(shape) * 0.01 + rng.uniform(0, 1e-3, shape))
    layer = make()
    y = layer.forward(x)
    r = rng.standard_normal(y.shape)
    dx = layer.backward(x, y, r)
    assert_gradients_close(dx, numeric_gradient(lambda: float(np.sum(r * layer.forward(x))), x), f"{name} dx")


# -- PyTorch's tie and NaN rules ------------------------------------------------------------------------------
@pytest.mark.parametrize("make,fn", [
    (lambda: nn.MaxPool2d(2), lambda t: F.max_pool2d(t, 2)),
    (lambda: nn.MaxPool2d(3, 1, 1), lambda t: F.max_pool2d(t, 3, 1, 1)),  # overlapping windows
    (lambda: nn.MaxPool2d((3, 2), (2, 1), (1, 1), (2, 1), True), lambda t: F.max_pool2d(t, (3, 2), (2, 1), (1, 1),
                                                                                         (2, 1), True)),
    (lambda: nn.MaxPool1d(4, 2, 2), lambda t: F.max_pool1d(t, 4, 2, 2)),
])
def test_max_pool_sends_each_gradient_to_the_first_maximum_as_torch(make, fn):
    # Values from {0, 1, 2}: nearly every window has ties; the gradient must land where PyTorch's does.
    rng = np.random.default_rng(3)
    shape = (2, 3, 9, 8) if isinstance(make(), nn.MaxPool2d) else (2, 3, 13)
    x = rng.integers(0, 3, shape).astype(np.float32)
    y, dx = _against_torch(make(), fn, x, rtol=0, atol=0)
    assert (dx != 0).sum() < dx.size  # ties were there to break


def test_max_pool_propagates_nan_and_routes_its_gradient_as_torch():
    x = np.array([[[1, np.nan, 3, np.nan, np.nan, 2, 5, 4]]], np.float32)
    layer = nn.MaxPool1d(4, 2, 1)
    y = layer.forward(x)
    tx = torch.from_numpy(x).requires_grad_(True)
    ty = F.max_pool1d(tx, 4, 2, 1)
    np.testing.assert_array_equal(y, ty.detach().numpy())  # NaN where torch has NaN: a window's NaN is its max
    assert np.isnan(y).sum() == 3
    dy = np.arange(1, y.size + 1, dtype=np.float32).reshape(y.shape)
    ty.backward(torch.from_numpy(dy))
    np.testing.assert_array_equal(layer.backward(x, y, dy), tx.grad.numpy())  # the last NaN of a window, as torch


def test_a_window_of_padding_alone_gives_minus_infinity_and_no_gradient():
    # kernel 2, padding 1, dilation 3, ceil_mode on a length of 1: the last window covers only padding.
    layer = nn.MaxPool1d(2, 2, 1, 3, ceil_mode=True)
    x = np.array([[[7.0], [-2.0]]], np.float32)
    y = layer.forward(x)
    np.testing.assert_array_equal(y, F.max_pool1d(torch.from_numpy(x), 2, 2, 1, 3, True).numpy())
    assert np.all(y == -np.inf)
    np.testing.assert_array_equal(layer.backward(x, y, np.ones_like(y)), np.zeros_like(x))


# -- threads, caches and the cache-free path ---------------------------------------------------------------
THREADED = [
    (lambda: nn.MaxPool2d(2), (4, 16, 34, 36)),
    (lambda: nn.MaxPool2d(3, 2, 1), (4, 16, 33, 35)),
    (lambda: nn.MaxPool2d(3, 1, 1, 2), (4, 8, 33, 35)),
    (lambda: nn.AvgPool2d(3, 1, 1, count_include_pad=False), (4, 16, 33, 35)),
    (lambda: nn.AvgPool2d(2, ceil_mode=True), (4, 16, 33, 35)),
    (lambda: nn.AvgPool1d(5, 3, 2), (8, 16, 999)),
    (lambda: nn.AdaptiveAvgPool2d((5, 3)), (4, 16, 33, 35)),
    (lambda: nn.AdaptiveAvgPool2d(1), (8, 32, 32, 32)),
    (lambda: nn.Upsample(2), (4, 16, 33, 35)),
    (lambda: nn.Upsample((3, 1)), (4, 16, 20, 35)),
]


@pytest.mark.parametrize("make,shape", THREADED, ids=lambda v: repr(v()) if callable(v) else str(v))
def test_results_are_bit_identical_at_one_and_two_threads(threads, make, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    results = []
    for n in (1, 2):
        threads(n)
        layer = make()  # sizes above the layers' threshold: two threads really share the planes
        y = layer.forward(x, training=True)
        dy = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
        results.append((y, layer.backward(x, y, dy), bprop.Sequential([layer]).predict(x)))
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(results[0][0], results[0][2])  # predict (infer) = forward


def test_max_pool_backward_without_its_forward_finds_the_argmax_again():
    rng = np.random.default_rng(2)
    x, x2 = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((5, 3, 6, 6))
    dy = rng.standard_normal((2, 3, 3, 3))
    fresh, reference = nn.MaxPool2d(2), nn.MaxPool2d(2)
    y = reference.forward(x)
    expected = reference.backward(x, y, dy)
    np.testing.assert_array_equal(fresh.backward(x, y, dy), expected)  # no forward yet
    fresh.forward(x2)  # a forward of another batch size: its argmax is not this batch's
    np.testing.assert_array_equal(fresh.backward(x, y, dy), expected)


# -- errors ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make,error,message", [
    (lambda: nn.MaxPool2d(3, padding=2), ValueError,
     r"^\[MaxPool2d\] padding must be at most half the kernel size; expected padding <= \(1, 1\) for kernel_size "
     r"\(3, 3\), got \(2, 2\)$"),
    (lambda: nn.AvgPool1d(2, padding=2), ValueError, r"^\[AvgPool1d\] padding must be at most half .* <= 1 .* got 2$"),
    (lambda: nn.MaxPool2d(0), ValueError, r"^\[MaxPool2d\] kernel_size must be >= 1; got 0$"),
    (lambda: nn.MaxPool2d(2, stride=(1, 0)), ValueError, r"^\[MaxPool2d\] stride\[1\] must be >= 1; got 0$"),
    (lambda: nn.MaxPool2d((2, 2, 2)), ValueError, r"^\[MaxPool2d\] kernel_size must be an int or 2 int"),
    (lambda: nn.MaxPool1d(2.5), TypeError, r"^\[MaxPool1d\] kernel_size must be an int"),
    (lambda: nn.MaxPool2d(2, dilation=0), ValueError, r"^\[MaxPool2d\] dilation must be >= 1"),
    (lambda: nn.MaxPool2d(2**40), ValueError, r"^\[MaxPool2d\] kernel_size must be <= 2147483647"),
    (lambda: nn.AvgPool2d(2, ceil_mode=1), TypeError, r"^\[AvgPool2d\] ceil_mode must be a bool"),
    (lambda: nn.AdaptiveAvgPool2d((0, 3)), ValueError, r"^\[AdaptiveAvgPool2d\] output_size\[0\] must be >= 1"),
    (lambda: nn.Upsample(2, mode="bilinear"), ValueError,
     r"^\[Upsample\] mode 'bilinear' is not supported; expected 'nearest'$"),
    (lambda: nn.Upsample(1.5), ValueError, r"^\[Upsample\] scale_factor must be a whole number"),
    (lambda: nn.Upsample(0), ValueError, r"^\[Upsample\] scale_factor must be >= 1"),
    (lambda: nn.Upsample((2, 2, 2)), ValueError, r"^\[Upsample\] scale_factor must be a number or 1 or 2"),
])
def test_bad_arguments_are_refused_when_the_layer_is_made(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("layer,shape,message", [
    (nn.MaxPool2d(2), (2, 3, 4), r"^\[MaxPool2d\] expects samples of shape \(C, H, W\); got samples of shape "
                                 r"\(3, 4\)$"),
    (nn.MaxPool1d(2), (2, 3, 4, 4), r"^\[MaxPool1d\] expects samples of shape \(C, L\); got samples of shape "
                                    r"\(3, 4, 4\)$"),
    (nn.AvgPool2d(2), (2, 5), r"^\[AvgPool2d\] expects samples of shape \(C, H, W\)"),
    (nn.AdaptiveAvgPool2d(2), (2, 3, 4), r"^\[AdaptiveAvgPool2d\] expects samples of shape \(C, H, W\)"),
    (nn.MaxPool2d(5), (2, 3, 4, 9), r"^\[MaxPool2d\] samples of shape \(3, 4, 9\) would give an output of shape "
                                    r"\(3, 0, 1\): the window spans 5 values along the height \(kernel_size "
                                    r"\(5, 5\), dilation \(1, 1\)\), more than the padded height of 4 \(padding "
                                    r"\(0, 0\)\); expected a window no larger than the padded input$"),
    (nn.MaxPool1d(3, dilation=3), (2, 1, 6), r"^\[MaxPool1d\] .* shape \(1, 0\): the window spans 7 values along "
                                             r"the length"),
    (nn.AvgPool2d((1, 4), padding=(0, 1)), (1, 2, 3, 1), r"^\[AvgPool2d\] samples of shape \(2, 3, 1\) .* more "
                                                         r"than the padded width of 3 \(padding \(0, 1\)\)"),
    (nn.Upsample(2), (2, 3), r"^\[Upsample\] expects samples of shape \(C, L\) or \(C, H, W\); got samples of "
                             r"shape \(3,\)$"),
    (nn.Upsample((2, 2)), (2, 3, 4), r"^\[Upsample\] scale_factor \(2, 2\) has 2 value\(s\) but samples of shape "
                                     r"\(3, 4\) have 1 spatial axes"),
])
def test_samples_a_layer_cannot_take_are_refused_naming_their_shape(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer.forward(np.ones(shape, np.float32))


def test_pytorch_takes_what_bprop_takes_at_the_edges():
    # ceil_mode lets a window overhang a padded input shorter than itself: PyTorch gives one output, as we do.
    x = np.random.default_rng(0).standard_normal((1, 2, 2, 2)).astype(np.float32)
    _against_torch(nn.MaxPool2d(3, 2, ceil_mode=True), lambda t: F.max_pool2d(t, 3, 2, ceil_mode=True), x)
    _against_torch(nn.AvgPool2d(3, 2, ceil_mode=True), lambda t: F.avg_pool2d(t, 3, 2, ceil_mode=True), x)


# -- in models, files, summaries and graphs -------------------------------------------------------------------
def _image_model(seed=0):
    return bprop.Sequential([
        nn.Reshape((1, 8, 8)), nn.MaxPool2d(2), nn.Upsample(2), nn.AvgPool2d(3, 1, 1, count_include_pad=False),
        nn.MaxPool2d(3, 2, 1, ceil_mode=True), nn.AdaptiveAvgPool2d((3, 2)), nn.Flatten(), nn.Linear(6, 12, seed=seed),
        nn.Reshape((3, 4)), nn.MaxPool1d(2), nn.AvgPool1d(2, padding=1), nn.AdaptiveAvgPool1d(2), nn.Flatten(),
        nn.Linear(6, 3, seed=seed + 1)])


def _images(rows=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, 64)).astype(np.float32)
    return x, (x[:, :32].sum(1) > 0).astype(np.int64) + (x[:, 0] > 1)


def test_the_brief_example_trains_in_a_sequential():
    model = bprop.Sequential([nn.Reshape((1, 8, 8)), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16, 10)])
    x, y = _images()
    model.compile(optim.Adam(lr=0.01), nn.CrossEntropy(), metrics=["accuracy"])
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0, seed=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.output_shape == (None, 10)


def test_a_model_of_every_pooling_layer_saves_loads_and_predicts_identically(tmp_path):
    model = _image_model()
    x, y = _images()
    model.compile(optim.Adam(lr=0.01), nn.CrossEntropy())
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=0)
    model.save(tmp_path / "m.bprop")
    loaded = bprop.load(tmp_path / "m.bprop")
    assert loaded.get_config() == model.get_config()
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_summary_shows_each_layers_nd_output_shape():
    lines = []
    _image_model().build((64,)).summary(print_fn=lines.append)
    text = "\n".join(lines)
    for name, shape in [("MaxPool2d", "(None, 1, 4, 4)"), ("Upsample", "(None, 1, 8, 8)"),
                        ("AvgPool2d", "(None, 1, 8, 8)"), ("MaxPool2d", "(None, 1, 5, 5)"),
                        ("AdaptiveAvgPool2d(output_size=[3, 2])", "(None, 1, 3, 2)"), ("MaxPool1d", "(None, 3, 2)"),
                        ("AvgPool1d", "(None, 3, 2)"), ("AdaptiveAvgPool1d(output_size=2)", "(None, 3, 2)")]:
        assert any(name in line and shape in line for line in lines), (name, shape, text)


def test_configs_round_trip_and_repr_names_the_arguments():
    for layer in _image_model().layers:
        again = type(layer).from_config(layer.get_config())
        assert again.get_config() == layer.get_config() and repr(again) == repr(layer)
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert nn.AvgPool2d((2, 3), stride=1).get_config() == {"kernel_size": [2, 3], "stride": 1, "padding": 0,
                                                           "ceil_mode": False, "count_include_pad": True}
    assert nn.Upsample(2.0).scale_factor == 2


class _Net(bprop.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.MaxPool2d(2)
        self.up = nn.Upsample(2)
        self.gap = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        return self.gap(self.up(self.pool(x))).reshape(x.shape[0], -1)


def test_layers_in_a_module_give_torchs_gradients_on_tensors():
    x = np.random.default_rng(4).standard_normal((3, 2, 6, 8))
    xt = bprop.tensor(x, requires_grad=True)
    out = _Net()(xt)
    (out * out).sum().backward()
    tx = torch.from_numpy(x).requires_grad_(True)
    tout = F.adaptive_avg_pool2d(F.interpolate(F.max_pool2d(tx, 2), scale_factor=2), 1).reshape(3, -1)
    (tout * tout).sum().backward()
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(xt.grad, tx.grad.numpy(), rtol=1e-12)


ONE_D, TWO_D = (2, 3, 11), (2, 3, 7, 9)


@pytest.mark.parametrize("ours,theirs,shape", [
    (lambda t: nn.functional.max_pool1d(t, 3, 2, 1, 2, True), lambda t: F.max_pool1d(t, 3, 2, 1, 2, True), ONE_D),
    (lambda t: nn.functional.max_pool2d(t, (2, 3), padding=(1, 0)), lambda t: F.max_pool2d(t, (2, 3), padding=(1, 0)),
     TWO_D),
    (lambda t: nn.functional.avg_pool1d(t, 3, 2, 1, count_include_pad=False),
     lambda t: F.avg_pool1d(t, 3, 2, 1, count_include_pad=False), ONE_D),
    (lambda t: nn.functional.avg_pool2d(t, 3, 1, 1, ceil_mode=True), lambda t: F.avg_pool2d(t, 3, 1, 1, ceil_mode=True),
     TWO_D),
    (lambda t: nn.functional.adaptive_avg_pool1d(t, 3), lambda t: F.adaptive_avg_pool1d(t, 3), ONE_D),
    (lambda t: nn.functional.adaptive_avg_pool2d(t, (2, 4)), lambda t: F.adaptive_avg_pool2d(t, (2, 4)), TWO_D),
    (lambda t: nn.functional.interpolate(t, 3), lambda t: F.interpolate(t, scale_factor=3), ONE_D),
    (lambda t: nn.functional.interpolate(t, (2, 1)), lambda t: F.interpolate(t, scale_factor=(2, 1)), TWO_D),
], ids=["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
        "interpolate1d", "interpolate2d"])
def test_functional_forms_on_tensors_with_backward(ours, theirs, shape):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape)
    xt = bprop.tensor(x, requires_grad=True)
    out = ours(xt)
    weights = rng.standard_normal(out.shape)
    (out * weights).sum().backward()
    tx = torch.from_numpy(x).requires_grad_(True)
    tout = theirs(tx)
    (tout * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(xt.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-15)
