"""Layers that change a sample's shape and not its values: Flatten (PyTorch's) and Reshape (Keras's)."""
from __future__ import annotations

import numbers
from typing import Any, Dict, Iterable

from ..._checks import LARGEST, integer
from ..._dtypes import core_class
from .base import Layer

__all__ = ["Flatten", "Reshape"]


class Flatten(Layer):
    """Merges axes start_dim..end_dim of a batch into one, as ``torch.nn.Flatten``.

    Axis 0 holds the samples, so start_dim >= 1; the default flattens each sample.

    Parameters
    ----------
    start_dim : int, default 1
        The first axis merged (of the batch, >= 1).
    end_dim : int, default -1
        The last axis merged; negative counts from the end.

    Raises
    ------
    TypeError
        If an axis is not an integer.
    ValueError
        If `start_dim` is < 1.

    Examples
    --------
    >>> nn.Flatten().forward(np.ones((2, 3, 4, 5), np.float32)).shape
    (2, 60)
    >>> nn.Flatten(2).forward(np.ones((2, 3, 4, 5), np.float32)).shape
    (2, 3, 20)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = integer(start_dim, "start_dim", "Flatten", minimum=-LARGEST)
        self.end_dim = integer(end_dim, "end_dim", "Flatten", minimum=-LARGEST)
        if self.start_dim < 1:
            raise ValueError(f"[Flatten] start_dim must be >= 1 (axis 0 holds the samples, which stay apart); got "
                             f"{self.start_dim}")

    def _make_core(self, dtype):
        return core_class("Flatten", dtype)(self.start_dim, self.end_dim)

    def get_config(self) -> Dict[str, Any]:
        """The constructor's keywords, as plain data.

        Returns
        -------
        dict
            ``{"start_dim": ..., "end_dim": ...}``.

        Examples
        --------
        >>> nn.Flatten().get_config()
        {'start_dim': 1, 'end_dim': -1}
        """
        return {"start_dim": self.start_dim, "end_dim": self.end_dim}


class Reshape(Layer):
    """Reshapes each sample to ``shape`` (the batch axis excluded), as ``keras.layers.Reshape``.

    Parameters
    ----------
    shape : tuple of int
        The sample shape of the output: sizes >= 1, one of them -1 at most (inferred from the others).

    Raises
    ------
    TypeError
        If `shape` is not a sequence of sizes.
    ValueError
        If `shape` is empty, holds a non-integer or a size < 1 other than one -1.

    Examples
    --------
    >>> nn.Reshape((2, -1)).forward(np.ones((4, 6), np.float32)).shape
    (4, 2, 3)
    """

    def __init__(self, shape: Iterable[int]) -> None:
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

    def get_config(self) -> Dict[str, Any]:
        """The constructor's keywords, as plain data (the shape as a list).

        Returns
        -------
        dict
            ``{"shape": [...]}``.

        Examples
        --------
        >>> nn.Reshape((2, 3)).get_config()
        {'shape': [2, 3]}
        """
        return {"shape": list(self.shape)}
