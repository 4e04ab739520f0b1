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
    is a ValueError naming it, before any work.

    ``padding_idx`` (as ``torch.nn.Embedding``'s), in [-num_embeddings, num_embeddings), a negative one
    counting from the end (kept normalised): that row starts at zeros and never receives a gradient, so
    training leaves it as it is (zeros, unless you assign it). The other rows are drawn as without it.
    """

    takes_indices = True

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, seed=None, dtype="float32"):
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
    def weight(self):
        """The (num_embeddings, embedding_dim) table Parameter."""
        return self.parameters()[0]

    @classmethod
    def tensor_shapes(cls, config):
        return {"weight": (config_size(config, "num_embeddings", "Embedding"),
                           config_size(config, "embedding_dim", "Embedding"))}

    def get_config(self):
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim,
                "padding_idx": self.padding_idx, "seed": self.seed, "dtype": self._fixed_dtype.name}
