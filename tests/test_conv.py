"""Conv1d, Conv2d, ConvTranspose2d and their functional forms against torch.nn.functional (random
configurations), float64 central differences, every ISA, and thread-count invariance."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import bprop
from bprop import nn
from conftest import AVAILABLE_ISAS
from gradcheck import assert_gradients_close, numeric_gradient, numeric_parameter_gradient

torch = pytest.importorskip("torch")
F = torch.nn.functional

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")  # PyTorch's note on its own copies
SETTINGS = dict(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
RTOL, ATOL = 1e-4, 1e-5  # float32 against PyTorch


@st.composite
def conv_configs(draw, dims=2, transposed=False):
    """(layer keywords, input shape): kernel 1-7, stride 1-3, dilation 1-3, padding ints, tuples, "same" and
    "valid", groups (depthwise included), odd sizes, batch 1-3, channels 1-64."""
    kind = draw(st.sampled_from(("dense", "grouped", "depthwise")))
    groups = 1 if kind == "dense" else draw(st.integers(2, 4))
    per_in = 1 if kind == "depthwise" else draw(st.integers(1, 16 if kind == "dense" else 6))
    per_out = draw(st.integers(1, 3)) if kind == "depthwise" else draw(st.integers(1, 16 if kind == "dense" else 6))
    if kind == "dense" and draw(st.booleans()):  # now and then the wide layers of a real network
        per_in, per_out = draw(st.sampled_from(((64, 32), (32, 64), (3, 64), (64, 1))))
    kernel = tuple(draw(st.integers(1, 7)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    choices = ["int", "tuple"] if transposed else ["int", "tuple", "valid"] + (["same"] * 2 if stride == (1,) * dims else [])
    padding_kind = draw(st.sampled_from(choices))
    reach = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if padding_kind == "int":
        padding = draw(st.integers(0, 3))
    elif padding_kind == "tuple":
        padding = tuple(draw(st.integers(0, 3)) for _ in range(dims))
    else:
        padding = padding_kind
    pads = padding if isinstance(padding, tuple) else (padding if isinstance(padding, int) else 0,) * dims
    if transposed:  # the output must be at least 1 wide: (in - 1)·stride − 2·pad + reach ≥ 1
        sizes = tuple(draw(st.integers(1, 9)) for _ in range(dims))
        assume(all((n - 1) * s - 2 * p + r >= 1 for n, s, p, r in zip(sizes, stride, pads, reach)))
    else:
        sizes = tuple(draw(st.integers(max(1, r - (2 * p if padding != "same" else r)), r + 12))
                      for r, p in zip(reach, pads))
    keywords = dict(in_channels=groups * per_in, out_channels=groups * per_out, kernel_size=kernel, stride=stride,
                    padding=padding, dilation=dilation, groups=groups, bias=draw(st.booleans()))
    if transposed:
        keywords["output_padding"] = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    batch = draw(st.integers(1, 3))
    return keywords, (batch, groups * per_in, *sizes)


def torch_reference(layer, x, dy):
    """y and the gradients of x, weight and bias from torch.nn.functional with the layer's parameters, in
    float64: the reference's own rounding stays out of the comparison."""
    def leaf(value):
        return torch.tensor(np.asarray(value, np.float64), requires_grad=True)

    xt, wt = leaf(x), leaf(layer.weight.value())
    bt = leaf(layer.bias.value()) if layer.bias is not None else None
    common = dict(stride=layer.stride, dilation=layer.dilation, groups=layer.groups, padding=layer.padding)
    if isinstance(layer, nn.ConvTranspose2d):
        y = F.conv_transpose2d(xt, wt, bt, output_padding=layer.output_padding, **common)
    else:
        y = (F.conv1d if isinstance(layer, nn.Conv1d) else F.conv2d)(xt, wt, bt, **common)
    y.backward(torch.tensor(dy, dtype=torch.float64))
    return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), None if bt is None else bt.grad.numpy()


def random_bias(layer, rng):
    if layer.bias is not None:
        layer.bias.set_value(rng.standard_normal(layer.bias.shape).astype(layer.bias.value().dtype))


def check_against_torch(cls, keywords, shape, rng, dtype="float32"):
    layer = cls(**keywords, seed=1, dtype=dtype)
    random_bias(layer, rng)
    x = rng.standard_normal(shape).astype(dtype)
    y = layer.forward(x, training=True)
    # dy scaled so a weight gradient (a sum over the batch's pixels) has values of order 1, like y and dx:
    # float32 then rounds every output alike relative to the tolerance.
    dy = (rng.standard_normal(y.shape) / np.sqrt(y.shape[0] * np.prod(y.shape[2:]))).astype(dtype)
    dx = layer.backward(x, y, dy)
    ref_y, ref_dx, ref_dw, ref_db = torch_reference(layer, x, dy)
    assert y.shape == ref_y.shape
    np.testing.assert_allclose(y, ref_y, rtol=RTOL, atol=ATOL, err_msg="y")
    np.testing.assert_allclose(dx, ref_dx, rtol=RTOL, atol=ATOL, err_msg="dx")
    np.testing.assert_allclose(layer.weight.grad, ref_dw, rtol=RTOL, atol=ATOL, err_msg="dweight")
    if ref_db is not None:
        np.testing.assert_allclose(layer.bias.grad, ref_db, rtol=RTOL, atol=ATOL, err_msg="dbias")


@settings(max_examples=300, **SETTINGS)
@given(conv_configs(dims=2))
def test_conv2d_matches_torch(config):
    check_against_torch(nn.Conv2d, *config, np.random.default_rng(7))


@settings(max_examples=100, **SETTINGS)
@given(conv_configs(dims=1))
def test_conv1d_matches_torch(config):
    check_against_torch(nn.Conv1d, *config, np.random.default_rng(8))


@settings(max_examples=150, **SETTINGS)
@given(conv_configs(dims=2, transposed=True))
def test_conv_transpose2d_matches_torch(config):
    check_against_torch(nn.ConvTranspose2d, *config, np.random.default_rng(9))


GRADCHECK_CASES = [
    (nn.Conv2d, dict(in_channels=3, out_channels=4, kernel_size=3, padding=1), (2, 3, 5, 4)),
    (nn.Conv2d, dict(in_channels=4, out_channels=6, kernel_size=(2, 3), stride=(2, 1), dilation=(1, 2),
                     padding=(1, 2), groups=2), (1, 4, 6, 7)),
    (nn.Conv2d, dict(in_channels=3, out_channels=6, kernel_size=3, stride=2, groups=3, padding=1), (2, 3, 5, 5)),
    (nn.Conv2d, dict(in_channels=2, out_channels=3, kernel_size=1, bias=False), (2, 2, 3, 3)),
    (nn.Conv2d, dict(in_channels=2, out_channels=2, kernel_size=4, padding="same"), (1, 2, 5, 5)),
    (nn.Conv1d, dict(in_channels=3, out_channels=2, kernel_size=3, stride=2, padding=1), (2, 3, 7)),
    (nn.ConvTranspose2d, dict(in_channels=4, out_channels=2, kernel_size=3, stride=2, padding=1, output_padding=1),
     (2, 4, 3, 3)),
    (nn.ConvTranspose2d, dict(in_channels=4, out_channels=6, kernel_size=2, stride=(1, 2), groups=2, dilation=2),
     (1, 4, 3, 4)),
]


@pytest.mark.parametrize("cls,keywords,shape", GRADCHECK_CASES, ids=lambda v: getattr(v, "__name__", None))
def test_float64_gradients_match_central_differences(cls, keywords, shape, rng):
    layer = cls(**keywords, seed=3, dtype="float64")
    random_bias(layer, rng)
    x = rng.standard_normal(shape)
    y = layer.forward(x, training=True)
    weights = rng.standard_normal(y.shape)  # loss = Σ weights ⊙ y, so dL/dy = weights

    def loss():
        return float(np.sum(weights * layer.forward(x, training=True)))

    dx = layer.backward(x, y, weights)
    assert_gradients_close(dx, numeric_gradient(loss, x), "dx")
    for parameter in layer.parameters():  # the analytic gradient is copied before the differences run
        assert_gradients_close(np.array(parameter.grad), numeric_parameter_gradient(parameter, loss), parameter.name)


ISA_CASES = [
    (nn.Conv2d, dict(in_channels=16, out_channels=32, kernel_size=3, padding=1), (8, 16, 12, 12)),
    (nn.Conv2d, dict(in_channels=8, out_channels=24, kernel_size=1), (3, 8, 9, 7)),
    (nn.Conv2d, dict(in_channels=12, out_channels=12, kernel_size=3, stride=2, groups=12), (4, 12, 11, 11)),
    (nn.Conv1d, dict(in_channels=5, out_channels=40, kernel_size=5, padding="same"), (6, 5, 33)),
    (nn.ConvTranspose2d, dict(in_channels=16, out_channels=8, kernel_size=4, stride=2, padding=1), (5, 16, 6, 6)),
]


@pytest.mark.parametrize("isa", AVAILABLE_ISAS)
@pytest.mark.parametrize("cls,keywords,shape", ISA_CASES, ids=lambda v: getattr(v, "__name__", None))
@pytest.mark.parametrize("nthreads", [1, 2])
def test_every_isa_and_thread_count_matches_torch(isa, cls, keywords, shape, nthreads, force_isa, threads, rng):
    force_isa(isa)
    threads(nthreads)
    check_against_torch(cls, keywords, shape, rng)


def run_layer(cls, keywords, x, dy):
    layer = cls(**keywords, seed=5)
    y = layer.forward(x, training=True)
    dx = layer.backward(x, y, dy)
    return [y, dx] + [np.array(p.grad) for p in layer.parameters()]


@pytest.mark.parametrize("cls,keywords,shape", ISA_CASES + [ISA_CASES[0][:2] + ((1, 16, 12, 12),)],
                         ids=lambda v: getattr(v, "__name__", None))
def test_results_do_not_depend_on_thread_count(cls, keywords, shape, threads, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    probe = cls(**keywords)
    probe.core().build(list(shape[1:]))
    dy = rng.standard_normal((shape[0], *probe.core().out_shape)).astype(np.float32)
    threads(1)
    one = run_layer(cls, keywords, x, dy)
    threads(2)
    two = run_layer(cls, keywords, x, dy)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_functional_forms_match_torch_and_record_gradients(rng):
    x = rng.standard_normal((2, 4, 7, 6)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    xt, wt, bt = (bprop.tensor(v, requires_grad=True) for v in (x, w, b))
    y = nn.functional.conv2d(xt, wt, bt, stride=(2, 1), padding="valid", groups=2)
    (y * y).sum().backward()
    xr, wr, br = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    yr = F.conv2d(xr, wr, br, stride=(2, 1), padding="valid", groups=2)
    (yr * yr).sum().backward()
    np.testing.assert_allclose(y.numpy(), yr.detach().numpy(), rtol=RTOL, atol=ATOL)
    for mine, ref in ((xt, xr), (wt, wr), (bt, br)):
        np.testing.assert_allclose(mine.grad, ref.grad.numpy(), rtol=RTOL, atol=1e-4)

    w1 = rng.standard_normal((3, 4, 5)).astype(np.float32)
    x1 = rng.standard_normal((2, 4, 11)).astype(np.float32)
    np.testing.assert_allclose(nn.functional.conv1d(x1, w1, padding="same", dilation=2).numpy(),
                               F.conv1d(torch.tensor(x1), torch.tensor(w1), padding="same", dilation=2).numpy(),
                               rtol=RTOL, atol=ATOL)
    wt2 = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    np.testing.assert_allclose(
        nn.functional.conv_transpose2d(x, wt2, stride=2, padding=1, output_padding=1).numpy(),
        F.conv_transpose2d(torch.tensor(x), torch.tensor(wt2), stride=2, padding=1, output_padding=1).numpy(),
        rtol=RTOL, atol=ATOL)


def test_layers_on_tensors_and_in_modules_train(rng):
    conv = nn.Conv2d(2, 3, 3, padding=1)
    x = bprop.tensor(rng.standard_normal((2, 2, 5, 5)).astype(np.float32))
    y = conv(x)
    assert y.shape == (2, 3, 5, 5)
    y.sum().backward()
    assert np.abs(conv.weight.grad).sum() > 0
    np.testing.assert_allclose(conv.bias.grad, [50.0] * 3)  # 2 samples × 25 pixels per channel


BAD_ARGUMENTS = [
    (lambda: nn.Conv2d(3, 4, 3, groups=2), "divisible by groups"),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), "out_channels \\(6\\) must be divisible"),
    (lambda: nn.Conv2d(3, 4, 3, stride=2, padding="same"), "padding='same' needs stride 1"),
    (lambda: nn.Conv2d(3, 4, 0), "kernel_size must be >= 1"),
    (lambda: nn.Conv2d(3, 4, (3, 3, 3)), "kernel_size must be an int or a tuple of 2"),
    (lambda: nn.Conv2d(3, 4, 3, padding="full"), "padding must be an int, a tuple, 'same' or 'valid'"),
    (lambda: nn.Conv2d(3, 4, 3, padding=-1), "padding must be >= 0"),
    (lambda: nn.ConvTranspose2d(3, 4, 3, stride=2, output_padding=2), "output_padding must be >= 0 and smaller"),
    (lambda: nn.ConvTranspose2d(3, 4, 3, padding="same"), "padding must be an int or a tuple"),
]


@pytest.mark.parametrize("make,message", BAD_ARGUMENTS)
def test_bad_arguments_raise_value_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


BAD_SAMPLES = [
    (nn.Conv2d(3, 4, 5), (2, 3, 3, 3), r"kernel 5x5 .* larger than the padded input: samples of shape \(3, 3, 3\)"),
    (nn.Conv2d(3, 4, 3, dilation=3), (2, 3, 6, 9), r"spanning 7\) is larger than the padded input"),
    (nn.Conv2d(3, 4, 3), (2, 4, 8, 8), r"expects samples of shape \(C, H, W\) with C = 3; got 4 channels"),
    (nn.Conv2d(3, 4, 3), (2, 3, 8), r"expects samples of shape \(C, H, W\) with C = 3; got samples of shape \(3, 8\)"),
    (nn.Conv1d(3, 4, 3), (2, 3, 8, 8), r"expects samples of shape \(C, L\)"),
    (nn.ConvTranspose2d(3, 4, 1, padding=2), (1, 3, 2, 2), r"output of size -2 on axis 1"),
]


@pytest.mark.parametrize("layer,shape,message", BAD_SAMPLES)
def test_bad_samples_raise_value_errors_naming_the_shapes(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer.forward(np.zeros(shape, np.float32))
    with pytest.raises(ValueError, match=message):
        bprop.Sequential([layer]).predict(np.zeros(shape, np.float32))


def test_functional_bad_operands_raise():
    x = bprop.tensor(np.zeros((1, 3, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"x has 3 channels but the weight of shape \(4, 2, 3, 3\)"):
        nn.functional.conv2d(x, np.zeros((4, 2, 3, 3), np.float32))
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\)"):
        nn.functional.conv2d(x, np.zeros((4, 3, 3, 3), np.float32), np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="weight must be 4-D"):
        nn.functional.conv2d(x, np.zeros((4, 3, 3), np.float32))
    with pytest.raises(TypeError):
        nn.functional.conv2d(None, np.zeros((4, 3, 3, 3), np.float32))


def test_pytorch_state_dict_copies_across(rng):
    reference = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1, groups=1), torch.nn.ReLU(),
                                    torch.nn.Conv2d(8, 8, 3, stride=2, groups=8), torch.nn.Flatten(),
                                    torch.nn.Linear(8 * 3 * 3, 5))
    model = bprop.Sequential([nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, stride=2, groups=8),
                              nn.Flatten(), nn.Linear(8 * 3 * 3, 5)])
    model.build((3, 8, 8))
    state = {k: v.detach().numpy() for k, v in reference.state_dict().items()}
    for name, parameter in model.named_parameters():
        value = state[name]
        parameter.set_value(np.ascontiguousarray(value.T) if name.endswith("4.weight") else value)  # Linear stores Wᵀ (Keras layout)
    x = rng.standard_normal((4, 3, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x), reference(torch.tensor(x)).detach().numpy(), rtol=RTOL, atol=ATOL)


def test_fused_activation_matches_the_unfused_layers(rng):
    x = rng.standard_normal((3, 2, 9, 9)).astype(np.float32)
    fused = bprop.Sequential([nn.Conv2d(2, 5, 3, seed=4), nn.ReLU()]).build((2, 9, 9))
    assert fused._net.step_names == ["Conv2d+ReLU"]
    alone = nn.Conv2d(2, 5, 3, seed=4)
    np.testing.assert_array_equal(fused.predict(x), np.maximum(alone.forward(x), 0))


def test_saved_and_loaded_with_summary(tmp_path, rng):
    model = bprop.Sequential([nn.Conv2d(1, 4, 3, padding="same"), nn.ReLU(), nn.Conv2d(4, 2, 2, stride=2),
                              nn.ConvTranspose2d(2, 3, 2, stride=2), nn.Flatten(),
                              nn.Linear(3 * 8 * 8, 2)])
    model.build((1, 8, 8))
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(None, 4, 8, 8)" in text and "(None, 2, 4, 4)" in text and "(None, 3, 8, 8)" in text
    path = tmp_path / "conv.bprop"
    model.save(path)
    loaded = bprop.load(path)
    x = rng.standard_normal((2, 1, 8, 8)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.layers[0].padding == "same"


def test_a_small_cnn_learns(rng):
    x = rng.standard_normal((256, 1, 6, 6)).astype(np.float32)
    y = (x[:, 0, :3].sum(axis=(1, 2)) > x[:, 0, 3:].sum(axis=(1, 2))).astype(np.int64)  # top half vs bottom half
    model = bprop.Sequential([nn.Conv2d(1, 8, 3, padding=1, seed=1), nn.ReLU(), nn.Flatten(), nn.Linear(288, 2, seed=2)])
    model.compile(bprop.optim.Adam(lr=1e-2), nn.CrossEntropy(), metrics=["accuracy"])
    history = model.fit(x, y, epochs=20, batch_size=32, verbose=0, seed=0)
    assert history.history["accuracy"][-1] > 0.95
