"""The callback protocol (Callback), the list that dispatches each hook to several (CallbackList), and
LambdaCallback (a callback from plain functions).

A callback sees the trainer (``self.trainer``, with ``.model`` and ``.optimizer``) and may stop training
with ``self.model.stop_training = True`` (Keras's idiom) or ``self.trainer.stop_training = True``. Batch hooks cost nothing unless a callback defines them: the
trainer then runs one C++ call per batch instead of one per epoch.
"""
__all__ = ["Callback", "CallbackList", "LambdaCallback"]


class Callback:
    trainer = None

    def set_trainer(self, trainer):
        self.trainer = trainer

    @property
    def model(self):
        return self.trainer.model

    def on_train_begin(self, logs):
        pass

    def on_train_end(self, logs):
        pass

    def on_epoch_begin(self, epoch, logs):
        pass

    def on_epoch_end(self, epoch, logs):
        pass

    def on_train_batch_begin(self, batch, logs):
        pass

    def on_train_batch_end(self, batch, logs):
        pass

    def on_progress(self, batches_done, batches_total, logs):
        """After each chunk of batches the trainer ran in one call (for progress displays)."""

    @property
    def wants_batches(self):
        """True when this callback defines a batch hook: the trainer then steps one batch per call."""
        cls = type(self)
        return (cls.on_train_batch_begin is not Callback.on_train_batch_begin
                or cls.on_train_batch_end is not Callback.on_train_batch_end)


class CallbackList(Callback):
    """Dispatches every hook to each callback in order."""

    def __init__(self, callbacks):
        self.callbacks = list(callbacks)

    def set_trainer(self, trainer):
        for c in self.callbacks:
            c.set_trainer(trainer)

    @property
    def wants_batches(self):
        return any(c.wants_batches for c in self.callbacks)


def _dispatcher(name):
    def dispatch(self, *args):
        for c in self.callbacks:
            getattr(c, name)(*args)
    return dispatch


for _hook in ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
              "on_train_batch_end", "on_progress"):
    setattr(CallbackList, _hook, _dispatcher(_hook))


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. LambdaCallback(on_epoch_end=lambda epoch, logs: ...)."""

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
        return "on_train_batch_begin" in self._hooks or "on_train_batch_end" in self._hooks
