"""Threads, ISA selection, cpu_info, fork safety and the package surface."""
import multiprocessing
import os
import subprocess
import sys

import numpy as np
import pytest

import bprop
from bprop import _core


def run_python(code, **env):
    """Run code in a fresh interpreter with extra environment variables; return the process."""
    return subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=120)


def test_version_and_api():
    assert isinstance(bprop.__version__, str) and bprop.__version__.count(".") >= 2
    for name in ("matmul", "cpu_info", "set_num_threads", "get_num_threads", "set_isa"):
        assert callable(getattr(bprop, name))


def test_cpu_info():
    info = bprop.cpu_info()
    assert info["isa"] in info["isas_available"]
    assert info["isas_available"][0] == "reference"
    assert info["num_threads"] == bprop.get_num_threads() >= 1
    assert info["cores"] >= 1
    assert isinstance(info["openmp"], bool)
    assert info["gemm_kernels"]["float32"].startswith("sgemm_ukernel_")
    assert info["gemm_kernels"]["float64"].startswith("dgemm_ukernel_")
    assert info["gemm_kernels"]["float32"].endswith(info["isa"])


def test_cpu_info_reports_the_cpu_and_the_gemm_choices():
    info = bprop.cpu_info()
    assert isinstance(info["vendor"], str) and info["family"] >= 0 and info["model"] >= 0
    assert info["cache_source"] in ("cpuid", "os", "unknown")
    assert info["caches"]["l1d"] >= 0 and info["caches"]["l2"] >= info["caches"]["l1d"]
    gemm = info["gemm"]
    assert gemm["kernel"] == info["gemm_kernels"]["float32"]
    assert gemm["mc"] % gemm["mr"] == 0 and gemm["nc"] % gemm["nr"] == 0 and gemm["kc"] >= 1
    assert gemm["family"] and gemm["source"] and gemm["in_place_bytes"] > 0
    if "avx512" in info["isas_available"]:
        assert info["fma512_per_cycle"] in (1, 2)
        assert 0.5 < info["fma_probe_ratio"] < 3
    else:
        assert info["fma512_per_cycle"] == 0


def test_gemm_blocks_from_the_environment():
    process = run_python("import bprop; g = bprop.cpu_info()['gemm']; print(g['kc'], g['mc'], g['source'])",
                         BPROP_GEMM_BLOCKS="256,145,2048")
    assert process.returncode == 0, process.stderr
    kc, mc, source = process.stdout.split(maxsplit=2)
    mr = bprop.cpu_info()["gemm"]["mr"]
    assert int(kc) == 256 and int(mc) == 145 // mr * mr and "BPROP_GEMM_BLOCKS" in source
    bad = run_python("import bprop", BPROP_GEMM_BLOCKS="512,0")
    assert bad.returncode != 0 and "BPROP_GEMM_BLOCKS='512,0'" in bad.stderr


def test_best_isa_is_the_default():
    # A fresh process picks the last (best) ISA the CPU offers.
    process = run_python("import bprop; i = bprop.cpu_info(); print(i['isa'] == i['isas_available'][-1])")
    assert process.stdout.strip() == "True", process.stderr


@pytest.mark.parametrize("isa", _core.available_isas())
def test_bprop_isa_environment_variable_forces_a_kernel(isa):
    process = run_python("import bprop; print(bprop.cpu_info()['isa'])", BPROP_ISA=isa)
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip() == isa


def test_bad_bprop_isa_is_a_clear_error():
    process = run_python("import bprop", BPROP_ISA="sse9")
    assert process.returncode != 0
    assert "BPROP_ISA='sse9'" in process.stderr and "unknown ISA" in process.stderr


def test_set_isa_validates(force_isa):
    with pytest.raises(ValueError, match="unknown ISA 'sse9'"):
        bprop.set_isa("sse9")
    with pytest.raises(TypeError):
        bprop.set_isa(3)
    for isa in _core.available_isas():
        force_isa(isa)
        assert bprop.cpu_info()["isa"] == isa


def test_num_threads_default_follows_omp_num_threads():
    process = run_python("import bprop; print(bprop.get_num_threads())", OMP_NUM_THREADS="3")
    assert process.stdout.strip() == "3", process.stderr


def test_set_num_threads_validates(threads):
    threads(1)
    assert bprop.get_num_threads() == 1
    with pytest.raises(ValueError, match=">= 1"):
        bprop.set_num_threads(0)
    with pytest.raises(TypeError):
        bprop.set_num_threads(1.5)
    with pytest.raises(TypeError):
        bprop.set_num_threads(True)
    bprop.set_num_threads(np.int64(2))
    assert bprop.get_num_threads() == 2


def _matmul_in_child(queue):
    a = np.ones((300, 300), np.float32)
    queue.put(float(bprop.matmul(a, a)[0, 0]))


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_fork_after_threaded_gemm_does_not_hang(threads):
    threads(2)
    a = np.ones((400, 400), np.float32)
    bprop.matmul(a, a)  # the OpenMP thread pool now exists in the parent
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_matmul_in_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
        pytest.fail("forked child hung in a GEMM")
    assert child.exitcode == 0
    assert queue.get(timeout=5) == 300.0


def test_fma_peak_is_measured():
    for isa in _core.available_isas():
        peak = _core.fma_peak_gflops(isa, 1, 0.02)
        assert peak == 0.0 if isa == "reference" else peak > 1.0


def test_main_job_runs():
    process = subprocess.run([sys.executable, "-m", "bprop"], capture_output=True, text=True, timeout=300)
    assert process.returncode == 0, process.stderr
    assert "GEMM check passed" in process.stdout
    assert "Test accuracy on held-out spirals" in process.stdout


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 4095, 4096, 4097, 10_000])
def test_all_finite_agrees_with_numpy_wherever_the_bad_value_sits(dtype, size):
    # The C++ check tests exponent bits in chunks of 4096: every position near a chunk or vector edge, and
    # every kind of non-finite value, including the largest finite and the subnormal numbers next to them.
    from bprop._checks import all_finite
    info = np.finfo(dtype)
    clean = np.full(size, info.max, dtype)
    clean[::3] = -info.max
    clean[1::5] = info.smallest_subnormal
    assert all_finite(clean)
    for position in sorted({0, size // 2, size - 1, min(4096, size - 1)}) if size else []:
        for bad in (np.nan, np.inf, -np.inf, -np.nan):
            x = clean.copy()
            x[position] = bad
            assert not all_finite(x) and not np.isfinite(x).all()
    # Views the core cannot read in place take NumPy's path, with the same answer.
    assert all_finite(clean[::2]) and all_finite(clean.astype(">f8")) and all_finite(np.arange(size))
