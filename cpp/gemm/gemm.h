// General matrix multiply, the entry point every layer calls:
//     C ← alpha·op(A)·op(B) + beta·C,   op(X) = X or Xᵀ,   row-major with leading dimensions.
// op(A) is m×k, op(B) is k×n, C is m×n. beta == 0 ignores what C held (NaN included), alpha == 0 or
// k == 0 leaves beta·C, as BLAS does. Throws ValueError for negative sizes or too-small leading
// dimensions, before any work; never throws once computing.
#pragma once

namespace bprop::gemm {

enum class Op { N, T };

template <typename T>
void gemm(Op op_a, Op op_b, long m, long n, long k, T alpha, const T* a, long lda, const T* b, long ldb,
          T beta, T* c, long ldc);

// Problems under this many flops (2·m·n·k) run on one thread. Tests lower it to 0 to drive the
// threaded path through small shapes; benchmarks/bench_gemm.py --threshold measures where it belongs.
double parallel_min_flops();
void set_parallel_min_flops(double flops);

extern template void gemm<float>(Op, Op, long, long, long, float, const float*, long, const float*, long,
                                 float, float*, long);
extern template void gemm<double>(Op, Op, long, long, long, double, const double*, long, const double*,
                                  long, double, double*, long);

}  // namespace bprop::gemm
