// Float32 products whose true values leave float32's range. A partial sum can overflow to ±inf before
// the terms after it would have brought it back, so a GEMM (any BLAS) can return an infinity of the
// wrong sign, or NaN from inf − inf, for a finite-input element whose exact value is, say, +1e39.
// repair_overflow finds the elements of C that are not finite although everything they were computed
// from is, recomputes each in float64 (where no sum of float32 products can overflow) and rounds it
// once: ±inf of the right sign, or the finite value the float32 partial sums overshot. Nothing else
// changes, and a C with no such element costs one pass over C.
#pragma once
#include "gemm/gemm.h"

namespace bprop::gemm {

// C ← alpha·op(A)·op(B) + beta·C_before has just been computed into c. c_before holds C's values from
// before the call when beta != 0 (row stride ld_before), else may be null.
void repair_overflow(Op op_a, Op op_b, long m, long n, long k, float alpha, const float* a, long lda, const float* b,
                     long ldb, float beta, const float* c_before, long ld_before, float* c, long ldc);

// gemm<float> then repair_overflow. On several threads the search for non-finite results is made on each
// block of C as the GEMM finishes it (in cache, on the thread that computed it): a pass over C afterwards
// cost 10% of a 256^3 product at 2 threads, half of C being in the other core's cache. On one thread it is
// that pass, vectorised per ISA.
void gemm_repairing_overflow(Op op_a, Op op_b, long m, long n, long k, float alpha, const float* a, long lda,
                             const float* b, long ldb, float beta, const float* c_before, long ld_before, float* c,
                             long ldc);

}  // namespace bprop::gemm
