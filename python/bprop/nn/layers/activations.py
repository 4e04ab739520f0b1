"""Elementwise activations and Softmax: parameter-free layers whose math is in ops/ (C++)."""
from ..._checks import real
from ..._dtypes import core_class
from .base import Layer

__all__ = ["ReLU", "LeakyReLU", "ELU", "GELU", "Sigmoid", "Tanh", "Identity", "Softmax"]


class _Activation(Layer):
    """An elementwise activation; its math is ops/activations.cpp."""

    keeps_shape = True

    _core_name = None  # the name the C++ side knows it by
    _param = 0.0

    def _make_core(self, dtype):
        return core_class("Activation", dtype)(self._core_name or self.name, self._param)


class ReLU(_Activation):
    """max(x, 0)."""


class Sigmoid(_Activation):
    """1 / (1 + e^-x), computed without overflow."""


class Tanh(_Activation):
    """tanh(x)."""


class Identity(_Activation):
    """x, unchanged."""


class LeakyReLU(_Activation):
    """x for x > 0, negative_slope·x otherwise."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = self._param = real(negative_slope, "negative_slope", "LeakyReLU")

    def get_config(self):
        return {"negative_slope": self.negative_slope}


class ELU(_Activation):
    """x for x > 0, alpha·(e^x − 1) otherwise."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = self._param = real(alpha, "alpha", "ELU")
        if not self.alpha > 0:
            raise ValueError(f"[ELU] alpha must be > 0; got {self.alpha}")

    def get_config(self):
        return {"alpha": self.alpha}


class GELU(_Activation):
    """x·Φ(x): exact (approximate="none", PyTorch's default) or its tanh approximation ("tanh")."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"[GELU] approximate must be 'none' or 'tanh'; got {approximate!r}")
        self.approximate = approximate
        self._core_name = "GELU" if approximate == "none" else "GELUTanh"

    def get_config(self):
        return {"approximate": self.approximate}


class Softmax(Layer):
    """Softmax over the last axis. For classification, prefer CrossEntropy on logits."""

    keeps_shape = True

    def _make_core(self, dtype):
        return core_class("Softmax", dtype)()
