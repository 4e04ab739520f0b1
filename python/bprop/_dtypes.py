"""The two dtypes bprop computes in, and the C++ class that serves each."""
import numpy as np

from . import _core

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def resolve_dtype(dtype, where):
    """np.dtype float32 or float64 from anything NumPy accepts as a dtype; TypeError otherwise."""
    try:
        resolved = np.dtype(dtype)
    except (TypeError, ValueError):  # ValueError: objects with a .dtype NumPy cannot read (tensors)
        raise TypeError(f"[{where}] dtype must be float32 or float64; got {dtype!r:.60}") from None
    if resolved not in FLOAT_DTYPES:
        raise TypeError(f"[{where}] dtype must be float32 or float64; got {resolved}")
    return resolved


def core_class(name, dtype):
    """The C++ class bound as <name>_<dtype>, e.g. Linear_float32."""
    return getattr(_core, f"{name}_{np.dtype(dtype).name}")
