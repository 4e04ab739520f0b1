"""Every elementwise activation (the table of cpp/ops/activations.cpp), one registry entry each, swept by
generic tests: forward and gradient against PyTorch in float32 and float64 (kinks included: f' there is
PyTorch's), a float64 gradient check, the tensor function against PyTorch, a training step in a Sequential
against PyTorch's, fusion after a Linear exactly when the derivative reads the output alone, and a
save/load round trip."""
import re
from collections import namedtuple

import numpy as np
import pytest

import bprop
from bprop import nn, optim
from bprop import tensor as tensor_module
from gradcheck import assert_gradients_close, numeric_gradient

torch = pytest.importorskip("torch")
F = torch.nn.functional

# layer(): the bprop layer; reference(): the torch module; function(t): the tensor function or method
# (None when bprop has none); kinks: points where f or f' jumps, kept out of finite-difference stencils.
Case = namedtuple("Case", "layer reference function kinks", defaults=(None, ()))
ACTIVATIONS = {
    "ReLU": Case(nn.ReLU, torch.nn.ReLU, lambda t: t.relu(), (0.0,)),
    "LeakyReLU": Case(lambda: nn.LeakyReLU(0.1), lambda: torch.nn.LeakyReLU(0.1), None, (0.0,)),
    "LeakyReLU(-0.5)": Case(lambda: nn.LeakyReLU(-0.5), lambda: torch.nn.LeakyReLU(-0.5), None, (0.0,)),
    "ELU": Case(lambda: nn.ELU(1.5), lambda: torch.nn.ELU(1.5), None, (0.0,)),
    "GELU": Case(nn.GELU, torch.nn.GELU, lambda t: t.gelu()),
    "GELUTanh": Case(lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh"), lambda t: t.gelu("tanh")),
    "Sigmoid": Case(nn.Sigmoid, torch.nn.Sigmoid, lambda t: t.sigmoid()),
    "Tanh": Case(nn.Tanh, torch.nn.Tanh, lambda t: t.tanh()),
    "Identity": Case(nn.Identity, torch.nn.Identity),
    "SiLU": Case(nn.SiLU, torch.nn.SiLU, lambda t: t.silu()),
    "Softplus": Case(lambda: nn.Softplus(beta=2.0, threshold=5.0), lambda: torch.nn.Softplus(2.0, 5.0),
                     lambda t: t.softplus(beta=2.0, threshold=5.0), (2.5,)),
    "Hardswish": Case(nn.Hardswish, torch.nn.Hardswish, lambda t: t.hardswish(), (-3.0, 3.0)),
    "Mish": Case(nn.Mish, torch.nn.Mish, lambda t: t.mish()),
}

DTYPES = ["float32", "float64"]
TOLERANCE = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-12)}


def inputs(dtype, rows=7):
    """Values of every magnitude, the kinks of every entry (0, ±3, thresholds) and their neighbours."""
    rng = np.random.default_rng(0)
    special = [0.0, -0.0, 1e-3, -1e-3, 3.0, -3.0, 2.5, 5.0, 10.0, -10.0, 20.0, -20.0, 30.0, -30.0, 80.0, -80.0]
    x = np.concatenate([special, rng.standard_normal(rows * 8 - len(special)) * 4])
    return x.reshape(rows, 8).astype(dtype)


def torch_forward_backward(case, x, dy):
    tx = torch.from_numpy(x).requires_grad_(True)
    ty = case.reference().to(tx.dtype)(tx)
    ty.backward(torch.from_numpy(dy))
    return ty.detach().numpy(), tx.grad.numpy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_layer_matches_pytorch(name, dtype):
    case = ACTIVATIONS[name]
    x = inputs(dtype)
    dy = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    layer = case.layer()
    y = layer.forward(x)
    dx = layer.backward(x, y, dy)
    expected_y, expected_dx = torch_forward_backward(case, x, dy)
    np.testing.assert_allclose(y, expected_y, **TOLERANCE[dtype])
    np.testing.assert_allclose(dx, expected_dx, **TOLERANCE[dtype])


def away_from_kinks(x, kinks):
    for kink in kinks:
        x = np.where(np.abs(x - kink) < 1e-3, kink + 0.5, x)
    return x


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_layer_gradcheck_float64(name):
    case = ACTIVATIONS[name]
    rng = np.random.default_rng(2)
    x = away_from_kinks(rng.standard_normal((5, 7)) * 3, case.kinks)
    r = rng.standard_normal(x.shape)
    layer = case.layer()
    y = layer.forward(x)
    dx = layer.backward(x, y, r)
    assert_gradients_close(dx, numeric_gradient(lambda: float(np.sum(r * layer.forward(x))), x), f"{name} dx")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_tensor_function_and_layer_call_match_pytorch(name, dtype):
    case = ACTIVATIONS[name]
    x = inputs(dtype, rows=3)
    dy = np.random.default_rng(3).standard_normal(x.shape).astype(dtype)
    expected_y, expected_dx = torch_forward_backward(case, x, dy)
    calls = [lambda t: case.layer()(t)] + ([case.function] if case.function else [])
    for call in calls:
        t = bprop.tensor(x, requires_grad=True, dtype=dtype)
        out = call(t)
        (out * bprop.tensor(dy, dtype=dtype)).sum().backward()
        np.testing.assert_allclose(out.numpy(), expected_y, **TOLERANCE[dtype])
        np.testing.assert_allclose(t.grad, expected_dx, **TOLERANCE[dtype])


@pytest.mark.parametrize("name", [n for n, case in ACTIVATIONS.items() if case.function])
def test_tensor_function_gradcheck_float64(name):
    case = ACTIVATIONS[name]
    x = away_from_kinks(np.random.default_rng(4).standard_normal((3, 4)) * 3, case.kinks)
    assert bprop.gradcheck(case.function, [bprop.tensor(x, requires_grad=True, dtype="float64")])


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_a_training_step_in_a_sequential_matches_pytorch(name):
    """fit runs the activation inside the compiled loop (fused after the Linear when it can be): one
    full-batch SGD step moves the weights as PyTorch's step does."""
    case = ACTIVATIONS[name]
    rng = np.random.default_rng(5)
    x, target = rng.standard_normal((16, 4)), rng.standard_normal((16, 2))
    ours = bprop.Sequential([nn.Linear(4, 6, dtype="float64"), case.layer(), nn.Linear(6, 2, dtype="float64")])
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 6), case.reference(), torch.nn.Linear(6, 2)).double()
    for mine, t in zip(ours.parameters(), theirs.parameters()):
        value = rng.standard_normal(mine.shape)
        mine.set_value(value)
        with torch.no_grad():
            t.copy_(torch.from_numpy(value.T.copy() if value.ndim == 2 else value))  # torch stores Wᵀ
    ours.compile(optim.SGD(lr=0.1), nn.MSE())
    ours.fit(x, target, epochs=1, batch_size=16, verbose=0)
    step = torch.optim.SGD(theirs.parameters(), lr=0.1)
    F.mse_loss(theirs(torch.from_numpy(x)), torch.from_numpy(target)).backward()
    step.step()
    for mine, t in zip(ours.parameters(), theirs.parameters()):
        expected = t.detach().numpy()
        np.testing.assert_allclose(mine.value(), expected.T if expected.ndim == 2 else expected, rtol=1e-10,
                                   atol=1e-12, err_msg=mine.name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_fuses_after_a_linear_exactly_when_its_derivative_reads_the_output(name, dtype):
    """Fused (one GEMM epilogue, no pre-activation kept) when f' can be read from y, and then bit for bit
    the two layers run one by one; a step of its own otherwise."""
    act = ACTIVATIONS[name].layer()
    reads_output = act.core(dtype).derivative_from_output
    model = bprop.Sequential([nn.Linear(9, 40, seed=3, dtype=dtype), act], dtype=dtype)
    model.build(9)
    assert model._net.step_names == ([f"Linear+{act.name}"] if reads_output else ["Linear", act.core(dtype).name])
    rng = np.random.default_rng(6)
    x, dy = rng.standard_normal((13, 9)).astype(dtype), rng.standard_normal((13, 40)).astype(dtype)
    y = model.forward(x, training=True)
    model.backward(dy)
    grads = [p.grad.copy() for p in model.parameters()]
    linear = model.layers[0]
    z = linear.forward(x)
    np.testing.assert_array_equal(y, act.forward(z))
    linear.backward(x, z, act.backward(z, act.forward(z), dy))
    for fused, alone in zip(grads, [p.grad for p in model.parameters()]):
        np.testing.assert_array_equal(fused, alone)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_save_and_load_round_trip(tmp_path, name):
    act = ACTIVATIONS[name].layer()
    assert type(act).from_config(act.get_config()).get_config() == act.get_config()
    model = bprop.Sequential([nn.Linear(3, 5, seed=1), act, nn.Linear(5, 2, seed=2)])
    model.save(tmp_path / "m.bprop")
    loaded = bprop.load(tmp_path / "m.bprop")
    assert loaded.get_config() == model.get_config()
    x = inputs("float32", rows=4)[:, :3]
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_propagates_nan(name, dtype):
    """A NaN going in comes out (PyTorch's behaviour): an activation that turned it into a number would
    hide a diverging run."""
    x = np.array([[np.nan, -1.0, 2.0]], dtype)
    y = ACTIVATIONS[name].layer().forward(x)
    assert np.isnan(y[0, 0]) and np.isfinite(y[0, 1:]).all()


def test_an_unknown_name_or_a_bad_parameter_is_a_value_error():
    with pytest.raises(ValueError, match=r"unknown activation 'Swish'; expected one of: Identity, ReLU, LeakyReLU"):
        bprop._core.check_activation("Swish", [])
    with pytest.raises(ValueError, match=r"^\[ELU\] alpha must be > 0; got -1$"):
        nn.ELU(alpha=-1)
    with pytest.raises(TypeError, match=r"\[LeakyReLU\] negative_slope must be a real number"):
        nn.LeakyReLU("steep")
    with pytest.raises(TypeError, match=r"\[ReLU\] too many positional arguments"):
        nn.ReLU(1.0)


# -- PReLU: the table's LeakyReLU with a learnt slope per feature (or one shared) --------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("num_parameters", [1, 8])
def test_prelu_matches_pytorch_with_its_weight_gradient(num_parameters, dtype):
    rng = np.random.default_rng(7)
    ours = nn.PReLU(num_parameters, dtype=dtype)
    theirs = torch.nn.PReLU(num_parameters).to(getattr(torch, dtype))
    slopes = rng.uniform(-1, 1, num_parameters).astype(dtype)
    ours.weight.set_value(slopes)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(slopes))
    x = inputs(dtype)
    dy = rng.standard_normal(x.shape).astype(dtype)
    y = ours.forward(x, training=True)
    dx = ours.backward(x, y, dy)
    tx = torch.from_numpy(x).requires_grad_(True)
    ty = theirs(tx)
    ty.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(y, ty.detach().numpy(), **TOLERANCE[dtype])
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TOLERANCE[dtype])
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), **TOLERANCE[dtype])
    assert ours.weight.shape == tuple(theirs.weight.shape) and ours.named_parameters()[0][0] == "weight"

    # Called on a tensor, as one graph node: the same values and the slope gradient in weight.grad.
    ours.weight.zero_grad()
    t = bprop.tensor(x, requires_grad=True, dtype=dtype)
    out = ours(t)
    (out * bprop.tensor(dy, dtype=dtype)).sum().backward()
    np.testing.assert_allclose(out.numpy(), ty.detach().numpy(), **TOLERANCE[dtype])
    np.testing.assert_allclose(t.grad, tx.grad.numpy(), **TOLERANCE[dtype])
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), **TOLERANCE[dtype])


def test_prelu_in_a_sequential_trains_as_pytorch_and_round_trips(tmp_path):
    rng = np.random.default_rng(8)
    x, target = rng.standard_normal((16, 4)), rng.standard_normal((16, 2))
    ours = bprop.Sequential([nn.Linear(4, 6, dtype="float64"), nn.PReLU(6, dtype="float64"),
                             nn.Linear(6, 2, dtype="float64"), nn.PReLU(dtype="float64")])
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.PReLU(6), torch.nn.Linear(6, 2),
                                 torch.nn.PReLU()).double()
    for mine, t in zip(ours.parameters(), theirs.parameters()):
        value = rng.standard_normal(mine.shape)
        mine.set_value(value)
        with torch.no_grad():
            t.copy_(torch.from_numpy(value.T.copy() if value.ndim == 2 else value))
    ours.compile(optim.SGD(lr=0.1), nn.MSE())
    ours.fit(x, target, epochs=1, batch_size=16, verbose=0)
    step = torch.optim.SGD(theirs.parameters(), lr=0.1)
    F.mse_loss(theirs(torch.from_numpy(x)), torch.from_numpy(target)).backward()
    step.step()
    for (name, mine), t in zip(ours.named_parameters(), theirs.parameters()):
        expected = t.detach().numpy()
        np.testing.assert_allclose(mine.value(), expected.T if expected.ndim == 2 else expected, rtol=1e-10,
                                   atol=1e-12, err_msg=name)

    lines = []
    ours.summary(print_fn=lines.append)
    assert re.search(r"\nPReLU +\(None, 6\) +6\n", lines[0]) and lines[0].endswith("Total params: 51")
    ours.save(tmp_path / "prelu.bprop")
    loaded = bprop.load(tmp_path / "prelu.bprop")
    assert loaded.get_config() == ours.get_config()
    for (name, a), (_, b) in zip(ours.named_parameters(), loaded.named_parameters()):
        np.testing.assert_array_equal(a.value(), b.value(), err_msg=name)
    np.testing.assert_array_equal(loaded.predict(x), ours.predict(x))


def test_prelu_checks_its_arguments_and_width():
    with pytest.raises(ValueError, match=r"\[PReLU\] num_parameters must be >= 1; got 0"):
        nn.PReLU(0)
    with pytest.raises(TypeError, match=r"\[PReLU\] init must be a real number"):
        nn.PReLU(init="x")
    with pytest.raises(ValueError, match=r"\[PReLU\] has 3 slopes .* got 4 input features; expected num_parameters 1 or 4"):
        nn.PReLU(3).forward(np.ones((2, 4), np.float32))
    assert bprop.Sequential([nn.PReLU(5), nn.Linear(5, 2)]).in_features == 5  # it fixes the width it has slopes for
    assert nn.PReLU.tensor_shapes({"num_parameters": 7}) == {"weight": (7,)} == nn.PReLU.tensor_shapes(
        nn.PReLU(7).get_config())
