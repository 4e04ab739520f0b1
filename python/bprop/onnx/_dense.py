"""Converters of the layers that act on values one sample axis at a time or elementwise: Linear, the
activations, PReLU, Softmax, Dropout (the identity in inference), Flatten, Reshape and Embedding."""
import math

from .. import nn
from ._registry import converter


@converter(nn.Linear)
def linear(layer, step, x):
    # MatMul, not Gemm: a Linear also runs on samples of several axes (time, features).
    y = step.graph.op("MatMul", [x, step.param(layer.weight)], step.where)
    return step.graph.op("Add", [y, step.param(layer.bias)], step.where) if layer.use_bias else y


@converter(nn.Identity, nn.Dropout, nn.Dropout2d)
def identity(layer, step, x):
    return step.graph.op("Identity", [x], step.where)


def _elementwise(op_type, **attributes):
    def convert(layer, step, x):
        return step.graph.op(op_type, [x], step.where, **attributes)
    return convert


converter(nn.ReLU)(_elementwise("Relu"))
converter(nn.Sigmoid)(_elementwise("Sigmoid"))
converter(nn.Tanh)(_elementwise("Tanh"))


@converter(nn.Hardswish)
def hardswish(layer, step, x):
    g = step.graph
    if step.float_attributes_exact:  # HardSwish's 1/6 is a float32 attribute
        return g.op("HardSwish", [x], step.where)
    gate = g.op("Clip", [g.op("Add", [x, step.scalar(3, "three")], step.where), step.scalar(0, "zero"),
                         step.scalar(6, "six")], step.where)
    return g.op("Div", [g.op("Mul", [x, gate], step.where), step.scalar(6, "six")], step.where)


@converter(nn.LeakyReLU)
def leaky_relu(layer, step, x):
    # PRelu with the slope as a constant: LeakyRelu's alpha attribute would be a float32 in a float64 network.
    return step.graph.op("PRelu", [x, step.scalar(layer.negative_slope, "negative_slope")], step.where)


@converter(nn.ELU)
def elu(layer, step, x):
    g = step.graph
    if step.float_attributes_exact:
        return g.op("Elu", [x], step.where, alpha=float(layer.alpha))
    negative = g.op("Mul", [g.op("Sub", [g.op("Exp", [x], step.where), step.scalar(1, "one")], step.where),
                            step.scalar(layer.alpha, "alpha")], step.where)
    return g.op("Where", [g.op("Greater", [x, step.scalar(0, "zero")], step.where), x, negative], step.where)


@converter(nn.SiLU)
def silu(layer, step, x):
    return step.graph.op("Mul", [x, step.graph.op("Sigmoid", [x], step.where)], step.where)


@converter(nn.GELU)
def gelu(layer, step, x):
    # Opset 17 has no Gelu (it came in 20): x·Φ(x) from Erf, or the tanh approximation, as bprop computes them.
    g, half = step.graph, step.scalar(0.5, "half")
    one = step.scalar(1.0, "one")
    if layer.approximate == "none":
        inner = g.op("Erf", [g.op("Mul", [x, step.scalar(1 / math.sqrt(2), "rsqrt2")], step.where)], step.where)
    else:  # tanh(√(2/π)·(x + 0.044715·x³))
        cube = g.op("Mul", [g.op("Mul", [x, x], step.where), x], step.where)
        poly = g.op("Add", [x, g.op("Mul", [cube, step.scalar(0.044715, "c")], step.where)], step.where)
        inner = g.op("Tanh", [g.op("Mul", [poly, step.scalar(math.sqrt(2 / math.pi), "k")], step.where)], step.where)
    return g.op("Mul", [g.op("Mul", [x, half], step.where), g.op("Add", [inner, one], step.where)], step.where)


@converter(nn.Softplus)
def softplus(layer, step, x):
    # log(1 + e^(beta·x))/beta, and x itself where beta·x > threshold (PyTorch's rule, bprop's).
    g = step.graph
    scaled = g.op("Mul", [x, step.scalar(layer.beta, "beta")], step.where)
    smooth = g.op("Div", [g.op("Softplus", [scaled], step.where), step.scalar(layer.beta, "beta")], step.where)
    above = g.op("Greater", [scaled, step.scalar(layer.threshold, "threshold")], step.where)
    return g.op("Where", [above, x, smooth], step.where)


@converter(nn.Mish)
def mish(layer, step, x):
    # Opset 17 has no Mish (it came in 18): x·tanh(softplus(x)).
    g = step.graph
    return g.op("Mul", [x, g.op("Tanh", [g.op("Softplus", [x], step.where)], step.where)], step.where)


@converter(nn.PReLU)
def prelu(layer, step, x):
    # The slopes (num_parameters,) broadcast over the last axis, one per feature (or one for all).
    return step.graph.op("PRelu", [x, step.param(layer.weight)], step.where)


@converter(nn.Softmax)
def softmax(layer, step, x):
    return step.graph.op("Softmax", [x], step.where, axis=-1)


@converter(nn.Flatten, nn.Reshape)
def reshape(layer, step, x):
    # The sample shapes are fixed; 0 keeps the batch axis, whatever its size.
    return step.graph.op("Reshape", [x, step.graph.ints((0, *step.out_shape), f"{step.where}.shape")], step.where)


@converter(nn.Embedding)
def embedding(layer, step, x):
    return step.graph.op("Gather", [step.param(layer.weight), x], step.where, axis=0)
