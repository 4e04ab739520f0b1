"""CSVLogger: each epoch's logs as one row of a CSV file, as Keras's CSVLogger writes them."""
import csv
import os

from .._checks import file_path, flag
from .base import Callback

__all__ = ["CSVLogger"]


class CSVLogger(Callback):
    """Write each epoch's logs to a CSV file: a header, then one row per epoch.

    The columns are ``epoch`` (0-based, as ``History.epoch``) and every log key in the order the keys
    first appear (``loss``, the metrics, ``val_loss``, ...). The file is opened, written and closed at
    every epoch's end, so each row is on disk when the epoch ends and no file stays open when training
    raises or is interrupted. A key missing from an epoch's logs leaves its cell empty; a key that first
    appears at a later epoch adds a column: the file is rewritten with the wider header and the earlier
    rows get an empty cell there (pandas reads empty cells as NaN). Place it after any callback that adds
    to the logs (``ReduceLROnPlateau`` adds ``lr``) so that it sees those values.

    Parameters
    ----------
    filename : str or os.PathLike
        The CSV file. Its directory must exist.
    separator : str, default ","
        The one character between fields.
    append : bool, default False
        Add rows to an existing file (keeping its header) instead of starting a new one when training
        begins.

    Raises
    ------
    TypeError
        If filename is not a path or append is not a bool.
    ValueError
        If separator is not a single character other than a quote, carriage return or newline.

    Examples
    --------
    >>> import csv
    >>> x, y = np.random.rand(32, 3).astype(np.float32), np.random.randint(0, 2, 32)
    >>> model = bprop.Sequential([nn.Linear(3, 2)])
    >>> model = model.compile(optim.SGD(lr=0.1), nn.CrossEntropy(), metrics=["accuracy"])
    >>> history = model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.CSVLogger("log.csv")])
    >>> with open("log.csv", newline="") as f:
    ...     rows = list(csv.DictReader(f))
    >>> [row["epoch"] for row in rows], list(rows[0])
    (['0', '1'], ['epoch', 'loss', 'accuracy'])
    """

    def __init__(self, filename, separator=",", append=False):
        self.filename = file_path(filename, "filename", "CSVLogger")
        if not isinstance(separator, str):
            raise TypeError(f"[CSVLogger] separator must be a str; got {type(separator).__name__}")
        if len(separator) != 1 or separator in "\"\r\n":
            raise ValueError(f"[CSVLogger] separator must be one character other than a quote or a line break; "
                             f"got {separator!r}")
        self.separator = separator
        self.append = flag(append, "append", "CSVLogger")
        self.columns = []

    def on_train_begin(self, logs):
        """Start the file (or, with append, read the columns of the one there).

        Parameters
        ----------
        logs : dict
            Unused (the trainer passes an empty dict).

        Examples
        --------
        >>> logger = callbacks.CSVLogger("start.csv")
        >>> logger.on_train_begin({})
        >>> open("start.csv").read()
        ''
        """
        if self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0:
            self.columns = self._read()[0]
        else:
            # Emptied now rather than at the first epoch's end: a run that fails early leaves no stale rows.
            with open(self.filename, "w", newline=""):
                pass
            self.columns = []

    def on_epoch_end(self, epoch, logs):
        """Write the epoch's row, widening the header first if the logs have a new key.

        Parameters
        ----------
        epoch : int
            The epoch index (0-based).
        logs : dict
            The epoch's logs, {name: value}.

        Examples
        --------
        >>> logger = callbacks.CSVLogger("rows.csv")
        >>> logger.on_train_begin({})
        >>> logger.on_epoch_end(0, {"loss": 0.5})
        >>> logger.on_epoch_end(1, {"loss": 0.25, "val_loss": 0.75})
        >>> print(open("rows.csv").read().strip())
        epoch,loss,val_loss
        0,0.5,
        1,0.25,0.75
        """
        row = {"epoch": epoch, **logs}
        new = [key for key in row if key not in self.columns]
        if new and self.columns:
            _, rows = self._read()
            self.columns += new
            self._write("w", rows + [row], header=True)
        elif new:
            self.columns = new
            self._write("a", [row], header=True)
        else:
            self._write("a", [row], header=False)

    def _read(self):
        """(header, rows as dicts) of the file as it is."""
        with open(self.filename, newline="") as f:
            reader = csv.DictReader(f, delimiter=self.separator)
            rows = list(reader)
            return list(reader.fieldnames or []), rows

    def _write(self, mode, rows, header):
        with open(self.filename, mode, newline="") as f:
            writer = csv.DictWriter(f, self.columns, restval="", delimiter=self.separator)
            if header:
                writer.writeheader()
            writer.writerows(rows)
