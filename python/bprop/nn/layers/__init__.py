"""Layers, one file per family: base.py (Layer, the registry of layer classes by name, serialize and
deserialize), linear.py, activations.py, dropout.py, normalization.py, reshaping.py, containers.py (Residual and what
stacks of layers share)."""
from .activations import ELU, GELU, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .base import Layer, deserialize, register_layer, serialize
from .containers import Residual
from .dropout import Dropout
from .linear import Linear
from .normalization import BatchNorm, LayerNorm
from .reshaping import Flatten, Reshape

__all__ = ["Layer", "register_layer", "Linear", "ReLU", "LeakyReLU", "ELU", "GELU", "Sigmoid", "Tanh", "Identity", "Softmax",
           "Dropout", "BatchNorm", "LayerNorm", "Residual", "Flatten", "Reshape"]
