"""Files: saving.py (what a model and its training state become as named tensors and a document, and back)
over checkpoint_file.py (the safetensors file: checksums, atomic writes, corrupt-file checks); pickling.py (pickle
and copy of models, layers, losses and optimizers as configs plus checkpoint_file's bytes)."""
from . import pickling  # noqa: F401 (gives layers, losses, optimizers and parameters their pickling)
from .checkpoint_file import CheckpointError
from .saving import load

__all__ = ["CheckpointError", "load"]
