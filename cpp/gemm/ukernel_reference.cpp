// The portable reference kernel: plain loops, no intrinsics, the oracle the SIMD kernels are tested
// against and the kernel of any CPU without one of its own.
#include "gemm/block_finite.h"
#include "gemm/kernels.h"
#include "gemm/madd.h"
#include "gemm/pack.h"
#include "gemm/small_m.h"

namespace bprop::gemm {
namespace {

constexpr int kMR = 4, kNR = 8;  // small_m 2: 2 rows 122 vs 141 us, 3 rows 182 vs 141 (k 784, n 512)
static_assert(kMR <= kMaxMR && kNR <= kMaxNR, "the driver's edge tile must hold the register tile");

template <typename T, int Rows>
void gemm_ukernel_4x8_reference(long kc, const T* a, long a_step, const T* b, long b_step, T* c, long ldc, T alpha,
                                T beta) {
  T acc[kMR][kNR] = {};
  for (long p = 0; p < kc; ++p)
    for (int i = 0; i < Rows; ++i)
      for (int j = 0; j < kNR; ++j) acc[i][j] = madd(a[p * a_step + i], b[p * b_step + j], acc[i][j]);
  for (int i = 0; i < Rows; ++i)
    for (int j = 0; j < kNR; ++j) {
      T& out = c[i * ldc + j];
      out = beta == T(0) ? alpha * acc[i][j] : madd(beta, out, alpha * acc[i][j]);
    }
}

template <typename T>
Kernel<T> reference_kernel(const char* name) {
  Kernel<T> kernel{name, kMR, kNR, /*kc=*/256, /*mc=*/128, /*nc=*/2048, {}, {}, /*small_m=*/2, &gemm_small_m<T>, &block_finite<T>,
                   &pack_a<T, kMR>, &pack_b<T, kNR>};
  kernel.ukernel[0] = &gemm_ukernel_4x8_reference<T, 1>;
  kernel.ukernel[1] = &gemm_ukernel_4x8_reference<T, 2>;
  kernel.ukernel[2] = &gemm_ukernel_4x8_reference<T, 3>;
  kernel.ukernel[3] = &gemm_ukernel_4x8_reference<T, 4>;
  return kernel;
}

}  // namespace

const Kernel<float>& sgemm_kernel_reference() {
  static const Kernel<float> kernel = reference_kernel<float>("sgemm_ukernel_4x8_reference");
  return kernel;
}

const Kernel<double>& dgemm_kernel_reference() {
  static const Kernel<double> kernel = reference_kernel<double>("dgemm_ukernel_4x8_reference");
  return kernel;
}

}  // namespace bprop::gemm
