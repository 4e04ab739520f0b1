"""Losses: the value and the gradient of a batch in one pass, computed by the C++ core.

Every loss takes ``reduction="mean"`` or ``"sum"`` with PyTorch's meaning: "sum" adds every term and
"mean" divides that sum by the number of terms (rows·outputs for MSE, MAE, Huber and BinaryCrossEntropy,
rows for CrossEntropy, less the rows its ``ignore_index`` skips). Sample weights (one per row) multiply
that row's terms and do not change the count, as in Keras: mean = Σ wᵢ·lᵢ / count.

Inputs: ``out`` must be a 2-D float32 or float64 array and sets the dtype of the computation (a
non-contiguous ``out`` is copied once). Targets and sample weights of another dtype (float64 for a
float32 ``out``, integers) are converted once to what the core takes by ``prepare_targets``; arrays
already in that form pass through without a copy.
"""
import numbers

import numpy as np

from .. import _core
from .._checks import c_array, integer
from .._dtypes import FLOAT_DTYPES, core_class, resolve_dtype
from ..autograd.tensor import as_input

__all__ = ["Loss", "MSE", "MAE", "Huber", "CrossEntropy", "BinaryCrossEntropy"]
# serialize/deserialize (below) are reached as nn.losses.serialize: nn.serialize is the layers'.

_REDUCTIONS = ("mean", "sum")
_PROBABILITY_TOLERANCE = 1e-4  # CrossEntropy probability rows must sum to 1 within this
_INT64_MIN, _INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)  # ignore_index is an int64


def _index_text(index):
    return str(index[0]) if len(index) == 1 else str(tuple(index))


def _first(mask):
    """The index (as a tuple of ints) of the first True in mask."""
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(mask)), mask.shape))


def _real(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"[{what}] must be a real number; got {type(value).__name__}")
    return float(value)


class Loss:
    """Base of bprop's losses; use a subclass.

    ``forward_backward(out, y)`` returns ``(loss, ∂loss/∂out)``; calling the loss returns the value
    alone. ``prepare_targets(y, n_outputs, dtype)`` validates and converts targets once (``fit`` does it
    for the whole dataset); ``core(dtype)`` is the C++ loss the trainer runs, made once per dtype.
    Hyperparameters are read-only after construction.
    """

    name = "Loss"  # the name shared with the core and error messages
    _hyperparameters = ()  # constructor keywords besides reduction

    def __init__(self, *, reduction="mean"):
        if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
            raise ValueError(f"[{self.name}] reduction must be 'mean' or 'sum'; got {reduction!r}")
        self._reduction = reduction
        self._cores = {}

    @property
    def reduction(self):
        return self._reduction

    def get_config(self):
        """The constructor's keywords: ``type(loss)(**loss.get_config())`` makes an equal loss."""
        config = {name: getattr(self, name) for name in self._hyperparameters}
        config["reduction"] = self._reduction
        return config

    def __repr__(self):
        args = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{self.name}({args})"

    def core(self, dtype):
        """The C++ loss (``bprop._core.<name>_<dtype>``) for float32 or float64, made once and cached."""
        dtype = resolve_dtype(dtype, self.name)
        if dtype not in self._cores:
            self._cores[dtype] = core_class(self.name, dtype)(**self.get_config())
        return self._cores[dtype]

    @property
    def ignore_index(self):
        """The class label whose rows have no term (CrossEntropy's); None for losses of values."""
        return None

    def targets_are_labels(self, y):
        """True when y holds class indices rather than values; only CrossEntropy takes them."""
        return False

    def prepare_labels(self, labels, n_outputs):
        """Class indices of any shape as int64, checked; only for a loss that takes labels (CrossEntropy)."""
        raise TypeError(f"[{self.name}] takes values shaped like its outputs, not class labels")

    def prepare_targets(self, y, n_outputs, dtype):
        """y as the core takes it: a C-contiguous (rows, n_outputs) array of ``dtype``.

        A 1-D y is accepted for a single output and becomes (rows, 1). Raises TypeError for
        non-numeric targets and ValueError for empty targets, a wrong shape or NaN/Inf.
        """
        y = self._target_array(y)
        n_outputs = self._check_n_outputs(n_outputs)
        dtype = resolve_dtype(dtype, self.name)
        if y.ndim == 1 and n_outputs == 1:
            y = y.reshape(-1, 1)
        if y.ndim != 2 or y.shape[1] != n_outputs:
            expected = self._expected_shape(y, n_outputs)
            raise ValueError(f"[{self.name}] targets have shape {y.shape}; expected {expected}")
        with np.errstate(over="ignore"):  # a value too large for dtype becomes inf, reported below
            values = c_array(y, dtype)
        self._check_finite(values, "targets")
        self._check_values(values)
        return values

    def forward_backward(self, out, y, sample_weight=None):
        """(loss, ∂loss/∂out) for outputs ``out`` (rows, n_outputs) and targets ``y``.

        ``sample_weight`` (rows,), finite and >= 0, multiplies each row's terms. The gradient is a new
        array with out's shape and dtype.
        """
        return self._evaluate(out, y, sample_weight, want_grad=True)

    def __call__(self, out, y, sample_weight=None):
        """The loss alone (no gradient is computed) for an array ``out``; for a Tensor ``out``, a scalar
        tensor recorded in its graph (see ``on_tensor``)."""
        if isinstance(out, _core.Tensor):
            return self.on_tensor(out, y, sample_weight)
        return self._evaluate(out, y, sample_weight, want_grad=False)[0]

    def on_tensor(self, out, y, sample_weight=None):
        """The loss of a Tensor ``out`` (rows, n_outputs), or (rows,) for one output, as a scalar tensor
        whose backward is this loss's gradient. Targets are checked as for arrays and never differentiated.
        An array-like ``out`` is taken as a constant tensor (its loss has no graph to differentiate)."""
        out = as_input(out, self.name)
        if out.ndim == 1:
            out = out.reshape(-1, 1)
        if out.ndim != 2 or out.size == 0:
            raise ValueError(f"[{self.name}] out must be a non-empty (rows, outputs) or (rows,) tensor; got shape "
                             f"{out.shape}")
        if isinstance(y, _core.Tensor):
            y = y.numpy()
        rows, n_outputs = out.shape
        y = self.prepare_targets(y, n_outputs, out.dtype)
        if len(y) != rows:
            raise ValueError(f"[{self.name}] targets have {len(y)} rows; expected {rows} like out of shape {out.shape}")
        weights = self._prepare_sample_weight(sample_weight, rows, out.dtype)
        return self.core(out.dtype).graph_forward(out, y, weights)

    # ---- validation shared by every loss -------------------------------------------------------

    def _evaluate(self, out, y, sample_weight, want_grad):
        out = self._check_out(out)
        rows, n_outputs = out.shape
        y = self.prepare_targets(y, n_outputs, out.dtype)
        if len(y) != rows:
            raise ValueError(f"[{self.name}] targets have {len(y)} rows; expected {rows} like out of shape {out.shape}")
        weights = self._prepare_sample_weight(sample_weight, rows, out.dtype)
        return self.core(out.dtype).forward_backward(out, y, weights, want_grad)

    def _check_out(self, out):
        if not isinstance(out, np.ndarray):
            raise TypeError(f"[{self.name}] out must be a numpy.ndarray; got {type(out).__name__}")
        if out.dtype not in FLOAT_DTYPES:
            raise TypeError(f"[{self.name}] out must be float32 or float64; got {out.dtype}")
        if out.ndim != 2 or out.size == 0:
            raise ValueError(f"[{self.name}] out must be a non-empty 2-D (rows, outputs) array; got shape {out.shape}")
        self._check_finite(out, "out")
        return c_array(out)

    def _target_array(self, y, max_ndim=2):
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            raise TypeError(f"[{self.name}] targets must be numbers; got dtype {y.dtype}")
        if y.size == 0:
            raise ValueError(f"[{self.name}] targets are empty; got shape {y.shape}")
        if y.ndim < 1 or (max_ndim is not None and y.ndim > max_ndim):
            raise ValueError(f"[{self.name}] targets must be 1-D or 2-D; got shape {y.shape}")
        return y

    def _check_n_outputs(self, n_outputs):
        if isinstance(n_outputs, bool) or not isinstance(n_outputs, numbers.Integral) or n_outputs < 1:
            raise ValueError(f"[{self.name}] n_outputs must be a positive integer; got {n_outputs!r}")
        return int(n_outputs)

    def _expected_shape(self, y, n_outputs):
        return f"({len(y)}, {n_outputs})"

    def _check_finite(self, x, what):
        finite = np.isfinite(x)
        if not finite.all():
            index = _first(~finite)
            raise ValueError(f"[{self.name}] {what} must be finite in {x.dtype}; "
                             f"got {x[index]} at index {_index_text(index)}")

    def _check_values(self, values):
        """Loss-specific checks of finite targets already in the core's dtype and shape."""

    def _check_unit_interval(self, values, what):
        outside = (values < 0) | (values > 1)
        if outside.any():
            index = _first(outside)
            raise ValueError(f"[{self.name}] {what} must be in [0, 1]; "
                             f"got {values[index]} at index {_index_text(index)}")

    def _prepare_sample_weight(self, sample_weight, rows, dtype):
        if sample_weight is None:
            return None
        weights = np.asarray(sample_weight)
        if weights.dtype.kind not in "biuf":
            raise TypeError(f"[{self.name}] sample_weight must be numbers; got dtype {weights.dtype}")
        if weights.shape != (rows,):
            raise ValueError(f"[{self.name}] sample_weight has shape {weights.shape}; "
                             f"expected ({rows},), one weight per row")
        weights = c_array(weights, dtype)
        self._check_finite(weights, "sample_weight")
        if (weights < 0).any():
            index = _first(weights < 0)
            raise ValueError(f"[{self.name}] sample_weight must be >= 0; got {weights[index]} at index {index[0]}")
        return weights


class MSE(Loss):
    """Mean squared error, term (out − y)², as ``torch.nn.MSELoss``. Targets: values shaped like out."""

    name = "MSE"


class MAE(Loss):
    """Mean absolute error, term |out − y|, as ``torch.nn.L1Loss`` (gradient 0 where out == y)."""

    name = "MAE"


class Huber(Loss):
    """Huber loss as ``torch.nn.HuberLoss(delta=delta)``: ½d² where |d| < delta, else delta·(|d| − ½delta)."""

    name = "Huber"
    _hyperparameters = ("delta",)

    def __init__(self, delta=1.0, *, reduction="mean"):
        super().__init__(reduction=reduction)
        delta = _real(delta, "Huber.delta")
        if not delta > 0:
            raise ValueError(f"[Huber] delta must be > 0; got {delta}")
        self._delta = delta

    @property
    def delta(self):
        return self._delta


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy on logits, as ``torch.nn.BCEWithLogitsLoss``; finite for any finite logit.

    Targets: values in [0, 1] shaped like out (0/1 labels or probabilities, any numeric dtype).
    """

    name = "BinaryCrossEntropy"

    def _check_values(self, values):
        self._check_unit_interval(values, "targets")


class CrossEntropy(Loss):
    """Softmax cross-entropy on logits, as ``torch.nn.CrossEntropyLoss(label_smoothing=..., ignore_index=...)``.

    The targets take one of two forms, told apart by ``targets_are_labels(y)`` (True exactly when y is
    1-D):
      - class indices: a 1-D array of one integer in [0, n_outputs) per row (floats holding whole
        numbers are accepted), prepared as int64;
      - class probabilities: a 2-D (rows, n_outputs) array with entries in [0, 1] and rows that sum to
        1 (within 1e-4), prepared in the computation's dtype.
    ``label_smoothing`` ε in [0, 1] mixes the target with the uniform distribution: (1 − ε)·t + ε/n_outputs.
    "mean" divides by the number of rows.

    ``ignore_index`` (None: nothing ignored), any integer (-100 as torch's default, or a class index):
    rows whose label equals it have no loss and a zero gradient, and "mean" divides by the rows not
    ignored, as torch. It applies to class indices only (probability targets ignore it, as torch). Sample
    weights multiply the terms of the rows that count; "mean" still divides by their count, not by the
    sum of their weights (bprop's loss contract, see the module). A batch in which every row is ignored
    has loss 0 and a zero gradient (torch gives nan there). The trainer's label metrics (accuracy,
    top_k_accuracy) skip ignored rows too, and fit/evaluate report means over the rows that count.
    """

    name = "CrossEntropy"
    _hyperparameters = ("label_smoothing", "ignore_index")

    def __init__(self, label_smoothing=0.0, *, ignore_index=None, reduction="mean"):
        super().__init__(reduction=reduction)
        label_smoothing = _real(label_smoothing, "CrossEntropy.label_smoothing")
        if not 0 <= label_smoothing <= 1:
            raise ValueError(f"[CrossEntropy] label_smoothing must be in [0, 1]; got {label_smoothing}")
        self._label_smoothing = label_smoothing
        self._ignore_index = None if ignore_index is None else integer(
            ignore_index, "ignore_index", "CrossEntropy", minimum=_INT64_MIN, maximum=_INT64_MAX)

    @property
    def label_smoothing(self):
        return self._label_smoothing

    @property
    def ignore_index(self):
        return self._ignore_index

    def targets_are_labels(self, y):
        return np.ndim(y) == 1

    def prepare_targets(self, y, n_outputs, dtype):
        """Class indices as 1-D int64, or probabilities as (rows, n_outputs) ``dtype`` (see the class).

        Beyond the checks of every loss, raises ValueError for labels that are not whole numbers or
        are out of range (and not ignore_index), and for probabilities outside [0, 1] or whose rows do
        not sum to 1.
        """
        if not self.targets_are_labels(y):
            return super().prepare_targets(y, n_outputs, dtype)
        resolve_dtype(dtype, self.name)  # the same dtype check as for probabilities
        return self.prepare_labels(y, n_outputs)

    def prepare_labels(self, labels, n_outputs):
        """Class indices of any shape ((rows,), or (n, time) with a label per position) as int64, each in
        [0, n_outputs) or equal to ignore_index; an error names the first bad label and its index."""
        labels = self._target_array(labels, max_ndim=None)
        n_outputs = self._check_n_outputs(n_outputs)
        if labels.dtype.kind == "f":
            self._check_finite(labels, "labels")
            fractional = labels != np.floor(labels)
            if fractional.any():
                index = _first(fractional)
                raise ValueError(f"[CrossEntropy] label {labels[index]} at index {_index_text(index)} is not a "
                                 "whole number")
        outside = (labels < 0) | (labels >= n_outputs)
        if self._ignore_index is not None:
            outside &= labels != self._ignore_index
        if outside.any():
            index = _first(outside)
            ignored = "" if self._ignore_index is None else f", or ignore_index {self._ignore_index}"
            raise ValueError(f"[CrossEntropy] label {int(labels[index])} at index {_index_text(index)} is out of "
                             f"range for {n_outputs} classes (expected 0..{n_outputs - 1}{ignored})")
        return c_array(labels, np.int64)

    def _expected_shape(self, y, n_outputs):
        return f"({len(y)},) class indices or ({len(y)}, {n_outputs}) probabilities"

    def _check_values(self, values):
        self._check_unit_interval(values, "probabilities")
        sums = values.sum(axis=1, dtype=np.float64)
        off = np.abs(sums - 1) > _PROBABILITY_TOLERANCE
        if off.any():
            row = int(np.argmax(off))
            raise ValueError(f"[CrossEntropy] probabilities of row {row} sum to {sums[row]:.6g}; "
                             f"expected 1 (within {_PROBABILITY_TOLERANCE:g})")


_LOSS_CLASSES = {cls.name: cls for cls in (MSE, MAE, Huber, CrossEntropy, BinaryCrossEntropy)}


def serialize(loss):
    return {"class": loss.name, "config": loss.get_config()}


def deserialize(entry):
    """A new loss from serialize()'s output; only bprop's losses (ValueError or TypeError otherwise)."""
    if not isinstance(entry, dict) or set(entry) != {"class", "config"} or not isinstance(entry["config"], dict):
        raise ValueError(f"[losses.deserialize] expected {{'class': ..., 'config': {{...}}}}; got {entry!r:.200}")
    cls = _LOSS_CLASSES.get(entry["class"]) if isinstance(entry["class"], str) else None
    if cls is None:
        raise ValueError(f"[losses.deserialize] unknown loss {entry['class']!r:.100}; expected one of "
                         f"{', '.join(_LOSS_CLASSES)}")
    return cls(**entry["config"])
