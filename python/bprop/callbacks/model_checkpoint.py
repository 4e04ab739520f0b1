"""ModelCheckpoint: a checkpoint file (model, optimizer state, training position) at the end of epochs."""
import os

from .._checks import file_path, flag
from ._monitor import improvement_rule
from .base import Callback

__all__ = ["ModelCheckpoint"]


class ModelCheckpoint(Callback):
    """Save a checkpoint at the end of epochs, which fit(resume_from=file) continues from.

    Each checkpoint is one file, written atomically: the model, the optimizer's state and the training
    position. ``last_saved`` is the path of the latest.

    Parameters
    ----------
    filepath : str or os.PathLike
        The file, formatted with the epoch number (1-based, as Keras) and the epoch's logs:
        ``"ckpt/epoch{epoch:03d}.bprop"``, ``"best-{val_loss:.3f}.bprop"``. Missing directories are made.
    monitor : str, default "val_loss"
        The logged value that decides the best epoch (with save_best_only).
    save_best_only : bool, default False
        Save only when ``monitor`` improved on the best so far.
    mode : {"auto", "min", "max"}, default "auto"
        Whether lower or higher is better; "auto" takes "max" for names ending in "accuracy" or "acc".
    verbose : int, default 0
        Print a line for each file saved, when nonzero.

    Raises
    ------
    TypeError
        If filepath is not a path or save_best_only not a bool.
    ValueError
        If mode is unknown; during fit, if filepath names a value that is not logged.

    Examples
    --------
    >>> x, y = np.random.rand(16, 3).astype(np.float32), np.random.rand(16, 1).astype(np.float32)
    >>> model = bprop.Sequential([nn.Linear(3, 1)]).compile(optim.SGD(lr=0.1), nn.MSE())
    >>> checkpoint = callbacks.ModelCheckpoint("ckpt/epoch{epoch:02d}.bprop")
    >>> history = model.fit(x, y, epochs=2, seed=0, verbose=0, callbacks=[checkpoint])
    >>> checkpoint.last_saved
    'ckpt/epoch02.bprop'
    >>> history = model.fit(x, y, epochs=3, resume_from="ckpt/epoch02.bprop", verbose=0)
    >>> history.epoch
    [2]
    """

    def __init__(self, filepath, monitor="val_loss", save_best_only=False, mode="auto", verbose=0):
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(f"[ModelCheckpoint] filepath must be a str or path; got {type(filepath).__name__}")
        self.filepath, self.monitor = file_path(filepath, "filepath", "ModelCheckpoint"), monitor
        self.save_best_only, self.verbose = flag(save_best_only, "save_best_only", "ModelCheckpoint"), verbose
        self.improved, self._initial_best = improvement_rule(monitor, mode, 0.0, "ModelCheckpoint")
        self.best, self.last_saved = self._initial_best, None

    def on_train_begin(self, logs):
        """Forget the best value of an earlier fit.

        Parameters
        ----------
        logs : dict
            Empty.

        Examples
        --------
        >>> callbacks.ModelCheckpoint("c.bprop").on_train_begin({})
        """
        self.best = self._initial_best

    def on_epoch_end(self, epoch, logs):
        """Save the epoch's checkpoint (with save_best_only, only if ``monitor`` improved).

        Parameters
        ----------
        epoch : int
            The epoch index (0-based).
        logs : dict
            The epoch's logs, {name: value}.

        Raises
        ------
        ValueError
            If the monitored value is not logged, or filepath names a value that is not.

        Examples
        --------
        >>> x, y = np.random.rand(16, 3).astype(np.float32), np.random.rand(16, 1).astype(np.float32)
        >>> model = bprop.Sequential([nn.Linear(3, 1)]).compile(optim.SGD(lr=0.1), nn.MSE())
        >>> history = model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.ModelCheckpoint("c.bprop")])
        """
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
