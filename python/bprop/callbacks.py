"""Callbacks: hooks into Trainer.fit, as in Keras.

A callback sees the trainer (``self.trainer``, with ``.model`` and ``.optimizer``) and may stop training
with ``self.model.stop_training = True`` (Keras's idiom) or ``self.trainer.stop_training = True``. Batch hooks cost nothing unless a callback defines them: the
trainer then runs one C++ call per batch instead of one per epoch.
"""
import math
import numbers
import os
import sys
import time
import warnings

import numpy as np

from ._checks import file_path, flag, integer, real

__all__ = ["Callback", "History", "EarlyStopping", "LearningRateScheduler", "ReduceLROnPlateau", "TerminateOnNaN",
           "LambdaCallback", "ProgressBar", "ModelCheckpoint"]


class Callback:
    trainer = None

    def set_trainer(self, trainer):
        self.trainer = trainer

    @property
    def model(self):
        return self.trainer.model

    def on_train_begin(self, logs):
        pass

    def on_train_end(self, logs):
        pass

    def on_epoch_begin(self, epoch, logs):
        pass

    def on_epoch_end(self, epoch, logs):
        pass

    def on_train_batch_begin(self, batch, logs):
        pass

    def on_train_batch_end(self, batch, logs):
        pass

    def on_progress(self, batches_done, batches_total, logs):
        """After each chunk of batches the trainer ran in one call (for progress displays)."""

    @property
    def wants_batches(self):
        """True when this callback defines a batch hook: the trainer then steps one batch per call."""
        cls = type(self)
        return (cls.on_train_batch_begin is not Callback.on_train_batch_begin
                or cls.on_train_batch_end is not Callback.on_train_batch_end)


class CallbackList(Callback):
    """Dispatches every hook to each callback in order."""

    def __init__(self, callbacks):
        self.callbacks = list(callbacks)

    def set_trainer(self, trainer):
        for c in self.callbacks:
            c.set_trainer(trainer)

    @property
    def wants_batches(self):
        return any(c.wants_batches for c in self.callbacks)


def _dispatcher(name):
    def dispatch(self, *args):
        for c in self.callbacks:
            getattr(c, name)(*args)
    return dispatch


for _hook in ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
              "on_train_batch_end", "on_progress"):
    setattr(CallbackList, _hook, _dispatcher(_hook))


class History(Callback):
    """Every epoch's logs: ``history.history["val_accuracy"][-1]``. fit() returns it.

    ``stopped_reason`` says why training ended early (non-finite loss, a callback), else None.
    """

    def __init__(self):
        self.history = {}
        self.epoch = []
        self.stopped_reason = None

    def on_epoch_end(self, epoch, logs):
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)


def finite(value, name, where):
    """value as a finite float; TypeError/ValueError naming it otherwise."""
    value = real(value, name, where)
    if not math.isfinite(value):
        raise ValueError(f"[{where}] {name} must be finite; got {value}")
    return value


def _improvement_rule(monitor, mode, min_delta, where):
    if not isinstance(monitor, str):
        raise TypeError(f"[{where}] monitor must be the name of a logged value (a str); got {type(monitor).__name__}")
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"[{where}] mode must be 'auto', 'min' or 'max'; got {mode!r}")
    if mode == "auto":
        mode = "max" if monitor.endswith(("accuracy", "acc")) else "min"
    if mode == "min":
        return lambda current, best: current < best - min_delta, math.inf
    return lambda current, best: current > best + min_delta, -math.inf


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by min_delta for `patience` epochs in a row (Keras's rule:
    patience=3 stops at the third epoch without improvement; 0 or 1, at the first); with restore_best,
    put back the weights of the best epoch."""

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto", restore_best=False,
                 baseline=None):
        patience = integer(patience, "patience", "EarlyStopping", minimum=0)
        min_delta = abs(finite(min_delta, "min_delta", "EarlyStopping"))
        self.monitor, self.min_delta, self.patience = monitor, min_delta, patience
        self.improved, self._initial_best = _improvement_rule(monitor, mode, min_delta, "EarlyStopping")
        self.restore_best = flag(restore_best, "restore_best", "EarlyStopping")
        self.baseline = None if baseline is None else finite(baseline, "baseline", "EarlyStopping")
        self.stopped_epoch = None

    def on_train_begin(self, logs):
        self.best = self._initial_best if self.baseline is None else self.baseline
        self.best_weights, self.best_epoch, self.wait, self.stopped_epoch = None, None, 0, None

    def on_epoch_end(self, epoch, logs):
        if self.monitor not in logs:
            raise ValueError(f"[EarlyStopping] monitors {self.monitor!r}, which fit does not log; logged: "
                             f"{sorted(logs)} (val_ metrics need validation data)")
        current = logs[self.monitor]
        if self.improved(current, self.best):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True
            self.trainer.stop_reason = (f"EarlyStopping: {self.monitor} did not improve for {self.wait} epochs "
                                        f"(best {self.best:.6g} at epoch {self.best_epoch})")

    def on_train_end(self, logs):
        if self.restore_best and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch's start to schedule(epoch, lr)."""

    def __init__(self, schedule, verbose=0):
        if not callable(schedule):
            raise TypeError("[LearningRateScheduler] schedule must be callable as schedule(epoch, lr)")
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs):
        lr = self.schedule(epoch, self.trainer.optimizer.lr)
        if isinstance(lr, (bool, np.bool_)) or not isinstance(lr, numbers.Real):
            raise TypeError(f"[LearningRateScheduler] schedule returned {type(lr).__name__} at epoch {epoch}; "
                            "expected a learning rate (a real number)")
        lr = float(lr)
        if not (math.isfinite(lr) and lr >= 0):
            raise ValueError(f"[LearningRateScheduler] schedule returned lr={lr} at epoch {epoch}")
        self.trainer.optimizer.lr = lr
        if self.verbose:
            print(f"Epoch {epoch + 1}: learning rate {lr:.6g}")


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by `factor` when `monitor` stalls for `patience` epochs."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, mode="auto", min_delta=1e-4, cooldown=0,
                 min_lr=0.0, verbose=0):
        where = "ReduceLROnPlateau"
        factor = real(factor, "factor", where)
        if not 0.0 < factor < 1.0:
            raise ValueError(f"[ReduceLROnPlateau] factor must be in (0, 1); got {factor}")
        min_delta, min_lr = abs(finite(min_delta, "min_delta", where)), finite(min_lr, "min_lr", where)
        if min_lr < 0:
            raise ValueError(f"[ReduceLROnPlateau] min_lr must be >= 0; got {min_lr}")
        self.monitor, self.factor, self.patience = monitor, factor, integer(patience, "patience", where, minimum=0)
        self.improved, self._initial_best = _improvement_rule(monitor, mode, min_delta, where)
        self.cooldown, self.min_lr, self.verbose = integer(cooldown, "cooldown", where, minimum=0), min_lr, verbose

    def on_train_begin(self, logs):
        self.best, self.wait, self.cooldown_left = self._initial_best, 0, 0

    def on_epoch_end(self, epoch, logs):
        if self.monitor not in logs:
            raise ValueError(f"[ReduceLROnPlateau] monitors {self.monitor!r}, which fit does not log; logged: "
                             f"{sorted(logs)}")
        current = logs[self.monitor]
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.wait = 0
        if self.improved(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_left == 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = self.trainer.optimizer.lr
                new = max(old * self.factor, self.min_lr)
                if new < old:
                    self.trainer.optimizer.lr = new
                    if self.verbose:
                        print(f"Epoch {epoch + 1}: ReduceLROnPlateau lowered the learning rate to {new:.6g}")
                self.cooldown_left, self.wait = self.cooldown, 0
        logs["lr"] = self.trainer.optimizer.lr


class TerminateOnNaN(Callback):
    """Stop when an epoch's loss or validation loss is NaN or Inf (the trainer already stops at a
    non-finite batch loss; this also watches the validation loss)."""

    def on_epoch_end(self, epoch, logs):
        for key in ("loss", "val_loss"):
            if key in logs and not math.isfinite(logs[key]):
                self.trainer.stop_training = True
                self.trainer.stop_reason = f"TerminateOnNaN: {key} is {logs[key]} at epoch {epoch + 1}"


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. LambdaCallback(on_epoch_end=lambda epoch, logs: ...)."""

    _HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
              "on_train_batch_end")

    def __init__(self, **hooks):
        unknown = set(hooks) - set(self._HOOKS)
        if unknown:
            raise ValueError(f"[LambdaCallback] unknown hooks {sorted(unknown)}; expected some of {self._HOOKS}")
        self._hooks = {name: fn for name, fn in hooks.items() if fn is not None}
        for name, fn in self._hooks.items():
            if not callable(fn):
                raise TypeError(f"[LambdaCallback] {name} must be callable")
            setattr(self, name, fn)

    @property
    def wants_batches(self):
        return "on_train_batch_begin" in self._hooks or "on_train_batch_end" in self._hooks


def _format_logs(logs):
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items() if isinstance(v, (float, int, np.floating)))


class ProgressBar(Callback):
    """Progress of each epoch: tqdm's bar when tqdm is installed and the output is a terminal, a plain
    built-in bar otherwise on a terminal, and one line per epoch when the output is not a terminal."""

    def __init__(self, epochs, stream=None, per_epoch_only=False):
        self.epochs, self.stream = epochs, stream or sys.stdout
        self.live = not per_epoch_only and hasattr(self.stream, "isatty") and self.stream.isatty()
        self._tqdm = None
        if self.live:
            try:
                from tqdm import tqdm
                self._tqdm = tqdm
            except ImportError:
                pass

    def on_epoch_begin(self, epoch, logs):
        self.epoch, self.start, self.bar = epoch, time.perf_counter(), None

    def on_progress(self, done, total, logs):
        if not self.live:
            return
        if self._tqdm is not None:
            if self.bar is None:
                self.bar = self._tqdm(total=total, desc=f"Epoch {self.epoch + 1}/{self.epochs}", file=self.stream,
                                      leave=True, unit="batch")
            self.bar.n = done
            self.bar.set_postfix_str(_format_logs(logs), refresh=True)
            return
        filled = int(30 * done / max(total, 1))
        self.stream.write(f"\rEpoch {self.epoch + 1}/{self.epochs} [{'=' * filled}{'.' * (30 - filled)}] "
                          f"{done}/{total} - {_format_logs(logs)}")
        self.stream.flush()

    def on_epoch_end(self, epoch, logs):
        seconds = time.perf_counter() - self.start
        if self.bar is not None:
            self.bar.set_postfix_str(_format_logs(logs), refresh=True)
            self.bar.close()
            return
        prefix = "\r" if self.live else ""
        self.stream.write(f"{prefix}Epoch {epoch + 1}/{self.epochs} - {seconds:.2f}s - {_format_logs(logs)}\n")
        self.stream.flush()


class ModelCheckpoint(Callback):
    """Save a checkpoint at the end of epochs: the model, the optimizer's state and the training
    position, one file each, written atomically; fit(resume_from=file) continues from one.

    filepath is formatted with the epoch number (1-based, as Keras) and the epoch's logs:
    "ckpt/epoch{epoch:03d}.bprop", "best-{val_loss:.3f}.bprop". Missing directories are made.
    save_best_only: save only when `monitor` improved (mode "min", "max" or "auto" by its name).
    """

    def __init__(self, filepath, monitor="val_loss", save_best_only=False, mode="auto", verbose=0):
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(f"[ModelCheckpoint] filepath must be a str or path; got {type(filepath).__name__}")
        self.filepath, self.monitor = file_path(filepath, "filepath", "ModelCheckpoint"), monitor
        self.save_best_only, self.verbose = flag(save_best_only, "save_best_only", "ModelCheckpoint"), verbose
        self.improved, self._initial_best = _improvement_rule(monitor, mode, 0.0, "ModelCheckpoint")
        self.best, self.last_saved = self._initial_best, None

    def on_train_begin(self, logs):
        self.best = self._initial_best

    def on_epoch_end(self, epoch, logs):
        if self.save_best_only:
            if self.monitor not in logs:
                raise ValueError(f"[ModelCheckpoint] monitors {self.monitor!r}, which fit does not log; logged: "
                                 f"{sorted(logs)} (val_ metrics need validation data)")
            if not self.improved(logs[self.monitor], self.best):
                return
            self.best = logs[self.monitor]
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"[ModelCheckpoint] cannot fill in filepath {self.filepath!r}: {error!r} (it may use "
                             f"epoch and the logs: {sorted(logs)})") from None
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        self.trainer.save_checkpoint(path, epoch + 1)
        self.last_saved = path
        if self.verbose:
            print(f"epoch {epoch + 1}: saved {path}")
