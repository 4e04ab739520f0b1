"""History: every epoch's logs, the callback fit() returns."""
from .base import Callback

__all__ = ["History"]


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
