"""Pooling and upsampling layers, PyTorch's, on samples (C, L) (the 1d classes) or (C, H, W) (the 2d ones):
MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d and Upsample. No parameters; the math is C++
(``cpp/ops/pooling.h``). Arguments are checked for type here and for range in C++ (one set of rules, the
same messages for C++ users), when the layer is made.
"""
from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple, Union

from ..._checks import flag, integer
from ..._dtypes import core_class
from .base import Layer

if TYPE_CHECKING:
    _Size = Union[int, Tuple[int, ...]]

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "Upsample"]


def _per_axis(value, name, where, dims, minimum):
    """An int, or a tuple of `dims` ints (one per spatial axis), as given; TypeError for anything else."""
    if isinstance(value, (tuple, list)):
        if len(value) != dims:
            raise ValueError(f"[{where}] {name} must be an int or {dims} int(s), one per spatial axis; got "
                             f"{len(value)} values")
        return tuple(integer(v, f"{name}[{i}]", where, minimum=minimum) for i, v in enumerate(value))
    if isinstance(value, (str, bytes)) or value is None or not isinstance(value, (numbers.Integral,)):
        raise TypeError(f"[{where}] {name} must be an int or a tuple of {dims} int(s); got {type(value).__name__}")
    return integer(value, name, where, minimum=minimum)


def _axes(value, dims):
    """One value per spatial axis, as the C++ layers take them."""
    return list(value) if isinstance(value, tuple) else [value] * dims


def _plain(value):
    """A config value as plain data (a tuple as a list, as a file holds it)."""
    return list(value) if isinstance(value, tuple) else value


class _Spatial(Layer):
    """What these layers share: `dims` spatial axes, a config of their settings, checks made at once."""

    dims = 2

    def _validate(self):
        self.core()  # the C++ checks of ranges (padding <= kernel_size // 2, ...), now rather than at first use

    @property
    def _settings(self):
        return {}

    def get_config(self) -> Dict[str, Any]:
        """The constructor's keywords, as plain data (tuples as lists, as a file holds them).

        Returns
        -------
        dict
            The layer's settings.

        Examples
        --------
        >>> nn.MaxPool2d(2).get_config()
        {'kernel_size': 2, 'stride': 2, 'padding': 0, 'dilation': 1, 'ceil_mode': False}
        >>> nn.AdaptiveAvgPool2d((2, 3)).get_config()
        {'output_size': [2, 3]}
        """
        return {key: _plain(value) for key, value in self._settings.items()}


class _MaxPool(_Spatial):
    def __init__(self, kernel_size: _Size, stride: Optional[_Size] = None, padding: _Size = 0, dilation: _Size = 1,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        where = type(self).__name__
        self.kernel_size = _per_axis(kernel_size, "kernel_size", where, self.dims, 1)
        self.stride = self.kernel_size if stride is None else _per_axis(stride, "stride", where, self.dims, 1)
        self.padding = _per_axis(padding, "padding", where, self.dims, 0)
        self.dilation = _per_axis(dilation, "dilation", where, self.dims, 1)
        self.ceil_mode = flag(ceil_mode, "ceil_mode", where)
        self._validate()

    @property
    def _settings(self):
        return {"kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding,
                "dilation": self.dilation, "ceil_mode": self.ceil_mode}

    def _make_core(self, dtype):
        d = self.dims
        return core_class("MaxPool", dtype)(d, _axes(self.kernel_size, d), _axes(self.stride, d),
                                            _axes(self.padding, d), _axes(self.dilation, d), self.ceil_mode)


class MaxPool1d(_MaxPool):
    """Max pooling along L of (C, L) samples: the max of each window of kernel_size values.

    As ``torch.nn.MaxPool1d``.

    Parameters
    ----------
    kernel_size : int or tuple of int
        The window's size (an int, or a tuple of one).
    stride : int or tuple of int, optional
        The step between windows (an int, or a tuple of one); by default kernel_size.
    padding : int or tuple of int, default 0
        Padding with -inf at both ends of each spatial axis, at most kernel_size // 2.
    dilation : int or tuple of int, default 1
        The spacing between the window's elements.
    ceil_mode : bool, default False
        Round the output size up rather than down (a last, partial window), as PyTorch.

    Raises
    ------
    TypeError
        If a size is not an int or a tuple of ints, or `ceil_mode` is not a bool.
    ValueError
        If a size is out of range (padding more than kernel_size // 2) or a tuple has the wrong length.

    Examples
    --------
    >>> nn.MaxPool1d(2).forward(np.ones((2, 3, 8), np.float32)).shape
    (2, 3, 4)
    """

    dims = 1


class MaxPool2d(_MaxPool):
    """Max pooling of (C, H, W) samples: the max of each kernel_size window, per channel.

    As ``torch.nn.MaxPool2d``; int arguments apply to both axes, tuples are (height, width).

    Parameters
    ----------
    kernel_size : int or tuple of int
        The window's size (an int for both axes, or an (h, w) pair).
    stride : int or tuple of int, optional
        The step between windows (an int for both axes, or an (h, w) pair); by default kernel_size.
    padding : int or tuple of int, default 0
        Padding with -inf at both ends of each spatial axis, at most kernel_size // 2.
    dilation : int or tuple of int, default 1
        The spacing between the window's elements.
    ceil_mode : bool, default False
        Round the output size up rather than down (a last, partial window), as PyTorch.

    Raises
    ------
    TypeError
        If a size is not an int or a tuple of ints, or `ceil_mode` is not a bool.
    ValueError
        If a size is out of range (padding more than kernel_size // 2) or a tuple has the wrong length.

    Examples
    --------
    >>> nn.MaxPool2d(2).forward(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
    array([[[[ 5.,  7.],
             [13., 15.]]]], dtype=float32)
    """

    dims = 2


class _AvgPool(_Spatial):
    def __init__(self, kernel_size: _Size, stride: Optional[_Size] = None, padding: _Size = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        where = type(self).__name__
        self.kernel_size = _per_axis(kernel_size, "kernel_size", where, self.dims, 1)
        self.stride = self.kernel_size if stride is None else _per_axis(stride, "stride", where, self.dims, 1)
        self.padding = _per_axis(padding, "padding", where, self.dims, 0)
        self.ceil_mode = flag(ceil_mode, "ceil_mode", where)
        self.count_include_pad = flag(count_include_pad, "count_include_pad", where)
        self._validate()

    @property
    def _settings(self):
        return {"kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding,
                "ceil_mode": self.ceil_mode, "count_include_pad": self.count_include_pad}

    def _make_core(self, dtype):
        d = self.dims
        return core_class("AvgPool", dtype)(d, _axes(self.kernel_size, d), _axes(self.stride, d),
                                            _axes(self.padding, d), self.ceil_mode, self.count_include_pad)


class AvgPool1d(_AvgPool):
    """Average pooling along L of (C, L) samples: the mean of each window of kernel_size values.

    As ``torch.nn.AvgPool1d``.

    Parameters
    ----------
    kernel_size : int or tuple of int
        The window's size (an int, or a tuple of one).
    stride : int or tuple of int, optional
        The step between windows (an int, or a tuple of one); by default kernel_size.
    padding : int or tuple of int, default 0
        Zeros added at both ends of each spatial axis, at most kernel_size // 2.
    ceil_mode : bool, default False
        Round the output size up rather than down (a last, partial window), as PyTorch.
    count_include_pad : bool, default True
        Whether the padding zeros count in each window's divisor.

    Raises
    ------
    TypeError
        If a size is not an int or a tuple of ints, or a flag is not a bool.
    ValueError
        If a size is out of range (padding more than kernel_size // 2) or a tuple has the wrong length.

    Examples
    --------
    >>> nn.AvgPool1d(2).forward(np.array([[[1, 3, 5, 7]]], np.float32))
    array([[[2., 6.]]], dtype=float32)
    """

    dims = 1


class AvgPool2d(_AvgPool):
    """Average pooling of (C, H, W) samples: the mean of each kernel_size window, per channel.

    As ``torch.nn.AvgPool2d``; int arguments apply to both axes, tuples are (height, width).

    Parameters
    ----------
    kernel_size : int or tuple of int
        The window's size (an int for both axes, or an (h, w) pair).
    stride : int or tuple of int, optional
        The step between windows (an int for both axes, or an (h, w) pair); by default kernel_size.
    padding : int or tuple of int, default 0
        Zeros added at both ends of each spatial axis, at most kernel_size // 2.
    ceil_mode : bool, default False
        Round the output size up rather than down (a last, partial window), as PyTorch.
    count_include_pad : bool, default True
        Whether the padding zeros count in each window's divisor.

    Raises
    ------
    TypeError
        If a size is not an int or a tuple of ints, or a flag is not a bool.
    ValueError
        If a size is out of range (padding more than kernel_size // 2) or a tuple has the wrong length.

    Examples
    --------
    >>> nn.AvgPool2d(2).forward(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
    array([[[[ 2.5,  4.5],
             [10.5, 12.5]]]], dtype=float32)
    """

    dims = 2


class _AdaptiveAvgPool(_Spatial):
    def __init__(self, output_size: _Size) -> None:
        super().__init__()
        self.output_size = _per_axis(output_size, "output_size", type(self).__name__, self.dims, 1)
        self._validate()

    @property
    def _settings(self):
        return {"output_size": self.output_size}

    def _make_core(self, dtype):
        return core_class("AdaptiveAvgPool", dtype)(self.dims, _axes(self.output_size, self.dims))


class AdaptiveAvgPool1d(_AdaptiveAvgPool):
    """Adaptive average pooling of (C, L) samples to (C, output_size), whatever L.

    As ``torch.nn.AdaptiveAvgPool1d``: output i averages inputs [floor(i·L/out), ceil((i+1)·L/out)).

    Parameters
    ----------
    output_size : int or tuple of int
        The output's spatial size (an int, or a tuple of one) (>= 1).

    Raises
    ------
    TypeError
        If `output_size` is not an int or a tuple of ints.
    ValueError
        If `output_size` is < 1 or a tuple has the wrong length.

    Examples
    --------
    >>> nn.AdaptiveAvgPool1d(4).forward(np.ones((2, 3, 10), np.float32)).shape
    (2, 3, 4)
    """

    dims = 1


class AdaptiveAvgPool2d(_AdaptiveAvgPool):
    """Adaptive average pooling of (C, H, W) samples to (C, *output_size), whatever H and W.

    As ``torch.nn.AdaptiveAvgPool2d``; ``AdaptiveAvgPool2d(1)`` is global average pooling.

    Parameters
    ----------
    output_size : int or tuple of int
        The output's spatial size (an int for both axes, or an (h, w) pair) (>= 1).

    Raises
    ------
    TypeError
        If `output_size` is not an int or a tuple of ints.
    ValueError
        If `output_size` is < 1 or a tuple has the wrong length.

    Examples
    --------
    >>> nn.AdaptiveAvgPool2d(1).forward(np.ones((2, 3, 5, 5), np.float32)).shape
    (2, 3, 1, 1)
    """

    dims = 2


def _scale(value, name, where):
    """An integer scale factor: an int, or a float equal to one (PyTorch code often writes 2.0)."""
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):  # bool is Integral
        if not float(value).is_integer():
            raise ValueError(f"[{where}] {name} must be a whole number (only integer factors are supported); "
                             f"got {value}")
        value = int(value)
    return integer(value, name, where, minimum=1)


class Upsample(_Spatial):
    """Nearest-neighbour upsampling: each value repeated scale_factor times along each spatial axis.

    On (C, L) or (C, H, W) samples, as ``torch.nn.Upsample(scale_factor=..., mode="nearest")``. Only integer
    factors and mode "nearest" (no output ``size``).

    Parameters
    ----------
    scale_factor : int or tuple of int
        The factor for every spatial axis, or a tuple of 1 or 2 with one per axis; floats equal to whole
        numbers (2.0) are accepted.
    mode : str, default "nearest"
        The only mode supported, "nearest".

    Raises
    ------
    TypeError
        If a factor is not a number or `mode` is not a str.
    ValueError
        If a factor is not a whole number >= 1, the tuple does not have 1 or 2 factors, or `mode` is not
        "nearest".

    Examples
    --------
    >>> nn.Upsample(2).forward(np.array([[[1, 2]]], np.float32))
    array([[[1., 1., 2., 2.]]], dtype=float32)
    >>> nn.Upsample((2, 3)).forward(np.ones((1, 1, 2, 2), np.float32)).shape
    (1, 1, 4, 6)
    """

    def __init__(self, scale_factor: Union[float, Tuple[float, ...]], mode: str = "nearest") -> None:
        super().__init__()
        if isinstance(scale_factor, (tuple, list)):
            if not 1 <= len(scale_factor) <= 2:
                raise ValueError(f"[Upsample] scale_factor must be a number or 1 or 2 of them, one per spatial axis; "
                                 f"got {len(scale_factor)} values")
            self.scale_factor = tuple(_scale(s, f"scale_factor[{i}]", "Upsample") for i, s in enumerate(scale_factor))
        else:
            self.scale_factor = _scale(scale_factor, "scale_factor", "Upsample")
        if not isinstance(mode, str):
            raise TypeError(f"[Upsample] mode must be a str; got {type(mode).__name__}")
        self.mode = mode
        self._validate()

    @property
    def _settings(self):
        return {"scale_factor": self.scale_factor, "mode": self.mode}

    def _make_core(self, dtype):
        per_axis = isinstance(self.scale_factor, tuple)
        return core_class("Upsample", dtype)(_axes(self.scale_factor, 1), per_axis, self.mode)
