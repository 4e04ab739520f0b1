"""ProgressBar: what fit prints while it trains (verbose=1 or 2)."""
import sys
import time

import numpy as np

from .base import Callback

__all__ = ["ProgressBar"]


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
            try:  # tqdm is optional, so it is imported only when a live bar is shown
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
