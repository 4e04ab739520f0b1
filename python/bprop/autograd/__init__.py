"""Tensors and reverse-mode differentiation: tensor.py (Tensor, the functions on tensors), parameter.py
(Parameter), gradients.py (grad, gradcheck, to_dot). The engine itself is C++ (cpp/autograd/)."""
from .gradients import grad, gradcheck, to_dot
from .parameter import Parameter
from .tensor import Tensor, clip, concatenate, enable_grad, is_grad_enabled, maximum, no_grad, stack, tensor, where

__all__ = ["grad", "gradcheck", "to_dot", "Parameter", "Tensor", "tensor", "no_grad", "enable_grad",
           "is_grad_enabled", "maximum", "where", "clip", "concatenate", "stack"]
