"""bprop.matmul / the C++ GEMM against NumPy, on every ISA this CPU has, at 1 and 2 threads."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bprop
from bprop import _core
from conftest import AVAILABLE_ISAS

DTYPES = [np.float32, np.float64]
TRANSPOSES = [(False, False), (True, False), (False, True), (True, True)]


def operands(rng, m, n, k, transpose_a, transpose_b, dtype):
    """Random a, b stored so that op(a) is m×k and op(b) is k×n."""
    a = rng.standard_normal((k, m) if transpose_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if transpose_b else (k, n)).astype(dtype)
    return a, b


def assert_gemm_close(result, a, b, transpose_a=False, transpose_b=False, alpha=1.0, beta=0.0, c_before=None):
    """Check result against a float64 NumPy reference, to the rounding bound of a k-term dot product."""
    op_a = (a.T if transpose_a else a).astype(np.float64)
    op_b = (b.T if transpose_b else b).astype(np.float64)
    expected = alpha * (op_a @ op_b)
    magnitude = abs(alpha) * (np.abs(op_a) @ np.abs(op_b))
    if beta != 0.0:
        expected = expected + beta * c_before.astype(np.float64)
        magnitude = magnitude + abs(beta) * np.abs(c_before.astype(np.float64))
    eps = np.finfo(result.dtype).eps
    k = op_a.shape[1]
    tolerance = (k + 2) * eps * magnitude + np.finfo(result.dtype).tiny
    assert result.shape == expected.shape
    error = np.abs(result.astype(np.float64) - expected)
    worst = np.unravel_index(np.argmax(error - tolerance), error.shape) if error.size else None
    assert np.all(error <= tolerance), f"max excess at {worst}: got {result[worst]}, expected {expected[worst]}"


def shapes_for(isa, dtype):
    """(m, n, k) cases: 0, 1, primes, each tile size ±1, each cache block ±1, tall-skinny, short-wide."""
    cfg = _core.gemm_config(isa, np.dtype(dtype).name)
    mr, nr, kc, mc, nc = cfg["mr"], cfg["nr"], cfg["kc"], cfg["mc"], cfg["nc"]
    return [
        (0, 5, 3), (5, 0, 3), (5, 3, 0), (0, 0, 0), (1, 1, 1), (1, 17, 1), (13, 1, 7),
        (37, 53, 29), (97, 101, 103),
        (mr - 1, nr - 1, 5), (mr, nr, 5), (mr + 1, nr + 1, 5), (2 * mr + 1, 3 * nr - 1, 31),
        (mr, nr, kc - 1), (mr, nr, kc), (mr + 1, nr - 1, kc + 1), (3, 5, 2 * kc + 1),
        (mc - 1, nr + 3, 9), (mc + 1, 2 * nr + 1, kc - 1), (mc, nr, kc + 1),
        (mr + 2, nc - 1, 7), (mr + 2, nc + 1, kc + 1), (5, nc, 3),
        (1, 517, 300), (2, 300, 517), (3, 65, 1000), (4, 129, 33), (5, 33, 129),  # the unpacked few-row path
        (3001, 3, 17), (2000, 7, 301),  # tall-skinny
        (3, 3001, 17), (5, 2500, 260),  # short-wide
    ]


def all_cases():
    for isa in AVAILABLE_ISAS:
        for dtype in DTYPES:
            for m, n, k in shapes_for(isa, dtype):
                yield pytest.param(isa, dtype, m, n, k, id=f"{isa}-{np.dtype(dtype).name}-{m}x{n}x{k}")


@pytest.mark.parametrize("isa,dtype,m,n,k", list(all_cases()))
@pytest.mark.parametrize("nthreads", [1, 2])
def test_matches_numpy_on_edge_shapes(isa, dtype, m, n, k, nthreads, force_isa, threads, rng):
    force_isa(isa)
    threads(nthreads)
    for transpose_a, transpose_b in TRANSPOSES:
        a, b = operands(rng, m, n, k, transpose_a, transpose_b, dtype)
        c = bprop.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b)
        assert c.dtype == dtype
        assert_gemm_close(c, a, b, transpose_a, transpose_b)


@pytest.mark.parametrize("isa", AVAILABLE_ISAS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (2.5, 0.0), (1.0, 1.0), (-0.5, 2.0), (0.3, -1.0)])
@pytest.mark.parametrize("nthreads", [1, 2])
def test_alpha_beta(isa, dtype, alpha, beta, nthreads, force_isa, threads, rng):
    force_isa(isa)
    threads(nthreads)
    cfg = _core.gemm_config(isa, np.dtype(dtype).name)
    m, n, k = cfg["mr"] * 3 + 1, cfg["nr"] * 2 + 3, cfg["kc"] + 7  # full and edge tiles, two K slices
    alpha_beta_cases(m, n, k, alpha, beta, dtype, rng)
    alpha_beta_cases(2, n, k, alpha, beta, dtype, rng)  # the unpacked few-row path


def alpha_beta_cases(m, n, k, alpha, beta, dtype, rng):
    for transpose_a, transpose_b in TRANSPOSES:
        a, b = operands(rng, m, n, k, transpose_a, transpose_b, dtype)
        c_before = rng.standard_normal((m, n)).astype(dtype)
        if beta == 0.0:
            c_before[::3, ::2] = np.nan  # BLAS semantics: beta == 0 never reads C
        out = c_before.copy()
        result = bprop.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b, out=out,
                              alpha=alpha, beta=beta)
        assert result is out
        assert not np.isnan(out).any()
        assert_gemm_close(out, a, b, transpose_a, transpose_b, alpha, beta, c_before)


@pytest.mark.parametrize("dtype", DTYPES)
def test_alpha_zero_or_empty_inner_dimension_gives_beta_c(dtype, rng):
    c_before = rng.standard_normal((5, 6)).astype(dtype)
    a = np.full((5, 4), np.nan, dtype)  # alpha == 0: A and B are not read, as in BLAS
    out = c_before.copy()
    bprop.matmul(a, np.ones((4, 6), dtype), out=out, alpha=0.0, beta=3.0)
    np.testing.assert_array_equal(out, 3 * c_before)
    out = c_before.copy()
    bprop.matmul(np.empty((5, 0), dtype), np.empty((0, 6), dtype), out=out, beta=-1.0)
    np.testing.assert_array_equal(out, -c_before)
    np.testing.assert_array_equal(bprop.matmul(np.empty((5, 0), dtype), np.empty((0, 6), dtype)), np.zeros((5, 6)))
    assert bprop.matmul(np.empty((0, 3), dtype), np.empty((3, 4), dtype)).shape == (0, 4)


@pytest.mark.parametrize("isa", AVAILABLE_ISAS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_nan_and_inf_propagate_like_numpy(isa, dtype, force_isa, rng):
    force_isa(isa)
    a = rng.standard_normal((40, 33)).astype(dtype)
    b = rng.standard_normal((33, 50)).astype(dtype)
    a[3, 4] = np.nan
    a[7, 0] = np.inf
    b[5, 9] = -np.inf
    b[:, 20] = 0.0
    a[11, 5] = np.inf  # inf times the zero column of b: NaN, as in NumPy
    with np.errstate(invalid="ignore"):
        expected = a.astype(np.float64) @ b.astype(np.float64)
    c = bprop.matmul(a, b)
    np.testing.assert_array_equal(np.isnan(c), np.isnan(expected))
    np.testing.assert_array_equal(np.isposinf(c), np.isposinf(expected))
    np.testing.assert_array_equal(np.isneginf(c), np.isneginf(expected))


@pytest.mark.parametrize("isa", AVAILABLE_ISAS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_results_do_not_depend_on_thread_count(isa, dtype, force_isa, threads, rng):
    # K is never split across threads, so every element is summed in the same order: bit-identical.
    force_isa(isa)
    a, b = operands(rng, 301, 517, 700, True, False, dtype)
    threads(1)
    one = bprop.matmul(a, b, transpose_a=True)
    threads(2)
    two = bprop.matmul(a, b, transpose_a=True)
    np.testing.assert_array_equal(one, two)


class TestLayouts:
    """Non-contiguous inputs and outputs give correct numbers (in place where possible, else a copy)."""

    def test_row_slices_transposed_views_and_fortran_order(self, rng):
        base_a = rng.standard_normal((40, 70)).astype(np.float32)
        base_b = rng.standard_normal((60, 90)).astype(np.float32)
        a = base_a[3:33, 5:55]       # rows contiguous, row stride 70: read in place
        b = base_b[1:51, 2:61]
        assert_gemm_close(bprop.matmul(a, b), a, b)
        at = np.asfortranarray(a)    # Fortran order: read as a transpose
        assert_gemm_close(bprop.matmul(at, b), at, b)
        assert_gemm_close(bprop.matmul(a.T.copy().T, b.T.copy().T), a, b)
        assert_gemm_close(bprop.matmul(b.T, a.T), b.T, a.T)
        strided = base_a[::2, ::3]   # no contiguous axis: copied once
        b2 = rng.standard_normal((strided.shape[1], 8)).astype(np.float32)
        assert_gemm_close(bprop.matmul(strided, b2), strided, b2)
        reversed_rows = base_a[::-1]
        b3 = rng.standard_normal((70, 6)).astype(np.float32)
        assert_gemm_close(bprop.matmul(reversed_rows, b3), reversed_rows, b3)

    def test_broadcast_view_input(self, rng):
        row = rng.standard_normal((1, 30)).astype(np.float64)
        a = np.broadcast_to(row, (25, 30))  # stride 0 along rows
        b = rng.standard_normal((30, 7))
        assert_gemm_close(bprop.matmul(a, b), a, b)

    @pytest.mark.parametrize("layout", ["fortran", "strided", "row_slice"])
    def test_out_layouts(self, layout, rng):
        a = rng.standard_normal((33, 21))
        b = rng.standard_normal((21, 45))
        c_before = rng.standard_normal((33, 45))
        if layout == "fortran":
            out = np.asfortranarray(c_before.copy())
        elif layout == "strided":
            holder = np.zeros((66, 90))
            out = holder[::2, ::2]
            out[...] = c_before
        else:
            holder = np.zeros((33, 60))
            out = holder[:, 10:55]
            out[...] = c_before
        result = bprop.matmul(a, b, out=out, alpha=2.0, beta=0.5)
        assert result is out
        assert_gemm_close(out, a, b, alpha=2.0, beta=0.5, c_before=c_before)
        if layout == "strided":  # the elements between out's do not change
            assert not holder[1::2, :].any() and not holder[:, 1::2].any()
        if layout == "row_slice":
            assert not holder[:, :10].any() and not holder[:, 55:].any()

    def test_out_overlapping_an_input(self, rng):
        a = rng.standard_normal((50, 50)).astype(np.float32)
        b = rng.standard_normal((50, 50)).astype(np.float32)
        expected_a = a.copy()
        bprop.matmul(a, b, out=a)    # same semantics as NumPy's a @ b written back into a
        assert_gemm_close(a, expected_a, b)
        c = rng.standard_normal((50, 50)).astype(np.float32)
        expected_c = c.copy()
        bprop.matmul(c, b, out=c.T)  # Fortran-ordered out: written through the operand swap
        assert_gemm_close(c.T, expected_c, b)
        base = rng.standard_normal((60, 50)).astype(np.float32)
        expected_a = base[:50].copy()
        bprop.matmul(base[:50], b, out=base[10:])  # partial overlap, shifted by 10 rows
        assert_gemm_close(base[10:], expected_a, b)

    def test_inputs_are_not_modified(self, rng):
        a = rng.standard_normal((17, 9)).astype(np.float32)
        b = rng.standard_normal((9, 13)).astype(np.float32)
        a0, b0 = a.copy(), b.copy()
        bprop.matmul(a, b)
        np.testing.assert_array_equal(a, a0)
        np.testing.assert_array_equal(b, b0)


class TestBadInput:
    def test_shape_mismatch_names_both_shapes(self):
        with pytest.raises(ValueError, match=r"\(3, 4\).*\(5, 6\)"):
            bprop.matmul(np.ones((3, 4)), np.ones((5, 6)))
        with pytest.raises(ValueError, match=r"op\(a\) is 4x3 \(a\(3, 4\)\.T\), op\(b\) is 4x5"):
            bprop.matmul(np.ones((3, 4)), np.ones((4, 5)), transpose_a=True)

    @pytest.mark.parametrize("shape", [(3,), (2, 3, 4), ()])
    def test_not_2d(self, shape):
        with pytest.raises(ValueError, match="2-D"):
            bprop.matmul(np.ones(shape), np.ones((3, 3)))
        with pytest.raises(ValueError, match="2-D"):
            bprop.matmul(np.ones((3, 3)), np.ones(shape))

    @pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float16, np.complex64, bool, object])
    def test_unsupported_dtype(self, dtype):
        with pytest.raises(TypeError, match=np.dtype(dtype).name):
            bprop.matmul(np.ones((3, 3), dtype=dtype), np.ones((3, 3), dtype=dtype))

    def test_mixed_dtypes_named(self):
        with pytest.raises(TypeError, match="float32 and float64"):
            bprop.matmul(np.ones((3, 3), np.float32), np.ones((3, 3), np.float64))

    def test_not_an_array(self):
        with pytest.raises(TypeError, match="numpy.ndarray"):
            bprop.matmul([[1.0, 2.0]], np.ones((2, 2)))

    def test_bad_out(self):
        a, b = np.ones((3, 4), np.float32), np.ones((4, 5), np.float32)
        with pytest.raises(ValueError, match=r"out has shape \(5, 3\); expected \(3, 5\)"):
            bprop.matmul(a, b, out=np.empty((5, 3), np.float32))
        with pytest.raises(TypeError, match="out has dtype float64"):
            bprop.matmul(a, b, out=np.empty((3, 5), np.float64))
        read_only = np.empty((3, 5), np.float32)
        read_only.flags.writeable = False
        with pytest.raises(ValueError, match="read-only"):
            bprop.matmul(a, b, out=read_only)
        with pytest.raises(ValueError, match="needs out"):
            bprop.matmul(a, b, beta=1.0)
        with pytest.raises(TypeError, match="alpha"):
            bprop.matmul(a, b, alpha="2")

    def test_core_entry_point_refuses_what_python_would_have_caught(self):
        # Direct callers of the extension get exceptions, never a crash or a silent conversion.
        a32, b32, c32 = np.ones((3, 4), np.float32), np.ones((4, 5), np.float32), np.empty((3, 5), np.float32)
        with pytest.raises(TypeError, match="share one dtype"):
            _core.gemm(a32, b32.astype(np.float64), c32, False, False, 1.0, 0.0)
        with pytest.raises(TypeError, match="share one dtype"):
            _core.gemm(a32.astype(">f4"), b32, c32, False, False, 1.0, 0.0)
        with pytest.raises(ValueError, match="shapes do not match"):
            _core.gemm(a32, b32, np.empty((3, 4), np.float32), False, False, 1.0, 0.0)
        with pytest.raises(ValueError, match="2-D"):
            _core.gemm(np.ones(3, np.float32), b32, c32, False, False, 1.0, 0.0)
        with pytest.raises(TypeError, match="contiguous rows"):
            _core.gemm(np.ones((3, 8), np.float32)[:, ::2], b32, c32, False, False, 1.0, 0.0)
        with pytest.raises(TypeError):
            _core.gemm([[1.0]], b32, c32, False, False, 1.0, 0.0)


@settings(max_examples=60, deadline=None)
@given(
    m=st.integers(0, 70), n=st.integers(0, 70), k=st.integers(0, 300),
    transpose_a=st.booleans(), transpose_b=st.booleans(),
    dtype=st.sampled_from(DTYPES), isa=st.sampled_from(AVAILABLE_ISAS), seed=st.integers(0, 2**32 - 1),
)
def test_random_shapes_property(m, n, k, transpose_a, transpose_b, dtype, isa, seed):
    original = _core.active_isa()
    bprop.set_isa(isa)
    try:
        a, b = operands(np.random.default_rng(seed), m, n, k, transpose_a, transpose_b, dtype)
        c = bprop.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b)
        assert_gemm_close(c, a, b, transpose_a, transpose_b)
    finally:
        bprop.set_isa(original)


def test_concurrent_python_threads_get_correct_results(rng):
    # Each calling thread has its own packing workspace; the GIL is released during the kernel.
    from concurrent.futures import ThreadPoolExecutor

    jobs = [(i % 2 == 1, *operands(np.random.default_rng(i), 150 + i, 130, 257, False, i % 2 == 1, np.float32))
            for i in range(8)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda job: bprop.matmul(job[1], job[2], transpose_b=job[0]), jobs))
    for (transpose_b, a, b), c in zip(jobs, results):
        assert_gemm_close(c, a, b, False, transpose_b)


@pytest.mark.parametrize("isa", AVAILABLE_ISAS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("transpose_a,transpose_b", TRANSPOSES)
def test_rows_get_the_same_bits_however_they_are_batched(isa, dtype, transpose_a, transpose_b, force_isa, rng):
    # Every path (few-row, full tile, edge tile) rounds alike, so predictions do not depend on batching.
    force_isa(isa)
    cfg = _core.gemm_config(isa, np.dtype(dtype).name)
    m, n, k = 2 * cfg["mr"] + 5, cfg["nr"] + 7, cfg["kc"] + 9  # edge tiles and two K slices
    a, b = operands(rng, m, n, k, transpose_a, transpose_b, dtype)
    bias = rng.standard_normal((1, n)).astype(dtype)

    def rows(start, stop):
        part = a[:, start:stop] if transpose_a else a[start:stop]
        out = np.repeat(bias, stop - start, axis=0)
        return bprop.matmul(part, b, transpose_a=transpose_a, transpose_b=transpose_b, out=out, beta=1.0)

    whole = rows(0, m)
    for size in (1, 2, 3, cfg["small_m"] + 1, cfg["mr"] - 1, 7):
        pieces = np.concatenate([rows(s, min(s + size, m)) for s in range(0, m, size)])
        np.testing.assert_array_equal(pieces, whole, err_msg=f"batches of {size}")


@pytest.mark.parametrize("isa", AVAILABLE_ISAS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_few_rows_split_across_threads_match(isa, dtype, force_isa, threads, rng):
    # A B of over 256 KiB: the few-row path gives each thread a column range; same bits at 1 and 2.
    force_isa(isa)
    small_m = _core.gemm_config(isa, np.dtype(dtype).name)["small_m"]
    for m in range(1, small_m + 1):
        for transpose_a in (False, True):
            a, b = operands(rng, m, 1003, 300, transpose_a, False, dtype)
            c_before = rng.standard_normal((m, 1003)).astype(dtype)
            results = []
            for n_threads in (1, 2):
                threads(n_threads)
                out = c_before.copy()
                results.append(bprop.matmul(a, b, transpose_a=transpose_a, out=out, alpha=0.5, beta=2.0))
            assert_gemm_close(results[0], a, b, transpose_a, False, 0.5, 2.0, c_before)
            np.testing.assert_array_equal(results[0], results[1])


def test_an_overflowing_float32_product_keeps_its_sign(rng):
    """Partial sums can overflow one way before the rest of the sum comes back: float32 results past
    float32's range are recomputed in float64, so an infinity always has the sign of the true value and a
    finite true value comes out finite."""
    wrong = 0
    for _ in range(300):
        m, n, k = rng.integers(1, 30, 3)
        a = (rng.standard_normal((m, k)) * 10.0 ** rng.integers(15, 22)).astype(np.float32)
        b = (rng.standard_normal((k, n)) * 10.0 ** rng.integers(15, 22)).astype(np.float32)
        exact = a.astype(np.float64) @ b.astype(np.float64)
        bound = k * 1.2e-7 * (np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64))  # float32 GEMM error
        with np.errstate(over="ignore"):
            expected = exact.astype(np.float32)  # rounded once: ±inf past the range
        finite = np.isfinite(expected)
        for got in (bprop.matmul(a, b), bprop.matmul(np.asfortranarray(a), b),
                    (bprop.tensor(a) @ bprop.tensor(b)).numpy()):
            wrong += int(np.sum(np.isinf(got) != ~finite) + np.sum(np.sign(got[~finite]) != np.sign(exact[~finite])))
            assert np.all(np.abs(got[finite] - exact[finite]) <= bound[finite])
    assert wrong == 0


def test_overflow_repair_keeps_beta_c_and_real_nan(rng):
    a = np.full((2, 3), 3e38, np.float32)
    b = np.array([[1, 1], [1, -1], [-1, 1]], np.float32)  # column sums: 3e38 + 3e38 - 3e38, finite
    out = np.ones((2, 2), np.float32)
    bprop.matmul(a, b, out=out, beta=2.0)
    np.testing.assert_allclose(out, np.full((2, 2), 3e38 + 2, np.float32), rtol=1e-6)
    a[0, 0] = np.nan  # a NaN input stays NaN: nothing to repair
    assert np.isnan(bprop.matmul(a, b)[0]).all() and np.isfinite(bprop.matmul(a, b)[1]).all()


@pytest.mark.parametrize("isa", AVAILABLE_ISAS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("transpose_a,transpose_b", TRANSPOSES)
def test_operands_read_in_place_or_packed_give_the_same_bits(isa, dtype, transpose_a, transpose_b, force_isa, rng):
    # Small operand blocks are read where they lie (an op(B) = B, an op(A) = Aᵀ), large ones packed: a
    # column slice of a product whose B is too large to be read in place must have the bits of the whole.
    # The operands are row slices of larger arrays, so the in-place reads use a row stride beyond the width.
    force_isa(isa)
    cfg = _core.gemm_config(isa, np.dtype(dtype).name)
    limit = _core.gemm_blocking()["in_place_bytes"]
    k = min(cfg["kc"], 300)
    n = limit // (k * np.dtype(dtype).itemsize) + 2 * cfg["nr"] + 3  # B's block is above the limit
    m = 2 * cfg["mr"] + 1
    a_full, b_full = operands(rng, m + 3, n + 5, k + 7, transpose_a, transpose_b, dtype)
    a = a_full[:k, :m] if transpose_a else a_full[:m, :k]
    b = b_full[:n, :k] if transpose_b else b_full[:k, :n]
    whole = bprop.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b)
    assert_gemm_close(whole, a, b, transpose_a, transpose_b)
    for j0, j1 in [(0, cfg["nr"]), (cfg["nr"], 3 * cfg["nr"] + 5), (n - 7, n)]:
        part = b[j0:j1] if transpose_b else b[:, j0:j1]
        sliced = bprop.matmul(a, part, transpose_a=transpose_a, transpose_b=transpose_b)
        np.testing.assert_array_equal(sliced, whole[:, j0:j1], err_msg=f"columns {j0}:{j1}")
    # Rows: an op(A) too large to be read in place (packed) against row slices of it (read in place).
    blocking = _core.gemm_blocking()
    a_limit = blocking["in_place_a_bytes"]
    m = a_limit // (k * np.dtype(dtype).itemsize) + 2 * cfg["mr"] + 1
    a_full, b_full = operands(rng, m + 2, cfg["nr"] + 9, k + 3, transpose_a, transpose_b, dtype)
    a = a_full[:k, :m] if transpose_a else a_full[:m, :k]
    b = b_full[:cfg["nr"] + 5, :k] if transpose_b else b_full[:k, :cfg["nr"] + 5]
    whole = bprop.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b)
    for i0, i1 in [(0, cfg["mr"]), (cfg["mr"], 3 * cfg["mr"] + 2), (m - 5, m)]:
        part = a[:, i0:i1] if transpose_a else a[i0:i1]
        sliced = bprop.matmul(part, b, transpose_a=transpose_a, transpose_b=transpose_b)
        np.testing.assert_array_equal(sliced, whole[i0:i1], err_msg=f"rows {i0}:{i1}")


@pytest.mark.parametrize("isa", AVAILABLE_ISAS)
@pytest.mark.parametrize("threads_used", [1, 2])
def test_one_overflowing_element_anywhere_is_repaired(isa, threads_used, force_isa, threads, rng):
    # The watch for non-finite results checks each block of C as the GEMM finishes it (per ISA, in vector
    # lanes plus a ragged tail): one overflowing element in any row or column, edges included, is found.
    force_isa(isa)
    threads(threads_used)
    _core.set_gemm_parallel_min_flops(0.0)
    try:
        for m, n, k in [(1, 1, 2), (13, 37, 5), (40, 70, 3), (25, 17, 9)]:
            for i, j in [(0, 0), (m - 1, n - 1), (m // 2, n - 1), (m - 1, 0), (m // 3, n // 2)]:
                a = rng.uniform(-1, 1, (m, k)).astype(np.float32)
                b = rng.uniform(-1, 1, (k, n)).astype(np.float32)
                a[i, :2], b[:2, j] = 3e19, (3e19, -3e19)  # the two big products cancel: exact value is small
                exact = a.astype(np.float64) @ b.astype(np.float64)
                bound = (k + 2) * 1.2e-7 * (np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64))
                got = bprop.matmul(a, b)
                assert np.all(np.isfinite(got)), f"{m}x{n}x{k} at ({i}, {j})"
                assert np.all(np.abs(got - exact) <= bound), f"{m}x{n}x{k} at ({i}, {j})"
                assert abs(got[i, j] - exact[i, j]) <= 1e-6 * abs(exact[i, j]) + 1e-6  # recomputed in float64
    finally:
        _core.set_gemm_parallel_min_flops(4.0e6)


@pytest.mark.parametrize("isa", AVAILABLE_ISAS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nthreads", [1, 2])
def test_gemm_with_a_panel_packer_has_the_bits_of_gemm(isa, dtype, nthreads, force_isa, threads, rng):
    # The implicit-GEMM entry (gemm_packed_b: op(B) written into the panels by a function, as a convolution's
    # patches will be) against gemm() on the same op(B) in memory: identical bits, every ISA, 1 and 2 threads
    # (the threshold lowered so the 2-thread splits of rows and of columns both run), edges and K slices.
    force_isa(isa)
    threads(nthreads)
    cfg = _core.gemm_config(isa, np.dtype(dtype).name)
    _core.set_gemm_parallel_min_flops(0.0)
    try:
        for m, n, k in [(1, 1, 1), (cfg["mr"] + 1, cfg["nr"] - 1, 7), (3, 2 * cfg["nr"] + 5, cfg["kc"] + 3),
                        (2 * cfg["mr"] + 3, 5, 40), (37, 53, 29)]:
            for transpose_a, transpose_b in TRANSPOSES:
                a, b = operands(rng, m, n, k, transpose_a, transpose_b, dtype)
                c_before = rng.standard_normal((m, n)).astype(dtype)
                expected = bprop.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b, out=c_before.copy(),
                                        alpha=0.5, beta=1.5)
                got = c_before.copy()
                _core.gemm_packed_b_from_matrix(a, b, got, transpose_a, transpose_b, 0.5, 1.5)
                np.testing.assert_array_equal(got, expected, err_msg=f"{m}x{n}x{k} {transpose_a} {transpose_b}")
    finally:
        _core.set_gemm_parallel_min_flops(4.0e6)


def test_gemm_packed_b_test_entry_checks_its_inputs():
    a = np.ones((2, 3), np.float32)
    with pytest.raises(TypeError, match="one dtype"):
        _core.gemm_packed_b_from_matrix(a, np.ones((3, 2)), np.ones((2, 2), np.float32), False, False, 1.0, 0.0)
    with pytest.raises(ValueError, match="shapes"):
        _core.gemm_packed_b_from_matrix(a, np.ones((4, 2), np.float32), np.ones((2, 2), np.float32), False, False,
                                        1.0, 0.0)
