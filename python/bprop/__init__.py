"""bprop: fast CPU training of neural networks by backpropagation.

A C++ core (packed SIMD/OpenMP GEMM and the layers built on it) behind a small Python API. The folders
follow the architecture: autograd/ (tensors, parameters, gradients), nn/ (layers by family, losses),
optim/, callbacks/, training/ (the fit loop), io/ (files), models/ (Sequential, Module).
"""
from ._version import __version__
from .runtime import cpu_info, get_num_threads, set_isa, set_num_threads
from .linalg import matmul
from . import callbacks, datasets, nn, optim
from .models import Module, Sequential
from .autograd import Parameter
from .random import manual_seed
from .training import Trainer
# The module bprop.tensor (functions on tensors) is loaded first, so the function bprop.tensor bound next is
# the attribute that stays (loading a submodule later would set the attribute to the module).
from . import tensor as _functions_on_tensors  # noqa: F401
from .autograd.tensor import (Tensor, tensor, no_grad, enable_grad, is_grad_enabled, maximum, where, clip,
                              concatenate, stack)
from .autograd import grad, gradcheck
from .io import CheckpointError, load

__all__ = ["__version__", "cpu_info", "get_num_threads", "set_isa", "set_num_threads", "matmul", "nn", "optim",
           "Sequential", "manual_seed", "Trainer", "callbacks", "Tensor", "tensor", "no_grad", "enable_grad",
           "is_grad_enabled", "maximum", "where", "clip", "concatenate", "stack", "grad", "gradcheck", "Module",
           "Parameter", "CheckpointError", "load"]
