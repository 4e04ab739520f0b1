// The few-row path (small_m.h) with its sums in registers: for a few rows of op(A) and op(B) = B, each
// chunk of columns keeps its accumulators in vector registers over the whole k loop, so B streams through
// once with one load per vector and C is written once. The scalar loop of small_m.h kept its sums in a
// buffer in memory: a load, an FMA and a store per vector per step, one vector per ~4 cycles (Zen 4, B in
// L2), against the one per cycle this runs at.
//
// Same rounding as the packed path and small_m.h (kernel.h's contract): per kc slice, products summed from
// zero in p order with fma, then C ← fma(beta_slice, C, alpha·sum). Columns past the last whole chunk go
// through gemm_small_m, which rounds alike. Compiled inside each ISA's kernel file; internal linkage.
#pragma once
#include "gemm/small_m.h"

namespace bprop::gemm {
namespace {

// M rows (a compile-time count), NV vectors of columns per chunk; V as in ukernel_simd.h.
template <typename V, int M, int NV>
void few_rows_chunks(bool trans_a, long n_chunks, long k, long kc, typename V::scalar alpha,
                     const typename V::scalar* a, long lda, const typename V::scalar* b, long ldb,
                     typename V::scalar beta, typename V::scalar* c, long ldc) {
  using T = typename V::scalar;
  using reg = typename V::reg;
  constexpr int W = V::width, CHUNK = NV * W;
  const long a_row = trans_a ? 1 : lda, a_step = trans_a ? lda : 1;
  for (long q = 0; q < n_chunks; ++q) {
    const long j0 = q * CHUNK;
    for (long pc = 0; pc < k; pc += kc) {
      const long end = pc + kc < k ? pc + kc : k;
      const T beta_slice = pc == 0 ? beta : T(1);
      reg acc[M][NV];
#pragma GCC unroll 8
      for (int i = 0; i < M; ++i)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[i][v] = V::zero();
      for (long p = pc; p < end; ++p) {
        const T* bp = b + p * ldb + j0;
        reg ai[M];
#pragma GCC unroll 8
        for (int i = 0; i < M; ++i) ai[i] = V::broadcast(a[i * a_row + p * a_step]);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) {
          const reg bv = V::loadu(bp + v * W);
#pragma GCC unroll 8
          for (int i = 0; i < M; ++i) acc[i][v] = V::fma(ai[i], bv, acc[i][v]);
        }
      }
      const reg va = V::broadcast(alpha);
#pragma GCC unroll 8
      for (int i = 0; i < M; ++i)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) {
          T* ci = c + i * ldc + j0 + v * W;
          const reg sum = V::mul(va, acc[i][v]);
          V::storeu(ci, beta_slice == T(0) ? sum : V::fma(V::broadcast(beta_slice), V::loadu(ci), sum));
        }
    }
  }
}

// M rows at once: chunks of NV vectors with M·NV accumulators in registers (at most ACC), B streamed once
// for all M rows; the ragged columns by the scalar loop.
template <typename V, int M, int ACC>
void few_rows_group(bool trans_a, long n, long k, long kc, typename V::scalar alpha, const typename V::scalar* a,
                    long lda, const typename V::scalar* b, long ldb, typename V::scalar beta, typename V::scalar* c,
                    long ldc, typename V::scalar* acc) {
  constexpr int NV = ACC / M < 8 ? ACC / M : 8, CHUNK = NV * V::width;
  const long chunks = n / CHUNK, done = chunks * CHUNK;
  few_rows_chunks<V, M, NV>(trans_a, chunks, k, kc, alpha, a, lda, b, ldb, beta, c, ldc);
  if (done < n) gemm_small_m(trans_a, M, n - done, k, kc, alpha, a, lda, b + done, ldb, beta, c + done, ldc, acc);
}

// Kernel::gemm_small_m for this ISA: up to four rows per pass over B.
template <typename V, int ACC>
void gemm_few_rows_simd(bool trans_a, long m, long n, long k, long kc, typename V::scalar alpha,
                        const typename V::scalar* a, long lda, const typename V::scalar* b, long ldb,
                        typename V::scalar beta, typename V::scalar* c, long ldc, typename V::scalar* acc) {
  const long a_row = trans_a ? 1 : lda;
  for (long i0 = 0; i0 < m; i0 += 4) {
    const typename V::scalar* ai = a + i0 * a_row;
    typename V::scalar* ci = c + i0 * ldc;
    switch (m - i0 < 4 ? m - i0 : 4) {
      case 1: few_rows_group<V, 1, ACC>(trans_a, n, k, kc, alpha, ai, lda, b, ldb, beta, ci, ldc, acc); break;
      case 2: few_rows_group<V, 2, ACC>(trans_a, n, k, kc, alpha, ai, lda, b, ldb, beta, ci, ldc, acc); break;
      case 3: few_rows_group<V, 3, ACC>(trans_a, n, k, kc, alpha, ai, lda, b, ldb, beta, ci, ldc, acc); break;
      default: few_rows_group<V, 4, ACC>(trans_a, n, k, kc, alpha, ai, lda, b, ldb, beta, ci, ldc, acc); break;
    }
  }
}

}  // namespace
}  // namespace bprop::gemm
