"""ModelCheckpoint: a checkpoint file (model, optimizer state, training position) at the end of epochs."""
import os

from .._checks import file_path, flag
from ._monitor import improvement_rule
from .base import Callback

__all__ = ["ModelCheckpoint"]


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
        self.improved, self._initial_best = improvement_rule(monitor, mode, 0.0, "ModelCheckpoint")
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
