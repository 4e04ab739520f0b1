"""Fixtures shared by the suite: force an ISA, a thread count, and the threaded GEMM path."""
import os

# scikit-learn's estimator checks run their array-API check (bprop.sklearn with array-API dispatch on and
# NumPy inputs) only when SciPy was imported with this set; otherwise test_sklearn would skip it.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest

import bprop
from bprop import _core

AVAILABLE_ISAS = list(_core.available_isas())


@pytest.fixture
def force_isa():
    """Call force_isa(name) to run the test on one ISA's kernels; the default comes back afterwards."""
    original = _core.active_isa()
    yield bprop.set_isa
    bprop.set_isa(original)


@pytest.fixture
def threads():
    """Call threads(n) to set the thread count and drive even tiny GEMMs through the threaded path."""
    original_threads, original_threshold = bprop.get_num_threads(), _core.gemm_parallel_min_flops()

    def use(n):
        bprop.set_num_threads(n)
        _core.set_gemm_parallel_min_flops(0.0 if n > 1 else original_threshold)

    yield use
    bprop.set_num_threads(original_threads)
    _core.set_gemm_parallel_min_flops(original_threshold)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def pytest_terminal_summary(terminalreporter, config):
    """test_fuzz's count of cases by outcome (result, each exception type, crash, hang), for every run."""
    lines = getattr(config, "fuzz_tallies", [])
    if lines:
        terminalreporter.section("fuzz outcomes")
        for line in lines:
            terminalreporter.write_line(line)
