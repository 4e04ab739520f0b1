"""Converters of the layers holding layers: Sequential (nested ones too) and Residual."""
from .. import nn
from ..models import Sequential
from ._registry import converter
from ._recurrent import padded_lengths, recurrent_with_lengths


@converter(Sequential)
def sequential(layer, step, x):
    shape, layers = step.in_shape, layer.layers
    start = 0
    if layer.core(step.dtype).lengths_from_padding:
        # An Embedding with padding_idx gives the recurrent layer after it each sequence's length, in-graph from
        # the indices, as bprop's network does (nn/sequence_lengths.h).
        lengths = padded_lengths(step, x, layers[0].padding_idx)
        x, shape = step.convert(layers[0], x, f"{step.where}.layers[0]", shape)
        inner = step.child(layers[1], f"{step.where}.layers[1]", shape)
        x, shape, start = recurrent_with_lengths(layers[1], inner, x, lengths), inner.out_shape, 2
    for i in range(start, len(layers)):
        x, shape = step.convert(layers[i], x, f"{step.where}.layers[{i}]", shape)
    return x


@converter(nn.Residual)
def residual(layer, step, x):
    branches = []
    for layers, name in ((layer.layers, "layers"), (layer.shortcut, "shortcut")):
        y, shape = x, step.in_shape
        for i, inner in enumerate(layers or []):
            y, shape = step.convert(inner, y, f"{step.where}.{name}[{i}]", shape)
        branches.append(y)
    return step.graph.op("Add", branches, step.where)
