"""Dropout: random zeroing in training, the identity in evaluation."""
from ..._checks import real
from ..._dtypes import core_class
from ...random import resolve_seed
from .base import Layer

__all__ = ["Dropout"]


class Dropout(Layer):
    """Zeroes each value with probability p in training and scales the rest by 1/(1-p)."""

    keeps_shape = True

    def __init__(self, p=0.5, seed=None):
        super().__init__()
        self.p = real(p, "p", "Dropout")
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"[Dropout] p must be in [0, 1]; got {self.p}")
        self.seed = resolve_seed(seed, "Dropout")

    def _make_core(self, dtype):
        return core_class("Dropout", dtype)(self.p, self.seed)

    def get_config(self):
        return {"p": self.p, "seed": self.seed}
