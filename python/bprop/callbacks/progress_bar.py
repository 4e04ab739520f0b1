"""ProgressBar: what fit prints while it trains (verbose=1 or 2)."""
import sys
import time

import numpy as np

from .base import Callback

__all__ = ["ProgressBar"]


def _format_logs(logs):
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items() if isinstance(v, (float, int, np.floating)))


class ProgressBar(Callback):
    """Show the progress of each epoch (what fit adds with verbose=1 or 2).

    On a terminal: tqdm's bar when tqdm is installed, a plain built-in bar otherwise; elsewhere (a file,
    a notebook's captured output), one line per epoch.

    Parameters
    ----------
    epochs : int
        The number of epochs, for the "Epoch 3/10" label.
    stream : file-like, optional
        Where to write; sys.stdout by default.
    per_epoch_only : bool, default False
        One line per epoch even on a terminal (verbose=2).

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> x, y = np.random.rand(16, 3).astype(np.float32), np.random.rand(16, 1).astype(np.float32)
    >>> model = bprop.Sequential([nn.Linear(3, 1)]).compile(optim.SGD(lr=0.1), nn.MSE())
    >>> history = model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.ProgressBar(2, stream=out)])
    >>> out.getvalue().count("Epoch")
    2
    """

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
        """Start timing the epoch.

        Parameters
        ----------
        epoch : int
            The epoch index (0-based).
        logs : dict
            Empty.

        Examples
        --------
        >>> callbacks.ProgressBar(1).on_epoch_begin(0, {})
        """
        self.epoch, self.start, self.bar = epoch, time.perf_counter(), None

    def on_progress(self, done, total, logs):
        """Redraw the bar (on a terminal only).

        Parameters
        ----------
        done : int
            Batches of this epoch done so far.
        total : int
            Batches in the epoch.
        logs : dict
            The epoch's running logs.

        Examples
        --------
        >>> bar = callbacks.ProgressBar(1)
        >>> bar.on_epoch_begin(0, {})
        >>> bar.on_progress(5, 10, {"loss": 0.5})
        """
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
        """Write the epoch's line: its time and logs.

        Parameters
        ----------
        epoch : int
            The epoch index (0-based).
        logs : dict
            The epoch's logs, {name: value}.

        Examples
        --------
        >>> import io
        >>> bar = callbacks.ProgressBar(1, stream=io.StringIO())
        >>> bar.on_epoch_begin(0, {})
        >>> bar.on_epoch_end(0, {"loss": 0.5})
        >>> bar.stream.getvalue().startswith("Epoch 1/1")
        True
        """
        seconds = time.perf_counter() - self.start
        if self.bar is not None:
            self.bar.set_postfix_str(_format_logs(logs), refresh=True)
            self.bar.close()
            return
        prefix = "\r" if self.live else ""
        self.stream.write(f"{prefix}Epoch {epoch + 1}/{self.epochs} - {seconds:.2f}s - {_format_logs(logs)}\n")
        self.stream.flush()
