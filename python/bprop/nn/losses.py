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
from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

import numpy as np

from .. import _core
from .._checks import c_array, integer
from .._dtypes import FLOAT_DTYPES, core_class, resolve_dtype
from ..autograd.tensor import as_input

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, DTypeLike

    from .._core import Tensor

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

    Parameters
    ----------
    reduction : {"mean", "sum"}, default "mean"
        How the terms combine: their sum, or their mean (see the module's contract).

    Raises
    ------
    ValueError
        If `reduction` is neither "mean" nor "sum".

    Examples
    --------
    >>> loss = nn.MSE()
    >>> isinstance(loss, nn.Loss)
    True
    >>> float(loss(np.array([[1.0], [2.0]], np.float32), np.array([0.0, 0.0])))
    2.5
    """

    name = "Loss"  # the name shared with the core and error messages
    _hyperparameters: Tuple[str, ...] = ()  # constructor keywords besides reduction

    def __init__(self, *, reduction: str = "mean") -> None:
        if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
            raise ValueError(f"[{self.name}] reduction must be 'mean' or 'sum'; got {reduction!r}")
        self._reduction = reduction
        self._cores: Dict[np.dtype, Any] = {}

    @property
    def reduction(self) -> str:
        """How the terms combine: "mean" or "sum"."""
        return self._reduction

    def get_config(self) -> Dict[str, Any]:
        """The constructor's keywords: ``type(loss)(**loss.get_config())`` makes an equal loss.

        Returns
        -------
        dict
            The loss's hyperparameters and reduction, as plain data.

        Examples
        --------
        >>> nn.CrossEntropy(0.1).get_config()
        {'label_smoothing': 0.1, 'ignore_index': None, 'reduction': 'mean'}
        """
        config = {name: getattr(self, name) for name in self._hyperparameters}
        config["reduction"] = self._reduction
        return config

    def __repr__(self):
        args = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{self.name}({args})"

    def core(self, dtype: Any) -> Any:
        """The C++ loss the trainer runs for `dtype`, made once and cached.

        Parameters
        ----------
        dtype : numpy dtype or str
            float32 or float64.

        Returns
        -------
        object
            The ``bprop._core.<name>_<dtype>`` object.

        Raises
        ------
        TypeError
            If `dtype` is not float32 or float64.

        Examples
        --------
        >>> type(nn.MSE().core("float64")).__name__
        'MSE_float64'
        """
        dtype = resolve_dtype(dtype, self.name)
        if dtype not in self._cores:
            self._cores[dtype] = core_class(self.name, dtype)(**self.get_config())
        return self._cores[dtype]

    @property
    def ignore_index(self) -> Optional[int]:
        """The class label whose rows have no term (CrossEntropy's); None for losses of values."""
        return None

    def targets_are_labels(self, y: ArrayLike) -> bool:
        """Whether `y` holds class indices rather than values; only CrossEntropy takes them.

        Parameters
        ----------
        y : array_like
            Targets.

        Returns
        -------
        bool
            False for a loss of values.

        Examples
        --------
        >>> nn.MSE().targets_are_labels(np.array([0, 1]))
        False
        """
        return False

    def prepare_labels(self, labels: ArrayLike, n_outputs: int) -> np.ndarray:
        """Class indices as int64, checked; only for a loss that takes labels (CrossEntropy).

        Parameters
        ----------
        labels : array_like
            Class indices.
        n_outputs : int
            The number of classes.

        Returns
        -------
        numpy.ndarray
            The labels as int64 (CrossEntropy); a loss of values returns nothing and raises.

        Raises
        ------
        TypeError
            Always, for a loss that takes values shaped like its outputs.

        Examples
        --------
        >>> nn.CrossEntropy().prepare_labels([0, 2], 3)
        array([0, 2])
        """
        raise TypeError(f"[{self.name}] takes values shaped like its outputs, not class labels")

    def prepare_targets(self, y: Any, n_outputs: int, dtype: DTypeLike) -> np.ndarray:
        """Targets as the core takes them: a C-contiguous (rows, n_outputs) array of ``dtype``.

        A 1-D y is accepted for a single output and becomes (rows, 1). An array already in that form passes
        through without a copy.

        Parameters
        ----------
        y : array_like
            The targets, values shaped like the outputs.
        n_outputs : int
            The number of outputs per row.
        dtype : numpy dtype or str
            float32 or float64, the dtype of the computation.

        Returns
        -------
        numpy.ndarray
            The targets, checked.

        Raises
        ------
        TypeError
            For non-numeric targets or a dtype other than float32 and float64.
        ValueError
            For empty targets, a wrong shape, NaN or Inf, or values outside the loss's domain.

        Examples
        --------
        >>> nn.MSE().prepare_targets([1, 2], 1, "float32")
        array([[1.],
               [2.]], dtype=float32)
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

    def forward_backward(self, out: np.ndarray, y: ArrayLike,
                         sample_weight: Optional[ArrayLike] = None) -> Tuple[float, np.ndarray]:
        """The loss and its gradient with respect to the outputs, in one pass.

        Parameters
        ----------
        out : numpy.ndarray
            The outputs (rows, n_outputs), float32 or float64, finite.
        y : array_like
            The targets (see `prepare_targets`).
        sample_weight : array_like, optional
            (rows,) weights, finite and >= 0, multiplying each row's terms.

        Returns
        -------
        loss : float
            The loss.
        grad : numpy.ndarray
            ∂loss/∂out, a new array with out's shape and dtype.

        Raises
        ------
        TypeError
            If `out` is not a float32 or float64 numpy array, or the targets or weights are not numbers.
        ValueError
            If a shape does not fit, or `out`, the targets or the weights hold invalid values.

        Examples
        --------
        >>> loss, grad = nn.MSE().forward_backward(np.array([[1.0], [2.0]], np.float32), [0.0, 0.0])
        >>> loss, grad
        (2.5, array([[1.],
               [2.]], dtype=float32))
        """
        return self._evaluate(out, y, sample_weight, want_grad=True)

    def __call__(self, out: Any, y: ArrayLike, sample_weight: Optional[ArrayLike] = None) -> Any:
        """The loss alone (no gradient is computed) for an array ``out``; for a Tensor ``out``, a scalar
        tensor recorded in its graph (see ``on_tensor``)."""
        if isinstance(out, _core.Tensor):
            return self.on_tensor(out, y, sample_weight)
        return self._evaluate(out, y, sample_weight, want_grad=False)[0]

    def on_tensor(self, out: Any, y: ArrayLike, sample_weight: Optional[ArrayLike] = None) -> Tensor:
        """The loss of a Tensor, as a scalar tensor whose backward is this loss's gradient.

        Targets are checked as for arrays and never differentiated. Calling the loss on a Tensor does this.

        Parameters
        ----------
        out : Tensor or array_like
            The outputs (rows, n_outputs), or (rows,) for one output; an array-like is taken as a constant
            tensor (its loss has no graph to differentiate).
        y : array_like or Tensor
            The targets (a Tensor is read as a constant).
        sample_weight : array_like, optional
            (rows,) weights, finite and >= 0, multiplying each row's terms.

        Returns
        -------
        Tensor
            The loss, a scalar tensor recorded in out's graph.

        Raises
        ------
        ValueError
            If `out` is empty or not (rows, n_outputs) or (rows,), or the targets or weights do not fit.
        TypeError
            If the targets or weights are not numbers.

        Examples
        --------
        >>> out = bprop.tensor(np.zeros((2, 3), np.float32), requires_grad=True)
        >>> loss = nn.CrossEntropy().on_tensor(out, np.array([0, 2]))
        >>> loss.backward()
        >>> out.grad.shape
        (2, 3)
        """
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
    """Mean squared error, term (out − y)², as ``torch.nn.MSELoss``.

    Targets: values shaped like out.

    Parameters
    ----------
    reduction : {"mean", "sum"}, default "mean"
        How the terms combine: their sum, or their mean (see the module's contract).

    Raises
    ------
    ValueError
        If `reduction` is neither "mean" nor "sum".

    Examples
    --------
    >>> float(nn.MSE()(np.array([[1.0], [2.0]], np.float32), np.array([0.0, 0.0])))
    2.5
    >>> float(nn.MSE(reduction="sum")(np.array([[1.0], [2.0]], np.float32), np.array([0.0, 0.0])))
    5.0
    """

    name = "MSE"


class MAE(Loss):
    """Mean absolute error, term |out − y|, as ``torch.nn.L1Loss`` (gradient 0 where out == y).

    Targets: values shaped like out.

    Parameters
    ----------
    reduction : {"mean", "sum"}, default "mean"
        How the terms combine: their sum, or their mean (see the module's contract).

    Raises
    ------
    ValueError
        If `reduction` is neither "mean" nor "sum".

    Examples
    --------
    >>> float(nn.MAE()(np.array([[1.0], [-2.0]], np.float32), np.array([0.0, 0.0])))
    1.5
    """

    name = "MAE"


class Huber(Loss):
    """Huber loss as ``torch.nn.HuberLoss(delta=delta)``: ½d² where |d| < delta, else delta·(|d| − ½delta).

    d = out − y; targets are values shaped like out.

    Parameters
    ----------
    delta : float, default 1.0
        Where the loss turns from quadratic to linear (> 0).
    reduction : {"mean", "sum"}, default "mean"
        How the terms combine: their sum, or their mean (see the module's contract).

    Raises
    ------
    TypeError
        If `delta` is not a real number.
    ValueError
        If `delta` is not > 0 or `reduction` is neither "mean" nor "sum".

    Examples
    --------
    >>> float(nn.Huber(1.0)(np.array([[0.5], [3.0]], np.float32), np.array([0.0, 0.0])))
    1.3125
    """

    name = "Huber"
    _hyperparameters = ("delta",)

    def __init__(self, delta: float = 1.0, *, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        delta = _real(delta, "Huber.delta")
        if not delta > 0:
            raise ValueError(f"[Huber] delta must be > 0; got {delta}")
        self._delta = delta

    @property
    def delta(self) -> float:
        """Where the loss turns from quadratic to linear."""
        return self._delta


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy on logits, as ``torch.nn.BCEWithLogitsLoss``; finite for any finite logit.

    Targets: values in [0, 1] shaped like out (0/1 labels or probabilities, any numeric dtype).

    Parameters
    ----------
    reduction : {"mean", "sum"}, default "mean"
        How the terms combine: their sum, or their mean (see the module's contract).

    Raises
    ------
    ValueError
        If `reduction` is neither "mean" nor "sum"; when evaluated, for targets outside [0, 1].

    Examples
    --------
    >>> round(float(nn.BinaryCrossEntropy()(np.zeros((2, 1), np.float32), np.array([0.0, 1.0]))), 6)
    0.693147
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

    Parameters
    ----------
    label_smoothing : float, default 0.0
        ε in [0, 1].
    ignore_index : int, optional
        The label whose rows have no loss; None (the default) ignores nothing.
    reduction : {"mean", "sum"}, default "mean"
        How the terms combine: their sum, or their mean (see the module's contract).

    Raises
    ------
    TypeError
        If `label_smoothing` is not a real number or `ignore_index` not an integer.
    ValueError
        If `label_smoothing` is outside [0, 1], `ignore_index` outside int64, or `reduction` is neither
        "mean" nor "sum".

    Examples
    --------
    >>> loss = nn.CrossEntropy()
    >>> logits = np.array([[2.0, 0.5], [0.1, 1.0]], np.float32)
    >>> round(float(loss(logits, np.array([0, 1]))), 4)
    0.2713
    >>> round(float(loss(logits, np.array([[1.0, 0.0], [0.0, 1.0]]))), 4)
    0.2713
    >>> float(nn.CrossEntropy(ignore_index=-100)(logits, np.array([0, -100]))) == float(loss(logits[:1], [0]))
    True
    """

    name = "CrossEntropy"
    _hyperparameters = ("label_smoothing", "ignore_index")

    def __init__(self, label_smoothing: float = 0.0, *, ignore_index: Optional[int] = None,
                 reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        label_smoothing = _real(label_smoothing, "CrossEntropy.label_smoothing")
        if not 0 <= label_smoothing <= 1:
            raise ValueError(f"[CrossEntropy] label_smoothing must be in [0, 1]; got {label_smoothing}")
        self._label_smoothing = label_smoothing
        self._ignore_index = None if ignore_index is None else integer(
            ignore_index, "ignore_index", "CrossEntropy", minimum=_INT64_MIN, maximum=_INT64_MAX)

    @property
    def label_smoothing(self) -> float:
        """The label smoothing ε, in [0, 1]."""
        return self._label_smoothing

    @property
    def ignore_index(self) -> Optional[int]:
        """The label whose rows have no loss, or None."""
        return self._ignore_index

    def targets_are_labels(self, y: ArrayLike) -> bool:
        """Whether `y` holds class indices (1-D) rather than probabilities (2-D).

        Parameters
        ----------
        y : array_like
            Targets.

        Returns
        -------
        bool
            True exactly when y is 1-D.

        Examples
        --------
        >>> nn.CrossEntropy().targets_are_labels(np.array([0, 1]))
        True
        >>> nn.CrossEntropy().targets_are_labels(np.eye(2))
        False
        """
        return np.ndim(y) == 1

    def prepare_targets(self, y: ArrayLike, n_outputs: int, dtype: DTypeLike) -> np.ndarray:
        """Class indices as 1-D int64, or probabilities as (rows, n_outputs) ``dtype`` (see the class).

        Parameters
        ----------
        y : array_like
            Class indices (1-D) or probabilities (2-D).
        n_outputs : int
            The number of classes.
        dtype : numpy dtype or str
            float32 or float64, the dtype of the computation.

        Returns
        -------
        numpy.ndarray
            The labels as int64, or the probabilities in `dtype`.

        Raises
        ------
        TypeError
            For non-numeric targets or a dtype other than float32 and float64.
        ValueError
            Beyond the checks of every loss, for labels that are not whole numbers or are out of range
            (and not ignore_index), and for probabilities outside [0, 1] or whose rows do not sum to 1.

        Examples
        --------
        >>> nn.CrossEntropy().prepare_targets([0, 1], 2, "float32")
        array([0, 1])
        >>> nn.CrossEntropy().prepare_targets([[0.5, 0.5]], 2, "float32")
        array([[0.5, 0.5]], dtype=float32)
        """
        if not self.targets_are_labels(y):
            return super().prepare_targets(y, n_outputs, dtype)
        resolve_dtype(dtype, self.name)  # the same dtype check as for probabilities
        return self.prepare_labels(y, n_outputs)

    def prepare_labels(self, labels: Any, n_outputs: int) -> np.ndarray:
        """Class indices of any shape as int64, each checked to be in [0, n_outputs) or ignore_index.

        Labels may be (rows,), or (n, time) with a label per position; floats holding whole numbers are
        accepted.

        Parameters
        ----------
        labels : array_like
            Class indices.
        n_outputs : int
            The number of classes.

        Returns
        -------
        numpy.ndarray
            The labels as C-contiguous int64.

        Raises
        ------
        TypeError
            For non-numeric labels.
        ValueError
            For empty labels, NaN/Inf, a label that is not a whole number or is out of range (the error
            names the first and its index), or an `n_outputs` that is not a positive integer.

        Examples
        --------
        >>> nn.CrossEntropy().prepare_labels([[0, 1], [2, 0]], 3)
        array([[0, 1],
               [2, 0]])
        """
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
