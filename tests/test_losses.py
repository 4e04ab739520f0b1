"""Losses: gradients against central differences, values and gradients against PyTorch, stability at
logits of ±1000, validation of every bad input, reductions and configs.

One registry (CASES) declares each loss with a sample configuration, its targets and its PyTorch twin;
the generic tests sweep it.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

from bprop import _core, nn

SHAPES = [(rows, cols) for rows in (1, 3, 17) for cols in (1, 3, 7)]
REDUCTIONS = ("mean", "sum")
DTYPES = (np.float32, np.float64)
TORCH_TOLERANCE = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-10)}


# ---- targets -----------------------------------------------------------------------------------

def regression_targets(rng, out):
    """y = out − d with |d| kept 0.05 away from the kinks of MAE (0) and Huber (0.5 and 1)."""
    size = rng.uniform(0.1, 2.5, out.shape)
    for kink in (0.5, 1.0):
        size[np.abs(size - kink) < 0.05] += 0.1
    return out - np.where(rng.random(out.shape) < 0.5, -size, size)


def class_labels(rng, out):
    return rng.integers(0, out.shape[1], out.shape[0])


def class_labels_some_ignored(rng, out):
    """Labels with every third row, from the second, set to -100 (ignored): one row alone is never ignored."""
    labels = class_labels(rng, out)
    labels[1::3] = -100
    return labels


def class_probabilities(rng, out):
    return rng.dirichlet(np.ones(out.shape[1]), out.shape[0])


def binary_labels(rng, out):
    return rng.integers(0, 2, out.shape).astype(np.float64)


def binary_probabilities(rng, out):
    return rng.uniform(0, 1, out.shape)


@dataclass(frozen=True)
class Case:
    id: str
    make: Callable  # make(reduction) -> bprop loss
    targets: Callable  # targets(rng, out) -> y as a user passes it
    torch_loss: Callable  # torch_loss(torch, reduction) -> the equivalent torch module

    def __repr__(self):
        return self.id


CASES = [
    Case("MSE", lambda r: nn.MSE(reduction=r), regression_targets, lambda t, r: t.nn.MSELoss(reduction=r)),
    Case("MAE", lambda r: nn.MAE(reduction=r), regression_targets, lambda t, r: t.nn.L1Loss(reduction=r)),
    Case("Huber", lambda r: nn.Huber(reduction=r), regression_targets, lambda t, r: t.nn.HuberLoss(reduction=r)),
    Case("Huber-0.5", lambda r: nn.Huber(0.5, reduction=r), regression_targets,
         lambda t, r: t.nn.HuberLoss(delta=0.5, reduction=r)),
    Case("CrossEntropy-labels", lambda r: nn.CrossEntropy(reduction=r), class_labels,
         lambda t, r: t.nn.CrossEntropyLoss(reduction=r)),
    Case("CrossEntropy-labels-smoothed", lambda r: nn.CrossEntropy(0.1, reduction=r), class_labels,
         lambda t, r: t.nn.CrossEntropyLoss(label_smoothing=0.1, reduction=r)),
    Case("CrossEntropy-labels-ignored", lambda r: nn.CrossEntropy(ignore_index=-100, reduction=r),
         class_labels_some_ignored, lambda t, r: t.nn.CrossEntropyLoss(ignore_index=-100, reduction=r)),
    # ignore_index a class (1): the rows of that class drop out, with smoothing as torch combines them.
    Case("CrossEntropy-labels-ignore-class-smoothed", lambda r: nn.CrossEntropy(0.1, ignore_index=1, reduction=r),
         class_labels, lambda t, r: t.nn.CrossEntropyLoss(ignore_index=1, label_smoothing=0.1, reduction=r)),
    Case("CrossEntropy-probabilities", lambda r: nn.CrossEntropy(reduction=r), class_probabilities,
         lambda t, r: t.nn.CrossEntropyLoss(reduction=r)),
    Case("CrossEntropy-probabilities-smoothed", lambda r: nn.CrossEntropy(0.25, reduction=r),
         class_probabilities, lambda t, r: t.nn.CrossEntropyLoss(label_smoothing=0.25, reduction=r)),
    Case("BinaryCrossEntropy-labels", lambda r: nn.BinaryCrossEntropy(reduction=r), binary_labels,
         lambda t, r: t.nn.BCEWithLogitsLoss(reduction=r)),
    Case("BinaryCrossEntropy-probabilities", lambda r: nn.BinaryCrossEntropy(reduction=r),
         binary_probabilities, lambda t, r: t.nn.BCEWithLogitsLoss(reduction=r)),
]


# ---- the shared helper -------------------------------------------------------------------------

def make_batch(case, rows, cols, dtype=np.float64, weighted=False, scale=2.0, seed=0):
    """(out, y, sample_weight) for one case: normal logits/outputs, the case's targets, weights or None."""
    rng = np.random.default_rng([seed, rows, cols])
    out = rng.normal(0, scale, (rows, cols))
    y = case.targets(rng, out)
    weights = rng.uniform(0.1, 2.0, rows) if weighted else None
    return out.astype(dtype), y, weights


def central_differences(f, x, eps=1e-6):
    """∂f/∂x element by element, (f(x + eps) − f(x − eps)) / 2eps, for float64 x."""
    grad = np.empty_like(x)
    for index in np.ndindex(*x.shape):
        saved = x[index]
        x[index] = saved + eps
        up = f(x)
        x[index] = saved - eps
        down = f(x)
        x[index] = saved
        grad[index] = (up - down) / (2 * eps)
    return grad


def assert_close(actual, expected, atol, rtol, what):
    """|actual − expected| ≤ atol + rtol·|expected| everywhere, reporting the worst element."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    excess = np.abs(actual - expected) - (atol + rtol * np.abs(expected))
    worst = np.unravel_index(np.argmax(excess), excess.shape) if excess.ndim else ()
    assert excess[worst] <= 0, f"{what} at {worst}: {actual[worst]!r} vs {expected[worst]!r}"


def torch_reference(torch, case, out, y, weights, reduction):
    """(loss, grad) from PyTorch in out's dtype: its own reduction, or reduction='none' × weights."""
    out_t = torch.tensor(out, requires_grad=True)
    y_t = torch.from_numpy(y) if y.dtype.kind == "i" else torch.from_numpy(y.astype(out.dtype))
    if weights is None:
        total = case.torch_loss(torch, reduction)(out_t, y_t)
    else:
        terms = case.torch_loss(torch, "none")(out_t, y_t)
        w = torch.from_numpy(weights.astype(out.dtype))
        weighted = terms * (w if terms.ndim == 1 else w[:, None])
        total = weighted.sum() if reduction == "sum" else weighted.sum() / term_count(case.make(reduction), out, y)
    total.backward()
    return total.item(), out_t.grad.numpy()


# ---- gradients ---------------------------------------------------------------------------------

@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("rows,cols", SHAPES)
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_gradient_matches_central_differences(case, rows, cols, reduction, weighted):
    out, y, weights = make_batch(case, rows, cols, weighted=weighted)
    loss = case.make(reduction)
    _, grad = loss.forward_backward(out, y, weights)
    numeric = central_differences(lambda x: loss(x, y, weights), out.copy())
    assert grad.dtype == np.float64 and grad.shape == out.shape
    assert_close(grad, numeric, atol=1e-8, rtol=1e-6, what=f"{case.id} gradient")


# ---- PyTorch -----------------------------------------------------------------------------------

@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("rows,cols", [(17, 7), (3, 1)])
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_matches_torch(case, rows, cols, dtype, reduction, weighted):
    torch = pytest.importorskip("torch")
    out, y, weights = make_batch(case, rows, cols, dtype, weighted)
    loss, grad = case.make(reduction).forward_backward(out, y, weights)
    expected_loss, expected_grad = torch_reference(torch, case, out, y, weights, reduction)
    assert grad.dtype == dtype
    assert_close(loss, expected_loss, what=f"{case.id} loss", **TORCH_TOLERANCE[dtype])
    assert_close(grad, expected_grad, what=f"{case.id} gradient", **TORCH_TOLERANCE[dtype])


def test_mae_gradient_is_zero_where_out_equals_y():
    out = np.array([[1.0, -2.0, 3.0]])
    _, grad = nn.MAE(reduction="sum").forward_backward(out, np.array([[1.0, 0.0, 5.0]]))
    np.testing.assert_array_equal(grad, [[0.0, -1.0, -1.0]])


# ---- stability ---------------------------------------------------------------------------------

LOGITS_1000 = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0], [1000.0, 1000.0, -1000.0]])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_cross_entropy_labels_at_logits_of_1000(dtype):
    loss, grad = nn.CrossEntropy(reduction="sum").forward_backward(LOGITS_1000.astype(dtype), [0, 0, 2])
    # Row losses: lse − z_label = 0, 2000 and 2000 + log 2; gradient softmax − one-hot.
    assert_close(loss, 4000 + np.log(2), atol=0, rtol=1e-6, what="loss")
    assert_close(grad, [[0, 0, 0], [-1, 1, 0], [0.5, 0.5, -1]], atol=1e-6, rtol=0, what="gradient")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_cross_entropy_probabilities_at_logits_of_1000(dtype):
    q = np.array([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.25, 0.25, 0.5]])
    loss, grad = nn.CrossEntropy(reduction="sum").forward_backward(LOGITS_1000.astype(dtype), q)
    # −Σ q·lsm: 0.5·2000, 0 and 0.25·log 2 + 0.25·log 2 + 0.5·(2000 + log 2).
    assert_close(loss, 2000 + np.log(2), atol=0, rtol=1e-6, what="loss")
    assert_close(grad, [[0.5, -0.5, 0], [0, 0, 0], [0.25, 0.25, -0.5]], atol=1e-6, rtol=0, what="gradient")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_binary_cross_entropy_at_logits_of_1000(dtype):
    out = np.array([[1000.0, -1000.0, 1000.0, -1000.0, 0.0]], dtype)
    loss, grad = nn.BinaryCrossEntropy(reduction="sum").forward_backward(out, [[1, 0, 0, 1, 0.5]])
    assert_close(loss, 2000 + np.log(2), atol=0, rtol=1e-6, what="loss")
    assert_close(grad, [[0, 0, 1, -1, 0]], atol=1e-6, rtol=0, what="gradient")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_finite_at_outputs_of_1000(case, dtype):
    out, y, weights = make_batch(case, 5, 3, dtype, weighted=True)
    out[:, 0], out[1:3, 1] = 1000, -1000  # a column at +1000 and rows mixing ±1000
    loss, grad = case.make("mean").forward_backward(out, case.targets(np.random.default_rng(0), out), weights)
    assert np.isfinite(loss) and np.isfinite(grad).all()


# ---- reductions, configs, the core objects -------------------------------------------------------

def term_count(loss, out, y):
    """What "mean" divides by: the rows (less those ignored) for CrossEntropy, every element otherwise."""
    if not isinstance(loss, nn.CrossEntropy):
        return out.size
    if loss.ignore_index is None or np.ndim(y) != 1:
        return out.shape[0]
    return int((np.asarray(y) != loss.ignore_index).sum())


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_sum_is_mean_times_term_count(case):
    out, y, weights = make_batch(case, 17, 7, weighted=True)
    mean_loss, mean_grad = case.make("mean").forward_backward(out, y, weights)
    sum_loss, sum_grad = case.make("sum").forward_backward(out, y, weights)
    count = term_count(case.make("sum"), out, y)
    assert_close(sum_loss, mean_loss * count, atol=0, rtol=1e-12, what="loss")
    assert_close(sum_grad, mean_grad * count, atol=1e-15, rtol=1e-12, what="gradient")


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_get_config_round_trips(case):
    loss = case.make("sum")
    clone = type(loss)(**loss.get_config())
    assert clone.get_config() == loss.get_config() and repr(clone) == repr(loss)
    out, y, _ = make_batch(case, 3, 3)
    assert clone(out, y) == loss(out, y)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_call_is_forward_backwards_loss(case):
    out, y, weights = make_batch(case, 17, 3, weighted=True)
    loss = case.make("mean")
    assert loss(out, y, weights) == loss.forward_backward(out, y, weights)[0]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_core_is_cached_per_dtype_and_derives_from_the_base(case):
    loss = case.make("sum")
    for dtype in DTYPES:
        core = loss.core(dtype)
        assert core is loss.core(np.dtype(dtype).name)
        assert isinstance(core, getattr(_core, f"Loss_{np.dtype(dtype).name}"))
        assert (core.name, core.reduction, core.dtype) == (loss.name, "sum", np.dtype(dtype).name)
        assert core.takes_labels == isinstance(loss, nn.CrossEntropy)
    assert loss.core(np.float32) is not loss.core(np.float64)


def test_core_hyperparameters_and_grad_free_call():
    assert _core.Huber_float32(delta=0.5).delta == 0.5
    assert _core.CrossEntropy_float64(label_smoothing=0.25, reduction="sum").label_smoothing == 0.25
    assert _core.CrossEntropy_float32(ignore_index=-100).ignore_index == -100
    assert _core.CrossEntropy_float32().ignore_index is None and _core.MSE_float64().ignore_index is None
    assert nn.CrossEntropy(ignore_index=np.int32(3)).ignore_index == 3 and nn.MSE().ignore_index is None
    out = np.zeros((2, 3))
    loss, grad = _core.CrossEntropy_float64().forward_backward(out, np.array([0, 2]), want_grad=False)
    assert grad is None and loss == pytest.approx(np.log(3))


def test_repr():
    assert repr(nn.CrossEntropy(0.1)) == "CrossEntropy(label_smoothing=0.1, ignore_index=None, reduction='mean')"
    assert repr(nn.CrossEntropy(ignore_index=-100)) == \
        "CrossEntropy(label_smoothing=0.0, ignore_index=-100, reduction='mean')"
    assert repr(nn.MSE(reduction="sum")) == "MSE(reduction='sum')"


# ---- target preparation ------------------------------------------------------------------------

def test_prepare_targets_forms():
    ce = nn.CrossEntropy()
    labels = ce.prepare_targets([2.0, 0.0, 1.0], 3, np.float32)
    assert labels.dtype == np.int64 and labels.tolist() == [2, 0, 1]
    probabilities = ce.prepare_targets([[0.5, 0.5, 0.0]], 3, np.float32)
    assert probabilities.dtype == np.float32 and probabilities.shape == (1, 3)
    assert ce.targets_are_labels([0, 1]) and not ce.targets_are_labels([[0.5, 0.5]])
    assert not nn.MSE().targets_are_labels([0, 1])
    column = nn.MSE().prepare_targets(np.arange(4), 1, "float64")
    assert column.dtype == np.float64 and column.shape == (4, 1)
    binary = nn.BinaryCrossEntropy().prepare_targets(np.array([[True], [False]]), 1, np.float32)
    assert binary.dtype == np.float32 and binary.ravel().tolist() == [1.0, 0.0]


def test_prepared_targets_pass_through_without_copy_and_inputs_are_not_mutated():
    y = np.array([[0.25, 0.75]], np.float32)
    assert nn.CrossEntropy().prepare_targets(y, 2, np.float32) is y
    labels = np.array([1, 0], np.int64)
    assert nn.CrossEntropy().prepare_targets(labels, 2, np.float64) is labels
    out, y64 = np.array([[1.0, 2.0]], np.float32), np.array([[0.25, 0.75]])
    saved = out.copy(), y64.copy()
    nn.CrossEntropy().forward_backward(out, y64)
    np.testing.assert_array_equal(out, saved[0])
    np.testing.assert_array_equal(y64, saved[1])


def test_non_contiguous_out_gives_the_same_result():
    rng = np.random.default_rng(3)
    out, y = rng.normal(size=(7, 5)), rng.integers(0, 5, 7)
    expected = nn.CrossEntropy().forward_backward(out, y)
    for view in (np.asfortranarray(out), np.repeat(out, 2, axis=1)[:, ::2]):
        loss, grad = nn.CrossEntropy().forward_backward(view, y)
        assert loss == expected[0]
        np.testing.assert_array_equal(grad, expected[1])


# ---- bad inputs --------------------------------------------------------------------------------

OUT = np.zeros((2, 3))
NAN_OUT = np.array([[0.0, np.nan, 0.0], [0.0, 0.0, 0.0]])

BAD_INPUTS = [
    # id, loss, out, y, sample_weight, exception, message pattern
    ("label-too-large", nn.CrossEntropy(), np.zeros((2, 10)), [3, 12], None, ValueError,
     r"\[CrossEntropy\] label 12 at index 1 is out of range for 10 classes \(expected 0\.\.9\)"),
    ("label-negative", nn.CrossEntropy(), OUT, [-1, 0], None, ValueError,
     r"label -1 at index 0 is out of range for 3 classes"),
    ("label-beside-ignore-index", nn.CrossEntropy(ignore_index=-100), OUT, [-100, -1], None, ValueError,
     r"label -1 at index 1 is out of range for 3 classes \(expected 0\.\.2, or ignore_index -100\)"),
    ("label-ignore-index-float", nn.CrossEntropy(ignore_index=-100), OUT, [-100.0, 3.0], None, ValueError,
     r"label 3 at index 1 is out of range .*or ignore_index -100\)"),
    ("label-fractional", nn.CrossEntropy(), OUT, [0, 1.5], None, ValueError,
     r"label 1\.5 at index 1 is not a whole number"),
    ("label-nan", nn.CrossEntropy(), OUT, [0, np.nan], None, ValueError, r"labels must be finite.*nan at index 1"),
    ("labels-wrong-rows", nn.CrossEntropy(), OUT, [0, 1, 2], None, ValueError,
     r"targets have 3 rows; expected 2.*\(2, 3\)"),
    ("probabilities-wrong-shape", nn.CrossEntropy(), OUT, np.full((2, 4), 0.25), None, ValueError,
     r"targets have shape \(2, 4\); expected \(2,\) class indices or \(2, 3\) probabilities"),
    ("probabilities-sum", nn.CrossEntropy(), OUT, [[0.5, 0.5, 0], [0.5, 0.2, 0.2]], None, ValueError,
     r"probabilities of row 1 sum to 0\.9; expected 1"),
    ("probabilities-negative", nn.CrossEntropy(), OUT, [[1.5, -0.5, 0], [1, 0, 0]], None, ValueError,
     r"probabilities must be in \[0, 1\]; got 1\.5 at index \(0, 0\)"),
    ("probabilities-inf", nn.CrossEntropy(), OUT, [[np.inf, 0, 0], [1, 0, 0]], None, ValueError,
     r"targets must be finite.*inf at index \(0, 0\)"),
    ("targets-nan", nn.MSE(), OUT, [[0, 0, 0], [0, np.nan, 0]], None, ValueError,
     r"\[MSE\] targets must be finite.*nan"),
    ("targets-overflow-float32", nn.MSE(), OUT.astype(np.float32), np.full((2, 3), 1e300), None, ValueError,
     r"targets must be finite in float32; got inf"),
    ("targets-wrong-shape", nn.MSE(), OUT, np.zeros((2, 2)), None, ValueError,
     r"\[MSE\] targets have shape \(2, 2\); expected \(2, 3\)"),
    ("targets-1d-for-3-outputs", nn.Huber(), OUT, np.zeros(2), None, ValueError, r"shape \(2,\); expected \(2, 3\)"),
    ("targets-3d", nn.MAE(), OUT, np.zeros((2, 3, 1)), None, ValueError, r"must be 1-D or 2-D; got shape \(2, 3, 1\)"),
    ("targets-empty", nn.MSE(), OUT, [], None, ValueError, r"\[MSE\] targets are empty"),
    ("labels-empty", nn.CrossEntropy(), OUT, np.zeros(0, np.int64), None, ValueError, r"targets are empty"),
    ("targets-strings", nn.MSE(), OUT, [["a", "b", "c"]] * 2, None, TypeError, r"targets must be numbers"),
    ("bce-target-above-1", nn.BinaryCrossEntropy(), OUT, [[0, 1, 1.5], [0, 0, 0]], None, ValueError,
     r"\[BinaryCrossEntropy\] targets must be in \[0, 1\]; got 1\.5 at index \(0, 2\)"),
    ("bce-target-negative", nn.BinaryCrossEntropy(), OUT, [[0, 1, 1], [0, -1, 0]], None, ValueError,
     r"got -1\.0 at index \(1, 1\)"),
    ("out-nan", nn.CrossEntropy(), NAN_OUT, [0, 1], None, ValueError,
     r"out must be finite in float64; got nan at index \(0, 1\)"),
    ("out-nan-mse", nn.MSE(), NAN_OUT, OUT, None, ValueError, r"\[MSE\] out must be finite"),
    ("out-1d", nn.MSE(), np.zeros(3), np.zeros(3), None, ValueError, r"out must be a non-empty 2-D .*got shape \(3,\)"),
    ("out-empty", nn.MSE(), np.zeros((0, 3)), np.zeros((0, 3)), None, ValueError, r"got shape \(0, 3\)"),
    ("out-int", nn.MSE(), np.zeros((2, 3), int), OUT, None, TypeError, r"out must be float32 or float64; got int64"),
    ("out-list", nn.MSE(), [[0.0]], [[0.0]], None, TypeError, r"out must be a numpy.ndarray; got list"),
    ("weights-wrong-shape", nn.MSE(), OUT, OUT, np.ones(3), ValueError,
     r"sample_weight has shape \(3,\); expected \(2,\)"),
    ("weights-nan", nn.MSE(), OUT, OUT, [1, np.nan], ValueError, r"sample_weight must be finite"),
    ("weights-negative", nn.MSE(), OUT, OUT, [1, -2], ValueError, r"sample_weight must be >= 0; got -2\.0 at index 1"),
]


@pytest.mark.parametrize("loss,out,y,weights,error,pattern", [row[1:] for row in BAD_INPUTS],
                         ids=[row[0] for row in BAD_INPUTS])
def test_bad_input_raises(loss, out, y, weights, error, pattern):
    with pytest.raises(error, match=pattern):
        loss.forward_backward(out, y, weights)
    with pytest.raises(error, match=pattern):
        loss(out, y, weights)


@pytest.mark.parametrize("make,error,pattern", [
    (lambda: nn.MSE(reduction="avg"), ValueError, r"\[MSE\] reduction must be 'mean' or 'sum'; got 'avg'"),
    (lambda: nn.CrossEntropy(reduction=None), ValueError, r"\[CrossEntropy\] reduction must be"),
    (lambda: nn.CrossEntropy(1.5), ValueError, r"label_smoothing must be in \[0, 1\]; got 1\.5"),
    (lambda: nn.CrossEntropy(-0.1), ValueError, r"label_smoothing must be in \[0, 1\]"),
    (lambda: nn.CrossEntropy("0.1"), TypeError, r"label_smoothing\] must be a real number; got str"),
    (lambda: nn.CrossEntropy(ignore_index=-100.0), TypeError, r"\[CrossEntropy\] ignore_index must be an integer; got float"),
    (lambda: nn.CrossEntropy(ignore_index=True), TypeError, r"ignore_index must be an integer; got bool"),
    (lambda: nn.CrossEntropy(ignore_index=2**63), ValueError, r"ignore_index must be <= 9223372036854775807"),
    (lambda: nn.Huber(0.0), ValueError, r"\[Huber\] delta must be > 0; got 0\.0"),
    (lambda: nn.Huber(float("nan")), ValueError, r"delta must be > 0; got nan"),
    (lambda: nn.Huber(True), TypeError, r"must be a real number; got bool"),
    (lambda: nn.MSE().core(np.int32), TypeError, r"float32 or float64"),
    (lambda: nn.MSE().prepare_targets([[1.0]], 0, np.float64), ValueError, r"n_outputs must be a positive integer"),
], ids=["reduction", "reduction-none", "smoothing-high", "smoothing-negative", "smoothing-str", "ignore-float",
        "ignore-bool", "ignore-huge", "delta-zero", "delta-nan", "delta-bool", "core-dtype", "n-outputs"])
def test_bad_hyperparameter_raises(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


@pytest.mark.parametrize("call,error,pattern", [
    (lambda: _core.CrossEntropy_float64().forward_backward(OUT, np.array([0, 3])), ValueError,
     r"\[CrossEntropy.forward_backward\] label 3 at index 1 is out of range for 3 classes \(expected 0\.\.2\)"),
    (lambda: _core.CrossEntropy_float64(ignore_index=-5).forward_backward(OUT, np.array([-5, -100])), ValueError,
     r"label -100 at index 1 is out of range for 3 classes \(expected 0\.\.2, or ignore_index -5\)"),
    (lambda: _core.CrossEntropy_float64().forward_backward(OUT, np.array([0, 1], np.int32)), TypeError,
     r"labels must be int64; got int32"),
    (lambda: _core.CrossEntropy_float64().forward_backward(OUT, np.array([0, 1, 2])), ValueError,
     r"labels have shape \(3,\); expected \(2,\)"),
    (lambda: _core.MSE_float64().forward_backward(OUT, np.zeros((2, 2))), ValueError,
     r"\[MSE.forward_backward\] targets has shape \(2, 2\); expected \(2, 3\)"),
    (lambda: _core.MSE_float32().forward_backward(OUT, OUT), TypeError, r"out must be float32; got float64"),
    (lambda: _core.MSE_float64().forward_backward(np.asfortranarray(np.zeros((2, 3))), OUT), TypeError,
     r"out must be C-contiguous"),
    (lambda: _core.MSE_float64().forward_backward(np.zeros(3), np.zeros(3)), ValueError, r"out must be 2-D"),
    (lambda: _core.MSE_float64().forward_backward(np.zeros((0, 3)), np.zeros((0, 3))), ValueError, r"out is empty"),
    (lambda: _core.MSE_float64().forward_backward(OUT, [[0.0] * 3] * 2), TypeError, r"incompatible function arguments"),
    (lambda: _core.MSE_float64().forward_backward(OUT, OUT, np.ones(3)), ValueError, r"sample_weight has shape \(3,\)"),
    (lambda: _core.MSE_float64().forward_backward(OUT, OUT, [1.0, 1.0]), TypeError, r"sample_weight must be a numpy"),
    (lambda: _core.MSE_float64(reduction="x"), ValueError, r"\[MSE\] reduction must be 'mean' or 'sum'; got 'x'"),
    (lambda: _core.Huber_float32(delta=-1.0), ValueError, r"\[Huber\] delta must be > 0"),
    (lambda: _core.CrossEntropy_float32(label_smoothing=2.0), ValueError, r"label_smoothing must be in \[0, 1\]"),
], ids=["label-range", "label-ignore-range", "label-dtype", "label-shape", "target-shape", "out-dtype", "out-layout", "out-1d",
        "out-empty", "targets-list", "weights-shape", "weights-list", "reduction", "delta", "smoothing"])
def test_core_checks_direct_calls(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()
