"""Matrix multiplication on bprop's GEMM (the kernel every layer uses)."""
import numbers

import numpy as np

from . import _core
from ._checks import c_array

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _rows_contiguous(x):
    """True when x (2-D) is row-major with contiguous rows: the GEMM reads it in place."""
    if x.flags.c_contiguous:  # the common case, checked first: matmul's overhead is per call
        return True
    rows, cols = x.shape
    if x.size == 0:  # numpy gives empty arrays arbitrary strides; nothing is read
        return True
    item = x.itemsize
    if cols > 1 and x.strides[1] != item:
        return False
    return rows <= 1 or (x.strides[0] % item == 0 and x.strides[0] >= max(cols, 1) * item)


def _as_operand(x, transpose):
    """(array the GEMM can read, transpose flag) for x: a view where possible, else a copy."""
    if not x.flags.aligned:  # a view at an odd byte offset: C++ may not read it through a float pointer
        return c_array(x), transpose
    if _rows_contiguous(x):
        return x, transpose
    if _rows_contiguous(x.T):  # Fortran order or a .T view: read the transpose, no copy
        return x.T, not transpose
    return c_array(x), transpose


def _check_matrix(x, name):
    if not isinstance(x, np.ndarray):
        raise TypeError(f"[matmul] {name} must be a numpy.ndarray; got {type(x).__name__}")
    if x.ndim != 2:
        raise ValueError(f"[matmul] {name} must be 2-D; got {x.ndim}-D with shape {x.shape}")
    if x.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"[matmul] {name} has dtype {x.dtype}; expected float32 or float64")


def _check_scalar(value, name):
    if type(value) is float:  # fast path: an ABC isinstance costs ~0.5 us
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"[matmul] {name} must be a real number; got {type(value).__name__}")
    return float(value)


def matmul(a: np.ndarray, b: np.ndarray, *, transpose_a: bool = False, transpose_b: bool = False,
           out: np.ndarray | None = None, alpha: float = 1.0, beta: float = 0.0) -> np.ndarray:
    """Return ``alpha * op(a) @ op(b) + beta * out`` with op(x) = x, or x.T when ``transpose_x``.

    ``a`` and ``b`` are 2-D numpy arrays of one dtype, float32 (the fast path) or float64. Row-major
    arrays with contiguous rows (including row slices) and their transposes (``.T`` views, Fortran
    order) are read in place; any other layout is copied once to C order first.

    ``out``, when given, must have the result's shape and dtype; the result is written into it and it
    is returned. ``beta`` scales what ``out`` held and needs ``out``; with ``beta == 0`` (the default)
    ``out``'s old contents are ignored, NaN included. As in BLAS, ``alpha == 0`` or an inner dimension
    of 0 gives ``beta * out`` without reading ``a`` or ``b``. NaN and Inf otherwise propagate as in NumPy.

    Parameters
    ----------
    a, b : numpy.ndarray
        The 2-D operands, float32 or float64, the same dtype.
    transpose_a, transpose_b : bool, default False
        Multiply by the transpose of ``a`` (of ``b``) without forming it.
    out : numpy.ndarray, optional
        A writeable array of the result's shape and dtype to write the result into.
    alpha : float, default 1.0
        Scale of the product.
    beta : float, default 0.0
        Scale of ``out``'s previous contents (needs ``out``).

    Returns
    -------
    numpy.ndarray
        The result, of shape ``(m, n)``: ``out`` itself when given, else a new array.

    Raises
    ------
    TypeError
        If an operand is not a float32/float64 ndarray, the dtypes differ, or a scalar is not real.
    ValueError
        If an operand is not 2-D, the inner dimensions differ, ``out`` has the wrong shape or is
        read-only, or ``beta`` is non-zero without ``out``.

    Examples
    --------
    >>> a = np.arange(6, dtype=np.float32).reshape(2, 3)
    >>> bprop.matmul(a, a, transpose_b=True)
    array([[ 5., 14.],
           [14., 50.]], dtype=float32)
    """
    if type(alpha) is float and type(beta) is float and type(transpose_a) is bool and type(transpose_b) is bool:
        done = _core.matmul_common_case(a, b, out, transpose_a, transpose_b, alpha, beta)
        if done is not None:
            return done
    _check_matrix(a, "a")
    _check_matrix(b, "b")
    if a.dtype != b.dtype:
        raise TypeError(f"[matmul] a and b must share a dtype; got {a.dtype} and {b.dtype}")
    alpha = _check_scalar(alpha, "alpha")
    beta = _check_scalar(beta, "beta")
    m, k = (a.shape[1], a.shape[0]) if transpose_a else a.shape
    k_b, n = (b.shape[1], b.shape[0]) if transpose_b else b.shape
    if k != k_b:
        raise ValueError(
            f"[matmul] inner dimensions differ: op(a) is {m}x{k} (a{a.shape}"
            f"{'.T' if transpose_a else ''}), op(b) is {k_b}x{n} (b{b.shape}{'.T' if transpose_b else ''})"
        )

    if out is None:
        if beta != 0.0:
            raise ValueError("[matmul] beta scales out's contents, so it needs out=; got out=None")
        out = np.empty((m, n), dtype=a.dtype)
    else:
        _check_matrix(out, "out")
        if out.dtype != a.dtype:
            raise TypeError(f"[matmul] out has dtype {out.dtype}; expected {a.dtype} like a and b")
        if out.shape != (m, n):
            raise ValueError(f"[matmul] out has shape {out.shape}; expected {(m, n)}")
        if not out.flags.writeable:
            raise ValueError("[matmul] out is read-only")
        # An input sharing memory with out is copied by the core before it writes out.

    a, transpose_a = _as_operand(a, bool(transpose_a))
    b, transpose_b = _as_operand(b, bool(transpose_b))
    if _rows_contiguous(out):
        _core.gemm(a, b, out, transpose_a, transpose_b, alpha, beta)
    elif _rows_contiguous(out.T):
        # outᵀ = op(b)ᵀ·op(a)ᵀ: write a Fortran-ordered out in place by swapping the operands.
        _core.gemm(b, a, out.T, not transpose_b, not transpose_a, alpha, beta)
    else:
        scratch = c_array(out)
        _core.gemm(a, b, scratch, transpose_a, transpose_b, alpha, beta)
        out[...] = scratch
    return out
