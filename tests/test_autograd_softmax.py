"""softmax and log_softmax over any axis: forwards against NumPy, gradients against float64 central
differences and torch, double backward against torch, and the error for an axis out of range."""
import numpy as np
import pytest

import bprop
from bprop import tensor

SHAPE = (2, 3, 4)
AXES = [-3, -2, -1, 0, 1, 2]


def numpy_log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


# name -> (bprop function, NumPy reference); the torch function has the same name.
FUNCTIONS = {
    "softmax": (lambda x, axis=-1: x.softmax(axis), lambda x, axis: np.exp(numpy_log_softmax(x, axis))),
    "log_softmax": (lambda x, axis=-1: x.log_softmax(axis=axis), numpy_log_softmax),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_forward_matches_numpy(rng, name, axis, dtype):
    fn, reference = FUNCTIONS[name]
    x = (rng.standard_normal(SHAPE) * 5).astype(dtype)
    out = fn(tensor(x), axis=axis)
    assert out.shape == SHAPE and out.dtype == np.dtype(dtype).name
    tolerance = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(out.numpy(), reference(x.astype(np.float64), axis), rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_backward_matches_central_differences(rng, name, axis):
    fn = FUNCTIONS[name][0]
    x = tensor(rng.standard_normal(SHAPE), requires_grad=True)
    assert bprop.gradcheck(lambda x: fn(x, axis=axis), [x], atol=1e-8, rtol=1e-6)


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_gradients_and_double_backward_match_torch(rng, name, axis):
    torch = pytest.importorskip("torch")
    fn = FUNCTIONS[name][0]
    x0, w0 = rng.standard_normal(SHAPE), rng.standard_normal(SHAPE)
    x, w = tensor(x0, requires_grad=True), tensor(w0)
    gx = bprop.grad((fn(x, axis=axis) * w).sum(), x, create_graph=True)
    (gx * gx.exp()).sum().backward()

    tx, tw = torch.tensor(x0, requires_grad=True), torch.tensor(w0)
    (tgx,) = torch.autograd.grad((getattr(torch, name)(tx, dim=axis) * tw).sum(), tx, create_graph=True)
    (tgx * tgx.exp()).sum().backward()
    np.testing.assert_allclose(gx.numpy(), tgx.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_empty_axes(name):
    fn = FUNCTIONS[name][0]
    empty = tensor(np.ones((2, 0, 3)))
    assert fn(empty, axis=1).shape == (2, 0, 3) and fn(empty, axis=0).shape == (2, 0, 3)


@pytest.mark.parametrize("axis", [3, -4])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_axis_out_of_range_is_named(name, axis):
    with pytest.raises(ValueError, match=rf"\[{name}\] axis {axis} is out of range for 3 dimensions"):
        FUNCTIONS[name][0](tensor(np.ones(SHAPE)), axis=axis)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_zero_dimensional_input_is_refused(name):
    with pytest.raises(ValueError, match=rf"\[{name}\] needs at least one dimension; got shape \(\)"):
        FUNCTIONS[name][0](tensor(np.ones(3)).sum())
