"""Embedding: a lookup table from integer indices to learnt vectors (the first layer of a network)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple, Union

from ..._checks import integer
from ..._dtypes import core_class, resolve_dtype
from ...random import resolve_seed
from .base import Layer, config_size

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

    from ..._core import Parameter_float32, Parameter_float64

    Parameter = Union[Parameter_float32, Parameter_float64]  # what bprop.Parameter(...) makes

__all__ = ["Embedding"]


class Embedding(Layer):
    """A lookup table from integer indices to learnt vectors, as ``torch.nn.Embedding``.

    Each integer index in [0, num_embeddings) becomes row `index` of ``weight`` (num_embeddings,
    embedding_dim), drawn from N(0, 1) as PyTorch's. Samples are indices of any shape; the output adds an
    axis of embedding_dim. It takes integer arrays, so it comes first in a Sequential; an index out of range
    is a ValueError naming it, before any work.

    Parameters
    ----------
    num_embeddings : int
        The number of rows of the table (>= 1).
    embedding_dim : int
        The size of each vector (>= 1).
    padding_idx : int, optional
        A row, in [-num_embeddings, num_embeddings) (a negative one counts from the end and is kept
        normalised), that starts at zeros and never receives a gradient, so training leaves it as it is.
        The other rows are drawn as without it.
    seed : int, optional
        The initialisation seed; by default the next from bprop's global seed source.
    dtype : {"float32", "float64"}, default "float32"
        The dtype of the table and of the output.

    Raises
    ------
    TypeError
        If a size or `padding_idx` is not an integer, or `dtype` is not float32 or float64.
    ValueError
        If a size is < 1, `padding_idx` is out of range or `seed` is not an integer in [0, 2**64).

    Examples
    --------
    >>> layer = nn.Embedding(10, 3, padding_idx=0)
    >>> layer.forward(np.array([[1, 2], [3, 0]])).shape
    (2, 2, 3)
    >>> layer.weight.numpy()[0]
    array([0., 0., 0.], dtype=float32)
    """

    takes_indices = True

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: Optional[int] = None,
                 seed: Optional[int] = None, dtype: DTypeLike = "float32") -> None:
        super().__init__()
        self.num_embeddings = integer(num_embeddings, "num_embeddings", "Embedding", minimum=1)
        self.embedding_dim = integer(embedding_dim, "embedding_dim", "Embedding", minimum=1)
        self.padding_idx = None if padding_idx is None else self._normalised(padding_idx)
        self.seed = resolve_seed(seed, "Embedding")
        self._fixed_dtype = resolve_dtype(dtype, "Embedding")
        self.core()

    def _normalised(self, padding_idx):
        n = self.num_embeddings
        padding_idx = integer(padding_idx, "padding_idx", "Embedding", minimum=None, maximum=None)
        if not -n <= padding_idx < n:
            raise ValueError(f"[Embedding] padding_idx must be in [{-n}, {n}) for a table of {n} rows; got "
                             f"{padding_idx}")
        return padding_idx % n

    def _make_core(self, dtype):
        return core_class("Embedding", dtype)(self.num_embeddings, self.embedding_dim, self.seed, self.padding_idx)

    @property
    def weight(self) -> Parameter:
        """The (num_embeddings, embedding_dim) table Parameter."""
        return self.parameters()[0]

    @classmethod
    def tensor_shapes(cls, config: Dict[str, Any]) -> Dict[str, Tuple[int, ...]]:
        """The shape of the table an Embedding made from `config` holds, from the config alone.

        Parameters
        ----------
        config : dict
            The layer's config (`get_config`'s output).

        Returns
        -------
        dict
            ``{"weight": (num_embeddings, embedding_dim)}``.

        Raises
        ------
        TypeError
            If `config` is not a dict.
        ValueError
            If a size is missing or not an integer >= 1.

        Examples
        --------
        >>> nn.Embedding.tensor_shapes({"num_embeddings": 10, "embedding_dim": 3})
        {'weight': (10, 3)}
        """
        return {"weight": (config_size(config, "num_embeddings", "Embedding"),
                           config_size(config, "embedding_dim", "Embedding"))}

    def get_config(self) -> Dict[str, Any]:
        """The constructor's keywords, as plain data (padding_idx normalised, the seed included).

        Returns
        -------
        dict
            num_embeddings, embedding_dim, padding_idx, seed and dtype.

        Examples
        --------
        >>> nn.Embedding(10, 3, padding_idx=-1, seed=0).get_config()
        {'num_embeddings': 10, 'embedding_dim': 3, 'padding_idx': 9, 'seed': 0, 'dtype': 'float32'}
        """
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim,
                "padding_idx": self.padding_idx, "seed": self.seed, "dtype": self._fixed_dtype.name}
