"""Tensors and reverse-mode differentiation: tensor.py (Tensor, the functions on tensors), parameter.py
(Parameter), gradients.py (grad, gradcheck, to_dot), _tensor_methods.py (Tensor's methods and docstrings).
The engine itself is C++ (cpp/autograd/)."""
from . import _tensor_methods
from .gradients import grad, gradcheck, to_dot
from .parameter import Parameter
from .tensor import Tensor, clip, concatenate, enable_grad, is_grad_enabled, maximum, no_grad, stack, tensor, where

_tensor_methods.install()

__all__ = ["grad", "gradcheck", "to_dot", "Parameter", "Tensor", "tensor", "no_grad", "enable_grad",
           "is_grad_enabled", "maximum", "where", "clip", "concatenate", "stack"]
