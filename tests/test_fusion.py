"""A Linear fused with the activation after it (cpp/nn/fused_step.h, paired by the capabilities of
cpp/nn/fusion.h): which pairs fuse, and that a fused pair computes bit for bit what the two layers compute
one after the other, on every GEMM path (a few rows, packed tiles, several kc slices, one or two threads)."""
import numpy as np
import pytest

import bprop
from bprop import nn

FUSING = {
    "ReLU": nn.ReLU,
    "Sigmoid": nn.Sigmoid,
    "Tanh": nn.Tanh,
    "Identity": nn.Identity,
    "ELU": lambda: nn.ELU(alpha=0.7),
    "LeakyReLU": lambda: nn.LeakyReLU(0.1),
    "LeakyReLU(0)": lambda: nn.LeakyReLU(0.0),
}
# Their derivative needs the input, which a fused pair does not keep (or they are not elementwise).
NOT_FUSING = {
    "GELU": nn.GELU,
    "GELUTanh": lambda: nn.GELU(approximate="tanh"),
    "LeakyReLU(-0.5)": lambda: nn.LeakyReLU(-0.5),
    "Softmax": nn.Softmax,
}


def steps(model, in_features):
    model.build(in_features)
    return list(model._net.step_names)


@pytest.mark.parametrize("name", FUSING)
def test_linear_then_fusing_activation_runs_as_one_step(name):
    act = FUSING[name]()
    model = bprop.Sequential([nn.Linear(4, 6), act, nn.Linear(6, 3)])
    assert steps(model, 4) == [f"Linear+{act.name}", "Linear"]


@pytest.mark.parametrize("name", NOT_FUSING)
def test_activation_that_needs_its_input_stays_a_step_of_its_own(name):
    act = NOT_FUSING[name]()
    model = bprop.Sequential([nn.Linear(4, 6), act])
    names = steps(model, 4)
    assert len(names) == 2 and names[0] == "Linear"


def test_only_adjacent_pairs_fuse():
    model = bprop.Sequential([nn.ReLU(), nn.Linear(4, 6), nn.Dropout(0.2), nn.ReLU(), nn.Linear(6, 6), nn.Tanh(),
                              nn.Linear(6, 2), nn.Sigmoid()])
    assert steps(model, 4) == ["ReLU", "Linear", "Dropout", "ReLU", "Linear+Tanh", "Linear+Sigmoid"]


def run_pair_unfused(linear, act, x, dy):
    """The two layers called one by one: no fusion involved."""
    z = linear.forward(x)
    y = act.forward(z)
    dz = act.backward(z, y, dy)
    dx = linear.backward(x, z, dz)
    return y, dx, [p.grad.copy() for p in linear.parameters()]


def run_pair_fused(model, x, dy):
    y = model.forward(x, training=True)
    model.backward(dy)
    return y, [p.grad.copy() for p in model.parameters()]


# rows: 1-3 take the few-row GEMM path, more the packed one; in_features 600 and 1100 make two and three
# kc slices (the epilogue runs on the last only); out 40 leaves edge tiles.
@pytest.mark.parametrize("rows,in_features,out_features", [(1, 7, 5), (3, 600, 40), (13, 9, 40), (130, 1100, 70)])
@pytest.mark.parametrize("name", ["ReLU", "Tanh", "ELU", "LeakyReLU"])
@pytest.mark.parametrize("thread_count", [1, 2])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_pair_matches_the_layers_one_by_one(threads, rng, rows, in_features, out_features, name, thread_count,
                                                   dtype):
    threads(thread_count)
    linear, act = nn.Linear(in_features, out_features, seed=3, dtype=dtype), FUSING[name]()
    model = bprop.Sequential([linear, act], dtype=dtype)
    model.set_weights([rng.standard_normal(w.shape) * 0.2 for w in model.get_weights()])
    model.build(in_features)
    assert model._net.step_names[0] == f"Linear+{act.name}"
    x = rng.standard_normal((rows, in_features)).astype(dtype)
    dy = rng.standard_normal((rows, out_features)).astype(dtype)

    y_fused, grads_fused = run_pair_fused(model, x, dy)
    # A model of one more layer in front cannot fuse that first pair differently, but gives dx.
    y_alone, dx_alone, grads_alone = run_pair_unfused(linear, act, x, dy)
    np.testing.assert_array_equal(y_fused, y_alone)
    for a, b in zip(grads_fused, grads_alone):
        np.testing.assert_array_equal(a, b)

    # And both agree with NumPy in float64 (the bias is added after the whole sum).
    w, b = (p.value().astype(np.float64) for p in linear.parameters())
    z = x.astype(np.float64) @ w + b
    reference = {"ReLU": np.maximum(z, 0), "Tanh": np.tanh(z), "ELU": np.where(z > 0, z, 0.7 * np.expm1(z)),
                 "LeakyReLU": np.where(z > 0, z, 0.1 * z)}[name]
    tol = 1e-4 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(y_fused, reference, rtol=tol, atol=tol)


@pytest.mark.parametrize("thread_count", [1, 2])
def test_fused_step_passes_dx_to_the_layer_before(threads, rng, thread_count):
    """A fused pair in the middle of a model hands the right gradient down (checked against the layers
    run one by one)."""
    threads(thread_count)
    first, middle, act, last = nn.Linear(5, 8, seed=1), nn.Linear(8, 9, seed=2), nn.Sigmoid(), nn.Linear(9, 2, seed=3)
    model = bprop.Sequential([first, nn.Tanh(), middle, act, last])
    x = rng.standard_normal((17, 5)).astype(np.float32)
    dy = rng.standard_normal((17, 2)).astype(np.float32)
    model.forward(x, training=True)
    model.backward(dy)
    fused_grads = [p.grad.copy() for p in model.parameters()]

    tanh = nn.Tanh()
    z1 = first.forward(x)
    a1 = tanh.forward(z1)
    z2 = middle.forward(a1)
    a2 = act.forward(z2)
    out = last.forward(a2)
    g = last.backward(a2, out, dy)
    g = act.backward(z2, a2, g)
    g = middle.backward(a1, z2, g)
    g = tanh.backward(z1, a1, g)
    first.backward(x, z1, g)
    for a, b in zip(fused_grads, [p.grad for p in model.parameters()]):
        np.testing.assert_array_equal(a, b)
