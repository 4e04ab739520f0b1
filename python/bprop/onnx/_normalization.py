"""Converters of the normalisation layers, in inference (running statistics for the batch norms). ONNX's
BatchNormalization and LayerNormalization take epsilon as a float32 attribute: float64 networks get the same
formulas from constants of their dtype."""
from .. import nn
from ._registry import converter


def _normalised(step, x, mean, var, eps):
    """(x − mean)/√(var + eps), each a tensor name broadcasting against x (eps a 0-d constant)."""
    g = step.graph
    std = g.op("Sqrt", [g.op("Add", [var, eps], step.where)], step.where)
    return g.op("Div", [g.op("Sub", [x, mean], step.where), std], step.where)


def _scaled(step, x, weight, bias):
    return step.graph.op("Add", [step.graph.op("Mul", [x, weight], step.where), bias], step.where)


@converter(nn.BatchNorm1d, nn.BatchNorm2d)
def channel_batch_norm(layer, step, x):
    tensors = (layer.weight, layer.bias, layer.running_mean, layer.running_var)
    if step.float_attributes_exact:  # channels are axis 1 of the batch, as ONNX's BatchNormalization has them
        return step.graph.op("BatchNormalization", [x] + [step.param(t) for t in tensors], step.where,
                             epsilon=float(layer.eps))
    # Per channel: each (C,) tensor as (C, 1, ...) to broadcast over the sample's other axes.
    per_channel = (-1,) + (1,) * (len(step.in_shape) - 1)
    weight, bias, mean, var = (step.graph.constant(t.value().reshape(per_channel), f"{step.where}.{t.name}")
                               for t in tensors)
    return _scaled(step, _normalised(step, x, mean, var, step.scalar(layer.eps, "eps")), weight, bias)


@converter(nn.BatchNorm)
def batch_norm(layer, step, x):
    # Features are the last axis (of samples of any rank), where (F,) tensors broadcast.
    weight, bias = (step.param(p) for p in layer.parameters())
    mean, var = (step.param(b) for b in layer.buffers())
    return _scaled(step, _normalised(step, x, mean, var, step.scalar(layer.eps, "eps")), weight, bias)


@converter(nn.LayerNorm)
def layer_norm(layer, step, x):
    weight, bias = (step.param(p) for p in layer.parameters())
    g = step.graph
    if step.float_attributes_exact:
        return g.op("LayerNormalization", [x, weight, bias], step.where, axis=-1, epsilon=float(layer.eps))
    mean = g.op("ReduceMean", [x], step.where, axes=[-1], keepdims=1)
    centred = g.op("Sub", [x, mean], step.where)
    var = g.op("ReduceMean", [g.op("Mul", [centred, centred], step.where)], step.where, axes=[-1], keepdims=1)
    return _scaled(step, _normalised(step, x, mean, var, step.scalar(layer.eps, "eps")), weight, bias)
