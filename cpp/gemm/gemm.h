// General matrix multiply, the entry point every layer calls:
//     C ← alpha·op(A)·op(B) + beta·C,   op(X) = X or Xᵀ,   row-major with leading dimensions.
// op(A) is m×k, op(B) is k×n, C is m×n. beta == 0 ignores what C held (NaN included), alpha == 0 or
// k == 0 leaves beta·C, as BLAS does. Throws ValueError for negative sizes or too-small leading
// dimensions, before any work; once computing, throws only Interrupted (Ctrl-C, polled between blocks
// outside the parallel region; C is then partly written).
#pragma once

#include "ops/activations.h"

namespace bprop::gemm {

enum class Op { N, T };

// What the driver applies to each block of C once its sum is complete, while the block is still in
// cache: C ← f(C + bias), bias indexed by column (see ops::bias_activation_block). A Linear layer passes
// its bias and, when an activation follows it, that activation: one pass over the output fewer.
template <typename T>
struct Epilogue {
  const T* bias = nullptr;  // n values, or none
  ops::Activation activation = ops::Activation::identity;
  T param = 0;  // the activation's parameter

  bool empty() const { return bias == nullptr && activation == ops::Activation::identity; }
};

template <typename T>
void gemm(Op op_a, Op op_b, long m, long n, long k, T alpha, const T* a, long lda, const T* b, long ldb,
          T beta, T* c, long ldc, const Epilogue<T>& epilogue = {});

// Problems under this many flops (2·m·n·k) run on one thread. Tests lower it to 0 to drive the
// threaded path through small shapes; benchmarks/bench_gemm.py --threshold measures where it belongs.
double parallel_min_flops();
void set_parallel_min_flops(double flops);

extern template void gemm<float>(Op, Op, long, long, long, float, const float*, long, const float*, long,
                                 float, float*, long, const Epilogue<float>&);
extern template void gemm<double>(Op, Op, long, long, long, double, const double*, long, const double*,
                                  long, double, double*, long, const Epilogue<double>&);

}  // namespace bprop::gemm
