// AVX2+FMA kernels (compiled with -mavx2 -mfma only in this file; run only when the CPU has them).
#include <immintrin.h>

#include "gemm/block_finite.h"
#include "gemm/kernels.h"
#include "gemm/pack.h"
#include "gemm/few_rows_simd.h"
#include "gemm/ukernel_simd.h"

namespace bprop::gemm {
namespace {

struct Avx2F32 {
  using scalar = float;
  using reg = __m256;
  static constexpr int width = 8;
  static reg zero() { return _mm256_setzero_ps(); }
  static reg load(const float* p) { return _mm256_load_ps(p); }
  static reg loadu(const float* p) { return _mm256_loadu_ps(p); }
  static void storeu(float* p, reg x) { _mm256_storeu_ps(p, x); }
  static reg broadcast(float x) { return _mm256_set1_ps(x); }
  static reg fma(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  static reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
};

struct Avx2F64 {
  using scalar = double;
  using reg = __m256d;
  static constexpr int width = 4;
  static reg zero() { return _mm256_setzero_pd(); }
  static reg load(const double* p) { return _mm256_load_pd(p); }
  static reg loadu(const double* p) { return _mm256_loadu_pd(p); }
  static void storeu(double* p, reg x) { _mm256_storeu_pd(p, x); }
  static reg broadcast(double x) { return _mm256_set1_pd(x); }
  static reg fma(reg a, reg b, reg c) { return _mm256_fmadd_pd(a, b, c); }
  static reg mul(reg a, reg b) { return _mm256_mul_pd(a, b); }
};

constexpr int kMR = 6, kNV = 2;  // 12 accumulators + 2 B vectors + 1 broadcast of 16 ymm registers
constexpr int kSmallM = 3;  // measured as for AVX-512: 3 rows 70 vs 84 us, 4 rows 93 vs 83
static_assert(kMR <= kMaxMR && kNV * 8 <= kMaxNR, "the driver's edge tile must hold the register tile");

}  // namespace

// Cache blocks: float32 takes them from the per-CPU table (blocking.cpp); these are float64's.
const Kernel<float>& sgemm_kernel_avx2() {
  static const Kernel<float> kernel = with_ukernels(Kernel<float>{"sgemm_ukernel_6x16_avx2", kMR, kNV * 8, 256, 288, 4096,
                                    {}, {}, kSmallM, &gemm_few_rows_simd<Avx2F32, 12>, &block_finite<float>,
                                    &pack_a<float, kMR>,
                                    &pack_b<float, kNV * 8>}, ukernel_rows_table<Avx2F32, kMR, kNV>(),
                                    ukernel_rows_table<Avx2F32, kMR, kNV, true>());
  return kernel;
}

const Kernel<double>& dgemm_kernel_avx2() {
  static const Kernel<double> kernel = with_ukernels(Kernel<double>{"dgemm_ukernel_6x8_avx2", kMR, kNV * 4, 256, 144, 2048,
                                     {}, {}, kSmallM, &gemm_few_rows_simd<Avx2F64, 12>, &block_finite<double>,
                                     &pack_a<double, kMR>,
                                     &pack_b<double, kNV * 4>}, ukernel_rows_table<Avx2F64, kMR, kNV>(),
                                    ukernel_rows_table<Avx2F64, kMR, kNV, true>());
  return kernel;
}

double fma_peak_loop_avx2(long iterations) {
  constexpr int kChains = 10;  // independent chains: FMA latency × pipes
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(float(i));
  const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 10
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  }
  __m256 sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm256_add_ps(sum, acc[i]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  volatile float sink = lanes[0];  // keeps the loop alive
  (void)sink;
  return double(iterations) * kChains * 8 * 2;
}

}  // namespace bprop::gemm
