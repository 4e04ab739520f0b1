"""Normalisation layers: BatchNorm (over the batch, with running statistics) and LayerNorm (over features) on the
last axis; BatchNorm1d and BatchNorm2d (PyTorch's) per channel, the first axis of (C, *spatial) samples."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Tuple, Union

from ..._checks import integer, real
from ..._dtypes import core_class, resolve_dtype
from .base import Layer, config_size

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

    from ..._core import Parameter_float32, Parameter_float64

    Parameter = Union[Parameter_float32, Parameter_float64]  # what bprop.Parameter(...) makes

__all__ = ["BatchNorm", "LayerNorm", "BatchNorm1d", "BatchNorm2d"]


class BatchNorm(Layer):
    """Batch normalisation of each feature (the last axis) of (features,) samples.

    In training each feature is normalised with the batch's mean and variance, and the running statistics
    move towards them: running = (1 − momentum)·running + momentum·batch. In evaluation the running
    statistics are used. Then y = weight·x̂ + bias, weight starting at 1 and bias at 0. As
    ``torch.nn.BatchNorm1d`` on (samples, features) batches; the tensors are named weight, bias,
    running_mean and running_var.

    Parameters
    ----------
    features : int
        The number of features (>= 1).
    eps : float, default 1e-5
        Added to the variance before its square root.
    momentum : float, default 0.1
        How far the running statistics move towards each training batch's.
    dtype : {"float32", "float64"}, default "float32"
        The dtype of the parameters and of the computation.

    Raises
    ------
    TypeError
        If `features` is not an integer, `eps` or `momentum` not a real number, or `dtype` not float32 or
        float64.
    ValueError
        If `features` is < 1, `eps` is not > 0 or `momentum` is outside [0, 1].

    Examples
    --------
    >>> layer = nn.BatchNorm(3)
    >>> layer.forward(np.array([[1, 2, 3], [3, 4, 5]], np.float32), training=True)
    array([[-0.999995, -0.999995, -0.999995],
           [ 0.999995,  0.999995,  0.999995]], dtype=float32)
    >>> [name for name, _ in layer.named_buffers()]
    ['running_mean', 'running_var']
    """

    def __init__(self, features: int, eps: float = 1e-5, momentum: float = 0.1, dtype: DTypeLike = "float32") -> None:
        super().__init__()
        self.features = integer(features, "features", "BatchNorm", minimum=1)
        self.eps = real(eps, "eps", "BatchNorm")
        self.momentum = real(momentum, "momentum", "BatchNorm")
        self._fixed_dtype = resolve_dtype(dtype, "BatchNorm")
        self.core()

    def implied_input_shape(self) -> Tuple[int, ...]:
        """The sample shape a BatchNorm takes: (features,).

        Returns
        -------
        tuple of int
            ``(features,)``.

        Examples
        --------
        >>> nn.BatchNorm(3).implied_input_shape()
        (3,)
        """
        return (self.features,)

    def _make_core(self, dtype):
        return core_class("BatchNorm", dtype)(self.features, self.eps, self.momentum)

    @classmethod
    def tensor_shapes(cls, config: Dict[str, Any]) -> Dict[str, Tuple[int, ...]]:
        """The shapes of the tensors a BatchNorm made from `config` holds, from the config alone.

        Parameters
        ----------
        config : dict
            The layer's config (`get_config`'s output).

        Returns
        -------
        dict
            weight, bias, running_mean and running_var, each (features,).

        Raises
        ------
        TypeError
            If `config` is not a dict.
        ValueError
            If features is missing or not an integer >= 1.

        Examples
        --------
        >>> nn.BatchNorm.tensor_shapes({"features": 3})["running_mean"]
        (3,)
        """
        size = (config_size(config, "features", "BatchNorm"),)
        return {"weight": size, "bias": size, "running_mean": size, "running_var": size}

    def get_config(self) -> Dict[str, Any]:
        """The constructor's keywords, as plain data.

        Returns
        -------
        dict
            features, eps, momentum and dtype.

        Examples
        --------
        >>> nn.BatchNorm(3).get_config()
        {'features': 3, 'eps': 1e-05, 'momentum': 0.1, 'dtype': 'float32'}
        """
        return {"features": self.features, "eps": self.eps, "momentum": self.momentum,
                "dtype": self._fixed_dtype.name}


class LayerNorm(Layer):
    """Layer normalisation: each sample normalised over its features, then scaled and shifted.

    y = weight·(x − mean)/sqrt(var + eps) + bias, the mean and (biased) variance taken over the last axis of
    each sample; weight starts at 1 and bias at 0. As ``torch.nn.LayerNorm(features)``; the same in
    training and evaluation.

    Parameters
    ----------
    features : int
        The size of the last axis (>= 1).
    eps : float, default 1e-5
        Added to the variance before its square root.
    dtype : {"float32", "float64"}, default "float32"
        The dtype of the parameters and of the computation.

    Raises
    ------
    TypeError
        If `features` is not an integer, `eps` not a real number, or `dtype` not float32 or float64.
    ValueError
        If `features` is < 1 or `eps` is not > 0.

    Examples
    --------
    >>> nn.LayerNorm(3).forward(np.array([[1, 2, 3]], np.float32))
    array([[-1.2247356,  0.       ,  1.2247356]], dtype=float32)
    """

    def __init__(self, features: int, eps: float = 1e-5, dtype: DTypeLike = "float32") -> None:
        super().__init__()
        self.features = integer(features, "features", "LayerNorm", minimum=1)
        self.eps = real(eps, "eps", "LayerNorm")
        self._fixed_dtype = resolve_dtype(dtype, "LayerNorm")
        self.core()

    def implied_input_shape(self) -> Tuple[int, ...]:
        """The sample shape a LayerNorm takes: (features,).

        Returns
        -------
        tuple of int
            ``(features,)``.

        Examples
        --------
        >>> nn.LayerNorm(3).implied_input_shape()
        (3,)
        """
        return (self.features,)

    def _make_core(self, dtype):
        return core_class("LayerNorm", dtype)(self.features, self.eps)

    @classmethod
    def tensor_shapes(cls, config: Dict[str, Any]) -> Dict[str, Tuple[int, ...]]:
        """The shapes of the parameters a LayerNorm made from `config` holds, from the config alone.

        Parameters
        ----------
        config : dict
            The layer's config (`get_config`'s output).

        Returns
        -------
        dict
            ``{"weight": (features,), "bias": (features,)}``.

        Raises
        ------
        TypeError
            If `config` is not a dict.
        ValueError
            If features is missing or not an integer >= 1.

        Examples
        --------
        >>> nn.LayerNorm.tensor_shapes({"features": 3})
        {'weight': (3,), 'bias': (3,)}
        """
        size = (config_size(config, "features", "LayerNorm"),)
        return {"weight": size, "bias": size}

    def get_config(self) -> Dict[str, Any]:
        """The constructor's keywords, as plain data.

        Returns
        -------
        dict
            features, eps and dtype.

        Examples
        --------
        >>> nn.LayerNorm(3).get_config()
        {'features': 3, 'eps': 1e-05, 'dtype': 'float32'}
        """
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

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 dtype: DTypeLike = "float32") -> None:
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
    @property
    def weight(self) -> Parameter:
        """The scale γ, a (num_features,) Parameter (starts at 1)."""
        return self.parameters()[0]

    @property
    def bias(self) -> Parameter:
        """The shift β, a (num_features,) Parameter (starts at 0)."""
        return self.parameters()[1]

    @property
    def running_mean(self) -> Parameter:
        """The running mean, a (num_features,) buffer (starts at 0)."""
        return self.buffers()[0]

    @property
    def running_var(self) -> Parameter:
        """The running variance, a (num_features,) buffer (starts at 1)."""
        return self.buffers()[1]

    @classmethod
    def tensor_shapes(cls, config: Dict[str, Any]) -> Dict[str, Tuple[int, ...]]:
        """The shapes of the tensors a layer made from `config` holds, from the config alone.

        Parameters
        ----------
        config : dict
            The layer's config (`get_config`'s output).

        Returns
        -------
        dict
            weight, bias, running_mean and running_var, each (num_features,).

        Raises
        ------
        TypeError
            If `config` is not a dict.
        ValueError
            If num_features is missing or not an integer >= 1.

        Examples
        --------
        >>> nn.BatchNorm2d.tensor_shapes({"num_features": 16})["weight"]
        (16,)
        """
        size = (config_size(config, "num_features", cls.__name__),)
        return {"weight": size, "bias": size, "running_mean": size, "running_var": size}

    def get_config(self) -> Dict[str, Any]:
        """The constructor's keywords, as plain data.

        Returns
        -------
        dict
            num_features, eps, momentum and dtype.

        Examples
        --------
        >>> nn.BatchNorm2d(16).get_config()
        {'num_features': 16, 'eps': 1e-05, 'momentum': 0.1, 'dtype': 'float32'}
        """
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum,
                "dtype": self._fixed_dtype.name}


class BatchNorm2d(_ChannelBatchNorm):
    """Batch normalisation of (C, H, W) samples per channel, as torch.nn.BatchNorm2d.

    Each channel is normalised over the batch and H, W with the batch statistics in training, the running
    ones in evaluation, then scaled by weight and shifted by bias. The running variance is the unbiased one,
    as PyTorch's; a PyTorch state dict copies across (without num_batches_tracked).

    Parameters
    ----------
    num_features : int
        The number of channels C (>= 1).
    eps : float, default 1e-5
        Added to the variance before its square root.
    momentum : float, default 0.1
        How far the running statistics move towards each training batch's (PyTorch's convention).
    dtype : {"float32", "float64"}, default "float32"
        The dtype of the parameters and of the computation.

    Raises
    ------
    TypeError
        If `num_features` is not an integer, `eps` or `momentum` not a real number, or `dtype` not float32
        or float64.
    ValueError
        If `num_features` is < 1, `eps` is not > 0 or `momentum` is outside [0, 1].

    Examples
    --------
    >>> layer = nn.BatchNorm2d(3)
    >>> layer.forward(np.ones((2, 3, 4, 4), np.float32), training=True).shape
    (2, 3, 4, 4)
    >>> layer.running_var.shape
    (3,)
    """


class BatchNorm1d(_ChannelBatchNorm):
    """Batch normalisation of (C,) or (C, L) samples per channel, as torch.nn.BatchNorm1d.

    On (C, L) samples each channel is normalised over the batch and L; on (C,) samples it computes what
    BatchNorm does. Statistics and tensors as BatchNorm2d's.

    Parameters
    ----------
    num_features : int
        The number of channels C (>= 1).
    eps : float, default 1e-5
        Added to the variance before its square root.
    momentum : float, default 0.1
        How far the running statistics move towards each training batch's (PyTorch's convention).
    dtype : {"float32", "float64"}, default "float32"
        The dtype of the parameters and of the computation.

    Raises
    ------
    TypeError
        If `num_features` is not an integer, `eps` or `momentum` not a real number, or `dtype` not float32
        or float64.
    ValueError
        If `num_features` is < 1, `eps` is not > 0 or `momentum` is outside [0, 1].

    Examples
    --------
    >>> nn.BatchNorm1d(3).forward(np.ones((2, 3, 5), np.float32)).shape
    (2, 3, 5)
    """

