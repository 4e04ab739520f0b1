"""Callbacks that set the learning rate: by a function of the epoch, or lowered on a plateau."""
import math
import numbers

import numpy as np

from .._checks import integer, real
from ._monitor import improvement_rule, finite
from .base import Callback

__all__ = ["LearningRateScheduler", "ReduceLROnPlateau"]


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
        self.improved, self._initial_best = improvement_rule(monitor, mode, min_delta, where)
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
