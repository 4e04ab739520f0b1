// GEMM for a few rows of op(A), without packing: each row of C streams op(B) once. For batch-1
// inference and tiny nets, where packing B (and a 12-row register tile for one row) would cost more
// than the product itself. Compiled inside each ISA's kernel file, like pack.h, so the loops
// vectorise with that ISA; internal linkage for the same reason.
//
// It rounds exactly as the packed path does (kernel.h's contract): per kc-deep slice, products summed
// from zero in k order with madd (madd.h), then C ← madd(beta_slice, C, alpha·sum). So a row of C has
// the same bits whether it went through here, a full tile or an edge tile: predictions do not depend
// on how samples are batched. Only op(B) = B (contiguous rows) comes here; a transposed B would be read
// with a stride, slower than packing it (measured).
#pragma once
#include "gemm/madd.h"

namespace bprop::gemm {
namespace {

// acc: scratch for n values (the caller's workspace).
template <typename T>
void gemm_small_m(bool trans_a, long m, long n, long k, long kc, T alpha, const T* a, long lda, const T* b, long ldb,
                  T beta, T* c, long ldc, T* acc) {
  for (long i = 0; i < m; ++i) {
    T* ci = c + i * ldc;
    for (long pc = 0; pc < k; pc += kc) {
      const long end = pc + kc < k ? pc + kc : k;
      const T beta_slice = pc == 0 ? beta : T(1);
      for (long j = 0; j < n; ++j) acc[j] = T(0);
      for (long p = pc; p < end; ++p) {
        const T av = trans_a ? a[p * lda + i] : a[i * lda + p];
        const T* bp = b + p * ldb;  // a contiguous row of B: vectorises across j
        for (long j = 0; j < n; ++j) acc[j] = madd(av, bp[j], acc[j]);
      }
      for (long j = 0; j < n; ++j) ci[j] = beta_slice == T(0) ? alpha * acc[j] : madd(beta_slice, ci[j], alpha * acc[j]);
    }
  }
}

}  // namespace
}  // namespace bprop::gemm
