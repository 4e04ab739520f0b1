#include "gemm/overflow.h"

#include <atomic>
#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "gemm/isa.h"
#include "ops/finite.h"

namespace bprop::gemm {
namespace {

bool finite_span(const float* x, long count, long stride) {
  for (long i = 0; i < count; ++i)
    if (!std::isfinite(x[i * stride])) return false;
  return true;
}

// The elements of C that are not finite although everything they were computed from is, recomputed in
// float64 and rounded once.
void recompute_overflowed(Op op_a, Op op_b, long m, long n, long k, float alpha, const float* a, long lda,
                          const float* b, long ldb, float beta, const float* c_before, long ld_before, float* c,
                          long ldc) {
  if (!std::isfinite(alpha) || !std::isfinite(beta)) return;
  // Element (i, j) reads row i of op(A) and column j of op(B): A[i, p] = a[i·lda + p], or a[p·lda + i]
  // when transposed; B[p, j] likewise.
  const long a_row = op_a == Op::N ? lda : 1, a_step = op_a == Op::N ? 1 : lda;
  const long b_col = op_b == Op::N ? 1 : ldb, b_step = op_b == Op::N ? ldb : 1;
  std::vector<char> row_finite(static_cast<std::size_t>(m)), col_finite(static_cast<std::size_t>(n));
  for (long i = 0; i < m; ++i) row_finite[std::size_t(i)] = finite_span(a + i * a_row, k, a_step);
  for (long j = 0; j < n; ++j) col_finite[std::size_t(j)] = finite_span(b + j * b_col, k, b_step);
  for (long i = 0; i < m; ++i)
    for (long j = 0; j < n; ++j) {
      float& out = c[i * ldc + j];
      const float before = beta != 0.0f ? c_before[i * ld_before + j] : 0.0f;
      if (std::isfinite(out) || !row_finite[std::size_t(i)] || !col_finite[std::size_t(j)] || !std::isfinite(before))
        continue;
      double sum = 0;
      for (long p = 0; p < k; ++p) sum += double(a[i * a_row + p * a_step]) * double(b[j * b_col + p * b_step]);
      out = float(double(alpha) * sum + double(beta) * double(before));
    }
}

// The GEMM's epilogue for gemm_repairing_overflow: notes a block holding a NaN or an infinity, checked by
// the kernel's own vectorised loop (a call per row, or SSE2, cost 10-15% of a 64^3 product).
struct Watch {
  const Kernel<float>* kernel;
  std::atomic<bool> seen{false};
};

void note_nonfinite(const void* context, long, long, float* c, long rows, long cols, long ldc) {
  auto* watch = static_cast<Watch*>(const_cast<void*>(context));
  if (!watch->kernel->block_finite(c, rows, cols, ldc)) watch->seen.store(true, std::memory_order_relaxed);
}

}  // namespace

void repair_overflow(Op op_a, Op op_b, long m, long n, long k, float alpha, const float* a, long lda, const float* b,
                     long ldb, float beta, const float* c_before, long ld_before, float* c, long ldc) {
  // The common case, nothing overflowed, costs one branch-free scan of C (a scalar isfinite loop that
  // stops at the first hit cost 8 us on a 128x128 product, 15% of its time).
  bool any = false;
  if (ldc == n)
    any = !ops::all_finite(c, m * n);
  else
    for (long i = 0; i < m && !any; ++i) any = !ops::all_finite(c + i * ldc, n);
  if (any) recompute_overflowed(op_a, op_b, m, n, k, alpha, a, lda, b, ldb, beta, c_before, ld_before, c, ldc);
}

void gemm_repairing_overflow(Op op_a, Op op_b, long m, long n, long k, float alpha, const float* a, long lda,
                             const float* b, long ldb, float beta, const float* c_before, long ld_before, float* c,
                             long ldc) {
  const Kernel<float>& kernel = kernel_for<float>(active_isa());
  bool seen;
  if (2.0 * double(m) * double(n) * double(k) < parallel_min_flops() || num_threads() == 1) {
    // One thread: C is in this core's cache after the product, and one pass over it costs less than a
    // check per block (64^3: 0.1 against 0.35 us of a 5 us product).
    gemm<float>(op_a, op_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    seen = m > 0 && n > 0 && !kernel.block_finite(c, m, n, ldc);
  } else {
    Watch watch{&kernel};
    gemm<float>(op_a, op_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Epilogue<float>{&note_nonfinite, &watch});
    seen = watch.seen.load();
  }
  if (seen) recompute_overflowed(op_a, op_b, m, n, k, alpha, a, lda, b, ldb, beta, c_before, ld_before, c, ldc);
}

}  // namespace bprop::gemm
