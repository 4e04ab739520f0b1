"""matmul (the @ operator) as numpy.matmul: N-D operands with broadcast batch axes and 1-D promotion,
against NumPy (forward), float64 central differences and torch (gradients, double backward)."""
import numpy as np
import pytest

import bprop
from bprop import tensor

# (a, b) shapes: every promotion and broadcasting rule of numpy.matmul, and empty sizes.
SHAPES = [
    ((3, 4), (4, 5)),
    ((4,), (4, 5)),
    ((3, 4), (4,)),
    ((4,), (4,)),
    ((2, 3, 4), (4, 5)),       # a batch against one matrix
    ((5, 4), (2, 4, 3)),       # one matrix against a batch
    ((2, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (3, 4, 5)),  # batch axes broadcast on both sides
    ((1, 3, 4), (2, 4, 5)),
    ((2, 3, 2, 4), (1, 4, 3)),
    ((4,), (2, 4, 5)),
    ((2, 3, 4), (4,)),
    ((2, 1, 3, 4), (4,)),
    ((3, 1, 1, 4), (2, 4, 1)),
    ((2, 0, 4), (4, 5)),
    ((2, 3, 0), (0, 5)),
    ((0, 3, 4), (1, 4, 2)),
    ((3, 0), (0, 4)),
]
IDS = [f"{a}@{b}" for a, b in SHAPES]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("a_shape, b_shape", SHAPES, ids=IDS)
def test_forward_matches_numpy(rng, a_shape, b_shape, dtype):
    a, b = rng.standard_normal(a_shape).astype(dtype), rng.standard_normal(b_shape).astype(dtype)
    out = tensor(a) @ tensor(b)
    expected = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert out.shape == expected.shape and out.dtype == np.dtype(dtype).name
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.numpy(), expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("a_shape, b_shape", SHAPES, ids=IDS)
def test_backward_matches_central_differences(rng, a_shape, b_shape):
    a = tensor(rng.standard_normal(a_shape), requires_grad=True)
    b = tensor(rng.standard_normal(b_shape), requires_grad=True)
    assert bprop.gradcheck(lambda a, b: a @ b, [a, b], atol=1e-8, rtol=1e-6)


@pytest.mark.parametrize("a_shape, b_shape", SHAPES, ids=IDS)
def test_gradients_match_torch(rng, a_shape, b_shape):
    torch = pytest.importorskip("torch")
    a0, b0 = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    a, b = tensor(a0, requires_grad=True), tensor(b0, requires_grad=True)
    ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    ((a @ b).tanh() * 3.0).sum().backward()
    ((ta @ tb).tanh() * 3.0).sum().backward()
    np.testing.assert_allclose(a.grad, ta.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.grad, tb.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("a_shape, b_shape", [((2, 1, 3, 4), (3, 4, 5)), ((2, 3, 4), (4, 5)), ((5, 4), (2, 4, 3))],
                         ids=["broadcast_both", "batch_against_matrix", "matrix_against_batch"])
def test_double_backward_through_batched_matmul_matches_torch(rng, a_shape, b_shape):
    torch = pytest.importorskip("torch")
    x0, w0 = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    x, w = tensor(x0, requires_grad=True), tensor(w0, requires_grad=True)
    gx, gw = bprop.grad(((x @ w).tanh() * (x @ w).exp()).sum(), [x, w], create_graph=True)
    ((gx ** 2).sum() + (gw ** 3).sum()).backward()

    tx, tw = torch.tensor(x0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    tgx, tgw = torch.autograd.grad(((tx @ tw).tanh() * (tx @ tw).exp()).sum(), [tx, tw], create_graph=True)
    ((tgx ** 2).sum() + (tgw ** 3).sum()).backward()
    np.testing.assert_allclose(gx.numpy(), tgx.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gw.numpy(), tgw.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(w.grad, tw.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_batches_do_not_depend_on_the_thread_count(rng, threads):
    a, b = rng.standard_normal((3, 1, 17, 33)), rng.standard_normal((2, 33, 9))
    threads(1)
    one = (tensor(a) @ tensor(b)).numpy().copy()
    threads(2)
    two = (tensor(a) @ tensor(b)).numpy()
    np.testing.assert_allclose(two, one, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("a_shape, b_shape, message", [
    ((3, 4), (3, 2), r"shapes \(3, 4\) and \(3, 2\) do not match; expected a's last size to equal b's "
                     r"second-to-last size, got 4 and 3"),
    ((2, 3), (4,), r"shapes \(2, 3\) and \(4,\) do not match; .*b's only size, got 3 and 4"),
    ((2, 3, 4), (3, 4, 5), r"shapes \(2, 3, 4\) and \(3, 4, 5\) do not match; expected batch dimensions that "
                           r"broadcast, got \(2,\) and \(3,\)"),
    ((2, 2, 3, 4), (3, 1, 4, 5), r"shapes \(2, 2, 3, 4\) and \(3, 1, 4, 5\) do not match"),
])
def test_mismatched_shapes_are_named(a_shape, b_shape, message):
    with pytest.raises(ValueError, match=r"\[matmul\] " + message):
        tensor(np.ones(a_shape)) @ tensor(np.ones(b_shape))
    with pytest.raises(ValueError):  # numpy agrees they do not match
        np.matmul(np.ones(a_shape), np.ones(b_shape))


def test_zero_dimensional_operands_are_refused():
    scalar = tensor(np.ones(3)).sum()
    with pytest.raises(ValueError, match=r"\[matmul\] needs operands with at least one dimension; got shapes "
                                         r"\(\) and \(3,\)"):
        scalar @ tensor(np.ones(3))
