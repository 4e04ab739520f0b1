"""bprop: fast CPU training of neural networks by backpropagation.

A C++ core (packed SIMD/OpenMP GEMM and the layers built on it) behind a small Python API.
"""
from ._version import __version__
from .runtime import cpu_info, get_num_threads, set_isa, set_num_threads
from .linalg import matmul
from . import callbacks, nn, optim
from .model import Sequential
from .module import Module
from .parameter import Parameter
from .random import manual_seed
from .trainer import Trainer
from .tensor import (Tensor, tensor, no_grad, enable_grad, is_grad_enabled, maximum, where, clip, concatenate,
                     stack)
from .autograd import grad, gradcheck
from .saving import CheckpointError, load

__all__ = ["__version__", "cpu_info", "get_num_threads", "set_isa", "set_num_threads", "matmul", "nn", "optim",
           "Sequential", "manual_seed", "Trainer", "callbacks", "Tensor", "tensor", "no_grad", "enable_grad",
           "is_grad_enabled", "maximum", "where", "clip", "concatenate", "stack", "grad", "gradcheck", "Module",
           "Parameter", "CheckpointError", "load"]
