"""Registry entries: matmul, threads and ISAs, the global seed."""
import numpy as np
from hypothesis import strategies as st

import bprop

from .entry import Entry
from .values import arrays, dims, junk, junk_flags, junk_ints, junk_reals, junk_scalars, odd_arrays


def call_matmul(a, b, transpose_a, transpose_b, out, alpha, beta):
    return bprop.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b, out=out, alpha=alpha, beta=beta)


@st.composite
def matmul_valid(draw):
    m, k, n = draw(dims(0, 5)), draw(dims(0, 5)), draw(dims(0, 5))
    dtype = draw(st.sampled_from(("float32", "float64")))
    ta, tb = draw(st.booleans()), draw(st.booleans())
    layouts = ("c", "f", "T", "neg", "step", "bcast", "readonly", "unaligned")
    a = draw(arrays((dtype,), (k, m) if ta else (m, k), layouts, ("rand", "zeros", "nan", "huge")))
    b = draw(arrays((dtype,), (n, k) if tb else (k, n), layouts))
    out = draw(st.one_of(st.none(), arrays((dtype,), (m, n), ("c", "f", "T", "step"))))
    beta = draw(st.sampled_from((0.0, 1.0, -0.5))) if out is not None else 0.0
    return {"a": a, "b": b, "transpose_a": ta, "transpose_b": tb, "out": out,
            "alpha": draw(st.sampled_from((1.0, 0.0, -2, 1e-30))), "beta": beta}


def call_runtime(threads, isa, then):
    """set_num_threads / set_isa, then a GEMM big enough to use the threads, and cpu_info()."""
    if threads is not None:
        bprop.set_num_threads(threads)
    if isa is not None:
        bprop.set_isa(isa)
    out = None
    if then:
        a = np.ones((300, 300), np.float32)
        out = bprop.matmul(a, a)
    return bprop.get_num_threads(), bprop.cpu_info(), out


def call_manual_seed(seed, then):
    bprop.manual_seed(seed)
    return bprop.nn.Linear(2, 2).weight.value() if then else None


ENTRIES = [
    Entry("bprop.matmul", call_matmul, matmul_valid(),
          {"a": st.one_of(junk(), odd_arrays()), "b": st.one_of(junk(), odd_arrays()), "transpose_a": junk_flags(),
           "out": st.one_of(junk(), odd_arrays()), "alpha": junk_reals(), "beta": junk_reals(),
           "transpose_b": junk_flags()}),
    Entry("bprop.set_num_threads/set_isa/cpu_info", call_runtime,
          st.fixed_dictionaries({"threads": st.sampled_from((None, 1, 2, 3)),
                                 "isa": st.sampled_from((None, "reference")), "then": st.booleans()}),
          {"threads": st.one_of(junk_ints(1), st.sampled_from((64, 10**6))),
           "isa": st.one_of(junk_scalars(), st.sampled_from(("avx512", "avx2", "AVX2", "neon", "", "reference\x00")))}),
    Entry("bprop.manual_seed", call_manual_seed,
          st.fixed_dictionaries({"seed": st.sampled_from((0, 1, 2**32, 2**63 - 1, 2**64 - 1, np.int64(5))),
                                 "then": st.booleans()}),
          {"seed": junk_ints(0)}),
]
