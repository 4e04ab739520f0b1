"""Callbacks that set the learning rate: by a function of the epoch, or lowered on a plateau."""
import math
import numbers

import numpy as np

from .._checks import integer, real
from ._monitor import improvement_rule, finite
from .base import Callback

__all__ = ["LearningRateScheduler", "ReduceLROnPlateau"]


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch's start to ``schedule(epoch, lr)``.

    Parameters
    ----------
    schedule : callable
        ``schedule(epoch, lr)`` with the epoch index (0-based) and the current learning rate; returns the
        epoch's learning rate (a finite real number >= 0).
    verbose : int, default 0
        Print the learning rate at each epoch when nonzero.

    Raises
    ------
    TypeError
        If schedule is not callable; during fit, if it returns something other than a real number.
    ValueError
        During fit, if schedule returns a negative or non-finite learning rate.

    Examples
    --------
    >>> x, y = np.random.rand(16, 3).astype(np.float32), np.random.rand(16, 1).astype(np.float32)
    >>> model = bprop.Sequential([nn.Linear(3, 1)])
    >>> sgd = optim.SGD(lr=0.1)
    >>> model = model.compile(sgd, nn.MSE())
    >>> halve = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5 ** epoch)
    >>> history = model.fit(x, y, epochs=3, verbose=0, callbacks=[halve])
    >>> round(sgd.lr, 6)
    0.025
    """

    def __init__(self, schedule, verbose=0):
        if not callable(schedule):
            raise TypeError("[LearningRateScheduler] schedule must be callable as schedule(epoch, lr)")
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs):
        """Set the optimizer's learning rate to schedule(epoch, lr).

        Parameters
        ----------
        epoch : int
            The epoch index (0-based).
        logs : dict
            Empty.

        Raises
        ------
        TypeError
            If schedule returns something other than a real number.
        ValueError
            If schedule returns a negative or non-finite learning rate.

        Examples
        --------
        >>> x, y = np.random.rand(16, 3).astype(np.float32), np.random.rand(16, 1).astype(np.float32)
        >>> model = bprop.Sequential([nn.Linear(3, 1)]).compile(optim.SGD(lr=0.1), nn.MSE())
        >>> history = model.fit(x, y, epochs=1, verbose=0,
        ...                     callbacks=[callbacks.LearningRateScheduler(lambda epoch, lr: 0.01)])
        """
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
    """Lower the learning rate when a logged value stops improving.

    The learning rate is multiplied by ``factor`` (down to ``min_lr``) when ``monitor`` has not improved
    by ``min_delta`` for ``patience`` epochs; it adds ``lr`` to each epoch's logs.

    Parameters
    ----------
    monitor : str, default "val_loss"
        The logged value to watch.
    factor : float, default 0.1
        What the learning rate is multiplied by, in (0, 1).
    patience : int, default 10
        Epochs without improvement before lowering it.
    mode : {"auto", "min", "max"}, default "auto"
        Whether lower or higher is better; "auto" takes "max" for names ending in "accuracy" or "acc".
    min_delta : float, default 1e-4
        The smallest change that counts as an improvement.
    cooldown : int, default 0
        Epochs to wait after lowering it before counting again.
    min_lr : float, default 0.0
        The learning rate is never lowered below this.
    verbose : int, default 0
        Print a line when it lowers the learning rate, when nonzero.

    Raises
    ------
    TypeError
        If an argument is of the wrong type.
    ValueError
        If factor is outside (0, 1), min_lr is negative, a value is not finite, patience or cooldown is
        negative, or mode is unknown; during fit, if ``monitor`` is not logged.

    Examples
    --------
    >>> x, y = np.random.rand(16, 3).astype(np.float32), np.random.rand(16, 1).astype(np.float32)
    >>> model = bprop.Sequential([nn.Linear(3, 1)]).compile(optim.SGD(lr=0.1), nn.MSE())
    >>> plateau = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2)
    >>> history = model.fit(x, y, epochs=3, verbose=0, callbacks=[plateau])
    >>> len(history.history["lr"])
    3
    """

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
        """Start watching afresh: no best value yet, no epochs waited.

        Parameters
        ----------
        logs : dict
            Empty.

        Examples
        --------
        >>> callbacks.ReduceLROnPlateau().on_train_begin({})
        """
        self.best, self.wait, self.cooldown_left = self._initial_best, 0, 0

    def on_epoch_end(self, epoch, logs):
        """Lower the learning rate if the monitored value has stalled, and log it as ``lr``.

        Parameters
        ----------
        epoch : int
            The epoch index (0-based).
        logs : dict
            The epoch's logs, {name: value}.

        Raises
        ------
        ValueError
            If the monitored value is not in the logs.

        Examples
        --------
        >>> x, y = np.random.rand(16, 3).astype(np.float32), np.random.rand(16, 1).astype(np.float32)
        >>> model = bprop.Sequential([nn.Linear(3, 1)]).compile(optim.SGD(lr=0.1), nn.MSE())
        >>> history = model.fit(x, y, epochs=1, verbose=0,
        ...                     callbacks=[callbacks.ReduceLROnPlateau(monitor="loss")])
        >>> history.history["lr"]
        [0.1...]
        """
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
