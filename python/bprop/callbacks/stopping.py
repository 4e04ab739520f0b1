"""Callbacks that stop training: EarlyStopping (no improvement for a while) and TerminateOnNaN."""
import math

from .._checks import flag, integer
from ._monitor import improvement_rule, finite
from .base import Callback

__all__ = ["EarlyStopping", "TerminateOnNaN"]


class EarlyStopping(Callback):
    """Stop training when a logged value has stopped improving.

    Training stops when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs in a row
    (Keras's rule: patience=3 stops at the third epoch without improvement; 0 or 1, at the first). Why
    it stopped is in ``History.stopped_reason``; ``stopped_epoch`` and ``best_epoch`` are set here.

    Parameters
    ----------
    monitor : str, default "val_loss"
        The logged value to watch (``val_`` values need validation data).
    min_delta : float, default 0.0
        The smallest change that counts as an improvement (its absolute value is used).
    patience : int, default 0
        Epochs without improvement after which training stops.
    mode : {"auto", "min", "max"}, default "auto"
        Whether lower or higher is better; "auto" takes "max" for names ending in "accuracy" or "acc".
    restore_best : bool, default False
        At the end of training, put back the weights of the best epoch.
    baseline : float, optional
        A value to beat: until the monitored value improves on it, epochs count as without improvement.

    Raises
    ------
    TypeError
        If an argument is of the wrong type (monitor not a str, restore_best not a bool, ...).
    ValueError
        If patience is negative, min_delta or baseline is not finite, or mode is unknown; during fit,
        if ``monitor`` is not logged.

    Examples
    --------
    >>> x, y = np.random.rand(32, 3).astype(np.float32), np.random.rand(32, 1).astype(np.float32)
    >>> model = bprop.Sequential([nn.Linear(3, 1)]).compile(optim.SGD(lr=0.1), nn.MSE())
    >>> stop = callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best=True)
    >>> history = model.fit(x, y, epochs=100, validation_split=0.25, verbose=0, callbacks=[stop])
    >>> len(history.epoch) <= 100
    True
    """

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
        """Start watching afresh: no best value yet (or the baseline), no epochs waited.

        Parameters
        ----------
        logs : dict
            Empty.

        Examples
        --------
        >>> callbacks.EarlyStopping().on_train_begin({})
        """
        self.best = self._initial_best if self.baseline is None else self.baseline
        self.best_weights, self.best_epoch, self.wait, self.stopped_epoch = None, None, 0, None

    def on_epoch_end(self, epoch, logs):
        """Compare the monitored value with the best so far; stop training after `patience` epochs without improvement.

        Parameters
        ----------
        epoch : int
            The epoch index (0-based).
        logs : dict
            The epoch's logs, {name: value}.

        Examples
        --------
        >>> x, y = np.random.rand(16, 3).astype(np.float32), np.random.rand(16, 1).astype(np.float32)
        >>> model = bprop.Sequential([nn.Linear(3, 1)]).compile(optim.SGD(lr=0.1), nn.MSE())
        >>> stop = callbacks.EarlyStopping(monitor="loss", patience=1)
        >>> history = model.fit(x, y, epochs=3, verbose=0, callbacks=[stop])
        >>> stop.best == min(history.history["loss"])
        True
        """
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
        """With restore_best, put back the weights of the best epoch.

        Parameters
        ----------
        logs : dict
            The last epoch's logs.

        Examples
        --------
        >>> x, y = np.random.rand(16, 3).astype(np.float32), np.random.rand(16, 1).astype(np.float32)
        >>> model = bprop.Sequential([nn.Linear(3, 1)]).compile(optim.SGD(lr=0.1), nn.MSE())
        >>> stop = callbacks.EarlyStopping(monitor="loss", patience=5, restore_best=True)
        >>> history = model.fit(x, y, epochs=2, verbose=0, callbacks=[stop])
        """
        if self.restore_best and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class TerminateOnNaN(Callback):
    """Stop training when an epoch's loss or validation loss is NaN or Inf.

    The trainer already stops at a non-finite batch loss; this also watches the validation loss. Why it
    stopped is in ``History.stopped_reason``.

    Examples
    --------
    >>> x, y = np.random.rand(16, 3).astype(np.float32), np.random.rand(16, 1).astype(np.float32)
    >>> model = bprop.Sequential([nn.Linear(3, 1)]).compile(optim.SGD(lr=0.1), nn.MSE())
    >>> history = model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.TerminateOnNaN()])
    >>> history.stopped_reason is None
    True
    """

    def on_epoch_end(self, epoch, logs):
        """Stop training if loss or val_loss is not finite.

        Parameters
        ----------
        epoch : int
            The epoch index (0-based).
        logs : dict
            The epoch's logs, {name: value}.

        Examples
        --------
        >>> x, y = np.random.rand(16, 3).astype(np.float32), np.random.rand(16, 1).astype(np.float32)
        >>> model = bprop.Sequential([nn.Linear(3, 1)]).compile(optim.SGD(lr=0.1), nn.MSE())
        >>> history = model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.TerminateOnNaN()])
        """
        for key in ("loss", "val_loss"):
            if key in logs and not math.isfinite(logs[key]):
                self.trainer.stop_training = True
                self.trainer.stop_reason = f"TerminateOnNaN: {key} is {logs[key]} at epoch {epoch + 1}"
