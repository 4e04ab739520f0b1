"""Callbacks that stop training: EarlyStopping (no improvement for a while) and TerminateOnNaN."""
import math

from .._checks import flag, integer
from ._monitor import improvement_rule, finite
from .base import Callback

__all__ = ["EarlyStopping", "TerminateOnNaN"]


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by min_delta for `patience` epochs in a row (Keras's rule:
    patience=3 stops at the third epoch without improvement; 0 or 1, at the first); with restore_best,
    put back the weights of the best epoch."""

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto", restore_best=False,
                 baseline=None):
        patience = integer(patience, "patience", "EarlyStopping", minimum=0)
        min_delta = abs(finite(min_delta, "min_delta", "EarlyStopping"))
        self.monitor, self.min_delta, self.patience = monitor, min_delta, patience
        self.improved, self._initial_best = improvement_rule(monitor, mode, min_delta, "EarlyStopping")
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


class TerminateOnNaN(Callback):
    """Stop when an epoch's loss or validation loss is NaN or Inf (the trainer already stops at a
    non-finite batch loss; this also watches the validation loss)."""

    def on_epoch_end(self, epoch, logs):
        for key in ("loss", "val_loss"):
            if key in logs and not math.isfinite(logs[key]):
                self.trainer.stop_training = True
                self.trainer.stop_reason = f"TerminateOnNaN: {key} is {logs[key]} at epoch {epoch + 1}"
