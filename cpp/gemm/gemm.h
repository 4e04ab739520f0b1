// General matrix multiply, the entry point every layer calls:
//     C ← alpha·op(A)·op(B) + beta·C,   op(X) = X or Xᵀ,   row-major with leading dimensions.
// op(A) is m×k, op(B) is k×n, C is m×n. beta == 0 ignores what C held (NaN included), alpha == 0 or
// k == 0 leaves beta·C, as BLAS does. Throws ValueError for negative sizes or too-small leading
// dimensions, before any work; once computing, throws only Interrupted (Ctrl-C, polled between blocks
// outside the parallel region; C is then partly written).
#pragma once

namespace bprop::gemm {

enum class Op { N, T };

// What the driver applies to each block of C once its sum is complete, while the block is still in cache:
// apply(context, row0, col0, c, rows, cols, ldc) over the rows×cols block at c (row stride ldc), whose
// first element is C(row0, col0) of the whole C. Called on the thread that finished the block, once per
// element of C, at any block size: it must be elementwise (a row- or column-indexed bias, an activation).
// A Linear layer adds its bias per column and applies a fused activation this way (BiasThen in
// nn/linear.cpp), a convolution its bias per row (channel): one pass over the output fewer. The GEMM
// knows nothing of what it applies.
template <typename T>
struct Epilogue {
  using Apply = void (*)(const void* context, long row0, long col0, T* c, long rows, long cols, long ldc);
  Apply apply = nullptr;  // none: C is left as summed
  const void* context = nullptr;

  bool empty() const { return apply == nullptr; }
};

template <typename T>
void gemm(Op op_a, Op op_b, long m, long n, long k, T alpha, const T* a, long lda, const T* b, long ldb,
          T beta, T* c, long ldc, const Epilogue<T>& epilogue = {});

// op(B) given by a function instead of a matrix: it writes the GEMM's packed panels itself, so a
// convolution's image patches go straight into them (implicit GEMM, no im2col matrix).
// pack(context, row0, kc, col0, cols, nr, dst) writes rows [row0, row0+kc) × columns [col0, col0+cols) of
// op(B) as ceil(cols/nr) consecutive micro-panels of kc·nr values: dst[q·kc·nr + p·nr + r] =
// op(B)(row0 + p, col0 + q·nr + r), zero beyond column col0+cols. It is called from the GEMM's threads,
// for disjoint blocks, and must not throw. Results have the bits gemm() gives for the same op(B) in memory.
template <typename T>
struct PanelPacker {
  using Pack = void (*)(const void* context, long row0, long kc, long col0, long cols, long nr, T* dst);
  Pack pack = nullptr;
  const void* context = nullptr;
};

template <typename T>
void gemm_packed_b(Op op_a, long m, long n, long k, T alpha, const T* a, long lda, const PanelPacker<T>& b, T beta,
                   T* c, long ldc, const Epilogue<T>& epilogue = {});

// Problems under this many flops (2·m·n·k) run on one thread. Tests lower it to 0 to drive the
// threaded path through small shapes; benchmarks/bench_gemm.py --threshold measures where it belongs.
double parallel_min_flops();
void set_parallel_min_flops(double flops);

extern template void gemm<float>(Op, Op, long, long, long, float, const float*, long, const float*, long,
                                 float, float*, long, const Epilogue<float>&);
extern template void gemm<double>(Op, Op, long, long, long, double, const double*, long, const double*,
                                  long, double, double*, long, const Epilogue<double>&);
extern template void gemm_packed_b<float>(Op, long, long, long, float, const float*, long, const PanelPacker<float>&,
                                          float, float*, long, const Epilogue<float>&);
extern template void gemm_packed_b<double>(Op, long, long, long, double, const double*, long,
                                           const PanelPacker<double>&, double, double*, long, const Epilogue<double>&);

}  // namespace bprop::gemm
