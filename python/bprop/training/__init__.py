"""Training: trainer.py (fit and evaluate around the C++ training loop) and module_loop.py (the same loop
for a Module, one Python step per batch)."""
from .trainer import Trainer

__all__ = ["Trainer"]
