"""Threads, the SIMD instruction set in use, and what bprop knows of the machine."""
import operator
import os

from . import _core


def set_num_threads(n):
    """Use ``n`` threads in bprop's kernels (default: ``OMP_NUM_THREADS``, else the core count).

    Small problems still run on one thread, where a second would only add overhead.
    Without OpenMP in the build, bprop stays on one thread whatever ``n`` is.
    """
    if isinstance(n, bool):
        raise TypeError(f"[set_num_threads] n must be an integer; got {n!r}")
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"[set_num_threads] n must be an integer; got {type(n).__name__}") from None
    if not 1 <= n < 2**31:
        raise ValueError(f"[set_num_threads] the thread count must be >= 1; got {n}" if n < 1 else
                         f"[set_num_threads] {n} threads is not a thread count")
    _core.set_num_threads(n)


def get_num_threads():
    """The number of threads bprop's kernels use."""
    return _core.num_threads()


def set_isa(name):
    """Force the kernels of one instruction set: ``"reference"``, ``"avx2"`` or ``"avx512"``.

    The best one the CPU supports is chosen at import; the ``BPROP_ISA`` environment variable or this
    function overrides it (for tests and benchmarks). Raises ValueError for an ISA the CPU lacks.
    """
    if not isinstance(name, str):
        raise TypeError(f"[set_isa] name must be a str; got {type(name).__name__}")
    _core.set_isa(name)


def cpu_info():
    """What bprop runs on: the ISA in use, the ISAs available, threads, OpenMP, caches, GEMM kernels."""
    isa = _core.active_isa()
    return {
        "isa": isa,
        "isas_available": list(_core.available_isas()),
        "num_threads": _core.num_threads(),
        "cores": _core.available_cores(),
        "openmp": _core.has_openmp(),
        "cpu": _core.cpu_brand(),
        "caches": dict(_core.cache_sizes()),
        "gemm_kernels": {dt: _core.gemm_config(isa, dt)["name"] for dt in ("float32", "float64")},
    }


def _apply_isa_from_environment():
    name = os.environ.get("BPROP_ISA", "").strip()
    if not name:
        return
    try:
        _core.set_isa(name)
    except ValueError as error:
        raise ValueError(f"BPROP_ISA={name!r} cannot be used: {error}") from None


def _after_fork_in_child():
    # gcc's OpenMP runtime can hang a forked child that starts a parallel region the parent's thread
    # pool served; one thread in the child is safe, and the child may raise it again explicitly.
    _core.set_num_threads(1)


_apply_isa_from_environment()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
