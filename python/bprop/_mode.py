"""Evaluation mode for one thread's call, without switching the model.

predict and evaluate run a model in evaluation mode (dropout off, running statistics), but they must not
flip the model's own ``training`` flag: another thread may be predicting with it, or a fit may be training
it, at that moment. Inside ``evaluating()`` every layer, Sequential and Module reports
``training == False`` on this thread only; everywhere else ``training`` is what ``train()``/``eval()`` set.
"""
import contextlib
import threading

__all__ = ["evaluating", "in_evaluation", "TrainingFlag"]

_state = threading.local()


def in_evaluation():
    """True inside evaluating() on the calling thread."""
    return getattr(_state, "depth", 0) > 0


@contextlib.contextmanager
def evaluating():
    """Evaluation mode for everything this thread runs inside the block."""
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield
    finally:
        _state.depth -= 1


class TrainingFlag:
    """The ``training`` attribute of layers, Sequentials and Modules: the mode train()/eval() set (stored as
    ``_training``), read as False inside evaluating()."""

    def __get__(self, owner, owner_type=None):
        if owner is None:
            return self
        return owner.__dict__.get("_training", True) and not in_evaluation()

    def __set__(self, owner, value):
        owner.__dict__["_training"] = bool(value)
