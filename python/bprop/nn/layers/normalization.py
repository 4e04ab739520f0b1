"""Normalisation layers: BatchNorm (over the batch, with running statistics) and LayerNorm (over features) on the
last axis; BatchNorm1d and BatchNorm2d (PyTorch's) per channel, the first axis of (C, *spatial) samples."""
from ..._checks import integer, real
from ..._dtypes import core_class, resolve_dtype
from .base import Layer, config_size

__all__ = ["BatchNorm", "LayerNorm", "BatchNorm1d", "BatchNorm2d"]


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


class _ChannelBatchNorm(Layer):
    """PyTorch's BatchNorm1d/2d: each channel (axis 0 of a sample) normalised over the batch and the sample's
    other axes with the batch statistics in training, the running ones in evaluation; then scaled by weight
    and shifted by bias. running_mean/running_var are updated as PyTorch does (the unbiased variance of the
    N·H·W values; momentum 0.1 weighs the new batch); a channel holding one value in a training batch
    normalises to 0 and leaves running_var as it was (PyTorch raises). The tensors are named as PyTorch's
    (weight, bias, running_mean, running_var), so its state dict copies across (without num_batches_tracked).
    """

    # The output's shape is the input's, but the input shape a later layer implies (a Linear's (in_features,),
    # the last axis alone) is no guess for a channel-first sample: a Sequential starting here waits for its
    # data or build() instead of failing on the guess.
    keeps_shape = False

    def __init__(self, num_features, eps=1e-5, momentum=0.1, dtype="float32"):
        super().__init__()
        name = type(self).__name__
        self.num_features = integer(num_features, "num_features", name, minimum=1)
        self.eps = real(eps, "eps", name)
        self.momentum = real(momentum, "momentum", name)
        self._fixed_dtype = resolve_dtype(dtype, name)
        self.core()

    def _make_core(self, dtype):
        return core_class(type(self).__name__, dtype)(self.num_features, self.eps, self.momentum)

    # PyTorch's attribute names: the (num_features,) Parameter handles.
    weight = property(lambda self: self.parameters()[0], doc="The scale γ (starts at 1).")
    bias = property(lambda self: self.parameters()[1], doc="The shift β (starts at 0).")
    running_mean = property(lambda self: self.buffers()[0], doc="The running mean (a buffer, starts at 0).")
    running_var = property(lambda self: self.buffers()[1], doc="The running variance (a buffer, starts at 1).")

    @classmethod
    def tensor_shapes(cls, config):
        size = (config_size(config, "num_features", cls.__name__),)
        return {"weight": size, "bias": size, "running_mean": size, "running_var": size}

    def get_config(self):
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum,
                "dtype": self._fixed_dtype.name}


class BatchNorm2d(_ChannelBatchNorm):
    """Batch normalisation of (C, H, W) samples per channel, as torch.nn.BatchNorm2d."""


class BatchNorm1d(_ChannelBatchNorm):
    """Batch normalisation of (C,) or (C, L) samples per channel, as torch.nn.BatchNorm1d (on (C,) samples it
    computes what BatchNorm does)."""
