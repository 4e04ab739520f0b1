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
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Tuple, Union

from .. import _core
from .._checks import integer
from ..autograd.tensor import as_input
from .layers.conv import axes, resolve_padding
from .layers.pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d,
                             Upsample)
from .losses import MAE, MSE, BinaryCrossEntropy, CrossEntropy, Huber

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from .._core import Tensor

    _Size = Union[int, Tuple[int, ...]]

__all__ = ["conv1d", "conv2d", "conv_transpose2d", "cross_entropy", "mse", "mse_loss", "mae", "l1_loss", "huber",
           "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "max_pool1d", "max_pool2d",
           "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "interpolate"]


def cross_entropy(output: Any, target: ArrayLike, *, sample_weight: Optional[ArrayLike] = None,
                  reduction: str = "mean", label_smoothing: float = 0.0, ignore_index: Optional[int] = None) -> Tensor:
    """Softmax cross-entropy of logits (rows, classes), as torch.nn.functional.cross_entropy.

    Parameters
    ----------
    output : Tensor or array_like
        The outputs (rows, n_outputs), or (rows,) for one output; an array is taken as a constant tensor.
    target : array_like or Tensor
        The targets: class indices (rows,) or probabilities (rows, classes); never differentiated.
    label_smoothing : float, default 0.0
        ε in [0, 1], mixing the target with the uniform distribution.
    ignore_index : int, optional
        The label whose rows have no loss, as nn.CrossEntropy's (None by default, where torch's is -100).
    sample_weight : array_like, optional
        (rows,) weights, finite and >= 0, multiplying each row's terms.
    reduction : {"mean", "sum"}, default "mean"
        How the terms combine.

    Returns
    -------
    Tensor
        The loss, a scalar tensor recorded in the graph.

    Raises
    ------
    TypeError
        If the targets or weights are not numbers.
    ValueError
        If a shape does not fit, a value is invalid, or `reduction` is neither "mean" nor "sum".

    Examples
    --------
    >>> logits = bprop.tensor(np.zeros((2, 3), np.float32), requires_grad=True)
    >>> loss = nn.functional.cross_entropy(logits, np.array([0, 2]))
    >>> round(loss.item(), 4)
    1.0986
    >>> loss.backward()
    >>> logits.grad.shape
    (2, 3)
    """

    return CrossEntropy(label_smoothing, ignore_index=ignore_index, reduction=reduction).on_tensor(
        output, target, sample_weight)


def mse(output: Any, target: ArrayLike, *, sample_weight: Optional[ArrayLike] = None,
        reduction: str = "mean") -> Tensor:
    """Mean squared error, as torch.nn.functional.mse_loss (also named mse_loss here).

    Parameters
    ----------
    output : Tensor or array_like
        The outputs (rows, n_outputs), or (rows,) for one output; an array is taken as a constant tensor.
    target : array_like or Tensor
        The targets: values shaped like `output`; never differentiated.
    sample_weight : array_like, optional
        (rows,) weights, finite and >= 0, multiplying each row's terms.
    reduction : {"mean", "sum"}, default "mean"
        How the terms combine.

    Returns
    -------
    Tensor
        The loss, a scalar tensor recorded in the graph.

    Raises
    ------
    TypeError
        If the targets or weights are not numbers.
    ValueError
        If a shape does not fit, a value is invalid, or `reduction` is neither "mean" nor "sum".

    Examples
    --------
    >>> nn.functional.mse(np.zeros((2, 3), np.float32), np.ones((2, 3))).item()
    1.0
    """
    return MSE(reduction=reduction).on_tensor(output, target, sample_weight)


def mae(output: Any, target: ArrayLike, *, sample_weight: Optional[ArrayLike] = None,
        reduction: str = "mean") -> Tensor:
    """Mean absolute error, as torch.nn.functional.l1_loss (also named l1_loss here).

    Parameters
    ----------
    output : Tensor or array_like
        The outputs (rows, n_outputs), or (rows,) for one output; an array is taken as a constant tensor.
    target : array_like or Tensor
        The targets: values shaped like `output`; never differentiated.
    sample_weight : array_like, optional
        (rows,) weights, finite and >= 0, multiplying each row's terms.
    reduction : {"mean", "sum"}, default "mean"
        How the terms combine.

    Returns
    -------
    Tensor
        The loss, a scalar tensor recorded in the graph.

    Raises
    ------
    TypeError
        If the targets or weights are not numbers.
    ValueError
        If a shape does not fit, a value is invalid, or `reduction` is neither "mean" nor "sum".

    Examples
    --------
    >>> nn.functional.mae(np.zeros((2, 3), np.float32), np.ones((2, 3))).item()
    1.0
    """
    return MAE(reduction=reduction).on_tensor(output, target, sample_weight)


def huber(output: Any, target: ArrayLike, *, delta: float = 1.0, sample_weight: Optional[ArrayLike] = None,
          reduction: str = "mean") -> Tensor:
    """Huber loss, as torch.nn.functional.huber_loss (also named huber_loss here).

    Parameters
    ----------
    output : Tensor or array_like
        The outputs (rows, n_outputs), or (rows,) for one output; an array is taken as a constant tensor.
    target : array_like or Tensor
        The targets: values shaped like `output`; never differentiated.
    delta : float, default 1.0
        Where the loss turns from quadratic to linear (> 0).
    sample_weight : array_like, optional
        (rows,) weights, finite and >= 0, multiplying each row's terms.
    reduction : {"mean", "sum"}, default "mean"
        How the terms combine.

    Returns
    -------
    Tensor
        The loss, a scalar tensor recorded in the graph.

    Raises
    ------
    TypeError
        If the targets or weights are not numbers or `delta` is not a real number.
    ValueError
        If a shape does not fit, a value is invalid, or `reduction` is neither "mean" nor "sum".

    Examples
    --------
    >>> nn.functional.huber(np.zeros((2, 3), np.float32), np.ones((2, 3)), delta=0.5).item()
    0.375
    """
    return Huber(delta, reduction=reduction).on_tensor(output, target, sample_weight)


def binary_cross_entropy(output: Any, target: ArrayLike, *, sample_weight: Optional[ArrayLike] = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of logits, as torch.nn.functional.binary_cross_entropy_with_logits.

    Parameters
    ----------
    output : Tensor or array_like
        The outputs (rows, n_outputs), or (rows,) for one output; an array is taken as a constant tensor.
    target : array_like or Tensor
        The targets: values in [0, 1] shaped like `output`; never differentiated.
    sample_weight : array_like, optional
        (rows,) weights, finite and >= 0, multiplying each row's terms.
    reduction : {"mean", "sum"}, default "mean"
        How the terms combine.

    Returns
    -------
    Tensor
        The loss, a scalar tensor recorded in the graph.

    Raises
    ------
    TypeError
        If the targets or weights are not numbers.
    ValueError
        If a shape does not fit, a value is invalid, or `reduction` is neither "mean" nor "sum".

    Examples
    --------
    >>> round(nn.functional.binary_cross_entropy(np.zeros((2, 3), np.float32), np.ones((2, 3))).item(), 6)
    0.693147
    """
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


def conv2d(x: Any, weight: Any, bias: Any = None, stride: _Size = 1, padding: Union[_Size, str] = 0,
           dilation: _Size = 1, groups: int = 1) -> Tensor:
    """2-D convolution of a batch, as torch.nn.functional.conv2d, recorded in the graph.

    Parameters
    ----------
    x : Tensor or array_like
        The batch (batch, in_channels, H, W).
    weight : Tensor or array_like
        The kernels (out_channels, in_channels/groups, kH, kW).
    bias : Tensor or array_like, optional
        The (out_channels,) bias, or None.
    stride : int or tuple of int, default 1
        The step between kernel positions.
    padding : int, tuple of int, "valid" or "same", default 0
        Zeros at both ends of each spatial axis; "same" for stride 1 only.
    dilation : int or tuple of int, default 1
        The spacing between kernel taps.
    groups : int, default 1
        Independent channel groups.

    Returns
    -------
    Tensor
        The output, recorded in the graph (gradients reach x, weight and bias).

    Raises
    ------
    ValueError
        If a shape or argument does not fit (the message names it).
    TypeError
        If an argument has the wrong type.

    Examples
    --------
    >>> x, w = np.ones((2, 3, 5, 5), np.float32), np.ones((8, 3, 3, 3), np.float32)
    >>> nn.functional.conv2d(x, w, padding=1).shape
    (2, 8, 5, 5)
    """
    return _conv("conv2d", 2, x, weight, bias, stride, padding, dilation, groups)


def conv1d(x: Any, weight: Any, bias: Any = None, stride: _Size = 1, padding: Union[_Size, str] = 0,
           dilation: _Size = 1, groups: int = 1) -> Tensor:
    """1-D convolution of a batch, as torch.nn.functional.conv1d, recorded in the graph.

    Parameters
    ----------
    x : Tensor or array_like
        The batch (batch, in_channels, L).
    weight : Tensor or array_like
        The kernels (out_channels, in_channels/groups, k).
    bias : Tensor or array_like, optional
        The (out_channels,) bias, or None.
    stride : int or tuple of int, default 1
        The step between kernel positions.
    padding : int, tuple of int, "valid" or "same", default 0
        Zeros at both ends of each spatial axis; "same" for stride 1 only.
    dilation : int or tuple of int, default 1
        The spacing between kernel taps.
    groups : int, default 1
        Independent channel groups.

    Returns
    -------
    Tensor
        The output, recorded in the graph (gradients reach x, weight and bias).

    Raises
    ------
    ValueError
        If a shape or argument does not fit (the message names it).
    TypeError
        If an argument has the wrong type.

    Examples
    --------
    >>> nn.functional.conv1d(np.ones((2, 3, 10), np.float32), np.ones((8, 3, 3), np.float32)).shape
    (2, 8, 8)
    """
    return _conv("conv1d", 1, x, weight, bias, stride, padding, dilation, groups)


def conv_transpose2d(x: Any, weight: Any, bias: Any = None, stride: _Size = 1, padding: _Size = 0,
                     output_padding: _Size = 0, groups: int = 1, dilation: _Size = 1) -> Tensor:
    """Transposed 2-D convolution of a batch, as torch.nn.functional.conv_transpose2d, recorded in the graph.

    Parameters
    ----------
    x : Tensor or array_like
        The batch (batch, in_channels, H, W).
    weight : Tensor or array_like
        The kernels (in_channels, out_channels/groups, kH, kW).
    bias : Tensor or array_like, optional
        The (out_channels,) bias, or None.
    stride : int or tuple of int, default 1
        The step between kernel positions.
    padding : int or tuple of int, default 0
        As PyTorch's: dilation·(kernel − 1) − padding zeros at both ends of each axis.
    output_padding : int or tuple of int, default 0
        Added to one side of each output axis.
    dilation : int or tuple of int, default 1
        The spacing between kernel taps.
    groups : int, default 1
        Independent channel groups.

    Returns
    -------
    Tensor
        The output, recorded in the graph (gradients reach x, weight and bias).

    Raises
    ------
    ValueError
        If a shape or argument does not fit (the message names it).
    TypeError
        If an argument has the wrong type.

    Examples
    --------
    >>> x, w = np.ones((2, 8, 4, 4), np.float32), np.ones((8, 3, 2, 2), np.float32)
    >>> nn.functional.conv_transpose2d(x, w, stride=2).shape
    (2, 3, 8, 8)
    """
    return _conv("conv_transpose2d", 2, x, weight, bias, stride, padding, dilation, groups, output_padding, True)


# -- pooling and upsampling: a layer made for the call, run as one graph node ------------------------------------
def _on_tensor(layer, input):
    # Evaluation mode: with nothing to differentiate the node then runs the cache-free forward.
    return layer.eval()(input)


def max_pool1d(input: Any, kernel_size: _Size, stride: Optional[_Size] = None, padding: _Size = 0,
               dilation: _Size = 1, ceil_mode: bool = False) -> Tensor:
    """Max pooling of a batch (samples, C, L), as torch.nn.functional.max_pool1d.

    Parameters
    ----------
    input : Tensor or array_like
        The batch; an array is taken as a constant tensor.
    kernel_size : int or tuple of int
        The window's size.
    stride : int or tuple of int, optional
        The step between windows; by default kernel_size.
    padding : int or tuple of int, default 0
        Padding with -inf at both ends, at most kernel_size // 2.
    dilation : int or tuple of int, default 1
        The spacing between the window's elements.
    ceil_mode : bool, default False
        Round the output size up rather than down.

    Returns
    -------
    Tensor
        The output, recorded in the graph as one node.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If an argument is out of range or the input's shape does not fit (see ``nn.MaxPool1d``).

    Examples
    --------
    >>> nn.functional.max_pool1d(np.ones((2, 3, 8), np.float32), 2).shape
    (2, 3, 4)
    """
    return _on_tensor(MaxPool1d(kernel_size, stride, padding, dilation, ceil_mode), input)


def max_pool2d(input: Any, kernel_size: _Size, stride: Optional[_Size] = None, padding: _Size = 0,
               dilation: _Size = 1, ceil_mode: bool = False) -> Tensor:
    """Max pooling of a batch (samples, C, H, W), as torch.nn.functional.max_pool2d.

    Parameters
    ----------
    input : Tensor or array_like
        The batch; an array is taken as a constant tensor.
    kernel_size : int or tuple of int
        The window's size.
    stride : int or tuple of int, optional
        The step between windows; by default kernel_size.
    padding : int or tuple of int, default 0
        Padding with -inf at both ends, at most kernel_size // 2.
    dilation : int or tuple of int, default 1
        The spacing between the window's elements.
    ceil_mode : bool, default False
        Round the output size up rather than down.

    Returns
    -------
    Tensor
        The output, recorded in the graph as one node.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If an argument is out of range or the input's shape does not fit (see ``nn.MaxPool2d``).

    Examples
    --------
    >>> nn.functional.max_pool2d(np.ones((2, 3, 4, 4), np.float32), 2).shape
    (2, 3, 2, 2)
    """
    return _on_tensor(MaxPool2d(kernel_size, stride, padding, dilation, ceil_mode), input)


def avg_pool1d(input: Any, kernel_size: _Size, stride: Optional[_Size] = None, padding: _Size = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """Average pooling of a batch (samples, C, L), as torch.nn.functional.avg_pool1d.

    Parameters
    ----------
    input : Tensor or array_like
        The batch; an array is taken as a constant tensor.
    kernel_size : int or tuple of int
        The window's size.
    stride : int or tuple of int, optional
        The step between windows; by default kernel_size.
    padding : int or tuple of int, default 0
        Zeros at both ends, at most kernel_size // 2.
    ceil_mode : bool, default False
        Round the output size up rather than down.
    count_include_pad : bool, default True
        Whether the padding zeros count in each window's divisor.

    Returns
    -------
    Tensor
        The output, recorded in the graph as one node.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If an argument is out of range or the input's shape does not fit (see ``nn.AvgPool1d``).

    Examples
    --------
    >>> nn.functional.avg_pool1d(np.ones((2, 3, 8), np.float32), 2).shape
    (2, 3, 4)
    """
    return _on_tensor(AvgPool1d(kernel_size, stride, padding, ceil_mode, count_include_pad), input)


def avg_pool2d(input: Any, kernel_size: _Size, stride: Optional[_Size] = None, padding: _Size = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """Average pooling of a batch (samples, C, H, W), as torch.nn.functional.avg_pool2d.

    Parameters
    ----------
    input : Tensor or array_like
        The batch; an array is taken as a constant tensor.
    kernel_size : int or tuple of int
        The window's size.
    stride : int or tuple of int, optional
        The step between windows; by default kernel_size.
    padding : int or tuple of int, default 0
        Zeros at both ends, at most kernel_size // 2.
    ceil_mode : bool, default False
        Round the output size up rather than down.
    count_include_pad : bool, default True
        Whether the padding zeros count in each window's divisor.

    Returns
    -------
    Tensor
        The output, recorded in the graph as one node.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If an argument is out of range or the input's shape does not fit (see ``nn.AvgPool2d``).

    Examples
    --------
    >>> nn.functional.avg_pool2d(np.ones((2, 3, 4, 4), np.float32), 2).shape
    (2, 3, 2, 2)
    """
    return _on_tensor(AvgPool2d(kernel_size, stride, padding, ceil_mode, count_include_pad), input)


def adaptive_avg_pool1d(input: Any, output_size: _Size) -> Tensor:
    """Adaptive average pooling of a batch (samples, C, L), as torch.nn.functional.adaptive_avg_pool1d.

    Parameters
    ----------
    input : Tensor or array_like
        The batch; an array is taken as a constant tensor.
    output_size : int or tuple of int
        The output's spatial size.

    Returns
    -------
    Tensor
        The output, recorded in the graph as one node.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If an argument is out of range or the input's shape does not fit (see ``nn.AdaptiveAvgPool1d``).

    Examples
    --------
    >>> nn.functional.adaptive_avg_pool1d(np.ones((2, 3, 10), np.float32), 4).shape
    (2, 3, 4)
    """
    return _on_tensor(AdaptiveAvgPool1d(output_size), input)


def adaptive_avg_pool2d(input: Any, output_size: _Size) -> Tensor:
    """Adaptive average pooling of a batch (samples, C, H, W), as torch.nn.functional.adaptive_avg_pool2d.

    Parameters
    ----------
    input : Tensor or array_like
        The batch; an array is taken as a constant tensor.
    output_size : int or tuple of int
        The output's spatial size.

    Returns
    -------
    Tensor
        The output, recorded in the graph as one node.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If an argument is out of range or the input's shape does not fit (see ``nn.AdaptiveAvgPool2d``).

    Examples
    --------
    >>> nn.functional.adaptive_avg_pool2d(np.ones((2, 3, 5, 5), np.float32), 1).shape
    (2, 3, 1, 1)
    """
    return _on_tensor(AdaptiveAvgPool2d(output_size), input)


def interpolate(input: Any, scale_factor: Union[float, Tuple[float, ...]], mode: str = "nearest") -> Tensor:
    """Nearest-neighbour upsampling of a batch (samples, C, L) or (samples, C, H, W).

    As torch.nn.functional.interpolate(input, scale_factor=..., mode="nearest"): integer factors and mode
    "nearest" only (no output size).

    Parameters
    ----------
    input : Tensor or array_like
        The batch; an array is taken as a constant tensor.
    scale_factor : int or tuple of int
        The factor for every spatial axis, or one per axis.
    mode : str, default "nearest"
        The only mode supported, "nearest".

    Returns
    -------
    Tensor
        The output, recorded in the graph as one node.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If an argument is out of range or the input's shape does not fit (see ``nn.Upsample``).

    Examples
    --------
    >>> nn.functional.interpolate(np.ones((2, 3, 4), np.float32), 2).shape
    (2, 3, 8)
    """
    return _on_tensor(Upsample(scale_factor, mode), input)
