"""Layers, one file per family: base.py (Layer, the registry of layer classes by name, serialize and
deserialize), linear.py, activations.py, dropout.py, embedding.py, conv.py, normalization.py, reshaping.py,
pooling.py (pooling and upsampling), recurrent.py (RNN, LSTM, GRU), containers.py (Residual and what stacks of layers share)."""
from .activations import (ELU, GELU, Hardswish, Identity, LeakyReLU, Mish, PReLU, ReLU, SiLU, Sigmoid, Softmax,
                          Softplus, Tanh)
from .base import Layer, deserialize, register_layer, serialize
from .containers import Residual
from .conv import Conv1d, Conv2d, ConvTranspose2d
from .dropout import Dropout, Dropout2d
from .embedding import Embedding
from .linear import Linear
from .normalization import BatchNorm, BatchNorm1d, BatchNorm2d, LayerNorm
from .pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d,
                      Upsample)
from .recurrent import GRU, LSTM, RNN
from .reshaping import Flatten, Reshape

# Literal lists (not *activations.__all__), so type checkers see every name; tests/test_typing.py checks
# that the activations' list is all here.
__all__ = ["Layer", "register_layer", "Linear", "Softmax", "PReLU", "ReLU", "Sigmoid", "Tanh", "Identity",
           "LeakyReLU", "ELU", "GELU", "SiLU", "Softplus", "Hardswish", "Mish", "Dropout", "BatchNorm", "LayerNorm",
           "Residual", "Flatten", "Reshape", "Embedding", "Conv1d", "Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d",
           "Dropout2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
           "Upsample", "RNN", "LSTM", "GRU"]
