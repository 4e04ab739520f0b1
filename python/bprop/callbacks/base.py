"""The callback protocol (Callback), the list that dispatches each hook to several (CallbackList), and
LambdaCallback (a callback from plain functions).

A callback sees the trainer (``self.trainer``, with ``.model`` and ``.optimizer``) and may stop training
with ``self.model.stop_training = True`` (Keras's idiom) or ``self.trainer.stop_training = True``. Batch hooks cost nothing unless a callback defines them: the
trainer then runs one C++ call per batch instead of one per epoch.
"""
__all__ = ["Callback", "CallbackList", "LambdaCallback"]


class Callback:
    """Base class of the callbacks: hooks that fit calls at the start and end of training, epochs and batches.

    Subclass it and override the hooks you need; each receives a ``logs`` dict ({name: value}; at an
    epoch's end ``loss``, the metrics and their ``val_`` forms), which a callback may add to (as
    ``ReduceLROnPlateau`` adds ``lr``). ``self.trainer`` and ``self.model`` are set when fit starts. Set
    ``self.model.stop_training = True`` to stop after the current batch. Batch hooks cost nothing unless
    overridden: then fit runs one batch per call into C++ instead of whole epochs.

    Examples
    --------
    >>> class PrintLoss(callbacks.Callback):
    ...     def on_epoch_end(self, epoch, logs):
    ...         print(f"epoch {epoch}: loss is finite: {np.isfinite(logs['loss'])}")
    >>> x, y = np.random.rand(16, 3).astype(np.float32), np.random.rand(16, 1).astype(np.float32)
    >>> model = bprop.Sequential([nn.Linear(3, 1)]).compile(optim.SGD(lr=0.1), nn.MSE())
    >>> history = model.fit(x, y, epochs=2, verbose=0, callbacks=[PrintLoss()])
    epoch 0: loss is finite: True
    epoch 1: loss is finite: True
    """

    trainer = None

    def set_trainer(self, trainer):
        """Give the callback the trainer that runs it (fit calls this before on_train_begin).

        Parameters
        ----------
        trainer : bprop.Trainer
            The trainer, with ``.model`` and ``.optimizer``.

        Examples
        --------
        >>> model = bprop.Sequential([nn.Linear(3, 1)]).compile(optim.SGD(lr=0.1), nn.MSE())
        >>> callback = callbacks.Callback()
        >>> callback.set_trainer(bprop.Trainer(model, None, nn.MSE()))
        >>> callback.model is model
        True
        """
        self.trainer = trainer

    @property
    def model(self):
        """The model being trained (the trainer's), set when fit starts."""
        return self.trainer.model

    def on_train_begin(self, logs):
        """Called once when fit starts, before the first epoch.

        Parameters
        ----------
        logs : dict
            Empty.

        Examples
        --------
        >>> callbacks.Callback().on_train_begin({})
        """

    def on_train_end(self, logs):
        """Called once when fit ends normally (after the last epoch or an early stop).

        Parameters
        ----------
        logs : dict
            The last epoch's logs.

        Examples
        --------
        >>> callbacks.Callback().on_train_end({"loss": 0.5})
        """

    def on_epoch_begin(self, epoch, logs):
        """Called at the start of each epoch.

        Parameters
        ----------
        epoch : int
            The epoch index (0-based).
        logs : dict
            Empty.

        Examples
        --------
        >>> callbacks.Callback().on_epoch_begin(0, {})
        """

    def on_epoch_end(self, epoch, logs):
        """Called at the end of each epoch, after validation.

        Parameters
        ----------
        epoch : int
            The epoch index (0-based).
        logs : dict
            {"loss": ..., <metric>: ..., "val_loss": ..., ...} of the epoch; a callback may add entries.

        Examples
        --------
        >>> callbacks.Callback().on_epoch_end(0, {"loss": 0.5})
        """

    def on_train_batch_begin(self, batch, logs):
        """Called before each training batch (overriding it makes fit step one batch per call).

        Parameters
        ----------
        batch : int
            The batch index within the epoch (0-based).
        logs : dict
            Empty.

        Examples
        --------
        >>> callbacks.Callback().on_train_batch_begin(0, {})
        """

    def on_train_batch_end(self, batch, logs):
        """Called after each training batch (overriding it makes fit step one batch per call).

        Parameters
        ----------
        batch : int
            The batch index within the epoch (0-based).
        logs : dict
            The batch's {"loss": ..., <metric>: ...}.

        Examples
        --------
        >>> callbacks.Callback().on_train_batch_end(0, {"loss": 0.5})
        """

    def on_progress(self, batches_done, batches_total, logs):
        """Called after each chunk of batches fit ran in one call, for progress displays.

        Parameters
        ----------
        batches_done : int
            Batches of this epoch done so far.
        batches_total : int
            Batches in the epoch.
        logs : dict
            The epoch's running {"loss": ..., <metric>: ...}.

        Examples
        --------
        >>> callbacks.Callback().on_progress(3, 10, {"loss": 0.5})
        """

    @property
    def wants_batches(self):
        """True when this callback defines a batch hook: the trainer then steps one batch per call."""
        cls = type(self)
        return (cls.on_train_batch_begin is not Callback.on_train_batch_begin
                or cls.on_train_batch_end is not Callback.on_train_batch_end)


class CallbackList(Callback):
    """Dispatches every hook to each callback in order (what fit uses to run several).

    Parameters
    ----------
    callbacks : iterable of Callback
        The callbacks, called in this order.

    Examples
    --------
    >>> history = callbacks.History()
    >>> both = callbacks.CallbackList([callbacks.Callback(), history])
    >>> both.on_epoch_end(0, {"loss": 0.5})
    >>> history.history
    {'loss': [0.5]}
    """

    def __init__(self, callbacks):
        self.callbacks = list(callbacks)

    def set_trainer(self, trainer):
        """Give every callback the trainer.

        Parameters
        ----------
        trainer : bprop.Trainer
            The trainer that runs them.

        Examples
        --------
        >>> model = bprop.Sequential([nn.Linear(3, 1)])
        >>> callbacks.CallbackList([callbacks.Callback()]).set_trainer(bprop.Trainer(model, None, nn.MSE()))
        """
        for c in self.callbacks:
            c.set_trainer(trainer)

    @property
    def wants_batches(self):
        """True when any of the callbacks defines a batch hook."""
        return any(c.wants_batches for c in self.callbacks)


def _dispatcher(name):
    def dispatch(self, *args):
        for c in self.callbacks:
            getattr(c, name)(*args)
    dispatch.__name__ = dispatch.__qualname__ = name
    dispatch.__doc__ = getattr(Callback, name).__doc__   # the hook's contract, which each callback then sees
    return dispatch


for _hook in ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
              "on_train_batch_end", "on_progress"):
    setattr(CallbackList, _hook, _dispatcher(_hook))


class LambdaCallback(Callback):
    """A callback from plain functions, one per hook.

    Parameters
    ----------
    **hooks : callable or None
        Any of ``on_train_begin(logs)``, ``on_train_end(logs)``, ``on_epoch_begin(epoch, logs)``,
        ``on_epoch_end(epoch, logs)``, ``on_train_batch_begin(batch, logs)``,
        ``on_train_batch_end(batch, logs)``; None leaves the hook as it is.

    Raises
    ------
    ValueError
        If a keyword is not one of the hooks.
    TypeError
        If a hook is not callable.

    Examples
    --------
    >>> losses = []
    >>> record = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]))
    >>> x, y = np.random.rand(16, 3).astype(np.float32), np.random.rand(16, 1).astype(np.float32)
    >>> model = bprop.Sequential([nn.Linear(3, 1)]).compile(optim.SGD(lr=0.1), nn.MSE())
    >>> history = model.fit(x, y, epochs=3, verbose=0, callbacks=[record])
    >>> len(losses)
    3
    """

    _HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
              "on_train_batch_end")

    def __init__(self, **hooks):
        unknown = set(hooks) - set(self._HOOKS)
        if unknown:
            raise ValueError(f"[LambdaCallback] unknown hooks {sorted(unknown)}; expected some of {self._HOOKS}")
        self._hooks = {name: fn for name, fn in hooks.items() if fn is not None}
        for name, fn in self._hooks.items():
            if not callable(fn):
                raise TypeError(f"[LambdaCallback] {name} must be callable")
            setattr(self, name, fn)

    @property
    def wants_batches(self):
        """True when a batch hook was given."""
        return "on_train_batch_begin" in self._hooks or "on_train_batch_end" in self._hooks
