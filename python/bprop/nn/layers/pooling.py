"""Pooling and upsampling layers, PyTorch's, on samples (C, L) (the 1d classes) or (C, H, W) (the 2d ones):
MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d and Upsample. No parameters; the math is C++
(``cpp/ops/pooling.h``). Arguments are checked for type here and for range in C++ (one set of rules, the
same messages for C++ users), when the layer is made.
"""
import numbers

from ..._checks import flag, integer
from ..._dtypes import core_class
from .base import Layer

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

    def get_config(self):
        return {key: _plain(value) for key, value in self._settings.items()}


class _MaxPool(_Spatial):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
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
    """The max of each window of ``kernel_size`` values along L of (C, L) samples, as ``torch.nn.MaxPool1d``
    (stride defaults to kernel_size; padding at most kernel_size // 2, padded with -inf)."""

    dims = 1


class MaxPool2d(_MaxPool):
    """The max of each kernel_size window of (C, H, W) samples, as ``torch.nn.MaxPool2d``; int arguments
    apply to both axes, tuples are (height, width)."""

    dims = 2


class _AvgPool(_Spatial):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
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
    """The mean of each window along L of (C, L) samples, as ``torch.nn.AvgPool1d`` (padding counts as zeros
    in the divisor when count_include_pad)."""

    dims = 1


class AvgPool2d(_AvgPool):
    """The mean of each kernel_size window of (C, H, W) samples, as ``torch.nn.AvgPool2d``."""

    dims = 2


class _AdaptiveAvgPool(_Spatial):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = _per_axis(output_size, "output_size", type(self).__name__, self.dims, 1)
        self._validate()

    @property
    def _settings(self):
        return {"output_size": self.output_size}

    def _make_core(self, dtype):
        return core_class("AdaptiveAvgPool", dtype)(self.dims, _axes(self.output_size, self.dims))


class AdaptiveAvgPool1d(_AdaptiveAvgPool):
    """Averages (C, L) samples to (C, output_size), as ``torch.nn.AdaptiveAvgPool1d``: output i averages
    inputs [floor(i·L/out), ceil((i+1)·L/out))."""

    dims = 1


class AdaptiveAvgPool2d(_AdaptiveAvgPool):
    """Averages (C, H, W) samples to (C, *output_size), as ``torch.nn.AdaptiveAvgPool2d``;
    ``AdaptiveAvgPool2d(1)`` is global average pooling."""

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
    """Repeats each value scale_factor times along each spatial axis of (C, L) or (C, H, W) samples, as
    ``torch.nn.Upsample(scale_factor=..., mode="nearest")``. scale_factor: an int for every axis, or a tuple
    with one per axis. Only integer factors and mode "nearest" (no output ``size``)."""

    def __init__(self, scale_factor, mode="nearest"):
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
