"""Threads, the SIMD instruction set in use, and what bprop knows of the machine."""
import operator
import os
import warnings
from typing import Any

from . import _core


def set_num_threads(n: int) -> None:
    """Use ``n`` threads in bprop's kernels (default: ``OMP_NUM_THREADS``, else the cores this process may use).

    Small problems still run on one thread, where a second would only add overhead. A count above
    ``4 x`` the usable cores is capped there with a RuntimeWarning: so many threads only slow every call
    down, yet a script written for a larger machine should still run (as with PyTorch and OpenBLAS, which
    accept any count). The setting is shared by every Python thread and inherited by forked children.

    Parameters
    ----------
    n : int
        The thread count, at least 1.

    Raises
    ------
    TypeError
        If ``n`` is not an integer (a bool included).
    ValueError
        If ``n`` is below 1.

    Examples
    --------
    >>> previous = bprop.get_num_threads()
    >>> bprop.set_num_threads(1)
    >>> bprop.get_num_threads()
    1
    >>> bprop.set_num_threads(previous)
    """
    if isinstance(n, bool):
        raise TypeError(f"[set_num_threads] n must be an integer; got {n!r}")
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"[set_num_threads] n must be an integer; got {type(n).__name__}") from None
    if n < 1:
        raise ValueError(f"[set_num_threads] the thread count must be >= 1; got {n}")
    cap = _core.max_threads()
    if n > cap:
        warnings.warn(f"[set_num_threads] {n} threads on {_core.available_cores()} usable cores would only slow "
                      f"bprop down; using {cap} ({_core.max_threads() // _core.available_cores()} per core)",
                      RuntimeWarning, stacklevel=2)
        n = cap
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """Return the number of threads bprop's kernels use.

    Returns
    -------
    int
        The count set by :func:`set_num_threads` (or taken from the environment at import).

    Examples
    --------
    >>> bprop.get_num_threads() >= 1
    True
    """
    return _core.num_threads()


def set_isa(name: str) -> None:
    """Force the kernels of one instruction set: ``"reference"``, ``"avx2"`` or ``"avx512"``.

    The best one the CPU supports is chosen at import; the ``BPROP_ISA`` environment variable or this
    function overrides it (for tests and benchmarks).

    Parameters
    ----------
    name : str
        The instruction set; ``bprop.cpu_info()["isas_available"]`` lists those this CPU has.

    Raises
    ------
    TypeError
        If ``name`` is not a str.
    ValueError
        For an unknown ISA or one the CPU lacks.

    Examples
    --------
    >>> active = bprop.cpu_info()["isa"]
    >>> bprop.set_isa("reference")
    >>> bprop.cpu_info()["isa"]
    'reference'
    >>> bprop.set_isa(active)
    """
    if not isinstance(name, str):
        raise TypeError(f"[set_isa] name must be a str; got {type(name).__name__}")
    _core.set_isa(name)


def cpu_info() -> dict[str, Any]:
    """Return what bprop runs on and what its GEMM chose for it.

    Keys: ``"isa"`` in use and ``"isas_available"``; ``"num_threads"`` and ``"cores"``; ``"cpu"`` (brand),
    ``"vendor"``, ``"family"``, ``"model"``; ``"caches"`` (bytes: L1d and L2 per core, L3) and ``"cache_source"``
    (cpuid or the OS); ``"fma512_per_cycle"`` (512-bit FMAs a core issues per cycle, from a short probe at first
    use, 0 without AVX-512) and ``"fma_probe_ratio"`` (the probe's reading: 512-bit over 256-bit FMA
    throughput); ``"gemm"``: the float32 kernel of the active ISA, its register tile and cache blocks
    (``kc``, ``mc``, ``nc``), the CPU family row they come from and the measurement behind it;
    ``"gemm_kernels"``: the kernel per dtype. ``"openmp"`` is kept for compatibility and is False: bprop
    runs its threads in a pool of its own (``"thread_pool"``), which keeps a 2-thread call fast when other
    processes keep the cores busy.

    Returns
    -------
    dict
        The keys above, with str, int, float, list and dict values.

    Examples
    --------
    >>> info = bprop.cpu_info()
    >>> info["isa"] in info["isas_available"]
    True
    >>> info["num_threads"] == bprop.get_num_threads()
    True
    """
    isa = _core.active_isa()
    identity = _core.cpu_identity()
    blocking = _core.gemm_blocking()
    kernel = _core.gemm_config(isa, "float32")
    return {
        "isa": isa,
        "isas_available": list(_core.available_isas()),
        "num_threads": _core.num_threads(),
        "cores": _core.available_cores(),
        "openmp": False,
        "thread_pool": "bprop" if _core.has_threads() else None,
        "cpu": _core.cpu_brand(),
        "vendor": identity["vendor"],
        "family": identity["family"],
        "model": identity["model"],
        "caches": dict(_core.cache_sizes()),
        "cache_source": identity["cache_source"],
        "fma512_per_cycle": blocking["fma512_per_cycle"],
        "fma_probe_ratio": round(blocking["fma_probe_ratio"], 2),
        "gemm": {"kernel": kernel["name"], "mr": kernel["mr"], "nr": kernel["nr"], "kc": kernel["kc"],
                 "mc": kernel["mc"], "nc": kernel["nc"], "in_place_bytes": blocking["in_place_bytes"],
                 "family": blocking["family"], "source": blocking["source"]},
        "gemm_kernels": {dt: _core.gemm_config(isa, dt)["name"] for dt in ("float32", "float64")},
    }


def _check_blocks_from_environment():
    """BPROP_GEMM_BLOCKS="kc,mc,nc" (tuning sweeps) must be three positive integers: checked at import."""
    text = os.environ.get("BPROP_GEMM_BLOCKS", "").strip()
    if not text:
        return
    parts = text.split(",")
    if len(parts) != 3 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"BPROP_GEMM_BLOCKS={text!r} cannot be used: expected three positive integers "
                         f"'kc,mc,nc', e.g. '512,288,4096'")


def _apply_isa_from_environment():
    name = os.environ.get("BPROP_ISA", "").strip()
    if not name:
        return
    try:
        _core.set_isa(name)
    except ValueError as error:
        raise ValueError(f"BPROP_ISA={name!r} cannot be used: {error}") from None


_apply_isa_from_environment()
_check_blocks_from_environment()
