// Packing into micro-panels, written once and compiled inside each ISA's kernel file so the copy
// loops vectorise with that ISA. Layouts are those of the micro-kernel contract in kernel.h.
#pragma once

namespace bprop::gemm {
// Internal linkage on purpose: every ISA file compiles its own copy with its own flags. Shared
// (inline) instantiations would let the linker keep the AVX-512 copy for the AVX2 path too.
namespace {

// Packs a panel that runs `along` steps p and spans `across` <= W lanes r into dst[p*W + r], zero
// padding lanes [across, W). The source holds lane r of step p at src[p*ld + r] when
// `lanes_contiguous`, else at src[r*ld + p]. Shared by both packers: packing op(A) by rows is packing
// op(B) by columns.
template <typename T, int W>
void pack_panel(bool lanes_contiguous, const T* src, long ld, long along, long across, T* dst) {
  if (!lanes_contiguous) {
    // Each source row r is contiguous in p: a strided scatter into the small, L1-resident panel.
    for (long r = 0; r < across; ++r) {
      const T* s = src + r * ld;
      for (long p = 0; p < along; ++p) dst[p * W + r] = s[p];
    }
  } else {
    // Each step p is contiguous in r: a straight copy of `across` values.
    for (long p = 0; p < along; ++p) {
      const T* s = src + p * ld;
      T* d = dst + p * W;
      for (long r = 0; r < across; ++r) d[r] = s[r];
    }
  }
  // No std::fill here: a std:: template instantiated under ISA flags is shared across files.
  for (long p = 0; across < W && p < along; ++p)
    for (long r = across; r < W; ++r) dst[p * W + r] = T(0);
}

template <typename T, int MR>
void pack_a(bool trans, const T* a, long lda, long row0, long rows, long col0, long kc, T* dst) {
  // op(A)(i, p): A[i*lda + p], or A[p*lda + i] when transposed.
  const T* origin = trans ? a + col0 * lda + row0 : a + row0 * lda + col0;
  pack_panel<T, MR>(trans, origin, lda, kc, rows, dst);
}

template <typename T, int NR>
void pack_b(bool trans, const T* b, long ldb, long row0, long kc, long col0, long cols, T* dst) {
  // op(B)(p, j): B[p*ldb + j], or B[j*ldb + p] when transposed; the panel walks p and spans j.
  const T* origin = trans ? b + col0 * ldb + row0 : b + row0 * ldb + col0;
  pack_panel<T, NR>(!trans, origin, ldb, kc, cols, dst);
}

}  // namespace
}  // namespace bprop::gemm
