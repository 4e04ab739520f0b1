"""Normalisation layers: BatchNorm (over the batch, with running statistics) and LayerNorm (over features)."""
from ..._checks import integer, real
from ..._dtypes import core_class, resolve_dtype
from .base import Layer, config_size

__all__ = ["BatchNorm", "LayerNorm"]


class BatchNorm(Layer):
    """Normalises each feature over the batch (training) or with running statistics (evaluation)."""

    def __init__(self, features, eps=1e-5, momentum=0.1, dtype="float32"):
        super().__init__()
        self.features = integer(features, "features", "BatchNorm", minimum=1)
        self.eps = real(eps, "eps", "BatchNorm")
        self.momentum = real(momentum, "momentum", "BatchNorm")
        self._fixed_dtype = resolve_dtype(dtype, "BatchNorm")
        self.core()

    def implied_input_shape(self):
        return (self.features,)

    def _make_core(self, dtype):
        return core_class("BatchNorm", dtype)(self.features, self.eps, self.momentum)

    @classmethod
    def tensor_shapes(cls, config):
        size = (config_size(config, "features", "BatchNorm"),)
        return {"weight": size, "bias": size, "running_mean": size, "running_var": size}

    def get_config(self):
        return {"features": self.features, "eps": self.eps, "momentum": self.momentum,
                "dtype": self._fixed_dtype.name}


class LayerNorm(Layer):
    """Normalises each sample over its features, then scales and shifts them."""

    def __init__(self, features, eps=1e-5, dtype="float32"):
        super().__init__()
        self.features = integer(features, "features", "LayerNorm", minimum=1)
        self.eps = real(eps, "eps", "LayerNorm")
        self._fixed_dtype = resolve_dtype(dtype, "LayerNorm")
        self.core()

    def implied_input_shape(self):
        return (self.features,)

    def _make_core(self, dtype):
        return core_class("LayerNorm", dtype)(self.features, self.eps)

    @classmethod
    def tensor_shapes(cls, config):
        size = (config_size(config, "features", "LayerNorm"),)
        return {"weight": size, "bias": size}

    def get_config(self):
        return {"features": self.features, "eps": self.eps, "dtype": self._fixed_dtype.name}
