"""Convolutions: Conv1d, Conv2d and ConvTranspose2d, with PyTorch's arguments, NCHW layout and parameter
shapes (a PyTorch state dict copies across unchanged). The math is C++ (cpp/ops/conv.h): implicit GEMMs on
the packed micro-kernels, a direct loop for depthwise convolutions."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple, Union

from ..._checks import integer, real
from ..._dtypes import core_class, resolve_dtype
from ...random import resolve_seed
from .base import Layer, config_size
from .linear import _INITIALIZERS

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

    from ..._core import Parameter_float32, Parameter_float64

    Parameter = Union[Parameter_float32, Parameter_float64]  # what bprop.Parameter(...) makes

    _Size = Union[int, Tuple[int, ...]]

__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d"]


def axes(value, name, where, dims, minimum):
    """An int or a tuple of `dims` ints, each >= minimum, as a tuple."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims
    if len(values) != dims:
        raise ValueError(f"[{where}] {name} must be an int or a tuple of {dims}; got {value!r:.60}")
    return tuple(integer(v, name, where, minimum=minimum) for v in values)


def resolve_padding(padding, kernel, stride, dilation, where):
    """(begin, end) per axis from PyTorch's padding: an int, a tuple, "valid" (none) or "same" (the output
    as large as the input, stride 1 only; an odd total puts the extra zero at the end, as PyTorch)."""
    dims = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * dims, (0,) * dims
        if padding != "same":
            raise ValueError(f"[{where}] padding must be an int, a tuple, 'same' or 'valid'; got {padding!r:.40}")
        if any(s != 1 for s in stride):
            raise ValueError(f"[{where}] padding='same' needs stride 1 (the output size would not be the input's); "
                             f"got stride {stride}")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple(t // 2 for t in totals), tuple(t - t // 2 for t in totals)
    pads = axes(padding, "padding", where, dims, 0)
    return pads, pads


class _Convolution(Layer):
    """What the convolutions share: arguments, initialisation, the C++ layer and the config."""

    _dims = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 init="glorot_uniform", init_limit=None, seed=None, dtype="float32", output_padding=0):
        super().__init__()
        where = type(self).__name__
        self.in_channels = integer(in_channels, "in_channels", where, minimum=1)
        self.out_channels = integer(out_channels, "out_channels", where, minimum=1)
        self.kernel_size = axes(kernel_size, "kernel_size", where, self._dims, 1)
        self.stride = axes(stride, "stride", where, self._dims, 1)
        self.dilation = axes(dilation, "dilation", where, self._dims, 1)
        self.groups = integer(groups, "groups", where, minimum=1)
        for name in ("in_channels", "out_channels"):
            if getattr(self, name) % self.groups:
                raise ValueError(f"[{where}] {name} ({getattr(self, name)}) must be divisible by groups "
                                 f"({self.groups})")
        self.padding = padding if isinstance(padding, str) else axes(padding, "padding", where, self._dims, 0)
        self._pads = resolve_padding(self.padding, self.kernel_size, self.stride, self.dilation, where)
        self.output_padding = axes(output_padding, "output_padding", where, self._dims, 0)
        if init not in _INITIALIZERS:
            raise ValueError(f"[{where}] unknown init {init!r}; expected one of {', '.join(_INITIALIZERS)}")
        if (init == "uniform") != (init_limit is not None):
            raise ValueError(f"[{where}] init_limit goes with init='uniform' (and only with it)")
        self.use_bias = bool(bias)
        self.init, self.init_limit = init, init_limit
        self.seed = resolve_seed(seed, where)
        self._fixed_dtype = resolve_dtype(dtype, where)
        self.core()

    def _make_core(self, dtype):
        limit = 0.0 if self.init_limit is None else real(self.init_limit, "init_limit", self.name)
        kind = "ConvTranspose" if self._transposed else "Conv"
        return core_class(kind, dtype)(self.name, self.in_channels, self.out_channels, list(self.kernel_size),
                                       list(self.stride), list(self._pads[0]), list(self._pads[1]),
                                       list(self.dilation), self.groups,
                                       list(self.output_padding) if self._transposed else [], self.use_bias,
                                       self.init, limit, self.seed)

    @property
    def weight(self) -> Parameter:
        """The weight Parameter, PyTorch's shape: (out_channels, in_channels/groups, *kernel_size)
        ((in_channels, out_channels/groups, *kernel_size) for a transposed convolution)."""
        return self.parameters()[0]

    @property
    def bias(self) -> Optional[Parameter]:
        """The (out_channels,) bias Parameter, or None for a layer made with bias=False."""
        return self.parameters()[1] if self.use_bias else None

    @classmethod
    def tensor_shapes(cls, config: Dict[str, Any]) -> Dict[str, Tuple[int, ...]]:
        """The shapes of the parameters a convolution made from `config` holds, from the config alone.

        Parameters
        ----------
        config : dict
            The layer's config (`get_config`'s output).

        Returns
        -------
        dict
            ``{"weight": shape, "bias": (out_channels,)}`` (no bias for bias=False), PyTorch's shapes.

        Raises
        ------
        TypeError
            If `config` is not a dict or a size is not an integer.
        ValueError
            If a size is missing or out of range.

        Examples
        --------
        >>> nn.Conv1d.tensor_shapes({"in_channels": 3, "out_channels": 8, "kernel_size": 3})
        {'weight': (8, 3, 3), 'bias': (8,)}
        """
        where = cls.__name__
        cin, cout = (config_size(config, key, where) for key in ("in_channels", "out_channels"))
        groups = config_size({"groups": 1, **config}, "groups", where)
        kernel = axes(config.get("kernel_size"), "kernel_size", where, cls._dims, 1)
        weight = (cin, cout // groups, *kernel) if cls._transposed else (cout, cin // groups, *kernel)
        shapes = {"weight": weight}
        if config.get("bias", True):
            shapes["bias"] = (cout,)
        return shapes

    def get_config(self) -> Dict[str, Any]:
        """The constructor's keywords, as plain data, the seed included (sizes as tuples, one per axis).

        Returns
        -------
        dict
            The convolution's arguments; output_padding too for a transposed convolution.

        Examples
        --------
        >>> config = nn.Conv1d(3, 8, 3, seed=0).get_config()
        >>> config["kernel_size"], config["padding"], config["seed"]
        ((3,), (0,), 0)
        """
        config = {"in_channels": self.in_channels, "out_channels": self.out_channels,
                  "kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding,
                  "dilation": self.dilation, "groups": self.groups, "bias": self.use_bias, "init": self.init,
                  "init_limit": self.init_limit, "seed": self.seed, "dtype": self._fixed_dtype.name}
        if self._transposed:
            config["output_padding"] = self.output_padding
        return config


class Conv2d(_Convolution):
    """2-D convolution over samples (in_channels, H, W), as torch.nn.Conv2d.

    PyTorch's arguments, NCHW layout and weight shape (out_channels, in_channels/groups, kH, kW), so a
    PyTorch state dict copies across unchanged. Output size per axis: floor((in + 2·padding −
    dilation·(kernel − 1) − 1)/stride) + 1. Followed by an activation in a Sequential, the activation runs in
    the convolution's output blocks.

    Parameters
    ----------
    in_channels : int
        The channels C of each input sample (>= 1, divisible by `groups`).
    out_channels : int
        The channels of each output sample (>= 1, divisible by `groups`).
    kernel_size : int or tuple of int
        The kernel's size (an int for both axes, or an (h, w) pair).
    stride : int or tuple of int, default 1
        The step between kernel positions (an int for both axes, or an (h, w) pair).
    padding : int, tuple of int, "valid" or "same", default 0
        Zeros added at both ends of each spatial axis (an int for both axes, or an (h, w) pair); "valid" for none, "same" for an output as large
        as the input (stride 1 only; an odd total puts the extra zero at the end, as PyTorch).
    dilation : int or tuple of int, default 1
        The spacing between kernel taps (an int for both axes, or an (h, w) pair).
    groups : int, default 1
        Splits the channels into independent groups (groups = in_channels: a depthwise convolution).
    bias : bool, default True
        Whether to add a learnt (out_channels,) bias (starting at zero).
    init : str, default "glorot_uniform"
        The weight's initialisation, as Linear's (fan_in = in_channels/groups × kernel area, fan_out =
        out_channels × kernel area).
    init_limit : float, optional
        The bound of U(-init_limit, init_limit) for init="uniform" (and only with it).
    seed : int, optional
        The initialisation seed; by default the next from bprop's global seed source.
    dtype : {"float32", "float64"}, default "float32"
        The dtype of the parameters and of the computation.

    Raises
    ------
    TypeError
        If a size is not an integer or `dtype` is not float32 or float64.
    ValueError
        If a size is out of range, a tuple has the wrong length, the channels are not divisible by
        `groups`, `init` is unknown or `init_limit` does not go with it, or padding="same" comes with a stride other than 1.

    Examples
    --------
    >>> layer = nn.Conv2d(3, 8, 3, padding=1)
    >>> layer.forward(np.ones((2, 3, 5, 5), np.float32)).shape
    (2, 8, 5, 5)
    >>> layer.weight.shape
    (8, 3, 3, 3)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: _Size, stride: _Size = 1,
                 padding: Union[_Size, str] = 0, dilation: _Size = 1, groups: int = 1, bias: bool = True,
                 init: str = "glorot_uniform", init_limit: Optional[float] = None, seed: Optional[int] = None,
                 dtype: DTypeLike = "float32") -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, init,
                         init_limit, seed, dtype)


class Conv1d(_Convolution):
    """1-D convolution over samples (in_channels, L), as torch.nn.Conv1d.

    Arguments as Conv2d's, one value each; weight (out_channels, in_channels/groups, k).

    Parameters
    ----------
    in_channels : int
        The channels C of each input sample (>= 1, divisible by `groups`).
    out_channels : int
        The channels of each output sample (>= 1, divisible by `groups`).
    kernel_size : int or tuple of int
        The kernel's size (an int, or a tuple of one).
    stride : int or tuple of int, default 1
        The step between kernel positions (an int, or a tuple of one).
    padding : int, tuple of int, "valid" or "same", default 0
        Zeros added at both ends of each spatial axis (an int, or a tuple of one); "valid" for none, "same" for an output as large
        as the input (stride 1 only; an odd total puts the extra zero at the end, as PyTorch).
    dilation : int or tuple of int, default 1
        The spacing between kernel taps (an int, or a tuple of one).
    groups : int, default 1
        Splits the channels into independent groups (groups = in_channels: a depthwise convolution).
    bias : bool, default True
        Whether to add a learnt (out_channels,) bias (starting at zero).
    init : str, default "glorot_uniform"
        The weight's initialisation, as Linear's (fan_in = in_channels/groups × kernel area, fan_out =
        out_channels × kernel area).
    init_limit : float, optional
        The bound of U(-init_limit, init_limit) for init="uniform" (and only with it).
    seed : int, optional
        The initialisation seed; by default the next from bprop's global seed source.
    dtype : {"float32", "float64"}, default "float32"
        The dtype of the parameters and of the computation.

    Raises
    ------
    TypeError
        If a size is not an integer or `dtype` is not float32 or float64.
    ValueError
        If a size is out of range, a tuple has the wrong length, the channels are not divisible by
        `groups`, `init` is unknown or `init_limit` does not go with it, or padding="same" comes with a stride other than 1.

    Examples
    --------
    >>> nn.Conv1d(3, 8, 3).forward(np.ones((2, 3, 10), np.float32)).shape
    (2, 8, 8)
    """

    _dims = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size: _Size, stride: _Size = 1,
                 padding: Union[_Size, str] = 0, dilation: _Size = 1, groups: int = 1, bias: bool = True,
                 init: str = "glorot_uniform", init_limit: Optional[float] = None, seed: Optional[int] = None,
                 dtype: DTypeLike = "float32") -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, init,
                         init_limit, seed, dtype)


class ConvTranspose2d(_Convolution):
    """Transposed 2-D convolution (the adjoint of a Conv2d: upsampling in decoders), as torch.nn.ConvTranspose2d.

    Output size per axis: (in − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1. weight has
    shape (in_channels, out_channels/groups, kH, kW), as in PyTorch.

    Parameters
    ----------
    in_channels : int
        The channels C of each input sample (>= 1, divisible by `groups`).
    out_channels : int
        The channels of each output sample (>= 1, divisible by `groups`).
    kernel_size : int or tuple of int
        The kernel's size (an int for both axes, or an (h, w) pair).
    stride : int or tuple of int, default 1
        The step between kernel positions (an int for both axes, or an (h, w) pair).
    padding : int or tuple of int, default 0
        dilation·(kernel_size − 1) − padding zeros are added at both ends of each axis, as PyTorch's.
    output_padding : int or tuple of int, default 0
        Added to one side of each output axis, to pick among the output sizes a stride allows.
    dilation : int or tuple of int, default 1
        The spacing between kernel taps (an int for both axes, or an (h, w) pair).
    groups : int, default 1
        Splits the channels into independent groups (groups = in_channels: a depthwise convolution).
    bias : bool, default True
        Whether to add a learnt (out_channels,) bias (starting at zero).
    init : str, default "glorot_uniform"
        The weight's initialisation, as Linear's (fan_in = out_channels/groups × kernel area, fan_out =
        in_channels × kernel area, as PyTorch reads this weight).
    init_limit : float, optional
        The bound of U(-init_limit, init_limit) for init="uniform" (and only with it).
    seed : int, optional
        The initialisation seed; by default the next from bprop's global seed source.
    dtype : {"float32", "float64"}, default "float32"
        The dtype of the parameters and of the computation.

    Raises
    ------
    TypeError
        If a size is not an integer or `dtype` is not float32 or float64.
    ValueError
        If a size is out of range, a tuple has the wrong length, the channels are not divisible by
        `groups`, `init` is unknown or `init_limit` does not go with it, or `padding` is a string.

    Examples
    --------
    >>> layer = nn.ConvTranspose2d(8, 3, 2, stride=2)
    >>> layer.forward(np.ones((2, 8, 4, 4), np.float32)).shape
    (2, 3, 8, 8)
    >>> layer.weight.shape
    (8, 3, 2, 2)
    """

    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: _Size, stride: _Size = 1, padding: _Size = 0,
                 output_padding: _Size = 0, groups: int = 1, bias: bool = True, dilation: _Size = 1,
                 init: str = "glorot_uniform", init_limit: Optional[float] = None, seed: Optional[int] = None,
                 dtype: DTypeLike = "float32") -> None:
        if isinstance(padding, str):
            raise ValueError(f"[ConvTranspose2d] padding must be an int or a tuple; got {padding!r:.40}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, init,
                         init_limit, seed, dtype, output_padding)
