"""Layers, losses, and the losses as functions of tensors (nn.functional)."""
from . import functional
from .layers import *  # noqa: F401,F403
from .layers import __all__ as _layers
from .losses import *  # noqa: F401,F403
from .losses import __all__ as _losses

__all__ = list(_layers) + list(_losses)
