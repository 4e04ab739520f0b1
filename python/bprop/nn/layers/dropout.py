"""Dropout and Dropout2d: random zeroing (of values; of whole channels) in training, the identity in evaluation."""
from ..._checks import real
from ..._dtypes import core_class
from ...random import resolve_seed
from .base import Layer

__all__ = ["Dropout", "Dropout2d"]


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


class Dropout2d(Layer):
    """Zeroes each channel of each sample (all of a (C, *spatial) sample's values at one c) with probability p
    in training and scales the kept ones by 1/(1-p), as torch.nn.Dropout2d; the identity in evaluation.
    Samples of rank >= 2. The mask is keyed by the seed and the training step, as Dropout's."""

    # The output's shape is the input's, but the input shape a later layer implies (a Linear's (in_features,),
    # the last axis alone) is no guess for a channel-first sample: a Sequential starting here waits for its
    # data or build() instead of failing on the guess.
    keeps_shape = False

    def __init__(self, p=0.5, seed=None):
        super().__init__()
        self.p = real(p, "p", "Dropout2d")
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"[Dropout2d] p must be in [0, 1]; got {self.p}")
        self.seed = resolve_seed(seed, "Dropout2d")

    def _make_core(self, dtype):
        return core_class("Dropout2d", dtype)(self.p, self.seed)

    def get_config(self):
        return {"p": self.p, "seed": self.seed}
