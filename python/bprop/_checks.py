"""Argument checks with the messages bprop uses everywhere: ``[Adam] lr must be ...``.

A wrong type is a TypeError; a value out of range a ValueError. Ranges that C++ also needs are checked
there (one set of rules for C++ and Python users); Python checks the types C++ cannot take, and the
simple ranges of Python-only arguments (epochs, batch_size, layer sizes).
"""
import numbers
import operator
import os

import numpy as np

from . import _core


def real(value, name, where):
    """``value`` as a float; TypeError unless it is a real number (bool is not)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"[{where}] {name} must be a real number; got {type(value).__name__}")
    return float(value)


def reals(where, **values):
    """Each keyword's value as a float (see ``real``), in the order given."""
    return {name: real(value, name, where) for name, value in values.items()}


def optional_real(value, name, where):
    return None if value is None else real(value, name, where)


# The largest count or size bprop passes to C++ (int64 there): anything larger is a mistake, not a request.
LARGEST = 2**62


def integer(value, name, where, minimum=None, maximum=LARGEST):
    """``value`` as an int; TypeError unless it is an integer (bool is not), ValueError outside
    [minimum, maximum] (maximum: 2**62 unless given; None for no bound)."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"[{where}] {name} must be an integer; got bool")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"[{where}] {name} must be an integer; got {type(value).__name__}") from None
    if minimum is not None and value < minimum:
        raise ValueError(f"[{where}] {name} must be >= {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"[{where}] {name} must be <= {maximum if maximum != LARGEST else '2**62'}; got {value}")
    return value


def as_array(value, name, where) -> np.ndarray:
    """value as a NumPy array of numbers (bool, integers, floats); TypeError naming the problem for
    anything else: ragged lists, strings, objects, complex numbers, None."""
    if value is None:
        raise TypeError(f"[{where}] {name} must be an array of numbers; got None")
    if not isinstance(value, np.ndarray):
        try:
            value = np.asarray(value)
        except (ValueError, TypeError) as error:  # ragged nesting: NumPy's message names neither
            raise TypeError(f"[{where}] {name} cannot be read as an array of numbers (ragged or mixed "
                            f"nesting?): {error}") from None
    if value.dtype.kind not in "fiub":
        raise TypeError(f"[{where}] {name} must hold numbers; got dtype {value.dtype}")
    return value


def c_array(value, dtype=None) -> np.ndarray:
    """value as a C-contiguous, aligned array (of dtype, when given): what the C++ core reads in place. A copy
    only when needed; unlike np.ascontiguousarray it also copies a misaligned view (one made from a buffer at
    an odd offset, which C++ may not read through a float pointer) and keeps 0-d data 0-d."""
    if type(value) is np.ndarray and (dtype is None or value.dtype == dtype):  # the usual case, without np.require's
        flags = value.flags                                                  # ~1.5 µs (batch-1 predict is ~30)
        if flags.c_contiguous and flags.aligned:
            return value
    return np.require(value, dtype=dtype, requirements=("C", "A"))


def file_path(value, name, where):
    """value as a str path: TypeError for what is not a path (str, bytes or os.PathLike), ValueError for a NUL
    character (no file can have one)."""
    try:
        value = os.fspath(value)
    except TypeError:
        raise TypeError(f"[{where}] {name} must be a str or os.PathLike; got {type(value).__name__}") from None
    if isinstance(value, bytes):
        value = os.fsdecode(value)
    if "\0" in value:
        raise ValueError(f"[{where}] {name} contains a NUL character: {value!r:.80}")
    return value


def flag(value, name, where):
    """``value`` as a bool; TypeError unless it is one (1 and "yes" are not)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"[{where}] {name} must be a bool; got {type(value).__name__}")
    return bool(value)


def real_pair(value, name, where):
    """``value`` as a tuple of two floats; TypeError unless it is a pair of real numbers."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        shown = f"{type(value).__name__} of length {len(value)}" if isinstance(value, (tuple, list)) else type(value).__name__
        raise TypeError(f"[{where}] {name} must be a pair of real numbers; got {shown}")
    return tuple(real(v, f"{name}[{i}]", where) for i, v in enumerate(value))


_CORE_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_FINITE_CHECK_CHUNK = 1 << 20  # elements: the check's temporary stays ~1 MB, not the dataset's size


def all_finite(x):
    """True when x holds no NaN or Inf: in C++ for float arrays laid out as the core reads them (no temporary,
    a fraction of NumPy's fixed cost at one row), else through NumPy in chunks of bounded size."""
    if x.dtype in _CORE_FLOATS and x.flags.c_contiguous and x.flags.aligned:
        return _core.all_finite(x)
    flat = x.reshape(-1)
    return all(np.isfinite(flat[i:i + _FINITE_CHECK_CHUNK]).all() for i in range(0, flat.size, _FINITE_CHECK_CHUNK))


def index_array(x, name, where) -> np.ndarray:
    """x as C-contiguous int64 indices: TypeError unless it holds integers (a float array is refused, not
    rounded). The range is checked where the table size is known (the C++ binding, before any work)."""
    x = as_array(x, name, where)
    if x.dtype.kind not in "iu":
        raise TypeError(f"[{where}] {name} must hold integer indices; got dtype {x.dtype}")
    if x.dtype.kind == "u" and x.size and x.max() > np.iinfo(np.int64).max:
        raise ValueError(f"[{where}] {name} holds an index too large for int64: {x.max()}")
    return c_array(x, np.int64)
