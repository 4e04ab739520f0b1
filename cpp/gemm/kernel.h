// The micro-kernel contract and the table that binds one kernel to its packing routines and cache
// blocks. The GEMM driver (gemm.cpp) is written once against this table; each ISA file fills one in.
#pragma once

namespace bprop::gemm {

// Largest register tile of any kernel: the driver's edge buffer is sized by it.
inline constexpr int kMaxMR = 16, kMaxNR = 64;

template <typename T>
struct Kernel {
  const char* name;  // sgemm_ukernel_<MR>x<NR>_<isa>, dgemm_...
  int mr, nr;        // register tile
  int kc, mc, nc;    // cache blocks: Ã is mc×kc (L2), a B̃ micro-panel kc×nr (L1); mc % mr == nc % nr == 0

  // The micro-kernel contract. Computes one full mr×nr tile
  //     C ← alpha·(Ã·B̃) + beta·C        summed over p < kc
  // a: Ã, a[p*a_step + i] = op(A)(i, p); b: B̃, b[p*b_step + j] = op(B)(p, j). Packed micro-panels have
  // a_step = mr and b_step = nr (64-byte aligned, zero padded beyond the matrix edge); small blocks are
  // read in place instead (an op(A) = Aᵀ with a_step = lda, an op(B) = B with b_step = ldb; gemm.cpp).
  // c: row-major, row stride ldc, any alignment. beta == 0 writes C without reading it (NaN already in C
  // is ignored, as in BLAS).
  // Rounding, the same on every path (so results do not depend on tiling or batching): each sum is
  // accumulated from zero with madd (madd.h) in p order, then C ← madd(beta, C, alpha·sum).
  // ukernel[r - 1] computes only the first r rows (a tile at the bottom edge of C) with the same
  // instructions per row, so it reads only r values of a per step. Column edges are not its business:
  // the driver runs them on a scratch tile holding C's values. kc may be 0.
  using Ukernel = void (*)(long kc, const T* a, long a_step, const T* b, long b_step, T* c, long ldc, T alpha,
                           T beta);
  Ukernel ukernel[kMaxMR];
  // The same over an op(A) = A read in place, row by row: a[i*a_step + p] (a_step = lda). Null where
  // the ISA has none (the driver then packs A).
  Ukernel ukernel_a_rows[kMaxMR];

  // Up to small_m rows of op(A), with op(B) = B, go through gemm_small_m (small_m.h) instead: no
  // packing, same result bits. Measured per kernel: the m where the packed path starts to win.
  // acc: scratch for n values.
  int small_m;
  void (*gemm_small_m)(bool trans_a, long m, long n, long k, long kc, T alpha, const T* a, long lda, const T* b,
                       long ldb, T beta, T* c, long ldc, T* acc);

  // Whether the rows×cols block at c (row stride ldc) is free of NaN and infinities (block_finite.h).
  bool (*block_finite)(const T* c, long rows, long cols, long ldc);

  // Packs rows [row0, row0+rows) × columns [col0, col0+kc) of op(A) into ceil(rows/mr) consecutive Ã
  // micro-panels of mr·kc values, the last zero padded. op(A) = A (row-major, row stride lda) or Aᵀ.
  void (*pack_a)(bool trans, const T* a, long lda, long row0, long rows, long col0, long kc, T* dst);
  // Packs rows [row0, row0+kc) × columns [col0, col0+cols) of op(B) into ceil(cols/nr) consecutive B̃
  // micro-panels of kc·nr values, the last zero padded.
  void (*pack_b)(bool trans, const T* b, long ldb, long row0, long kc, long col0, long cols, T* dst);
};

// Fills ukernel[0..rows) from an ISA file's table of row kernels (ukernel_simd.h: ukernel_rows_table).
template <typename T, typename Table>
Kernel<T> with_ukernels(Kernel<T> kernel, const Table& rows, const Table& a_rows) {
  for (int r = 0; r < int(rows.size()); ++r) {
    kernel.ukernel[r] = rows[r];
    kernel.ukernel_a_rows[r] = a_rows[r];
  }
  return kernel;
}

}  // namespace bprop::gemm
