"""Layers that change a sample's shape and not its values: Flatten (PyTorch's) and Reshape (Keras's)."""
import numbers

from ..._checks import LARGEST, integer
from ..._dtypes import core_class
from .base import Layer

__all__ = ["Flatten", "Reshape"]


class Flatten(Layer):
    """Merges axes start_dim..end_dim of a batch into one, as ``torch.nn.Flatten`` (axis 0 holds the samples,
    so start_dim >= 1; the default flattens each sample)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = integer(start_dim, "start_dim", "Flatten", minimum=-LARGEST)
        self.end_dim = integer(end_dim, "end_dim", "Flatten", minimum=-LARGEST)
        if self.start_dim < 1:
            raise ValueError(f"[Flatten] start_dim must be >= 1 (axis 0 holds the samples, which stay apart); got "
                             f"{self.start_dim}")

    def _make_core(self, dtype):
        return core_class("Flatten", dtype)(self.start_dim, self.end_dim)

    def get_config(self):
        return {"start_dim": self.start_dim, "end_dim": self.end_dim}


class Reshape(Layer):
    """Reshapes each sample to ``shape`` (the batch axis excluded), as ``keras.layers.Reshape``; one size may
    be -1, inferred from the others."""

    def __init__(self, shape):
        super().__init__()
        if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
            raise TypeError(f"[Reshape] shape must be a tuple of sizes; got {type(shape).__name__}")
        shape = tuple(shape)
        if not shape or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) for s in shape) or \
                any((s < 1 and s != -1) or s > LARGEST for s in shape) or sum(s == -1 for s in shape) > 1:
            raise ValueError(f"[Reshape] shape must be sizes >= 1, one of them -1 at most; got {shape}")
        self.shape = tuple(int(s) for s in shape)

    def _make_core(self, dtype):
        return core_class("Reshape", dtype)(list(self.shape))

    def get_config(self):
        return {"shape": list(self.shape)}
