"""Converters of the convolutions, pooling layers and Upsample, on (batch, C, *spatial) tensors."""
import math

from .. import nn
from ._registry import converter


def _per_axis(value, dims):
    """One value per spatial axis, from an int or a tuple."""
    return list(value) if isinstance(value, (tuple, list)) else [value] * dims


def _spatial(step):
    """(input sizes, output sizes) of the spatial axes."""
    return list(step.in_shape[1:]), list(step.out_shape[1:])


@converter(nn.Conv1d, nn.Conv2d)
def convolution(layer, step, x):
    begin, end = layer._pads  # "same" with an odd total puts the extra zero at the end, as bprop does
    inputs = [x, step.param(layer.weight)] + ([step.param(layer.bias)] if layer.use_bias else [])
    return step.graph.op("Conv", inputs, step.where, kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
                         pads=[*begin, *end], dilations=list(layer.dilation), group=layer.groups)


@converter(nn.ConvTranspose2d)
def transposed_convolution(layer, step, x):
    begin, end = layer._pads
    inputs = [x, step.param(layer.weight)] + ([step.param(layer.bias)] if layer.use_bias else [])
    return step.graph.op("ConvTranspose", inputs, step.where, kernel_shape=list(layer.kernel_size),
                         strides=list(layer.stride), pads=[*begin, *end], dilations=list(layer.dilation),
                         group=layer.groups, output_padding=list(layer.output_padding))


def _cut_to_output(step, y, window_sizes):
    """y cut to the layer's output sizes. With ceil_mode, ONNX's size formula counts a last window that starts
    in the right padding, which PyTorch's rule (bprop's) drops; Slice drops it too (a no-op for a runtime that
    already does)."""
    _, sizes = _spatial(step)
    if window_sizes == sizes:
        return y
    axes = list(range(2, 2 + len(sizes)))
    g = step.graph
    return g.op("Slice", [y, g.ints([0] * len(sizes), f"{step.where}.starts"), g.ints(sizes, f"{step.where}.ends"),
                          g.ints(axes, f"{step.where}.axes")], step.where)


def _onnx_sizes(step, kernel, stride, pad_total, dilation, ceil_mode):
    """The output sizes ONNX's pooling formula gives."""
    rounding = math.ceil if ceil_mode else math.floor
    return [int(rounding((n + p - ((k - 1) * d + 1)) / s)) + 1
            for n, k, s, p, d in zip(_spatial(step)[0], kernel, stride, pad_total, dilation)]


@converter(nn.MaxPool1d, nn.MaxPool2d)
def max_pool(layer, step, x):
    dims = layer.dims
    kernel, stride, padding, dilation = (_per_axis(v, dims) for v in (layer.kernel_size, layer.stride, layer.padding,
                                                                     layer.dilation))
    y = step.graph.op("MaxPool", [x], step.where, kernel_shape=kernel, strides=stride, pads=padding * 2,
                      dilations=dilation, ceil_mode=int(layer.ceil_mode))
    return _cut_to_output(step, y, _onnx_sizes(step, kernel, stride, [2 * p for p in padding], dilation,
                                               layer.ceil_mode))


@converter(nn.AvgPool1d, nn.AvgPool2d)
def avg_pool(layer, step, x):
    # Padding counted in the divisor is padded explicitly with zeros first: with ceil_mode, PyTorch's divisor
    # (bprop's) counts a window's zeros of padding but not where it runs past the padding, which is what
    # count_include_pad=0 on the padded input counts; ONNX's count_include_pad=1 would count those too.
    dims, g = layer.dims, step.graph
    kernel, stride, padding = (_per_axis(v, dims) for v in (layer.kernel_size, layer.stride, layer.padding))
    pads = padding * 2
    if layer.count_include_pad and any(padding):
        x = g.op("Pad", [x, g.ints([0, 0, *padding, 0, 0, *padding], f"{step.where}.pads")], step.where)
        pads = [0] * (2 * dims)
    y = g.op("AveragePool", [x], step.where, kernel_shape=kernel, strides=stride, pads=pads,
             ceil_mode=int(layer.ceil_mode), count_include_pad=0)
    return _cut_to_output(step, y, _onnx_sizes(step, kernel, stride, [2 * p for p in padding], [1] * dims,
                                               layer.ceil_mode))


@converter(nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d)
def adaptive_avg_pool(layer, step, x):
    g, (sizes, outputs) = step.graph, _spatial(step)
    if all(o == 1 for o in outputs):
        return g.op("GlobalAveragePool", [x], step.where)
    if all(n % o == 0 for n, o in zip(sizes, outputs)):  # equal windows side by side: one AveragePool
        windows = [n // o for n, o in zip(sizes, outputs)]
        return g.op("AveragePool", [x], step.where, kernel_shape=windows, strides=windows)
    # Windows of unequal sizes: output i averages [floor(i·n/o), ceil((i+1)·n/o)). A window is a product of
    # intervals, so averaging one axis after the other gives its mean: per axis, one slice and mean per output.
    for axis, (n, o) in enumerate(zip(sizes, outputs), start=2):
        if n == o:
            continue
        parts = []
        for i in range(o):
            start, stop = (i * n) // o, -((-(i + 1) * n) // o)
            piece = g.op("Slice", [x, g.ints([start], f"{step.where}.start"), g.ints([stop], f"{step.where}.stop"),
                                   g.ints([axis], f"{step.where}.axis")], step.where)
            parts.append(g.op("ReduceMean", [piece], step.where, axes=[axis], keepdims=1))
        x = g.op("Concat", parts, step.where, axis=axis)
    return x


@converter(nn.Upsample)
def upsample(layer, step, x):
    # Nearest with integer factors repeats each value: (C, H, W) → (C, H, 1, W, 1), broadcast to
    # (C, H, s, W, s), merged to (C, H·s, W·s); exact in any dtype (ONNX's Resize is not run in float64 by all
    # runtimes).
    g, (sizes, _) = step.graph, _spatial(step)
    scales = _per_axis(layer.scale_factor, len(sizes))
    split = [step.in_shape[0]] + [v for n in sizes for v in (n, 1)]
    y = g.op("Reshape", [x, g.ints([0, *split], f"{step.where}.split")], step.where)
    y = g.op("Expand", [y, g.ints([1, 1] + [v for s in scales for v in (1, s)], f"{step.where}.repeats")], step.where)
    return g.op("Reshape", [y, g.ints([0, *step.out_shape], f"{step.where}.shape")], step.where)
