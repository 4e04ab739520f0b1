"""bprop.Tensor and the reverse-mode engine (cpp/autograd/): every op against float64 central
differences, the issue's example against torch.autograd, double backward, and the errors."""
import numpy as np
import pytest

import bprop
from bprop import tensor

torch = pytest.importorskip("torch")


def leaf(rng, *shape, positive=False):
    values = rng.standard_normal(shape)
    if positive:
        values = np.abs(values) + 0.5
    return tensor(values, requires_grad=True, dtype="float64")


# name -> (fn, input shapes, positive inputs)
OPS = {
    "add": (lambda a, b: a + b, [(3, 4), (4,)], False),
    "sub": (lambda a, b: a - b, [(3, 1), (1, 4)], False),
    "mul": (lambda a, b: a * b, [(2, 3, 4), (3, 1)], False),
    "div": (lambda a, b: a / b, [(3, 4), (3, 4)], True),
    "pow": (lambda a, b: a ** b, [(3, 4), (4,)], True),
    "pow_scalar": (lambda a: a ** 3, [(5,)], False),
    "rsub_scalar": (lambda a: 2.0 - a * 3.0, [(2, 2)], False),
    "matmul": (lambda a, b: a @ b, [(3, 4), (4, 5)], False),
    "matmul_vector": (lambda a, b: a @ b, [(4,), (4, 2)], False),
    "matmul_vectors": (lambda a, b: a @ b, [(4,), (4,)], False),
    "matmul_batched": (lambda a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)], False),
    "exp": (lambda a: a.exp(), [(3, 4)], False),
    "log": (lambda a: a.log(), [(3, 4)], True),
    "sqrt": (lambda a: a.sqrt(), [(3, 4)], True),
    "abs": (lambda a: abs(a), [(3, 4)], False),
    "relu": (lambda a: a.relu(), [(3, 4)], False),
    "sigmoid": (lambda a: a.sigmoid(), [(3, 4)], False),
    "tanh": (lambda a: a.tanh(), [(3, 4)], False),
    "gelu": (lambda a: a.gelu(), [(3, 4)], False),
    "gelu_tanh": (lambda a: a.gelu("tanh"), [(3, 4)], False),
    "softmax": (lambda a: a.softmax(), [(3, 5)], False),
    "log_softmax": (lambda a: a.log_softmax(-1), [(3, 5)], False),
    "softmax_axis0": (lambda a: a.softmax(0), [(3, 4, 2)], False),
    "log_softmax_axis1": (lambda a: a.log_softmax(axis=1), [(3, 4, 2)], False),
    "sum_all": (lambda a: a.sum(), [(3, 4)], False),
    "sum_axis": (lambda a: a.sum(axis=1, keepdims=True), [(3, 4, 2)], False),
    "mean_axes": (lambda a: a.mean(axis=(0, 2)), [(3, 4, 2)], False),
    "max_axis": (lambda a: a.max(axis=0), [(3, 4)], False),
    "reshape": (lambda a: a.reshape(4, -1) * 2.0, [(2, 6)], False),
    "transpose": (lambda a: a.transpose(2, 0, 1), [(2, 3, 4)], False),
    "T": (lambda a: a.T @ a, [(3, 2)], False),
    "index": (lambda a: a[1:, ::2] * a[0, 1], [(3, 4)], False),
    "fancy_index": (lambda a: a[[0, 2, 0], [1, 1, 3]], [(3, 4)], False),
    "mask_index": (lambda a: a[np.array([True, False, True]), ::-1], [(3, 4)], False),
    "ellipsis_none_index": (lambda a: a[..., None, 1:], [(2, 3)], False),
    "concatenate": (lambda a, b: bprop.concatenate([a, b], axis=1), [(2, 3), (2, 2)], False),
    "stack": (lambda a, b: bprop.stack([a, b], axis=1), [(2, 3), (2, 3)], False),
    "where": (lambda a, b: bprop.where(a > 0, a * 2.0, b), [(3, 4), (4,)], False),
    "maximum": (lambda a, b: bprop.maximum(a, b), [(3, 4), (3, 4)], False),
    "clip": (lambda a: bprop.clip(a, -0.5, 0.5), [(3, 4)], False),
    "neg": (lambda a: -a, [(3,)], False),
}


@pytest.mark.parametrize("name", OPS)
def test_op_backward_matches_central_differences(rng, name):
    fn, shapes, positive = OPS[name]
    inputs = [leaf(rng, *shape, positive=positive) for shape in shapes]
    assert bprop.gradcheck(fn, inputs, eps=1e-6, atol=1e-8, rtol=1e-6)


def test_gradcheck_reports_a_wrong_gradient(rng):
    a = leaf(rng, 3)
    # A gradient the engine computes correctly for a different function: detach hides a dependency.
    with pytest.raises(ValueError, match="gradcheck.*input 0"):
        bprop.gradcheck(lambda a: a * a.detach(), [a])


def test_issue_example_matches_torch(rng):
    x0, w0 = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    x, w = tensor(x0, requires_grad=True), tensor(w0, requires_grad=True)
    loss = ((x @ w).tanh() ** 2).mean()
    loss.backward()
    tx, tw = torch.tensor(x0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    tloss = ((tx @ tw).tanh() ** 2).mean()
    tloss.backward()
    assert abs(loss.item() - tloss.item()) <= 1e-12
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(w.grad, tw.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_fan_out_accumulates_and_backward_twice_adds(rng):
    a = leaf(rng, 3)
    y = (a * a + a.exp()).sum()
    y.backward(retain_graph=True)
    expected = 2 * a.numpy() + np.exp(a.numpy())
    np.testing.assert_allclose(a.grad, expected, rtol=1e-12)
    y.backward()
    np.testing.assert_allclose(a.grad, 2 * expected, rtol=1e-12)


def test_chain_of_100000_ops_needs_no_recursion():
    x = tensor(np.array([1.0]), requires_grad=True, dtype="float64")
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0])
    del y  # tearing the chain down must not recurse either


def test_double_backward_of_elementwise_sums_and_matmul(rng):
    x0, w0 = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    x, w = tensor(x0, requires_grad=True), tensor(w0, requires_grad=True)
    out = ((x @ w).tanh() * (x @ w).exp()).sum()
    (gx,) = [bprop.grad(out, x, create_graph=True)]
    penalty = (gx ** 2).sum()
    penalty.backward()

    tx, tw = torch.tensor(x0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    tout = ((tx @ tw).tanh() * (tx @ tw).exp()).sum()
    (tgx,) = torch.autograd.grad(tout, tx, create_graph=True)
    (tgx ** 2).sum().backward()
    np.testing.assert_allclose(gx.numpy(), tgx.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.grad, tw.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_hessian_vector_product(rng):
    x0, v0 = rng.standard_normal(5), rng.standard_normal(5)
    x = tensor(x0, requires_grad=True)
    f = (x ** 3).sum() + (x.sigmoid() * x).sum()
    g = bprop.grad(f, x, create_graph=True)
    (g * tensor(v0)).sum().backward()
    tx = torch.tensor(x0, requires_grad=True)
    tf = (tx ** 3).sum() + (tx.sigmoid() * tx).sum()
    _, hvp = torch.autograd.functional.hvp(lambda t: (t ** 3).sum() + (t.sigmoid() * t).sum(), tx,
                                           torch.tensor(v0))
    np.testing.assert_allclose(x.grad, hvp.numpy(), rtol=1e-10, atol=1e-12)
    assert tf.item() == pytest.approx(f.item(), rel=1e-12)


def test_second_derivative_of_gelu_says_it_is_missing(rng):
    x = leaf(rng, 3)
    g = bprop.grad(x.gelu().sum(), x, create_graph=True)
    with pytest.raises(ValueError, match="gelu has no second derivative"):
        g.sum().backward()


def test_float32_and_float64_promote_to_float64(rng):
    a = tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)
    b = tensor(rng.standard_normal(3), requires_grad=True)
    out = a * b
    assert out.dtype == "float64"
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad, b.numpy(), rtol=1e-6)


def test_no_grad_records_nothing(rng):
    a = leaf(rng, 3)
    with bprop.no_grad():
        b = a * 2.0
    assert b.grad_fn is None and not b.requires_grad
    assert bprop.is_grad_enabled()


def test_errors_name_the_problem(rng):
    a, b = leaf(rng, 3, 4), leaf(rng, 5)
    with pytest.raises(ValueError, match=r"\(3, 4\) and \(5,\) do not broadcast"):
        a + b
    with pytest.raises(ValueError, match=r"non-scalar output of shape \(3, 4\)"):
        (a * 2.0).backward()
    with pytest.raises(ValueError, match="matmul.*do not match"):
        a @ leaf(rng, 3, 2)
    with pytest.raises(ValueError, match="does not require grad"):
        tensor(np.ones(2)).sum().backward()
    with pytest.raises(IndexError, match="out of range"):
        a[7]
    with pytest.raises(TypeError, match="float32 or float64"):
        tensor(np.ones(2), dtype="int32")


def test_backward_through_a_freed_graph_says_so(rng):
    a = leaf(rng, 3)
    y = (a.exp() * a).sum()
    y.backward()
    with pytest.raises(ValueError, match="freed.*retain_graph=True"):
        y.backward()


def test_in_place_change_of_a_saved_tensor_is_detected(rng):
    a = leaf(rng, 3)
    h = a * 2.0
    h.name = "h"
    y = (h * h).sum()
    with bprop.no_grad():
        h._add_(tensor(np.ones(3)))
    with pytest.raises(ValueError, match="tensor 'h'.*modified in place"):
        y.backward()


def test_numpy_view_is_read_only(rng):
    a = leaf(rng, 3)
    with pytest.raises(ValueError):
        a.numpy()[0] = 1.0


def test_a_tensor_wins_over_numpy_on_either_side(rng):
    """tensor ∘ array and array ∘ tensor are tensors with their graph, as in PyTorch."""
    w = bprop.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    a = rng.standard_normal((3, 2))
    for result in (w * a, a * w, w + a, a + w, w - a, a - w, w / (a + 5), (a + 5) / w, w ** 2.0, abs(a) ** w,
                   w.T @ a, a.T @ w, w * a[0], [1.0, 2.0] * w):
        assert isinstance(result, bprop.Tensor) and result.grad_fn is not None
    pred, y = w.sum(axis=1), rng.standard_normal(3)
    ((pred - y) ** 2).mean().backward()  # a user's loss, with the target an array
    expected = np.repeat((2 / 3 * (w.numpy().sum(axis=1) - y))[:, None], 2, axis=1)
    np.testing.assert_allclose(w.grad, expected, rtol=1e-12)
    p = bprop.Parameter(np.ones(2))
    assert isinstance(a * p, bprop.Tensor) and isinstance(p * a, bprop.Tensor)


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**", "@"])
def test_none_as_an_operand_is_a_type_error(op):
    t = bprop.tensor(np.ones((2, 2)))
    p = bprop.Parameter(np.ones((2, 2)))
    for left, right in ((t, None), (None, t), (p, None), (None, p)):
        with pytest.raises(TypeError, match="None"):
            eval(f"left {op} right")


@pytest.mark.parametrize("call", [lambda: bprop.clip(None, 0, 1), lambda: bprop.maximum(None, 1),
                                  lambda: bprop.where(None, None, None), lambda: bprop.tensor(np.ones(2)) * "abc",
                                  lambda: bprop.tensor(np.ones(2)).backward("x"), lambda: bprop.stack([None]),
                                  lambda: bprop.tensor(np.ones(2)).softmax(axis=None)])
def test_functions_of_tensors_refuse_what_is_not_numbers(call):
    with pytest.raises(TypeError, match=r"^\[[\w. _]+\] "):
        call()


def test_astype_only_to_the_dtypes_tensors_hold():
    t = bprop.tensor([1.5, 2.0])
    assert t.astype("float64").dtype == "float64" and t.astype(np.float32).dtype == "float32"
    for dtype in ("int8", "float16", "bool", np.int64, "complex64"):
        with pytest.raises(TypeError, match=r"\[Tensor.astype\] tensors hold float32 or float64"):
            t.astype(dtype)


def test_clip_refuses_a_nan_bound_and_keeps_nan_values():
    t = bprop.tensor([0.5, np.nan, 2.0])
    for low, high in ((np.nan, 1.0), (0.0, np.nan)):
        with pytest.raises(ValueError, match=r"\[clip\] the bounds must not be NaN"):
            bprop.clip(t, low, high)
    values = bprop.clip(t, 0.0, 1.0).numpy()
    assert values[0] == 0.5 and np.isnan(values[1]) and values[2] == 1.0


@pytest.mark.parametrize("shape", [(3, 6148914691236517206), (2**32, 2**32), (-1, 2**62, 4)])
def test_reshape_to_sizes_that_multiply_past_int64_is_refused(shape):
    for t in (bprop.tensor([1.0, 2.0]), bprop.tensor(np.zeros(0))):
        with pytest.raises(ValueError, match=r"\[reshape\]"):
            t.reshape(*shape)


def test_one_no_grad_object_entered_twice_restores_each_level():
    guard = bprop.no_grad()
    assert bprop.is_grad_enabled()
    with guard:
        with bprop.enable_grad():
            with guard:  # the same object again, nested
                assert not bprop.is_grad_enabled()
            assert bprop.is_grad_enabled()  # restored to what this level had, not to the outer enter's
        assert not bprop.is_grad_enabled()
    assert bprop.is_grad_enabled()
    with pytest.raises(TypeError, match=r"\[no_grad\] __exit__ without a matching __enter__"):
        guard.__exit__(None, None, None)


def test_tensor_class_makes_tensors_like_the_function():
    t = bprop.Tensor([[1.0, 2.0]], requires_grad=True)
    assert isinstance(t, bprop.Tensor) and t.shape == (1, 2) and t.requires_grad
    for bad, error in ((None, TypeError), ([[1.0], [2.0, 3.0]], TypeError), ("abc", TypeError)):
        with pytest.raises(error, match=r"^\[tensor\] data"):
            bprop.Tensor(bad)
    with pytest.raises(TypeError, match=r"\[Tensor.requires_grad\] must be a bool; got str"):
        t.requires_grad = "yes"
    with pytest.raises(TypeError, match=r"\[Tensor.backward\] create_graph must be a bool"):
        (t * 2).sum().backward(create_graph=[])
