// Packing into micro-panels, written once and compiled inside each ISA's kernel file so the copy
// loops use that ISA. Layouts are those of the micro-kernel contract in kernel.h.
#pragma once
#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace bprop::gemm {
// Internal linkage on purpose: every ISA file compiles its own copy with its own flags. Shared
// (inline) instantiations would let the linker keep the AVX-512 copy for the AVX2 path too.
// For the same reason no std:: template is used here.
namespace {

// Transposes one block: dst[p*W + r] = src[r*ld + p] for r < R (lanes), p < P (steps).
// R×P is 8×8 or 4×4 for float, 4×4 for double where AVX2 is on; anything else goes lane by lane.
template <typename T, int W>
void transpose_block(const T* src, long ld, long lanes, long steps, T* dst) {
  for (long r = 0; r < lanes; ++r)
    for (long p = 0; p < steps; ++p) dst[p * W + r] = src[r * ld + p];
}

#if defined(__AVX2__)
template <int W>
void transpose_8x8(const float* src, long ld, float* dst) {
  __m256 r[8], t[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * ld);
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
  }
  for (int i = 0; i < 4; ++i) {
    _mm256_storeu_ps(dst + i * W, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
    _mm256_storeu_ps(dst + (i + 4) * W, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
  }
}

template <int W>
void transpose_4x4(const float* src, long ld, float* dst) {
  __m128 r0 = _mm_loadu_ps(src), r1 = _mm_loadu_ps(src + ld), r2 = _mm_loadu_ps(src + 2 * ld),
         r3 = _mm_loadu_ps(src + 3 * ld);
  _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
  _mm_storeu_ps(dst, r0);
  _mm_storeu_ps(dst + W, r1);
  _mm_storeu_ps(dst + 2 * W, r2);
  _mm_storeu_ps(dst + 3 * W, r3);
}

template <int W>
void transpose_4x4(const double* src, long ld, double* dst) {
  const __m256d r0 = _mm256_loadu_pd(src), r1 = _mm256_loadu_pd(src + ld), r2 = _mm256_loadu_pd(src + 2 * ld),
                r3 = _mm256_loadu_pd(src + 3 * ld);
  const __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1), t2 = _mm256_unpacklo_pd(r2, r3),
                t3 = _mm256_unpackhi_pd(r2, r3);
  _mm256_storeu_pd(dst, _mm256_permute2f128_pd(t0, t2, 0x20));
  _mm256_storeu_pd(dst + W, _mm256_permute2f128_pd(t1, t3, 0x20));
  _mm256_storeu_pd(dst + 2 * W, _mm256_permute2f128_pd(t0, t2, 0x31));
  _mm256_storeu_pd(dst + 3 * W, _mm256_permute2f128_pd(t1, t3, 0x31));
}

// Strips of B lanes from lane r on, each through B×B register blocks (block(src, ld, dst)) with its
// last steps lane by lane; returns the first lane not done.
template <int B, int W, typename T, typename Block>
long transpose_strips(const T* src, long ld, long lanes, long steps, T* dst, long r, Block block) {
  for (; r + B <= lanes; r += B) {
    long p = 0;
    for (; p + B <= steps; p += B) block(src + r * ld + p, ld, dst + p * W + r);
    transpose_block<T, W>(src + r * ld + p, ld, B, steps - p, dst + p * W + r);
  }
  return r;
}

// Full blocks through registers, ragged borders lane by lane.
template <int W>
void transpose_block_fast(const float* src, long ld, long lanes, long steps, float* dst) {
  long r = transpose_strips<8, W>(src, ld, lanes, steps, dst, 0,
                                  [](const float* s, long l, float* d) { transpose_8x8<W>(s, l, d); });
  r = transpose_strips<4, W>(src, ld, lanes, steps, dst, r,
                             [](const float* s, long l, float* d) { transpose_4x4<W>(s, l, d); });
  transpose_block<float, W>(src + r * ld, ld, lanes - r, steps, dst + r);
}

template <int W>
void transpose_block_fast(const double* src, long ld, long lanes, long steps, double* dst) {
  const long r = transpose_strips<4, W>(src, ld, lanes, steps, dst, 0,
                                        [](const double* s, long l, double* d) { transpose_4x4<W>(s, l, d); });
  transpose_block<double, W>(src + r * ld, ld, lanes - r, steps, dst + r);
}
#else
template <int W, typename T>
void transpose_block_fast(const T* src, long ld, long lanes, long steps, T* dst) {
  transpose_block<T, W>(src, ld, lanes, steps, dst);
}
#endif

// Packs `count` lanes (any number: ceil(count/W) panels of W*along values, the last zero padded)
// that run `along` steps. The source holds lane r of step p at src[p*ld + r] when
// `lanes_contiguous`, else at src[r*ld + p]. Shared by both packers: packing op(A) by rows is
// packing op(B) by columns.
template <typename T, int W>
void pack_panels(bool lanes_contiguous, const T* src, long ld, long along, long count, T* dst) {
  const long full_panels = count / W, tail = count % W, panel_size = W * along;
  if (lanes_contiguous) {
    // A few source rows at a time, panel by panel: the reads stay a handful of sequential streams,
    // and each panel receives a contiguous run. (Row by row would write to every panel in turn, and
    // panels lie a power of two apart: all in one L1 set, measured 10% of an MLP-shaped GEMM.)
    constexpr long kRowsPerVisit = 8;
    for (long p0 = 0; p0 < along; p0 += kRowsPerVisit) {
      const long p1 = p0 + kRowsPerVisit < along ? p0 + kRowsPerVisit : along;
      for (long q = 0; q < full_panels; ++q)
        for (long p = p0; p < p1; ++p)
          for (int r = 0; r < W; ++r) dst[q * panel_size + p * W + r] = src[p * ld + q * W + r];
      for (long p = p0; p < p1; ++p)
        for (long r = 0; r < tail; ++r) dst[full_panels * panel_size + p * W + r] = src[p * ld + full_panels * W + r];
    }
  } else {
    for (long q = 0; q < full_panels; ++q) transpose_block_fast<W>(src + q * W * ld, ld, W, along, dst + q * panel_size);
    if (tail) transpose_block_fast<W>(src + full_panels * W * ld, ld, tail, along, dst + full_panels * panel_size);
  }
  if (tail) {
    T* last = dst + full_panels * panel_size;
    for (long p = 0; p < along; ++p)
      for (long r = tail; r < W; ++r) last[p * W + r] = T(0);
  }
}

// Rows [row0, row0+rows) × columns [col0, col0+kc) of op(A) as ceil(rows/MR) micro-panels.
// op(A)(i, p) is A[i*lda + p], or A[p*lda + i] when transposed.
template <typename T, int MR>
void pack_a(bool trans, const T* a, long lda, long row0, long rows, long col0, long kc, T* dst) {
  const T* origin = trans ? a + col0 * lda + row0 : a + row0 * lda + col0;
  pack_panels<T, MR>(trans, origin, lda, kc, rows, dst);
}

// Rows [row0, row0+kc) × columns [col0, col0+cols) of op(B) as ceil(cols/NR) micro-panels.
// op(B)(p, j) is B[p*ldb + j], or B[j*ldb + p] when transposed.
template <typename T, int NR>
void pack_b(bool trans, const T* b, long ldb, long row0, long kc, long col0, long cols, T* dst) {
  const T* origin = trans ? b + col0 * ldb + row0 : b + row0 * ldb + col0;
  pack_panels<T, NR>(!trans, origin, ldb, kc, cols, dst);
}

}  // namespace
}  // namespace bprop::gemm
