"""bprop.tensor: the functions on tensors (exp, log, relu, softmax, ...), a public path kept where it always
was; they live in autograd/tensor.py. (The attribute bprop.tensor is the function that makes a tensor.)"""
from .autograd.tensor import *  # noqa: F401,F403
from .autograd.tensor import __all__  # noqa: F401  (what the star import brings)
from .autograd.tensor import as_operand  # noqa: F401  the C++ Tensor operators call bprop.tensor.as_operand
