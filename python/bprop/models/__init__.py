"""Models: Sequential (layers run as one C++ network) and Module (Python code over tensors), with what
they share (trainable.py: compile, fit, evaluate, state dicts, files)."""
from .module import Module
from .sequential import Sequential

__all__ = ["Sequential", "Module"]
