"""Trainer: the fit / evaluate loop around the C++ training loop.

fit checks and converts the data once (x to the model's dtype, targets through the loss), then runs
each epoch in as few C++ calls as the callbacks allow: one per epoch when no callback listens to
batches, a handful when a progress bar shows, one per batch when a callback has batch hooks. The
shuffle is an index: the data are never copied per epoch.

The trainer never imports a model class. A model is anything with the training protocol: parameters(),
dtype, in_features, out_features, as_batch(x, where), and _training_loop(loss, optimizer, metrics), which
returns the loop that runs its batches (start, new_epoch, train_batches, run_epochs, evaluate,
batches_per_epoch): the C++ trainer for a Sequential, ModuleLoop for a Module.
"""
from __future__ import annotations  # annotations stay text: help() shows ArrayLike, not its expansion

import contextlib
import math
import os
import re
import threading
import warnings
import weakref
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
from numpy.typing import ArrayLike

from .. import callbacks as callbacks_module
from ..callbacks import Callback, History
from .._checks import c_array, integer
from ..io import pickling
from ..io.saving import CheckpointError, restore, save
from ..nn.layers.activations import Sigmoid, Softmax
from ..nn.losses import BinaryCrossEntropy, CrossEntropy, Loss
from ..optim import Optimizer
from ..random import resolve_seed

__all__ = ["Trainer"]

PathLike = Union[str, os.PathLike]  # a path for the files fit reads and writes

_PROGRESS_UPDATES_PER_EPOCH = 20
_MODELS_IN_FIT: weakref.WeakSet[Any] = weakref.WeakSet()  # models a fit() is training right now
_MODELS_IN_FIT_LOCK = threading.Lock()


@contextlib.contextmanager
def _one_fit_at_a_time(model):
    """Refuses a second fit of a model while one runs: from one of its callbacks, or from another thread.
    Both would interleave two runs' batches and steps in one model (and the outer fit would go on with the
    inner one's data)."""
    with _MODELS_IN_FIT_LOCK:
        if model in _MODELS_IN_FIT:
            raise ValueError(f"[fit] this {type(model).__name__} is already being trained by a fit() that has not "
                             "returned (called from one of its callbacks, or from another thread); wait for it "
                             "to finish, or train a copy")
        _MODELS_IN_FIT.add(model)
    try:
        yield
    finally:
        with _MODELS_IN_FIT_LOCK:
            _MODELS_IN_FIT.discard(model)


def warn_if_probabilities_meet_a_logit_loss(model, loss):
    """Keras users end a classifier in Sigmoid/Softmax; bprop's cross-entropies take logits and apply the
    sigmoid/softmax themselves, so the output would be squashed twice and training would stall near chance
    without a word. Say so at compile, with the fix."""
    last = model.layers[-1] if getattr(model, "layers", None) else None
    pairs = ((Sigmoid, BinaryCrossEntropy, "sigmoid"), (Softmax, CrossEntropy, "softmax"))
    for layer_type, loss_type, function in pairs:
        if isinstance(last, layer_type) and isinstance(loss, loss_type):
            warnings.warn(f"[compile] the model ends in {layer_type.__name__} but {loss_type.__name__} takes logits "
                          f"(it applies the {function} itself), so training would barely move: remove the final "
                          f"{layer_type.__name__} (apply {function} to predict()'s outputs for probabilities)",
                          UserWarning, stacklevel=4)


def check_callbacks(callbacks, where):
    """callbacks as a list of Callback instances; TypeError naming the first that is not one."""
    if callbacks is None:
        return []
    if isinstance(callbacks, callbacks_module.Callback) or not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"[{where}] callbacks must be a list of bprop.callbacks.Callback; got "
                        f"{type(callbacks).__name__}")
    for i, callback in enumerate(callbacks):
        if not isinstance(callback, callbacks_module.Callback):
            raise TypeError(f"[{where}] callbacks[{i}] is a {type(callback).__name__} ({callback!r:.60}), not a "
                            "bprop.callbacks.Callback (subclass Callback, or use LambdaCallback)")
    return list(callbacks)


def parse_metrics(metrics, loss):
    """[(log name, C++ name, k, threshold)] for metric names; ValueError for unknown ones."""
    if metrics is None:
        return []
    if isinstance(metrics, str):
        metrics = [metrics]
    if not isinstance(metrics, (list, tuple)):
        raise TypeError(f"[compile] metrics must be a list of names (accuracy, top_k_accuracy, mse, mae); got "
                        f"{type(metrics).__name__}")
    parsed = []
    threshold = 0.0 if isinstance(loss, BinaryCrossEntropy) else 0.5  # logits vs probabilities
    for name in metrics:
        if not isinstance(name, str):
            raise TypeError(f"[compile] metrics are names (accuracy, top_k_accuracy, mse, mae); got {name!r}")
        top_k = re.fullmatch(r"top_(\d+)_accuracy", name)
        if name in ("accuracy", "mse", "mae"):
            parsed.append((name, name, 1, threshold))
        elif name == "top_k_accuracy":
            parsed.append((name, name, 5, threshold))
        elif top_k:
            parsed.append((name, "top_k_accuracy", int(top_k.group(1)), threshold))
        else:
            raise ValueError(f"[compile] unknown metric {name!r}; expected accuracy, top_k_accuracy, "
                             "top_<k>_accuracy, mse or mae")
    return parsed


def _position_shape(n, sizes):
    return "(n, " + ", ".join(str(s) for s in sizes) + ")"


def _prepare_targets(loss, y, out_sample, dtype, where):
    """(targets, whether they are labels) for outputs of shape (n, *out_sample). An output with leading axes
    (..., classes) takes a label per position, (n, *leading), or values shaped like it: each position is one
    row of the loss."""
    classes, leading = out_sample[-1], out_sample[:-1]
    if not leading:
        return loss.prepare_targets(y, classes, dtype), loss.targets_are_labels(y)
    n = len(y)
    if y.shape == (n, *leading):
        rows = y.reshape(-1)
    elif y.shape == (n, *out_sample):
        rows = y.reshape(-1, classes)
    else:
        raise ValueError(f"[{where}] targets have shape {y.shape}; outputs of shape {_position_shape(n, out_sample)} "
                         f"need one label per position: {_position_shape(n, leading)}, or values of their shape")
    if loss.targets_are_labels(rows):  # checked in their own shape, so an error names (sample, position)
        return loss.prepare_labels(y, classes), True
    return loss.prepare_targets(rows, classes, dtype).reshape((n, *out_sample)), False


class _Data:
    """A dataset checked and converted once: x, targets (labels or values) and sample weights."""

    def __init__(self, trainer, x, y, sample_weight, class_weight, where):
        model, loss = trainer.model, trainer.loss
        self.x = model.as_batch(x, where)
        y = np.asarray(y)
        if y.ndim == 0 or len(y) != len(self.x):
            raise ValueError(f"[{where}] x has {len(self.x)} samples but y has "
                             f"{len(y) if y.ndim else 'a scalar, not'} {'' if y.ndim else 'samples'}".rstrip())
        targets, self.labels_given = _prepare_targets(loss, y, model.output_shape[1:], model.dtype, where)
        self.labels = targets if self.labels_given else None
        self.values = None if self.labels_given else targets
        self.sample_weight = self._weights(sample_weight, class_weight, loss.ignore_index, model.dtype, where)
        for _, core_name, k, _ in trainer.metrics:
            if core_name in ("mse", "mae") and self.labels_given:
                raise ValueError(f"[{where}] metric {core_name!r} needs value targets; these are class labels")
            if core_name == "top_k_accuracy" and k > model.out_features:
                raise ValueError(f"[{where}] top_{k}_accuracy needs at least {k} outputs; the model has "
                                 f"{model.out_features}")

    def __len__(self):
        return len(self.x)

    def _weights(self, sample_weight, class_weight, ignore_index, dtype, where):
        """One weight per sample (n,), or with per-position labels (n, *positions) when sample_weight has that
        shape or class_weight is given (each position weighs as its label's class)."""
        weights = None
        positions = self.labels.shape if self.labels is not None and self.labels.ndim > 1 else None
        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=np.float64)
            if weights.shape != (len(self.x),) and weights.shape != positions:
                expected = f"({len(self.x)},)" + ("" if positions is None else f" or {positions}, one per position")
                raise ValueError(f"[{where}] sample_weight has shape {weights.shape}; expected {expected}")
            if not np.isfinite(weights).all() or (weights < 0).any():
                raise ValueError(f"[{where}] sample_weight must be finite and >= 0")
        if class_weight is not None:
            classes = self._classes(where)
            counted = np.ones(classes.shape, bool) if ignore_index is None else classes != ignore_index
            top = int(classes[counted].max()) if counted.any() else -1
            try:
                per_class = np.array([float(class_weight.get(int(c), 1.0)) for c in range(top + 1)])
            except (AttributeError, TypeError, ValueError):
                raise TypeError(f"[{where}] class_weight must be a dict {{class index: weight}}") from None
            if not np.isfinite(per_class).all() or (per_class < 0).any():
                raise ValueError(f"[{where}] class weights must be finite and >= 0")
            # An ignored label (-100, say) has no class and no loss to weigh: 1, never an index into per_class.
            from_classes = np.ones(classes.shape)
            from_classes[counted] = per_class[classes[counted]]
            if weights is not None and weights.ndim < from_classes.ndim:  # a sample's weight on each position
                weights = weights.reshape(weights.shape + (1,) * (from_classes.ndim - 1))
            weights = from_classes if weights is None else weights * from_classes
        return None if weights is None else c_array(weights, dtype)

    def _classes(self, where):
        if self.labels is not None:
            return self.labels
        if self.values.ndim == 2 and self.values.shape[1] == 1:  # binary 0/1 targets
            return (self.values[:, 0] > 0.5).astype(np.int64)
        raise ValueError(f"[{where}] class_weight needs class labels or binary targets")

    def split(self, fraction):
        """(train, validation): the last `fraction` of the samples, before any shuffle (as Keras)."""
        n_val = int(math.floor(len(self) * fraction))
        if n_val == 0 or n_val == len(self):
            raise ValueError(f"[fit] validation_split={fraction} leaves "
                             f"{'no validation' if n_val == 0 else 'no training'} samples out of {len(self)}")
        cut = len(self) - n_val
        return self._slice(0, cut), self._slice(cut, len(self))

    def _slice(self, start, stop):
        part = object.__new__(_Data)
        part.labels_given = self.labels_given
        part.x = self.x[start:stop]
        part.labels = None if self.labels is None else self.labels[start:stop]
        part.values = None if self.values is None else self.values[start:stop]
        part.sample_weight = None if self.sample_weight is None else self.sample_weight[start:stop]
        return part

    def arrays(self):
        return self.x, self.labels, self.values, self.sample_weight


class Trainer:
    """Runs fit and evaluate for a model with an optimizer, a loss, metrics and callbacks.

    ``model.compile(optimizer, loss, metrics)`` makes one and ``model.fit``/``model.evaluate`` call it;
    make one yourself to keep callbacks that every fit of the model runs.

    Parameters
    ----------
    model : Sequential or Module
        The model to train.
    optimizer : bprop.optim.Optimizer or None
        The optimizer, bound here to the model's parameters if it is not bound yet. None for a trainer
        that only evaluates.
    loss : bprop.nn.Loss
        The loss to minimise (its value is the logs' ``loss``).
    metrics : str or list of str, optional
        Names of metrics to log besides the loss: ``"accuracy"``, ``"top_k_accuracy"`` (k = 5),
        ``"top_<k>_accuracy"``, ``"mse"``, ``"mae"``.
    callbacks : list of bprop.callbacks.Callback, optional
        Callbacks that every fit runs, before the ones fit is given.

    Raises
    ------
    TypeError
        If model, optimizer, loss, a metric or a callback is of the wrong kind.
    ValueError
        If a metric is unknown, or the optimizer is already bound to another model's parameters.

    Examples
    --------
    >>> x, y = np.random.rand(32, 3).astype(np.float32), np.random.randint(0, 2, 32)
    >>> model = bprop.Sequential([nn.Linear(3, 2)])
    >>> trainer = bprop.Trainer(model, optim.SGD(lr=0.1), nn.CrossEntropy(), metrics=["accuracy"])
    >>> history = trainer.fit(x, y, epochs=2, verbose=0)
    >>> sorted(trainer.evaluate(x, y))
    ['accuracy', 'loss']
    """

    def __init__(self, model: Any, optimizer: Optional[Optimizer], loss: Loss,
                 metrics: Union[str, Sequence[str], None] = None,
                 callbacks: Optional[Sequence[Callback]] = None) -> None:
        if not callable(getattr(model, "_training_loop", None)):
            raise TypeError(f"[Trainer] model must be a bprop Sequential or Module; got {type(model).__name__}")
        if not isinstance(loss, Loss):
            raise TypeError(f"[Trainer] loss must be a bprop loss (bprop.nn.CrossEntropy(), ...); got {loss!r}")
        if optimizer is not None and not isinstance(optimizer, Optimizer):
            raise TypeError(f"[Trainer] optimizer must be a bprop optimizer (bprop.optim.Adam(), ...); got {optimizer!r}")
        self.model, self.optimizer, self.loss = model, optimizer, loss
        self.metrics = parse_metrics(metrics, loss)
        self.callbacks = check_callbacks(callbacks, "Trainer")
        warn_if_probabilities_meet_a_logit_loss(model, loss)
        parameters = model.parameters()
        if optimizer is not None and parameters:
            # Bound now, not at the first fit: an optimizer holds one model's state, and finding out
            # later (or never) is how one optimizer compiled into two models trained the wrong one.
            try:
                optimizer.bind(parameters)
            except ValueError:
                name = type(optimizer).__name__
                raise ValueError(f"[compile] this {name} is already bound to other parameters (another model's, "
                                 f"or those it was made with); an optimizer keeps one model's state: make a new "
                                 f"{name} for this model") from None
        self.stop_training, self.stop_reason = False, None
        self.seed = None  # the current (or last) fit's seed, which checkpoints record
        self._core = None

    def __reduce__(self):
        """A model's trainer pickles as that model's (so a pickled History refers to the copy's)."""
        return pickling.reduce_trainer(self)

    def _core_trainer(self):
        if self.model.in_features is None:
            raise ValueError("[Trainer] the model's input width is unknown until it sees data")
        if self._core is None:
            if self.optimizer is not None and not self.optimizer.bound:
                self.optimizer.bind(self.model.parameters())
            metrics = [(core_name, k, threshold) for _, core_name, k, threshold in self.metrics]
            self._core = self.model._training_loop(self.loss, self.optimizer, metrics)
        return self._core

    def _logs(self, totals, prefix=""):
        # Weighted by the samples seen, or by the positions scored when labels are ignored (accounting.h);
        # nothing scored (every label ignored) reports 0, as the loss of such a batch is.
        def mean(total, weight):
            return total / weight if weight else 0.0

        logs = {prefix + "loss": mean(totals["loss_sum"], totals["loss_weight"])}
        for (name, *_), total in zip(self.metrics, totals["metric_sums"]):
            logs[prefix + name] = mean(total, totals["metric_weight"])
        return logs

    def fit(self, x: ArrayLike, y: ArrayLike, epochs: int = 1, batch_size: int = 32, validation_split: float = 0.0,
            validation_data: Optional[Tuple[ArrayLike, ...]] = None, shuffle: bool = True, seed: Optional[int] = None,
            sample_weight: Optional[ArrayLike] = None, class_weight: Optional[Mapping[int, float]] = None,
            verbose: int = 1, callbacks: Optional[Sequence[Callback]] = None,
            initial_epoch: int = 0, resume_from: Optional[PathLike] = None) -> History:
        """Train the model on (x, y) for a number of epochs.

        Every argument and the whole dataset are checked before any work, so a bad input leaves the model
        unchanged. The data are converted once (x to the model's dtype); each epoch shuffles an index.

        Parameters
        ----------
        x : array_like
            Inputs, shape (n, *sample_shape); integer indices for a model that starts with an Embedding.
        y : array_like
            Targets: class labels (n,) or values (n, outputs) for the loss; for outputs (n, ..., classes),
            a label per position (n, ...).
        epochs : int, default 1
            The index of the last epoch to train (as Keras): with initial_epoch=2 and epochs=5, three
            epochs run.
        batch_size : int, default 32
            Samples per optimizer step; a size above the dataset's is the whole dataset.
        validation_split : float, default 0.0
            The fraction of the samples, taken from the end before any shuffle, held out and evaluated
            after each epoch (logged as ``val_loss``, ``val_<metric>``). In [0, 0.5].
        validation_data : tuple, optional
            ``(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)`` to evaluate after each epoch,
            instead of validation_split.
        shuffle : bool, default True
            Shuffle the samples at each epoch.
        seed : int, optional
            Seed of this fit's shuffles and dropout masks (not the weights' initialisation); by default
            one drawn from bprop's generator (``bprop.manual_seed``).
        sample_weight : array_like, optional
            One weight >= 0 per sample (n,), or with a label per position, one per position (n, ...).
        class_weight : dict, optional
            {class index: weight}: each sample's (or position's) weight is multiplied by its label's.
            Labels equal to the loss's ignore_index have no class and are left out.
        verbose : {0, 1, 2}, default 1
            0 silent, 1 a progress bar, 2 one line per epoch.
        callbacks : list of bprop.callbacks.Callback, optional
            Callbacks for this fit, after the trainer's own.
        initial_epoch : int, default 0
            The epoch to start at (to continue an earlier fit's count).
        resume_from : str or os.PathLike, optional
            A checkpoint written by ``callbacks.ModelCheckpoint``: its weights, optimizer state, seed and
            epoch count are restored and training continues exactly as if it had never stopped (same
            thread count). Not with initial_epoch.

        Returns
        -------
        bprop.callbacks.History
            Every epoch's logs (``history.history["loss"]``), and why training stopped early, if it did.

        Raises
        ------
        ValueError
            If the model has no optimizer, an argument is out of range, x and y disagree in length or
            shape, the data hold NaN or Inf, the model is already in a fit, or resume_from does not fit
            this run.
        TypeError
            If an argument or a callback is of the wrong type.
        bprop.CheckpointError
            If resume_from is not a valid checkpoint of this model.

        Examples
        --------
        >>> x, y = np.random.rand(32, 3).astype(np.float32), np.random.randint(0, 2, 32)
        >>> trainer = bprop.Trainer(bprop.Sequential([nn.Linear(3, 2)]), optim.SGD(lr=0.1), nn.CrossEntropy())
        >>> history = trainer.fit(x, y, epochs=3, batch_size=8, validation_split=0.25, seed=0, verbose=0)
        >>> sorted(history.history), len(history.history["loss"])
        (['loss', 'val_loss'], 3)
        """
        with _one_fit_at_a_time(self.model):
            return self._fit(x, y, epochs, batch_size, validation_split, validation_data, shuffle, seed,
                             sample_weight, class_weight, verbose, callbacks, initial_epoch, resume_from)

    def _fit(self, x, y, epochs, batch_size, validation_split, validation_data, shuffle, seed, sample_weight,
             class_weight, verbose, callbacks, initial_epoch, resume_from):
        if self.optimizer is None:
            raise ValueError("[fit] needs an optimizer: call compile(optimizer=..., loss=...) first")
        epochs = integer(epochs, "epochs", "fit", minimum=0)
        batch_size = integer(batch_size, "batch_size", "fit", minimum=1, maximum=None)  # clamped to the data below
        initial_epoch = integer(initial_epoch, "initial_epoch", "fit", minimum=0)
        if initial_epoch > epochs:
            raise ValueError(f"[fit] initial_epoch ({initial_epoch}) is past epochs ({epochs}): epochs is the index "
                             "of the last epoch to train, not a count of more epochs (as in Keras)")
        callbacks = check_callbacks(callbacks, "fit")
        if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) \
                or not 0.0 <= validation_split < 1.0:
            raise ValueError(f"[fit] validation_split must be in [0, 1); got {validation_split!r}")
        if validation_split > 0.5:
            raise ValueError(f"[fit] validation_split={validation_split} would hold out {validation_split:.1%} of the "
                             "samples and train on the rest: it is the fraction held out for validation (e.g. 0.2). "
                             "Fractions above 0.5 are refused as a likely mix-up with a training fraction")
        if validation_split and validation_data is not None:
            raise ValueError("[fit] give validation_split or validation_data, not both")
        if verbose not in (0, 1, 2):
            raise ValueError(f"[fit] verbose must be 0, 1 or 2; got {verbose!r}")
        if resume_from is not None and initial_epoch:
            raise ValueError("[fit] resume_from sets the epoch to start at; do not give initial_epoch too")
        if resume_from is None:
            seed = resolve_seed(seed, "fit")

        data = _Data(self, x, y, sample_weight, class_weight, "fit")
        batch_size = min(batch_size, len(data))  # a larger batch is the whole dataset; C++ takes int64
        validation = None
        if validation_split:
            data, validation = data.split(validation_split)
        elif validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError("[fit] validation_data must be (x_val, y_val) or (x_val, y_val, sample_weight)")
            validation = _Data(self, validation_data[0], validation_data[1],
                               validation_data[2] if len(validation_data) == 3 else None, None, "fit validation_data")

        # History after the user's callbacks (it records what they add to the logs, like "lr"), the
        # progress display last.
        history = callbacks_module.History()
        listeners = list(self.callbacks) + callbacks + [history]
        if verbose:
            listeners.append(callbacks_module.ProgressBar(epochs, per_epoch_only=verbose == 2))
        cbs = callbacks_module.CallbackList(listeners)
        cbs.set_trainer(self)
        core = self._core_trainer()
        if resume_from is not None:  # after every other check: a bad argument leaves the model unchanged
            initial_epoch, seed = self._resume(resume_from, seed, epochs)
        self.seed = seed
        self.stop_training, self.stop_reason = False, None
        x_arr, labels, values, weights = data.arrays()
        core.start(x_arr, labels, values, weights, batch_size, seed, initial_epoch)
        cbs.on_train_begin({})
        if listeners == [history]:
            # Nothing needs the epochs one by one: run them all in one C++ call.
            logs = self._run_epochs_in_one_call(core, history, initial_epoch, epochs, shuffle, validation)
        else:
            logs = self._run_epochs_one_by_one(core, cbs, initial_epoch, epochs, shuffle, validation, batch_size,
                                               verbose)
        if self.stop_training and self.stop_reason is None:
            self.stop_reason = "a callback set stop_training"
        cbs.on_train_end(logs)
        history.stopped_reason = self.stop_reason
        return history

    def _resume(self, path, seed, epochs):
        """(epoch, seed) of the checkpoint at path, after loading its weights and optimizer state. The
        position is checked before anything is loaded, so a refused resume leaves the model as it was."""
        def check(position):
            if position is None:
                raise CheckpointError(f"[fit] {path} holds no training position (it was written by save(), not by "
                                      "ModelCheckpoint); load its weights with load_weights(path) instead")
            if seed is not None and resolve_seed(seed, "fit") != position["seed"]:
                raise ValueError(f"[fit] seed {seed} differs from the checkpoint's {position['seed']}; leave seed out "
                                 "to resume exactly")
            if position["epoch"] > epochs:
                raise ValueError(f"[fit] the checkpoint has {position['epoch']} epochs done, past epochs={epochs} "
                                 "(epochs is the index of the last epoch to train)")

        position = restore(self.model, self.optimizer, path, check_position=check)
        return position["epoch"], position["seed"]

    def save_checkpoint(self, path: PathLike, epoch: int) -> None:
        """Write a checkpoint that fit(resume_from=path) continues from.

        One file, written atomically: the model, the optimizer's state and the training position
        (``epoch`` epochs done, the last fit's seed, the optimizer's step count, which also places the
        learning-rate schedule). ``callbacks.ModelCheckpoint`` calls it during fit.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write; its directory must exist.
        epoch : int
            The number of epochs done, where a resumed fit starts.

        Raises
        ------
        ValueError
            If no fit has run (there is no seed to record) or epoch is negative.

        Examples
        --------
        >>> x, y = np.random.rand(32, 3).astype(np.float32), np.random.randint(0, 2, 32)
        >>> model = bprop.Sequential([nn.Linear(3, 2)])
        >>> trainer = bprop.Trainer(model, optim.SGD(lr=0.1), nn.CrossEntropy())
        >>> history = trainer.fit(x, y, epochs=2, seed=0, verbose=0)
        >>> trainer.save_checkpoint("two.bprop", 2)
        >>> history = trainer.fit(x, y, epochs=4, resume_from="two.bprop", verbose=0)
        >>> history.epoch
        [2, 3]
        """
        epoch = integer(epoch, "epoch", "Trainer.save_checkpoint", minimum=0)
        if self.seed is None:
            raise ValueError("[Trainer.save_checkpoint] no fit has run, so there is no training position to save")
        step = self.optimizer.step_count if self.optimizer is not None else 0
        save(self.model, path, include_optimizer=True,
             training={"epoch": epoch, "seed": int(self.seed), "step": int(step)})

    def _epoch_logs(self, train_totals, validation_totals):
        logs = self._logs(train_totals)
        if train_totals["nonfinite"]:
            logs["loss"] = math.nan
        if validation_totals is not None:
            logs.update(self._logs(validation_totals, "val_"))
        return logs

    def _run_epochs_in_one_call(self, core, history, initial_epoch, epochs, shuffle, validation):
        results = core.run_epochs(epochs - initial_epoch, bool(shuffle),
                                  None if validation is None else validation.arrays())
        logs = {}
        for epoch, (train_totals, validation_totals) in zip(range(initial_epoch, epochs), results):
            logs = self._epoch_logs(train_totals, validation_totals)
            history.on_epoch_end(epoch, logs)
            if train_totals["nonfinite"]:
                self._stop_on_nonfinite(epoch, train_totals["nonfinite_batch"])
        return logs

    def _run_epochs_one_by_one(self, core, cbs, initial_epoch, epochs, shuffle, validation, batch_size, verbose):
        n_batches = core.batches_per_epoch
        if cbs.wants_batches:
            chunk = 1
        elif verbose == 1:
            chunk = max(1, n_batches // _PROGRESS_UPDATES_PER_EPOCH)
        else:
            chunk = n_batches
        logs = {}
        for epoch in range(initial_epoch, epochs):
            cbs.on_epoch_begin(epoch, {})
            core.new_epoch(bool(shuffle))
            totals = {"loss_sum": 0.0, "loss_weight": 0.0, "samples": 0, "metric_sums": [0.0] * len(self.metrics),
                      "metric_weight": 0.0, "nonfinite": False}
            for first in range(0, n_batches, chunk):
                last = min(first + chunk, n_batches)
                if cbs.wants_batches:
                    cbs.on_train_batch_begin(first, {})
                part = core.train_batches(first, last)
                for key in ("loss_sum", "loss_weight", "samples", "metric_weight"):
                    totals[key] += part[key]
                totals["metric_sums"] = [a + b for a, b in zip(totals["metric_sums"], part["metric_sums"])]
                if part["nonfinite"]:
                    totals["nonfinite"] = True
                    self._stop_on_nonfinite(epoch, part["nonfinite_batch"])
                    break
                if cbs.wants_batches:
                    cbs.on_train_batch_end(first, self._logs(part))
                cbs.on_progress(last, n_batches, self._logs(totals))
                if self.stop_training:
                    break
            validation_totals = None
            if validation is not None:
                validation_totals = core.evaluate(*validation.arrays(), batch_size)
            logs = self._epoch_logs(totals, validation_totals)
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        return logs

    def _stop_on_nonfinite(self, epoch, batch):
        self.stop_training = True
        self.stop_reason = (f"non-finite loss: training stopped at epoch {epoch + 1}, batch {batch + 1}, where the "
                            "loss became NaN or Inf (before any step on it); try a lower learning rate, "
                            "gradient clipping (clipnorm=...) or checking the data")
        warnings.warn(self.stop_reason, RuntimeWarning, stacklevel=4)

    def evaluate(self, x: ArrayLike, y: ArrayLike, batch_size: int = 256,
                 sample_weight: Optional[ArrayLike] = None) -> Dict[str, float]:
        """The loss and the metrics over (x, y), in evaluation mode (no dropout, BatchNorm's running statistics).

        Parameters
        ----------
        x : array_like
            Inputs, shape (n, *sample_shape).
        y : array_like
            Targets, as for fit.
        batch_size : int, default 256
            Samples per forward pass (the result does not depend on it beyond float rounding).
        sample_weight : array_like, optional
            One weight >= 0 per sample (or per position), as for fit.

        Returns
        -------
        dict
            {"loss": value, <metric name>: value, ...}, means over the samples, weighted when weights are
            given.

        Raises
        ------
        ValueError
            If x and y disagree, the data hold NaN or Inf, or batch_size is below 1.
        TypeError
            If an argument is of the wrong type.

        Examples
        --------
        >>> x, y = np.random.rand(32, 3).astype(np.float32), np.random.randint(0, 2, 32)
        >>> trainer = bprop.Trainer(bprop.Sequential([nn.Linear(3, 2)]), None, nn.CrossEntropy(), ["accuracy"])
        >>> sorted(trainer.evaluate(x, y))
        ['accuracy', 'loss']
        """
        batch_size = integer(batch_size, "batch_size", "evaluate", minimum=1, maximum=None)
        data = _Data(self, x, y, sample_weight, None, "evaluate")
        return self._logs(self._core_trainer().evaluate(*data.arrays(), min(batch_size, len(data))))
