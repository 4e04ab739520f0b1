"""Converters of the normalisation layers, in inference (running statistics for the batch norms)."""
from .. import nn
from ._registry import converter


@converter(nn.BatchNorm1d, nn.BatchNorm2d)
def channel_batch_norm(layer, step, x):
    # Channels are axis 1 of the batch: ONNX's BatchNormalization, in inference mode (the running statistics).
    inputs = [x] + [step.param(t) for t in (layer.weight, layer.bias, layer.running_mean, layer.running_var)]
    return step.graph.op("BatchNormalization", inputs, step.where, epsilon=float(layer.eps))


@converter(nn.BatchNorm)
def batch_norm(layer, step, x):
    # Features are the last axis (of samples of any rank): (x − mean)/√(var + eps)·γ + β, broadcast there.
    g = step.graph
    weight, bias = (step.param(p) for p in layer.parameters())
    mean, var = (step.param(b) for b in layer.buffers())
    std = g.op("Sqrt", [g.op("Add", [var, step.scalar(layer.eps, "eps")], step.where)], step.where)
    normalised = g.op("Div", [g.op("Sub", [x, mean], step.where), std], step.where)
    return g.op("Add", [g.op("Mul", [normalised, weight], step.where), bias], step.where)


@converter(nn.LayerNorm)
def layer_norm(layer, step, x):
    weight, bias = (step.param(p) for p in layer.parameters())
    return step.graph.op("LayerNormalization", [x, weight, bias], step.where, axis=-1, epsilon=float(layer.eps))
