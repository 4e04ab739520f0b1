#include <cstdlib>
// AVX-512 kernels (compiled with -mavx512f/dq/vl only in this file; run only when the CPU has them).
#include <immintrin.h>

#include "gemm/block_finite.h"
#include "gemm/kernels.h"
#include "gemm/pack.h"
#include "gemm/few_rows_simd.h"
#include "gemm/ukernel_simd.h"

namespace bprop::gemm {
namespace {

struct Avx512F32 {
  using scalar = float;
  using reg = __m512;
  static constexpr int width = 16;
  static reg zero() { return _mm512_setzero_ps(); }
  static reg load(const float* p) { return _mm512_load_ps(p); }
  static reg loadu(const float* p) { return _mm512_loadu_ps(p); }
  static void storeu(float* p, reg x) { _mm512_storeu_ps(p, x); }
  static reg broadcast(float x) { return _mm512_set1_ps(x); }
  static reg fma(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
};

struct Avx512F64 {
  using scalar = double;
  using reg = __m512d;
  static constexpr int width = 8;
  static reg zero() { return _mm512_setzero_pd(); }
  static reg load(const double* p) { return _mm512_load_pd(p); }
  static reg loadu(const double* p) { return _mm512_loadu_pd(p); }
  static void storeu(double* p, reg x) { _mm512_storeu_pd(p, x); }
  static reg broadcast(double x) { return _mm512_set1_pd(x); }
  static reg fma(reg a, reg b, reg c) { return _mm512_fmadd_pd(a, b, c); }
  static reg mul(reg a, reg b) { return _mm512_mul_pd(a, b); }
};

constexpr int kMR = 12, kNV = 2;  // 24 accumulators + 2 B vectors + 1 broadcast of 32 zmm registers
// Rows up to which the few-row path (few_rows_simd.h) beats packing, measured at 1 thread on Zen 4,
// us few-row vs packed: k 784, n 512: 2 rows 31 vs 47, 3 rows 40 vs 62, 4 rows 43 vs 41; k 512, n 256:
// 3 rows 12 vs 16, 4 rows 19 vs 10.
constexpr int kSmallM = 3;
static_assert(kMR <= kMaxMR && kNV * 16 <= kMaxNR, "the driver's edge tile must hold the register tile");

}  // namespace

// Cache blocks: float32 takes them from the per-CPU table (blocking.cpp), which holds the sweeps that
// chose them; the values here are float64's.
const Kernel<float>& sgemm_kernel_avx512() {
  static const Kernel<float> kernel = with_ukernels(Kernel<float>{"sgemm_ukernel_12x32_avx512", kMR, kNV * 16, 512, 288, 4096,
                                    {}, {}, kSmallM, &gemm_few_rows_simd<Avx512F32, 24>, &block_finite<float>,
                                    &pack_a<float, kMR>,
                                    &pack_b<float, kNV * 16>}, ukernel_rows_table<Avx512F32, kMR, kNV>(),
                                    ukernel_rows_table<Avx512F32, kMR, kNV, true>());
  return kernel;
}

const Kernel<double>& dgemm_kernel_avx512() {
  static const Kernel<double> kernel = with_ukernels(Kernel<double>{"dgemm_ukernel_12x16_avx512", kMR, kNV * 8, 256, 192, 2048,
                                     {}, {}, kSmallM, &gemm_few_rows_simd<Avx512F64, 24>, &block_finite<double>,
                                     &pack_a<double, kMR>,
                                     &pack_b<double, kNV * 8>}, ukernel_rows_table<Avx512F64, kMR, kNV>(),
                                    ukernel_rows_table<Avx512F64, kMR, kNV, true>());
  return kernel;
}

double fma_peak_loop_avx512(long iterations) {
  // Ten independent accumulator chains cover the FMA latency × pipes of current cores.
  constexpr int kChains = 10;
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(float(i));
  const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 10
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm512_add_ps(sum, acc[i]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  volatile float sink = lanes[0];  // keeps the loop alive
  (void)sink;
  return double(iterations) * kChains * 16 * 2;
}

}  // namespace bprop::gemm
