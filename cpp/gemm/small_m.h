// GEMM for a few rows of op(A), without packing: each row of C streams op(B) once. For batch-1
// inference and tiny nets, where packing B (and a 12-row register tile for one row) would cost more
// than the product itself. Compiled inside each ISA's kernel file, like pack.h, so the loops
// vectorise with that ISA; internal linkage for the same reason.
#pragma once

namespace bprop::gemm {
namespace {

template <typename T>
void gemm_small_m(bool trans_a, bool trans_b, long m, long n, long k, T alpha, const T* a, long lda, const T* b,
                  long ldb, T beta, T* c, long ldc) {
  for (long i = 0; i < m; ++i) {
    T* ci = c + i * ldc;
    const auto a_at = [&](long p) { return trans_a ? a[p * lda + i] : a[i * lda + p]; };
    if (!trans_b) {  // rows of B are contiguous: C[i,:] = beta·C[i,:] + Σ_p alpha·A(i,p)·B[p,:]
      for (long j = 0; j < n; ++j) ci[j] = beta == T(0) ? T(0) : beta * ci[j];
      for (long p = 0; p < k; ++p) {
        const T s = alpha * a_at(p);
        const T* bp = b + p * ldb;
        for (long j = 0; j < n; ++j) ci[j] += s * bp[j];
      }
    } else {  // B is stored n×k: C[i,j] is a dot product of two contiguous rows
      constexpr int kLanes = 16;  // independent partial sums: the loop vectorises without reassociation
      for (long j = 0; j < n; ++j) {
        const T* bj = b + j * ldb;
        T lanes[kLanes] = {};
        long p = 0;
        if (!trans_a) {
          const T* ai = a + i * lda;
          for (; p + kLanes <= k; p += kLanes)
            for (int l = 0; l < kLanes; ++l) lanes[l] += ai[p + l] * bj[p + l];
        }
        T dot = 0;
        for (int l = 0; l < kLanes; ++l) dot += lanes[l];
        for (; p < k; ++p) dot += a_at(p) * bj[p];
        ci[j] = beta == T(0) ? alpha * dot : alpha * dot + beta * ci[j];
      }
    }
  }
}

}  // namespace
}  // namespace bprop::gemm
