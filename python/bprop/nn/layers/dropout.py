"""Dropout and Dropout2d: random zeroing (of values; of whole channels) in training, the identity in evaluation."""
from __future__ import annotations

from typing import Any, Dict, Optional

from ..._checks import real
from ..._dtypes import core_class
from ...random import resolve_seed
from .base import Layer

__all__ = ["Dropout", "Dropout2d"]


class Dropout(Layer):
    """Dropout: zeroes each value with probability p in training and scales the rest by 1/(1-p).

    The identity in evaluation, as ``torch.nn.Dropout``.

    Parameters
    ----------
    p : float, default 0.5
        The probability of zeroing a value, in [0, 1].
    seed : int, optional
        The seed of the masks, in [0, 2**64); by default the next from bprop's global seed source. The mask
        is keyed by the seed and the training step, so a seeded run repeats.

    Raises
    ------
    TypeError
        If `p` is not a real number.
    ValueError
        If `p` is outside [0, 1] or `seed` is not an integer in [0, 2**64).

    Examples
    --------
    >>> layer = nn.Dropout(0.5, seed=0)
    >>> x = np.ones((2, 4), np.float32)
    >>> np.array_equal(layer.forward(x), x)
    True
    >>> sorted(set(layer.forward(x, training=True).ravel().tolist())) in ([0.0, 2.0], [0.0], [2.0])
    True
    """

    keeps_shape = True

    def __init__(self, p: float = 0.5, seed: Optional[int] = None) -> None:
        super().__init__()
        self.p = real(p, "p", "Dropout")
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"[Dropout] p must be in [0, 1]; got {self.p}")
        self.seed = resolve_seed(seed, "Dropout")

    def _make_core(self, dtype):
        return core_class("Dropout", dtype)(self.p, self.seed)

    def get_config(self) -> Dict[str, Any]:
        """The constructor's keywords, as plain data, the seed included.

        Returns
        -------
        dict
            ``{"p": ..., "seed": ...}``.

        Examples
        --------
        >>> nn.Dropout(0.25, seed=3).get_config()
        {'p': 0.25, 'seed': 3}
        """
        return {"p": self.p, "seed": self.seed}


class Dropout2d(Layer):
    """Channel dropout: zeroes whole channels of each sample with probability p in training.

    All of a (C, *spatial) sample's values at one channel are zeroed together, and the kept ones scaled by
    1/(1-p), as ``torch.nn.Dropout2d``; the identity in evaluation. Samples of rank >= 2.

    Parameters
    ----------
    p : float, default 0.5
        The probability of zeroing a channel, in [0, 1].
    seed : int, optional
        The seed of the masks, in [0, 2**64); by default the next from bprop's global seed source. The mask
        is keyed by the seed and the training step, so a seeded run repeats.

    Raises
    ------
    TypeError
        If `p` is not a real number.
    ValueError
        If `p` is outside [0, 1] or `seed` is not an integer in [0, 2**64).

    Examples
    --------
    >>> layer = nn.Dropout2d(0.5, seed=0)
    >>> y = layer.forward(np.ones((2, 3, 4, 4), np.float32), training=True)
    >>> y.shape
    (2, 3, 4, 4)
    >>> bool(np.all(y.min(axis=(2, 3)) == y.max(axis=(2, 3))))  # each channel kept or zeroed whole
    True
    """

    # The output's shape is the input's, but the input shape a later layer implies (a Linear's (in_features,),
    # the last axis alone) is no guess for a channel-first sample: a Sequential starting here waits for its
    # data or build() instead of failing on the guess.
    keeps_shape = False

    def __init__(self, p: float = 0.5, seed: Optional[int] = None) -> None:
        super().__init__()
        self.p = real(p, "p", "Dropout2d")
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"[Dropout2d] p must be in [0, 1]; got {self.p}")
        self.seed = resolve_seed(seed, "Dropout2d")

    def _make_core(self, dtype):
        return core_class("Dropout2d", dtype)(self.p, self.seed)

    def get_config(self) -> Dict[str, Any]:
        """The constructor's keywords, as plain data, the seed included.

        Returns
        -------
        dict
            ``{"p": ..., "seed": ...}``.

        Examples
        --------
        >>> nn.Dropout2d(0.25, seed=3).get_config()
        {'p': 0.25, 'seed': 3}
        """
        return {"p": self.p, "seed": self.seed}
