"""Embedding: a lookup table from integer indices to learnt vectors (the first layer of a network)."""
from ..._checks import integer
from ..._dtypes import core_class, resolve_dtype
from ...random import resolve_seed
from .base import Layer, config_size

__all__ = ["Embedding"]


class Embedding(Layer):
    """Each integer index in [0, num_embeddings) becomes row `index` of ``weight`` (num_embeddings,
    embedding_dim), drawn from N(0, 1) as PyTorch's. Samples are indices of any shape; the output adds an
    axis of embedding_dim. It takes integer arrays, so it comes first in a Sequential; an index out of range
    is a ValueError naming it, before any work."""

    takes_indices = True

    def __init__(self, num_embeddings, embedding_dim, seed=None, dtype="float32"):
        super().__init__()
        self.num_embeddings = integer(num_embeddings, "num_embeddings", "Embedding", minimum=1)
        self.embedding_dim = integer(embedding_dim, "embedding_dim", "Embedding", minimum=1)
        self.seed = resolve_seed(seed, "Embedding")
        self._fixed_dtype = resolve_dtype(dtype, "Embedding")
        self.core()

    def _make_core(self, dtype):
        return core_class("Embedding", dtype)(self.num_embeddings, self.embedding_dim, self.seed)

    @property
    def weight(self):
        """The (num_embeddings, embedding_dim) table Parameter."""
        return self.parameters()[0]

    @classmethod
    def tensor_shapes(cls, config):
        return {"weight": (config_size(config, "num_embeddings", "Embedding"),
                           config_size(config, "embedding_dim", "Embedding"))}

    def get_config(self):
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim, "seed": self.seed,
                "dtype": self._fixed_dtype.name}
