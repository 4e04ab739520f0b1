"""Losses, convolutions, pooling and upsampling as functions of tensors, as ``torch.nn.functional``.

Losses return a scalar tensor recorded in the graph, computed by the same C++ loss the trainer uses (value
and gradient in one pass):

    loss = nn.functional.cross_entropy(net(x), labels)
    loss.backward()

Targets are arrays (or tensors, read as constants): class indices or probabilities for cross_entropy,
values shaped like the output otherwise. ``sample_weight`` (rows,) multiplies each row's terms.

conv1d/conv2d/conv_transpose2d run the kernels the Conv layers run, with the weights as tensors.
Pooling (max_pool1d/2d, avg_pool1d/2d, adaptive_avg_pool1d/2d) and interpolate take a batch (samples,
*sample) with samples (C, L) or (C, H, W), and run the layer of the same name as one graph node.
"""
from .. import _core
from .._checks import integer
from ..autograd.tensor import as_input
from .layers.conv import axes, resolve_padding
from .layers.pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d,
                             Upsample)
from .losses import MAE, MSE, BinaryCrossEntropy, CrossEntropy, Huber

__all__ = ["conv1d", "conv2d", "conv_transpose2d", "cross_entropy", "mse", "mse_loss", "mae", "l1_loss", "huber",
           "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "max_pool1d", "max_pool2d",
           "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "interpolate"]


def cross_entropy(output, target, *, sample_weight=None, reduction="mean", label_smoothing=0.0, ignore_index=None):
    """Softmax cross-entropy of logits (rows, classes), as torch.nn.functional.cross_entropy; ignore_index
    as nn.CrossEntropy's (None by default, where torch's is -100)."""
    return CrossEntropy(label_smoothing, ignore_index=ignore_index, reduction=reduction).on_tensor(
        output, target, sample_weight)


def mse(output, target, *, sample_weight=None, reduction="mean"):
    """Mean squared error, as torch.nn.functional.mse_loss."""
    return MSE(reduction=reduction).on_tensor(output, target, sample_weight)


def mae(output, target, *, sample_weight=None, reduction="mean"):
    """Mean absolute error, as torch.nn.functional.l1_loss."""
    return MAE(reduction=reduction).on_tensor(output, target, sample_weight)


def huber(output, target, *, delta=1.0, sample_weight=None, reduction="mean"):
    """Huber loss, as torch.nn.functional.huber_loss."""
    return Huber(delta, reduction=reduction).on_tensor(output, target, sample_weight)


def binary_cross_entropy(output, target, *, sample_weight=None, reduction="mean"):
    """Binary cross-entropy of logits, as torch.nn.functional.binary_cross_entropy_with_logits."""
    return BinaryCrossEntropy(reduction=reduction).on_tensor(output, target, sample_weight)


# PyTorch's names for the same functions.
mse_loss, l1_loss, huber_loss, binary_cross_entropy_with_logits = mse, mae, huber, binary_cross_entropy


# -- convolutions: the kernels the Conv layers run, on tensors (PyTorch's signatures) --------------------
def _conv(op, dims, x, weight, bias, stride, padding, dilation, groups, output_padding=0, transposed=False):
    x, weight = as_input(x, op), as_input(weight, op)
    bias = None if bias is None else as_input(bias, op)
    if weight.ndim != dims + 2:
        raise ValueError(f"[{op}] weight must be {dims + 2}-D (channels, channels per group, *kernel); got shape "
                         f"{tuple(weight.shape)}")
    kernel = tuple(weight.shape[2:])
    stride, dilation = axes(stride, "stride", op, dims, 1), axes(dilation, "dilation", op, dims, 1)
    if transposed and isinstance(padding, str):
        raise ValueError(f"[{op}] padding must be an int or a tuple; got {padding!r:.40}")
    begin, end = resolve_padding(padding, kernel, stride, dilation, op)
    return _core.ag_conv(x, weight, bias, list(stride), list(begin), list(end), list(dilation),
                         integer(groups, "groups", op, minimum=1),
                         list(axes(output_padding, "output_padding", op, dims, 0)), transposed)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution of x (batch, in_channels, H, W) with weight (out_channels, in_channels/groups, kH, kW),
    as torch.nn.functional.conv2d (padding: int, pair, "same" or "valid"). Recorded in the graph."""
    return _conv("conv2d", 2, x, weight, bias, stride, padding, dilation, groups)


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of x (batch, in_channels, L), as torch.nn.functional.conv1d."""
    return _conv("conv1d", 1, x, weight, bias, stride, padding, dilation, groups)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution, weight (in_channels, out_channels/groups, kH, kW), as
    torch.nn.functional.conv_transpose2d."""
    return _conv("conv_transpose2d", 2, x, weight, bias, stride, padding, dilation, groups, output_padding, True)


# -- pooling and upsampling: a layer made for the call, run as one graph node ------------------------------------
def _on_tensor(layer, input):
    # Evaluation mode: with nothing to differentiate the node then runs the cache-free forward.
    return layer.eval()(input)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """As torch.nn.functional.max_pool1d on a batch (samples, C, L)."""
    return _on_tensor(MaxPool1d(kernel_size, stride, padding, dilation, ceil_mode), input)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """As torch.nn.functional.max_pool2d on a batch (samples, C, H, W)."""
    return _on_tensor(MaxPool2d(kernel_size, stride, padding, dilation, ceil_mode), input)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """As torch.nn.functional.avg_pool1d on a batch (samples, C, L)."""
    return _on_tensor(AvgPool1d(kernel_size, stride, padding, ceil_mode, count_include_pad), input)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """As torch.nn.functional.avg_pool2d on a batch (samples, C, H, W)."""
    return _on_tensor(AvgPool2d(kernel_size, stride, padding, ceil_mode, count_include_pad), input)


def adaptive_avg_pool1d(input, output_size):
    """As torch.nn.functional.adaptive_avg_pool1d on a batch (samples, C, L)."""
    return _on_tensor(AdaptiveAvgPool1d(output_size), input)


def adaptive_avg_pool2d(input, output_size):
    """As torch.nn.functional.adaptive_avg_pool2d on a batch (samples, C, H, W)."""
    return _on_tensor(AdaptiveAvgPool2d(output_size), input)


def interpolate(input, scale_factor, mode="nearest"):
    """As torch.nn.functional.interpolate(input, scale_factor=..., mode="nearest") on a batch (samples, C, L)
    or (samples, C, H, W): integer factors and mode "nearest" only (no output size)."""
    return _on_tensor(Upsample(scale_factor, mode), input)
