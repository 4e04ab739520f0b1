"""History: every epoch's logs, the callback fit() returns, and plot() to draw them."""
import math

from .._checks import real_pair
from .base import Callback

__all__ = ["History"]


class History(Callback):
    """Every epoch's logs, recorded by fit, which returns this callback.

    Attributes
    ----------
    history : dict of str to list
        {log name: one value per epoch}: ``history.history["val_accuracy"][-1]``.
    epoch : list of int
        The epochs recorded (0-based).
    stopped_reason : str or None
        Why training ended early (a non-finite loss, a callback), else None.

    Examples
    --------
    >>> x, y = np.random.rand(16, 3).astype(np.float32), np.random.rand(16, 1).astype(np.float32)
    >>> model = bprop.Sequential([nn.Linear(3, 1)]).compile(optim.SGD(lr=0.1), nn.MSE())
    >>> history = model.fit(x, y, epochs=3, verbose=0)
    >>> history.epoch, len(history.history["loss"])
    ([0, 1, 2], 3)
    """

    def __init__(self):
        self.history = {}
        self.epoch = []
        self.stopped_reason = None

    def on_epoch_end(self, epoch, logs):
        """Record the epoch's logs.

        Parameters
        ----------
        epoch : int
            The epoch index (0-based).
        logs : dict
            The epoch's logs, {name: value}.

        Examples
        --------
        >>> history = callbacks.History()
        >>> history.on_epoch_end(0, {"loss": 0.5})
        >>> history.history
        {'loss': [0.5]}
        """
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def quantities(self):
        """The quantities plot() draws, each with its training and validation log names.

        A quantity is a log name without its ``val_`` prefix; either name may be missing (None) when only
        the other was logged.

        Returns
        -------
        list of tuple
            [(quantity, training name or None, validation name or None)] in the order the names were
            first logged.

        Examples
        --------
        >>> history = callbacks.History()
        >>> history.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.7, "val_loss": 0.6})
        >>> history.quantities()
        [('loss', 'loss', 'val_loss'), ('accuracy', 'accuracy', None)]
        """
        found = {}
        for key in self.history:
            quantity = key[len("val_"):] if key.startswith("val_") else key
            found.setdefault(quantity, [None, None])[key.startswith("val_")] = key
        return [(quantity, train, val) for quantity, (train, val) in found.items()]

    def plot(self, axes=None, figsize=None):
        """Draw the loss and every metric against the epoch, one subplot per quantity.

        The training and validation (``val_``) values of a quantity share a subplot, as two labelled
        lines; the x axis counts epochs from 1, as fit's progress display does. Needs matplotlib
        (``pip install "bprop[plot]"``), imported only here.

        Parameters
        ----------
        axes : matplotlib Axes or sequence of Axes, optional
            Where to draw: one Axes per quantity, in the order of ``quantities()``. By default a new
            figure with one row of subplots.
        figsize : tuple of float, optional
            (width, height) in inches of the new figure; by default 4 inches wide per quantity and 3.5
            high. Only without ``axes``.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on (``fig.axes`` holds the subplots; ``fig.savefig("history.png")`` saves it).

        Raises
        ------
        ValueError
            If nothing was recorded (fit has not run, or ran 0 epochs), if both axes and figsize are
            given, if figsize is not two finite sizes > 0, or if axes does not hold one Axes per quantity.
        TypeError
            If figsize is not a pair of real numbers, or axes is not an Axes or a sequence.
        ImportError
            If matplotlib is not installed.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> history = callbacks.History()
        >>> for epoch, (loss, val_loss) in enumerate([(0.9, 1.0), (0.5, 0.7)]):
        ...     history.on_epoch_end(epoch, {"loss": loss, "val_loss": val_loss})
        >>> fig = history.plot()
        >>> [line.get_label() for line in fig.axes[0].get_lines()]
        ['loss', 'val_loss']
        """
        quantities = self.quantities()
        if not quantities:
            raise ValueError("[History.plot] the history is empty: nothing to plot until fit has run at least "
                             "one epoch")
        if axes is not None and figsize is not None:
            raise ValueError("[History.plot] give axes or figsize, not both (figsize sizes a new figure)")
        if figsize is not None:
            figsize = real_pair(figsize, "figsize", "History.plot")
            if not all(math.isfinite(side) and side > 0 for side in figsize):
                raise ValueError(f"[History.plot] figsize must be two finite sizes > 0 in inches; got {figsize}")
        try:  # an optional extra: imported here only, so `import bprop` never needs it
            import matplotlib.pyplot as plt
            from matplotlib.axes import Axes
        except ImportError as error:
            raise ImportError('[History.plot] needs matplotlib: pip install "bprop[plot]"') from error
        if axes is None:
            figsize = figsize if figsize is not None else (4.0 * len(quantities), 3.5)
            figure, axes = plt.subplots(1, len(quantities), figsize=figsize, squeeze=False)
            axes = list(axes[0])
        else:
            given = axes
            try:  # an Axes, a list of them, or plt.subplots' array of them
                axes = [axes] if isinstance(axes, Axes) else list(getattr(axes, "flat", axes))
            except TypeError:
                raise TypeError(f"[History.plot] axes must be a matplotlib Axes or a sequence of them; got "
                                f"{type(given).__name__}") from None
            if len(axes) != len(quantities) or not all(isinstance(ax, Axes) for ax in axes):
                raise ValueError(f"[History.plot] axes must be {len(quantities)} matplotlib Axes, one per quantity "
                                 f"({', '.join(q for q, _, _ in quantities)}); got {len(axes)} items")
            figure = axes[0].figure
        for ax, (quantity, train, val) in zip(axes, quantities):
            for name in (train, val):
                if name is not None:
                    values = self.history[name]
                    ax.plot(self._epochs_of(values), values, label=name, marker="o" if len(values) == 1 else None)
            ax.set_title(quantity)
            ax.set_xlabel("epoch")
            ax.legend()
        return figure

    def _epochs_of(self, values):
        # 1-based epochs of a log's values. A key logged on fewer epochs than the others (one that a callback
        # started adding late) is taken to cover the last ones, as History does not record where it began.
        return [epoch + 1 for epoch in self.epoch[len(self.epoch) - len(values):]]
